//! Scrubbing cost, on the path a record takes: a tool call goes through the layer to a sink
//! that finishes it (`PendingRecord::finish` scrubs and limits every text), as a custom sink
//! would. `no_texts` is that path's fixed cost; the other rows add typical argument values
//! (the common, nothing-to-do case, as promoted dimensions) or a 1 KB error message, with
//! and without something to redact. The scrubber reads this machine's identity.

use std::hint::black_box;

use azsdk_telemetry::{PendingRecord, Sink, TelemetryLayer, ToolExecuted};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tracing_subscriber::layer::SubscriberExt;

const TYPICAL: &[&str] = &[
    "Python",
    "2025-09-01",
    "storage",
    "westus2",
    "azure-sdk-for-python",
    "specification/healthdataaiservices",
    "Microsoft.Storage/storageAccounts",
    "true",
];

fn error_message_1k(dirty: bool) -> String {
    let mut msg = String::from(
        "Error: failed to generate SDK for service 'healthdataaiservices' (api-version 2025-09-01). \
         tsp-client exited with code 1 after 12.4s. Retrying with the same options did not help; \
         check the TypeSpec project and the emitter options in tspconfig.yaml. ",
    );
    if dirty {
        msg.push_str(
            "Project at /home/alice/repos/azure-rest-api-specs/specification/healthdataaiservices/main.tsp; \
             request to 52.168.10.1 with Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ \
             failed; contact alice@contoso.com. ",
        );
    }
    while msg.len() < 1024 {
        msg.push_str("The emitter reported no further diagnostics for this run. ");
    }
    msg.truncate(1024);
    msg
}

/// Finishes every record and drops it.
struct Finish;

impl Sink for Finish {
    fn accept(&self, record: PendingRecord) {
        black_box(record.finish());
    }
}

fn call(dimensions: &[&str], message: Option<&str>) -> ToolExecuted {
    let mut call = ToolExecuted {
        tool_name: "azsdk_generate_sdk".into(),
        tool_category: "generating".into(),
        error_message: message.map(str::to_owned),
        ..ToolExecuted::default()
    };
    for (i, value) in dimensions.iter().enumerate() {
        call.set_dimension(&format!("d{i}"), *value);
    }
    call
}

fn bench(c: &mut Criterion) {
    let (layer, _handle) = TelemetryLayer::builder()
        .ignore_environment()
        .lifecycle_events(false)
        .sink(Finish)
        .build()
        .expect("the layer builds");
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));

    let mut g = c.benchmark_group("scrub");
    let (empty, typical) = (call(&[], None), call(TYPICAL, None));
    g.bench_function("no_texts", |b| b.iter(|| empty.emit()));
    g.throughput(Throughput::Elements(TYPICAL.len() as u64));
    g.bench_function("typical_values_x8", |b| b.iter(|| typical.emit()));
    g.throughput(Throughput::Bytes(1024));
    let clean = call(&[], Some(&error_message_1k(false)));
    let dirty = call(&[], Some(&error_message_1k(true)));
    g.bench_function("error_message_1k_clean", |b| b.iter(|| clean.emit()));
    g.bench_function("error_message_1k_with_secrets", |b| b.iter(|| dirty.emit()));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
