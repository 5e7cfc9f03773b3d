//! The rows of the floor's tables (queues wall, agent board), from the model's [`Line`]s.
//! One component for both tables, and rows rebuilt from plain values when the lines
//! change (at most every second, 50 queues or the agents on screen): each view type and
//! each keyed list costs the wasm its own code, which its 250 KiB budget cannot spare.

use leptos::prelude::*;

use crate::model::alerts::Mark;
use crate::model::floor::Line;

#[component]
pub fn Lines(
    /// The rows, in order.
    lines: Memo<Vec<Line>>,
    /// `data-testid` of each row.
    testid: &'static str,
    /// The class of each column's cells (also the number of cells).
    columns: &'static [&'static str],
) -> impl IntoView {
    move || {
        lines.with(|lines| {
            lines
                .iter()
                .map(|line| {
                    let cells = columns
                        .iter()
                        .zip(&line.cells)
                        .enumerate()
                        .map(|(i, (class, cell))| {
                            view! {
                                <div
                                    class=*class
                                    role=if i == 0 { "rowheader" } else { "cell" }
                                    data-level=cell.level.map(|l| l.key())
                                    data-value=cell.value.clone()
                                    title=cell.title.clone()
                                >
                                    {cell.text.clone()}
                                </div>
                            }
                        })
                        .collect_view();
                    // A firing alert's outline, flash and badge (drawn by the stylesheet).
                    let class = Mark::classes(line.alert, &line.class);
                    view! {
                        <div
                            class=class
                            role="row"
                            data-testid=testid
                            data-sid=line.sid.clone()
                            data-alert=line.alert.map(|m| m.key())
                        >
                            {cells}
                        </div>
                    }
                })
                .collect_view()
        })
    }
}
