//! E-mail addresses and public IP addresses.
//!
//! IP policy: an address is replaced by [`IP`](super::IP) only when it is *public*:
//! - IPv4: four dot-separated decimal octets, each `<= 255`, not part of a longer dotted run
//!   (`1.2.3.4.5`), not preceded by `v`/`V`/`@` (versions such as `v1.2.3.4`,
//!   `pkg@1.2.3.4`), and not private (10/8, 172.16/12, 192.168/16), loopback (127/8),
//!   link-local (169.254/16), shared CGNAT (100.64/10), unspecified (0/8), multicast or
//!   reserved (224/3), broadcast, or documentation (192.0.2/24, 198.51.100/24, 203.0.113/24).
//!   A bare four-part version whose parts are all `<= 255` (`1.2.3.4`) is therefore redacted:
//!   a deliberate trade-off, since such versions are rare and a leaked address is not
//!   acceptable. Windows build numbers (`10.0.19041.1`) survive because an octet is > 255.
//! - IPv6: anything that parses as an address and lies in global unicast `2000::/3`, except
//!   documentation `2001:db8::/32`. Loopback, link-local (`fe80::/10`), unique-local
//!   (`fc00::/7`) and the rest stay. MAC addresses and times never parse as IPv6.

use std::net::{Ipv4Addr, Ipv6Addr};

use regex::Regex;

use super::{Span, EMAIL, IP};

pub(crate) const EMAIL_TRIGGERS: &[&str] = &["@"];
pub(crate) const IPV4_TRIGGERS: &[&str] =
    &["0.", "1.", "2.", "3.", "4.", "5.", "6.", "7.", "8.", "9."];
pub(crate) const IPV6_TRIGGERS: &[&str] = &[
    "::", "0:", "1:", "2:", "3:", "4:", "5:", "6:", "7:", "8:", "9:", "a:", "b:", "c:", "d:", "e:",
    "f:",
];

pub(crate) fn email_pattern() -> &'static str {
    r"[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,62}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}\b"
}

pub(crate) fn ipv4_pattern() -> &'static str {
    r"\b[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\b"
}

pub(crate) fn ipv6_pattern() -> &'static str {
    r"[0-9A-Fa-f]{0,4}:[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:]*"
}

/// E-mail spans. `git@host` (an ssh remote, not a person) is left alone.
pub(crate) fn email_spans(re: &Regex, text: &str, spans: &mut Vec<Span>) {
    for m in re.find_iter(text) {
        let local = m.as_str().split('@').next().unwrap_or("");
        if local.eq_ignore_ascii_case("git") {
            continue;
        }
        spans.push(Span::new(m.start(), m.end(), EMAIL));
    }
}

/// Public IPv4 and IPv6 spans.
pub(crate) fn ip_spans(v4: Option<&Regex>, v6: Option<&Regex>, text: &str, spans: &mut Vec<Span>) {
    let bytes = text.as_bytes();
    if let Some(re) = v4 {
        for m in re.find_iter(text) {
            let (s, e) = (m.start(), m.end());
            // Part of a longer dotted run, or a version marker before it.
            let before = s.checked_sub(1).map(|i| bytes[i]);
            let before2 = s.checked_sub(2).map(|i| bytes[i]);
            let after = bytes.get(e).copied();
            let after2 = bytes.get(e + 1).copied();
            if before == Some(b'.') && before2.is_some_and(|b| b.is_ascii_digit()) {
                continue;
            }
            if after == Some(b'.') && after2.is_some_and(|b| b.is_ascii_digit()) {
                continue;
            }
            if matches!(before, Some(b'v' | b'V' | b'@')) {
                continue;
            }
            if let Ok(addr) = m.as_str().parse::<Ipv4Addr>() {
                if is_public_v4(addr) {
                    spans.push(Span::new(s, e, IP));
                }
            }
        }
    }
    if let Some(re) = v6 {
        for m in re.find_iter(text) {
            let (s, e) = (m.start(), m.end());
            let before = text[..s].chars().next_back();
            let after = text[e..].chars().next();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
                || after.is_some_and(|c| c.is_alphanumeric() || c == '_')
            {
                continue;
            }
            let cand = m.as_str();
            if let Ok(addr) = cand.parse::<Ipv6Addr>() {
                if is_public_v6(addr) {
                    spans.push(Span::new(s, e, IP));
                }
            }
        }
    }
}

/// Public, in the sense of the module documentation.
pub(crate) fn is_public_v4(a: Ipv4Addr) -> bool {
    let o = a.octets();
    !(a.is_private()
        || a.is_loopback()
        || a.is_link_local()
        || a.is_unspecified()
        || a.is_broadcast()
        || a.is_documentation()
        || a.is_multicast()
        || o[0] == 0
        || o[0] >= 240
        || (o[0] == 100 && (o[1] & 0xC0) == 64))
}

/// Public, in the sense of the module documentation.
pub(crate) fn is_public_v6(a: Ipv6Addr) -> bool {
    let seg = a.segments();
    let global_unicast = (seg[0] & 0xE000) == 0x2000;
    let documentation = seg[0] == 0x2001 && seg[1] == 0x0db8;
    global_unicast && !documentation
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ips(s: &str) -> Vec<&str> {
        let v4 = Regex::new(ipv4_pattern()).expect("v4");
        let v6 = Regex::new(ipv6_pattern()).expect("v6");
        let mut spans = Vec::new();
        ip_spans(Some(&v4), Some(&v6), s, &mut spans);
        spans.iter().map(|sp| &s[sp.start..sp.end]).collect()
    }

    #[test]
    fn public_ips_only() {
        assert_eq!(ips("connect to 20.42.65.1 failed"), ["20.42.65.1"]);
        assert_eq!(
            ips("from 2603:1030:20e:3::23c ok"),
            ["2603:1030:20e:3::23c"]
        );
        for s in [
            "10.0.0.1",
            "192.168.1.20",
            "172.16.5.4",
            "127.0.0.1",
            "169.254.169.254",
            "::1",
            "fe80::1ff:fe23:4567:890a",
            "2001:db8::1",
            "10.0.19041.1",
            "v1.2.3.4",
            "1.2.3.4.5",
            "std::vector",
            "12:30:45",
            "00:1a:2b:3c:4d:5e",
            "version 300.1.2.3",
        ] {
            assert!(ips(s).is_empty(), "{s}");
        }
    }

    #[test]
    fn emails() {
        let re = Regex::new(email_pattern()).expect("email");
        let mut spans = Vec::new();
        email_spans(
            &re,
            "mail jane.doe+x@contoso.co.uk or git@github.com:a/b",
            &mut spans,
        );
        assert_eq!(spans.len(), 1);
    }
}
