//! A canvas that a chart module draws on whenever its data, the theme or the size changes.
//!
//! `data-drawn` is `1` once data was drawn (`0` while a placeholder is shown): the end-to-end
//! tests wait for it.

use leptos::html::Canvas;
use leptos::prelude::*;
use web_sys::HtmlCanvasElement;

use crate::charts::{DrawResult, NOT_LAID_OUT, Palette, draw_waiting};
use crate::state::use_state;

/// Draws a chart's current data (reading its signals), or says there is none yet.
pub type Painter = Box<dyn Fn(&HtmlCanvasElement, &Palette) -> Option<DrawResult>>;

/// The painter of a chart module's `draw` over a memo of its data. (The component itself is
/// not generic over the data: one copy of it in the wasm, not one per chart.)
pub fn painter<T: Send + Sync + 'static>(
    data: Memo<Option<T>>,
    draw: fn(&HtmlCanvasElement, &T, &Palette) -> DrawResult,
) -> Painter {
    Box::new(move |canvas, palette| data.with(|d| d.as_ref().map(|d| draw(canvas, d, palette))))
}

#[component]
pub fn ChartCanvas(
    /// `data-testid` of the canvas.
    testid: &'static str,
    /// What the chart shows, for screen readers.
    label: &'static str,
    paint: Painter,
    /// The placeholder's text.
    #[prop(default = "Waiting for data…")]
    waiting: &'static str,
) -> impl IntoView {
    let state = use_state();
    let canvas = NodeRef::<Canvas>::new();
    // Bumped to draw again on the next frame when the canvas had no size yet.
    let retry = RwSignal::new(0u32);
    let mut misses = 0u32;
    Effect::new(move |_| {
        state.theme.track();
        state.resized.track();
        retry.track();
        let Some(element) = canvas.get() else { return };
        let palette = Palette::from_css();
        let result = match paint(&element, &palette) {
            Some(drawn) => drawn.map(|()| true),
            None => draw_waiting(&element, &palette, waiting).map(|()| false),
        };
        if result.is_ok() {
            misses = 0;
        }
        let drawn = match result {
            Ok(true) => "1",
            Ok(false) => "0",
            Err(e) if e == NOT_LAID_OUT => {
                // About five seconds of frames; a canvas hidden longer is drawn on resize.
                misses += 1;
                if misses < 300 {
                    request_animation_frame(move || retry.update(|n| *n += 1));
                }
                "0"
            }
            Err(e) => {
                leptos::logging::warn!("wallboard: chart {testid} not drawn: {e}");
                "0"
            }
        };
        let _ = element.set_attribute("data-drawn", drawn);
    });
    // The box gives the canvas its size (a kiosk sizes it from the space left on screen).
    view! {
        <div class="chart-box">
            <canvas class="chart" node_ref=canvas data-testid=testid data-drawn="0" role="img" aria-label=label></canvas>
        </div>
    }
}
