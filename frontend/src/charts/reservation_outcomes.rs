//! Reservation outcomes of the window: created, accepted, rejected, timed out, canceled, rescinded.

use wallboard_shared::resources::CumulativeStats;
use web_sys::HtmlCanvasElement;

use super::{Bar, Bars, DrawResult, Palette, Tone, draw_horizontal_bars};

pub fn data(stats: &CumulativeStats) -> Bars {
    Bars(vec![
        Bar { label: "Created", value: stats.reservations_created, tone: Tone::Accent },
        Bar { label: "Accepted", value: stats.reservations_accepted, tone: Tone::Good },
        Bar { label: "Rejected", value: stats.reservations_rejected, tone: Tone::Warn },
        Bar { label: "Timed out", value: stats.reservations_timed_out, tone: Tone::Warn },
        Bar { label: "Canceled", value: stats.reservations_canceled, tone: Tone::Bad },
        Bar { label: "Rescinded", value: stats.reservations_rescinded, tone: Tone::Neutral },
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
        let mut st = stats(0, 0, None);
        st.reservations_created = 9;
        st.reservations_accepted = 6;
        st.reservations_rescinded = 2;
        let values: Vec<u64> = data(&st).0.iter().map(|b| b.value).collect();
        assert_eq!(values, [9, 6, 0, 0, 0, 2]);
    }
}
