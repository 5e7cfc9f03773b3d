//! The dashboard's entry point: panics go to the console (and stop the watchdog's
//! heartbeat), the app mounts on `<body>`.

/// The system allocator (dlmalloc on wasm32), counting the bytes it has handed out and not
/// got back. A wasm memory never shrinks, so its size is the heap's high-water mark:
/// fragmentation and a leak look the same there. This count tells them apart.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static HEAP: cap::Cap<std::alloc::System> = cap::Cap::new(std::alloc::System, usize::MAX);

/// Bytes the app holds on its heap now, for the soak (`scripts/soak.sh` samples it through
/// `window.__wallboard.heapInUse`, which the boot script sets).
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn heap_in_use() -> f64 {
    f64::from(u32::try_from(HEAP.allocated()).unwrap_or(u32::MAX))
}

fn main() {
    wallboard_frontend::browser::install_panic_hook();
    leptos::mount::mount_to_body(wallboard_frontend::app::App);
}
