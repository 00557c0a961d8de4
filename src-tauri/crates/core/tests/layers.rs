//! The core's layers, kept by a test: every `crate::…` path in a module's code (imports and
//! inline paths alike; comments are not code) names a module of its own layer or of a layer
//! below. The order is written once, here, and in `docs/architecture.md` ("Layers").
//!
//! Adding an upward import fails this test with the file, the line and both layers named.

use std::path::Path;

/// Bottom to top. A module may use its own layer and the layers before it.
const LAYERS: &[(&str, &[&str])] = &[
    // Types, pure rules and the OS's keyring: no database, no WeChat.
    (
        "foundation",
        &[
            "lib", "ids", "error", "files", "keyring", "links", "identity", "seal",
        ],
    ),
    // The database file: schema, migrations, connections, the search copy, the run lock and the
    // append-only activity log. Knows no feature.
    ("store", &["store", "search", "runlock", "audit"]),
    // Accounts: profiles, secrets, API clients.
    ("accounts", &["accounts"]),
    // What Retract knows: the index of WeChat's list, the journal of deletes, the archive of
    // deleted articles, what WeChat was seen to do.
    ("records", &["index", "journal", "archive", "observations"]),
    // What the operator asks for: plans and the rules that make them, and what serves them.
    (
        "plans",
        &[
            "plan", "rules", "restore", "covers", "signoff", "tickets", "demo",
        ],
    ),
    // Reading WeChat: the re-check before a delete, the walk of the list.
    ("reading", &["recheck", "sync"]),
    // The only layer that sends a delete: execution, settling, the operator's word.
    ("acting", &["execute", "settle", "decide"]),
    // Entry points: the queue (runs, resumes, the scheduler's pass) and the overview.
    ("running", &["queue", "overview"]),
];

#[path = "support/layering.rs"]
mod layering;

#[test]
fn no_core_module_reaches_up_a_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    layering::assert_layered(&src, LAYERS);
}

#[test]
fn the_check_sees_an_upward_import_and_ignores_comments() {
    // A copy of the crate with one upward import added: the check must fail on it.
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("accounts")).unwrap();
    std::fs::write(src.join("lib.rs"), "pub mod store;\n").unwrap();
    std::fs::write(src.join("queue.rs"), "use crate::store::Store;\n").unwrap();
    std::fs::write(
        src.join("store.rs"),
        "//! see crate::queue\n/* crate::execute */\nuse crate::ids::PlanId;\nuse crate::queue::status; // the store reaching up\n",
    )
    .unwrap();
    std::fs::write(
        src.join("accounts").join("mod.rs"),
        "use crate::store::Store;\n",
    )
    .unwrap();
    let problems = layering::upward(&src, LAYERS);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("store.rs:4") && problems[0].contains("`queue` (running)"),
        "{problems:?}"
    );
}

/// "Only `execute` sends a delete": the one call of `Api::delete` is in `execute.rs`. The other
/// `.delete(` calls the core may make are the keyring's (its entries, not WeChat's articles).
#[test]
fn only_execute_calls_the_delete_api() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut callers = Vec::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                if code.contains(".delete(") {
                    let rel = path.strip_prefix(&src).unwrap().display().to_string();
                    callers.push(format!("{rel}:{}", n + 1));
                }
            }
        }
    }
    let outside: Vec<&String> = callers
        .iter()
        .filter(|c| {
            !(c.starts_with("execute.rs:")
                || c.starts_with("keyring.rs:")
                || c.starts_with("accounts/secrets.rs:"))
        })
        .collect();
    assert!(
        outside.is_empty(),
        "a `.delete(` outside execute (and the keyring): {outside:?}"
    );
    assert_eq!(
        callers
            .iter()
            .filter(|c| c.starts_with("execute.rs:"))
            .count(),
        1,
        "execute.rs should call the delete API once: {callers:?}"
    );
}
