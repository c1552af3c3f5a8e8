//! The opt-out variables as [`TelemetryBuilder::opt_out`] reads them from the process
//! environment: `AZSDK_TELEMETRY_ENABLED`'s off and on values (a typo is off) and
//! `DO_NOT_TRACK`, which wins.
//!
//! This file is its own test binary with a single test, because it changes the process
//! environment.
//!
//! [`TelemetryBuilder::opt_out`]: azsdk_telemetry::TelemetryBuilder::opt_out

use azsdk_telemetry::{OptOut, TelemetryLayer};

const ENABLED: &str = "AZSDK_TELEMETRY_ENABLED";
const DO_NOT_TRACK: &str = "DO_NOT_TRACK";

#[test]
fn the_opt_out_variables() {
    // A state directory without settings: only the variables decide.
    let state = tempfile::tempdir().unwrap();
    let opt_out = |vars: &[(&str, &str)]| {
        std::env::remove_var(ENABLED);
        std::env::remove_var(DO_NOT_TRACK);
        for (name, value) in vars {
            std::env::set_var(name, value);
        }
        TelemetryLayer::builder().state_dir(state.path()).opt_out()
    };

    // Every documented off value opts out.
    for value in ["false", "FALSE", "0", "no", "Off", " off "] {
        assert!(opt_out(&[(ENABLED, value)]).is_some(), "{value}");
    }
    // On values and an empty one keep telemetry on.
    for value in ["true", "1", "YES", "on", ""] {
        assert_eq!(opt_out(&[(ENABLED, value)]), None, "{value}");
    }
    // A typo is treated as off.
    assert_eq!(
        opt_out(&[(ENABLED, "flase")]),
        Some(OptOut::EnabledVariable("flase".into()))
    );
    // DO_NOT_TRACK wins even when AZSDK_TELEMETRY_ENABLED is true.
    assert_eq!(
        opt_out(&[(ENABLED, "true"), (DO_NOT_TRACK, "1")]),
        Some(OptOut::DoNotTrack)
    );
    assert_eq!(opt_out(&[(DO_NOT_TRACK, "true")]), Some(OptOut::DoNotTrack));
    assert_eq!(opt_out(&[(DO_NOT_TRACK, "0")]), None);
}
