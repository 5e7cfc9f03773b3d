// Wallboard's boot script, the page's only script besides the app (the Content Security
// Policy allows no inline script). scripts/build-frontend.sh emits it as
// wallboard-boot-<build id>.js. It is a classic script in <head>, so it runs before the
// first paint and before the app:
// 1. the theme and display modes from the link, as <html> attributes (the app keeps them
//    in sync afterwards);
// 2. the end-to-end tests' hook: when the first numbers were on screen (set by the app) and
//    every error the page saw (console.error, uncaught errors and rejections);
// 3. then it loads the app (WebAssembly): the admin bundle (the app with the settings page,
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
    return app.default({ module_or_path: files[1] });
  });
})(window);
