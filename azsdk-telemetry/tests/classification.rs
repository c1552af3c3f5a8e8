//! `Classification` of `std::error::Error`s through the public API: the short type name,
//! the `source()` chain, the `std::io::Error` found in a type-erased chain, and the bound
//! on messages.

use std::error::Error as StdError;
use std::io;

use azsdk_telemetry::{Classification, TelemetryError};

#[derive(Debug)]
struct Outer(io::Error);
impl std::fmt::Display for Outer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("reading tsp-location.yaml")
    }
}
impl StdError for Outer {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&self.0)
    }
}

#[test]
fn std_errors_use_their_short_name_and_chain() {
    let error = Outer(io::Error::new(io::ErrorKind::NotFound, "no such file"));
    let class = Classification::of_std(&error);
    assert_eq!(class.error_type, "Outer");
    assert_eq!(
        class.message.as_deref(),
        Some("reading tsp-location.yaml: no such file")
    );
}

#[test]
fn chains_find_io_errors() {
    let error: Box<dyn StdError + Send + Sync> =
        Box::new(Outer(io::Error::from(io::ErrorKind::TimedOut)));
    assert_eq!(
        Classification::of_chain(error.as_ref()).error_type,
        "IoTimedOut"
    );
    let plain: Box<dyn StdError + Send + Sync> = "plain".into();
    let class = Classification::of_chain(plain.as_ref());
    assert_eq!(class.error_type, "Error");
    assert_eq!(class.message.as_deref(), Some("plain"));
}

#[test]
fn a_source_already_in_the_message_is_not_repeated() {
    #[derive(Debug)]
    struct Wraps(io::Error);
    impl std::fmt::Display for Wraps {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "failed: {}", self.0)
        }
    }
    impl StdError for Wraps {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&self.0)
        }
    }
    let error = Wraps(io::Error::other("disk full"));
    assert_eq!(
        Classification::of_std(&error).message.as_deref(),
        Some("failed: disk full")
    );
}

#[test]
fn messages_are_bounded_on_a_char_boundary() {
    // Messages are cut early at four times the 1 KB that is kept.
    const EARLY_MESSAGE_MAX_BYTES: usize = 4 * 1024;
    let long = "é".repeat(EARLY_MESSAGE_MAX_BYTES);
    let class = Classification::of(&long);
    let message = class.message.unwrap();
    assert!(message.len() <= EARLY_MESSAGE_MAX_BYTES);
    assert!(message.chars().all(|c| c == 'é'));
    assert_eq!(class.error_type, "Error");
}

#[test]
fn io_errors_classify_by_kind() {
    let class = Classification::of(&io::Error::from(io::ErrorKind::PermissionDenied));
    assert_eq!(class.error_type, "IoPermissionDenied");
    assert!(class.failure);
    assert_eq!(
        io::Error::from(io::ErrorKind::Other).error_type(),
        "IoError"
    );
}
