//! The current user's name, host name and home directory, and finding them in text.
//!
//! Matching policy:
//! - names are matched ASCII-case-insensitively as *whole words*: the characters on either
//!   side must not be letters or digits (so `_`, `-`, `.`, `/` and spaces are boundaries, and
//!   user `alice` is found in `alice-laptop` and `alice_dev` but not in `malice`);
//! - a name shorter than 3 characters, or one of [`COMMON_NAMES`] (`root`, `user`, `admin`,
//!   `runner`, `localhost`, ...), is ignored: replacing such a word everywhere would destroy
//!   ordinary messages, and those names identify nobody;
//! - a host name is also matched by its first label (`alice-pc` for `alice-pc.corp.contoso.com`);
//! - the home directory (as written, with the other separator, and JSON-escaped) is replaced
//!   by `~` before paths are scrubbed, so that a home path with spaces
//!   (`C:\Users\Jane Doe\...`) is still recognised as a path.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use super::{Span, HOST, USER};

/// Names never treated as identifying (too common, or shared by every CI machine).
pub(crate) const COMMON_NAMES: &[&str] = &[
    "root",
    "user",
    "users",
    "admin",
    "administrator",
    "runner",
    "runneradmin",
    "localhost",
    "localdomain",
    "ubuntu",
    "debian",
    "fedora",
    "vagrant",
    "docker",
    "guest",
    "default",
    "test",
    "tester",
    "home",
    "build",
    "builder",
    "buildkitsandbox",
    "jenkins",
    "vsts",
    "cloudtest",
    "codespace",
    "codespaces",
    "node",
    "app",
    "dev",
    "system",
    "azure",
    "azureuser",
    "local",
    "host",
    "server",
    "desktop",
    "laptop",
    "computer",
    "machine",
    "path",
    "email",
    "redacted",
    "token",
    "secret",
    "python",
    "java",
    "rust",
    "storage",
    "sdk",
    "src",
    "main",
    "master",
    "temp",
    "tmp",
    "work",
    "workspace",
    "nobody",
    "daemon",
    "www",
    "web",
    "data",
    "null",
    "none",
    "unknown",
    "sandbox",
    "owner",
    "public",
    "shared",
    "service",
    "specification",
    "github",
    "runner",
];

/// Identity values, as detected or configured.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Identity {
    pub user_name: Option<String>,
    /// Every name the host goes by: the operating system's, and the environment's when it
    /// says something else.
    pub host_names: Vec<String>,
    pub home_dir: Option<String>,
}

impl Identity {
    /// Reads the environment: `USER`/`USERNAME`/`LOGNAME`, `HOME`/`USERPROFILE`, and the host
    /// name from the operating system (`gethostname`, which macOS and Windows answer without
    /// any file) as well as `HOSTNAME`/`COMPUTERNAME` and `/etc/hostname`, all of them kept
    /// when they differ.
    pub(crate) fn detect() -> Self {
        Self::detect_from(|name| std::env::var(name).ok())
    }

    /// [`Identity::detect`] over any variable lookup (the host name still comes from the
    /// operating system and `/etc/hostname`).
    pub(crate) fn detect_from(env: impl Fn(&str) -> Option<String>) -> Self {
        let var = |names: &[&str]| {
            names
                .iter()
                .filter_map(|n| env(n))
                .map(|v| v.trim().to_owned())
                .find(|v| !v.is_empty())
        };
        let os = gethostname::gethostname()
            .to_string_lossy()
            .trim()
            .to_owned();
        let file = std::fs::read_to_string("/etc/hostname")
            .ok()
            .map(|s| s.trim().to_owned());
        let mut host_names: Vec<String> = Vec::new();
        for name in [Some(os), var(&["HOSTNAME"]), var(&["COMPUTERNAME"]), file]
            .into_iter()
            .flatten()
        {
            if !name.is_empty() && !host_names.iter().any(|h| h.eq_ignore_ascii_case(&name)) {
                host_names.push(name);
            }
        }
        Identity {
            user_name: var(&["USER", "USERNAME", "LOGNAME"]),
            host_names,
            home_dir: var(&["HOME", "USERPROFILE"]),
        }
    }
}

/// What a found literal is replaced by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Home,
    User,
    Host,
}

/// Compiled identity matcher. `None` fields mean nothing to look for.
#[derive(Debug)]
pub(crate) struct IdentityMatcher {
    ac: Option<AhoCorasick>,
    kinds: Vec<Kind>,
    /// The literals, for the combined pre-filter.
    pub literals: Vec<String>,
}

/// Whether `name` is worth looking for.
pub(crate) fn usable_name(name: &str) -> bool {
    name.chars().count() >= 3 && !COMMON_NAMES.iter().any(|c| c.eq_ignore_ascii_case(name))
}

impl IdentityMatcher {
    pub(crate) fn new(id: &Identity) -> Self {
        let mut literals: Vec<String> = Vec::new();
        let mut kinds = Vec::new();
        let mut add = |lit: String, kind: Kind| {
            if !lit.is_empty() && !literals.iter().any(|l| l.eq_ignore_ascii_case(&lit)) {
                literals.push(lit);
                kinds.push(kind);
            }
        };
        if let Some(home) = id.home_dir.as_deref() {
            let home = home.trim_end_matches(['/', '\\']);
            // Only a home with at least two segments (`/home/x`, `C:\Users\x`): `/` or `C:`
            // alone would match everything.
            if home.split(['/', '\\']).filter(|s| !s.is_empty()).count() >= 2 {
                add(home.to_owned(), Kind::Home);
                add(home.replace('\\', "/"), Kind::Home);
                add(home.replace('/', "\\"), Kind::Home);
                add(home.replace('/', "\\").replace('\\', "\\\\"), Kind::Home);
            }
        }
        for host in &id.host_names {
            if usable_name(host) {
                add(host.to_owned(), Kind::Host);
            }
            if let Some((short, _)) = host.split_once('.') {
                if usable_name(short) {
                    add(short.to_owned(), Kind::Host);
                }
            }
        }
        let mut users: Vec<&str> = Vec::new();
        if let Some(u) = id.user_name.as_deref() {
            users.push(u);
            // DOMAIN\user
            if let Some((_, u2)) = u.rsplit_once('\\') {
                users.push(u2);
            }
        }
        if let Some(home) = id.home_dir.as_deref() {
            if let Some(last) = home
                .trim_end_matches(['/', '\\'])
                .rsplit(['/', '\\'])
                .next()
            {
                users.push(last);
            }
        }
        for u in users {
            if usable_name(u) {
                add(u.to_owned(), Kind::User);
                if u.to_lowercase() != u {
                    add(u.to_lowercase(), Kind::User);
                }
            }
        }
        let ac = if literals.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .build(&literals)
                    .expect("identity literals form a valid automaton"),
            )
        };
        IdentityMatcher {
            ac,
            kinds,
            literals,
        }
    }

    /// Spans of the home directory only (replaced by `~` before path scrubbing).
    pub(crate) fn home_spans(&self, text: &str, spans: &mut Vec<Span>) {
        self.spans(text, spans, true);
    }

    /// Spans of user and host names.
    pub(crate) fn name_spans(&self, text: &str, spans: &mut Vec<Span>) {
        self.spans(text, spans, false);
    }

    fn spans(&self, text: &str, spans: &mut Vec<Span>, home: bool) {
        let Some(ac) = &self.ac else { return };
        let mut found: Vec<Span> = Vec::new();
        for m in ac.find_overlapping_iter(text) {
            let kind = self.kinds[m.pattern().as_usize()];
            if (kind == Kind::Home) != home {
                continue;
            }
            let (s, e) = (m.start(), m.end());
            if !text.is_char_boundary(s) || !text.is_char_boundary(e) {
                continue;
            }
            let before = text[..s].chars().next_back();
            let after = text[e..].chars().next();
            let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
            if word(before) || word(after) {
                continue;
            }
            let repl = match kind {
                Kind::Home => "~",
                Kind::User => USER,
                Kind::Host => HOST,
            };
            found.push(Span::new(s, e, repl));
        }
        // Longest first at each start; then keep non-overlapping ones left to right.
        found.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
        let mut end = 0;
        for sp in found {
            if sp.start >= end {
                end = sp.end;
                spans.push(sp);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher() -> IdentityMatcher {
        IdentityMatcher::new(&Identity {
            user_name: Some("alice".into()),
            host_names: vec!["alice-pc.corp.contoso.com".into()],
            home_dir: Some("/home/alice".into()),
        })
    }

    #[test]
    fn longest_name_wins_and_words_are_whole() {
        let m = matcher();
        let text = "ALICE-PC said alice, not malice; alice_dev";
        let mut spans = Vec::new();
        m.name_spans(text, &mut spans);
        let got: Vec<(&str, &str)> = spans
            .iter()
            .map(|s| (&text[s.start..s.end], s.replacement))
            .collect();
        assert_eq!(got, [("ALICE-PC", HOST), ("alice", USER), ("alice", USER)]);
    }

    #[test]
    fn the_kernel_host_name_is_found_whatever_the_environment_says() {
        let kernel = gethostname::gethostname()
            .to_string_lossy()
            .trim()
            .to_owned();
        let id = Identity::detect();
        assert!(
            id.host_names.iter().any(|h| h == &kernel),
            "{kernel:?} not in {:?}",
            id.host_names
        );
    }

    #[test]
    fn common_and_short_names_are_ignored() {
        let m = IdentityMatcher::new(&Identity {
            user_name: Some("runner".into()),
            host_names: vec!["db".into()],
            home_dir: None,
        });
        assert!(m.ac.is_none());
    }
}
