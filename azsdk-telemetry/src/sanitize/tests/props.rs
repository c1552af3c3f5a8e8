//! Property tests of the scrubber on its own: the scrubber never panics, its output is valid UTF-8 within the limits,
//! ordinary values survive, and a secret planted anywhere in arbitrary text is removed.

use std::borrow::Cow;

use crate::sanitize::{
    scrub, scrub_limited, scrub_limited_with, truncate_bytes, truncate_chars, Scrubber,
};
use proptest::prelude::*;

fn scrubber() -> &'static Scrubber {
    Scrubber::fixed()
}

/// Arbitrary text, biased towards the characters the rules care about.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "\\PC{0,200}",
        "[ -~\\n\\t]{0,300}",
        proptest::collection::vec(
            prop_oneof![
                Just("password=".to_owned()),
                Just("Bearer ".to_owned()),
                Just("/home/".to_owned()),
                Just("C:\\Users\\".to_owned()),
                Just("eyJ".to_owned()),
                Just("@".to_owned()),
                Just("://".to_owned()),
                Just("-----BEGIN PRIVATE KEY-----".to_owned()),
                Just("1.2.".to_owned()),
                Just("::".to_owned()),
                Just("~/".to_owned()),
                Just("\"".to_owned()),
                Just("alice".to_owned()),
                "[A-Za-z0-9+/=_~.-]{0,12}",
                "\\PC{0,4}",
            ],
            0..24,
        )
        .prop_map(|v| v.concat()),
    ]
}

/// A secret (full planted text, the part that must disappear).
fn planted() -> impl Strategy<Value = (String, String)> {
    let b64 = "[A-Za-z0-9+/]{86}";
    prop_oneof![
        "[A-Za-z0-9]{33}".prop_map(|b| {
            let b = format!("{b}a1B");
            (format!("ghp_{b}"), b)
        }),
        "[A-Z0-9]{13}".prop_map(|b| {
            let b = format!("{b}Q7Z");
            (format!("AKIA{b}"), b)
        }),
        ("[0-9]{12}", "[0-9]{12}", "[A-Za-z0-9]{21}").prop_map(|(a, b, c)| {
            let s = format!("{a}-{b}-{c}x9Y");
            (format!("xoxb-{s}"), s)
        }),
        (
            "[A-Za-z0-9_-]{20}",
            "[A-Za-z0-9_-]{30}",
            "[A-Za-z0-9_-]{43}"
        )
            .prop_map(|(h, p, s)| {
                let t = format!("eyJ{h}.eyJ{p}.{s}");
                (t.clone(), t)
            }),
        b64.prop_map(|b| {
            let b = format!("{b}==");
            (format!("AccountKey={b}"), b)
        }),
        "[A-Za-z0-9!@#%^*]{8,20}".prop_map(|b| {
            let b = format!("{b}k3Q");
            (format!("password={b}"), b)
        }),
        "[A-Za-z0-9._-]{30}".prop_map(|b| {
            let b = format!("{b}z8R");
            (format!("Bearer {b}"), b)
        }),
        ("[A-Za-z0-9]{3}", "[A-Za-z0-9_.~-]{31}").prop_map(|(a, b)| {
            let s = format!("{a}8Q~{b}x1P");
            (s.clone(), s)
        }),
        "[A-Za-z]{31}".prop_map(|b| {
            let b = format!("{b}qXz");
            (format!("hf_{b}"), b)
        }),
        "[A-Za-z0-9]{12}".prop_map(|p| {
            let p = format!("{p}W4v");
            (format!("https://svc:{p}@example.com/x"), p)
        }),
        "[A-Za-z0-9+/]{60}".prop_map(|b| {
            let b = format!("{b}Mq9Z");
            (
                format!("-----BEGIN RSA PRIVATE KEY-----\n{b}\n-----END RSA PRIVATE KEY-----"),
                b,
            )
        }),
    ]
}

/// Characters that end a token in any context.
fn separator() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![" ", "\n", "\t", " (", "\" ", ", ", "; ", " | "])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_and_stays_within_limits(s in text(), max in 0usize..2048) {
        let out = scrubber().scrub(&s);
        prop_assert!(std::str::from_utf8(out.as_bytes()).is_ok());
        let limited = scrub_limited_with(scrubber(), &s, max);
        prop_assert!(limited.len() <= max);
        let d = scrub_limited(&s, max);
        prop_assert!(d.len() <= max);
        prop_assert!(truncate_bytes(&s, max).len() <= max);
        prop_assert!(truncate_chars(&s, max).chars().count() <= max);
        let _ = scrub(&s);
    }

    #[test]
    fn planted_secret_is_removed(
        pre in text(), post in text(), (secret, body) in planted(),
        sep1 in separator(), sep2 in separator(),
    ) {
        let input = format!("{pre}{sep1}{secret}{sep2}{post}");
        let out = scrubber().scrub(&input);
        prop_assert!(!out.contains(&body), "secret survived: {:?} -> {:?}", input, out);
        // No prefix or suffix of it either.
        prop_assert!(!out.contains(&body[..8]), "prefix survived: {:?} -> {:?}", input, out);
        prop_assert!(!out.contains(&body[body.len() - 8..]), "suffix survived: {:?} -> {:?}", input, out);
        // And the limited form never shows it either.
        let lim = scrub_limited_with(scrubber(), &input, 1024);
        prop_assert!(!lim.contains(&body[..8]));
    }

    #[test]
    fn ordinary_values_survive_untouched(v in prop_oneof![
        "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        // A bare 40-hex run is a key's shape since issue 18 (legacy GitHub OAuth tokens);
        // labelled as a commit it stays.
        "commit [0-9a-f]{40}",
        "[0-9a-f]{7}",
        "[0-9]{1,2}\\.[0-9]{1,2}\\.[0-9]{1,3}(-beta\\.[0-9])?",
        "20[0-9]{2}-[01][0-9]-[0-3][0-9]",
        "[a-z]{3,12}",
        "[A-Z][a-z]{2,10}",
        "(specification|sdk)/[a-z]{3,20}(/[A-Za-z.]{2,20})?",
        "(Python|Java|JavaScript|TypeScript|Go|\\.NET|Rust)",
    ]) {
        let out = scrubber().scrub(&v);
        prop_assert!(matches!(out, Cow::Borrowed(_)), "{:?} -> {:?}", v, out);
    }

    #[test]
    fn scrubbing_is_idempotent(s in text()) {
        let once = scrubber().scrub(&s).into_owned();
        let twice = scrubber().scrub(&once).into_owned();
        prop_assert_eq!(&once, &twice, "input {:?}", s);
    }
}

#[test]
fn examples_from_the_issue() {
    let s = scrubber();
    let cases = [
        ("Python", "Python"),
        ("2025-09-01", "2025-09-01"),
        ("specification/healthdataaiservices", "specification/healthdataaiservices"),
        (
            "/home/alice/azure-rest-api-specs/specification/healthdataaiservices/main.tsp",
            "[PATH]/specification/healthdataaiservices/main.tsp",
        ),
        (
            r"C:\Users\alice\source\repos\azure-sdk-for-net\sdk\storage",
            r"[PATH]\sdk\storage",
        ),
        ("git push failed on alice-laptop", "git push failed on [HOST]"),
        ("Alice ran it", "[USER] ran it"),
        ("contact me: alice.smith@contoso.com", "contact me: [EMAIL]"),
        ("from 52.168.10.1 via 10.0.0.4", "from [IP] via 10.0.0.4"),
        (
            "https://acct.blob.core.windows.net/c/b?sv=2022-11-02&se=2025-01-01&sig=AbCdEf0123456789%2BxYz%3D",
            "https://acct.blob.core.windows.net/c/b?sv=2022-11-02&se=2025-01-01&sig=[REDACTED]",
        ),
        ("https://bob:hunter22@example.com/x", "https://[REDACTED]@example.com/x"),
        ("az login --password S0me!Pass", "az login --password [REDACTED]"),
        ("session 0d2f5c3e-7d8b-4a4c-9d7e-0b1e6f3a2c11 at 4f9c2e1", "session 0d2f5c3e-7d8b-4a4c-9d7e-0b1e6f3a2c11 at 4f9c2e1"),
        // Issue 18: an Application Insights key is a secret by its name, whatever it holds.
        ("InstrumentationKey=00000000-0000-0000-0000-000000000000", "InstrumentationKey=[REDACTED]"),
        // Issue 18: a variable name after "token:" is not a value.
        ("needs a GitHub token: set GITHUB_TOKEN", "needs a GitHub token: set GITHUB_TOKEN"),
    ];
    for (input, want) in cases {
        assert_eq!(s.scrub(input), want, "input: {input}");
    }
}

#[test]
fn redaction_reveals_no_length() {
    let s = scrubber();
    let a = s.scrub("token=abcdef123456");
    let b = s.scrub("token=abcdef123456abcdef123456abcdef123456abcdef123456");
    assert_eq!(a, b);
}

#[test]
fn scrub_limited_handles_huge_inputs() {
    let s = scrubber();
    let secret = "ghp_0123456789abcdefABCDEF0123456789abcd";
    // The secret straddles nothing: far beyond the prefix scan, so it is never kept anyway;
    // and one near the start is redacted.
    let input = format!("{secret} {} {secret}", "word ".repeat(100_000));
    let out = scrub_limited_with(s, &input, 1024);
    assert!(out.len() <= 1024);
    assert!(out.starts_with("[REDACTED] word"));
    // Paths that shrink a lot force a full scrub; the secret at the end must still go.
    let paths = "/home/alice/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t ".repeat(5000);
    let input = format!("{paths}{secret}");
    let out = scrub_limited_with(s, &input, 100_000);
    assert!(!out.contains("ghp_"));
}
