//! The layering check shared by the core's and the shell's tests: every `crate::…` path in
//! a module's code (imports and inline paths; comments are not code) names a module of its
//! own layer or of a layer below.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use std::path::{Path, PathBuf};

/// Bottom to top: a layer's name and its modules (a folder counts as one module).
pub type Layers<'a> = &'a [(&'a str, &'a [&'a str])];

fn layer_of(layers: Layers, module: &str) -> Option<usize> {
    layers
        .iter()
        .position(|(_, members)| members.contains(&module))
}

/// Items defined in lib.rs itself (`crate::now_unix`) belong to the foundation.
fn module_named(path: &str) -> String {
    match path {
        "now_unix" | "CoreError" => "lib".into(),
        other => other.into(),
    }
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            // The binaries sit on top of the crate: they use it as `retract_core::`. A folder
            // of test modules (`mod tests;` as `tests/mod.rs`) is not part of a layer.
            if path.file_name().is_some_and(|n| n != "bin" && n != "tests") {
                sources(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs")
            // A test module in a file of its own (`mod tests;` as `tests.rs`, or
            // `#[path = "x_tests.rs"] mod tests;`) is not part of a layer.
            && path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n != "tests.rs" && !n.ends_with("_tests.rs"))
        {
            out.push(path);
        }
    }
}

/// The module a file belongs to: `accounts/draft.rs` → `accounts`, `plan.rs` → `plan`.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy()
        .to_string();
    first.trim_end_matches(".rs").to_string()
}

/// `(line number, module named)` for each `crate::<module>` in code, comments left out.
fn uses(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut in_block = false;
    for (n, line) in text.lines().enumerate() {
        let mut code = line;
        if in_block {
            match code.find("*/") {
                Some(end) => {
                    code = &code[end + 2..];
                    in_block = false;
                }
                None => continue,
            }
        }
        if let Some(start) = code.find("/*") {
            in_block = !code[start..].contains("*/");
            code = &code[..start];
        }
        let code = code.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let tail = &rest[at + "crate::".len()..];
            let name: String = tail
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.push((n + 1, module_named(&name)));
            }
            rest = tail;
        }
    }
    out
}

/// Every upward use in the crate at `src`, as readable lines.
pub fn upward(src: &Path, layers: Layers) -> Vec<String> {
    let mut files = Vec::new();
    sources(src, &mut files);
    files.sort();
    let mut problems = Vec::new();
    for file in files {
        let module = module_of(src, &file);
        let Some(own) = layer_of(layers, &module) else {
            problems.push(format!("{}: module `{module}` is in no layer: add it to the layers and to docs/architecture.md", file.display()));
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap();
        // A module's own test module may reach anywhere: it is not part of the layer.
        let text = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
        for (line, used) in uses(text) {
            match layer_of(layers, &used) {
                Some(theirs) if theirs > own => problems.push(format!(
                    "{}:{line}: `{module}` ({}) uses `{used}` ({}), a layer above it",
                    file.display(),
                    layers[own].0,
                    layers[theirs].0
                )),
                Some(_) => {}
                None => problems.push(format!(
                    "{}:{line}: `{module}` uses `crate::{used}`, which is in no layer",
                    file.display()
                )),
            }
        }
    }
    problems
}

/// Fails, listing every upward use, unless the crate at `src` keeps `layers`.
pub fn assert_layered(src: &Path, layers: Layers) {
    let problems = upward(src, layers);
    assert!(
        problems.is_empty(),
        "upward imports:\n{}",
        problems.join("\n")
    );
}
