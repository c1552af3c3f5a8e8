//! Value scrubbing: what the allowlist lets through is still cleaned of secrets, personal paths
//! and personal data, and cut to size, before it is recorded.
//!
//! # Replacement tokens
//!
//! Fixed strings that reveal neither a prefix nor the length of what they replaced:
//!
//! | token | replaces |
//! |---|---|
//! | [`REDACTED`] `[REDACTED]` | a secret; for `key=value` forms only the value (`AccountKey=[REDACTED]`) |
//! | [`PATH`] `[PATH]` | an absolute path, or the part of it above the repository (`[PATH]/specification/x`) |
//! | [`EMAIL`] `[EMAIL]` | an e-mail address |
//! | [`IP`] `[IP]` | a public IPv4 or IPv6 address (private, loopback and link-local stay) |
//! | [`USER`] `[USER]` | the current user name (or the user named by a home path) |
//! | [`HOST`] `[HOST]` | the current host name |
//!
//! # How it stays cheap
//!
//! One Aho–Corasick pass (ASCII case-insensitive) over the input looks for every rule's
//! trigger literals at once (`eyj`, `ghp_`, `password`, `/`, `@`, a digit and a dot, the user
//! name, ...). Text with none of them — most argument values, such as `Python`, `2025-09-01`
//! or `storage` — is returned as `Cow::Borrowed` right there. Otherwise only the regexes of
//! the rules that were triggered run. A second, byte-class scan looks for a run of 16 token
//! characters (letters, digits, `+ / _ -`); only text with one is checked for key material
//! without a keyword (`shape.rs`). All regexes are compiled once per process
//! ([`std::sync::OnceLock`]), and the process-wide [`scrub`] uses one scrubber built once.
//!
//! # Order of the stages
//!
//! secrets → home directory to `~` → paths → e-mails, public IPs, user and host names. Each
//! stage collects spans, merges overlapping ones, and rebuilds the string once. Replacement
//! tokens are bracketed, so no two pieces of text left around a replacement can join into a
//! new token.
//!
//! See `rules.rs` (secrets with a signature or a key name), `shape.rs` (keys by their length
//! and alphabet alone), `paths.rs`, `pii.rs` (e-mail, IP) and `identity.rs` (user, host)
//! for the exact policies.

use std::borrow::Cow;
use std::sync::OnceLock;

mod identity;
pub(crate) mod limits;
mod paths;
mod pii;
mod rules;
mod scrubber;
mod shape;
#[cfg(test)]
mod tests;
mod truncate;

pub(crate) use scrubber::Scrubber;
pub(crate) use truncate::{truncate_bytes, truncate_chars};

/// Replaces a secret.
pub(crate) const REDACTED: &str = "[REDACTED]";

/// Replaces an absolute path, or the part of it above the repository.
pub(crate) const PATH: &str = "[PATH]";

/// Replaces an e-mail address.
pub(crate) const EMAIL: &str = "[EMAIL]";

/// Replaces a public IP address.
pub(crate) const IP: &str = "[IP]";

/// Replaces the user name.
pub(crate) const USER: &str = "[USER]";

/// Replaces the host name.
pub(crate) const HOST: &str = "[HOST]";

/// A byte range of the text to replace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    pub start: usize,
    pub end: usize,
    pub replacement: &'static str,
}

impl Span {
    pub(crate) fn new(start: usize, end: usize, replacement: &'static str) -> Self {
        Span {
            start,
            end,
            replacement,
        }
    }
}

/// The process-wide scrubber, built on first use with the identity read from the
/// environment (user name, host name, home directory).
fn default_scrubber() -> &'static Scrubber {
    static DEFAULT: OnceLock<Scrubber> = OnceLock::new();
    DEFAULT.get_or_init(|| Scrubber::builder().build())
}

/// Builds the process-wide scrubber now (its patterns compile once per process), so that
/// the first record scrubbed does not wait for it.
pub(crate) fn prepare() {
    default_scrubber();
}

/// Scrubs secrets, personal paths, e-mails, public IPs, user and host names with the
/// process-wide scrubber. Borrowed when nothing matched (the common case does not allocate).
pub(crate) fn scrub(input: &str) -> Cow<'_, str> {
    default_scrubber().scrub(input)
}

/// Whether [`scrub`] could change `input` at all: the process-wide scrubber's
/// pre-filter alone (no regex runs). `false` means `scrub(input)` is `input`.
pub(crate) fn might_scrub(input: &str) -> bool {
    default_scrubber().might_match(input)
}

/// Inputs longer than this (or 8 × `max_bytes`, whichever is larger) are scrubbed only in a
/// prefix by [`scrub_limited`]; see there.
const SCAN_FLOOR_BYTES: usize = 64 * 1024;
/// How much room the prefix scan must leave beyond `max_bytes`: room for the tail of the scanned
/// prefix (where a secret could have been cut) even if replacements grew it five-fold
/// (`[REDACTED]` for a two-character value).
const SCAN_SAFETY_BYTES: usize = 5 * 4096;

/// Scrubs, then cuts to at most `max_bytes` on a UTF-8 boundary. Used for error messages,
/// crash reasons and tool responses.
///
/// Scrubbing comes first, so a secret is never cut into a piece that no longer looks like a
/// secret. For very large inputs only a prefix (`max(8 × max_bytes, 64 KiB)` bytes) is
/// scrubbed, when that provably yields the same first `max_bytes`: the result of the prefix is
/// used only if it is at least `max_bytes + 20 KiB` long, so that whatever the cut at the end
/// of the prefix did lies beyond what is kept; otherwise the whole input is scrubbed.
pub(crate) fn scrub_limited(input: &str, max_bytes: usize) -> Cow<'_, str> {
    scrub_limited_with(default_scrubber(), input, max_bytes)
}

/// [`scrub_limited`] with a given scrubber.
pub(crate) fn scrub_limited_with<'a>(
    scrubber: &Scrubber,
    input: &'a str,
    max_bytes: usize,
) -> Cow<'a, str> {
    let cap = max_bytes.saturating_mul(8).max(SCAN_FLOOR_BYTES);
    if input.len() > cap {
        let prefix = truncate_bytes(input, cap);
        let out = scrubber.scrub(prefix);
        if out.len() >= max_bytes.saturating_add(SCAN_SAFETY_BYTES) {
            return cut(out, max_bytes);
        }
    }
    cut(scrubber.scrub(input), max_bytes)
}

fn cut(s: Cow<'_, str>, max_bytes: usize) -> Cow<'_, str> {
    match s {
        Cow::Borrowed(b) => Cow::Borrowed(truncate_bytes(b, max_bytes)),
        Cow::Owned(mut o) => {
            let n = truncate_bytes(&o, max_bytes).len();
            o.truncate(n);
            Cow::Owned(o)
        }
    }
}
