//! A page that mounts and unmounts must give back everything it took, including its place
//! among the subscribers of the app's long-lived signals.
//!
//! reactive_graph 0.2.16 kept a disposed effect's or memo's entry (and, through its `Weak`,
//! its allocation) in every source it had read, for as long as the source lived. A kiosk
//! rotating its pages lost 1.5–3 KiB a mount that way. `vendor/reactive_graph` sweeps such
//! entries out (vendor/README.md); this test fails without that patch.

use leptos::prelude::*;

#[global_allocator]
static HEAP: cap::Cap<std::alloc::System> = cap::Cap::new(std::alloc::System, usize::MAX);

/// Mounts a "page" reading `source` through a memo and a derived memo, disposing the one
/// before, as a view re-rendering in `slot` does.
fn mount(slot: &Owner, source: RwSignal<u64>) {
    slot.with_cleanup(|| {
        let doubled = Memo::new(move |_| source.get() * 2);
        let label = Memo::new(move |_| format!("{} / {}", source.get(), doubled.get()));
        // Reading the memos runs them, which subscribes them to what they read.
        let now = source.get_untracked();
        assert_eq!(label.get_untracked(), format!("{now} / {}", now * 2));
    });
}

#[test]
fn disposed_memos_leave_their_sources() {
    let root = Owner::new();
    root.set();
    let source = RwSignal::new(1_u64);
    let slot = root.child();

    // Warm-up: the arena, the sets and the allocator's bins reach their working sizes.
    for _ in 0..500 {
        mount(&slot, source);
    }
    source.set(2);
    let before = HEAP.allocated();
    const MOUNTS: usize = 5_000;
    for _ in 0..MOUNTS {
        mount(&slot, source);
    }
    source.set(3);
    let after = HEAP.allocated();

    let per_mount = after.saturating_sub(before) as f64 / MOUNTS as f64;
    // Without the sweep every mount keeps two memos' allocations (well over 100 bytes).
    assert!(per_mount < 4.0, "each mount kept {per_mount:.1} bytes ({before} → {after} bytes in use)");
}
