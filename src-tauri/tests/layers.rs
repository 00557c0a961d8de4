//! The shell's layers, kept by a test (the same check as the core's, see
//! `crates/core/tests/support/layering.rs`): no module reaches up. In particular the tray does
//! not reach the scheduler (the scheduler tells the tray; the tray asks the state).

use std::path::Path;

#[path = "../crates/core/tests/support/layering.rs"]
mod layering;

/// Bottom to top.
const LAYERS: &[(&str, &[&str])] = &[
    // Words, errors, the log, how the window is drawn and where it may navigate.
    (
        "base",
        &[
            "error",
            "texts",
            "log",
            "rendering",
            "navigation",
            "hooks",
            "desktop",
        ],
    ),
    // What the running app holds: the database, the keyring, the demo, the settings.
    ("state", &["state"]),
    // The tray icon and menu: it asks the state, and is told by the commands and the scheduler.
    ("tray", &["tray"]),
    // What the window calls: commands and the cover scheme.
    ("window", &["commands", "covers"]),
    // The scheduler's minute pass.
    ("scheduler", &["scheduler"]),
    // Wiring.
    ("app", &["lib", "main"]),
];

#[test]
fn no_shell_module_reaches_up_a_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    layering::assert_layered(&src, LAYERS);
}
