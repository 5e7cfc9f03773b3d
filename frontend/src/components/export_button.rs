//! The "Export CSV" button of a view: downloads the export of what it shows (the path from
//! `wallboard_shared::export::export_path`, in the view's time zone) through
//! `api::download`, and says why when it cannot.

use leptos::prelude::*;
use wallboard_shared::export::{Format, export_path};

use crate::api::{self, Failure};
use crate::browser;
use crate::state::use_state;

/// The export of `resource` (a `/v1/…` path with its query; None: nothing to export yet).
#[component]
pub fn ExportButton(#[prop(into)] resource: Signal<Option<String>>, testid: &'static str) -> impl IntoView {
    let state = use_state();
    let busy = RwSignal::new(false);
    let failure = RwSignal::new(None::<String>);
    let click = move |_| {
        let Some(resource) = resource.get_untracked() else { return };
        let zone = state.view.with_untracked(|v| v.time_zone.clone()).or_else(browser::browser_zone);
        let path = export_path(&resource, Format::Csv, zone.as_deref().unwrap_or("UTC"));
        busy.set(true);
        leptos::task::spawn_local(async move {
            let result = api::download(&path, "export.csv").await;
            busy.set(false);
            failure.set(match result {
                Ok(()) => None,
                Err(Failure::Refused) => Some("the link's token is refused".to_owned()),
                Err(Failure::RateLimited(secs)) => Some(format!("too many failed attempts; try again in {secs} s")),
                Err(Failure::Other(e)) => Some(e),
            });
        });
    };
    view! {
        <button
            type="button"
            class="seg export-button"
            data-testid=testid
            disabled=move || busy.get() || resource.with(Option::is_none)
            on:click=click
        >
            "Export CSV"
        </button>
        {move || failure.get().map(|f| view! { <span class="control-error" role="status">{f}</span> })}
    }
}
