//! Scrubbing cost: typical argument values (the common, nothing-to-do case) and a 1 KB error
//! message, with and without something to redact.

use std::hint::black_box;

use azsdk_telemetry::sanitize::{limits, Scrubber};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

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

fn bench(c: &mut Criterion) {
    let s = Scrubber::builder()
        .detect_identity(false)
        .user_name("alice")
        .host_name("alice-laptop")
        .home_dir("/home/alice")
        .build();

    let mut g = c.benchmark_group("scrub");
    g.throughput(Throughput::Elements(TYPICAL.len() as u64));
    g.bench_function("typical_values_x8", |b| {
        b.iter(|| {
            for v in TYPICAL {
                black_box(s.scrub(black_box(v)));
            }
        })
    });
    g.bench_function("typical_value_Python", |b| {
        b.iter(|| black_box(s.scrub(black_box("Python"))))
    });
    g.bench_function("typical_value_relative_path", |b| {
        b.iter(|| black_box(s.scrub(black_box("specification/healthdataaiservices"))))
    });
    g.throughput(Throughput::Bytes(1024));
    let clean = error_message_1k(false);
    let dirty = error_message_1k(true);
    g.bench_function("error_message_1k_clean", |b| {
        b.iter(|| black_box(s.scrub_limited(black_box(&clean), limits::ERROR_MESSAGE_MAX_BYTES)))
    });
    g.bench_function("error_message_1k_with_secrets", |b| {
        b.iter(|| black_box(s.scrub_limited(black_box(&dirty), limits::ERROR_MESSAGE_MAX_BYTES)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
