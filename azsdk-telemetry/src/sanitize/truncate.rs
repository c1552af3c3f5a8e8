//! Cutting strings to a size without splitting a UTF-8 character.

/// The longest prefix of `s` that is at most `max_bytes` bytes and ends on a char boundary.
pub(crate) fn truncate_bytes(s: &str, max_bytes: usize) -> &str {
    if s.len() <= max_bytes {
        return s;
    }
    let mut end = max_bytes;
    // A char is at most 4 bytes, so this loop runs at most 3 times.
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The prefix of `s` made of its first `max_chars` chars (Unicode scalar values).
pub(crate) fn truncate_chars(s: &str, max_chars: usize) -> &str {
    if s.len() <= max_chars {
        // Fewer bytes than the limit means fewer chars too.
        return s;
    }
    match s.char_indices().nth(max_chars) {
        Some((idx, _)) => &s[..idx],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_never_split_a_char() {
        let s = "a€b😀c";
        for max in 0..=s.len() + 2 {
            let t = truncate_bytes(s, max);
            assert!(t.len() <= max);
            assert!(s.starts_with(t));
            // Longest such prefix: the next char would not have fit.
            if t.len() < s.len() {
                let next = s[t.len()..].chars().next().map_or(0, char::len_utf8);
                assert!(t.len() + next > max);
            }
        }
    }

    #[test]
    fn chars_counts_scalars() {
        assert_eq!(truncate_chars("", 0), "");
        assert_eq!(truncate_chars("abc", 0), "");
        assert_eq!(truncate_chars("a€b😀c", 4), "a€b😀");
        assert_eq!(truncate_chars("a€b😀c", 5), "a€b😀c");
    }
}
