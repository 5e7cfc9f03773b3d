//! Wait durations of the window: min, average and max until accepted and until canceled.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use wallboard_shared::resources::{CumulativeStats, WaitDuration};
use web_sys::HtmlCanvasElement;

use super::{Axes, DrawResult, Layout, Palette, Surface, Tone, axis_max, err};
use crate::model::format;

/// The two waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waits {
    pub accepted: WaitDuration,
    pub canceled: WaitDuration,
}

pub fn data(stats: &CumulativeStats) -> Waits {
    Waits { accepted: stats.wait_duration_until_accepted, canceled: stats.wait_duration_until_canceled }
}

/// The three bars of one wait: (label, seconds, tone).
pub fn bars(wait: &WaitDuration) -> [(&'static str, u64, Tone); 3] {
    [("min", wait.min, Tone::Good), ("avg", wait.avg, Tone::Accent), ("max", wait.max, Tone::Warn)]
}

pub fn draw(canvas: &HtmlCanvasElement, waits: &Waits, palette: &Palette) -> DrawResult {
    let s = Surface::new(canvas)?;
    let groups = [("Until accepted", &waits.accepted), ("Until canceled", &waits.canceled)];
    let max = axis_max(waits.accepted.max.max(waits.canceled.max));
    let layout = Layout { top: 6.0, right: 80.0, bottom: 4.0, left: 8.0, x_labels: 26.0, y_labels: 130.0 };
    let mut chart = s.chart(layout, 0u64..max, 0f64..2.0)?;
    let axes = Axes { x_labels: 6, y_labels: None, x_grid: true, y_grid: false, y_axis: false };
    s.draw_mesh(&mut chart, palette, axes, Some(&|v| format::duration(*v)))?;
    for (g, (label, wait)) in groups.iter().enumerate() {
        let top = 2.0 - g as f64;
        let (lx, ly) = chart.backend_coord(&(0, top - 0.5));
        s.text(*label, (lx - s.px(10.0), ly), s.font(14.0, &palette.text), HPos::Right, VPos::Center)?;
        for (k, (name, secs, tone)) in bars(wait).into_iter().enumerate() {
            let y1 = top - 0.1 - k as f64 * 0.27;
            let y0 = y1 - 0.21;
            let color = palette.tone(tone);
            chart.draw_series(std::iter::once(Rectangle::new([(0, y0), (secs, y1)], color.filled()))).map_err(err)?;
            let (vx, vy) = chart.backend_coord(&(secs, (y0 + y1) / 2.0));
            let text = format!("{name} {}", format::duration(secs));
            s.text(text, (vx + s.px(6.0), vy), s.font(12.0, &palette.text), HPos::Left, VPos::Center)?;
        }
    }
    s.present()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::sla::tests::stats;

    #[test]
    fn min_avg_max_of_both_waits() {
        let mut st = stats(0, 0, None);
        st.wait_duration_until_accepted = WaitDuration { avg: 12, min: 3, max: 45, total: 120 };
        st.wait_duration_until_canceled = WaitDuration { avg: 50, min: 20, max: 80, total: 100 };
        let w = data(&st);
        let a: Vec<u64> = bars(&w.accepted).iter().map(|b| b.1).collect();
        let c: Vec<&str> = bars(&w.canceled).iter().map(|b| b.0).collect();
        assert_eq!(a, [3, 12, 45]);
        assert_eq!(c, ["min", "avg", "max"]);
    }
}
