//! Delivery to a real HTTP server on 127.0.0.1: wire format, every response case, retries,
//! redirects, the bounded queue and sampling.

mod common;

use std::io::Read;
use std::time::{Duration, Instant, SystemTime};

use azsdk_telemetry::{ExportConfig, RetryPolicy};
use azsdk_telemetry_testkit::server::{validate_envelope, Fault, Mode};
use azsdk_telemetry_testkit::{IngestionServer, TEST_INSTRUMENTATION_KEY};
use common::{assert_exactly_once, config, event_id, start, try_start, Sender, TestItem, WAIT};

fn send_ids(sender: &Sender, ids: std::ops::Range<u64>) {
    for id in ids {
        sender.send(TestItem::ok(id));
    }
}

#[test]
fn gzip_body_decodes_to_schema_valid_envelopes_with_the_right_headers() {
    let server = IngestionServer::start();
    let (sender, handle) = start(config(&server));
    send_ids(&sender, 0..10);
    let report = handle.flush(WAIT);
    assert!(report.completed);
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(
        (r.method.as_str(), r.path.as_str(), r.status),
        ("POST", "/v2.1/track", 200)
    );
    assert_eq!(r.header("content-encoding"), Some("gzip"));
    assert_eq!(r.header("content-type"), Some("application/x-json-stream"));
    assert!(r
        .header("user-agent")
        .is_some_and(|ua| ua.starts_with("azsdk-telemetry/")));
    assert_eq!(r.items.len(), 10);
    for e in &r.items {
        validate_envelope(e, SystemTime::now()).expect("schema-valid");
        assert_eq!(e["iKey"], TEST_INSTRUMENTATION_KEY);
        assert_eq!(e["sampleRate"], 100.0);
    }
    assert_exactly_once(&server.received(), 0..10);
    assert_eq!(report.stats.sent, 10);
    assert!(report.stats.is_balanced());
}

#[test]
fn raw_request_body_is_gzip_of_json_lines() {
    // Independent of the server's decoder: decode the bytes ourselves.
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let reader = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut r = BufReader::new(stream.try_clone().unwrap());
        let mut len = 0usize;
        loop {
            let mut line = String::new();
            r.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; len];
        r.read_exact(&mut body).unwrap();
        let resp = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}";
        stream.write_all(resp).unwrap();
        body
    });
    let cs = format!(
        "InstrumentationKey={TEST_INSTRUMENTATION_KEY};IngestionEndpoint=http://127.0.0.1:{port}"
    );
    let cfg = ExportConfig::new(azsdk_telemetry::ConnectionString::parse(&cs).unwrap())
        .with_max_batch_age(Duration::from_millis(20));
    let (sender, handle) = start(cfg);
    send_ids(&sender, 0..3);
    assert!(handle.flush(WAIT).completed);
    let body = reader.join().unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(&body[..])
        .read_to_string(&mut text)
        .unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines.iter().map(event_id).collect::<Vec<_>>(),
        vec![0, 1, 2]
    );
}

#[test]
fn batches_by_count_and_by_age() {
    let server = IngestionServer::start();
    let (sender, handle) = start(
        config(&server)
            .with_max_batch(5)
            .with_max_batch_age(Duration::from_millis(300)),
    );
    let t = Instant::now();
    send_ids(&sender, 0..12);
    // Two full batches go out without waiting for the age.
    assert!(server.wait_for(10, WAIT));
    assert!(
        t.elapsed() < Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
    // The partial batch goes out once it is 300 ms old, without a flush.
    assert!(server.wait_for(12, WAIT));
    assert!(
        t.elapsed() >= Duration::from_millis(290),
        "{:?}",
        t.elapsed()
    );
    let sizes: Vec<usize> = server.requests().iter().map(|r| r.items.len()).collect();
    assert_eq!(sizes, vec![5, 5, 2]);
    assert!(handle.flush(WAIT).stats.is_balanced());
}

#[test]
fn partial_success_resends_only_retriable_indexes() {
    let server = IngestionServer::start();
    server.push_fault(Fault::Partial {
        failing: vec![(1, 500), (3, 400), (4, 206), (6, 429)],
    });
    let (sender, handle) = start(config(&server).with_max_batch(8));
    send_ids(&sender, 0..8);
    let report = handle.flush(WAIT);
    assert!(report.completed);
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].status, 206);
    let resent: Vec<u64> = requests[1].items.iter().map(event_id).collect();
    assert_eq!(resent, vec![1, 6]);
    assert_exactly_once(&server.received(), [0, 1, 2, 5, 6, 7]);
    let s = report.stats;
    assert_eq!(
        (s.sent, s.dropped.rejected, s.dropped.sampled_out, s.retried),
        (6, 1, 1, 2)
    );
    assert!(s.is_balanced());
}

#[test]
fn server_error_with_body_resends_only_retriable_items() {
    let server = IngestionServer::start();
    // Nothing accepted: the service answers the first item's status, 500, with a body.
    server.push_fault(Fault::Partial {
        failing: vec![(0, 500), (1, 400), (2, 503)],
    });
    let (sender, handle) = start(config(&server).with_max_batch(3));
    send_ids(&sender, 0..3);
    let report = handle.flush(WAIT);
    let requests = server.requests();
    assert_eq!(requests[0].status, 500);
    assert_eq!(
        requests[1].items.iter().map(event_id).collect::<Vec<_>>(),
        vec![0, 2]
    );
    assert_exactly_once(&server.received(), [0, 2]);
    assert_eq!((report.stats.sent, report.stats.dropped.rejected), (2, 1));
    assert!(report.stats.is_balanced());
}

#[test]
fn transient_statuses_are_retried() {
    for code in [408u16, 429, 500, 502, 503, 504] {
        let server = IngestionServer::start();
        server.push_fault(Fault::Status {
            code,
            retry_after: None,
        });
        let (sender, handle) = start(config(&server));
        send_ids(&sender, 0..3);
        let report = handle.flush(WAIT);
        assert!(report.completed, "{code}");
        let statuses: Vec<u16> = server.requests().iter().map(|r| r.status).collect();
        assert_eq!(statuses, vec![code, 200], "{code}");
        assert_exactly_once(&server.received(), 0..3);
        assert_eq!((report.stats.sent, report.stats.retried), (3, 3), "{code}");
        assert!(report.stats.is_balanced(), "{code}");
    }
}

#[test]
fn connection_drop_and_unreadable_partial_body_are_retried() {
    let server = IngestionServer::start();
    server.push_fault(Fault::DropConnection);
    server.push_fault(Fault::InvalidBody);
    let (sender, handle) = start(config(&server));
    send_ids(&sender, 0..4);
    let report = handle.flush(WAIT);
    let statuses: Vec<u16> = server.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![0, 206, 200]);
    assert_exactly_once(&server.received(), 0..4);
    assert!(report.stats.is_balanced());
}

#[test]
fn retries_exhausted_without_spool_are_counted() {
    let server = IngestionServer::start();
    for _ in 0..3 {
        server.push_fault(Fault::Status {
            code: 503,
            retry_after: None,
        });
    }
    let (sender, handle) = start(config(&server));
    send_ids(&sender, 0..5);
    let report = handle.flush(WAIT);
    assert_eq!(server.requests().len(), 3, "max_attempts = 3");
    assert_eq!(report.stats.dropped.retries_exhausted, 5);
    assert!(report.stats.is_balanced());
}

#[test]
fn retry_after_in_seconds_is_honoured() {
    let server = IngestionServer::start();
    server.push_fault(Fault::Status {
        code: 429,
        retry_after: Some("1".into()),
    });
    let (sender, handle) = start(config(&server));
    send_ids(&sender, 0..2);
    assert!(handle.flush(WAIT).completed);
    let r = server.requests();
    assert_eq!(r.len(), 2);
    let gap = r[1].at - r[0].at;
    assert!(gap >= Duration::from_millis(990), "retried after {gap:?}");
    assert!(
        gap < Duration::from_millis(1500),
        "waited too long: {gap:?}"
    );
    assert_exactly_once(&server.received(), 0..2);
}

#[test]
fn retry_after_as_http_date_is_honoured() {
    let server = IngestionServer::start();
    let not_before = SystemTime::now() + Duration::from_secs(2);
    let date = httpdate::fmt_http_date(not_before);
    let not_before = httpdate::parse_http_date(&date).unwrap(); // whole seconds
    server.push_fault(Fault::Status {
        code: 503,
        retry_after: Some(date),
    });
    let (sender, handle) = start(config(&server));
    send_ids(&sender, 0..2);
    assert!(handle.flush(WAIT).completed);
    let r = server.requests();
    assert_eq!(r.len(), 2);
    assert!(
        r[1].wall >= not_before,
        "retried before the Retry-After date"
    );
    assert!(r[1].at - r[0].at >= Duration::from_millis(900));
    assert_exactly_once(&server.received(), 0..2);
}

#[test]
fn an_answer_that_accepts_items_has_the_rest_resent_within_the_same_flush() {
    // 503 twice, then every request answered 206 with every seventh item failing 500:
    // each answer proves the endpoint serves, so the retriable items are resent until
    // none is left, in this one flush, not left to a spool.
    let server = IngestionServer::start();
    for _ in 0..2 {
        server.push_fault(Fault::Status {
            code: 503,
            retry_after: None,
        });
    }
    server.set_mode(Mode::FailEvery {
        n: 1,
        fault: Fault::Partial {
            failing: (6..1_000).step_by(7).map(|index| (index, 500)).collect(),
        },
    });
    let (sender, handle) = start(config(&server));
    send_ids(&sender, 0..1_000);
    let report = handle.flush(Duration::from_secs(20));
    assert!(report.completed);
    assert_exactly_once(&server.received(), 0..1_000);
    let s = report.stats;
    assert_eq!((s.sent, s.dropped.total()), (1_000, 0), "{s:?}");
    assert!(s.is_balanced());
}

#[test]
fn auth_answers_keep_the_items_in_the_spool_for_a_later_start() {
    for code in [401u16, 403] {
        let server = IngestionServer::start();
        let dir = tempfile::tempdir().unwrap();
        server.push_fault(Fault::Status {
            code,
            retry_after: None,
        });
        let (sender, handle) = start(config(&server).with_spool_dir(dir.path()));
        send_ids(&sender, 0..4);
        let report = handle.shutdown(WAIT);
        assert_eq!(server.requests().len(), 1, "{code} must not be retried");
        assert!(server.received().is_empty());
        assert_eq!(
            (report.stats.spooled, report.stats.dropped.total()),
            (4, 0),
            "{code}: {:?}",
            report.stats
        );
        // A later process with the credentials fixed delivers them.
        let (_sender, handle) = start(config(&server).with_spool_dir(dir.path()));
        assert!(server.wait_for(4, WAIT), "{code}");
        assert_exactly_once(&server.received(), 0..4);
        handle.shutdown(WAIT);
    }
}

#[test]
fn refusals_are_counted_not_retried_and_quota_answers_pause_sending() {
    for code in [400u16, 404, 402, 439] {
        let server = IngestionServer::start();
        server.push_fault(Fault::Status {
            code,
            retry_after: None,
        });
        let (sender, handle) = start(config(&server));
        send_ids(&sender, 0..4);
        let report = handle.flush(WAIT);
        assert_eq!(server.requests().len(), 1, "{code} must not be retried");
        assert!(server.received().is_empty());
        assert_eq!(report.stats.dropped.rejected, 4, "{code}");
        assert_eq!(report.stats.retried, 0);
        assert!(report.stats.is_balanced());
        if matches!(code, 402 | 439) {
            // A spent quota: the next batch is not sent (no retry storm).
            send_ids(&sender, 4..6);
            let report = handle.flush(Duration::from_millis(500));
            assert_eq!(server.requests().len(), 1, "{code}: sending must pause");
            assert!(report.stats.is_balanced(), "{code}");
        }
    }
}

#[test]
fn items_sampled_out_by_the_service_are_not_retried() {
    let server = IngestionServer::start();
    server.push_fault(Fault::Partial {
        failing: vec![(0, 206), (2, 206)],
    });
    let (sender, handle) = start(config(&server).with_max_batch(3));
    send_ids(&sender, 0..3);
    let report = handle.flush(WAIT);
    assert_eq!(server.requests().len(), 1);
    assert_eq!(
        (report.stats.sent, report.stats.dropped.sampled_out),
        (1, 2)
    );
    assert!(report.stats.is_balanced());
}

#[test]
fn items_refused_400_by_index_are_not_retried() {
    let server = IngestionServer::start();
    server.push_fault(Fault::Partial {
        failing: vec![(1, 400), (2, 400)],
    });
    let (sender, handle) = start(config(&server).with_max_batch(4));
    send_ids(&sender, 0..4);
    let report = handle.flush(WAIT);
    let r = server.requests();
    assert_eq!((r.len(), r[0].status), (1, 206));
    assert_exactly_once(&server.received(), [0, 3]);
    assert_eq!(report.stats.dropped.rejected, 2);
    assert!(report.stats.is_balanced());
}

#[test]
fn redirect_is_followed_and_remembered() {
    let home = IngestionServer::start();
    let regional = IngestionServer::start();
    home.push_fault(Fault::Redirect {
        location: regional.track_url(),
    });
    let (sender, handle) = start(config(&home));
    send_ids(&sender, 0..3);
    assert!(handle.flush(WAIT).completed);
    send_ids(&sender, 3..6);
    let report = handle.flush(WAIT);
    assert_eq!(
        home.requests().len(),
        1,
        "later batches go straight to the new endpoint"
    );
    assert_eq!(home.requests()[0].status, 307);
    assert_eq!(regional.requests().len(), 2);
    assert_exactly_once(&regional.received(), 0..6);
    assert_eq!(report.stats.sent, 6);
}

#[test]
fn redirect_to_a_foreign_host_is_refused() {
    for location in [
        "https://evil.example.com/v2.1/track",
        "http://dc.services.visualstudio.com/v2.1/track",
    ] {
        let server = IngestionServer::start();
        server.push_fault(Fault::Redirect {
            location: location.into(),
        });
        let cfg = config(&server).with_retry(RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        });
        let (sender, handle) = start(cfg);
        send_ids(&sender, 0..3);
        let report = handle.flush(WAIT);
        assert!(report.completed);
        assert_eq!(server.requests().len(), 1, "{location}");
        assert_eq!(report.stats.sent, 0);
        assert_eq!(report.stats.dropped.retries_exhausted, 3, "{location}");
    }
}

#[test]
fn redirect_loop_is_capped_at_ten_hops() {
    let server = IngestionServer::start();
    for _ in 0..30 {
        server.push_fault(Fault::Redirect {
            location: server.track_url(),
        });
    }
    let cfg = config(&server).with_retry(RetryPolicy {
        max_attempts: 1,
        ..RetryPolicy::default()
    });
    let (sender, handle) = start(cfg);
    send_ids(&sender, 0..2);
    let report = handle.flush(WAIT);
    assert_eq!(server.requests().len(), 11, "the request plus 10 hops");
    assert_eq!(report.stats.dropped.retries_exhausted, 2);
    assert!(report.stats.is_balanced());
}

#[test]
fn plain_http_to_a_non_loopback_host_is_a_config_error() {
    let err = azsdk_telemetry::ConnectionString::parse(&format!(
        "InstrumentationKey={TEST_INSTRUMENTATION_KEY};IngestionEndpoint=http://10.1.2.3"
    ))
    .unwrap_err();
    assert!(err.to_string().contains("https://"), "{err}");
}

#[test]
fn full_queue_drops_and_counts_without_blocking() {
    let server = IngestionServer::start();
    server.push_fault(Fault::Delay(Duration::from_millis(500)));
    let (sender, handle) = start(config(&server).with_queue_capacity(16).with_max_batch(8));
    send_ids(&sender, 0..8);
    std::thread::sleep(Duration::from_millis(100)); // let the first batch get stuck in the delay
    let t = Instant::now();
    send_ids(&sender, 8..10_008);
    let spent = t.elapsed();
    assert!(
        spent < Duration::from_millis(200),
        "send blocked: {spent:?}"
    );
    let report = handle.flush(WAIT);
    let s = report.stats;
    // What the queue (16) and the worker's next batch (8) hold is kept; the rest is dropped.
    assert!(s.dropped.queue_full >= 10_000 - 16 - 8, "{s:?}");
    assert_eq!(s.emitted, 10_008);
    assert!(s.is_balanced(), "{s:?}");
}

#[test]
fn client_sampling_keeps_failures_and_stamps_the_rate() {
    let server = IngestionServer::start();
    let (sender, handle) = start(
        config(&server)
            .with_sample_rate(25.0)
            .with_queue_capacity(10_000),
    );
    for id in 0..4000 {
        sender.send(TestItem {
            id,
            failure: id % 40 == 0,
        });
    }
    let report = handle.flush(WAIT);
    let received = server.received();
    let failures: Vec<_> = received
        .iter()
        .filter(|e| e["data"]["baseData"]["success"] == false)
        .collect();
    assert_eq!(failures.len(), 100, "every failure is kept");
    assert!(failures.iter().all(|e| e["sampleRate"] == 100.0));
    let successes = received.len() - failures.len();
    assert!(
        (700..1250).contains(&successes),
        "about 25% of 3900: {successes}"
    );
    assert!(received
        .iter()
        .filter(|e| e["data"]["baseData"]["success"] == true)
        .all(|e| e["sampleRate"] == 25.0));
    assert_eq!(report.stats.dropped.sampled as usize, 3900 - successes);
    assert!(report.stats.is_balanced());
}

#[test]
fn an_unwritable_record_is_counted_and_the_worker_goes_on() {
    // The builder's clock says "before 1970" for the second record: its envelope cannot
    // be written, and the records around it are sent.
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let server = IngestionServer::start();
    let bad = Arc::new(AtomicBool::new(false));
    let next_is_bad = Arc::clone(&bad);
    let clock = move || match next_is_bad.swap(false, Ordering::Relaxed) {
        true => SystemTime::UNIX_EPOCH - Duration::from_secs(1),
        false => SystemTime::now(),
    };
    let (sender, handle) = try_start(config(&server), |builder| builder.clock(clock)).unwrap();
    sender.send(TestItem::ok(0));
    bad.store(true, Ordering::Relaxed);
    sender.send(TestItem::ok(1));
    sender.send(TestItem::ok(2));
    let report = handle.flush(WAIT);
    assert_exactly_once(&server.received(), [0, 2]);
    assert_eq!(report.stats.dropped.unserializable, 1);
    assert!(report.stats.is_balanced());
}

#[test]
fn works_from_async_code_and_outlives_the_application_runtime() {
    let server = IngestionServer::start();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (sender, handle) = runtime.block_on(async {
        let (sender, handle) = start(config(&server));
        let tasks: Vec<_> = (0..4u64)
            .map(|t| {
                let sender = sender.clone();
                tokio::spawn(async move { send_ids(&sender, t * 10..t * 10 + 10) })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        (sender, handle)
    });
    drop(runtime); // the application's runtime is gone; the exporter is not
    send_ids(&sender, 40..45);
    let report = handle.shutdown(WAIT);
    assert!(report.completed);
    assert_exactly_once(&server.received(), 0..45);
    sender.send(TestItem::ok(99));
    let after = sender.clone();
    drop(after);
}
