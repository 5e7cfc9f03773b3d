// Wallboard's boot script, the page's only script besides the app (the Content Security
// Policy allows no inline script). scripts/build-frontend.sh emits it as
// wallboard-boot-<build id>.js. It is a classic script in <head>, so it runs before the
// first paint and before the app:
// 1. the theme and display modes from the link, as <html> attributes (the app keeps them
//    in sync afterwards);
// 2. the end-to-end tests' hook: when the first numbers were on screen (set by the app) and
//    every error the page saw (console.error, uncaught errors and rejections);
// 3. on a kiosk, the watchdog: it loads the page again when the app stopped beating (see
//    below);
// 4. then it loads the app (WebAssembly): the admin bundle (the app with the settings page,
//    wallboard-admin-<id>.js) for page=settings and page=history (pages no wall needs),
//    which are never on a kiosk or embedded (as model::view reads the link), the default
//    bundle otherwise. The default bundle loads the page again when it is asked for one of
//    them, so the two rules must agree.
(function (w) {
  var q = new URLSearchParams(location.search);
  var root = document.documentElement;
  var on = function (k) { return /^(1|true|yes|on)$/.test(q.get(k) || ""); };
  var theme = q.get("theme");
  if (theme !== "auto" && theme !== "light" && theme !== "dark" && theme !== "contrast") {
    theme = on("kiosk") ? "dark" : "auto";
  }
  root.setAttribute("data-theme", theme);
  if (on("kiosk")) root.setAttribute("data-kiosk", "");
  if (on("embed")) root.setAttribute("data-embed", "");
  if (q.get("bg") === "transparent") root.setAttribute("data-bg-transparent", "");

  var errors = [];
  w.__wallboard = { firstDataMs: null, errors: errors };
  var original = console.error;
  console.error = function () {
    errors.push(Array.prototype.map.call(arguments, String).join(" "));
    return original.apply(console, arguments);
  };
  w.addEventListener("error", function (e) { errors.push("uncaught: " + (e.message || e)); });
  w.addEventListener("unhandledrejection", function (e) { errors.push("unhandled rejection: " + e.reason); });

  // Whole names: scripts/build-frontend.sh checks that both are in the minified script.
  var page = q.get("page");
  var admin = (page === "settings" || page === "history") && !on("kiosk") && !on("embed");
  var files = admin
    ? ["./wallboard-admin-{{BUILD_ID}}.js", "./wallboard-admin-{{BUILD_ID}}_bg.wasm"]
    : ["./wallboard-{{BUILD_ID}}.js", "./wallboard-{{BUILD_ID}}_bg.wasm"];
  import(files[0]).then(function (app) {
    return app.default({ module_or_path: files[1] }).then(function (wasm) {
      // For the soak (scripts/soak.sh): the app's memory, whose size is the heap's
      // high-water mark, and the bytes the app holds on it now.
      w.__wallboard.memory = wasm.memory;
      w.__wallboard.heapInUse = app.heap_in_use;
    });
  });

  // The watchdog, kiosk pages only (an unattended wall; a person at a desk reloads a page
  // themselves, and a hidden tab gets no frames). Outside the wasm it watches: the app sets
  // __wallboard.heartbeat (performance.now()) from an animation frame each second while it
  // renders and its server is not lost for ten minutes (model::kiosk). After `watchdog=N`
  // seconds (60 by default, 0 off) without a beat while the page is visible, and once the
  // server answers /build-id (a page loaded while it is away would be the browser's error
  // page, without a watchdog), the page is loaded again. The limit doubles with each reload
  // of the tab (sessionStorage, up to 32 times) so a broken build is not reloaded in a tight
  // loop; ten minutes of beats clear the count. An endless loop on the main thread stops
  // this script too: the kiosk browser's own hang detection is the remedy for that.
  var limit = Math.min(Number(q.get("watchdog") || 60) || 0, 86400);
  if (on("kiosk") && limit > 0) {
    limit = Math.max(limit, 3) * 1000;
    var KEY = "wallboard-watchdog", store = null, reloads = 0;
    try { store = w.sessionStorage; reloads = Number(store.getItem(KEY)) || 0; } catch (e) { store = null; }
    var wait = limit * Math.pow(2, Math.min(reloads, 5));
    var alive = performance.now(), asking = false;
    setInterval(function () {
      var now = performance.now(), beat = w.__wallboard.heartbeat || 0;
      if (document.visibilityState !== "visible") alive = now;
      else if (beat > alive) alive = beat;
      if (reloads && now > 600000 && now - alive < limit) {
        reloads = 0;
        if (store) store.removeItem(KEY);
      }
      if (now - alive < wait || asking) return;
      asking = true;
      fetch("./build-id", { cache: "no-store" }).then(function (r) {
        if (!r.ok) return;
        if (store) store.setItem(KEY, String(reloads + 1));
        location.reload();
      }).catch(function () {}).then(function () { asking = false; });
    }, Math.min(limit / 4, 5000));
  }
})(window);
