//! The scrubber's own suites: properties over generated text, gitleaks' labelled
//! examples, and the machine's identity. The routes into an event are tested through the
//! layer in `azsdk-telemetry/tests/outside_strings.rs`.

mod gitleaks;
mod props;

#[test]
fn a_host_name_only_the_kernel_knows_is_scrubbed() {
    let kernel = gethostname_of_this_machine();
    let usable = kernel.chars().count() >= 3
        && !super::identity::COMMON_NAMES
            .iter()
            .any(|c| c.eq_ignore_ascii_case(&kernel));
    if !usable {
        eprintln!("skipped: the kernel's host name {kernel:?} is too common to be scrubbed");
        return;
    }
    // The environment names another host; the kernel's name is still found.
    let decoy = |name: &str| match name {
        "HOSTNAME" => Some("decoy-host-from-env".to_owned()),
        _ => std::env::var(name).ok(),
    };
    let identity = super::identity::Identity::detect_from(decoy);
    let known = |name: &str| {
        identity
            .host_names
            .iter()
            .any(|h| h.eq_ignore_ascii_case(name))
    };
    assert!(known(&kernel), "{:?}", identity.host_names);
    assert!(known("decoy-host-from-env"), "{:?}", identity.host_names);
    let scrubber = super::Scrubber::builder()
        .detect_identity(false)
        .host_name(kernel.clone())
        .build();
    let message = format!("could not reach {kernel} on port 443");
    assert_eq!(
        scrubber.scrub(&message),
        "could not reach [HOST] on port 443"
    );
}

/// The host name as the operating system reports it, read the way a user's shell would
/// (`hostname`), so that this test does not just repeat the library's own call.
fn gethostname_of_this_machine() -> String {
    std::process::Command::new("hostname")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .unwrap_or_default()
                .trim()
                .to_owned()
        })
}
