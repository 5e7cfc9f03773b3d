//! The trend of the last hour of realtime numbers (total, pending, assigned) as step lines.

use plotters::prelude::*;
use web_sys::HtmlCanvasElement;

use super::{Axes, DrawResult, Layout, Palette, Surface, axis_max, err};
use crate::model::trend::{Sample, Trend};

/// What the trend chart shows at `now_ms`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrendData {
    pub now_ms: i64,
    pub span_ms: i64,
    pub samples: Vec<Sample>,
}

pub fn data(trend: &Trend, now_ms: i64) -> TrendData {
    TrendData { now_ms, span_ms: trend.span_ms(), samples: trend.samples().copied().collect() }
}

/// A step line of one number: (minutes before now, value), each value held until the next
/// sample and the last one until now; times before the span are clamped to its left edge.
pub fn step_points(d: &TrendData, pick: Pick) -> Vec<(f64, u64)> {
    let left = -(d.span_ms as f64) / 60_000.0;
    let x = |at: i64| ((at - d.now_ms) as f64 / 60_000.0).clamp(left, 0.0);
    let mut points = Vec::with_capacity(d.samples.len() * 2 + 1);
    let mut previous: Option<u64> = None;
    for sample in &d.samples {
        let value = pick(sample);
        if let Some(p) = previous {
            points.push((x(sample.at_ms), p));
        }
        points.push((x(sample.at_ms), value));
        previous = Some(value);
    }
    if let Some(p) = previous {
        points.push((0.0, p));
    }
    points
}

/// Picks one number of a sample.
pub type Pick = fn(&Sample) -> u64;

/// The lines, in legend order: total, pending, assigned.
pub const LINES: [Pick; 3] = [|s| s.total, |s| s.pending, |s| s.assigned];

pub fn draw(canvas: &HtmlCanvasElement, d: &TrendData, palette: &Palette) -> DrawResult {
    let s = Surface::new(canvas)?;
    let max = axis_max(d.samples.iter().map(|x| x.total.max(x.pending).max(x.assigned)).max().unwrap_or(0));
    let left = -(d.span_ms as f64) / 60_000.0;
    let narrow = f64::from(s.root.dim_in_pixel().0) / s.scale < 560.0;
    let layout = Layout { top: 10.0, right: 16.0, left: 4.0, x_labels: 26.0, y_labels: 44.0, ..Layout::default() };
    let mut chart = s.chart(layout, left..0f64, 0u64..max)?;
    let axes =
        Axes { x_labels: if narrow { 4 } else { 7 }, y_labels: Some(5), x_grid: true, y_grid: true, y_axis: true };
    let minutes = |m: &f64| if m.abs() < 0.5 { "now".to_owned() } else { format!("{} min", m.round() as i64) };
    s.draw_mesh(&mut chart, palette, axes, Some(&minutes))?;
    let colors = [palette.accent, palette.warn, palette.good];
    for (pick, color) in LINES.into_iter().zip(colors) {
        let points = step_points(d, pick);
        chart.draw_series(LineSeries::new(points, color.stroke_width(s.px(2.5).max(1) as u32))).map_err(err)?;
    }
    s.present()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at_ms: i64, total: u64) -> Sample {
        Sample { at_ms, total, pending: 0, assigned: 0, longest_wait: 0 }
    }

    #[test]
    fn values_hold_until_the_next_sample_and_until_now() {
        let now = 10 * 60_000;
        let d = TrendData { now_ms: now, span_ms: 60 * 60_000, samples: vec![sample(0, 3), sample(5 * 60_000, 7)] };
        let p = step_points(&d, |s| s.total);
        assert_eq!(p, [(-10.0, 3), (-5.0, 3), (-5.0, 7), (0.0, 7)]);
    }

    #[test]
    fn old_samples_clamp_to_the_left_edge() {
        let now = 120 * 60_000;
        let d = TrendData { now_ms: now, span_ms: 60 * 60_000, samples: vec![sample(0, 1)] };
        assert_eq!(step_points(&d, |s| s.total), [(-60.0, 1), (0.0, 1)]);
        let empty = TrendData { now_ms: now, span_ms: 60 * 60_000, samples: Vec::new() };
        assert!(step_points(&empty, |s| s.total).is_empty());
    }
}
