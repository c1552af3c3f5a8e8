//! The ingestion server's validation modes, seen from a client: full validation answers as
//! it always did, and sampled validation refuses what its checks catch and counts exactly.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::SystemTime;

use azsdk_telemetry_testkit::server::{
    format_time, Fault, IngestionServer, ServerOptions, Validation,
};
use flate2::write::GzEncoder;
use serde_json::{json, Value};

fn envelope(name: &str) -> Value {
    json!({
        "name": "Microsoft.ApplicationInsights.RemoteDependency",
        "time": format_time(SystemTime::now()),
        "iKey": "5c1e7e2a-0000-4000-8000-00000000abcd",
        "data": {"baseType": "RemoteDependencyData",
                 "baseData": {"ver": 2, "name": name, "duration": "00.00:00:01.000000",
                              "properties": {"toolName": name, "note": "a, [b] {c} \"d\""}}}
    })
}

/// An envelope the schema refuses: `time` is missing.
fn without_time() -> Value {
    let mut e = envelope("no_time");
    e.as_object_mut().unwrap().remove("time");
    e
}

fn line(v: &Value) -> String {
    v.to_string()
}

/// POSTs `body` (gzipped) to the server's track URL; returns the status and the JSON answer.
fn post(server: &IngestionServer, content_type: &str, body: &str) -> (u16, Value) {
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(body.as_bytes()).unwrap();
    let body = gz.finish().unwrap();
    let addr = server.endpoint().trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&addr).unwrap();
    write!(
        stream,
        "POST /v2.1/track HTTP/1.1\r\nhost: {addr}\r\ncontent-type: {content_type}\r\n\
         content-encoding: gzip\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(&body).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer[9..12].parse().unwrap();
    let (_, json) = answer.split_once("\r\n\r\n").unwrap();
    (status, serde_json::from_str(json).unwrap())
}

fn stream(server: &IngestionServer, lines: &[String]) -> (u16, Value) {
    post(server, "application/x-json-stream", &lines.join("\n"))
}

fn sampled(n: u64) -> IngestionServer {
    IngestionServer::start_with(ServerOptions {
        retain: false,
        validation: Validation::Sample(n),
        ..ServerOptions::default()
    })
    .unwrap()
}

/// The refused indexes and their status codes.
fn refused(answer: &Value) -> Vec<(u64, u64)> {
    answer["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["index"].as_u64().unwrap(),
                e["statusCode"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn full_validation_answers_and_counts_as_before() {
    let server = IngestionServer::start();
    let (status, answer) = stream(
        &server,
        &[
            line(&envelope("a")),
            line(&without_time()),
            line(&envelope("b")),
        ],
    );
    assert_eq!(status, 206);
    assert_eq!(answer["itemsReceived"], 3);
    assert_eq!(answer["itemsAccepted"], 2);
    assert_eq!(refused(&answer), [(1, 400)]);
    assert_eq!(
        answer["errors"][0]["message"],
        "Field 'time' on type 'Envelope' is required but missing"
    );
    // A line that is not JSON still fails the whole request.
    let (status, answer) = stream(&server, &[line(&envelope("c")), "garbage".into()]);
    assert_eq!(status, 400);
    assert_eq!(answer["itemsReceived"], 0);
    assert!(answer["errors"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("line is not JSON"));
    assert_eq!(server.received_count(), 2);
    assert_eq!(server.validated_count(), 3);
    assert_eq!(server.refused_count(), 1);
    assert_eq!(server.received().len(), 2);
    assert_eq!(server.requests()[0].items.len(), 3);
}

#[test]
fn sampling_refuses_garbage_lines_at_any_position() {
    let server = sampled(1_000);
    let lines = [
        line(&envelope("a")),
        "garbage".into(),
        "{not json at all".into(),
        line(&envelope("b")),
        "   ".into(),
        "[1, 2]".into(),
    ];
    let (status, answer) = stream(&server, &lines);
    assert_eq!(status, 206);
    // The blank line is not an item, as in full validation.
    assert_eq!(answer["itemsReceived"], 5);
    assert_eq!(answer["itemsAccepted"], 2);
    assert_eq!(refused(&answer), [(1, 400), (2, 400), (4, 400)]);
    assert_eq!(
        answer["errors"][0]["message"],
        "100: the telemetry item is not a JSON object"
    );
    assert_eq!(server.received_count(), 2);
    assert_eq!(server.validated_count(), 0);
    assert_eq!(server.refused_count(), 3);
}

#[test]
fn sampling_validates_every_nth_envelope_in_full_over_the_servers_life() {
    let server = sampled(3);
    // Positions 1..=4: the 3rd is validated in full and lacks `time`; the others are
    // only checked cheaply, so the 1st passes although it lacks `time` too.
    let first = [
        line(&without_time()),
        line(&envelope("a")),
        line(&without_time()),
        line(&envelope("b")),
    ];
    let (status, answer) = stream(&server, &first);
    assert_eq!(status, 206);
    assert_eq!(answer["itemsAccepted"], 3);
    assert_eq!(refused(&answer), [(2, 400)]);
    assert_eq!(
        answer["errors"][0]["message"],
        "Field 'time' on type 'Envelope' is required but missing"
    );
    // Positions 5..=7 in the next request: the 6th (index 1 here) is validated in full.
    let (status, answer) = stream(
        &server,
        &[
            line(&envelope("c")),
            line(&without_time()),
            line(&envelope("d")),
        ],
    );
    assert_eq!(status, 206);
    assert_eq!(refused(&answer), [(1, 400)]);
    // A sampled position that is not JSON is refused with the parser's reason.
    let (status, answer) = stream(&server, &[line(&envelope("e")), "{\"x\": }".into()]);
    assert_eq!((status, refused(&answer)), (206, vec![(1, 400)]));
    assert!(answer["errors"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("item is not JSON"));
    assert_eq!(server.received_count(), 3 + 2 + 1);
    assert_eq!(server.validated_count(), 3);
    assert_eq!(server.refused_count(), 3);
}

#[test]
fn sampling_counts_large_batches_exactly() {
    let server = sampled(256);
    let lines: Vec<String> = (0..1000)
        .map(|i| line(&envelope(&format!("t{i}"))))
        .collect();
    for _ in 0..3 {
        let (status, answer) = stream(&server, &lines);
        assert_eq!(status, 200);
        assert_eq!(answer["itemsReceived"], 1000);
        assert_eq!(answer["itemsAccepted"], 1000);
    }
    assert_eq!(server.received_count(), 3000);
    assert_eq!(server.validated_count(), 3000 / 256);
    assert_eq!(server.refused_count(), 0);
}

#[test]
fn sampling_splits_json_arrays_without_parsing_them() {
    let server = sampled(2);
    // Commas, brackets and escaped quotes inside strings do not split items.
    let body = format!(
        "[ {}, {}, 7, {} ]",
        line(&envelope("a")),
        line(&without_time()),
        line(&envelope("b"))
    );
    let (status, answer) = post(&server, "application/json", &body);
    assert_eq!(status, 206);
    assert_eq!(answer["itemsReceived"], 4);
    assert_eq!(answer["itemsAccepted"], 2);
    assert_eq!(refused(&answer), [(1, 400), (2, 400)]);
    // One object on its own is one item; an unclosed array fails the whole request.
    let (status, answer) = post(&server, "application/json", &line(&envelope("c")));
    assert_eq!((status, answer["itemsAccepted"].as_u64()), (200, Some(1)));
    let (status, answer) = post(&server, "application/json", "[{\"a\": \"]\"}");
    assert_eq!((status, answer["itemsReceived"].as_u64()), (400, Some(0)));
    let (status, answer) = post(&server, "application/json", "[]");
    assert_eq!((status, answer["itemsReceived"].as_u64()), (200, Some(0)));
}

#[test]
fn sampling_keeps_scripted_faults() {
    let server = sampled(1);
    server.push_fault(Fault::Status {
        code: 503,
        retry_after: None,
    });
    server.push_fault(Fault::Partial {
        failing: vec![(0, 429)],
    });
    let lines = [line(&envelope("a")), line(&envelope("b"))];
    let (status, answer) = stream(&server, &lines);
    assert_eq!(status, 503);
    assert_eq!(refused(&answer), [(0, 503), (1, 503)]);
    let (status, answer) = stream(&server, &lines);
    assert_eq!(status, 206);
    assert_eq!(refused(&answer), [(0, 429)]);
    // Scripted failures are neither validated nor counted as refused.
    assert_eq!(server.received_count(), 1);
    assert_eq!(server.validated_count(), 1);
    assert_eq!(server.refused_count(), 0);
}

#[test]
fn sampling_needs_nothing_retained_or_written_and_a_period() {
    let dir = tempfile::tempdir().unwrap();
    for options in [
        ServerOptions {
            validation: Validation::Sample(8),
            ..ServerOptions::default()
        },
        ServerOptions {
            retain: false,
            jsonl: Some(dir.path().join("out.jsonl")),
            validation: Validation::Sample(8),
            ..ServerOptions::default()
        },
        ServerOptions {
            retain: false,
            validation: Validation::Sample(0),
            ..ServerOptions::default()
        },
    ] {
        let error = IngestionServer::start_with(options).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
        assert!(error.to_string().contains("retain: false"), "{error}");
    }
}
