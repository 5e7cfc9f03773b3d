//! The outcome charts of the window, one chart drawn with two sets of labels: task outcomes
//! (entered, completed, canceled, deleted, moved, timed out) and reservation outcomes
//! (created, accepted, rejected, timed out, canceled, rescinded), as horizontal bars.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use wallboard_shared::resources::CumulativeStats;
use web_sys::HtmlCanvasElement;

use super::{Axes, DrawResult, Layout, Palette, Surface, Tone, axis_max};
use crate::model::format;

/// One bar: its label, its count and its colour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bar {
    pub label: &'static str,
    pub value: u64,
    pub tone: Tone,
}

/// The bars of an outcome chart, top to bottom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bars(pub Vec<Bar>);

/// The labels of an outcome chart and their colours, top to bottom.
pub type Labels = [(&'static str, Tone); 6];

/// The task outcomes' labels.
pub const TASKS: Labels = [
    ("Entered", Tone::Accent),
    ("Completed", Tone::Good),
    ("Canceled", Tone::Bad),
    ("Deleted", Tone::Neutral),
    ("Moved", Tone::Accent2),
    ("Workflow timeout", Tone::Warn),
];

/// The reservation outcomes' labels.
pub const RESERVATIONS: Labels = [
    ("Created", Tone::Accent),
    ("Accepted", Tone::Good),
    ("Rejected", Tone::Warn),
    ("Timed out", Tone::Warn),
    ("Canceled", Tone::Bad),
    ("Rescinded", Tone::Neutral),
];

/// The bars of `labels` with their `values`, in the same order.
pub fn bars(labels: &Labels, values: [u64; 6]) -> Bars {
    Bars(labels.iter().zip(values).map(|(&(label, tone), value)| Bar { label, value, tone }).collect())
}

/// What happened to the window's tasks.
pub fn tasks(s: &CumulativeStats) -> Bars {
    let values = [
        s.tasks_entered,
        s.tasks_completed,
        s.tasks_canceled,
        s.tasks_deleted,
        s.tasks_moved,
        s.tasks_timed_out_in_workflow,
    ];
    bars(&TASKS, values)
}

/// What happened to the window's reservations.
pub fn reservations(s: &CumulativeStats) -> Bars {
    let values = [
        s.reservations_created,
        s.reservations_accepted,
        s.reservations_rejected,
        s.reservations_timed_out,
        s.reservations_canceled,
        s.reservations_rescinded,
    ];
    bars(&RESERVATIONS, values)
}

/// Horizontal bars, one per outcome, labelled left and valued right.
pub fn draw(canvas: &HtmlCanvasElement, bars: &Bars, palette: &Palette) -> DrawResult {
    let bars = &bars.0;
    let s = Surface::new(canvas)?;
    let max = axis_max(bars.iter().map(|b| b.value).max().unwrap_or(0));
    let n = bars.len().max(1) as f64;
    let layout = Layout { top: 6.0, right: 48.0, bottom: 4.0, left: 8.0, x_labels: 26.0, y_labels: 130.0 };
    let mut chart = s.chart(layout, 0u64..max, 0f64..n)?;
    let axes = Axes { x_labels: 6, y_labels: None, x_grid: true, y_grid: false, y_axis: false };
    s.draw_mesh(&mut chart, palette, axes, None)?;
    for (i, bar) in bars.iter().enumerate() {
        let top = n - i as f64;
        let (y0, y1) = (top - 0.78, top - 0.22);
        let color = palette.tone(bar.tone);
        chart
            .draw_series(std::iter::once(Rectangle::new([(0, y0), (bar.value, y1)], color.filled())))
            .map_err(super::err)?;
        let middle = (y0 + y1) / 2.0;
        let (lx, ly) = chart.backend_coord(&(0, middle));
        s.text(bar.label, (lx - s.px(10.0), ly), s.font(14.0, &palette.text), HPos::Right, VPos::Center)?;
        let (vx, vy) = chart.backend_coord(&(bar.value, middle));
        s.text(format::count(bar.value), (vx + s.px(6.0), vy), s.font(14.0, &palette.text), HPos::Left, VPos::Center)?;
    }
    s.present()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::sla::tests::stats;

    #[test]
    fn one_bar_per_task_outcome() {
        let mut st = stats(12, 3, None);
        st.tasks_completed = 7;
        st.tasks_timed_out_in_workflow = 1;
        let values: Vec<(&str, u64)> = tasks(&st).0.iter().map(|b| (b.label, b.value)).collect();
        assert_eq!(
            values,
            [("Entered", 12), ("Completed", 7), ("Canceled", 3), ("Deleted", 0), ("Moved", 0), ("Workflow timeout", 1)]
        );
    }

    #[test]
    fn one_bar_per_reservation_outcome() {
        let mut st = stats(0, 0, None);
        st.reservations_created = 9;
        st.reservations_accepted = 6;
        st.reservations_rescinded = 2;
        let bars = reservations(&st);
        let values: Vec<u64> = bars.0.iter().map(|b| b.value).collect();
        assert_eq!(values, [9, 6, 0, 0, 0, 2]);
        assert_eq!(bars.0[5], Bar { label: "Rescinded", value: 2, tone: Tone::Neutral });
    }
}
