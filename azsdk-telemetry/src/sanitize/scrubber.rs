//! The scrubbing engine: one literal pre-filter pass, then only the stages and rules whose
//! trigger literals occurred.

use std::borrow::Cow;
use std::sync::OnceLock;

use aho_corasick::automaton::Automaton;
use aho_corasick::{dfa::DFA, Anchored, MatchKind};
use regex::Regex;

use super::identity::{Identity, IdentityMatcher};
use super::rules::{self, RULES, SHAPE_RULES};
use super::{paths, pii, shape, Span, REDACTED};

/// Re-scrub passes after the first one changed something (see [`Scrubber::scrub`]).
const MAX_EXTRA_PASSES: usize = 3;

/// The regexes shared by every [`Scrubber`], each compiled once per process and only when
/// a text first needs it: a process whose values never trigger a rule compiles none (its
/// start costs the pre-filter alone).
struct Compiled {
    /// [`RULES`], by index.
    secrets: Vec<OnceLock<(Regex, Vec<usize>)>>,
    /// [`SHAPE_RULES`], run when the text has a long run of token characters.
    shape_rules: Vec<OnceLock<(Regex, Vec<usize>)>>,
    paths: OnceLock<Regex>,
    email: OnceLock<Regex>,
    ipv4: OnceLock<Regex>,
    ipv6: OnceLock<Regex>,
}

fn compiled() -> &'static Compiled {
    static COMPILED: OnceLock<Compiled> = OnceLock::new();
    COMPILED.get_or_init(|| {
        let slots = |n: usize| (0..n).map(|_| OnceLock::new()).collect();
        Compiled {
            secrets: slots(RULES.len()),
            shape_rules: slots(SHAPE_RULES.len()),
            paths: OnceLock::new(),
            email: OnceLock::new(),
            ipv4: OnceLock::new(),
            ipv6: OnceLock::new(),
        }
    })
}

/// A rule's regex and its secret groups, compiled on first use.
fn rule<'a>(
    slot: &'a OnceLock<(Regex, Vec<usize>)>,
    def: &rules::RuleDef,
) -> &'a (Regex, Vec<usize>) {
    slot.get_or_init(|| {
        let re = rules::compile(def);
        let groups = rules::secret_groups(&re);
        (re, groups)
    })
}

/// A built-in pattern's regex, compiled on first use.
fn pattern(slot: &OnceLock<Regex>, source: fn() -> &'static str) -> &Regex {
    slot.get_or_init(|| Regex::new(source()).expect("built-in scrubbing pattern compiles"))
}

/// What a pre-filter pattern stands for.
#[derive(Clone, Copy, Debug)]
enum Trigger {
    Secret(u8),
    Path,
    Email,
    Ipv4,
    Ipv6,
    Identity,
}

/// What the pre-filter found in one input.
#[derive(Default, Debug, PartialEq, Eq)]
struct Hits {
    secrets: u128,
    /// A run of [`shape::LONG_RUN`] token characters: key material without a keyword may be there.
    shape: bool,
    path: bool,
    email: bool,
    ipv4: bool,
    ipv6: bool,
    identity: bool,
}

impl Hits {
    fn add(&mut self, trigger: Trigger) {
        match trigger {
            Trigger::Secret(i) => self.secrets |= 1u128 << i,
            Trigger::Path => self.path = true,
            Trigger::Email => self.email = true,
            Trigger::Ipv4 => self.ipv4 = true,
            Trigger::Ipv6 => self.ipv6 = true,
            Trigger::Identity => self.identity = true,
        }
    }

    fn any(&self) -> bool {
        self.secrets != 0
            || self.shape
            || self.path
            || self.email
            || self.ipv4
            || self.ipv6
            || self.identity
    }
}

/// A compiled scrubber: secret rules, path, e-mail and IP rules (shared, compiled once per
/// process) plus this scrubber's identity (user name, host name, home directory).
///
/// Build one with [`Scrubber::builder`]; most code uses the process-wide
/// [`scrub`](super::scrub) instead.
pub(crate) struct Scrubber {
    prefilter: DFA,
    triggers: Vec<Trigger>,
    identity: IdentityMatcher,
}

impl std::fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scrubber")
            .field("rules", &RULES.len())
            .field("identity_literals", &self.identity.literals.len())
            .finish()
    }
}

/// Configures a [`Scrubber`]. By default the identity (user name, host name, home directory)
/// is read from the environment; any value set here replaces the detected one.
#[derive(Clone, Debug)]
pub(crate) struct ScrubberBuilder {
    detect: bool,
    user_name: Option<String>,
    host_name: Option<String>,
    home_dir: Option<String>,
}

impl ScrubberBuilder {
    /// Sets the user name to remove (whole words, case-insensitive).
    #[cfg(any(test, fuzzing))]
    pub(crate) fn user_name(mut self, name: impl Into<String>) -> Self {
        self.user_name = Some(name.into());
        self
    }

    /// Sets the host name to remove (also by its first label).
    #[cfg(any(test, fuzzing))]
    pub(crate) fn host_name(mut self, name: impl Into<String>) -> Self {
        self.host_name = Some(name.into());
        self
    }

    /// Sets the home directory, recognised even when it contains spaces.
    #[cfg(any(test, fuzzing))]
    pub(crate) fn home_dir(mut self, dir: impl Into<String>) -> Self {
        self.home_dir = Some(dir.into());
        self
    }

    /// Whether to read the identity from the environment for values not set explicitly
    /// (default `true`). Tests turn it off to be deterministic.
    #[cfg(any(test, fuzzing))]
    pub(crate) fn detect_identity(mut self, detect: bool) -> Self {
        self.detect = detect;
        self
    }

    /// Builds the scrubber. The shared rule set is compiled on first use, once per process.
    pub(crate) fn build(self) -> Scrubber {
        let detected = if self.detect {
            Identity::detect()
        } else {
            Identity::default()
        };
        let id = Identity {
            user_name: self.user_name.or(detected.user_name),
            host_names: self
                .host_name
                .map_or(detected.host_names, |name| vec![name]),
            home_dir: self.home_dir.or(detected.home_dir),
        };
        let identity = IdentityMatcher::new(&id);
        let (literals, triggers) = prefilter_literals(&identity);
        // A DFA of its own type, not behind `AhoCorasick` (a `dyn` automaton, one virtual
        // call per input byte): the search loop is compiled for it, a table lookup per byte.
        // The automaton `AhoCorasick` chose for this many literals (a contiguous NFA) cost
        // ~45 instructions per byte in the overlapping search, most of what scrubbing a
        // clean tool call cost. Without the automaton's own pre-filter: with triggers of one
        // common byte (`/`, `=`, `@`, digits) it would stop at almost every byte, and a call
        // per stop costs more than the transitions it skips.
        let prefilter = aho_corasick::dfa::DFA::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .prefilter(false)
            .build(&literals)
            .expect("pre-filter literals form a valid automaton");
        Scrubber {
            prefilter,
            triggers,
            identity,
        }
    }
}

/// The pre-filter's literals and what each stands for: every rule's triggers, then those of
/// paths, e-mails and IPs, then the identity's literals.
fn prefilter_literals(identity: &IdentityMatcher) -> (Vec<String>, Vec<Trigger>) {
    let mut literals: Vec<String> = Vec::new();
    let mut triggers = Vec::new();
    for (i, def) in RULES.iter().enumerate() {
        let i = u8::try_from(i).expect("fewer than 256 rules");
        for t in def.triggers {
            literals.push((*t).to_owned());
            triggers.push(Trigger::Secret(i));
        }
    }
    let groups: [(&[&str], Trigger); 4] = [
        (paths::TRIGGERS, Trigger::Path),
        (pii::EMAIL_TRIGGERS, Trigger::Email),
        (pii::IPV4_TRIGGERS, Trigger::Ipv4),
        (pii::IPV6_TRIGGERS, Trigger::Ipv6),
    ];
    for (lits, trig) in groups {
        for t in lits {
            literals.push((*t).to_owned());
            triggers.push(trig);
        }
    }
    for lit in &identity.literals {
        literals.push(lit.clone());
        triggers.push(Trigger::Identity);
    }
    (literals, triggers)
}

impl Scrubber {
    /// A scrubber with a fixed identity (user `alice` on `alice-laptop.contoso.com`, home
    /// `/home/alice`), so that tests and fuzz runs give the same output on any machine.
    #[cfg(any(test, fuzzing))]
    pub(crate) fn fixed() -> &'static Scrubber {
        static S: std::sync::OnceLock<Scrubber> = std::sync::OnceLock::new();
        S.get_or_init(|| {
            Scrubber::builder()
                .detect_identity(false)
                .user_name("alice")
                .host_name("alice-laptop.contoso.com")
                .home_dir("/home/alice")
                .build()
        })
    }

    /// A builder with the default rules, reading the identity from the environment unless
    /// told otherwise.
    pub(crate) fn builder() -> ScrubberBuilder {
        ScrubberBuilder {
            detect: true,
            user_name: None,
            host_name: None,
            home_dir: None,
        }
    }

    /// Removes secrets, personal paths, e-mail addresses, public IP addresses, and this
    /// scrubber's user and host names from `input`. Returns `Cow::Borrowed` (no allocation)
    /// when nothing was found, which is the common case.
    pub(crate) fn scrub<'a>(&self, input: &'a str) -> Cow<'a, str> {
        let mut cur = match self.scrub_once(input) {
            Cow::Borrowed(b) => return Cow::Borrowed(b),
            Cow::Owned(o) => o,
        };
        // A replacement can bring pieces together that a rule then sees (a path replaced
        // inside what becomes `scheme://user@`): run again until nothing changes, at most
        // MAX_EXTRA_PASSES more times. Text that did not change costs one pre-filter pass.
        for _ in 0..MAX_EXTRA_PASSES {
            let next = match self.scrub_once(&cur) {
                Cow::Borrowed(_) => break,
                Cow::Owned(n) => n,
            };
            cur = next;
        }
        Cow::Owned(cur)
    }

    /// Whether [`scrub`](Scrubber::scrub) could change `input`: the pre-filter alone.
    pub(crate) fn might_match(&self, input: &str) -> bool {
        let mut any = false;
        self.each_trigger(input.as_bytes(), |_| {
            any = true;
            false
        });
        any || shape::has_long_run(input.as_bytes())
    }

    /// One pass of every stage.
    fn scrub_once<'a>(&self, input: &'a str) -> Cow<'a, str> {
        let hits = self.prefilter(input);
        if !hits.any() {
            return Cow::Borrowed(input);
        }
        let c = compiled();
        let mut text = Cow::Borrowed(input);
        let mut spans: Vec<Span> = Vec::new();

        // 1. Secrets: every triggered rule adds its spans, then (after a long run of token
        //    characters) the shape rules and the shape scan; overlapping spans are merged.
        if hits.secrets != 0 || hits.shape {
            for (i, (slot, def)) in c.secrets.iter().zip(RULES).enumerate() {
                if hits.secrets & (1u128 << i) != 0 {
                    let (re, groups) = rule(slot, def);
                    secret_spans(re, groups, def.check, &text, &mut spans);
                }
            }
            if hits.shape {
                for (def, slot) in SHAPE_RULES.iter().zip(&c.shape_rules) {
                    if def.triggers.iter().any(|t| text.contains(t)) {
                        let (re, groups) = rule(slot, def);
                        secret_spans(re, groups, def.check, &text, &mut spans);
                    }
                }
                shape::shape_spans(&text, &mut spans);
            }
            text = apply(text, &mut spans);
        }
        // 2. The home directory becomes `~`, so that the path stage sees a home path.
        if hits.identity {
            self.identity.home_spans(&text, &mut spans);
            text = apply(text, &mut spans);
        }
        // 3. Paths.
        if hits.path || hits.identity {
            text = match text {
                Cow::Borrowed(t) => paths::scrub_paths(pattern(&c.paths, paths::pattern), t),
                Cow::Owned(t) => {
                    let re = pattern(&c.paths, paths::pattern);
                    Cow::Owned(paths::scrub_paths(re, &t).into_owned())
                }
            };
        }
        // 4. E-mails, IPs, user and host names.
        if hits.email {
            pii::email_spans(pattern(&c.email, pii::email_pattern), &text, &mut spans);
        }
        if hits.ipv4 || hits.ipv6 {
            let v4 = hits.ipv4.then(|| pattern(&c.ipv4, pii::ipv4_pattern));
            let v6 = (hits.ipv6 && text.bytes().filter(|&b| b == b':').count() >= 2)
                .then(|| pattern(&c.ipv6, pii::ipv6_pattern));
            pii::ip_spans(v4, v6, &text, &mut spans);
        }
        if hits.identity {
            self.identity.name_spans(&text, &mut spans);
        }
        apply(text, &mut spans)
    }

    /// Every trigger literal in `input`, overlapping ones included.
    fn prefilter(&self, input: &str) -> Hits {
        let mut hits = Hits::default();
        self.each_trigger(input.as_bytes(), |trigger| {
            hits.add(trigger);
            true
        });
        hits.shape = shape::has_long_run(input.as_bytes());
        hits
    }

    /// Calls `found` with the trigger of every occurrence of a literal in `input`
    /// (overlapping ones included, by where they end) until it returns `false`.
    ///
    /// The automaton's own overlapping search, walked here so that the loop is compiled
    /// for this automaton: one transition per byte, and a look at the matches only in a
    /// match state.
    fn each_trigger(&self, input: &[u8], mut found: impl FnMut(Trigger) -> bool) {
        let dfa = &self.prefilter;
        let mut sid = dfa
            .start_state(Anchored::No)
            .expect("the pre-filter is built for unanchored searches");
        for &byte in input {
            sid = dfa.next_state(Anchored::No, sid, byte);
            if dfa.is_special(sid) {
                if dfa.is_dead(sid) {
                    // Unreachable in an unanchored search; nothing more could match.
                    return;
                }
                for index in 0..dfa.match_len(sid) {
                    let pattern = dfa.match_pattern(sid, index).as_usize();
                    if !found(self.triggers[pattern]) {
                        return;
                    }
                }
            }
        }
    }
}

/// Collects the secret spans of one rule.
fn secret_spans(
    re: &Regex,
    groups: &[usize],
    check: rules::Check,
    text: &str,
    out: &mut Vec<Span>,
) {
    let mut caps = re.capture_locations();
    let mut pos = 0;
    while pos <= text.len() {
        let Some(m) = re.captures_read_at(&mut caps, text, pos) else {
            break;
        };
        // The secret: the participating secret groups, else the whole match.
        let (s, e) = groups
            .iter()
            .filter_map(|&g| caps.get(g))
            .fold(None, |acc: Option<(usize, usize)>, (a, b)| {
                Some(acc.map_or((a, b), |(s, e)| (s.min(a), e.max(b))))
            })
            .unwrap_or((m.start(), m.end()));
        let accepted = text
            .get(s..e)
            .is_some_and(|secret| rules::passes(check, secret, label_before(text, s)));
        if accepted {
            out.push(Span::new(s, e, REDACTED));
        }
        // After an accepted match, go on past it. After a rejected one (a placeholder), go on
        // from the next character instead: the rejected candidate must not hide a real secret
        // that starts inside it (`password="${x} password=hunter2`).
        pos = if accepted && m.end() > m.start() {
            m.end()
        } else {
            next_char_boundary(text, m.start())
        };
    }
}

/// What stands before a secret starting at `s`: its key name and a little more (32 bytes,
/// moved back to a char boundary).
fn label_before(text: &str, s: usize) -> &str {
    let mut from = s.saturating_sub(32);
    while !text.is_char_boundary(from) {
        from -= 1;
    }
    text.get(from..s).unwrap_or("")
}

/// The index of the char after the one starting at `i` (or `len + 1` at the end).
fn next_char_boundary(text: &str, i: usize) -> usize {
    text.get(i..)
        .and_then(|rest| rest.chars().next())
        .map_or(text.len() + 1, |c| i + c.len_utf8())
}

/// Replaces `spans` in `text` (merging overlapping and touching ones) and clears `spans`.
fn apply<'a>(text: Cow<'a, str>, spans: &mut Vec<Span>) -> Cow<'a, str> {
    if spans.is_empty() {
        return text;
    }
    spans.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut i = 0;
    while i < spans.len() {
        let mut cur = spans[i];
        i += 1;
        while i < spans.len() && spans[i].start <= cur.end {
            // Overlapping or touching: one span, so two redactions stay one `[REDACTED]`.
            // A span inside the current one (a user name inside an e-mail) is absorbed by it;
            // one that sticks out makes the union, and two different kinds become
            // `[REDACTED]`, the strongest.
            if spans[i].end > cur.end {
                cur.end = spans[i].end;
                if spans[i].replacement != cur.replacement {
                    cur.replacement = REDACTED;
                }
            }
            i += 1;
        }
        if cur.start < last || !text.is_char_boundary(cur.start) || !text.is_char_boundary(cur.end)
        {
            // Cannot happen with spans from regex matches; skip rather than panic.
            continue;
        }
        out.push_str(&text[last..cur.start]);
        out.push_str(cur.replacement);
        last = cur.end;
    }
    out.push_str(&text[last..]);
    spans.clear();
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s() -> Scrubber {
        Scrubber::builder().detect_identity(false).build()
    }

    #[test]
    fn configured_identity_is_removed() {
        let user = Scrubber::builder()
            .detect_identity(false)
            .user_name("jdoe")
            .build();
        assert_eq!(user.scrub("by JDoe"), "by [USER]");
        let host = Scrubber::builder()
            .detect_identity(false)
            .host_name("buildbox7.corp")
            .build();
        assert_eq!(host.scrub("on buildbox7"), "on [HOST]");
        let home = Scrubber::builder()
            .detect_identity(false)
            .home_dir(r"C:\Users\Jane Doe")
            .build();
        assert_eq!(home.scrub(r"C:\Users\Jane Doe\repo\sdk\x"), r"[PATH]\sdk\x");
        let none = Scrubber::builder().detect_identity(false).build();
        assert_eq!(none.scrub("plain text"), "plain text");
    }

    #[test]
    fn static_rules_compile() {
        let c = compiled();
        assert_eq!(c.secrets.len(), RULES.len());
        for (slot, def) in c.secrets.iter().zip(RULES) {
            rule(slot, def);
        }
        for (slot, def) in c.shape_rules.iter().zip(SHAPE_RULES) {
            rule(slot, def);
        }
        pattern(&c.paths, paths::pattern);
        pattern(&c.email, pii::email_pattern);
        pattern(&c.ipv4, pii::ipv4_pattern);
        pattern(&c.ipv6, pii::ipv6_pattern);
    }

    #[test]
    fn common_values_are_borrowed() {
        let s = s();
        for v in [
            "Python",
            "2025-09-01",
            "storage",
            "westus2",
            "",
            "azure-sdk-for-net",
            "true",
        ] {
            assert!(matches!(s.scrub(v), Cow::Borrowed(_)), "{v}");
        }
        // Triggered but unchanged is still borrowed.
        for v in [
            "specification/healthdataaiservices",
            "Microsoft.Storage/storageAccounts",
        ] {
            assert!(matches!(s.scrub(v), Cow::Borrowed(_)), "{v}");
        }
    }

    #[test]
    fn merges_overlapping_and_touching_redactions() {
        let mut spans = vec![
            Span::new(0, 4, REDACTED),
            Span::new(2, 6, REDACTED),
            Span::new(6, 8, REDACTED),
            Span::new(9, 10, super::super::EMAIL),
        ];
        let out = apply(Cow::Borrowed("abcdefgh-ij"), &mut spans);
        assert_eq!(out, "[REDACTED]-[EMAIL]j");
    }

    #[test]
    fn connection_strings_keep_their_keys() {
        let s = s();
        assert_eq!(
            s.scrub("Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=root;SharedAccessKey=Zm9vYmFyYmF6MTIzNDU2Nzg5MGFiY2RlZg=="),
            "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=root;SharedAccessKey=[REDACTED]"
        );
        assert_eq!(
            s.scrub("Server=tcp:db.database.windows.net;User ID=app;Password=S3cr3t!x;"),
            "Server=tcp:db.database.windows.net;User ID=app;Password=[REDACTED];"
        );
    }

    #[test]
    fn the_prefilter_finds_what_an_overlapping_search_finds() {
        let s = Scrubber::builder()
            .detect_identity(false)
            .user_name("jdoe")
            .host_name("devbox-42.corp")
            .home_dir("/home/jdoe")
            .build();
        let (literals, triggers) = prefilter_literals(&s.identity);
        let reference = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(&literals)
            .unwrap();
        let expected = |input: &str| {
            let mut hits = Hits::default();
            for m in reference.find_overlapping_iter(input) {
                hits.add(triggers[m.pattern().as_usize()]);
            }
            hits.shape = shape::has_long_run(input.as_bytes());
            hits
        };
        let mut inputs: Vec<String> = literals.iter().map(|l| format!("x{l}y")).collect();
        inputs.extend(literals.iter().map(|l| l.to_uppercase()));
        // Literals overlapping each other, back to back, and nothing at all.
        inputs.push(literals.concat());
        inputs.push(literals.iter().rev().cloned().collect());
        inputs.extend(
            [
                "",
                "Python",
                r#"{"service":"storage","language":"python","api_version":"2025-09-01"}"#,
                "password=hunter2 ghp_x sk-live q~ 10.0.0.1 fe80::1 jdoe@devbox-42",
                "PaSsWoRd==/~\\@::",
                "é€😀 github_pat_ x-u --user",
            ]
            .map(str::to_owned),
        );
        for input in inputs {
            let found = s.prefilter(&input);
            assert_eq!(found, expected(&input), "{input:?}");
            assert_eq!(s.might_match(&input), found.any(), "{input:?}");
        }
    }
}
