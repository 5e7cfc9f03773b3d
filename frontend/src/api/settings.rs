//! The settings page's REST calls (admin bundle only): service levels and alert rules of a
//! workspace, answered with JSON or refused with a status and the server's message.

use js_sys::futures::JsFuture;
use serde::de::DeserializeOwned;
use wallboard_shared::alerts::Preview;
use wallboard_shared::{TwilioError, Urls};
use wasm_bindgen::JsCast;
use web_sys::{Headers, RequestCache, RequestInit, Response};

use super::text;
use crate::model::settings::{LevelList, LevelView, RuleList, RuleView, level_path};

/// A refused settings call: the HTTP status (0: no answer) and the server's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub message: String,
}

impl Refusal {
    /// In words for the page (`model::settings::refusal`).
    pub fn text(&self) -> String {
        crate::model::settings::refusal(self.status, &self.message)
    }
}

/// A settings call (`GET`, `POST` with a form, `DELETE`) to the workspace's `rest`; the body
/// of a successful answer.
async fn settings_call(method: &str, ws: &str, rest: &str, form: Option<&str>) -> Result<String, Refusal> {
    let unreachable = || Refusal { status: 0, message: String::new() };
    let token = crate::browser::token().ok_or_else(|| Refusal { status: 401, message: "no token".into() })?;
    let init = RequestInit::new();
    init.set_method(method);
    init.set_cache(RequestCache::NoStore);
    let headers = Headers::new().map_err(|_| unreachable())?;
    let _ = headers.append("Authorization", &format!("Bearer {token}"));
    if let Some(form) = form {
        let _ = headers.append("Content-Type", "application/x-www-form-urlencoded");
        init.set_body(&wasm_bindgen::JsValue::from_str(form));
    }
    init.set_headers(&headers);
    let path = format!("{}/{rest}", Urls::relative().workspace(ws));
    let promise = web_sys::window().ok_or_else(unreachable)?.fetch_with_str_and_init(&path, &init);
    let response: Response =
        JsFuture::from(promise).await.ok().and_then(|r| r.dyn_into().ok()).ok_or_else(unreachable)?;
    let body = text(&response).await.unwrap_or_default();
    if !response.ok() {
        let message = serde_json::from_str::<TwilioError>(&body).map(|e| e.message).unwrap_or_default();
        return Err(Refusal { status: response.status(), message });
    }
    Ok(body)
}

/// A settings call answered with JSON.
async fn settings_json<T: DeserializeOwned>(
    method: &str,
    ws: &str,
    rest: &str,
    form: Option<&str>,
) -> Result<T, Refusal> {
    let body = settings_call(method, ws, rest, form).await?;
    serde_json::from_str(&body).map_err(|e| Refusal { status: 200, message: format!("unexpected answer: {e}") })
}

/// `GET …/ServiceLevels`: every stored place (a scope, for every channel or one).
pub async fn stored_service_levels(ws: &str) -> Result<Vec<LevelView>, Refusal> {
    settings_json::<LevelList>("GET", ws, "ServiceLevels", None).await.map(|p| p.service_levels)
}

/// `GET …/ServiceLevels/{scope}[?TaskChannel=…]`: the definition in force for every
/// channel (`channel` empty) or one.
pub async fn service_level(ws: &str, scope: &str, channel: &str) -> Result<LevelView, Refusal> {
    settings_json("GET", ws, &level_path(scope, channel), None).await
}

/// `POST …/ServiceLevels/{scope}[?TaskChannel=…]` with a form.
pub async fn set_service_level(ws: &str, scope: &str, channel: &str, form: &str) -> Result<LevelView, Refusal> {
    settings_json("POST", ws, &level_path(scope, channel), Some(form)).await
}

/// `DELETE …/ServiceLevels/{scope}[?TaskChannel=…]`: the place inherits again.
pub async fn inherit_service_level(ws: &str, scope: &str, channel: &str) -> Result<(), Refusal> {
    settings_call("DELETE", ws, &level_path(scope, channel), None).await.map(drop)
}

/// `GET …/AlertRules` (admins only).
pub async fn alert_rules(ws: &str) -> Result<Vec<RuleView>, Refusal> {
    settings_json::<RuleList>("GET", ws, "AlertRules", None).await.map(|p| p.alert_rules)
}

/// `POST …/AlertRules` (a new rule) or `POST …/AlertRules/{sid}` (a change).
pub async fn save_alert_rule(ws: &str, sid: Option<&str>, form: &str) -> Result<RuleView, Refusal> {
    let rest = sid.map_or_else(|| "AlertRules".to_owned(), |sid| format!("AlertRules/{sid}"));
    settings_json("POST", ws, &rest, Some(form)).await
}

pub async fn delete_alert_rule(ws: &str, sid: &str) -> Result<(), Refusal> {
    settings_call("DELETE", ws, &format!("AlertRules/{sid}"), None).await.map(drop)
}

/// `POST …/AlertRules/Preview`: what the rule of `form` would have done over the last hour.
pub async fn preview_alert_rule(ws: &str, form: &str) -> Result<Preview, Refusal> {
    settings_json("POST", ws, "AlertRules/Preview", Some(form)).await
}
