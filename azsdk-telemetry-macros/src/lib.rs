//! Procedural macros of [azsdk-telemetry](https://docs.rs/azsdk-telemetry):
//! `#[telemetry_tool]`, `#[derive(TelemetryArgs)]` and
//! `#[derive(TelemetryError)]`. Use them through `azsdk_telemetry`, which
//! re-exports them beside the traits of the same names.
//!
//! The crate is split like `serde_derive`: `attr` parses arguments keeping
//! spans, `check` validates them, `expand` generates code. A mistake
//! gives one error at the offending token, plus the item unchanged (or stub
//! impls) so nothing else fails because of it.

extern crate proc_macro;

mod attr;
mod case;
mod check;
mod expand;

use proc_macro::TokenStream;

/// Records each call of a function as one `ToolExecuted` event.
///
/// ```
/// use azsdk_telemetry::{telemetry_tool, TelemetryArgs, TelemetryError};
///
/// #[derive(TelemetryArgs)]
/// struct GenerateArgs {
///     #[telemetry(allow, dimension = "language")]
///     language: String,
///     api_key: String, // not annotated: never recorded
/// }
///
/// #[derive(Debug, TelemetryError)]
/// enum GenerateError {
///     #[telemetry(error_type = "ValidationError")]
///     Missing,
/// }
/// # impl std::fmt::Display for GenerateError {
/// #     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("missing") }
/// # }
///
/// /// Generates an SDK.
/// #[telemetry_tool(category = "generating", name = "azsdk_generate_sdk")]
/// fn generate_sdk(args: GenerateArgs, #[telemetry(allow)] dry_run: bool) -> Result<String, GenerateError> {
///     if args.language.is_empty() {
///         return Err(GenerateError::Missing);
///     }
///     Ok(format!("generated {}", args.language))
/// }
///
/// assert_eq!(generate_sdk(GenerateArgs { language: "Go".into(), api_key: "k".into() }, false).unwrap(), "generated Go");
/// ```
///
/// Arguments: `category = "..."` (required), `name = "..."` (default: the
/// function's name), `crate = path` (default: `::azsdk_telemetry`).
///
/// Works on sync and `async` functions, methods (`&self`, `&mut self`,
/// `self`), generic functions, functions returning `impl Trait`, trait
/// impls, under `#[async_trait]`, and above or below rmcp's `#[tool]`.
///
/// Each parameter is recorded by its type's `TelemetryArgs` implementation
/// (no marking needed), by inline annotations (`#[telemetry(allow)]`,
/// `allow(display)`, `presence`, `hash`, `skip`, `dimension = "..."`,
/// `rename = "..."`), or not at all. The outcome: `Err` classified through
/// `TelemetryError`, else as a `std::error::Error` or a type-erased error
/// chain (any other type does not compile), a panic (`Panic`, the panic keeps unwinding), a
/// future dropped before completion (`Cancelled`), an `Ok` value whose
/// `ToolResponse` reports a failure (an MCP `CallToolResult` with
/// `is_error`), and `toolResponse` when the returned type implements
/// `ToolResponse`.
///
/// When telemetry is off, the wrapper costs one check: no clock read, no
/// argument read, no allocation.
#[proc_macro_attribute]
pub fn telemetry_tool(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::tool::tool(args.into(), item.into()).into()
}

/// Derives `TelemetryArgs` for a struct (its annotated fields are recorded)
/// or `ArgValue` for an enum (the variant's name is recorded).
///
/// ```
/// use azsdk_telemetry::{ArgsRecorder, TelemetryArgs};
///
/// #[derive(TelemetryArgs)]
/// #[telemetry(rename_all = "snake_case")]
/// struct Args {
///     #[telemetry(allow)] api_version: Option<String>,
///     #[telemetry(hash)] tenant_id: String,
///     #[telemetry(allow, rename = "mode")] test_mode: Mode,
///     secret: String,
/// }
///
/// #[derive(TelemetryArgs)]
/// enum Mode { Playback, Record }
///
/// let mut recorder = ArgsRecorder::new();
/// Args { api_version: None, tenant_id: "abc".into(), test_mode: Mode::Playback, secret: "s".into() }
///     .record_args(&mut recorder);
/// assert_eq!(
///     recorder.json(),
///     r#"{"tenant_id":"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad","mode":"playback"}"#
/// );
/// ```
///
/// Field keys: `allow`, `allow(display)`, `presence`, `hash`, `hash(display)`, `skip`, `flatten`,
/// `dimension = "..."` (with `allow`), `rename = "..."`. Container keys:
/// `rename_all = "..."` (default `camelCase`), `crate = path`.
#[proc_macro_derive(TelemetryArgs, attributes(telemetry))]
pub fn derive_telemetry_args(input: TokenStream) -> TokenStream {
    match syn::parse(input) {
        Ok(input) => expand::args::derive(input).into(),
        Err(error) => error.to_compile_error().into(),
    }
}

/// Derives `TelemetryError` for an error enum or struct.
///
/// ```
/// use azsdk_telemetry::TelemetryError;
///
/// #[derive(Debug, TelemetryError)]
/// enum ToolError {
///     #[telemetry(error_type = "ValidationError")]
///     Invalid,
///     #[telemetry(transparent)]
///     Io(std::io::Error),
/// }
/// # impl std::fmt::Display for ToolError {
/// #     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("tool error") }
/// # }
///
/// assert_eq!(ToolError::Invalid.error_type(), "ValidationError");
/// assert_eq!(ToolError::Io(std::io::ErrorKind::NotFound.into()).error_type(), "IoNotFound");
/// ```
///
/// Keys on a variant (or on the type, as the default of every variant):
/// `error_type = "..."` (default: the variant's or struct's name),
/// `skip_message`, `expected` (the call is a success), `transparent` (take
/// everything from the one inner error). On the type: `crate = path`.
#[proc_macro_derive(TelemetryError, attributes(telemetry))]
pub fn derive_telemetry_error(input: TokenStream) -> TokenStream {
    match syn::parse(input) {
        Ok(input) => expand::error::derive(input).into(),
        Err(error) => error.to_compile_error().into(),
    }
}
