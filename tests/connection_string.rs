//! Connection strings parse as the official Azure Monitor exporters parse them.

use azsdk_telemetry::{ConnectionString, ConnectionStringError};

const KEY: &str = "1234abcd-5678-4efa-8abc-1234567890ab";

#[test]
fn endpoint_precedence_and_defaults() {
    let cases: &[(&str, &str)] = &[
        // default global endpoint
        ("InstrumentationKey={K}", "https://dc.services.visualstudio.com"),
        // explicit endpoint, trailing slash trimmed
        (
            "InstrumentationKey={K};IngestionEndpoint=https://westus2-1.in.applicationinsights.azure.com/",
            "https://westus2-1.in.applicationinsights.azure.com",
        ),
        // EndpointSuffix alone
        ("InstrumentationKey={K};EndpointSuffix=applicationinsights.azure.cn", "https://dc.applicationinsights.azure.cn"),
        // EndpointSuffix with Location
        (
            "InstrumentationKey={K};EndpointSuffix=applicationinsights.us;Location=usgovvirginia",
            "https://usgovvirginia.dc.applicationinsights.us",
        ),
        // Location without suffix is ignored
        ("InstrumentationKey={K};Location=westus", "https://dc.services.visualstudio.com"),
        // IngestionEndpoint wins over EndpointSuffix + Location, in any order
        (
            "EndpointSuffix=ai.contoso.com;Location=eu;IngestionEndpoint=https://explicit.example.com;InstrumentationKey={K}",
            "https://explicit.example.com",
        ),
        // keys are case-insensitive, whitespace and empty segments ignored
        (
            "  instrumentationKEY = {K} ;; ingestionendpoint =  https://x.in.applicationinsights.azure.com//  ;",
            "https://x.in.applicationinsights.azure.com",
        ),
        // a repeated key keeps its last value
        (
            "InstrumentationKey={K};IngestionEndpoint=https://a.example.com;IngestionEndpoint=https://b.example.com",
            "https://b.example.com",
        ),
        // Authorization=ikey and unknown keys are accepted
        (
            "Authorization=IKEY;InstrumentationKey={K};LiveEndpoint=https://live.example.com;ApplicationId=abc",
            "https://dc.services.visualstudio.com",
        ),
        // loopback may use http
        ("InstrumentationKey={K};IngestionEndpoint=http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("InstrumentationKey={K};IngestionEndpoint=http://localhost:1", "http://localhost:1"),
        ("InstrumentationKey={K};IngestionEndpoint=http://[::1]:9", "http://[::1]:9"),
    ];
    for (input, endpoint) in cases {
        let input = input.replace("{K}", KEY);
        let cs = ConnectionString::parse(&input).unwrap_or_else(|e| panic!("{input}: {e}"));
        assert_eq!(cs.ingestion_endpoint(), *endpoint, "{input}");
        assert_eq!(cs.instrumentation_key(), KEY, "{input}");
        assert_eq!(cs.track_url(), format!("{endpoint}/v2.1/track"));
    }
}

#[test]
fn malformed_inputs_are_clear_errors_without_the_key() {
    type Check = fn(&ConnectionStringError) -> bool;
    let cases: &[(&str, Check)] = &[
        ("", |e| matches!(e, ConnectionStringError::Empty)),
        ("   ", |e| matches!(e, ConnectionStringError::Empty)),
        ("{K}", |e| {
            matches!(e, ConnectionStringError::MissingEquals { segment: 1 })
        }),
        ("InstrumentationKey={K};garbage", |e| {
            matches!(e, ConnectionStringError::MissingEquals { segment: 2 })
        }),
        ("InstrumentationKey={K};=x", |e| {
            matches!(e, ConnectionStringError::EmptyKey { .. })
        }),
        ("IngestionEndpoint=https://x.example.com", |e| {
            matches!(e, ConnectionStringError::MissingInstrumentationKey)
        }),
        ("InstrumentationKey=", |e| {
            matches!(e, ConnectionStringError::MissingInstrumentationKey)
        }),
        ("InstrumentationKey={K}x", |e| {
            matches!(e, ConnectionStringError::InvalidInstrumentationKey)
        }),
        ("InstrumentationKey=not-a-guid-{K}", |e| {
            matches!(e, ConnectionStringError::InvalidInstrumentationKey)
        }),
        ("InstrumentationKey={K};Authorization=aad", |e| {
            matches!(e, ConnectionStringError::UnsupportedAuthorization(_))
        }),
        (
            "InstrumentationKey={K};IngestionEndpoint=http://dc.services.visualstudio.com",
            |e| matches!(e, ConnectionStringError::InsecureEndpoint { .. }),
        ),
        ("InstrumentationKey={K};IngestionEndpoint=not a url", |e| {
            matches!(e, ConnectionStringError::InvalidEndpoint { .. })
        }),
        ("InstrumentationKey={K};IngestionEndpoint={K}", |e| {
            matches!(e, ConnectionStringError::InvalidEndpoint { .. })
        }),
        (
            "InstrumentationKey={K};IngestionEndpoint=ftp://x.example.com",
            |e| matches!(e, ConnectionStringError::InvalidEndpoint { .. }),
        ),
        (
            "InstrumentationKey={K};IngestionEndpoint=https://user:{K}@x.example.com",
            |e| matches!(e, ConnectionStringError::InvalidEndpoint { .. }),
        ),
    ];
    for (input, expected) in cases {
        let input = input.replace("{K}", KEY);
        let err = ConnectionString::parse(&input).expect_err(&format!("{input:?} should fail"));
        assert!(expected(&err), "{input:?} gave {err:?}");
        for text in [err.to_string(), format!("{err:?}")] {
            assert!(
                !text.contains("1234abcd"),
                "{input:?}: error leaks the key: {text}"
            );
        }
        assert!(
            err.to_string().len() > 30,
            "error should say what is wrong: {err}"
        );
    }
    let long = format!("InstrumentationKey={KEY};x={}", "a".repeat(5000));
    assert!(matches!(
        ConnectionString::parse(&long),
        Err(ConnectionStringError::TooLong { .. })
    ));
}

#[test]
fn debug_and_display_redact_the_key() {
    let cs = ConnectionString::parse(&format!("InstrumentationKey={KEY}")).unwrap();
    for text in [format!("{cs}"), format!("{cs:?}")] {
        assert!(!text.contains(KEY), "{text}");
        assert!(text.contains("redacted"), "{text}");
        assert!(text.contains("dc.services.visualstudio.com"), "{text}");
    }
}

#[test]
fn from_env_reads_the_standard_variable() {
    // The only test in this binary touching the variable.
    std::env::remove_var("APPLICATIONINSIGHTS_CONNECTION_STRING");
    assert!(ConnectionString::from_env().is_none());
    std::env::set_var(
        "APPLICATIONINSIGHTS_CONNECTION_STRING",
        format!("InstrumentationKey={KEY};EndpointSuffix=applicationinsights.azure.cn"),
    );
    let cs = ConnectionString::from_env().unwrap().unwrap();
    assert_eq!(
        cs.ingestion_endpoint(),
        "https://dc.applicationinsights.azure.cn"
    );
    std::env::set_var("APPLICATIONINSIGHTS_CONNECTION_STRING", "nonsense");
    assert!(ConnectionString::from_env().unwrap().is_err());
    std::env::remove_var("APPLICATIONINSIGHTS_CONNECTION_STRING");
}

#[test]
fn aad_audience_is_read_case_insensitively_and_checked() {
    let parse = |rest: &str| ConnectionString::parse(&format!("InstrumentationKey={KEY};{rest}"));
    for (rest, audience) in [
        ("", None),
        ("AADAudience=", None),
        (
            "aadaudience = https://monitor.azure.us/ ",
            Some("https://monitor.azure.us/"),
        ),
        (
            "AADAUDIENCE=https://monitor.azure.cn/;AADAudience=https://monitor.azure.com/",
            Some("https://monitor.azure.com/"),
        ),
    ] {
        assert_eq!(parse(rest).unwrap().aad_audience(), audience, "{rest}");
    }
    for bad in ["AADAudience=monitor.azure.com", "AADAudience=https://"] {
        let err = parse(bad).unwrap_err();
        assert_eq!(err, ConnectionStringError::InvalidAadAudience, "{bad}");
        assert!(err
            .to_string()
            .contains("AADAudience=https://monitor.azure.com/"));
    }
}

#[test]
fn the_key_must_be_a_guid() {
    let parses = |key: &str| ConnectionString::parse(&format!("InstrumentationKey={key}")).is_ok();
    assert!(parses(KEY));
    assert!(parses(&KEY.to_uppercase()));
    assert!(!parses("1234abcd-5678-4efa-8abc-1234567890abX"));
    assert!(!parses("1234abcd56784efa8abc1234567890ab"));
    assert!(!parses("x234abcd-5678-4efa-8abc-1234567890ab"));
}

#[test]
fn plain_http_is_taken_for_loopback_hosts_only() {
    let endpoint = |url: &str| {
        ConnectionString::parse(&format!("InstrumentationKey={KEY};IngestionEndpoint={url}"))
    };
    for ok in [
        "http://127.0.0.1:1",
        "http://127.9.8.7",
        "http://[::1]:8080",
        "http://LOCALHOST",
    ] {
        assert!(endpoint(ok).is_ok(), "{ok}");
    }
    for bad in ["http://10.0.0.1", "http://example.com", "http://128.0.0.1"] {
        assert!(
            matches!(
                endpoint(bad),
                Err(ConnectionStringError::InsecureEndpoint { .. })
            ),
            "{bad}"
        );
    }
}
