//! `Classification` of `std::error::Error`s through the public API: the short type name,
//! the `source()` chain, and the `std::io::Error` found in a type-erased chain.

use std::error::Error as StdError;
use std::io;

use azsdk_telemetry::Classification;

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
