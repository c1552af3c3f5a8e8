//! Tests running in parallel under `capture()` each see only their own events.

use std::sync::{Arc, Barrier};
use std::thread;

use azsdk_telemetry::ToolExecuted;
use azsdk_telemetry_testkit::capture;

fn emit(name: &str) {
    ToolExecuted {
        tool_name: name.to_owned().into(),
        success: true,
        ..ToolExecuted::default()
    }
    .emit();
}

fn tool_names(capture: &azsdk_telemetry_testkit::Capture) -> Vec<String> {
    capture
        .events()
        .iter()
        .filter_map(|record| record.event().as_tool())
        .map(|tool| tool.tool_name.to_string())
        .collect()
}

#[test]
fn parallel_captures_see_only_their_own_events() {
    const THREADS: usize = 8;
    const CALLS: usize = 200;
    let barrier = Arc::new(Barrier::new(THREADS));
    let workers: Vec<_> = (0..THREADS)
        .map(|n| {
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                let capture = capture();
                barrier.wait(); // every capture is live before anyone emits
                for _ in 0..CALLS {
                    emit(&format!("tool_{n}"));
                }
                barrier.wait(); // everyone emitted before anyone looks
                tool_names(&capture)
            })
        })
        .collect();
    for (n, worker) in workers.into_iter().enumerate() {
        let names = worker.join().unwrap();
        assert_eq!(names.len(), CALLS, "thread {n}");
        assert!(
            names.iter().all(|name| *name == format!("tool_{n}")),
            "thread {n}"
        );
    }
}

#[test]
fn events_outside_the_capture_are_not_seen() {
    emit("before");
    let capture = capture();
    thread::spawn(|| emit("other_thread")).join().unwrap();
    emit("inside");
    assert_eq!(tool_names(&capture), ["inside"]);
    drop(capture);
    emit("after");
}

#[test]
fn nested_captures_see_their_own_span_of_events() {
    let outer = capture();
    emit("outer_1");
    {
        let inner = capture();
        emit("inner");
        assert_eq!(tool_names(&inner), ["inner"]);
    }
    emit("outer_2");
    assert_eq!(tool_names(&outer), ["outer_1", "outer_2"]);
}

#[tokio::test(flavor = "current_thread")]
async fn capture_under_a_current_thread_runtime() {
    let capture = capture();
    async { emit("async_current") }.await;
    tokio::task::yield_now().await;
    assert_eq!(tool_names(&capture), ["async_current"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capture_under_a_multi_thread_runtime() {
    use tracing::instrument::WithSubscriber;
    let capture = capture();
    async { emit("in_body") }.await;
    tokio::spawn(async { emit("spawned") }.with_subscriber(capture.dispatch().clone()))
        .await
        .unwrap();
    assert_eq!(tool_names(&capture), ["in_body", "spawned"]);
}
