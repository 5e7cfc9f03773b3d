//! The history chart: one bar per period for the tasks that entered (scaled to the tallest,
//! whose count is written at the top right), and the service level and the abandonment as
//! lines on a 0–100 % axis; a period without a denominator breaks its line.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use web_sys::HtmlCanvasElement;

use super::{Axes, DrawResult, Layout, Palette, Surface, Tone, err};
use crate::model::format;
use crate::model::history::{History, short_label};

/// What the chart shows, per period: its axis label, volume, service level, abandonment.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryChart {
    pub labels: Vec<String>,
    pub entered: Vec<u64>,
    pub service_level: Vec<Option<f64>>,
    pub abandonment: Vec<Option<f64>>,
}

/// The legend, in the order of the series.
pub const LEGEND: [(&str, Tone); 3] =
    [("Tasks entered (bars)", Tone::Neutral), ("Service level", Tone::Good), ("Abandonment", Tone::Bad)];

pub fn data(h: &History, hourly: bool) -> HistoryChart {
    let p = &h.periods;
    HistoryChart {
        labels: p.iter().map(|p| short_label(&p.start_time, hourly)).collect(),
        entered: p.iter().map(|p| p.tasks_entered).collect(),
        service_level: p.iter().map(|p| p.service_level()).collect(),
        abandonment: p.iter().map(|p| p.abandonment()).collect(),
    }
}

/// The runs of consecutive known values of a series, as (x, whole percent) points at the
/// periods' middles; a run of one period is drawn as a short flat segment.
pub fn runs(values: &[Option<f64>]) -> Vec<Vec<(f64, u64)>> {
    let mut out: Vec<Vec<(f64, u64)>> = Vec::new();
    let mut open = false;
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(v) if v.is_finite() => {
                let point = (i as f64 + 0.5, (v * 100.0).clamp(0.0, 100.0).round() as u64);
                match out.last_mut() {
                    Some(run) if open => run.push(point),
                    _ => out.push(vec![point]),
                }
                open = true;
            }
            _ => open = false,
        }
    }
    for run in &mut out {
        if let [(x, y)] = run[..] {
            *run = vec![(x - 0.25, y), (x + 0.25, y)];
        }
    }
    out
}

/// The axes and types are those of the SLA and trend charts (x `f64`, y `u64`), so the
/// wasm holds one copy of plotters' code for all three.
pub fn draw(canvas: &HtmlCanvasElement, d: &HistoryChart, palette: &Palette) -> DrawResult {
    let s = Surface::new(canvas)?;
    let n = d.labels.len().max(1);
    let tallest = d.entered.iter().copied().max().unwrap_or(0).max(1);
    let layout = Layout { top: 22.0, right: 12.0, left: 4.0, x_labels: 26.0, y_labels: 44.0, ..Layout::default() };
    let mut chart = s.chart(layout, 0f64..n as f64, 0u64..100u64)?;
    // About one label per 64 px; each names the period it falls in.
    let width = f64::from(s.root.dim_in_pixel().0) / s.scale;
    let x_labels = ((width / 64.0) as usize).clamp(2, n.max(2));
    let labels = d.labels.clone();
    let x_label = move |x: &f64| labels.get(x.max(0.0) as usize).cloned().unwrap_or_default();
    let axes = Axes { x_labels, y_labels: Some(5), x_grid: false, y_grid: true, y_axis: true };
    s.draw_mesh(&mut chart, palette, axes, Some(&x_label))?;
    let bar = palette.tone(Tone::Neutral);
    for (i, e) in d.entered.iter().enumerate().filter(|(_, e)| **e > 0) {
        let h = e * 100 / tallest;
        let rect = Rectangle::new([(i as f64 + 0.15, 0), (i as f64 + 0.85, h)], bar.filled());
        chart.draw_series(std::iter::once(rect)).map_err(err)?;
    }
    for (values, color) in [(&d.service_level, palette.good), (&d.abandonment, palette.bad)] {
        for run in runs(values) {
            chart.draw_series(LineSeries::new(run, color.stroke_width(s.px(2.5).max(1) as u32))).map_err(err)?;
        }
    }
    let (w, _) = s.root.dim_in_pixel();
    let top = format!("% · tallest bar: {} tasks", format::count(tallest));
    s.text(top, (w as i32 - s.px(12.0), s.px(4.0)), s.font(12.0, &palette.muted), HPos::Right, VPos::Top)?;
    s.present()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_break_where_a_period_has_no_value() {
        let runs = runs(&[Some(0.5), Some(1.0), None, Some(0.25), Some(f64::NAN), Some(2.0)]);
        assert_eq!(
            runs,
            vec![vec![(0.5, 50), (1.5, 100)], vec![(3.25, 25), (3.75, 25)], vec![(5.25, 100), (5.75, 100)]]
        );
        assert!(super::runs(&[None, None]).is_empty());
    }
}
