//! The report's metrics on fixed data sets with known answers, edges included.

mod common;

use std::time::Duration;

use azsdk_telemetry_report::{Day, Loader, Report};
use common::{call, call_on, jsonl, Ev};

fn day(text: &str) -> Day {
    Day::parse(text).unwrap()
}

fn report_of_text(text: &str, as_of: Option<&str>) -> Report {
    let mut loader = Loader::default();
    loader.read("fixture.jsonl", text.as_bytes()).unwrap();
    let (events, stats) = loader.finish();
    Report::build(&events, stats, as_of.map(day))
}

fn report(events: &[Ev], as_of: Option<&str>) -> Report {
    report_of_text(&jsonl(events), as_of)
}

fn users(report: &Report) -> (u64, u64, u64) {
    (report.mau, report.meu, report.mdu)
}

/// Days `first`, `first + 1`, ... (`count` of them) as `YYYY-MM-DD`.
fn days_from(first: &str, count: i64) -> Vec<String> {
    (0..count).map(|i| day(first).plus(i).to_string()).collect()
}

#[test]
fn users_active_on_1_2_9_and_10_distinct_days() {
    let mut events = vec![
        // Three events on one day are one active day.
        call("2025-10-05T00:00:00.000000Z", "one"),
        call("2025-10-05T12:00:00.000000Z", "one"),
        call("2025-10-05T23:59:59.999999Z", "one"),
        call_on("2025-10-03", "two"),
        call_on("2025-10-20", "two"),
        // Outside the window only.
        call_on("2025-09-30", "old"),
    ];
    for d in days_from("2025-10-01", 10) {
        events.push(call_on(&d, "ten"));
        events.push(call(&format!("{d}T18:30:00.000000Z"), "ten"));
    }
    for d in days_from("2025-10-11", 9) {
        events.push(call_on(&d, "nine"));
    }
    let report = report(&events, Some("2025-10-28"));
    assert_eq!(report.window_start.to_string(), "2025-10-01");
    assert_eq!(report.window_days, 28);
    assert_eq!(users(&report), (4, 3, 1));
}

#[test]
fn the_window_includes_its_first_and_last_day_and_nothing_beyond() {
    let events = [
        call("2025-09-30T23:59:59.999999Z", "before"),
        call("2025-10-01T00:00:00.000000Z", "first"),
        call("2025-10-28T23:59:59.999999Z", "last"),
        call("2025-10-29T00:00:00.000000Z", "after"),
    ];
    let as_of = report(&events, Some("2025-10-28"));
    assert_eq!(users(&as_of), (2, 0, 0));
    assert_eq!(as_of.input.tool_events_in_window, 2);
    assert_eq!(as_of.input.events_after_as_of, 1);
    assert_eq!(
        as_of.tools[0].calls, 2,
        "other sections read the same window"
    );

    // Without --as-of the window ends at the newest event's UTC day.
    let newest = report(&events, None);
    assert_eq!(newest.as_of.to_string(), "2025-10-29");
    assert_eq!(newest.window_start.to_string(), "2025-10-02");
    assert_eq!(users(&newest), (2, 0, 0), "last and after; first has left");
    assert_eq!(newest.input.events_after_as_of, 0);
}

#[test]
fn ten_days_straddling_the_window_start_are_dedicated_only_while_all_ten_are_in() {
    let events: Vec<Ev> = days_from("2025-09-30", 10)
        .iter()
        .map(|d| call_on(d, "straddler"))
        .collect();
    assert_eq!(users(&report(&events, Some("2025-10-27"))), (1, 1, 1));
    assert_eq!(users(&report(&events, Some("2025-10-28"))), (1, 1, 0));
    // 2025-10-09 is the last active day: the window ending 2025-11-05 still holds it.
    assert_eq!(users(&report(&events, Some("2025-11-05"))), (1, 0, 0));
    assert_eq!(users(&report(&events, Some("2025-11-06"))), (0, 0, 0));
    // Before any activity.
    assert_eq!(users(&report(&events, Some("2025-09-29"))), (0, 0, 0));
}

#[test]
fn identity_falls_back_to_the_mac_hash_and_system_events_are_not_activity() {
    let events = [
        call_on("2025-10-01", "N/A").mac("m1"),
        call_on("2025-10-02", "").mac("m1"),
        call_on("2025-10-03", "N/A").mac("N/A"),
        call_on("2025-10-04", "starter").system("SystemStarted", "start"),
        call_on("2025-10-05", "starter").system("SystemStarted", "start"),
        call_on("2025-10-05", "real"),
    ];
    let report = report(&events, Some("2025-10-05"));
    assert_eq!(users(&report), (2, 1, 0), "mac:m1 on two days, and real");
    assert_eq!(report.input.tool_events_in_window, 4);
    assert_eq!(report.input.tool_events_without_user, 1);
    assert_eq!(report.input.load.events, 6);
}

#[test]
fn sampled_items_count_for_what_they_stand_for() {
    let events = [
        call_on("2025-10-01", "u")
            .tool("azsdk_check", "validating")
            .ms(100)
            .sampled(25.0),
        call_on("2025-10-01", "u")
            .tool("azsdk_check", "validating")
            .ms(1000)
            .failed("NetworkError"),
        call_on("2025-10-01", "u")
            .tool("azsdk_third", "validating")
            .sampled(33.3),
    ];
    let report = report(&events, None);
    let check = report.tool("azsdk_check").unwrap();
    assert_eq!((check.calls, check.successes, check.failures), (5, 4, 1));
    assert_eq!(check.success_rate, 80.0);
    assert_eq!(check.latency.avg_ms, 280.0, "(4 × 100 + 1000) / 5");
    assert_eq!(
        check.latency.p50_ms, 100.0,
        "rank ceil(0.5 × 5) = 3 falls on 100"
    );
    assert_eq!(check.latency.p95_ms, 1000.0, "rank ceil(0.95 × 5) = 5");
    assert_eq!(report.tool("azsdk_third").unwrap().calls, 3);
    assert_eq!(report.input.tool_events_in_window, 8);
    assert_eq!(report.mau, 1, "users are distinct ids, never weighted");
    assert_eq!(report.categories[0].calls, 8);
}

#[test]
fn percentiles_follow_nearest_rank_on_known_lists() {
    // 1 s .. 20 s, in a scrambled order.
    let mut events: Vec<Ev> = (1..=20u64)
        .map(|s| {
            call_on("2025-10-01", "u")
                .tool("azsdk_generate_sdk", "generating")
                .ms((s * 7 % 20 + 1) * 1000)
        })
        .collect();
    for ms in [400, 100, 300, 200] {
        events.push(call_on("2025-10-01", "u").tool("azsdk_small", "x").ms(ms));
    }
    events.push(
        call_on("2025-10-01", "u")
            .tool("azsdk_single", "x")
            .ms(1234),
    );
    let report = report(&events, None);

    let generate = report.tool("azsdk_generate_sdk").unwrap();
    assert_eq!(generate.calls, 20);
    assert_eq!(generate.latency.avg_ms, 10_500.0);
    assert_eq!(generate.latency.p50_ms, 10_000.0);
    assert_eq!(generate.latency.p95_ms, 19_000.0);

    let small = report.tool("azsdk_small").unwrap();
    assert_eq!(
        (
            small.latency.avg_ms,
            small.latency.p50_ms,
            small.latency.p95_ms
        ),
        (250.0, 200.0, 400.0)
    );
    let single = report.tool("azsdk_single").unwrap();
    assert_eq!(
        (single.latency.p50_ms, single.latency.p95_ms),
        (1234.0, 1234.0)
    );

    // Category "x" holds the five small calls: 100, 200, 300, 400, 1234.
    let x = report.categories.iter().find(|c| c.name == "x").unwrap();
    assert_eq!(
        (x.calls, x.latency.p50_ms, x.latency.p95_ms),
        (5, 300.0, 1234.0)
    );
    assert_eq!(x.latency.avg_ms, 446.8);

    // Most called first.
    assert_eq!(report.tools[0].tool_name, "azsdk_generate_sdk");
}

#[test]
fn success_rates_and_errors_by_tool_and_type() {
    let events = [
        call_on("2025-10-01", "u"),
        call_on("2025-10-01", "u").failed("TestFailure"),
        call_on("2025-10-01", "u")
            .failed("TestFailure")
            .sampled(50.0),
        call_on("2025-10-01", "u").failed("NetworkError"),
        call_on("2025-10-01", "u")
            .tool("azsdk_generate_sdk", "generating")
            .failed("ValidationError"),
        call_on("2025-10-01", "u").tool("azsdk_generate_sdk", "generating"),
        call_on("2025-10-01", "u").tool("azsdk_generate_sdk", "generating"),
    ];
    let report = report(&events, None);
    let tests = report.tool("azsdk_run_tests").unwrap();
    assert_eq!((tests.calls, tests.successes, tests.failures), (5, 1, 4));
    assert_eq!(tests.success_rate, 20.0);
    let generate = report.tool("azsdk_generate_sdk").unwrap();
    assert_eq!(generate.success_rate, 66.67);
    assert_eq!(generate.category, "generating");

    let errors: Vec<(&str, &str, u64)> = report
        .errors
        .iter()
        .map(|e| (e.tool_name.as_str(), e.error_type.as_str(), e.count))
        .collect();
    assert_eq!(
        errors,
        [
            ("azsdk_run_tests", "TestFailure", 3),
            ("azsdk_generate_sdk", "ValidationError", 1),
            ("azsdk_run_tests", "NetworkError", 1),
        ]
    );
}

#[test]
fn sequences_per_session_are_ordered_by_time_not_by_file() {
    let at = |time: &str, session: &str, tool: &str| {
        call(&format!("2025-10-01T{time}.000000Z"), "u")
            .session(session)
            .tool(tool, "c")
    };
    let events = [
        at("10:05:00", "s1", "test"),
        at("10:10:00", "s1", "validate"),
        at("10:00:00", "s1", "generate"),
        at("11:00:00", "s2", "generate"),
        at("11:05:00", "s2", "test"),
        at("11:10:00", "s2", "validate"),
        at("12:00:00", "s3", "generate"),
        // Same time: input order decides.
        at("13:00:00", "s4", "verify"),
        at("13:00:00", "s4", "generate"),
    ];
    let report = report(&events, None);
    let sequences: Vec<(Vec<&str>, u64)> = report
        .sequences
        .iter()
        .map(|s| (s.tools.iter().map(String::as_str).collect(), s.sessions))
        .collect();
    assert_eq!(
        sequences,
        [
            (vec!["generate", "test", "validate"], 2),
            (vec!["generate"], 1),
            (vec!["verify", "generate"], 1),
        ]
    );
}

#[test]
fn generate_without_test_drop_off_counts_users() {
    let events = [
        call("2025-10-01T09:00:00.000000Z", "u1"),
        call("2025-10-01T10:00:00.000000Z", "u1").tool("azsdk_generate_sdk", "generating"),
        call_on("2025-10-01", "u2").tool("azsdk_generate_sdk", "generating"),
        call_on("2025-10-02", "u3").tool("azsdk_generate_sdk", "generating"),
        call_on("2025-10-03", "u3").tool("azsdk_generate_sdk", "generating"),
        call_on("2025-10-03", "u4"),
    ];
    let drop = report(&events, None).drop_off;
    assert_eq!(drop.from_tool, "azsdk_generate_sdk");
    assert_eq!(drop.to_tool, "azsdk_run_tests");
    assert_eq!((drop.started, drop.continued, drop.dropped), (3, 1, 2));
    assert_eq!(drop.drop_off_rate, 66.67);
}

#[test]
fn breakdowns_by_platform_agent_model_language_and_plane() {
    let copilot = |d: &str| {
        call_on(d, "u")
            .prop("agentName", "GitHub Copilot")
            .prop("agentModel", "gpt-4")
            .prop("clientName", "Visual Studio Code")
            .prop("language", ".NET")
            .prop("planeType", "data")
    };
    let events = [
        copilot("2025-10-01"),
        copilot("2025-10-01").tool("azsdk_generate_sdk", "generating"),
        copilot("2025-10-01")
            .tool("azsdk_generate_sdk", "generating")
            .failed("NetworkError"),
        call_on("2025-10-01", "u")
            .prop("platform", "CLI")
            .prop("language", "Java")
            .prop("planeType", "mgmt")
            .tool("azsdk_generate_sdk", "generating"),
        call_on("2025-10-01", "u").prop("platform", "CLI"),
        call_on("2025-10-01", "u").tool("azsdk_create_release_plan", "releasing"),
    ];
    let report = report(&events, None);
    let names = |list: &[azsdk_telemetry_report::metrics::Breakdown]| {
        list.iter()
            .map(|b| (b.name.clone(), b.calls, b.share))
            .collect::<Vec<_>>()
    };
    let owned = |v: &[(&str, u64, f64)]| {
        v.iter()
            .map(|(n, c, s)| (n.to_string(), *c, *s))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(&report.platforms),
        owned(&[("VSCode", 4, 66.67), ("CLI", 2, 33.33)])
    );
    assert_eq!(
        names(&report.agents),
        owned(&[("(not set)", 3, 50.0), ("GitHub Copilot", 3, 50.0)])
    );
    assert_eq!(
        names(&report.models),
        owned(&[("(not set)", 3, 50.0), ("gpt-4", 3, 50.0)])
    );
    assert_eq!(
        names(&report.languages),
        owned(&[(".NET", 3, 75.0), ("Java", 1, 25.0)])
    );
    assert_eq!(
        names(&report.planes),
        owned(&[("data", 3, 75.0), ("mgmt", 1, 25.0)])
    );
    let generations = &report.sdk_generations;
    assert_eq!(
        names(generations),
        owned(&[(".NET", 2, 66.67), ("Java", 1, 33.33)])
    );
    assert_eq!(generations[0].success_rate, 50.0);
    assert_eq!(report.release_plans, 1);
    assert_eq!(report.agents[1].success_rate, 66.67);
}

#[test]
fn malformed_lines_are_skipped_and_counted() {
    let good = call_on("2025-10-01", "u").envelope();
    let mut no_time = good.clone();
    no_time.as_object_mut().unwrap().remove("time");
    let mut bad_duration = good.clone();
    bad_duration["data"]["baseData"]["duration"] = "12 seconds".into();
    let truncated = &good.to_string()[..40];
    let text =
        format!("garbage\n{{}}\n[]\n\n{no_time}\n{bad_duration}\n{truncated}\n{good}\n   \n");
    let report = report_of_text(&text, None);
    let load = &report.input.load;
    assert_eq!((load.lines, load.events, load.skipped), (7, 1, 6));
    assert_eq!(load.skipped_by_reason["not JSON"], 2);
    assert_eq!(
        load.skipped_by_reason["not a RemoteDependencyData envelope"],
        2
    );
    assert_eq!(load.skipped_by_reason["missing time"], 1);
    assert_eq!(load.skipped_by_reason["invalid baseData.duration"], 1);
    let lines: Vec<u64> = load.examples.iter().map(|e| e.line).collect();
    assert_eq!(lines, [1, 2, 3, 5, 6, 7], "line numbers count blank lines");
    assert_eq!(report.mau, 1);
}

#[test]
fn the_trend_ends_with_the_reported_window() {
    let events: Vec<Ev> = days_from("2025-10-01", 12)
        .iter()
        .map(|d| call_on(d, "daily"))
        .collect();
    let report = report(&events, Some("2025-10-14"));
    assert_eq!(report.trend.len(), 14, "from the first active day to as-of");
    let last = report.trend.last().unwrap();
    assert_eq!(last.day, day("2025-10-14"));
    assert_eq!(
        (last.users.mau, last.users.meu, last.users.mdu),
        users(&report)
    );
    assert_eq!(users(&report), (1, 1, 1));
    let ninth = &report.trend[8];
    assert_eq!(
        (ninth.users.mau, ninth.users.meu, ninth.users.mdu),
        (1, 1, 0)
    );
}

#[test]
fn envelopes_the_framework_writes_load_as_written() {
    use azsdk_telemetry::ToolExecuted;
    let capture = azsdk_telemetry_testkit::capture();
    ToolExecuted {
        tool_name: "azsdk_generate_sdk".into(),
        tool_category: "generating".into(),
        duration: Duration::from_millis(12_450),
        success: true,
        ..ToolExecuted::default()
    }
    .emit();
    ToolExecuted {
        tool_name: "azsdk_run_tests".into(),
        tool_category: "testing".into(),
        duration: Duration::from_micros(8_234_567),
        success: false,
        error_type: Some("TestFailure".into()),
        ..ToolExecuted::default()
    }
    .emit();
    let text: String = capture
        .envelopes()
        .iter()
        .map(|e| e.to_string() + "\n")
        .collect();
    let report = report_of_text(&text, None);
    assert_eq!(report.input.load.skipped, 0, "{:?}", report.input.load);
    assert_eq!(report.input.load.events, 2);
    assert_eq!(
        report.tool("azsdk_generate_sdk").unwrap().latency.p50_ms,
        12_450.0
    );
    assert_eq!(
        report.tool("azsdk_run_tests").unwrap().latency.avg_ms,
        8_234.567
    );
    assert_eq!(report.errors[0].error_type, "TestFailure");
    // The capture has no device ids (`N/A`): the calls count for no user.
    assert_eq!(report.mau, 0);
    assert_eq!(report.input.tool_events_without_user, 2);
}
