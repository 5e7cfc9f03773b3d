//! The dashboard's entry point: panics go to the console (and stop the watchdog's
//! heartbeat), the app mounts on `<body>`.

fn main() {
    wallboard_frontend::browser::install_panic_hook();
    leptos::mount::mount_to_body(wallboard_frontend::app::App);
}
