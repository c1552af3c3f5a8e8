//! Key material without a keyword: a token that has the length and the alphabet of a key.
//!
//! A *run* is a maximal stretch of token characters (`A-Z a-z 0-9 + / _ -`) and up to two
//! `=` of padding after it. A run is redacted whole when
//!
//! - one of its pieces (the run split at `+ / _ -`) is **hex** of exactly 32 or 40
//!   characters (Azure OpenAI and Datadog keys, legacy GitHub OAuth tokens; not 64: that is
//!   a SHA-256, which `#[telemetry(hash)]` arguments are recorded as),
//!   in one case, with a digit, a letter and at least 8 distinct characters; or **base32**
//!   of exactly 52 characters (`a-z 2-7` in one case, Azure DevOps personal access tokens)
//!   with a digit and 12 distinct characters;
//! - or the whole run is **base64** or **base64url** (one alphabet, not both) of a key's
//!   length: 40 (AWS secret access keys), 43 or 44 (32 bytes), 86 or 88 (64 bytes), padding
//!   counted, that looks random: both cases present, not made of words (the words of an
//!   identifier such as `AzureStorageBlobsClientOptions2`, see `random_base64`), and at least
//!   65 % of the distinct characters a random string of its length would have, and no
//!   `/`-separated piece that is a lower-case word of 5+ letters (a path);
//! - or the run is standard base64 (12+ characters, whole quantums) whose bytes are a
//!   printable `user:secret` pair (a Docker `auth`, an HTTP Basic credential without its
//!   `Basic`).
//!
//! Not keys, and kept: a run whose label says it is a digest or public (`md5=`, `sha256:`,
//! `commit`, `SRCREV`, `version=`, `public_key = `, `csrf-token=`, in the 24 bytes before
//! it); words and identifiers (too few upper-case letters, or word-like),
//! versions and dates (`.` and `:` end a run, so their pieces are short), GUIDs (hyphenated:
//! their pieces are 8, 4 and 12 hex characters), paths (`/` joined words fail the randomness
//! test).

use super::{Span, REDACTED};

/// The shortest run the shape rules care about: shorter text has no key of a known length
/// (a Kubernetes bootstrap token's secret part is 16).
pub(crate) const LONG_RUN: usize = 16;

/// Hex lengths that are keys.
const HEX_LENGTHS: [usize; 2] = [32, 40];
/// The base32 length that is a key.
const BASE32_LENGTH: usize = 52;
/// Base64 lengths (padding counted) judged on their look alone.
const BASE64_LENGTHS: [usize; 5] = [40, 43, 44, 86, 88];
/// Words in the label before a run that make it a digest or a public value, not a secret.
const NOT_SECRET_LABELS: [&str; 12] = [
    "md5", "sha", "hash", "digest", "checksum", "commit", "rev", "version", "etag", "public",
    "csrf", "xsrf",
];
/// How far before a run its label is looked for.
const LABEL_BYTES: usize = 24;
/// The shortest base64 run decoded for a `user:secret` pair.
const PAIR_MIN: usize = 12;

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'_' | b'-')
}

/// Whether `text` holds a run of at least [`LONG_RUN`] token characters.
pub(crate) fn has_long_run(text: &[u8]) -> bool {
    let mut run = 0;
    for &b in text {
        if is_token_byte(b) {
            run += 1;
            if run >= LONG_RUN {
                return true;
            }
        } else {
            run = 0;
        }
    }
    false
}

/// Adds a span for every run of `text` that looks like key material.
pub(crate) fn shape_spans(text: &str, out: &mut Vec<Span>) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !is_token_byte(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_token_byte(bytes[i]) {
            i += 1;
        }
        let core_end = i;
        while i < bytes.len() && i - core_end < 2 && bytes[i] == b'=' {
            i += 1;
        }
        let core = &bytes[start..core_end];
        if core.len() >= PAIR_MIN
            && looks_like_key(core, i - core_end)
            && !labelled_not_secret(&bytes[start.saturating_sub(LABEL_BYTES)..start])
        {
            out.push(Span::new(start, i, REDACTED));
        }
    }
}

/// Whether the text before a run labels it a digest or a public value.
fn labelled_not_secret(before: &[u8]) -> bool {
    let label = before.to_ascii_lowercase();
    NOT_SECRET_LABELS
        .iter()
        .any(|word| label.windows(word.len()).any(|w| w == word.as_bytes()))
}

/// Whether a run (without its `padding` `=`) is key material (see the module's policy).
fn looks_like_key(core: &[u8], padding: usize) -> bool {
    if core.len() >= LONG_RUN
        && core
            .split(|b| matches!(b, b'+' | b'/' | b'_' | b'-'))
            .any(|piece| hex_key(piece) || base32_key(piece))
    {
        return true;
    }
    let standard = core
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/');
    let url = core
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !(standard || url) {
        return false;
    }
    if BASE64_LENGTHS.contains(&(core.len() + padding)) && random_base64(core) {
        return true;
    }
    standard && credential_pair(core, padding)
}

fn hex_key(piece: &[u8]) -> bool {
    if !HEX_LENGTHS.contains(&piece.len()) {
        return false;
    }
    let lower = piece.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let upper = piece.iter().all(|b| matches!(b, b'0'..=b'9' | b'A'..=b'F'));
    (lower || upper)
        && piece.iter().any(u8::is_ascii_digit)
        && piece.iter().any(u8::is_ascii_alphabetic)
        && distinct(piece) >= 8
}

fn base32_key(piece: &[u8]) -> bool {
    if piece.len() != BASE32_LENGTH {
        return false;
    }
    let lower = piece.iter().all(|b| matches!(b, b'a'..=b'z' | b'2'..=b'7'));
    let upper = piece.iter().all(|b| matches!(b, b'A'..=b'Z' | b'2'..=b'7'));
    (lower || upper) && piece.iter().any(u8::is_ascii_digit) && distinct(piece) >= 12
}

/// Random-looking base64: both cases present (a tenth each at least), not made of words, and
/// nearly as many distinct characters as a random string of this length.
///
/// "Made of words": more than half of it in runs of 3+ letters of one case *and* a third or
/// more of its letters vowels (English has about 38 %, random base64 letters 19 %). With the
/// other tests below, measured on random standard base64 (50,000 each): 0.16 % of 40-, 0.19 %
/// of 43- and 0.09 % of 86-character strings are not taken for keys.
fn random_base64(core: &[u8]) -> bool {
    let n = core.len();
    let upper = core.iter().filter(|b| b.is_ascii_uppercase()).count();
    let lower = core.iter().filter(|b| b.is_ascii_lowercase()).count();
    if upper * 10 < n || lower * 10 < n {
        return false;
    }
    let vowels = core
        .iter()
        .filter(|b| matches!(b.to_ascii_lowercase(), b'a' | b'e' | b'i' | b'o' | b'u'))
        .count();
    if wordy(core) * 2 > n && vowels * 3 >= upper + lower {
        return false;
    }
    // A path (`specification/storage/Xyz`): a `/`-separated piece that is a lower-case word.
    let word_piece = |piece: &[u8]| piece.len() >= 5 && piece.iter().all(u8::is_ascii_lowercase);
    if core.contains(&b'/') && core.split(|&b| b == b'/').any(word_piece) {
        return false;
    }
    // A random string of n characters over 64 has 64 (1 - (63/64)^n) distinct ones on average.
    let expected = 64.0 * (1.0 - (63.0f64 / 64.0).powi(i32::try_from(n).unwrap_or(i32::MAX)));
    distinct(core) as f64 >= 0.65 * expected
}

/// How many characters stand in runs of 3+ letters of one case.
fn wordy(core: &[u8]) -> usize {
    let mut total = 0;
    let mut run = 0;
    let mut case = 0u8;
    for &b in core.iter().chain(std::iter::once(&b' ')) {
        let this = if b.is_ascii_lowercase() {
            1
        } else if b.is_ascii_uppercase() {
            2
        } else {
            0
        };
        if this != 0 && this == case {
            run += 1;
        } else {
            if run >= 3 {
                total += run;
            }
            run = usize::from(this != 0);
            case = this;
        }
    }
    total
}

fn distinct(bytes: &[u8]) -> usize {
    let mut seen = [false; 256];
    let mut count = 0;
    for &b in bytes {
        if !seen[usize::from(b)] {
            seen[usize::from(b)] = true;
            count += 1;
        }
    }
    count
}

/// Standard base64 of whole quantums that decodes to a printable `user:secret` pair.
fn credential_pair(core: &[u8], padding: usize) -> bool {
    if !(core.len() + padding).is_multiple_of(4) || padding > 2 {
        return false;
    }
    let mut decoded = Vec::with_capacity(core.len() / 4 * 3);
    let mut acc = 0u32;
    let mut bits = 0;
    for &b in core {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return false,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            decoded.push(((acc >> bits) & 0xff) as u8);
        }
    }
    let printable = decoded.iter().all(|b| (0x21..=0x7e).contains(b));
    let Some(colon) = decoded.iter().position(|&b| b == b':') else {
        return false;
    };
    printable && colon > 0 && colon + 1 < decoded.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redacts(text: &str) -> bool {
        let mut spans = Vec::new();
        shape_spans(text, &mut spans);
        !spans.is_empty()
    }

    #[test]
    fn keys_by_their_shape() {
        for key in [
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzK3b9aQ1pL",
            "4f6c5a0e9b8d7c6b5a4f3e2d1c0b9a8f",
            "2a7cd3f4b5e6a7b8c9d0e1f2a3b4c5d6e7f8a9b0",
            "x3kq7z2mnbv5cxl4kjh6gfd2sa7poi3uyt5rew4qazx6swe2dcv3",
            "dXNlcjpka3JfcGF0X2FiYzEyMw==",
            "Zq8Lm3Nx7Rt2Vw9Ky4Pb6Hd1Jf5Gc0SaTe8UoWiXl3M=",
        ] {
            assert!(redacts(key), "{key}");
            assert!(redacts(&format!("invalid service name '{key}'.")), "{key}");
        }
    }

    #[test]
    fn ordinary_values_are_not_keys() {
        for value in [
            "Python",
            "azure-sdk-for-python",
            "dafa7817-e246-48f3-91a7-e87653d587b8",
            "DAFA7817-E246-48F3-91A7-E87653D587B8",
            "specification/storage/resource-manager/Microsoft.Storage/stable/2023-01-01",
            "AzureStorageBlobsClientOptions2024ServiceVersion",
            "sdk/storage/Azure.Storage.Blobs/src/Generated/BlobRestClient.cs",
            "1.2.3-beta.20240101.1",
            "2025-09-01T12:34:56Z",
            "ThisIsAVeryLongIdentifierNameForTesting12",
            "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
            "00000000000000000000000000000000",
            "needs a GitHub token: set GITHUB_TOKEN",
            "specification/aaabfbaabjbbb/AbFBBJBbFbjAbCK.",
            "AZURE_STORAGE_CONNECTION_STRING_FOR_TESTS",
            "md5=5c94767cedb5d6987c902ac850ded2c6",
            "commit 43fc912ef59a83054ea7f6706df4d53a7dea4d80",
            "2ae8f8066baab9e36c122f5eb5425f33ab2f5ffbea767ea5a7d9f82de680faec",
        ] {
            assert!(!redacts(value), "{value}");
        }
    }

    #[test]
    fn runs_end_at_padding_and_punctuation() {
        let text = "k=Zq8Lm3Nx7Rt2Vw9Ky4Pb6Hd1Jf5Gc0SaTe8UoWiXl3M=;next";
        let mut spans = Vec::new();
        shape_spans(text, &mut spans);
        assert_eq!(spans.len(), 1);
        assert_eq!(&text[spans[0].end..], ";next");
        assert_eq!(&text[..spans[0].start], "k=");
    }
}
