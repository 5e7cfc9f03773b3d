//! The full page shown instead of the dashboard when the link has no token, or the server
//! refused it.

use leptos::prelude::*;

use crate::model::access::Access;

#[component]
pub fn AccessNotice(access: Access) -> impl IntoView {
    let (testid, title, detail) = match access {
        Access::Refused => (
            "access-refused",
            "Access refused",
            "This link's token is invalid, expired or revoked — ask for a new link.",
        ),
        _ => (
            "access-missing",
            "This dashboard needs its link",
            "Open the dashboard with the link you were given: it ends with #token=…. \
             `wallboard token create …` prints one, and the server prints an admin link when it starts.",
        ),
    };
    view! {
        <section class="access" data-testid=testid role="alert">
            <h1>{title}</h1>
            <p>{detail}</p>
        </section>
    }
}
