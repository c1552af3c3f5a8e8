//! Secret-detection rules: what a secret looks like, and the cheap literals that must be
//! present before its regex is worth running.
//!
//! Every rule is written for this crate. The *ideas* (which token families exist, their fixed
//! prefixes and lengths, which key names hold credentials) come from public scanners' rule sets
//! (gitleaks, Microsoft security-utilities, the Azure SDK test proxy); no pattern is copied.
//!
//! A rule's regex either redacts its whole match, or only the capture groups named `s`, `s1`,
//! `s2`, ... ("the secret"), so that `AccountKey=abc` becomes `AccountKey=[REDACTED]`: the key
//! stays readable, the value is gone, and nothing of the value (no prefix, no length) survives.
//!
//! Signatures win: a rule that recognises a token by a fixed signature (a prefix such as
//! `ghp_`, `AKIA`, `hvs.`, `xoxb-`, a checksum-like infix such as `+ASt`, `AzFu` or `8Q~`, a
//! `?code=` or `sig=` query parameter) redacts whatever the rest looks like: documentation
//! examples and low-entropy filler included (`AKIAIOSFODNN7EXAMPLE`). The placeholder heuristics
//! ([`Check::NotPlaceholder`]) are for rules that only know a key *name* (`password=...`,
//! `--token ...`, `Authorization: ...`), where `${TOKEN}` or `<your key>` is common and no
//! secret.

use regex::Regex;

/// A post-match check on the captured secret text. It only ever *drops* a candidate that is
/// plainly not a real credential (a placeholder such as `$API_KEY`, `<token>`, `XXXXXXXX`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Check {
    /// Always redact.
    None,
    /// Redact unless the value is a placeholder (see [`is_placeholder`]).
    NotPlaceholder,
    /// A `key=value` pair or a bare key-sized value: as `NotPlaceholder`, and not when the
    /// label before it says the value is public (`publicKey`, `public_token`, `csrf-token`).
    KeyValue,
    /// A token known by its prefix: redact whatever its entropy (documentation examples such
    /// as `AKIAIOSFODNN7EXAMPLE` included), unless the body is a template: one character
    /// repeated (`xoxp-XXXXXXXXXX-XXXX`, `hf_xxxx...`) or a run of the alphabet or the digits
    /// (`abcdefgh`, `12345678`).
    Prefixed,
    /// As `NotPlaceholder`, and the value must look machine-made (a digit, mixed case or a
    /// symbol): used where the trigger is an ordinary English word (`Bearer`, `Basic`).
    Machine,
    /// `user:password` pairs (curl `-u`): redact unless both halves are placeholders or the
    /// value has no `:` at all (a bare user name, which curl then prompts a password for).
    UserPass,
    /// A Kubernetes bootstrap token (`abcdef.0123456789abcdef`): its 16-character secret mixes
    /// letters and digits, which a `name.identifierofsixteen` pair of words does not.
    Bootstrap,
    /// A PEM block with a real body (a run of 20+ base64 characters), not `...\nanything\n...`.
    PemBody,
    /// `user:pass@` in a URL: skip `git@` (ssh remotes) and placeholders.
    UrlUserInfo,
}

/// One secret rule, as written in the source.
pub(crate) struct RuleDef {
    /// Stable identifier, used in tests and docs.
    pub name: &'static str,
    /// Literals (matched ASCII-case-insensitively) of which at least one must occur in the
    /// input before the regex runs. Never empty. In [`SHAPE_RULES`] they are matched
    /// case-sensitively with `str::contains`, once a long run of token characters was seen.
    pub triggers: &'static [&'static str],
    /// The regex. Groups named `s`, `s1`, `s2`, ... are the secret; without them the whole
    /// match is.
    pub pattern: &'static str,
    /// Post-match check.
    pub check: Check,
}

// Key names whose value is a credential, as the *ending* of a key (so `client_secret` and
// `AUTH_CLIENTSECRET` match, but `secretName`, `credentialsId`, `access_token_url` and
// `TOKEN_AUDIENCE` do not: a name that goes on after the keyword describes something else).
macro_rules! secret_key_words {
    () => {
        concat!(
            // Long keywords may end any key: `PuttyPassword`, `AUTH_CLIENTSECRET`, `accessToken`.
            r"(?:(?:password|passwd|passphrase|secret(?:[_.\-]?key)?|token|api[_.\-]?key",
            r"|access[_.\-]?key|account[_.\-]?key|shared[_.\-]?access[_.\-]?(?:key|signature)",
            r"|private[_.\-]?key|master[_.\-]?key|signing[_.\-]?key|encryption[_.\-]?key",
            r"|subscription[_.\-]?key|function[_.\-]?key|app[_.\-]?key|credentials?",
            r"|connection[_.\-]?string)",
            // Short ones must start the key or follow a separator (`db_pass`, not `compass`).
            r"|(?:^|[^a-z0-9])(?:pass|pwd|auth|sas|conn[_.\-]?str))"
        )
    };
}

/// The rule table. Order does not matter: overlapping hits are merged.
pub(crate) const RULES: &[RuleDef] = &[
    RuleDef {
        name: "pem-private-key",
        triggers: &["private key"],
        // A PEM/PGP private key block, to its END line or, when the text was cut, to the end.
        pattern: r"-----BEGIN[A-Z0-9 ]{0,30}PRIVATE KEY(?: BLOCK)?-----(?s:.*?)(?:-----END[A-Z0-9 ]{0,30}PRIVATE KEY(?: BLOCK)?-----|\z)",
        check: Check::PemBody,
    },
    RuleDef {
        name: "jwt",
        triggers: &["eyj", "eyai", "ewog", "ew0k"],
        // header.payload.signature, base64url; the signature may be empty (alg=none). The
        // header is JSON: `{"` is `eyJ`, `{ "` is `eyAi`, `{\n` is `ewog`, `{\r\n` is `ew0K`.
        pattern: r"\b(?:eyJ|eyAi|ewog|ew0K)[A-Za-z0-9_\-]{5,}={0,2}\.[A-Za-z0-9_\-]{4,}={0,2}\.[A-Za-z0-9_\-+/]*=*",
        check: Check::None,
    },
    RuleDef {
        name: "authorization-header",
        triggers: &["authorization"],
        pattern: r#"(?i)\b(?:proxy-)?authorization\\?["']?[ \t]*[:=][ \t]*(?:\\?["'][ \t]*)?(?:(?:bearer|basic|token|api-token|apikey|key|digest|negotiate|ntlm|ssws|sharedaccesssignature)[ \t]+)?(?P<s>[^\s"'\\]{4,})"#,
        check: Check::NotPlaceholder,
    },
    RuleDef {
        name: "bearer-credential",
        triggers: &["bearer", "basic"],
        pattern: r"\b(?:[Bb]earer|BEARER)[ \t]+(?P<s1>[A-Za-z0-9\-._~+/]{12,}=*)|\b(?:[Bb]asic|BASIC)[ \t]+(?P<s2>[A-Za-z0-9+/]{8,}={0,2})",
        check: Check::Machine,
    },
    RuleDef {
        name: "key-value",
        triggers: &[
            "pass",
            "pwd",
            "secret",
            "token",
            "key",
            "credential",
            "auth",
            "conn",
            "sas",
        ],
        // `<...keyword>` then `:`, `=`, `:=`, `=>` then a quoted or bare value. A quoted value
        // runs to its closing quote or, if the text was cut, to the end of the line.
        pattern: concat!(
            r#"(?i)"#,
            secret_key_words!(),
            r#"\\?["']?[ \t]*(?::=|=>|[:=])[ \t]*(?:"(?P<s1>[^"\r\n]{1,300})(?:"|$)|'(?P<s2>[^'\r\n]{1,300})(?:'|$)|\\"(?P<s3>[^"\\\r\n]{1,300})(?:\\"|$)|(?P<s4>[^\s"'`\\;,&<>(){}\[\]]{1,300}))"#
        ),
        check: Check::KeyValue,
    },
    RuleDef {
        name: "key-value-pair-call",
        triggers: &[
            "pass",
            "pwd",
            "secret",
            "token",
            "key",
            "credential",
            "auth",
        ],
        // ("api_token", "value"): a getter / setter call with the key and value as arguments.
        pattern: concat!(
            r#"(?i)["'][A-Za-z0-9_.\-]{0,60}?"#,
            secret_key_words!(),
            r#"["'][ \t]*,[ \t]*["'](?P<s>[^"'\r\n]{2,300})["']"#
        ),
        check: Check::NotPlaceholder,
    },
    RuleDef {
        name: "cli-flag",
        triggers: &["pass", "secret", "token", "key", "pwd"],
        // --password hunter2, --client-secret=..., --api-key "..."
        pattern: r#"(?i)(?:^|[\s"'])--?[a-z0-9\-]*(?:password|passwd|pwd|secret|token|api-?key|access-?key|account-?key|sas)(?:[ \t]+|=)(?:"(?P<s1>[^"\r\n]{1,300})"|'(?P<s2>[^'\r\n]{1,300})'|(?P<s3>[^\s"'-][^\s"']{0,300}))"#,
        check: Check::NotPlaceholder,
    },
    RuleDef {
        name: "curl-user",
        triggers: &["-u", "--user"],
        // The value: bare and quoted pieces glued together (`kevin:'pa ss'`, `"id":"pw"`).
        pattern: r#"(?:^|\s)(?:-u|--user)[\s\\/]*(?P<s>(?:[^\s"']+|"[^"\r\n]{0,200}"|'[^'\r\n]{0,200}')+)"#,
        check: Check::UserPass,
    },
    RuleDef {
        name: "url-credentials",
        triggers: &["://"],
        pattern: r#"(?i)\b[a-z][a-z0-9+.\-]{1,20}://(?P<s>[^\s/?#@"'<>]{1,300})@"#,
        check: Check::UrlUserInfo,
    },
    RuleDef {
        name: "sas-signature",
        triggers: &["sig=", "code="],
        // A SAS token's `sig=`, and an Azure Functions key passed as `?code=` / `&code=`.
        pattern: r#"(?i)(?:(?:^|[?&;\s"'])sig|[?&]code)=(?P<s>[^&\s"'<>;#]{4,})"#,
        check: Check::None,
    },
    RuleDef {
        name: "base64-key-64",
        triggers: &["=="],
        // A 64-byte key in base64 (storage, Cosmos DB, Service Bus classic keys).
        pattern: r"(?:^|[^A-Za-z0-9+/_\-])(?P<s>[A-Za-z0-9+/]{86}==)",
        check: Check::KeyValue,
    },
    RuleDef {
        name: "base64-key-32",
        triggers: &["="],
        // A 32-byte key in base64 (Event Hubs, Service Bus, Relay, SAS keys).
        pattern: r"(?:^|[^A-Za-z0-9+/_\-])(?P<s>[A-Za-z0-9+/]{43}=)(?:[^=A-Za-z0-9+/]|$)",
        check: Check::KeyValue,
    },
    RuleDef {
        name: "azure-identifiable-key",
        triggers: &[
            "+ast", "+aeh", "+asb", "+arm", "+amc", "+acr", "azfu", "azse", "azca", "acdb", "apim",
            "aiot", "azeg", "+aba",
        ],
        // Azure keys that carry a fixed 4-character signature inside a base64 body.
        pattern: r"[A-Za-z0-9+/_\-]{24,}(?:\+ASt|\+AEh|\+ASb|\+ARm|\+ABa|\+AMC|\+ACR|AzFu|AzSe|AzCa|ACDb|APIM|AIoT|AZEG)[A-Za-z0-9+/_\-]{4,}={0,2}",
        check: Check::None,
    },
    RuleDef {
        name: "azure-annotated-key",
        triggers: &["jqqj9"],
        pattern: r"[A-Za-z0-9]{40,60}JQQJ9[A-Za-z0-9]{10,40}",
        check: Check::None,
    },
    RuleDef {
        name: "entra-client-secret",
        triggers: &["q~"],
        // Entra ID (Azure AD) application secrets: 3 characters, a digit, `Q~`, then 31-34.
        pattern: r"(?:^|[^A-Za-z0-9_~.\-])(?P<s>[A-Za-z0-9_~.\-]{3}[0-9]Q~[A-Za-z0-9_~.\-]{31,34})(?:[^A-Za-z0-9_~.\-]|$)",
        check: Check::None,
    },
    RuleDef {
        name: "github-token",
        triggers: &["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
        pattern: r"\b(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{40,255})",
        check: Check::Prefixed,
    },
    RuleDef {
        name: "vault-token",
        triggers: &["hvs.", "hvb.", "hvr."],
        // HashiCorp Vault service, batch and recovery tokens.
        pattern: r"\bhv[sbr]\.[A-Za-z0-9_\-]{20,}",
        check: Check::Prefixed,
    },
    RuleDef {
        name: "app-insights-key",
        triggers: &[
            "instrumentationkey",
            "instrumentation_key",
            "instrumentation-key",
        ],
        // The key of an Application Insights connection string (a GUID, so no shape rule
        // would take it; its name is the signature).
        pattern: r#"(?i)\binstrumentation[_\-]?key\\?["']?[ \t]*[:=][ \t]*\\?["']?(?P<s>[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12})"#,
        check: Check::None,
    },
    RuleDef {
        name: "gitlab-token",
        triggers: &["glpat-", "glptt-", "gldt-"],
        pattern: r"\b(?:glpat|glptt|gldt)-[A-Za-z0-9_\-]{20,}",
        check: Check::Prefixed,
    },
    RuleDef {
        name: "aws-access-key-id",
        triggers: &["akia", "asia", "abia", "acca", "a3t"],
        pattern: r"\b(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}\b",
        check: Check::Prefixed,
    },
    RuleDef {
        name: "aws-bedrock-key",
        triggers: &["bedrock-api-key-", "absk"],
        pattern: r"\bbedrock-api-key-[A-Za-z0-9+/=_\-]{16,}|\bABSK[A-Za-z0-9+/]{100,}=*",
        check: Check::None,
    },
    RuleDef {
        name: "slack-token",
        triggers: &["xox"],
        pattern: r"\b(?:xoxe\.)?xox[abposre]-[A-Za-z0-9\-]{10,}",
        check: Check::Prefixed,
    },
    RuleDef {
        name: "slack-webhook",
        triggers: &["hooks.slack.com"],
        pattern: r"hooks\.slack\.com/(?:services|workflows|triggers)/(?P<s>[A-Za-z0-9+/_\-]{20,})",
        check: Check::None,
    },
    RuleDef {
        name: "npm-token",
        triggers: &["npm_"],
        pattern: r"\bnpm_[A-Za-z0-9]{36}\b",
        check: Check::Prefixed,
    },
    RuleDef {
        name: "pypi-token",
        triggers: &["pypi-"],
        pattern: r"\bpypi-AgE[A-Za-z0-9_\-]{50,}",
        check: Check::None,
    },
    RuleDef {
        name: "nuget-key",
        triggers: &["oy2"],
        pattern: r"\boy2[a-z2-7]{43}\b",
        check: Check::Prefixed,
    },
    RuleDef {
        name: "openai-style-key",
        triggers: &["sk-", "sk_live_", "sk_test_", "rk_live_", "rk_test_"],
        // OpenAI / Anthropic `sk-...` keys (optionally `sk-proj-`, `sk-ant-api03-`), Stripe
        // `sk_live_` / `rk_live_`.
        pattern: r"\b(?:sk-(?:[a-z0-9]{2,12}-){0,2}[A-Za-z0-9_\-]{20,}|[sr]k_(?:live|test)_[A-Za-z0-9]{16,})",
        check: Check::Prefixed,
    },
    RuleDef {
        name: "google-api-key",
        triggers: &["aiza"],
        pattern: r"\b(?P<s>AIza[A-Za-z0-9_\-]{35})(?:[^A-Za-z0-9_\-]|$)",
        check: Check::Prefixed,
    },
    RuleDef {
        name: "google-oauth-token",
        triggers: &["ya29."],
        pattern: r"\bya29\.[A-Za-z0-9_\-]{20,}",
        check: Check::Prefixed,
    },
    RuleDef {
        name: "huggingface-token",
        triggers: &["hf_", "api_org_"],
        pattern: r"\b(?:hf_[A-Za-z]{34}|api_org_[A-Za-z]{34})\b",
        check: Check::Prefixed,
    },
    RuleDef {
        name: "databricks-token",
        triggers: &["dapi"],
        pattern: r"\bdapi[a-f0-9]{32}(?:-[0-9]+)?\b",
        check: Check::Prefixed,
    },
    RuleDef {
        name: "terraform-cloud-token",
        triggers: &["atlasv1"],
        pattern: r"\b[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=\-]{60,70}",
        check: Check::Prefixed,
    },
    RuleDef {
        name: "sendgrid-key",
        triggers: &["sg."],
        pattern: r"\bSG\.[A-Za-z0-9_\-]{20,24}\.[A-Za-z0-9_\-]{39,50}",
        check: Check::Prefixed,
    },
    RuleDef {
        name: "docker-shopify-age-tokens",
        triggers: &[
            "dckr_pat_",
            "shpat_",
            "shpss_",
            "shpca_",
            "age-secret-key-1",
        ],
        pattern: r"\b(?:dckr_pat_[A-Za-z0-9_\-]{20,}|shp(?:at|ss|ca)_[a-fA-F0-9]{32}|AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})",
        check: Check::Prefixed,
    },
];

/// Rules whose literals are too common for the pre-filter (`AC`, `.`): they run only when the
/// text holds a run of at least [`LONG_RUN`](super::shape::LONG_RUN) token characters (what the
/// shape scan looks for too) and one of their literals, case-sensitively.
pub(crate) const SHAPE_RULES: &[RuleDef] = &[
    RuleDef {
        name: "twilio-key",
        triggers: &["AC", "SK"],
        // Twilio account SIDs (`AC`) and API keys (`SK`): the prefix and 32 lower-case hex.
        pattern: r"\b(?:AC|SK)[0-9a-f]{32}\b",
        check: Check::None,
    },
    RuleDef {
        name: "k8s-bootstrap-token",
        triggers: &["."],
        // `[a-z0-9]{6}.[a-z0-9]{16}`, alone (not part of a longer dotted name).
        pattern: r"(?:^|[^A-Za-z0-9_.\-])(?P<s>[a-z0-9]{6}\.[a-z0-9]{16})(?:[^A-Za-z0-9_.\-]|$)",
        check: Check::Bootstrap,
    },
];

/// Compiles one rule. Only ever called on the static table above, inside the once-init.
pub(crate) fn compile(def: &RuleDef) -> Regex {
    regex::RegexBuilder::new(def.pattern)
        .size_limit(8 * (1 << 20))
        .build()
        .unwrap_or_else(|e| panic!("secret rule `{}` does not compile: {e}", def.name))
}

/// Indices of the capture groups that hold the secret (`s`, `s1`, `s2`, ...).
pub(crate) fn secret_groups(re: &Regex) -> Vec<usize> {
    re.capture_names()
        .enumerate()
        .filter_map(|(i, n)| {
            let n = n?;
            let rest = n.strip_prefix('s')?;
            rest.bytes().all(|b| b.is_ascii_digit()).then_some(i)
        })
        .collect()
}

/// Values that occur in documentation and templates instead of a credential.
#[rustfmt::skip]
const PLACEHOLDER_WORDS: &[&str] = &[
    "password", "passwd", "pass", "pwd", "secret", "token", "apikey", "api_key", "api-key",
    "test", "testing", "changeme", "example", "sample", "dummy", "fake", "redacted", "none",
    "null", "nil", "true", "false", "undefined", "empty", "string", "value", "key", "user",
    "username", "required", "optional", "hidden", "masked", "sanitized", "basic", "bearer",
    "digest", "negotiate", "ntlm",
    // Prose after "token:" / "password:" in error messages ("token: the request timed out").
    "the", "a", "an", "is", "was", "has", "had", "not", "no", "failed", "expired", "invalid",
    "missing", "provided", "unset", "found", "error", "could", "cannot", "must", "should",
    "will", "for", "from", "with", "and", "or", "of", "to", "in", "on", "at", "by", "as", "be",
    "been", "this", "that", "it", "incorrect", "wrong", "denied", "unknown", "revoked",
    "refresh", "request", "response", "acquired", "retrieved", "rejected",
    // Prose that names where a credential comes from ("token: set GITHUB_TOKEN").
    "set", "use", "export", "via", "see", "run", "get", "provide", "supply", "env",
];

/// Whether `v` is a placeholder rather than a credential: a template or variable reference
/// (`$X`, `${x}`, `{{x}}`, `%VAR%`, `<token>`, `[PASSWORD]`, `{password}`, `ACCESS_TOKEN`), a run
/// of one or two repeated characters (`XXXX`, `****`, `0000`), the alphabet (`abcdefgh...`), a
/// common placeholder word, or a value that says "your ... here".
pub(crate) fn is_placeholder(v: &str) -> bool {
    let t = v.trim_matches(|c: char| c == '"' || c == '\'' || c == '`' || c.is_whitespace());
    if t.is_empty() {
        return true;
    }
    let first = t.as_bytes()[0];
    if matches!(first, b'$' | b'<' | b'[') {
        return true;
    }
    // `%API_KEY%` (a Windows environment variable).
    if t.len() >= 3
        && first == b'%'
        && t.ends_with('%')
        && t[1..t.len() - 1]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return true;
    }
    if t.contains("${") || t.contains("{{") || t.contains("$(") {
        return true;
    }
    if first == b'{' {
        // `{password}`, `{base64(user:pass)}`: a template; `{Zq5k...}`: a braced credential.
        let inner = t.trim_start_matches('{').trim_end_matches('}');
        if inner.contains('(') || !inner.bytes().any(|b| b.is_ascii_digit()) {
            return true;
        }
    }
    let lower = t.to_ascii_lowercase();
    if PLACEHOLDER_WORDS.contains(&lower.as_str()) {
        return true;
    }
    if lower.contains("your_")
        || lower.contains("your-")
        || lower.contains("yourkey")
        || lower.contains("_here")
        || lower.contains("abcdefgh")
        || lower.ends_with("example")
    {
        return true;
    }
    // A SCREAMING_CASE name (`ACCESS_TOKEN`, `K8S_CRED` aside): a variable, not a value.
    if t.len() >= 4 && t.contains('_') && t.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') {
        return true;
    }
    low_diversity(t)
}

/// One character makes up more than 70% of the alphanumerics, or there are at most two
/// distinct ones (`xxxxxxxx`, `bP88Q~xxxxxxxxxxxxxxxx`, `0000-0000`).
fn low_diversity(t: &str) -> bool {
    let mut counts = [0u32; 128];
    let mut total = 0u32;
    for b in t.bytes().filter(u8::is_ascii_alphanumeric) {
        counts[usize::from(b)] += 1;
        total += 1;
    }
    if total == 0 {
        // Only punctuation or non-ASCII: `****`, `....`, or a non-ASCII password. Treat
        // all-punctuation as a placeholder; keep anything with non-ASCII letters.
        return t.chars().all(|c| c.is_ascii_punctuation());
    }
    let distinct = counts.iter().filter(|&&c| c > 0).count();
    let max = counts.iter().copied().max().unwrap_or(0);
    distinct <= 2 || (total >= 8 && max * 10 > total * 7)
}

/// Looks machine-made: contains a digit, both cases, or a symbol. Ordinary words after
/// "Bearer"/"Basic" in prose ("Basic authentication") do not.
fn machine_made(v: &str) -> bool {
    let has_digit = v.bytes().any(|b| b.is_ascii_digit());
    let has_upper = v.bytes().skip(1).any(|b| b.is_ascii_uppercase());
    let has_lower = v.bytes().any(|b| b.is_ascii_lowercase());
    let has_symbol = v.bytes().any(|b| b"+/=_-~.".contains(&b));
    has_digit || (has_upper && has_lower) || has_symbol
}

/// Whether a prefixed token is a template: one character makes up 70 % or more of its
/// letters and digits (`AKIAXXXXXXXXXXXXXXXX`, `xoxp-0000-0000`), or 60 % or more of them
/// stand in ascending runs of 4+ (`abcdefgh...`, `12345678...`).
fn template(v: &str) -> bool {
    let alnum: Vec<u8> = v.bytes().filter(u8::is_ascii_alphanumeric).collect();
    if alnum.is_empty() {
        return true;
    }
    let mut counts = [0usize; 128];
    for &b in &alnum {
        counts[usize::from(b)] += 1;
    }
    let max = counts.iter().copied().max().unwrap_or(0);
    if max * 10 >= alnum.len() * 7 {
        return true;
    }
    let (mut ascending, mut run) = (0, 1);
    for i in 1..=alnum.len() {
        if i < alnum.len() && alnum[i] == alnum[i - 1].wrapping_add(1) {
            run += 1;
        } else {
            if run >= 4 {
                ascending += run;
            }
            run = 1;
        }
    }
    ascending * 10 >= alnum.len() * 6
}

/// Labels before a `key=value` secret that make the value no credential: public keys and
/// tokens, and anti-forgery nonces (`csrf-token`), which a page shows to everyone.
const PUBLIC_LABELS: [&str; 3] = ["public", "csrf", "xsrf"];

/// Applies `check` to the captured secret `v`; `label` is the text before it (its key name
/// and a little more). `true` means redact.
pub(crate) fn passes(check: Check, v: &str, label: &str) -> bool {
    match check {
        Check::None => true,
        Check::KeyValue => {
            let label = label.to_ascii_lowercase();
            !is_placeholder(v) && !PUBLIC_LABELS.iter().any(|word| label.contains(word))
        }
        Check::Prefixed => !template(v),
        Check::PemBody => {
            let mut run = 0;
            v.bytes().any(|b| {
                run = if b.is_ascii_alphanumeric() || b == b'+' || b == b'/' {
                    run + 1
                } else {
                    0
                };
                run >= 20
            })
        }
        Check::NotPlaceholder => !is_placeholder(v),
        Check::Machine => !is_placeholder(v) && machine_made(v),
        Check::UserPass => {
            if is_placeholder(v) {
                return false;
            }
            let Some((user, pass)) = v.split_once(':') else {
                return false;
            };
            let quotes: &[char] = &['"', '\''];
            let (user, pass) = (user.trim_matches(quotes), pass.trim_matches(quotes));
            if user.contains(['$', '<', '{', '[']) && (pass.is_empty() || is_placeholder(pass)) {
                return false;
            }
            match (user.is_empty(), pass.is_empty()) {
                (true, true) => false,
                (false, true) => !is_placeholder(user),
                (_, false) => !is_placeholder(pass),
            }
        }
        Check::Bootstrap => v.split_once('.').is_some_and(|(_, secret)| {
            secret.bytes().any(|b| b.is_ascii_digit())
                && secret.bytes().any(|b| b.is_ascii_lowercase())
        }),
        Check::UrlUserInfo => v != "git" && !is_placeholder(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_compiles_and_has_triggers() {
        for def in RULES {
            let re = compile(def);
            assert!(!def.triggers.is_empty(), "{} has no trigger", def.name);
            for t in def.triggers {
                assert_eq!(
                    *t,
                    t.to_ascii_lowercase(),
                    "{}: triggers are lower-case",
                    def.name
                );
            }
            // Every group named like a secret group is found.
            let named = re
                .capture_names()
                .flatten()
                .filter(|n| n.starts_with('s'))
                .count();
            assert_eq!(named, secret_groups(&re).len(), "{}", def.name);
        }
        assert!(RULES.len() <= 128, "the trigger mask is a u128");
        for def in SHAPE_RULES {
            let re = compile(def);
            assert_eq!(
                re.capture_names().flatten().count(),
                secret_groups(&re).len(),
                "{}",
                def.name
            );
        }
    }

    #[test]
    fn placeholders_are_recognised() {
        for p in [
            "$API_KEY",
            "${password}",
            "{{ .Values.token }}",
            "<your token>",
            "[PASSWORD]",
            "XXXXXXXXXXXX",
            "**********",
            "{password}",
            "{base64(email:password[\\n])}",
            "%API_KEY%",
            "changeme",
            "ADD_YOUR_HUGGING_FACE_TOKEN_HERE",
            "AIzaSyabcdefghijklmnopqrstuvwxyz1234567",
            "0000000000000000",
        ] {
            assert!(is_placeholder(p), "{p}");
        }
        for s in [
            "Lj2^5O%xi214",
            "P@ssw0rd$1",
            "{ZqL5kVrX1n8tA2}",
            "dafa7817-e246-48f3-91a7-e87653d587b8",
            "hunter2",
            "correct horse battery staple",
        ] {
            assert!(!is_placeholder(s), "{s}");
        }
    }

    #[test]
    fn user_pass_check() {
        assert!(passes(Check::Prefixed, "AKIAIOSFODNN7EXAMPLE", ""));
        assert!(!passes(Check::Prefixed, "AKIAXXXXXXXXXXXXXXXX", ""));
        assert!(!passes(Check::Prefixed, "xoxp-XXXXXXXXXX-XXXXXXXXXX", ""));
        assert!(!passes(
            Check::Prefixed,
            "dapi123456789012345678a9bc01234defg5",
            ""
        ));
        assert!(passes(
            Check::Prefixed,
            "ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5",
            ""
        ));
        assert!(!passes(Check::KeyValue, "abc123", "public_key=abc123"));
        assert!(passes(Check::KeyValue, "abc123", "api_key=abc123"));
        assert!(passes(Check::UserPass, "elastic:P@ssw0rd$1", ""));
        assert!(passes(Check::UserPass, ":d2LkV78zLx!t", ""));
        assert!(passes(Check::UserPass, "d2LkV78zLx!t:", ""));
        assert!(!passes(Check::UserPass, "test:test", ""));
        assert!(!passes(Check::UserPass, "myusername", ""));
        assert!(!passes(Check::UserPass, "$USERNAME:$PASSWORD", ""));
        assert!(!passes(Check::UserPass, ":", ""));
    }
}
