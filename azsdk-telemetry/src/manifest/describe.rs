//! How the macros describe what a tool records: the describing traits, the
//! registry entry each `#[telemetry_tool]` submits, and the probes the
//! generated code resolves with the concrete types.

use std::collections::BTreeSet;
use std::marker::PhantomData;

use super::{FieldManifest, FieldMode, ToolManifest};

/// Lists the keys a [`TelemetryArgs`](crate::TelemetryArgs) type records, for
/// the [manifest](crate::manifest()). `#[derive(TelemetryArgs)]` implements
/// it; a hand-written `TelemetryArgs` implements it beside, or the manifest
/// names the type as undescribed.
///
/// ```
/// use azsdk_telemetry::manifest::{ArgsDescriber, DescribeArgs, FieldMode};
/// use azsdk_telemetry::{ArgsRecorder, TelemetryArgs};
///
/// struct Languages(Vec<String>);
///
/// impl TelemetryArgs for Languages {
///     fn record_args(&self, recorder: &mut ArgsRecorder) {
///         recorder.allow("languages", &self.0.join(","));
///     }
/// }
///
/// impl DescribeArgs for Languages {
///     fn describe_args(out: &mut ArgsDescriber) {
///         out.field("languages", FieldMode::Allow, None);
///     }
/// }
/// ```
pub trait DescribeArgs {
    /// Adds the recorded keys to `out`, in the order they are recorded.
    fn describe_args(out: &mut ArgsDescriber);
}

macro_rules! forward_describe_args {
    ($($ty:ty),*) => {$(
        impl<T: DescribeArgs + ?Sized> DescribeArgs for $ty {
            fn describe_args(out: &mut ArgsDescriber) {
                T::describe_args(out)
            }
        }
    )*};
}
forward_describe_args!(&T, &mut T, Box<T>, std::rc::Rc<T>, std::sync::Arc<T>);

impl<T: DescribeArgs> DescribeArgs for Option<T> {
    fn describe_args(out: &mut ArgsDescriber) {
        T::describe_args(out)
    }
}

#[cfg(feature = "rmcp")]
impl<T: DescribeArgs> DescribeArgs for rmcp::handler::server::wrapper::Parameters<T> {
    fn describe_args(out: &mut ArgsDescriber) {
        T::describe_args(out)
    }
}

/// Collects the keys of `toolArgs` a tool records; see [`DescribeArgs`].
#[derive(Debug, Default)]
pub struct ArgsDescriber {
    prefix: String,
    fields: Vec<FieldManifest>,
    undescribed: Vec<String>,
}

impl ArgsDescriber {
    /// `key` is recorded in `mode`; `dimension` is the top-level property an
    /// `allow`ed value is also promoted to.
    ///
    /// ```
    /// # use azsdk_telemetry::manifest::{ArgsDescriber, FieldMode};
    /// # fn describe(out: &mut ArgsDescriber) {
    /// out.field("language", FieldMode::Allow, Some("language"));
    /// out.field("tenantId", FieldMode::Hash, None);
    /// # }
    /// ```
    pub fn field(&mut self, key: &str, mode: FieldMode, dimension: Option<&str>) {
        self.push(key, mode, dimension, false);
    }

    /// `key` holds a nested object recorded by `T` (`allow` on a field whose
    /// type records arguments): its keys are listed as `key.inner`.
    pub fn nested<T: DescribeArgs + ?Sized>(&mut self, key: &str) {
        let outer = self.prefix.len();
        self.prefix.push_str(key);
        self.prefix.push('.');
        T::describe_args(self);
        self.prefix.truncate(outer);
    }

    /// The keys `T` records, at this level (`flatten`).
    pub fn flatten<T: DescribeArgs + ?Sized>(&mut self) {
        T::describe_args(self)
    }

    #[doc(hidden)]
    pub fn push(&mut self, key: &str, mode: FieldMode, dimension: Option<&str>, display: bool) {
        let key = format!("{}{key}", self.prefix);
        if self.fields.iter().any(|field| field.key == key) {
            return;
        }
        self.fields.push(FieldManifest {
            key,
            mode,
            dimension: dimension.map(str::to_owned),
            display,
        });
    }

    #[doc(hidden)]
    pub fn undescribed(&mut self, type_name: &str) {
        if !self.undescribed.iter().any(|name| name == type_name) {
            self.undescribed.push(type_name.to_owned());
        }
    }
}

/// Lists the `errorType` values an error type can produce, for the
/// [manifest](crate::manifest()). `#[derive(TelemetryError)]` implements it.
///
/// ```
/// use azsdk_telemetry::manifest::{DescribeErrors, ErrorTypes};
///
/// struct Offline;
///
/// impl DescribeErrors for Offline {
///     fn describe_errors(out: &mut ErrorTypes) {
///         out.add("NetworkError");
///     }
/// }
///
/// let mut types = ErrorTypes::default();
/// Offline::describe_errors(&mut types);
/// assert_eq!(types.known().collect::<Vec<_>>(), ["NetworkError"]);
/// ```
pub trait DescribeErrors {
    /// Adds the `errorType` values to `out`.
    fn describe_errors(out: &mut ErrorTypes);
}

impl<T: DescribeErrors + ?Sized> DescribeErrors for &T {
    fn describe_errors(out: &mut ErrorTypes) {
        T::describe_errors(out)
    }
}

impl<T: DescribeErrors + ?Sized> DescribeErrors for Box<T> {
    fn describe_errors(out: &mut ErrorTypes) {
        T::describe_errors(out)
    }
}

/// `Result<T, String>`: `Error`.
impl DescribeErrors for String {
    fn describe_errors(out: &mut ErrorTypes) {
        out.add("Error");
    }
}

/// `Result<T, &str>`: `Error`.
impl DescribeErrors for str {
    fn describe_errors(out: &mut ErrorTypes) {
        out.add("Error");
    }
}

/// No error, no type.
impl DescribeErrors for std::convert::Infallible {
    fn describe_errors(_: &mut ErrorTypes) {}
}

/// `is_error: Some(true)`: [`MCP_TOOL_ERROR`](crate::MCP_TOOL_ERROR).
#[cfg(feature = "rmcp")]
impl DescribeErrors for rmcp::model::CallToolResult {
    fn describe_errors(out: &mut ErrorTypes) {
        out.add(crate::MCP_TOOL_ERROR);
    }
}

/// The `errorType` values of a tool or an error type; see [`DescribeErrors`].
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ErrorTypes {
    known: BTreeSet<String>,
    other: bool,
}

impl ErrorTypes {
    /// `error_type` can be produced.
    pub fn add(&mut self, error_type: &str) {
        self.known.insert(error_type.to_owned());
    }

    /// Values that cannot be listed can be produced too (an inner error
    /// classified by its type's name).
    pub fn add_other(&mut self) {
        self.other = true;
    }

    /// The values of `E`.
    pub fn include<E: DescribeErrors + ?Sized>(&mut self) {
        E::describe_errors(self)
    }

    /// The listed values, sorted.
    pub fn known(&self) -> impl Iterator<Item = &str> + '_ {
        self.known.iter().map(String::as_str)
    }

    /// Whether values that are not listed can be produced.
    pub fn has_other(&self) -> bool {
        self.other
    }
}

/// What one `#[telemetry_tool]` submits at link time.
#[doc(hidden)]
pub struct ToolEntry {
    pub name: &'static str,
    pub category: &'static str,
    pub describe: fn(&mut ArgsDescriber, &mut ErrorTypes),
}

inventory::collect!(ToolEntry);

impl ToolEntry {
    pub(super) fn manifest(&self) -> ToolManifest {
        let mut args = ArgsDescriber::default();
        let mut errors = ErrorTypes::default();
        (self.describe)(&mut args, &mut errors);
        ToolManifest {
            name: self.name.to_owned(),
            category: self.category.to_owned(),
            fields: args.fields,
            error_types: errors.known.into_iter().collect(),
            other_error_types: errors.other,
            undescribed_args: args.undescribed,
        }
    }
}

/// Autoref probes over types (`PhantomData`), resolved where the macros
/// expand: a type gets the description it supports.
#[doc(hidden)]
pub mod probe {
    use super::*;
    use crate::{TelemetryArgs, ToolResponse};

    /// A parameter or a `flatten`ed field: `(&&&__AzsdkDescArgs(PhantomData::<T>))`.
    pub struct __AzsdkDescArgs<T: ?Sized>(pub PhantomData<T>);

    pub trait __AzsdkDescArgsDescribed {
        fn __azsdk_describe(&self, out: &mut ArgsDescriber);
    }
    impl<T: DescribeArgs + ?Sized> __AzsdkDescArgsDescribed for &&__AzsdkDescArgs<T> {
        fn __azsdk_describe(&self, out: &mut ArgsDescriber) {
            T::describe_args(out)
        }
    }
    pub trait __AzsdkDescArgsRecorded {
        fn __azsdk_describe(&self, out: &mut ArgsDescriber);
    }
    impl<T: TelemetryArgs + ?Sized> __AzsdkDescArgsRecorded for &__AzsdkDescArgs<T> {
        fn __azsdk_describe(&self, out: &mut ArgsDescriber) {
            out.undescribed(std::any::type_name::<T>())
        }
    }
    pub trait __AzsdkDescArgsNone {
        fn __azsdk_describe(&self, _: &mut ArgsDescriber) {}
    }
    impl<T: ?Sized> __AzsdkDescArgsNone for __AzsdkDescArgs<T> {}

    /// An `allow`ed value: a nested object or a value. `(&&&__AzsdkDescValue(PhantomData::<T>))`.
    pub struct __AzsdkDescValue<T: ?Sized>(pub PhantomData<T>);

    pub trait __AzsdkDescValueDescribed {
        fn __azsdk_describe(&self, out: &mut ArgsDescriber, key: &str, dimension: Option<&str>);
    }
    impl<T: DescribeArgs + TelemetryArgs + ?Sized> __AzsdkDescValueDescribed for &&__AzsdkDescValue<T> {
        fn __azsdk_describe(&self, out: &mut ArgsDescriber, key: &str, _: Option<&str>) {
            out.nested::<T>(key)
        }
    }
    pub trait __AzsdkDescValueRecorded {
        fn __azsdk_describe(&self, out: &mut ArgsDescriber, key: &str, dimension: Option<&str>);
    }
    impl<T: TelemetryArgs + ?Sized> __AzsdkDescValueRecorded for &__AzsdkDescValue<T> {
        fn __azsdk_describe(&self, out: &mut ArgsDescriber, key: &str, _: Option<&str>) {
            out.push(key, FieldMode::Allow, None, false);
            out.undescribed(std::any::type_name::<T>())
        }
    }
    pub trait __AzsdkDescValuePlain {
        fn __azsdk_describe(&self, out: &mut ArgsDescriber, key: &str, dimension: Option<&str>);
    }
    impl<T: ?Sized> __AzsdkDescValuePlain for __AzsdkDescValue<T> {
        fn __azsdk_describe(&self, out: &mut ArgsDescriber, key: &str, dimension: Option<&str>) {
            out.push(key, FieldMode::Allow, dimension, false)
        }
    }

    /// An error type: `(&&__AzsdkDescErr(PhantomData::<E>))`.
    pub struct __AzsdkDescErr<T: ?Sized>(pub PhantomData<T>);

    pub trait __AzsdkDescErrDescribed {
        fn __azsdk_describe(&self, out: &mut ErrorTypes);
    }
    impl<T: DescribeErrors + ?Sized> __AzsdkDescErrDescribed for &__AzsdkDescErr<T> {
        fn __azsdk_describe(&self, out: &mut ErrorTypes) {
            T::describe_errors(out)
        }
    }
    pub trait __AzsdkDescErrOther {
        fn __azsdk_describe(&self, out: &mut ErrorTypes) {
            out.add_other()
        }
    }
    impl<T: ?Sized> __AzsdkDescErrOther for __AzsdkDescErr<T> {}

    /// A returned value that may report a failure (`ToolResponse`):
    /// `(&&__AzsdkDescResp(PhantomData::<T>))`.
    pub struct __AzsdkDescResp<T: ?Sized>(pub PhantomData<T>);

    pub trait __AzsdkDescRespDescribed {
        fn __azsdk_describe(&self, out: &mut ErrorTypes);
    }
    impl<T: DescribeErrors + ToolResponse + ?Sized> __AzsdkDescRespDescribed for &__AzsdkDescResp<T> {
        fn __azsdk_describe(&self, out: &mut ErrorTypes) {
            T::describe_errors(out)
        }
    }
    pub trait __AzsdkDescRespNone {
        fn __azsdk_describe(&self, _: &mut ErrorTypes) {}
    }
    impl<T: ?Sized> __AzsdkDescRespNone for __AzsdkDescResp<T> {}

    /// A return type the macro could not split (`io::Result<T>`, an alias):
    /// a `Result` gives unlisted values; else as [`__AzsdkDescResp`].
    /// `(&&&__AzsdkDescRet(PhantomData::<R>))`.
    pub struct __AzsdkDescRet<T: ?Sized>(pub PhantomData<T>);

    pub trait __AzsdkDescRetResult {
        fn __azsdk_describe(&self, out: &mut ErrorTypes);
    }
    impl<T, E> __AzsdkDescRetResult for &&__AzsdkDescRet<Result<T, E>> {
        fn __azsdk_describe(&self, out: &mut ErrorTypes) {
            out.add_other()
        }
    }
    pub trait __AzsdkDescRetDescribed {
        fn __azsdk_describe(&self, out: &mut ErrorTypes);
    }
    impl<T: DescribeErrors + ToolResponse + ?Sized> __AzsdkDescRetDescribed for &__AzsdkDescRet<T> {
        fn __azsdk_describe(&self, out: &mut ErrorTypes) {
            T::describe_errors(out)
        }
    }
    pub trait __AzsdkDescRetNone {
        fn __azsdk_describe(&self, _: &mut ErrorTypes) {}
    }
    impl<T: ?Sized> __AzsdkDescRetNone for __AzsdkDescRet<T> {}
}
