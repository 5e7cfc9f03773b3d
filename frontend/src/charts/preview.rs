//! An alert rule's preview: the measure's values over the last hour as a line, the
//! threshold (and a clear threshold set apart) as horizontal lines, and the transitions the
//! rule would have made as vertical marks (fired: bad colour, cleared: good colour).

use plotters::prelude::*;
use wallboard_shared::alerts::{NoticeKind, Preview};
use web_sys::HtmlCanvasElement;

use super::{Axes, DrawResult, Layout, Palette, Surface, err};

/// What the preview chart shows, x in minutes before the last sample.
#[derive(Debug, Clone, PartialEq)]
pub struct PreviewChart {
    /// Runs of consecutive values (a sample without a value breaks the line).
    pub runs: Vec<Vec<(f64, f64)>>,
    pub threshold: f64,
    pub clear_threshold: Option<f64>,
    /// (minutes, fired?)
    pub marks: Vec<(f64, bool)>,
    pub x_from: f64,
    pub y: (f64, f64),
}

/// The chart of `p` for a rule of `threshold` (and `clear`, when set apart); None without samples.
pub fn data(p: &Preview, threshold: f64, clear: Option<f64>) -> Option<PreviewChart> {
    let last = p.samples.last()?.at_ms;
    let x = |at: i64| (at - last) as f64 / 60_000.0;
    let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut open = false;
    for s in &p.samples {
        match s.value {
            Some(v) if v.is_finite() => {
                if !open {
                    runs.push(Vec::new());
                    open = true;
                }
                if let Some(run) = runs.last_mut() {
                    run.push((x(s.at_ms), v));
                }
            }
            _ => open = false,
        }
    }
    let clear_threshold = clear.filter(|c| *c != threshold);
    let values = runs.iter().flatten().map(|p| p.1).chain([threshold]).chain(clear_threshold);
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let pad = ((hi - lo) * 0.1).max(1.0);
    let y = (if lo >= 0.0 { (lo - pad).max(0.0) } else { lo - pad }, hi + pad);
    let marks = p.transitions.iter().map(|t| (x(t.at_ms), t.kind == NoticeKind::Fired)).collect();
    let x_from = x(p.samples[0].at_ms).min(-1.0);
    Some(PreviewChart { runs, threshold, clear_threshold, marks, x_from, y })
}

pub fn draw(canvas: &HtmlCanvasElement, d: &PreviewChart, palette: &Palette) -> DrawResult {
    let s = Surface::new(canvas)?;
    let layout = Layout { top: 8.0, right: 12.0, left: 4.0, x_labels: 24.0, y_labels: 44.0, ..Layout::default() };
    let mut chart = s.chart(layout, d.x_from..0f64, d.y.0..d.y.1)?;
    let axes = Axes { x_labels: 5, y_labels: Some(4), x_grid: true, y_grid: true, y_axis: true };
    let minutes = |m: &f64| if m.abs() < 0.5 { "now".to_owned() } else { format!("{} min", m.round() as i64) };
    s.draw_mesh(&mut chart, palette, axes, Some(&minutes))?;
    let hline = |y: f64| vec![(d.x_from, y), (0.0, y)];
    let width = s.px(1.5).max(1) as u32;
    chart.draw_series(LineSeries::new(hline(d.threshold), palette.bad.stroke_width(width))).map_err(err)?;
    if let Some(c) = d.clear_threshold {
        chart.draw_series(LineSeries::new(hline(c), palette.good.stroke_width(width))).map_err(err)?;
    }
    for &(at, fired) in &d.marks {
        let color = if fired { palette.bad } else { palette.good };
        let line = vec![(at, d.y.0), (at, d.y.1)];
        chart.draw_series(LineSeries::new(line, color.stroke_width(width))).map_err(err)?;
    }
    let stroke = palette.accent.stroke_width(s.px(2.0).max(1) as u32);
    for run in &d.runs {
        chart.draw_series(LineSeries::new(run.iter().copied(), stroke)).map_err(err)?;
    }
    s.present()
}

#[cfg(test)]
mod tests {
    use super::*;
    use wallboard_shared::alerts::{PreviewSource, PreviewTransition, Sample};

    #[test]
    fn gaps_break_the_line_and_the_range_holds_the_thresholds() {
        let at = |m: i64| m * 60_000;
        let p = Preview {
            description: String::new(),
            source: PreviewSource::Computed,
            samples: vec![
                Sample { at_ms: at(0), value: Some(80.0) },
                Sample { at_ms: at(1), value: None },
                Sample { at_ms: at(2), value: Some(90.0) },
                Sample { at_ms: at(3), value: Some(95.0) },
            ],
            transitions: vec![PreviewTransition { at_ms: at(2), kind: NoticeKind::Fired }],
            firing: true,
        };
        let d = data(&p, 50.0, Some(50.0)).expect("samples");
        assert_eq!(d.runs, [vec![(-3.0, 80.0)], vec![(-1.0, 90.0), (0.0, 95.0)]]);
        assert_eq!(d.clear_threshold, None, "not set apart");
        assert_eq!(d.marks, [(-1.0, true)]);
        assert_eq!(d.x_from, -3.0);
        assert!(d.y.0 <= 50.0 && d.y.1 >= 95.0 && d.y.0 >= 0.0);
        let empty = Preview { samples: Vec::new(), ..p };
        assert_eq!(data(&empty, 1.0, None), None);
    }
}
