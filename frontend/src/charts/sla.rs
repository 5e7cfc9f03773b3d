//! SLA splits: one stacked bar per threshold T (accepted < T, accepted ≥ T, canceled ≥ T,
//! canceled < T) with its service level above it (the workflow's definition at T: the rows
//! of `model::sla`).

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use wallboard_shared::resources::CumulativeStats;
use wallboard_shared::service_level::Definition;
use web_sys::HtmlCanvasElement;

use super::{Axes, DrawResult, Layout, Palette, Surface, Tone, axis_max, err};
use crate::model::format;
use crate::model::sla::{self, SlaRow};

/// The split rows and the window's abandonment.
#[derive(Debug, Clone, PartialEq)]
pub struct SlaChart {
    pub rows: Vec<SlaRow>,
    pub abandonment: Option<f64>,
}

/// The chart of `stats`: the rows of the SLA table (see [`sla::rows`]).
pub fn data(stats: &CumulativeStats, definition: &Definition, shown: &[u32]) -> SlaChart {
    SlaChart { rows: sla::rows(stats, definition, shown), abandonment: sla::abandonment(stats) }
}

/// The segments of a bar, bottom to top: (legend label, count, tone).
pub fn segments(row: &SlaRow) -> [(&'static str, u64, Tone); 4] {
    [
        ("Accepted < T", row.accepted_below, Tone::Good),
        ("Accepted ≥ T", row.accepted_above, Tone::Warn),
        ("Canceled ≥ T", row.canceled_above, Tone::Bad),
        ("Canceled < T", row.canceled_below, Tone::Neutral),
    ]
}

pub fn draw(canvas: &HtmlCanvasElement, chart_data: &SlaChart, palette: &Palette) -> DrawResult {
    let s = Surface::new(canvas)?;
    let rows = &chart_data.rows;
    let n = rows.len().max(1) as f64;
    let tallest = rows.iter().map(|r| segments(r).iter().map(|x| x.1).sum::<u64>()).max().unwrap_or(0);
    let max = axis_max(tallest + tallest / 6);
    let layout = Layout { top: 10.0, right: 12.0, left: 4.0, x_labels: 28.0, y_labels: 44.0, ..Layout::default() };
    let mut chart = s.chart(layout, 0f64..n, 0u64..max)?;
    // The thresholds are written under the bars below, not as x labels.
    let axes = Axes { x_labels: 0, y_labels: Some(5), x_grid: false, y_grid: true, y_axis: true };
    s.draw_mesh(&mut chart, palette, axes, Some(&|_| String::new()))?;
    let width = (0.6f64).min(0.9 - 0.02 * n);
    for (i, row) in rows.iter().enumerate() {
        let (x0, x1) = (i as f64 + 0.5 - width / 2.0, i as f64 + 0.5 + width / 2.0);
        let mut base = 0u64;
        for (_, count, tone) in segments(row) {
            if count > 0 {
                let color = palette.tone(tone);
                chart
                    .draw_series(std::iter::once(Rectangle::new([(x0, base), (x1, base + count)], color.filled())))
                    .map_err(err)?;
            }
            base += count;
        }
        let (cx, top) = chart.backend_coord(&(i as f64 + 0.5, base));
        let label = format::percent(row.service_level);
        s.text(label, (cx, top - s.px(4.0)), s.font(15.0, &palette.text), HPos::Center, VPos::Bottom)?;
        let (_, bottom) = chart.backend_coord(&(i as f64 + 0.5, 0));
        let t = format!("T = {} s", row.threshold);
        s.text(t, (cx, bottom + s.px(8.0)), s.font(13.0, &palette.muted), HPos::Center, VPos::Top)?;
    }
    s.present()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::sla::tests::{split, stats};

    #[test]
    fn stacks_and_levels_per_threshold() {
        let st = stats(20, 2, Some(vec![(20, split(6, 1, 3, 1)), (60, split(9, 2, 0, 0))]));
        let d = data(&st, &Definition::BUILT_IN, &[20, 60]);
        assert_eq!(d.abandonment, Some(0.1));
        assert_eq!(d.rows.len(), 2);
        let seg: Vec<u64> = segments(&d.rows[0]).iter().map(|s| s.1).collect();
        assert_eq!(seg, [6, 3, 1, 1]);
        assert_eq!(d.rows[1].service_level, Some(1.0));
    }
}
