//! Task outcomes of the window: entered, completed, canceled, deleted, moved, timed out.

use wallboard_shared::resources::CumulativeStats;
use web_sys::HtmlCanvasElement;

use super::{Bar, Bars, DrawResult, Palette, Tone, draw_horizontal_bars};

pub fn data(stats: &CumulativeStats) -> Bars {
    Bars(vec![
        Bar { label: "Entered", value: stats.tasks_entered, tone: Tone::Accent },
        Bar { label: "Completed", value: stats.tasks_completed, tone: Tone::Good },
        Bar { label: "Canceled", value: stats.tasks_canceled, tone: Tone::Bad },
        Bar { label: "Deleted", value: stats.tasks_deleted, tone: Tone::Neutral },
        Bar { label: "Moved", value: stats.tasks_moved, tone: Tone::Accent2 },
        Bar { label: "Workflow timeout", value: stats.tasks_timed_out_in_workflow, tone: Tone::Warn },
    ])
}

pub fn draw(canvas: &HtmlCanvasElement, bars: &Bars, palette: &Palette) -> DrawResult {
    draw_horizontal_bars(canvas, &bars.0, palette)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::sla::tests::stats;

    #[test]
    fn one_bar_per_outcome() {
        let mut st = stats(12, 3, None);
        st.tasks_completed = 7;
        st.tasks_timed_out_in_workflow = 1;
        let bars = data(&st);
        let values: Vec<(&str, u64)> = bars.0.iter().map(|b| (b.label, b.value)).collect();
        assert_eq!(
            values,
            [("Entered", 12), ("Completed", 7), ("Canceled", 3), ("Deleted", 0), ("Moved", 0), ("Workflow timeout", 1)]
        );
    }
}
