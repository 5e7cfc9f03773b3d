//! The few browser facts the app needs: clocks, randomness, the URL, time zones, the build id,
//! and the one thing it plays: the alerts' beep (Web Audio).
//!
//! Everything reaches the page through these functions, so the rest of the code takes plain
//! values (the model gets "now" and "random" as arguments).

use js_sys::{Array, Date, Function, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

/// Wall clock, milliseconds since the epoch.
pub fn now_ms() -> f64 {
    Date::now()
}

thread_local! {
    /// How far this browser's clock is ahead of the server's (see `model::age`).
    static CLOCK_SKEW_MS: std::cell::Cell<f64> = const { std::cell::Cell::new(0.0) };
}

/// Notes the server's `Date` header of a response that just arrived.
pub fn note_server_date(header: &str) {
    if let Some(date) = crate::model::age::parse_http_date(header) {
        CLOCK_SKEW_MS.set(crate::model::age::clock_skew(date, now_ms()));
    }
}

/// The last measured clock skew (0 when the clocks agree).
pub fn clock_skew_ms() -> f64 {
    CLOCK_SKEW_MS.get()
}

/// A number in `[0, 1)` for the reconnect jitter.
pub fn random() -> f64 {
    js_sys::Math::random()
}

/// `performance.now()`: milliseconds since the page started loading.
pub fn performance_now() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now())
}

/// The query string of the page, `?…` or empty.
pub fn location_search() -> String {
    web_sys::window().and_then(|w| w.location().search().ok()).unwrap_or_default()
}

/// The fragment of the page's URL, `#…` or empty. It carries the access token, so it is
/// kept through every in-app navigation (and `location.reload()` keeps it too).
pub fn location_hash() -> String {
    web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default()
}

/// The link's access token (`#token=…`). Never logged, never put in a query string.
pub fn token() -> Option<String> {
    crate::model::access::token_from_fragment(&location_hash())
}

/// Writes `query` into the address bar, keeping the fragment; `push` adds a history entry
/// (a new page), otherwise the current entry is replaced (a setting changed).
pub fn set_location_query(query: &str, push: bool) {
    let Some(window) = web_sys::window() else { return };
    let path = window.location().pathname().unwrap_or_else(|_| "/".to_owned());
    let url = format!("{path}{}{}", if query.is_empty() { "" } else { "?" }, query) + &location_hash();
    let Ok(history) = window.history() else { return };
    let _ = if push {
        history.push_state_with_url(&JsValue::NULL, "", Some(&url))
    } else {
        history.replace_state_with_url(&JsValue::NULL, "", Some(&url))
    };
}

/// The WebSocket URL on this page's origin.
pub fn websocket_url() -> Option<String> {
    let location = web_sys::window()?.location();
    let scheme = if location.protocol().ok()? == "https:" { "wss" } else { "ws" };
    Some(format!("{scheme}://{}/ws", location.host().ok()?))
}

/// The build id the page was built with (`<meta name="wallboard-build">`).
pub fn page_build_id() -> Option<String> {
    let document = web_sys::window()?.document()?;
    let meta = document.query_selector("meta[name='wallboard-build']").ok()??;
    meta.get_attribute("content").filter(|s| !s.is_empty())
}

/// Reloads the page (a new build is being served).
pub fn reload() {
    if let Some(window) = web_sys::window() {
        let _ = window.location().reload();
    }
}

fn root() -> Option<web_sys::Element> {
    web_sys::window()?.document()?.document_element()
}

/// Sets `<html data-theme>`.
pub fn set_document_theme(key: &str) {
    if let Some(root) = root() {
        let _ = root.set_attribute("data-theme", key);
    }
}

/// Sets (`on`) or removes the attribute `name` of `<html>` (`data-kiosk`, `data-embed`,
/// `data-bg`), which the stylesheet follows.
pub fn set_document_flag(name: &str, on: bool) {
    if let Some(root) = root() {
        let _ = if on { root.set_attribute(name, "") } else { root.remove_attribute(name) };
    }
}

/// Asks the browser to keep the screen on (`navigator.wakeLock.request("screen")`); a
/// browser without it, or one that says no, is left alone without a word. The lock ends
/// when the page is hidden: ask again when it is visible.
pub fn request_wake_lock() {
    let Some(window) = web_sys::window() else { return };
    if window.document().is_some_and(|d| d.hidden()) {
        return;
    }
    let request = Reflect::get(&window, &"navigator".into())
        .and_then(|n| Reflect::get(&n, &"wakeLock".into()))
        .ok()
        .filter(JsValue::is_object)
        .and_then(|lock| Some((Reflect::get(&lock, &"request".into()).ok()?.dyn_into::<Function>().ok()?, lock)));
    let Some((request, lock)) = request else { return };
    if let Ok(promise) = request.call1(&lock, &"screen".into())
        && let Ok(promise) = promise.dyn_into::<js_sys::Promise>()
    {
        // Awaited so that a refusal is handled (not an "unhandled rejection").
        leptos::task::spawn_local(async move {
            let _ = js_sys::futures::JsFuture::from(promise).await;
        });
    }
}

/// Whether the page is shown inside another page's frame.
pub fn framed() -> bool {
    web_sys::window().is_some_and(|w| w.parent().ok().flatten().is_some_and(|p| !Object::is(&p, &w)))
}

/// The page's height in CSS pixels (its body's, as laid out).
pub fn page_height() -> u32 {
    let body = web_sys::window().and_then(|w| w.document()).and_then(|d| d.body());
    body.map_or(0.0, |b| b.get_bounding_client_rect().height().ceil()) as u32
}

/// Tells the parent page the height: `{type: "wallboard:height", height}`.
pub fn post_height(height: u32) {
    let Some(window) = web_sys::window() else { return };
    let Some(parent) = window.parent().ok().flatten() else { return };
    let message = Object::new();
    let _ = Reflect::set(&message, &"type".into(), &"wallboard:height".into());
    let _ = Reflect::set(&message, &"height".into(), &height.into());
    let _ = parent.post_message(&message, "*");
}

/// Calls `changed` whenever the body's size changes (a `ResizeObserver`); false when the
/// browser has none. The observer lives as long as the page.
pub fn observe_body_size(changed: impl FnMut() + 'static) -> bool {
    let Some(body) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.body()) else { return false };
    let callback = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(changed);
    let Ok(observer) = web_sys::ResizeObserver::new(callback.as_ref().unchecked_ref()) else { return false };
    observer.observe(&body);
    // One observer for the page's life: the closure must outlive it.
    callback.forget();
    true
}

/// How much larger than usual chart text is drawn: the root font size against 16 px (a
/// kiosk scales its type with the screen), and a quarter more on a kiosk (read from afar).
pub fn text_zoom() -> f64 {
    let Some(root) = root() else { return 1.0 };
    // Whole pixels are plenty; parsing a float would pull large tables into the wasm.
    let size = css_property(&root, "font-size").and_then(|v| v.split(['.', 'p']).next()?.parse::<u32>().ok());
    let kiosk = if root.has_attribute("data-kiosk") { 1.25 } else { 1.0 };
    (f64::from(size.unwrap_or(16)) / 16.0 * kiosk).clamp(0.75, 4.0)
}

/// `window.__wallboard`, the hook of the end-to-end tests: the boot script creates it with
/// `firstDataMs: null` and `errors: []` (filled from `console.error` and uncaught errors);
/// the app adds `buildId`, or creates the object when the page lacks the script.
pub fn install_test_hook() {
    let Some(window) = web_sys::window() else { return };
    let hook = match Reflect::get(&window, &"__wallboard".into()) {
        Ok(hook) if hook.is_object() => hook,
        _ => {
            let hook: JsValue = Object::new().into();
            let _ = Reflect::set(&hook, &"firstDataMs".into(), &JsValue::NULL);
            let _ = Reflect::set(&hook, &"errors".into(), &Array::new());
            let _ = Reflect::set(&window, &"__wallboard".into(), &hook);
            hook
        }
    };
    if let Some(id) = page_build_id() {
        let _ = Reflect::set(&hook, &"buildId".into(), &id.into());
    }
}

thread_local! {
    /// `performance.now()` when the update the frame probe measures started.
    static PROBE_START: std::cell::Cell<Option<f64>> = const { std::cell::Cell::new(None) };
}

/// `window.__wallboard[key]` when a measurement put an array there (the frame probe is
/// off otherwise, at the cost of this lookup).
fn probe_array(key: &str) -> Option<Array> {
    let window: JsValue = web_sys::window()?.into();
    let hook = Reflect::get(&window, &"__wallboard".into()).ok()?;
    Reflect::get(&hook, &key.into()).ok()?.dyn_into().ok()
}

/// The frame probe (BENCHMARKS.md): called first thing by an update of a view, it pushes
/// `[busy, update, render]` (ms) onto `window.__wallboard.frames`: `update` from the call
/// to the end of its task (a timer queued then), `render` from the animation frame after it
/// to the end of that frame's style, layout and paint (a timer queued from the frame's
/// callback), and `busy` the main thread's time over both, without the wait for the frame
/// (both when the frame came first). Updates before that frame count in the same record.
pub fn probe_update() {
    if PROBE_START.get().is_some() {
        return;
    }
    let Some(frames) = probe_array("frames") else { return };
    let start = performance_now();
    PROBE_START.set(Some(start));
    let task_end = std::rc::Rc::new(std::cell::Cell::new(start));
    let zero = std::time::Duration::ZERO;
    let end = task_end.clone();
    leptos::prelude::set_timeout(move || end.set(performance_now()), zero);
    leptos::prelude::request_animation_frame(move || {
        let frame = performance_now();
        // Timers run in order: the update's has run when this one does.
        leptos::prelude::set_timeout(
            move || {
                PROBE_START.set(None);
                let (painted, end) = (performance_now(), task_end.get());
                let busy = if end <= frame { (end - start) + (painted - frame) } else { painted - start };
                let record = Array::of3(&busy.into(), &(end - start).into(), &(painted - frame).into());
                frames.push(&record);
            },
            zero,
        );
    });
}

/// The frame probe's record of reading an answer of `bytes` that took from `start`
/// (`performance.now()`) until now: `[ms, bytes]` onto `window.__wallboard.parses`.
pub fn probe_parse(start: f64, bytes: usize) {
    if let Some(parses) = probe_array("parses") {
        parses.push(&Array::of2(&JsValue::from_f64(performance_now() - start), &JsValue::from_f64(bytes as f64)));
    }
}

/// Records in `window.__wallboard.firstDataMs` when the first numbers were on screen.
pub fn mark_first_data() {
    let Some(window) = web_sys::window() else { return };
    let Ok(hook) = Reflect::get(&window, &"__wallboard".into()) else { return };
    if hook.is_object() && Reflect::get(&hook, &"firstDataMs".into()).is_ok_and(|v| v.is_null()) {
        let _ = Reflect::set(&hook, &"firstDataMs".into(), &performance_now().into());
    }
}

thread_local! {
    /// Whether the app panicked: its state cannot be trusted any more, even if its timers
    /// still run (a panic traps the call it happened in, not the instance).
    static PANICKED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Panics go to the console (`console_error_panic_hook`) and stop the heartbeat for good, so
/// the watchdog loads the page again.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        PANICKED.set(true);
        console_error_panic_hook::hook(info);
    }));
}

/// The watchdog's heartbeat: `window.__wallboard.heartbeat = performance.now()`, which
/// frontend/boot.js reads (monotonic: a pinned or adjusted `Date` does not fool it). None
/// after a panic.
pub fn heartbeat() {
    if PANICKED.get() {
        return;
    }
    let Some(window) = web_sys::window() else { return };
    if let Ok(hook) = Reflect::get(&window, &"__wallboard".into())
        && hook.is_object()
    {
        let _ = Reflect::set(&hook, &"heartbeat".into(), &performance_now().into());
    }
}

/// Moves a kiosk's layout by `(x, y)` CSS pixels: `--burn-x` and `--burn-y` on `<html>`
/// (through the CSSOM, which the page's CSP allows), which the kiosk stylesheet reads.
pub fn set_burn_in((x, y): (i32, i32)) {
    let Some(root) = root().and_then(|r| r.dyn_into::<web_sys::HtmlElement>().ok()) else { return };
    let style = root.style();
    let _ = style.set_property("--burn-x", &format!("{x}px"));
    let _ = style.set_property("--burn-y", &format!("{y}px"));
}

fn intl() -> Option<JsValue> {
    Reflect::get(&js_sys::global(), &"Intl".into()).ok().filter(JsValue::is_object)
}

/// A `Intl.DateTimeFormat` for `zone` printing every field as numbers, 24-hour; None when the
/// browser does not know the zone (the constructor throws, which must not abort the app).
fn zone_format(zone: &str) -> Option<js_sys::Intl::DateTimeFormat> {
    let constructor: Function = Reflect::get(&intl()?, &"DateTimeFormat".into()).ok()?.dyn_into().ok()?;
    let options = Object::new();
    for (key, value) in [
        ("timeZone", zone),
        ("hourCycle", "h23"),
        ("year", "numeric"),
        ("month", "numeric"),
        ("day", "numeric"),
        ("hour", "numeric"),
        ("minute", "numeric"),
        ("second", "numeric"),
    ] {
        Reflect::set(&options, &key.into(), &value.into()).ok()?;
    }
    let args = Array::of2(&"en-US".into(), &options);
    Reflect::construct(&constructor, &args).ok().map(JsCast::unchecked_into)
}

/// Whether the browser knows the IANA zone `zone`.
pub fn is_known_zone(zone: &str) -> bool {
    zone_format(zone).is_some()
}

/// The UTC offset in minutes (east positive) of `zone` (None: the browser's zone) at the
/// UTC instant `utc_ms`. An unknown zone counts as the browser's.
pub fn zone_offset_minutes(zone: Option<&str>, utc_ms: i64) -> i32 {
    let date = Date::new(&JsValue::from_f64(utc_ms as f64));
    let local = || -(date.get_timezone_offset().round() as i32);
    let Some(format) = zone.and_then(zone_format) else { return local() };
    let parts = format.format_to_parts(&date);
    let mut fields = [0i32; 6];
    for part in parts.iter() {
        let kind = Reflect::get(&part, &"type".into()).ok().and_then(|v| v.as_string()).unwrap_or_default();
        let value = Reflect::get(&part, &"value".into()).ok().and_then(|v| v.as_string()).unwrap_or_default();
        let slot = match kind.as_str() {
            "year" => 0,
            "month" => 1,
            "day" => 2,
            "hour" => 3,
            "minute" => 4,
            "second" => 5,
            _ => continue,
        };
        fields[slot] = value.parse().unwrap_or(0);
    }
    let [y, mo, d, h, mi, s] = fields;
    let as_utc = chrono::NaiveDate::from_ymd_opt(y, mo.max(1) as u32, d.max(1) as u32)
        .and_then(|day| day.and_hms_opt((h % 24) as u32, mi as u32, s as u32))
        .map(|t| t.and_utc().timestamp_millis());
    match as_utc {
        Some(wall) => ((wall - utc_ms.div_euclid(1000) * 1000) as f64 / 60_000.0).round() as i32,
        None => local(),
    }
}

/// The browser's own IANA zone (`Europe/Berlin`), when it says.
pub fn browser_zone() -> Option<String> {
    let format = js_sys::Intl::DateTimeFormat::new(&Array::new(), &Object::new());
    Reflect::get(&format.resolved_options(), &"timeZone".into()).ok()?.as_string()
}

/// Every IANA zone the browser knows, for the zone picker.
pub fn known_zones() -> Vec<String> {
    let Some(intl) = intl() else { return Vec::new() };
    let Some(list) = Reflect::get(&intl, &"supportedValuesOf".into()).ok().and_then(|f| f.dyn_into::<Function>().ok())
    else {
        return Vec::new();
    };
    list.call1(&intl, &"timeZone".into())
        .ok()
        .and_then(|a| a.dyn_into::<Array>().ok())
        .map(|a| a.iter().filter_map(|v| v.as_string()).collect())
        .unwrap_or_default()
}

/// The device pixel ratio (charts draw at full resolution on HiDPI screens).
pub fn device_pixel_ratio() -> f64 {
    web_sys::window().map_or(1.0, |w| w.device_pixel_ratio()).clamp(1.0, 4.0)
}

/// The value of a CSS custom property on `<html>` (its computed value, trimmed).
pub fn css_variable(name: &str) -> Option<String> {
    css_property(&root()?, name)
}

fn css_property(element: &web_sys::Element, name: &str) -> Option<String> {
    let style = web_sys::window()?.get_computed_style(element).ok()??;
    let value = style.get_property_value(name).ok()?;
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

/// Sets the attribute `name` of `<html>` to `value` (`data-sound`, read by tests).
pub fn set_document_attribute(name: &str, value: &str) {
    if let Some(root) = root()
        && root.get_attribute(name).as_deref() != Some(value)
    {
        let _ = root.set_attribute(name, value);
    }
}

/// The value of the attribute `name` of the element a click landed on, or of its nearest
/// ancestor that has it (a click on a button's text counts for the button).
pub fn clicked_attribute(event: &web_sys::Event, name: &str) -> Option<String> {
    let target: web_sys::Element = event.target()?.dyn_into().ok()?;
    target.closest(&format!("[{name}]")).ok()??.get_attribute(name)
}

/// The page's audio: one `AudioContext`, made when the wall first sounds, and the handler of
/// its state changes.
struct Audio {
    context: web_sys::AudioContext,
    _on_state: wasm_bindgen::closure::Closure<dyn FnMut()>,
}

thread_local! {
    static AUDIO: std::cell::RefCell<Option<Audio>> = const { std::cell::RefCell::new(None) };
}

/// Makes the page's audio context (once; `changed` is called whenever its state changes)
/// and asks it to run. A browser that wants a user gesture first keeps it suspended:
/// [`audio_running`] then stays false until [`audio_resume`] is called from a click.
pub fn audio_start(changed: impl FnMut() + 'static) {
    let made = AUDIO.with_borrow_mut(|audio| {
        if audio.is_some() {
            return true;
        }
        let Ok(context) = web_sys::AudioContext::new() else { return false };
        let on_state = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(changed);
        context.set_onstatechange(Some(on_state.as_ref().unchecked_ref()));
        *audio = Some(Audio { context, _on_state: on_state });
        true
    });
    if made {
        audio_resume();
    }
}

/// Asks the audio context to run (from a click, the browser lets it).
pub fn audio_resume() {
    let promise = AUDIO.with_borrow(|audio| audio.as_ref().and_then(|a| a.context.resume().ok()));
    if let Some(promise) = promise {
        // Awaited so that a refusal is handled (not an "unhandled rejection").
        leptos::task::spawn_local(async move {
            let _ = js_sys::futures::JsFuture::from(promise).await;
        });
    }
}

/// Whether the audio context exists and runs.
pub fn audio_running() -> bool {
    AUDIO.with_borrow(|audio| audio.as_ref().is_some_and(|a| a.context.state() == web_sys::AudioContextState::Running))
}

/// Plays one beep now: `tones_hz` one after the other, `tone_s` seconds each, through a
/// gain with short ramps (no clicks). Nothing when the audio context does not run.
pub fn beep(tones_hz: &[f32], tone_s: f64) {
    AUDIO.with_borrow(|audio| {
        let Some(audio) = audio else { return };
        let context = &audio.context;
        if context.state() != web_sys::AudioContextState::Running {
            return;
        }
        let play = || -> Result<(), JsValue> {
            let oscillator = context.create_oscillator()?;
            let gain = context.create_gain()?;
            oscillator.set_type(web_sys::OscillatorType::Triangle);
            let start = context.current_time() + 0.02;
            let end = start + tone_s * tones_hz.len() as f64;
            for (i, hz) in tones_hz.iter().enumerate() {
                oscillator.frequency().set_value_at_time(*hz, start + tone_s * i as f64)?;
            }
            let level = gain.gain();
            level.set_value_at_time(0.0, start)?;
            level.linear_ramp_to_value_at_time(0.3, start + 0.01)?;
            level.set_value_at_time(0.3, end - 0.02)?;
            level.linear_ramp_to_value_at_time(0.0, end)?;
            oscillator.connect_with_audio_node(&gain)?;
            gain.connect_with_audio_node(&context.destination())?;
            oscillator.start_with_when(start)?;
            oscillator.stop_with_when(end)
        };
        let _ = play();
    });
}

/// Saves `blob` as a file named `name`: an object URL clicked through an `<a download>`,
/// revoked a minute later (a download that starts reads it first). False when the page
/// cannot.
pub fn save_file(blob: &web_sys::Blob, name: &str) -> bool {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return false };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(blob) else { return false };
    let Some(link) = document.create_element("a").ok().and_then(|a| a.dyn_into::<web_sys::HtmlElement>().ok()) else {
        return false;
    };
    let _ = link.set_attribute("href", &url);
    let _ = link.set_attribute("download", name);
    link.click();
    leptos::prelude::set_timeout(
        move || {
            let _ = web_sys::Url::revoke_object_url(&url);
        },
        std::time::Duration::from_secs(60),
    );
    true
}
