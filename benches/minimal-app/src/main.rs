//! A window with one line of Chinese and English text, nothing else: the same Tauri, WebKitGTK
//! and fonts as Retract, none of Retract's code. Built with the same release profile.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    if let Err(e) = tauri::Builder::default().run(tauri::generate_context!()) {
        eprintln!("bench-minimal: {e}");
        std::process::exit(1);
    }
}
