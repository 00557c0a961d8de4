//! Tests of the wizard's field checks (`draft.rs`).

use super::*;
use secrecy::ExposeSecret;

#[test]
fn appid_is_checked_trimmed_and_cleaned_of_invisible_characters() {
    assert_eq!(
        parse_appid("  wx5E7D1C0FFEE0A1B2\u{200B} ").unwrap_or_default(),
        "wx5e7d1c0ffee0a1b2"
    );
    for bad in [
        "",
        "wx123",
        "ab5e7d1c0ffee0a1b2",
        "wx5e7d1c0ffee0a1bz",
        "wx5e7d1c0ffee0a1b2a",
    ] {
        assert!(parse_appid(bad).is_err(), "{bad}");
    }
    let err = parse_appid("wx5e7d1c0ffee0a\u{0007}b2")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("U+0007"), "{err}");
}

#[test]
fn secret_errors_say_what_is_wrong_without_repeating_the_secret() {
    let s = parse_secret("\u{FEFF}3f2a9c8e7d6b5a4f3e2d1c0b9a8f7e6d\n")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.expose_secret(), "3f2a9c8e7d6b5a4f3e2d1c0b9a8f7e6d");
    let err = parse_secret("3f2a9c8e7d6b5a4f3e2d1c0b9a8f7e6")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("31 characters") && !err.contains("3f2a9c"),
        "{err}"
    );
    let err = parse_secret("zz2a9c8e7d6b5a4f3e2d1c0b9a8f7e6d")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("other characters"), "{err}");
}

#[test]
fn the_live_check_names_every_field_and_problem_the_ui_shows() {
    let draft = AccountDraft {
        name: "n".repeat(41),
        appid: "wx12\u{200B}".into(),
        source: DraftSource::Stable {
            secret: "\u{FEFF}xyz".into(),
        },
        proxy: Some("ftp://proxy".into()),
        api_base: Some("http://relay.example.com".into()),
        local_relay: false,
    };
    let check = field_check(&draft);
    let found: Vec<(Field, FieldProblem)> =
        check.issues.iter().map(|i| (i.field, i.problem)).collect();
    assert_eq!(
        found,
        [
            (Field::Appid, FieldProblem::Shape),
            (Field::Name, FieldProblem::TooLong),
            (Field::Proxy, FieldProblem::NotAUrl),
            (Field::ApiBase, FieldProblem::NeedsHttps),
            (Field::Secret, FieldProblem::Shape),
        ]
    );
    assert_eq!(check.cleaned, [Field::Appid, Field::Secret]);
    let good = AccountDraft {
        name: "测试服务号".into(),
        appid: "wx5e7d1c0ffee0a1b2".into(),
        source: DraftSource::Service {
            url: "https://tokens.example.com/t".into(),
            header_name: Some("X-Key".into()),
            header_value: None,
        },
        proxy: None,
        api_base: Some("http://127.0.0.1:8787".into()),
        local_relay: true,
    };
    let check = field_check(&good);
    assert_eq!(check.issues.len(), 1);
    assert_eq!(
        (check.issues[0].field, check.issues[0].problem),
        (Field::Header, FieldProblem::Incomplete)
    );
    // The same rules fail `validate`, with the English message.
    assert!(validate(&good).is_err());
}

#[test]
fn a_token_service_url_may_not_carry_a_credential() {
    for bad in [
        "https://tokens.example.com/t?key=abc",
        "https://tokens.example.com/t?appid=wx1&AccessToken=abc",
        "https://tokens.example.com/t?client_secret=abc",
        "https://tokens.example.com/t?sign=abc&ts=1",
    ] {
        let issue = refuse_credentials_in_query(bad)
            .err()
            .unwrap_or_else(|| panic!("{bad}"));
        assert_eq!(issue.problem, FieldProblem::CredentialInUrl);
        assert!(!issue.message.contains("abc"), "the value is not repeated");
    }
    assert!(
        refuse_credentials_in_query("https://tokens.example.com/t?appid=wx1&account=2").is_ok()
    );
    assert!(refuse_credentials_in_query("https://tokens.example.com/t").is_ok());
}

#[test]
fn a_service_header_needs_both_halves() {
    assert!(service_header(Some("X-Key"), None).is_err());
    assert!(service_header(None, Some("v")).is_err());
    assert!(service_header(Some("X Key"), Some("v")).is_err());
    let (name, value) = service_header(Some(" X-Key "), Some("v")).unwrap_or((None, None));
    assert_eq!(name.as_deref(), Some("X-Key"));
    assert!(value.is_some());
    assert!(matches!(
        service_header(Some(""), Some("")),
        Ok((None, None))
    ));
}

#[test]
fn an_address_on_this_computer_needs_the_operators_word() {
    for (api_base, service) in [
        (Some("http://127.0.0.1:8787"), None),
        (Some("http://localhost:9000/"), None),
        (Some("https://[::1]:8443"), None),
        (None, Some("http://127.0.0.2:7000/token")),
    ] {
        let draft = |local_relay| AccountDraft {
            name: "测试服务号".into(),
            appid: "wx5e7d1c0ffee0a1b2".into(),
            source: match service {
                Some(url) => DraftSource::Service {
                    url: url.into(),
                    header_name: None,
                    header_value: None,
                },
                None => DraftSource::Stable {
                    secret: "3f2a9c8e7d6b5a4f3e2d1c0b9a8f7e6d".into(),
                },
            },
            proxy: None,
            api_base: api_base.map(String::from),
            local_relay,
        };
        let check = field_check(&draft(false));
        assert!(
            check
                .issues
                .iter()
                .any(|i| i.problem == FieldProblem::LocalWithoutConsent),
            "{api_base:?} {service:?}: {check:?}"
        );
        assert!(validate(&draft(false)).is_err());
        assert!(validate(&draft(true)).is_ok(), "{api_base:?} {service:?}");
    }
    // Elsewhere, nothing to consent to.
    let remote = AccountDraft {
        name: "测试服务号".into(),
        appid: "wx5e7d1c0ffee0a1b2".into(),
        source: DraftSource::Stable {
            secret: "3f2a9c8e7d6b5a4f3e2d1c0b9a8f7e6d".into(),
        },
        proxy: Some("http://127.0.0.1:7890".into()),
        api_base: Some("https://relay.example.com".into()),
        local_relay: false,
    };
    assert!(
        validate(&remote).is_ok(),
        "a local proxy is a proxy, not a destination"
    );
}
