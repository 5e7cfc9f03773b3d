//! A kiosk left alone: burn-in protection (the layout moves along a small orbit, never
//! overflowing) and the boot script's watchdog (a kiosk whose app stops rendering is loaded
//! again, with a count that makes the next wait longer).

use std::sync::Arc;

use fantoccini::{Client, Locator};
use wallboard::clock::ManualClock;

use super::{browser, console_errors, free_port, overflow, set_viewport, start, until, viewer_token};

/// The burn-in offset (`--burn-x`, `--burn-y` on `<html>`) and where the first workflow
/// card is, `[x, y, left, top]` in CSS pixels.
async fn placement(c: &Client) -> Option<[i64; 4]> {
    let v = c
        .execute(
            "const s = getComputedStyle(document.documentElement);
             const card = document.querySelector('[data-testid=workflow-card]');
             if (!card) return null;
             const r = card.getBoundingClientRect();
             // Not a kiosk: no such property, 0.
             const px = k => parseFloat(s.getPropertyValue(k)) || 0;
             return [px('--burn-x'), px('--burn-y'),
                     Math.round(r.left), Math.round(r.top)];",
            vec![],
        )
        .await
        .ok()?;
    let a = v.as_array()?;
    Some([a[0].as_f64()? as i64, a[1].as_f64()? as i64, a[2].as_i64()?, a[3].as_i64()?])
}

async fn cards_shown(c: &Client) {
    until("three workflow cards", || async {
        (c.find_all(Locator::Css("[data-testid=workflow-card]")).await.ok()?.len() == 3).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_kiosk_layout_orbits_within_bounds_without_scrollbars() {
    let dir = tempfile::tempdir().expect("tempdir");
    let now = chrono::Utc::now().timestamp_millis();
    let server = start(dir.path(), free_port(), Arc::new(ManualClock::new(now))).await;
    let token = viewer_token(&server, "e2e", now);
    let driver = browser().await;
    let c = &driver.client;
    let ws = server.demo().workspace_sid.to_string();
    for (width, height) in [(1920, 1080), (1280, 720)] {
        set_viewport(c, width, height).await;
        // A step a second (the default is minutes).
        c.goto(&format!("{}/?kiosk=1&burnin=1&ws={ws}#token={token}", server.base)).await.expect("open the kiosk");
        cards_shown(c).await;
        let first = until("the first placement", || placement(c)).await;
        let mut seen = vec![first];
        while seen.len() < 4 {
            let last = seen[seen.len() - 1];
            let next = until("the layout moved", || async { placement(c).await.filter(|p| p[..2] != last[..2]) }).await;
            let [x, y, left, top] = next;
            assert!(x.abs() <= 3 && y.abs() <= 3, "offset ({x}, {y}) beyond 3 px at {width}x{height}");
            // The card moved with the offset, by as much.
            assert_eq!((left - first[2], top - first[3]), (x - first[0], y - first[1]), "{seen:?} then {next:?}");
            assert_eq!(overflow(c).await, None, "scrollbars at offset ({x}, {y}), {width}x{height}");
            seen.push(next);
        }
    }
    // Off with burnin=0, and never on a page that is not a kiosk.
    for query in ["kiosk=1&burnin=0", "burnin=1"] {
        c.goto(&format!("{}/?{query}&ws={ws}#token={token}", server.base)).await.expect("open");
        cards_shown(c).await;
        let p = until("a placement", || placement(c)).await;
        assert_eq!(p[..2], [0, 0], "{query}");
    }
    let errors = console_errors(c).await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    driver.client.clone().close().await.expect("close the browser");
    server.stop().await;
}

/// `[heartbeat, performance.now(), the test's marker, the watchdog's count]` of the page.
async fn watch(c: &Client) -> Option<(f64, f64, bool, Option<String>)> {
    let v = c
        .execute(
            "const h = window.__wallboard || {};
             return [h.heartbeat || 0, performance.now(), window.__marked === true,
                     sessionStorage.getItem('wallboard-watchdog')];",
            vec![],
        )
        .await
        .ok()?;
    Some((v[0].as_f64()?, v[1].as_f64()?, v[2].as_bool()?, v[3].as_str().map(str::to_owned)))
}

#[tokio::test]
async fn the_watchdog_reloads_a_kiosk_whose_app_stopped_rendering() {
    let dir = tempfile::tempdir().expect("tempdir");
    let now = chrono::Utc::now().timestamp_millis();
    let server = start(dir.path(), free_port(), Arc::new(ManualClock::new(now))).await;
    let token = viewer_token(&server, "e2e", now);
    let driver = browser().await;
    let c = &driver.client;
    let ws = server.demo().workspace_sid.to_string();
    c.goto(&format!("{}/?kiosk=1&watchdog=3&ws={ws}#token={token}", server.base)).await.expect("open the kiosk");
    cards_shown(c).await;
    c.execute("window.__marked = true;", vec![]).await.expect("mark the page");
    // A rendering app keeps beating and is left alone beyond the limit.
    let beats = until("beats for longer than the limit", || async {
        watch(c).await.filter(|(beat, now, _, _)| *beat > 7000.0 && now - beat < 2000.0)
    })
    .await;
    assert!(beats.2, "the page was not loaded again while its app rendered");
    assert_eq!(beats.3, None, "no reload counted");

    for reloads in ["1", "2"] {
        // The app stops rendering: no more animation frames for it.
        c.execute("window.requestAnimationFrame = () => 0;", vec![]).await.expect("stop the frames");
        until(&format!("reload {reloads}"), || async {
            watch(c).await.filter(|(_, _, marked, count)| !marked && count.as_deref() == Some(reloads))
        })
        .await;
        cards_shown(c).await;
        until("the new page's app beats", || async { watch(c).await.filter(|w| w.0 > 0.0) }).await;
        c.execute("window.__marked = true;", vec![]).await.expect("mark the page");
    }
    let url = c.current_url().await.expect("url");
    assert!(url.query().unwrap_or_default().contains("watchdog=3"), "the link keeps its options: {url}");
    assert_eq!(url.fragment(), Some(format!("token={token}").as_str()), "the token is kept");
    let errors = console_errors(c).await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    driver.client.clone().close().await.expect("close the browser");
    server.stop().await;
}

/// The bytes the dashboard holds on its wasm heap (`heap_in_use`, counted by its allocator).
async fn heap_in_use(c: &Client) -> f64 {
    let v = c.execute("return window.__wallboard.heapInUse();", vec![]).await.expect("the heap count");
    v.as_f64().expect("a number")
}

/// A view change within a page (another workflow on the workflow page, as a rotating kiosk
/// does every step) updates the page in place: it mounts nothing again, so it holds no more
/// memory after the hundredth time than after the tenth. (Remounting the page on each change
/// leaked 3–6 KiB a switch before reactive_graph was patched, see vendor/README.md.)
#[tokio::test]
async fn switching_workflows_holds_no_more_memory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let now = chrono::Utc::now().timestamp_millis();
    let server = start(dir.path(), free_port(), Arc::new(ManualClock::new(now))).await;
    let token = viewer_token(&server, "e2e", now);
    let workflows: Vec<String> = server.demo().workflows.iter().map(|(sid, _)| sid.to_string()).collect();
    let driver = browser().await;
    let c = &driver.client;
    c.goto(&format!("{}/?kiosk=1&page=workflow&wf={}#token={token}", server.base, workflows[0]))
        .await
        .expect("open the workflow page");
    let show = |i: usize| {
        let wf = workflows[i % workflows.len()].clone();
        async move {
            // What the rotation does: the URL changes in place and the app follows it.
            c.execute(
                "history.replaceState(null, '', '?kiosk=1&page=workflow&wf=' + arguments[0] + location.hash);
                 window.dispatchEvent(new PopStateEvent('popstate'));",
                vec![wf.clone().into()],
            )
            .await
            .expect("change the view");
            until("the workflow shown", || async {
                let page = c.find(Locator::Css("[data-testid=workflow-page]")).await.ok()?;
                (page.attr("data-workflow-sid").await.ok()?? == wf).then_some(())
            })
            .await;
        }
    };
    // Warm-up: every workflow's snapshots and trend are there, caches are filled.
    for i in 0..12 {
        show(i).await;
    }
    let before = heap_in_use(c).await;
    const SWITCHES: usize = 60;
    for i in 0..SWITCHES {
        show(i + 1).await;
    }
    let after = heap_in_use(c).await;
    let per_switch = (after - before) / SWITCHES as f64;
    assert!(per_switch < 256.0, "the heap grew {per_switch:.0} bytes a switch ({before} -> {after} bytes)");
    assert!(console_errors(c).await.is_empty(), "console errors: {:?}", console_errors(c).await);
}

/// A rotation through every kind of page (overview, a workflow, queues, agents) mounts a page
/// at each step and disposes the one before: the hundredth round holds no more memory than
/// the tenth. reactive_graph 0.2.16 kept every disposed effect's entry in the app's
/// long-lived signals, 2.8–5.6 KiB a switch, until `vendor/reactive_graph` swept them out.
#[tokio::test]
async fn switching_pages_holds_no_more_memory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let now = chrono::Utc::now().timestamp_millis();
    let server = start(dir.path(), free_port(), Arc::new(ManualClock::new(now))).await;
    let token = viewer_token(&server, "e2e", now);
    let workflow = server.demo().workflows[0].0.to_string();
    let driver = browser().await;
    let c = &driver.client;
    let pages = [
        (String::from("kiosk=1"), "overview"),
        (format!("kiosk=1&page=workflow&wf={workflow}"), "workflow-page"),
        (String::from("kiosk=1&page=queues"), "queues-wall"),
        (String::from("kiosk=1&page=agents"), "agent-board"),
    ];
    c.goto(&format!("{}/?{}#token={token}", server.base, pages[0].0)).await.expect("open the overview");
    let show = |i: usize| {
        let (query, testid) = pages[i % pages.len()].clone();
        async move {
            c.execute(
                "history.replaceState(null, '', '?' + arguments[0] + location.hash);
                 window.dispatchEvent(new PopStateEvent('popstate'));",
                vec![query.into()],
            )
            .await
            .expect("change the page");
            until(testid, || async { c.find(Locator::Css(&format!("[data-testid={testid}]"))).await.ok().map(drop) })
                .await;
        }
    };
    // Warm-up: three rounds, so every page has had its data and the sets their sizes.
    for i in 0..12 {
        show(i + 1).await;
    }
    // The heap in use swings by ±10 KiB with what is in flight (snapshots, the pages' own
    // caches), so each span is judged by its low-water mark over 15 rounds.
    const SWITCHES: usize = 60;
    let mut low_water = [f64::MAX; 2];
    for span in &mut low_water {
        for i in 0..SWITCHES {
            show(i + 1).await;
            *span = span.min(heap_in_use(c).await);
        }
    }
    let per_switch = (low_water[1] - low_water[0]) / SWITCHES as f64;
    assert!(
        per_switch < 256.0,
        "the heap grew {per_switch:.0} bytes a switch (low water {} -> {} bytes)",
        low_water[0],
        low_water[1]
    );
    let errors = console_errors(c).await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    driver.client.clone().close().await.expect("close the browser");
    server.stop().await;
}
