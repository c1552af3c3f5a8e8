//! `SystemCrashed` from a panic hook, written out before the process dies.

use std::panic::PanicHookInfo;
use std::sync::{Arc, Mutex, Once, PoisonError, Weak};
use std::time::Duration;

use crate::context::SharedContext;
use crate::event::{Event, PendingRecord, SystemCrashed};
use crate::sink::Sink;

/// How long the hook may spend writing the crash out.
const CRASH_DEADLINE: Duration = Duration::from_secs(1);

/// Where the process-wide hook sends a crash: the most recently built
/// layer's sink, held weakly so the hook never keeps a shut-down layer alive.
struct Target {
    sink: Weak<dyn Sink>,
    context: Weak<SharedContext>,
}

static TARGET: Mutex<Option<Target>> = Mutex::new(None);
static INSTALL: Once = Once::new();

/// Points the crash hook at this sink and context, installing the hook the
/// first time (it chains to the hook that was there before).
pub(crate) fn watch(sink: &Arc<dyn Sink>, context: &Arc<SharedContext>) {
    *TARGET.lock().unwrap_or_else(PoisonError::into_inner) = Some(Target {
        sink: Arc::downgrade(sink),
        context: Arc::downgrade(context),
    });
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            record(info);
            previous(info);
        }));
    });
}

/// A panic on the main thread ends the process (a panic elsewhere is
/// usually caught by its runtime, and a tool's own panic is recorded as its
/// `ToolExecuted` already), so that is what counts as a crash.
fn record(info: &PanicHookInfo<'_>) {
    if std::thread::current().name() != Some("main") {
        return;
    }
    let target = TARGET.lock().unwrap_or_else(PoisonError::into_inner);
    let Some(target) = target.as_ref() else {
        return;
    };
    let (Some(sink), Some(context)) = (target.sink.upgrade(), target.context.upgrade()) else {
        return;
    };
    let crash = SystemCrashed {
        crash_reason: "Panic".to_owned(),
        error_message: Some(panic_message(info)),
        stack_trace: info
            .location()
            .map(|at| format!("at {}:{}:{}", at.file(), at.line(), at.column())),
    };
    let record = PendingRecord::new(Event::SystemCrashed(crash), &context);
    sink.persist_before_exit(record, CRASH_DEADLINE);
}

fn panic_message(info: &PanicHookInfo<'_>) -> String {
    let payload = info.payload();
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}
