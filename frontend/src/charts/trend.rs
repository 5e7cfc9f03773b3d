//! The trend of the last hour of realtime numbers (total, pending, assigned) as step lines.

use plotters::prelude::*;
use web_sys::HtmlCanvasElement;

use super::{Axes, DrawResult, Layout, Palette, Surface, axis_max, err};
use crate::model::trend::{Sample, Trend};

/// A step line of one number: (minutes before now, value), each value held until the next
/// sample and the last one until now; times before the span are clamped to its left edge.
/// An iterator: the chart takes the points straight from the trend, without a copy of it.
pub fn step_points(trend: &Trend, now_ms: i64, pick: Pick) -> impl Iterator<Item = (f64, u64)> + '_ {
    let left = -(trend.span_ms() as f64) / 60_000.0;
    let x = move |at: i64| ((at - now_ms) as f64 / 60_000.0).clamp(left, 0.0);
    let mut samples = trend.samples();
    let mut previous: Option<u64> = None;
    let mut pending: Option<(f64, u64)> = None;
    std::iter::from_fn(move || {
        if let Some(point) = pending.take() {
            return Some(point);
        }
        match samples.next() {
            Some(sample) => {
                let (at, value) = (x(sample.at_ms), pick(sample));
                let point = (at, value);
                match previous.replace(value) {
                    // The old value up to this sample, then the new one.
                    Some(p) => {
                        pending = Some(point);
                        Some((at, p))
                    }
                    None => Some(point),
                }
            }
            // The last value until now, once.
            None => previous.take().map(|p| (0.0, p)),
        }
    })
}

/// Picks one number of a sample.
pub type Pick = fn(&Sample) -> u64;

/// The lines, in legend order: total, pending, assigned.
pub const LINES: [Pick; 3] = [|s| s.total, |s| s.pending, |s| s.assigned];

/// Draws `trend` as it is at `now_ms` (the caller reads it from the page's trends in place).
pub fn draw(canvas: &HtmlCanvasElement, trend: &Trend, now_ms: i64, palette: &Palette) -> DrawResult {
    let s = Surface::new(canvas)?;
    let max = axis_max(trend.max_count());
    let left = -(trend.span_ms() as f64) / 60_000.0;
    let narrow = f64::from(s.root.dim_in_pixel().0) / s.scale < 560.0;
    let layout = Layout { top: 10.0, right: 16.0, left: 4.0, x_labels: 26.0, y_labels: 44.0, ..Layout::default() };
    let mut chart = s.chart(layout, left..0f64, 0u64..max)?;
    let axes =
        Axes { x_labels: if narrow { 4 } else { 7 }, y_labels: Some(5), x_grid: true, y_grid: true, y_axis: true };
    let minutes = |m: &f64| if m.abs() < 0.5 { "now".to_owned() } else { format!("{} min", m.round() as i64) };
    s.draw_mesh(&mut chart, palette, axes, Some(&minutes))?;
    let colors = [palette.accent, palette.warn, palette.good];
    for (pick, color) in LINES.into_iter().zip(colors) {
        let points = step_points(trend, now_ms, pick);
        chart.draw_series(LineSeries::new(points, color.stroke_width(s.px(2.5).max(1) as u32))).map_err(err)?;
    }
    s.present()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trend(samples: &[(i64, u64)]) -> Trend {
        let mut t = Trend::new(60 * 60_000, 100);
        for &(at_ms, total) in samples {
            t.push(Sample { at_ms, total, pending: 0, assigned: 0, longest_wait: 0 });
        }
        t
    }

    fn points(t: &Trend, now_ms: i64) -> Vec<(f64, u64)> {
        step_points(t, now_ms, |s| s.total).collect()
    }

    #[test]
    fn values_hold_until_the_next_sample_and_until_now() {
        let t = trend(&[(0, 3), (5 * 60_000, 7)]);
        assert_eq!(points(&t, 10 * 60_000), [(-10.0, 3), (-5.0, 3), (-5.0, 7), (0.0, 7)]);
        let t = trend(&[(0, 3), (60_000, 4), (120_000, 5)]);
        assert_eq!(points(&t, 180_000), [(-3.0, 3), (-2.0, 3), (-2.0, 4), (-1.0, 4), (-1.0, 5), (0.0, 5)]);
    }

    #[test]
    fn old_samples_clamp_to_the_left_edge() {
        let t = trend(&[(0, 1)]);
        assert_eq!(points(&t, 120 * 60_000), [(-60.0, 1), (0.0, 1)]);
        assert!(points(&trend(&[]), 120 * 60_000).is_empty());
    }
}
