//! Test hooks: environment variables that point a debug build at a simulator, a data folder
//! or a faster scheduler. A release build ignores every one of them.

/// A test hook's value: honoured in debug builds (tests, `make run`); a release build says on
/// stderr that it ignores it, so one line in a login profile cannot redirect a shipped app's
/// secrets or data.
pub(crate) fn test_hook(name: &str) -> Option<String> {
    hook_value(name, std::env::var(name).ok(), cfg!(debug_assertions))
}

fn hook_value(name: &str, value: Option<String>, debug_build: bool) -> Option<String> {
    let value = value.filter(|v| !v.is_empty())?;
    if debug_build {
        return Some(value);
    }
    eprintln!("Retract: {name} is a test hook; this release build ignores it.");
    None
}

#[cfg(test)]
mod tests {
    use super::hook_value;

    #[test]
    fn test_hooks_work_in_debug_builds_only() {
        let set = || Some("http://127.0.0.1:9".to_string());
        assert_eq!(hook_value("RETRACT_API_BASE", set(), true), set());
        assert_eq!(
            hook_value("RETRACT_API_BASE", set(), false),
            None,
            "a release build ignores it"
        );
        assert_eq!(
            hook_value("RETRACT_API_BASE", Some(String::new()), true),
            None
        );
        assert_eq!(hook_value("RETRACT_DATA_DIR", None, true), None);
    }
}
