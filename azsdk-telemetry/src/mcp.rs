//! The MCP front door (feature `rmcp`): one `ToolExecuted` for every `tools/call` an
//! `rmcp` server answers, including the calls rejected before the tool runs.
//!
//! rmcp's `Parameters<T>` extractor answers a call whose arguments do not deserialize
//! (a missing required field, a wrong type, an unknown enum value) with an `isError`
//! result, `failed to deserialize parameters: …`, before the tool's body, and so before
//! its `#[telemetry_tool]`, runs. [`call_tool`] wraps a server's `call_tool`: a call
//! that recorded itself (its tool is annotated) is left alone, so it is counted once;
//! any other answered call is recorded here, through the same recorder a tool uses:
//!
//! | the answer | `errorType` |
//! |---|---|
//! | arguments rejected: `missing field` | [`MISSING_FIELD`] |
//! | `invalid type` | [`INVALID_TYPE`] |
//! | `unknown variant` (a value not in the enum) | [`UNKNOWN_VARIANT`] |
//! | `invalid value` | [`INVALID_VALUE`] |
//! | `invalid length` | [`INVALID_LENGTH`] |
//! | `unknown field` (with `deny_unknown_fields`) | [`UNKNOWN_FIELD`] |
//! | `duplicate field` | [`DUPLICATE_FIELD`] |
//! | any other rejection (a custom `Deserialize` error), or an invalid-params error | [`INVALID_ARGUMENTS`] |
//! | a tool the server does not serve | [`TOOL_NOT_FOUND`] |
//! | any other error answer | [`MCP_ERROR`] |
//! | a result from a tool without `#[telemetry_tool]` | none, or [`MCP_TOOL_ERROR`](crate::MCP_TOOL_ERROR) for `isError` |
//!
//! A rejected call records no argument value (`toolArgs` is `{}`) and no text of the
//! client's: `errorMessage` is a sentence of this module's that names the offending
//! argument only when it is an annotated one (a key the tool's `TelemetryArgs` records,
//! from the [manifest](crate::manifest())), with what the tool expected, for instance
//! ``argument `language` is not one of its allowed values: expected one of `.NET`, `Java` ``.
//! Which argument a wrong type or an unknown value belongs to is found by the value the
//! deserializer quotes: when several annotated arguments hold that value, all are named.
//! The category comes from the manifest, so the MCP tool's name must be its
//! `#[telemetry_tool]` name; a name no tool is registered under is recorded as the client
//! sent it, scrubbed, with an empty category.
//!
//! A call counts as recorded when a `#[telemetry_tool]` finished while the wrapped future
//! was polled: a tool whose annotated function runs on a task it spawns is recorded twice.

use std::borrow::Cow;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use rmcp::model::{CallToolRequestParams, CallToolResponse, CallToolResult, ErrorCode, JsonObject};
use rmcp::ErrorData;
use serde::de::Unexpected;
use serde_json::Value;

use crate::classify::Classification;
use crate::response::ToolResponse;
use crate::tool_call::{enabled, Outcome, ToolCall};

/// `errorType` of a call without a required argument.
pub const MISSING_FIELD: &str = "MissingField";
/// `errorType` of a call with an argument of the wrong JSON type.
pub const INVALID_TYPE: &str = "InvalidType";
/// `errorType` of a call with a value that is not one of an enum's.
pub const UNKNOWN_VARIANT: &str = "UnknownVariant";
/// `errorType` of a call with a value of the right type that the type refuses.
pub const INVALID_VALUE: &str = "InvalidValue";
/// `errorType` of a call with a list or tuple of the wrong length.
pub const INVALID_LENGTH: &str = "InvalidLength";
/// `errorType` of a call with an argument the tool does not take (`deny_unknown_fields`).
pub const UNKNOWN_FIELD: &str = "UnknownField";
/// `errorType` of a call that gave an argument twice.
pub const DUPLICATE_FIELD: &str = "DuplicateField";
/// `errorType` of any other rejection of the arguments.
pub const INVALID_ARGUMENTS: &str = "InvalidArguments";
/// `errorType` of a call of a tool the server does not serve.
pub const TOOL_NOT_FOUND: &str = "ToolNotFound";
/// `errorType` of a call answered with any other JSON-RPC error.
pub const MCP_ERROR: &str = "McpError";

/// What rmcp's `Parameters<T>` puts before the deserializer's message.
const REJECTED_PREFIX: &str = "failed to deserialize parameters:";
/// What rmcp's tool router answers for a name it does not serve.
const NOT_FOUND_MESSAGE: &str = "tool not found";
/// The longest `toolName` recorded for a name no tool is registered under.
const MAX_UNKNOWN_NAME: usize = 128;

tokio::task_local! {
    /// Set while a `tools/call` is answered: whether a tool recorded the call itself.
    static RECORDED: Arc<AtomicBool>;
}

/// A tool call finished its record: tells the front door answering it, if any.
pub(crate) fn note_recorded() {
    let _ = RECORDED.try_with(|recorded| recorded.store(true, Ordering::Relaxed));
}

/// Answers `request` with `call` (the server's own dispatch, usually its tool router) and
/// records the call when its tool did not: arguments rejected before the tool ran, a tool
/// that is not served, an error answer (see the [module](self) for the `errorType`s).
/// When telemetry is off this is one check, then `call`.
///
/// ```
/// use azsdk_telemetry::mcp;
/// use rmcp::handler::server::router::tool::ToolRouter;
/// use rmcp::handler::server::tool::ToolCallContext;
/// use rmcp::model::{CallToolRequestParams, CallToolResponse, ServerCapabilities, ServerConfig};
/// use rmcp::service::RequestContext;
/// use rmcp::{ErrorData, RoleServer, ServerHandler};
///
/// struct Server {
///     tool_router: ToolRouter<Server>,
/// }
///
/// impl ServerHandler for Server {
///     fn get_info(&self) -> ServerConfig {
///         ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
///     }
///
///     async fn call_tool(
///         &self,
///         request: CallToolRequestParams,
///         context: RequestContext<RoleServer>,
///     ) -> Result<CallToolResponse, ErrorData> {
///         mcp::call_tool(request, |request| {
///             self.tool_router.call(ToolCallContext::new(self, request, context))
///         })
///         .await
///     }
/// }
/// ```
pub async fn call_tool<F, Fut>(
    request: CallToolRequestParams,
    call: F,
) -> Result<CallToolResponse, ErrorData>
where
    F: FnOnce(CallToolRequestParams) -> Fut,
    Fut: Future<Output = Result<CallToolResponse, ErrorData>>,
{
    if !enabled() {
        return call(request).await;
    }
    let started = Instant::now();
    let name = request.name.clone();
    let arguments = request.arguments.clone();
    let recorded = Arc::new(AtomicBool::new(false));
    let answer = RECORDED.scope(Arc::clone(&recorded), call(request)).await;
    if !recorded.load(Ordering::Relaxed) {
        record(&name, arguments.as_ref(), &answer, started);
    }
    answer
}

/// Records a call its tool did not record.
fn record(
    name: &str,
    arguments: Option<&JsonObject>,
    answer: &Result<CallToolResponse, ErrorData>,
    started: Instant,
) {
    let tool = crate::manifest::registered(name);
    let keys = tool.as_ref().map_or(&[][..], |tool| &tool.keys[..]);
    let failure = |error_type| Classification::failure(error_type, None);
    let error = match answer {
        Ok(CallToolResponse::Complete(result)) => match rejection(result) {
            Some(message) => Some(classify_rejection(message, keys, arguments)),
            None => result.failure(),
        },
        // The call goes on (input requested, a task created): nothing failed yet.
        Ok(_) => None,
        Err(error) if error.code == ErrorCode::INVALID_PARAMS => {
            match error.message.strip_prefix(REJECTED_PREFIX) {
                Some(message) => Some(classify_rejection(message, keys, arguments)),
                None if tool.is_none() && error.message == NOT_FOUND_MESSAGE => {
                    Some(failure(TOOL_NOT_FOUND))
                }
                None => Some(failure(INVALID_ARGUMENTS)),
            }
        }
        Err(_) => Some(failure(MCP_ERROR)),
    };
    let (name, category) = match &tool {
        Some(tool) => (Cow::Borrowed(tool.name), tool.category),
        None => (Cow::Owned(unknown_name(name)), ""),
    };
    ToolCall::answered(name, category, started).finish(Outcome {
        error,
        response: None,
    });
}

/// The deserializer's message of a result rmcp's `Parameters<T>` answered with.
fn rejection(result: &CallToolResult) -> Option<&str> {
    if result.is_error != Some(true) {
        return None;
    }
    let text = result.content.first()?.as_text()?;
    text.text.strip_prefix(REJECTED_PREFIX)
}

/// A name the client sent that no tool is registered under: scrubbed, bounded.
fn unknown_name(name: &str) -> String {
    let scrubbed = crate::sanitize::scrub(name);
    crate::sanitize::truncate_chars(&scrubbed, MAX_UNKNOWN_NAME).to_owned()
}

/// What the deserializer's message says is wrong, and how to find the argument.
#[derive(Debug, PartialEq)]
struct Rejection<'a> {
    error_type: &'static str,
    culprit: Culprit<'a>,
    /// What the tool expected: the type's own words, never the client's value.
    expected: Option<&'a str>,
}

/// How the offending argument shows in the message.
#[derive(Debug, PartialEq)]
enum Culprit<'a> {
    /// By its name (`missing field `language``): a name of the tool's own.
    Named(&'a str),
    /// By its value as serde renders it (`string "Rust"`, `integer `5``).
    Rendered(&'a str),
    /// By its value, a string that is not one of an enum's (or an item of a list).
    Variant(&'a str),
    /// By its length, a list of this many items.
    Length(usize),
    /// Not at all, or only by what the client made up (an unknown field's name).
    Unknown,
}

/// Reads serde's messages (`serde::de::Error`'s provided methods); any other text is
/// [`INVALID_ARGUMENTS`]. Never panics: only `strip_prefix`, `find` and slicing at the
/// boundaries they return.
fn parse(message: &str) -> Rejection<'_> {
    let message = message.trim();
    let rejection = |error_type, culprit, expected| Rejection {
        error_type,
        culprit,
        expected,
    };
    // `head, expected tail`: split at the last `, expected ` (a value may contain one).
    let expected_split = |separator: &'static str, text: &str| -> Option<(usize, usize)> {
        text.rfind(separator).map(|at| (at, at + separator.len()))
    };
    if let Some(rest) = message.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or_default();
        return rejection(MISSING_FIELD, Culprit::Named(name), None);
    }
    if let Some(rest) = message.strip_prefix("duplicate field `") {
        let name = rest.split('`').next().unwrap_or_default();
        return rejection(DUPLICATE_FIELD, Culprit::Named(name), None);
    }
    if message.starts_with("unknown field `") {
        // The name is the client's; the expected names include unannotated ones.
        return rejection(UNKNOWN_FIELD, Culprit::Unknown, None);
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        return match expected_split("`, expected ", rest) {
            Some((end, tail)) => rejection(
                UNKNOWN_VARIANT,
                Culprit::Variant(&rest[..end]),
                Some(&rest[tail..]),
            ),
            None => match rest.strip_suffix("`, there are no variants") {
                Some(value) => rejection(UNKNOWN_VARIANT, Culprit::Variant(value), None),
                None => rejection(UNKNOWN_VARIANT, Culprit::Unknown, None),
            },
        };
    }
    for (prefix, error_type) in [
        ("invalid type: ", INVALID_TYPE),
        ("invalid value: ", INVALID_VALUE),
    ] {
        if let Some(rest) = message.strip_prefix(prefix) {
            return match expected_split(", expected ", rest) {
                Some((end, tail)) => rejection(
                    error_type,
                    Culprit::Rendered(&rest[..end]),
                    Some(&rest[tail..]),
                ),
                None => rejection(error_type, Culprit::Unknown, None),
            };
        }
    }
    if let Some(rest) = message.strip_prefix("invalid length ") {
        return match expected_split(", expected ", rest) {
            Some((end, tail)) => {
                let culprit = rest[..end]
                    .parse()
                    .map_or(Culprit::Unknown, Culprit::Length);
                rejection(INVALID_LENGTH, culprit, Some(&rest[tail..]))
            }
            None => rejection(INVALID_LENGTH, Culprit::Unknown, None),
        };
    }
    rejection(INVALID_ARGUMENTS, Culprit::Unknown, None)
}

/// Whether `text` is how serde_json's errors show `value` (`string "Rust"`,
/// `integer `5``, `null`; a float is compared as a number).
fn is_rendering_of(text: &str, value: &Value) -> bool {
    let quoted = |prefix: &str| {
        text.strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix('`'))
    };
    match value {
        Value::Null => text == "null" || text == "unit value",
        Value::Bool(flag) => text == Unexpected::Bool(*flag).to_string(),
        Value::Number(number) => match (quoted("integer `"), quoted("floating point `")) {
            (Some(digits), _) => !number.is_f64() && digits == number.to_string(),
            (None, Some(float)) => float.parse::<f64>().ok() == number.as_f64(),
            (None, None) => false,
        },
        Value::String(string) => text == Unexpected::Str(string).to_string(),
        Value::Array(_) => text == "sequence",
        Value::Object(_) => text == "map",
    }
}

impl Culprit<'_> {
    /// Whether `value`, an argument or an item of a list argument, is the one the
    /// message describes.
    fn matches(&self, value: &Value) -> bool {
        self.is(value)
            || value
                .as_array()
                .is_some_and(|items| items.iter().any(|item| self.is(item)))
    }

    fn is(&self, value: &Value) -> bool {
        match self {
            Culprit::Rendered(text) => is_rendering_of(text, value),
            Culprit::Variant(text) => value.as_str() == Some(*text),
            Culprit::Length(len) => value.as_array().is_some_and(|items| items.len() == *len),
            Culprit::Named(_) | Culprit::Unknown => false,
        }
    }
}

/// The annotated arguments the message points at, in the tool's recording order.
fn culprits<'k>(
    rejection: &Rejection<'_>,
    keys: &'k [String],
    arguments: Option<&JsonObject>,
) -> Vec<&'k str> {
    keys.iter()
        .map(String::as_str)
        .filter(|key| match &rejection.culprit {
            Culprit::Named(name) => key == name,
            culprit => arguments
                .and_then(|arguments| arguments.get(*key))
                .is_some_and(|value| culprit.matches(value)),
        })
        .collect()
}

/// The classification of arguments rejected with `message`: the kind, and a sentence
/// naming only annotated arguments (and, for them, what the tool expected).
fn classify_rejection(
    message: &str,
    keys: &[String],
    arguments: Option<&JsonObject>,
) -> Classification {
    let rejection = parse(message);
    let names = culprits(&rejection, keys, arguments);
    let subject = if names.is_empty() {
        None
    } else {
        Some(format!("argument `{}`", names.join("` or `")))
    };
    let (named, unnamed) = match rejection.error_type {
        MISSING_FIELD => ("is missing", "a required argument is missing"),
        DUPLICATE_FIELD => ("is given twice", "an argument is given twice"),
        UNKNOWN_FIELD => ("", "an argument the tool does not take is given"),
        UNKNOWN_VARIANT => (
            "is not one of its allowed values",
            "an argument is not one of its allowed values",
        ),
        INVALID_TYPE => ("has the wrong type", "an argument has the wrong type"),
        INVALID_VALUE => ("has an invalid value", "an argument has an invalid value"),
        INVALID_LENGTH => (
            "has the wrong number of items",
            "an argument has the wrong number of items",
        ),
        _ => ("", "the arguments were rejected"),
    };
    let sentence = match (subject, rejection.expected) {
        (Some(subject), Some(expected)) => format!("{subject} {named}: expected {expected}"),
        (Some(subject), None) => format!("{subject} {named}"),
        (None, _) => unnamed.to_owned(),
    };
    Classification::failure(rejection.error_type, Some(sentence))
}
