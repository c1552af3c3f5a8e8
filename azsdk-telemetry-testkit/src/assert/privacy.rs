//! Looking for personal data and secrets in emitted envelopes.

use serde_json::Value;

/// Every text an envelope shows: its serialized form, every string in it
/// (keys too), and the strings inside JSON-valued properties.
pub(crate) fn all_texts(envelope: &Value) -> Vec<String> {
    let mut texts = vec![envelope.to_string()];
    collect_strings(envelope, &mut texts);
    texts
}

fn collect_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(text) => {
            if let Ok(inner @ (Value::Object(_) | Value::Array(_))) =
                serde_json::from_str::<Value>(text)
            {
                collect_strings(&inner, out);
            }
            out.push(text.clone());
        }
        Value::Array(items) => items.iter().for_each(|item| collect_strings(item, out)),
        Value::Object(map) => {
            for (key, item) in map {
                out.push(key.clone());
                collect_strings(item, out);
            }
        }
        _ => {}
    }
}

/// Names too short or too common to tell a person apart: matching them
/// would flag every message (`runner` on CI machines, `root` in containers).
const COMMON_NAMES: [&str; 8] = [
    "root",
    "user",
    "admin",
    "runner",
    "localhost",
    "ubuntu",
    "vscode",
    "codespace",
];

fn identifying(name: &str) -> bool {
    name.chars().count() >= 3 && !COMMON_NAMES.contains(&name.to_ascii_lowercase().as_str())
}

fn host_name() -> Option<String> {
    std::env::var("HOSTNAME")
        .or_else(|_| std::env::var("COMPUTERNAME"))
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
}

/// Whether `word` occurs in `text` as a whole word (case-insensitive).
fn contains_word(text: &str, word: &str) -> bool {
    let (text, word) = (text.to_lowercase(), word.to_lowercase());
    text.match_indices(&word).any(|(start, _)| {
        let before = text[..start].chars().next_back();
        let after = text[start + word.len()..].chars().next();
        let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
        boundary(before) && boundary(after)
    })
}

/// Finds an e-mail address: `local@domain.tld`.
fn find_email(text: &str) -> Option<&str> {
    let is_local = |c: char| c.is_ascii_alphanumeric() || "._%+-".contains(c);
    let is_domain = |c: char| c.is_ascii_alphanumeric() || ".-".contains(c);
    for (at, _) in text.match_indices('@') {
        let start = text[..at]
            .char_indices()
            .rev()
            .take_while(|(_, c)| is_local(*c))
            .last()
            .map(|(i, _)| i)?;
        let end = at
            + 1
            + text[at + 1..]
                .char_indices()
                .take_while(|(_, c)| is_domain(*c))
                .last()
                .map_or(0, |(i, c)| i + c.len_utf8());
        let domain = text[at + 1..end].trim_end_matches('.');
        let tld_ok = domain.rsplit_once('.').is_some_and(|(host, tld)| {
            !host.is_empty() && tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic())
        });
        if start < at && tld_ok {
            return Some(&text[start..at + 1 + domain.len()]);
        }
    }
    None
}

/// What personal data an envelope carries, described, or `None`: the home
/// directory, the user name, the host name (whole words), an e-mail address.
///
/// ```
/// use serde_json::json;
/// let envelope = json!({ "data": { "baseData": { "properties": { "errorMessage": "mail alice@contoso.com" } } } });
/// assert!(azsdk_telemetry_testkit::personal_data_in(&envelope).unwrap().contains("e-mail"));
/// ```
pub fn personal_data_in(envelope: &Value) -> Option<String> {
    let home = dirs_home();
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .ok();
    let host = host_name();
    for text in all_texts(envelope) {
        if let Some(home) = home.as_deref().filter(|home| home.len() > 1) {
            if text.contains(home) {
                return Some(format!("the home directory `{home}`: {text}"));
            }
        }
        if let Some(user) = user.as_deref().filter(|user| identifying(user)) {
            if contains_word(&text, user) {
                return Some(format!("the user name `{user}`: {text}"));
            }
        }
        if let Some(host) = host.as_deref().filter(|host| identifying(host)) {
            if contains_word(&text, host) {
                return Some(format!("the host name `{host}`: {text}"));
            }
        }
        if let Some(email) = find_email(&text) {
            return Some(format!("the e-mail address `{email}`: {text}"));
        }
    }
    None
}

fn dirs_home() -> Option<String> {
    std::env::var("HOME")
        .or_else(|_| std::env::var("USERPROFILE"))
        .ok()
        .map(|home| home.trim_end_matches(['/', '\\']).to_owned())
}

/// An envelope with its volatile fields replaced by placeholders:
/// `[time]`, `[id]`, `[duration]`, `[os]`, `[sdk]`.
///
/// ```
/// use serde_json::json;
/// let stable = azsdk_telemetry_testkit::normalize(json!({ "time": "2026-01-01T00:00:00.000000Z" }));
/// assert_eq!(stable["time"], "[time]");
/// ```
pub fn normalize(mut envelope: Value) -> Value {
    let mut set = |pointer: &str, placeholder: &str| {
        if let Some(slot) = envelope.pointer_mut(pointer) {
            *slot = Value::from(placeholder);
        }
    };
    set("/time", "[time]");
    set("/data/baseData/id", "[id]");
    set("/data/baseData/duration", "[duration]");
    set("/data/baseData/properties/eventId", "[id]");
    set("/data/baseData/properties/sessionDuration", "[duration]");
    set("/tags/ai.operation.id", "[id]");
    set("/tags/ai.device.osVersion", "[os]");
    set("/tags/ai.internal.sdkVersion", "[sdk]");
    envelope
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_found_and_lookalikes_are_not() {
        assert_eq!(
            find_email("contact a.b+c@mail.contoso.com now"),
            Some("a.b+c@mail.contoso.com")
        );
        assert_eq!(
            find_email("git@github.com:org/repo"),
            Some("git@github.com")
        );
        assert_eq!(find_email("pkg@1.2.3"), None);
        assert_eq!(find_email("@scope/package"), None);
        assert_eq!(find_email("no at sign"), None);
    }

    #[test]
    fn words_match_whole() {
        assert!(contains_word("by Alice today", "alice"));
        assert!(!contains_word("malice", "alice"));
        assert!(contains_word("/home/alice/x", "alice"));
    }

    #[test]
    fn json_inside_strings_is_searched() {
        let envelope = serde_json::json!({ "p": { "toolArgs": "{\"k\":\"v\\\"x\"}" } });
        assert!(all_texts(&envelope).iter().any(|text| text == "v\"x"));
    }
}
