//! Charts drawn with plotters on a `<canvas>`: one module per chart, each with its data type
//! (built from the statistics by a pure function, tested natively) and a `draw(canvas, data,
//! palette)` that renders it. Titles and legends are HTML around the canvas.
//!
//! The scaffolding every chart shares is here, written once: the [`Surface`] (canvas size,
//! device pixels, fonts), the plot's [`Layout`] on it and the mesh's style ([`Axes`],
//! [`Surface::draw_mesh`]).

// The history page's chart: admin bundle (tests in every native test build).
#[cfg(any(feature = "admin", test))]
pub mod history;
pub mod outcomes;
// The settings page's chart: admin bundle (tests in every native test build).
#[cfg(any(feature = "admin", test))]
pub mod preview;
pub mod sla;
pub mod trend;
pub mod waits;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters_canvas::CanvasBackend;
use web_sys::HtmlCanvasElement;

use crate::browser;

/// What a draw ends with.
pub type DrawResult = Result<(), String>;

/// The error of a draw on a canvas that has no size yet (not in the document, or before
/// layout): the caller tries again on the next frame.
pub const NOT_LAID_OUT: &str = "the canvas is not laid out";

/// The font stack of the canvas text (the page's own).
pub const FONT: &str = "Inter, system-ui, -apple-system, Segoe UI, Roboto, sans-serif";

/// The role of a colour; the palette maps it to the theme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Good,
    Warn,
    Bad,
    Accent,
    Accent2,
    Neutral,
}

/// The theme's chart colours, read from CSS custom properties (`--chart-*`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Palette {
    pub text: RGBColor,
    pub muted: RGBColor,
    pub grid: RGBColor,
    pub good: RGBColor,
    pub warn: RGBColor,
    pub bad: RGBColor,
    pub accent: RGBColor,
    pub accent2: RGBColor,
    pub neutral: RGBColor,
}

impl Default for Palette {
    fn default() -> Self {
        Self {
            text: RGBColor(15, 23, 42),
            muted: RGBColor(91, 107, 130),
            grid: RGBColor(226, 232, 240),
            good: RGBColor(21, 128, 61),
            warn: RGBColor(180, 83, 9),
            bad: RGBColor(185, 28, 28),
            accent: RGBColor(37, 99, 235),
            accent2: RGBColor(124, 58, 237),
            neutral: RGBColor(148, 163, 184),
        }
    }
}

impl Palette {
    /// The current theme's colours; a missing or unreadable property keeps its default.
    pub fn from_css() -> Self {
        let d = Self::default();
        let get = |name: &str, fallback: RGBColor| {
            browser::css_variable(name).and_then(|v| parse_hex(&v)).unwrap_or(fallback)
        };
        Self {
            text: get("--chart-text", d.text),
            muted: get("--chart-muted", d.muted),
            grid: get("--chart-grid", d.grid),
            good: get("--chart-good", d.good),
            warn: get("--chart-warn", d.warn),
            bad: get("--chart-bad", d.bad),
            accent: get("--chart-accent", d.accent),
            accent2: get("--chart-accent-2", d.accent2),
            neutral: get("--chart-neutral", d.neutral),
        }
    }

    pub fn tone(&self, tone: Tone) -> RGBColor {
        match tone {
            Tone::Good => self.good,
            Tone::Warn => self.warn,
            Tone::Bad => self.bad,
            Tone::Accent => self.accent,
            Tone::Accent2 => self.accent2,
            Tone::Neutral => self.neutral,
        }
    }
}

/// `#rrggbb` or `#rgb` to a colour.
pub fn parse_hex(s: &str) -> Option<RGBColor> {
    let hex = s.trim().strip_prefix('#')?;
    let channel = |i: usize, len: usize| u8::from_str_radix(hex.get(i * len..(i + 1) * len)?, 16).ok();
    match hex.len() {
        6 => Some(RGBColor(channel(0, 2)?, channel(1, 2)?, channel(2, 2)?)),
        3 => {
            let c = |i| channel(i, 1).map(|v| v * 17);
            Some(RGBColor(c(0)?, c(1)?, c(2)?))
        }
        _ => None,
    }
}

/// Where the plot sits on its canvas, in CSS pixels: the margins, and the label areas below
/// (x) and left of (y) the plot.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Layout {
    pub top: f64,
    pub right: f64,
    pub bottom: f64,
    pub left: f64,
    pub x_labels: f64,
    pub y_labels: f64,
}

/// Which parts of the mesh a chart draws; the style of what is drawn is the same for all
/// charts (grid lines and axes in the grid colour, labels small and muted, no light lines).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Axes {
    /// How many labels along x (0: none).
    pub x_labels: usize,
    /// How many labels along y; None: plotters' default.
    pub y_labels: Option<usize>,
    /// Vertical grid lines, at the x labels.
    pub x_grid: bool,
    /// Horizontal grid lines, at the y labels.
    pub y_grid: bool,
    /// The y axis line and its labels.
    pub y_axis: bool,
}

/// Writes an axis label of a value.
pub type LabelFormat<T> = dyn Fn(&T) -> String;

/// A chart's plot on a [`Surface`], in data coordinates.
pub type Chart<'a, X, Y> = ChartContext<'a, CanvasBackend, Cartesian2d<X, Y>>;

/// A canvas sized to its box at the device's pixel ratio, as a plotters drawing area.
pub struct Surface {
    pub root: DrawingArea<CanvasBackend, Shift>,
    /// Device pixels per CSS pixel, times the text zoom (`browser::text_zoom`: larger type
    /// on a kiosk): multiply every size by it.
    pub scale: f64,
}

impl std::fmt::Debug for Surface {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Surface").field("size", &self.root.dim_in_pixel()).field("scale", &self.scale).finish()
    }
}

impl Surface {
    pub fn new(canvas: &HtmlCanvasElement) -> Result<Self, String> {
        let rect = canvas.get_bounding_client_rect();
        if rect.width() < 40.0 || rect.height() < 40.0 {
            return Err(NOT_LAID_OUT.to_owned());
        }
        let dpr = browser::device_pixel_ratio();
        let (w, h) = ((rect.width() * dpr).round() as u32, (rect.height() * dpr).round() as u32);
        if canvas.width() != w || canvas.height() != h {
            canvas.set_width(w);
            canvas.set_height(h);
        }
        let backend = CanvasBackend::with_canvas_object(canvas.clone())
            .ok_or_else(|| "no 2d context on the canvas".to_owned())?;
        let root = backend.into_drawing_area();
        root.fill(&TRANSPARENT).map_err(err)?;
        // `fill` with a transparent colour paints nothing: clear the previous frame.
        if let Ok(Some(ctx)) = canvas.get_context("2d")
            && let Ok(ctx) = wasm_bindgen::JsCast::dyn_into::<web_sys::CanvasRenderingContext2d>(ctx)
        {
            ctx.clear_rect(0.0, 0.0, f64::from(w), f64::from(h));
        }
        Ok(Self { root, scale: dpr * browser::text_zoom() })
    }

    /// A size in device pixels.
    pub fn px(&self, css_px: f64) -> i32 {
        (css_px * self.scale).round() as i32
    }

    /// The text style of `size` CSS pixels.
    pub fn font(&self, size: f64, color: &RGBColor) -> TextStyle<'static> {
        // `FontFamily::Name` directly: plotters' `From<&str>` lowercases the name, which
        // pulls Unicode case tables into the wasm.
        (FontFamily::Name(FONT), size * self.scale).into_font().color(color)
    }

    pub fn text(
        &self,
        text: impl Into<String>,
        at: (i32, i32),
        style: TextStyle<'static>,
        h: HPos,
        v: VPos,
    ) -> DrawResult {
        self.root.draw(&Text::new(text.into(), at, style.pos(Pos::new(h, v)))).map_err(err)
    }

    pub fn present(&self) -> DrawResult {
        self.root.present().map_err(err)
    }

    /// The plot of `x` by `y` placed by `layout`.
    pub fn chart<X: AsRangedCoord, Y: AsRangedCoord>(
        &self,
        layout: Layout,
        x: X,
        y: Y,
    ) -> Result<Chart<'_, X::CoordDescType, Y::CoordDescType>, String> {
        ChartBuilder::on(&self.root)
            .margin_top(self.px(layout.top))
            .margin_right(self.px(layout.right))
            .margin_bottom(self.px(layout.bottom))
            .margin_left(self.px(layout.left))
            .x_label_area_size(self.px(layout.x_labels))
            .y_label_area_size(self.px(layout.y_labels))
            .build_cartesian_2d(x, y)
            .map_err(err)
    }

    /// Draws the grid, axes and labels of `chart` in the charts' common style; `x_format`
    /// writes the x labels (None: plotters' own).
    pub fn draw_mesh<X, Y>(
        &self,
        chart: &mut Chart<'_, X, Y>,
        palette: &Palette,
        axes: Axes,
        x_format: Option<&LabelFormat<X::ValueType>>,
    ) -> DrawResult
    where
        X: Ranged + ValueFormatter<X::ValueType>,
        Y: Ranged + ValueFormatter<Y::ValueType>,
    {
        let mut mesh = chart.configure_mesh();
        mesh.x_labels(axes.x_labels)
            .bold_line_style(palette.grid)
            .light_line_style(TRANSPARENT)
            .axis_style(palette.grid)
            .label_style(self.font(12.0, &palette.muted));
        if let Some(n) = axes.y_labels {
            mesh.y_labels(n);
        }
        if !axes.x_grid {
            mesh.disable_x_mesh();
        }
        if !axes.y_grid {
            mesh.disable_y_mesh();
        }
        if !axes.y_axis {
            mesh.disable_y_axis();
        }
        if let Some(format) = x_format {
            mesh.x_label_formatter(format);
        }
        mesh.draw().map_err(err)
    }
}

/// Any plotters error as text.
pub fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// A readable upper bound for a count axis (at least 1, with head room for labels).
pub fn axis_max(max: u64) -> u64 {
    let padded = max + max / 8 + 1;
    let magnitude = 10u64.pow(padded.ilog10());
    let step = (magnitude / 5).max(1);
    padded.div_ceil(step) * step
}

/// A placeholder while there is nothing to draw.
pub fn draw_waiting(canvas: &HtmlCanvasElement, palette: &Palette, message: &str) -> DrawResult {
    let surface = Surface::new(canvas)?;
    let (w, h) = surface.root.dim_in_pixel();
    let style = surface.font(14.0, &palette.muted);
    surface.text(message, ((w / 2) as i32, (h / 2) as i32), style, HPos::Center, VPos::Center)?;
    surface.present()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_colours() {
        assert_eq!(parse_hex("#1a2B3c"), Some(RGBColor(0x1a, 0x2b, 0x3c)));
        assert_eq!(parse_hex(" #fff "), Some(RGBColor(255, 255, 255)));
        assert_eq!(parse_hex("rgb(1,2,3)"), None);
        assert_eq!(parse_hex("#12345"), None);
        assert_eq!(parse_hex("#gg0000"), None);
    }

    #[test]
    fn axes_leave_room_and_round() {
        assert_eq!(axis_max(0), 1);
        assert_eq!(axis_max(1), 2);
        assert_eq!(axis_max(7), 8);
        assert_eq!(axis_max(42), 48);
        assert!(axis_max(42) >= 47);
        assert!(axis_max(980) >= 1100);
        for m in [3, 17, 99, 100, 12_345] {
            assert!(axis_max(m) > m, "{m}");
        }
    }
}
