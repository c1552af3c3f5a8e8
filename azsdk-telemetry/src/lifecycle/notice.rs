//! The first-run notice: what is collected and how to opt out, once, on stderr.

use std::io::Write;

/// The default notice for an application named `app`.
pub(crate) fn default_notice(app: &str) -> String {
    format!(
        "Telemetry: {app} collects anonymous usage data to improve it: which tools run, \
how long they take, whether they succeed (with a classified, scrubbed error), the \
arguments its authors marked safe, and hashed device identifiers. It never collects \
file contents, secrets, paths that name you, or personal data.\n\
To opt out, set AZSDK_TELEMETRY_ENABLED=false (or DO_NOT_TRACK=1), or run \
`{app} config set telemetry.enabled false`.\n"
    )
}

/// Writes the notice to standard error — never standard output, which an
/// MCP stdio server uses for its protocol. Errors are ignored: a closed
/// stderr must not stop the tool.
pub(crate) fn show(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(text.as_bytes());
    let _ = stderr.flush();
}
