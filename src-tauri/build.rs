fn main() {
    // Only the commands listed here exist for the webview; capabilities/ grants them to "main".
    let manifest = tauri_build::AppManifest::new().commands(&["app_info", "keyring_self_test"]);
    if let Err(e) = tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest)) {
        eprintln!("tauri-build failed: {e:#}");
        std::process::exit(1);
    }
}
