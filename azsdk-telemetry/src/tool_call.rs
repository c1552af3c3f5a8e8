//! The guard behind `#[telemetry_tool]`: one [`ToolCall`] per call, from the
//! arguments to the outcome, and [`ToolFuture`] for async tools.
//!
//! A call that never finishes still reports: a panic records `errorType`
//! `Panic` (and the panic keeps unwinding), a future dropped before it
//! completed records `Cancelled`.

use std::any::Any;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use crate::args::ArgsRecorder;
use crate::classify::Classification;
use crate::event::{dimensions_json, emit_tool, ToolFields, TARGET};

/// `errorType` of a call that panicked.
pub(crate) const PANIC: &str = "Panic";
/// `errorType` of an async call whose future was dropped before it completed.
pub(crate) const CANCELLED: &str = "Cancelled";

/// Whether tool calls are recorded: the one check an instrumented call pays
/// when telemetry is off.
///
/// First `tracing`'s cached interest in the framework's target (with no
/// subscriber, or an opted-out layer, that is one atomic load: what a
/// disabled `tracing` event costs). `tracing` shares that cache across every
/// live subscriber, so when it is on, the current thread's own subscriber is
/// asked whether it holds a telemetry layer that is on: a thread beside
/// another test's `capture()` never reads its arguments.
#[inline]
pub fn enabled() -> bool {
    tracing::enabled!(target: TARGET, tracing::Level::INFO) && crate::layer::layer_active()
}

/// What a call ended with, as the generated code classifies the tool's
/// return value.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Outcome {
    /// The classified error, when the call returned one (or an `Ok` value reported one).
    pub error: Option<Classification>,
    /// `toolResponse`, when the return type opts in.
    pub response: Option<String>,
}

/// One call of an instrumented tool, started only when telemetry is on.
///
/// The macro drives it.
#[derive(Debug)]
pub struct ToolCall {
    name: Cow<'static, str>,
    category: &'static str,
    args: ArgsRecorder,
    started: Instant,
    done: bool,
}

impl ToolCall {
    /// Starts a call when telemetry is on: records the arguments through
    /// `record_args`, then reads the clock. When telemetry is off this is the
    /// one check and nothing else: `record_args` is not called.
    #[inline]
    pub fn start(
        name: &'static str,
        category: &'static str,
        record_args: impl FnOnce(&mut ArgsRecorder),
    ) -> Option<ToolCall> {
        if !enabled() {
            return None;
        }
        let mut args = ArgsRecorder::for_call();
        record_args(&mut args);
        Some(ToolCall {
            name: Cow::Borrowed(name),
            category,
            args,
            started: Instant::now(),
            done: false,
        })
    }

    /// A call that started at `started` and was answered without recording itself: the
    /// MCP front door's record of a `tools/call` rejected before the tool ran. No arguments
    /// are recorded (`toolArgs` is `{}`).
    #[cfg(feature = "rmcp")]
    pub(crate) fn answered(
        name: Cow<'static, str>,
        category: &'static str,
        started: Instant,
    ) -> ToolCall {
        ToolCall {
            name,
            category,
            args: ArgsRecorder::new(),
            started,
            done: false,
        }
    }

    /// Runs `body`; if it panics, records the panic and resumes unwinding.
    pub fn run<R>(&mut self, body: impl FnOnce() -> R) -> R {
        match panic::catch_unwind(AssertUnwindSafe(body)) {
            Ok(value) => value,
            Err(payload) => {
                let message = panic_message(payload.as_ref());
                self.report(Outcome {
                    error: Some(Classification::failure(PANIC, message)),
                    response: None,
                });
                panic::resume_unwind(payload)
            }
        }
    }

    /// Records the call with its outcome.
    pub fn finish(mut self, outcome: Outcome) {
        self.report(outcome);
    }

    /// Records the call as cancelled.
    pub fn cancel(mut self) {
        self.report(failed(CANCELLED));
    }

    fn report(&mut self, outcome: Outcome) {
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        #[cfg(feature = "rmcp")]
        crate::mcp::note_recorded();
        let duration = self.started.elapsed();
        let error = outcome.error.as_ref();
        let mut fields = ToolFields {
            tool_name: &self.name,
            tool_category: self.category,
            duration,
            success: !error.is_some_and(|error| error.failure),
            tool_response: outcome.response.as_deref(),
            error_type: error.map(|error| error.error_type),
            error_message: error.and_then(|error| error.message.as_deref()),
            ..ToolFields::default()
        };
        self.args.close();
        let args = &self.args;
        fields.tool_args = Some(args.closed_json());
        // The spec's dimensions land in their fields; any other goes in the `dimensions`
        // field's JSON object.
        let mut custom = BTreeMap::new();
        for (dimension, value) in args.dimensions() {
            if !fields.set_dimension(dimension, value) {
                custom.insert(dimension, value);
            }
        }
        emit_tool(&fields, dimensions_json(&custom).as_deref());
        std::mem::take(&mut self.args).recycle();
    }
}

fn failed(error_type: &'static str) -> Outcome {
    Outcome {
        error: Some(Classification::failure(error_type, None)),
        response: None,
    }
}

/// A call dropped unfinished: `Panic` while unwinding, `Cancelled` otherwise.
impl Drop for ToolCall {
    fn drop(&mut self) {
        if !self.done {
            let error_type = if std::thread::panicking() {
                PANIC
            } else {
                CANCELLED
            };
            self.report(failed(error_type));
        }
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> Option<String> {
    payload
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
}

pin_project_lite::pin_project! {
    /// An async tool's body with its call: polls the body, records a panic
    /// inside it, and records `Cancelled` when dropped before completion.
    /// Resolves to the body's output and the call, which the generated code
    /// finishes once it has classified the output.
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct ToolFuture<F> {
        #[pin]
        inner: F,
        call: Option<ToolCall>,
    }

    /// Dropped before completion: the call was cancelled, even if the drop
    /// happens while something else panics (a panic in the body itself is
    /// recorded when it happens).
    impl<F> PinnedDrop for ToolFuture<F> {
        fn drop(this: Pin<&mut Self>) {
            if let Some(call) = this.project().call.take() {
                call.cancel();
            }
        }
    }
}

impl<F: Future> ToolFuture<F> {
    /// Wraps `inner` with `call` (`None` when telemetry is off: then it only polls `inner`).
    pub fn new(call: Option<ToolCall>, inner: F) -> Self {
        ToolFuture { inner, call }
    }
}

impl<F: Future> Future for ToolFuture<F> {
    type Output = (F::Output, Option<ToolCall>);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let inner = this.inner;
        let polled = match this.call.as_mut() {
            None => inner.poll(cx),
            Some(call) => call.run(|| inner.poll(cx)),
        };
        match polled {
            Poll::Ready(value) => Poll::Ready((value, this.call.take())),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Calls a tool's body when telemetry is off (a `FnOnce`, whatever it captures mutably).
#[inline(always)]
pub fn call<R>(body: impl FnOnce() -> R) -> R {
    body()
}

/// Pins down the output type of an async block, so `?` inside it converts
/// errors into the tool's declared error type.
#[inline]
pub fn typed_future<R, F: Future<Output = R>>(future: F) -> F {
    future
}
