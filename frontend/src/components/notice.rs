//! A centred message: loading, empty, or what went wrong.

use leptos::prelude::*;

#[component]
pub fn Notice(#[prop(into)] title: String, #[prop(optional, into)] detail: Option<String>) -> impl IntoView {
    view! {
        <div class="notice" role="status">
            <p class="notice-title">{title}</p>
            {detail.map(|d| view! { <p class="notice-detail">{d}</p> })}
        </div>
    }
}
