//! The disk spool: outages, restarts, crashes, corruption, permissions, age and size limits,
//! and flush deadlines.

mod common;

use std::path::Path;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use azsdk_telemetry::ExportConfig;
use azsdk_telemetry_testkit::server::Fault;
use azsdk_telemetry_testkit::{IngestionServer, Mode};
use common::{assert_exactly_once, config, id_counts, start, Sender, TestItem, WAIT};

fn send_ids(sender: &Sender, ids: std::ops::Range<u64>) {
    for id in ids {
        sender.send(TestItem::ok(id));
    }
}

fn spool_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.retain(|p| p.to_string_lossy().ends_with(".aispool"));
    v.sort();
    v
}

fn wait_until(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    done()
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

#[test]
fn endpoint_down_then_spooled_then_up_then_delivered_exactly_once() {
    let server = IngestionServer::start();
    server.set_mode(Mode::Down);
    let dir = tempfile::tempdir().unwrap();
    let (sender, handle) = start(
        config(&server)
            .with_max_batch(10)
            .with_spool_dir(dir.path()),
    );
    send_ids(&sender, 0..50);
    let report = handle.flush(WAIT);
    assert!(report.completed);
    assert_eq!(report.stats.spooled, 50, "{:?}", report.stats);
    assert!(!spool_files(dir.path()).is_empty());
    assert!(server.received().is_empty());

    server.set_mode(Mode::Normal);
    assert!(server.wait_for(50, WAIT), "spool resent in the background");
    send_ids(&sender, 50..60);
    let report = handle.flush(WAIT);
    assert!(wait_until(WAIT, || spool_files(dir.path()).is_empty()));
    assert_exactly_once(&server.received(), 0..60);
    let s = handle.stats();
    assert_eq!((s.sent, s.spooled, s.spool.resent), (10, 50, 50), "{s:?}");
    assert!(report.stats.is_balanced());
}

#[test]
fn spool_is_resent_at_the_next_start() {
    let server = IngestionServer::start();
    server.set_mode(Mode::Down);
    let dir = tempfile::tempdir().unwrap();
    let (sender, handle) = start(config(&server).with_spool_dir(dir.path()));
    send_ids(&sender, 0..20);
    let report = handle.shutdown(WAIT);
    assert_eq!(report.stats.spooled, 20);
    server.set_mode(Mode::Normal);
    let (_sender, handle) = start(config(&server).with_spool_dir(dir.path()));
    assert!(server.wait_for(20, WAIT));
    assert_exactly_once(&server.received(), 0..20);
    assert!(wait_until(WAIT, || handle.stats().spool.resent == 20));
}

#[test]
fn corrupt_or_partial_spool_files_are_skipped_and_removed() {
    let server = IngestionServer::start();
    server.set_mode(Mode::Down);
    let dir = tempfile::tempdir().unwrap();
    let (sender, handle) = start(config(&server).with_spool_dir(dir.path()));
    send_ids(&sender, 0..5);
    handle.shutdown(WAIT);
    let good = spool_files(dir.path());
    assert_eq!(good.len(), 1);
    // A partial copy of a real file, plain garbage, and an empty file, all "older" than it.
    let bytes = std::fs::read(&good[0]).unwrap();
    let base = now_ms() - 1000;
    std::fs::write(
        dir.path()
            .join(format!("{base:016}-0000000000000001.v1.aispool")),
        &bytes[..bytes.len() / 2],
    )
    .unwrap();
    std::fs::write(
        dir.path()
            .join(format!("{base:016}-0000000000000002.v1.aispool")),
        b"not gzip at all",
    )
    .unwrap();
    std::fs::write(
        dir.path()
            .join(format!("{base:016}-0000000000000003.v1.aispool")),
        b"",
    )
    .unwrap();

    server.set_mode(Mode::Normal);
    let (_sender, handle) = start(config(&server).with_spool_dir(dir.path()));
    assert!(server.wait_for(5, WAIT));
    assert!(wait_until(WAIT, || spool_files(dir.path()).is_empty()));
    assert_exactly_once(&server.received(), 0..5);
    assert_eq!(handle.stats().spool.corrupt_files, 3);
}

#[cfg(unix)]
#[test]
fn spool_files_are_private_to_the_user() {
    use std::os::unix::fs::PermissionsExt;
    let server = IngestionServer::start();
    server.set_mode(Mode::Down);
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("nested").join("spool");
    let (sender, handle) = start(config(&server).with_spool_dir(&dir));
    send_ids(&sender, 0..3);
    handle.shutdown(WAIT);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    let files = spool_files(&dir);
    assert_eq!(files.len(), 1);
    assert_eq!(mode(&files[0]), 0o600);
    // Only complete files remain: no temporary names.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
}

#[test]
fn spool_files_past_the_maximum_age_are_removed_unsent() {
    let server = IngestionServer::start();
    server.set_mode(Mode::Down);
    let dir = tempfile::tempdir().unwrap();
    let (sender, handle) = start(config(&server).with_spool_dir(dir.path()));
    send_ids(&sender, 0..7);
    handle.shutdown(WAIT);
    // Make the file 49 hours old.
    let file = spool_files(dir.path()).remove(0);
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    let old = now_ms() - 49 * 3600 * 1000;
    let renamed = dir.path().join(format!("{old:016}{}", &name[16..]));
    std::fs::rename(&file, &renamed).unwrap();

    server.set_mode(Mode::Normal);
    let (_sender, handle) = start(config(&server).with_spool_dir(dir.path()));
    assert!(wait_until(WAIT, || handle.stats().spool.too_old == 7));
    assert!(spool_files(dir.path()).is_empty());
    assert!(
        server.requests().is_empty(),
        "expired events are never sent"
    );
}

#[test]
fn spool_size_is_capped() {
    let server = IngestionServer::start();
    server.set_mode(Mode::Down);
    let dir = tempfile::tempdir().unwrap();
    let cap = 2_000;
    let (sender, handle) = start(
        config(&server)
            .with_max_batch(10)
            .with_spool_dir(dir.path())
            .with_spool_max_bytes(cap),
    );
    send_ids(&sender, 0..200);
    let report = handle.shutdown(WAIT);
    let s = report.stats;
    assert!(s.spooled > 0 && s.dropped.spool_full > 0, "{s:?}");
    assert!(s.is_balanced(), "{s:?}");
    let size: u64 = spool_files(dir.path())
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    assert!(size <= cap, "{size} > {cap}");
}

#[test]
fn flush_returns_by_its_deadline_and_spools_the_rest() {
    let server = IngestionServer::start();
    server.push_fault(Fault::Delay(Duration::from_secs(3600)));
    let dir = tempfile::tempdir().unwrap();
    let (sender, handle) = start(
        config(&server)
            .with_spool_dir(dir.path())
            .with_request_timeout(Duration::from_secs(60)),
    );
    send_ids(&sender, 0..30);
    let timeout = Duration::from_millis(600);
    let report = handle.flush(timeout);
    assert!(
        report.elapsed <= timeout + Duration::from_millis(50),
        "{:?}",
        report.elapsed
    );
    assert!(report.completed, "the remainder was spooled in time");
    assert_eq!(report.stats.spooled, 30);
    // The hung request never completes; the spooled copy is delivered once.
    assert!(server.wait_for(30, WAIT));
    assert_exactly_once(&server.received(), 0..30);
}

#[test]
fn drop_of_the_handle_never_hangs_past_its_deadline() {
    // Dropping the layer's handle stops it within `DEFAULT_SHUTDOWN_DEADLINE`, with a
    // batch stuck in flight (the sink's own `drop_timeout` is for a sink dropped unstopped).
    let server = IngestionServer::start();
    server.push_fault(Fault::Delay(Duration::from_secs(3600)));
    let stuck = || {
        config(&server)
            .with_request_timeout(Duration::from_secs(60))
            .with_drop_timeout(Duration::from_millis(300))
    };
    let (sender, handle) = start(stuck());
    send_ids(&sender, 0..5);
    std::thread::sleep(Duration::from_millis(100)); // the batch is now stuck in flight
    let t = Instant::now();
    drop(handle);
    let deadline = azsdk_telemetry::DEFAULT_SHUTDOWN_DEADLINE + Duration::from_millis(100);
    assert!(t.elapsed() < deadline, "{:?}", t.elapsed());
    sender.send(TestItem::ok(99)); // after shutdown: counted, never blocks
}

/// Child half of `a_killed_child_loses_nothing_that_was_spooled` (a no-op when run alone).
#[test]
fn child_process_role() {
    let (Ok(dir), Ok(cs)) = (
        std::env::var("EXPORT_CHILD_SPOOL"),
        std::env::var("EXPORT_CHILD_CS"),
    ) else {
        return;
    };
    let cfg = ExportConfig::new(azsdk_telemetry::ConnectionString::parse(&cs).unwrap())
        .with_max_batch(10)
        .with_max_batch_age(Duration::from_millis(20))
        .with_spool_dir(dir);
    let (sender, handle) = start(cfg);
    send_ids(&sender, 0..100);
    let report = handle.flush(Duration::from_secs(10));
    println!("SPOOLED {}", report.stats.spooled);
    // Keep batching (and spooling) until killed.
    let mut id = 100;
    loop {
        sender.send(TestItem::ok(id));
        id += 1;
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn a_killed_child_loses_nothing_that_was_spooled() {
    let server = IngestionServer::start();
    server.set_mode(Mode::Down);
    let dir = tempfile::tempdir().unwrap();
    let (mut child, spooled) = common::spawn_spooling_child(
        "child_process_role",
        &[
            ("EXPORT_CHILD_SPOOL", dir.path().display().to_string()),
            ("EXPORT_CHILD_CS", server.connection_string()),
        ],
    );
    assert_eq!(spooled, Some(100), "the child spooled its first 100 events");
    std::thread::sleep(Duration::from_millis(150)); // mid-batch, mid-spooling
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    server.set_mode(Mode::Normal);
    let (_sender, handle) = start(config(&server).with_spool_dir(dir.path()));
    assert!(wait_until(WAIT, || spool_files(dir.path()).is_empty()));
    let received = server.received();
    let counts = id_counts(&received);
    for id in 0..100 {
        assert_eq!(counts.get(&id), Some(&1), "event {id}");
    }
    assert!(counts.values().all(|&n| n == 1), "no duplicates");
    assert_eq!(handle.stats().spool.resent as usize, received.len());
    assert_eq!(handle.stats().spool.corrupt_files, 0);
}

/// Child half of `eight_processes_draining_one_spool_send_each_event_once` (a no-op when
/// run alone): drains the shared spool, then prints how many spooled events it resent.
#[test]
fn draining_child_role() {
    let (Ok(dir), Ok(cs)) = (
        std::env::var("EXPORT_DRAIN_SPOOL"),
        std::env::var("EXPORT_DRAIN_CS"),
    ) else {
        return;
    };
    let cfg = common::config_for(&cs).with_spool_dir(&dir);
    let (_sender, handle) = start(cfg);
    wait_until(Duration::from_secs(10), || {
        spool_files(Path::new(&dir)).is_empty()
    });
    let report = handle.shutdown(WAIT);
    println!("SPOOLED {}", report.stats.spool.resent);
}

#[test]
fn eight_processes_draining_one_spool_send_each_event_once() {
    let server = IngestionServer::start();
    server.set_mode(Mode::Down);
    let dir = tempfile::tempdir().unwrap();
    let (sender, handle) = start(
        config(&server)
            .with_spool_dir(dir.path())
            .with_max_batch(10),
    );
    send_ids(&sender, 0..400);
    let report = handle.shutdown(WAIT);
    assert_eq!(report.stats.spooled, 400, "{:?}", report.stats);
    assert!(
        spool_files(dir.path()).len() >= 8,
        "one file per batch at least"
    );

    server.set_mode(Mode::Normal);
    let children: Vec<_> = (0..8)
        .map(|_| {
            let env = [
                ("EXPORT_DRAIN_SPOOL", dir.path().display().to_string()),
                ("EXPORT_DRAIN_CS", server.connection_string()),
            ];
            std::thread::spawn(move || {
                let (mut child, resent) = common::spawn_spooling_child("draining_child_role", &env);
                child.wait().unwrap();
                resent.expect("the child reports what it resent")
            })
        })
        .collect();
    let resent: u64 = children.into_iter().map(|c| c.join().unwrap()).sum();
    assert_exactly_once(&server.received(), 0..400);
    assert_eq!(
        resent, 400,
        "each spooled event resent by exactly one process"
    );
    assert!(spool_files(dir.path()).is_empty());
}

/// A process that finds a large spool drains it in the background at a bounded rate: at
/// most 16 files per request and one request per batch interval, while its own events go
/// out as if the spool were empty; in the end every file is delivered, each event once.
#[test]
fn a_large_spool_drains_in_the_background_at_a_bounded_rate() {
    let server = IngestionServer::start();
    server.set_mode(Mode::Down);
    let dir = tempfile::tempdir().unwrap();
    let (sender, handle) = start(config(&server).with_max_batch(5).with_spool_dir(dir.path()));
    send_ids(&sender, 0..200);
    assert!(handle.shutdown(WAIT).completed);
    assert_eq!(spool_files(dir.path()).len(), 40, "a file per batch of 5");

    server.set_mode(Mode::Normal);
    let interval = Duration::from_millis(300);
    let started = Instant::now();
    let (sender, handle) = start(
        config(&server)
            .with_max_batch_age(interval)
            .with_spool_dir(dir.path()),
    );
    send_ids(&sender, 1000..1001);
    assert!(
        server.wait_for(201, WAIT),
        "{} of 201",
        server.received_count()
    );
    assert!(wait_until(WAIT, || spool_files(dir.path()).is_empty()));
    assert_exactly_once(&server.received(), (0..200).chain(1000..1001));

    let requests = server.requests();
    let spooled: Vec<_> = requests
        .iter()
        .filter(|r| id_counts(&r.items).keys().all(|&id| id < 1000))
        .collect();
    let own = requests
        .iter()
        .find(|r| id_counts(&r.items).contains_key(&1000))
        .expect("the live event was sent");
    assert!(
        spooled.iter().all(|r| r.items.len() <= 16 * 5),
        "at most 16 files a request: {:?}",
        spooled.iter().map(|r| r.items.len()).collect::<Vec<_>>()
    );
    assert!(spooled.len() >= 3, "40 files take 3 requests or more");
    let gaps: Vec<_> = spooled.windows(2).map(|w| w[1].at - w[0].at).collect();
    assert!(
        gaps.iter()
            .all(|gap| *gap >= interval - Duration::from_millis(50)),
        "a batch interval between drain requests: {gaps:?}"
    );
    assert!(
        own.at < spooled.last().unwrap().at,
        "the live event did not wait for the drain"
    );
    assert!(
        own.at - started < interval + Duration::from_secs(1),
        "the live event went out in its own batch interval: {:?}",
        own.at - started
    );
    assert!(handle.shutdown(WAIT).completed);
    drop(sender);
}
