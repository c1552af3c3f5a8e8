//! Absolute paths, home directories and `file://` URLs.
//!
//! What counts as an absolute path (it must start the text or follow whitespace, a quote or
//! one of `=([{<,;:|>`; a `/` inside a URL or a relative path such as
//! `specification/healthdataaiservices` is never one):
//! - Unix: `/a/b` (two or more segments), or `/home`, `/Users`, `/root` alone;
//! - Windows: `C:\...`, `C:/...` (also with JSON-doubled backslashes), UNC `\\server\share`;
//! - home-relative: `~/...`, `~\...`, `~alice/...`;
//! - `file://` URLs of any of these.
//!
//! What is kept: the repository-relative tail, found by a *marker segment* — the first
//! `specification` or `sdk` segment, else the last of `src`, `eng`, `tools`, `packages`,
//! `test`, `tests`, `samples`, `examples`, `docs`, `lib` — written as `[PATH]/tail` with the
//! path's own separator. Folders above the marker (which name the user and their layout) are
//! dropped; the user name that the path itself reveals (`/home/<u>`, `/Users/<u>`,
//! `C:\Users\<u>`, `~<u>`) is also replaced by `[USER]` if it appears again in the tail.
//! Without a marker the whole path becomes [`PATH`](super::PATH). The scrubber does no file
//! system access (no `.git` lookup): the result depends only on the text.

use std::borrow::Cow;

use regex::Regex;

use super::{PATH, USER};

/// Segments that start a repository-relative tail, searched first (first occurrence wins).
const STRONG_MARKERS: &[&str] = &["specification", "sdk"];
/// Weaker markers, used when no strong one is present (last occurrence wins).
const WEAK_MARKERS: &[&str] = &[
    "src", "eng", "tools", "packages", "test", "tests", "samples", "examples", "docs", "lib",
];
/// First segments whose second segment is a user name.
const HOME_ROOTS: &[&str] = &["home", "users"];

pub(crate) const TRIGGERS: &[&str] = &["/", "\\", "~"];

/// The candidate regex; boundaries before a candidate are checked in code.
pub(crate) fn pattern() -> &'static str {
    concat!(
        r#"(?i:file:(?://(?:localhost)?)?/?)?"#,
        r#"(?:"#,
        // Windows drive, with one or more (JSON-escaped) separators.
        r#"[A-Za-z]:[\\/]+[^\s"'`<>|:;,*?(){}\[\]]*"#,
        // UNC
        r#"|\\\\+[A-Za-z0-9._$\-]+[\\/]+[^\s"'`<>|:;,*?(){}\[\]]*"#,
        // home-relative
        r#"|~[A-Za-z0-9._\-]{0,64}[\\/]+[^\s"'`<>|:;,*?(){}\[\]]*"#,
        // Unix
        r#"|/[^\s"'`<>|:;,*?(){}\[\]/\\][^\s"'`<>|:;,*?(){}\[\]]*"#,
        r#")"#
    )
}

/// Characters after which a path may start.
fn boundary_before(c: Option<char>) -> bool {
    match c {
        None => true,
        Some(c) => c.is_whitespace() || "\"'`=([{<,;:|>".contains(c),
    }
}

/// Rewrites the absolute paths in `text`. Borrowed when there are none.
pub(crate) fn scrub_paths<'a>(re: &Regex, text: &'a str) -> Cow<'a, str> {
    let mut out: Option<String> = None;
    let mut last = 0;
    for m in re.find_iter(text) {
        let (start, end) = (m.start(), m.end());
        let prev = text[..start].chars().next_back();
        let cand = m.as_str();
        if !boundary_before(prev) {
            continue;
        }
        // `//host/path` after a scheme is a URL, not a path.
        if cand.starts_with("//") {
            continue;
        }
        let Some(replacement) = rewrite(cand) else {
            continue;
        };
        let buf = out.get_or_insert_with(|| String::with_capacity(text.len()));
        buf.push_str(&text[last..start]);
        buf.push_str(&replacement);
        last = end;
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut buf) => {
            buf.push_str(&text[last..]);
            Cow::Owned(buf)
        }
    }
}

/// The replacement for one candidate path, or `None` to keep it as it is.
fn rewrite(cand: &str) -> Option<String> {
    let lower_head = cand.get(..5).map(str::to_ascii_lowercase);
    let body = if lower_head.as_deref() == Some("file:") {
        let rest = &cand[5..];
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let rest = match rest.get(..9) {
            Some(head) if head.eq_ignore_ascii_case("localhost") => &rest[9..],
            _ => rest,
        };
        // file:///C:/x -> C:/x
        let b = rest.as_bytes();
        if b.len() >= 3 && b[0] == b'/' && b[1].is_ascii_alphabetic() && b[2] == b':' {
            &rest[1..]
        } else {
            rest
        }
    } else {
        cand
    };
    // The path's own separator run (`/`, `\`, or a JSON-escaped `\\`), reused in the tail.
    let sep = first_separator(body);
    let mut segments: Vec<&str> = body.split(['/', '\\']).filter(|s| !s.is_empty()).collect();
    let mut user: Option<&str> = None;

    let first = body.as_bytes().first().copied();
    let forced = cand.len() != body.len() || first != Some(b'/'); // file URL, drive, UNC, tilde
    if first == Some(b'~') {
        let tilde = segments.first().copied().unwrap_or("~");
        let name = &tilde[1..];
        if !name.is_empty() {
            user = Some(name);
        }
        segments.remove(0);
    } else if first.is_some_and(|b| b.is_ascii_alphabetic()) {
        // Drive letter segment "C:"
        if !segments.is_empty() {
            segments.remove(0);
        }
    } else if body.starts_with("\\\\") || body.starts_with("//") {
        // UNC: server and share are above any repository.
        let n = segments.len().min(2);
        segments.drain(..n);
    }
    // Home directories: /home/<u>, /Users/<u>, C:\Users\<u>, /mnt/c/Users/<u>.
    let mut user_idx = None;
    for (i, seg) in segments.iter().enumerate().take(4) {
        if HOME_ROOTS.iter().any(|r| seg.eq_ignore_ascii_case(r)) && i + 1 < segments.len() {
            user_idx = Some(i + 1);
            user = Some(segments[i + 1]);
            break;
        }
    }
    if !forced && segments.len() < 2 {
        let lone = segments.first().copied().unwrap_or("");
        if !(HOME_ROOTS.iter().any(|r| lone.eq_ignore_ascii_case(r))
            || lone.eq_ignore_ascii_case("root"))
        {
            return None;
        }
    }
    let min_idx = user_idx.map_or(0, |u| u + 1);
    let is = |seg: &str, set: &[&str]| set.iter().any(|m| seg.eq_ignore_ascii_case(m));
    let marker = segments
        .iter()
        .enumerate()
        .skip(min_idx)
        .find(|(_, s)| is(s, STRONG_MARKERS))
        .or_else(|| {
            segments
                .iter()
                .enumerate()
                .skip(min_idx)
                .rfind(|(_, s)| is(s, WEAK_MARKERS))
        })
        .map(|(i, _)| i);
    let Some(idx) = marker else {
        return Some(PATH.to_owned());
    };
    let mut out = String::from(PATH);
    for seg in &segments[idx..] {
        out.push_str(sep);
        match user {
            Some(u) if u.len() >= 2 => out.push_str(&replace_word(seg, u, USER)),
            _ => out.push_str(seg),
        }
    }
    Some(out)
}

/// The first run of separators after the path's first segment (or at its start).
fn first_separator(body: &str) -> &str {
    let is_sep = |c: char| c == '/' || c == '\\';
    let trimmed = body.trim_start_matches(is_sep);
    let Some(pos) = trimmed.find(is_sep) else {
        return "/";
    };
    let run = &trimmed[pos..];
    let len = run.len() - run.trim_start_matches(is_sep).len();
    &run[..len]
}

/// Replaces whole-word, ASCII-case-insensitive occurrences of `word` in `seg`.
fn replace_word<'a>(seg: &'a str, word: &str, with: &str) -> Cow<'a, str> {
    let lower = seg.to_ascii_lowercase();
    let w = word.to_ascii_lowercase();
    if w.is_empty() || !lower.contains(&w) {
        return Cow::Borrowed(seg);
    }
    let mut out = String::new();
    let mut last = 0;
    let mut from = 0;
    while let Some(pos) = lower[from..].find(&w) {
        let s = from + pos;
        let e = s + w.len();
        let before_ok = !seg[..s]
            .chars()
            .next_back()
            .is_some_and(char::is_alphanumeric);
        let after_ok = !seg[e..].chars().next().is_some_and(char::is_alphanumeric);
        if before_ok && after_ok {
            out.push_str(&seg[last..s]);
            out.push_str(with);
            last = e;
        }
        from = e;
    }
    if last == 0 {
        return Cow::Borrowed(seg);
    }
    out.push_str(&seg[last..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &str) -> String {
        let re = Regex::new(pattern()).expect("path pattern compiles");
        scrub_paths(&re, s).into_owned()
    }

    #[test]
    fn keeps_repo_tail() {
        assert_eq!(
            run("/home/alice/repos/azure-rest-api-specs/specification/healthdataaiservices"),
            "[PATH]/specification/healthdataaiservices"
        );
        assert_eq!(
            run(r"C:\Users\alice\src\azure-sdk-for-python\sdk\storage\azure-storage-blob"),
            r"[PATH]\sdk\storage\azure-storage-blob"
        );
        assert_eq!(
            run(r#"{"p":"C:\\Users\\bob\\git\\specs\\specification\\x"}"#),
            r#"{"p":"[PATH]\\specification\\x"}"#
        );
        assert_eq!(
            run("see ~/work/proj/src/main.rs:12"),
            "see [PATH]/src/main.rs:12"
        );
        assert_eq!(
            run("file:///Users/carol/specs/specification/a.tsp"),
            "[PATH]/specification/a.tsp"
        );
        assert_eq!(run("file:///C:/Users/carol/x.txt"), "[PATH]");
    }

    #[test]
    fn drops_paths_without_marker() {
        assert_eq!(
            run("open /home/alice/.ssh/id_rsa failed"),
            "open [PATH] failed"
        );
        assert_eq!(run(r"\\fileserver\share\alice\notes.txt"), "[PATH]");
        assert_eq!(run("PATH=/usr/bin:/home/dave/bin"), "PATH=[PATH]:[PATH]");
        assert_eq!(run("cd /home/erin"), "cd [PATH]");
    }

    #[test]
    fn user_name_in_tail_is_replaced() {
        assert_eq!(
            run("/home/alice/specs/specification/alice-service/main.tsp"),
            "[PATH]/specification/[USER]-service/main.tsp"
        );
    }

    #[test]
    fn fuzz_regression_non_ascii_after_file_scheme() {
        // Found by cargo-fuzz: slicing `file:` URLs at a fixed byte offset split a char.
        let input = "Ahorip@ster2 \0\0\0[file:/homepep\u{fffd}/sterr2z";
        let _ = run(input);
        let _ = run("file://\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}/x/y");
        let _ = run("file://localhos\u{e9}/x");
    }

    #[test]
    fn leaves_relative_paths_and_urls() {
        for s in [
            "specification/healthdataaiservices",
            "application/json",
            "https://github.com/Azure/azure-rest-api-specs/tree/main/specification",
            "2025/09/01",
            "and/or",
            "/help",
            "~2 hours",
            "Microsoft.Storage/storageAccounts",
        ] {
            assert_eq!(run(s), s, "{s}");
        }
    }
}
