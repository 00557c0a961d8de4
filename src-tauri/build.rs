const COMMANDS: [&str; 47] = [
    "app_info",
    "keyring_self_test",
    "list_observations",
    "open_log_folder",
    "autostart_status",
    "set_autostart",
    "set_language",
    "list_accounts",
    "check_account",
    "verify_account",
    "save_account",
    "rename_account",
    "remove_account",
    "reverify_account",
    "secret_storage",
    "secret_destinations",
    "provide_secret",
    "start_demo",
    "accounts_overview",
    "full_sync_cost",
    "sync_articles",
    "cancel_sync",
    "list_articles",
    "select_matching",
    "find_links",
    "open_article",
    "plan_deletion",
    "cancel_plan",
    "execute_plan",
    "schedule_plan",
    "run_overdue_plan",
    "queue_status",
    "startup_findings",
    "reconcile_queue",
    "resume_queue",
    "cancel_queue",
    "awaiting_decisions",
    "decide_request",
    "prepare_clear_quota",
    "clear_quota",
    "list_deleted",
    "restore_draft",
    "export_archive",
    "list_audit",
    "export_audit",
    "lookup_rid",
    "open_export",
];

fn main() {
    // Only the commands listed here exist for the webview; capabilities/ grants them to "main".
    let manifest = tauri_build::AppManifest::new().commands(&COMMANDS);
    if let Err(e) = tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest)) {
        eprintln!("tauri-build failed: {e:#}");
        std::process::exit(1);
    }
}
