//! Error classification: what a failed call records as `errorType` and
//! `errorMessage`, and whether an error is a failure at all.
//!
//! `#[telemetry_tool]` classifies the `Err` of a tool's `Result` by the first
//! rule that applies, and by no guess:
//!
//! 1. the error type implements [`TelemetryError`] (derived, by hand, or
//!    built in: [`std::io::Error`] by kind, `String` and `str` as `Error`
//!    with their text): its answers;
//! 2. it implements [`std::error::Error`]: `errorType` is the type's short
//!    name (`ParseIntError`), the message its `Display` followed by its
//!    `source()` chain;
//! 3. it is a type-erased error that dereferences to `dyn Error`
//!    (`anyhow::Error`, `Box<dyn Error>`): the chain is walked; an
//!    [`std::io::Error`] in it gives the `errorType`, otherwise `Error`;
//! 4. anything else does not compile: the error names the type and says to
//!    derive [`TelemetryError`] or implement [`std::error::Error`].
//!
//! Every message is scrubbed and truncated to 1 KB on a UTF-8 boundary before
//! it is stored or sent.

use std::convert::Infallible;
use std::error::Error as StdError;
use std::fmt::Write as _;
use std::io;

use crate::sanitize::{self, limits};

/// How an error is reported: its `errorType`, its message, and whether it is
/// a failure.
///
/// Derive it on error enums and structs; `error_type` defaults to the
/// variant's (or struct's) name:
///
/// ```
/// use azsdk_telemetry::TelemetryError;
///
/// #[derive(Debug, TelemetryError)]
/// enum GenerateError {
///     #[telemetry(error_type = "ValidationError")]
///     Missing(String),
///     #[telemetry(skip_message)] // the message may carry what no one should see
///     Auth(String),
///     #[telemetry(expected)]     // an outcome the tool reports, not a failure
///     NothingToDo,
///     Network,
/// }
///
/// impl std::fmt::Display for GenerateError {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
///         match self {
///             GenerateError::Missing(what) => write!(f, "missing parameter {what}"),
///             GenerateError::Auth(detail) => write!(f, "auth failed: {detail}"),
///             GenerateError::NothingToDo => f.write_str("nothing to do"),
///             GenerateError::Network => f.write_str("network failure"),
///         }
///     }
/// }
///
/// let missing = GenerateError::Missing("language".into());
/// assert_eq!(missing.error_type(), "ValidationError");
/// assert_eq!(missing.error_message().as_deref(), Some("missing parameter language"));
/// assert_eq!(GenerateError::Auth("t0ken".into()).error_message(), None);
/// assert!(!GenerateError::NothingToDo.is_failure());
/// assert_eq!(GenerateError::Network.error_type(), "Network");
/// ```
///
/// `error_type` is `&'static str` on purpose: it is a dashboard's group-by
/// key and must stay low-cardinality.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be classified as a tool's error: it implements neither `TelemetryError` nor `std::error::Error`",
    label = "`{Self}` is not an error type telemetry can classify",
    note = "derive it: `#[derive(TelemetryError)]` records each variant's name as `errorType` (or `#[telemetry(error_type = \"...\")]`) and its `Display` text as the message",
    note = "or implement `std::error::Error` for `{Self}`: `errorType` is then the type's name, the message its `Display` text and `source()` chain",
    note = "or return an error type that has one of them (`std::io::Error`, `anyhow::Error`, `Box<dyn Error>`, `String`)"
)]
pub trait TelemetryError {
    /// `errorType`: a low-cardinality class such as `ValidationError`.
    fn error_type(&self) -> &'static str;

    /// `errorMessage`, before scrubbing; `None` leaves it out.
    fn error_message(&self) -> Option<String>;

    /// Whether the call failed (`success = false`). An expected outcome
    /// returns `false`: the call is recorded as a success that still carries
    /// its `errorType` and message.
    fn is_failure(&self) -> bool {
        true
    }
}

impl<T: TelemetryError + ?Sized> TelemetryError for &T {
    fn error_type(&self) -> &'static str {
        (**self).error_type()
    }
    fn error_message(&self) -> Option<String> {
        (**self).error_message()
    }
    fn is_failure(&self) -> bool {
        (**self).is_failure()
    }
}

impl<T: TelemetryError + ?Sized> TelemetryError for Box<T> {
    fn error_type(&self) -> &'static str {
        (**self).error_type()
    }
    fn error_message(&self) -> Option<String> {
        (**self).error_message()
    }
    fn is_failure(&self) -> bool {
        (**self).is_failure()
    }
}

/// A plain-text error (`Result<T, String>`): `errorType` `Error`, the text
/// as the message.
///
/// ```
/// use azsdk_telemetry::TelemetryError;
/// let error = String::from("no tsp-location.yaml");
/// assert_eq!(error.error_type(), "Error");
/// assert_eq!(error.error_message().as_deref(), Some("no tsp-location.yaml"));
/// assert_eq!("text".error_type(), "Error");
/// ```
impl TelemetryError for str {
    fn error_type(&self) -> &'static str {
        "Error"
    }
    fn error_message(&self) -> Option<String> {
        Some(self.to_owned())
    }
}

/// As [`str`]: `errorType` `Error`, the text as the message.
impl TelemetryError for String {
    fn error_type(&self) -> &'static str {
        self.as_str().error_type()
    }
    fn error_message(&self) -> Option<String> {
        self.as_str().error_message()
    }
}

/// The error of a call that cannot fail (`Result<T, Infallible>`, or a return
/// value that is not a `Result`): there is none to classify.
impl TelemetryError for Infallible {
    fn error_type(&self) -> &'static str {
        match *self {}
    }
    fn error_message(&self) -> Option<String> {
        match *self {}
    }
}

/// `errorType` by kind: `IoNotFound`, `IoPermissionDenied`, `IoTimedOut`, ...
///
/// ```
/// use azsdk_telemetry::TelemetryError;
/// let error = std::io::Error::new(std::io::ErrorKind::NotFound, "no tsp-location.yaml");
/// assert_eq!(error.error_type(), "IoNotFound");
/// assert_eq!(error.error_message().as_deref(), Some("no tsp-location.yaml"));
/// ```
impl TelemetryError for io::Error {
    fn error_type(&self) -> &'static str {
        io_error_type(self.kind())
    }
    fn error_message(&self) -> Option<String> {
        Some(chain_message(self))
    }
}

/// The `errorType` of an I/O error kind.
pub(crate) fn io_error_type(kind: io::ErrorKind) -> &'static str {
    use io::ErrorKind::*;
    match kind {
        NotFound => "IoNotFound",
        PermissionDenied => "IoPermissionDenied",
        ConnectionRefused => "IoConnectionRefused",
        ConnectionReset => "IoConnectionReset",
        ConnectionAborted => "IoConnectionAborted",
        NotConnected => "IoNotConnected",
        AddrInUse => "IoAddrInUse",
        AddrNotAvailable => "IoAddrNotAvailable",
        BrokenPipe => "IoBrokenPipe",
        AlreadyExists => "IoAlreadyExists",
        WouldBlock => "IoWouldBlock",
        InvalidInput => "IoInvalidInput",
        InvalidData => "IoInvalidData",
        TimedOut => "IoTimedOut",
        WriteZero => "IoWriteZero",
        Interrupted => "IoInterrupted",
        Unsupported => "IoUnsupported",
        UnexpectedEof => "IoUnexpectedEof",
        OutOfMemory => "IoOutOfMemory",
        _ => "IoError",
    }
}

/// What a call records about an error: the result of classifying it.
///
/// ```
/// use azsdk_telemetry::Classification;
/// let error = std::io::Error::from(std::io::ErrorKind::TimedOut);
/// let class = Classification::of(&error);
/// assert_eq!(class.error_type, "IoTimedOut");
/// assert!(class.failure);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classification {
    /// `errorType`.
    pub error_type: &'static str,
    /// `errorMessage`, not yet scrubbed, already bounded in size.
    pub message: Option<String>,
    /// Whether the call failed.
    pub failure: bool,
}

/// Messages are cut well past the 1 KB that is kept, so a secret that
/// straddles the final cut is still whole when the scrubber sees it.
const EARLY_MESSAGE_MAX_BYTES: usize = limits::ERROR_MESSAGE_MAX_BYTES * 4;

impl Classification {
    /// Classifies an error that implements [`TelemetryError`].
    pub fn of<E: TelemetryError + ?Sized>(error: &E) -> Self {
        Classification {
            error_type: error.error_type(),
            message: error.error_message().map(bound_message),
            failure: error.is_failure(),
        }
    }

    /// A failure of the given type with an optional message.
    pub fn failure(error_type: &'static str, message: Option<String>) -> Self {
        Classification {
            error_type,
            message: message.map(bound_message),
            failure: true,
        }
    }

    /// Classifies a `std::error::Error` without [`TelemetryError`]: its type's
    /// short name and its message with the `source()` chain.
    pub fn of_std<E: StdError + ?Sized>(error: &E) -> Self {
        Self::failure(short_type_name::<E>(), Some(chain_message(error)))
    }

    /// Classifies a type-erased error chain (`anyhow::Error`, `Box<dyn Error>`):
    /// the first [`std::io::Error`] in the chain gives the type, otherwise `Error`.
    ///
    /// ```
    /// use azsdk_telemetry::Classification;
    /// let io = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
    /// let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(io);
    /// assert_eq!(Classification::of_chain(boxed.as_ref()).error_type, "IoPermissionDenied");
    /// ```
    pub fn of_chain(error: &(dyn StdError + 'static)) -> Self {
        let error_type = chain(error)
            .find_map(|link| link.downcast_ref::<io::Error>())
            .map_or("Error", |io| io_error_type(io.kind()));
        Self::failure(error_type, Some(chain_message(error)))
    }
}

fn bound_message(mut message: String) -> String {
    let keep = sanitize::truncate_bytes(&message, EARLY_MESSAGE_MAX_BYTES).len();
    message.truncate(keep);
    message
}

/// An error and its `source()`s, outermost first.
fn chain<'a>(
    error: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(error), |link: &&'a (dyn StdError + 'static)| {
        (*link).source()
    })
}

/// `Display` of the error followed by each source that adds something,
/// joined with `: ` as `anyhow` prints `{:#}`: `reading config: No such file`.
/// A source whose text the message already contains is not repeated.
pub(crate) fn chain_message<E: StdError + ?Sized>(error: &E) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(link) = source {
        if message.len() > EARLY_MESSAGE_MAX_BYTES {
            break;
        }
        let text = link.to_string();
        if !text.is_empty() && !message.contains(&text) {
            let _ = write!(message, ": {text}");
        }
        source = link.source();
    }
    bound_message(message)
}

/// The last path segment of a type's name, without generics:
/// `my_crate::errors::GenerateError<T>` gives `GenerateError`; `String` and
/// `str` give `Error`.
pub(crate) fn short_type_name<T: ?Sized>() -> &'static str {
    let full = std::any::type_name::<T>();
    let base = full.split('<').next().unwrap_or(full);
    let short = base.rsplit("::").next().unwrap_or(base);
    let short = short.trim_start_matches(['&', '*']).trim();
    match short {
        "" | "String" | "str" => "Error",
        name if name.starts_with("dyn ") => "Error",
        name => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names() {
        struct Outer;
        assert_eq!(short_type_name::<io::Error>(), "Error");
        assert_eq!(short_type_name::<Vec<u8>>(), "Vec");
        assert_eq!(short_type_name::<&str>(), "Error");
        assert_eq!(short_type_name::<Outer>(), "Outer");
        assert_eq!(short_type_name::<()>(), "()");
    }
}
