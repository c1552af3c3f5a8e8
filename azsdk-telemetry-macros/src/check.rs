//! The checking pass: turns parsed keys into what the expansion needs, and
//! rejects combinations that make no sense, each with one error on the
//! offending token.

use proc_macro2::Span;
use syn::{Ident, LitStr, Path};

use crate::attr::Entries;
use crate::case::RenameRule;

/// How one field or parameter is recorded.
#[derive(Clone)]
pub(crate) enum Mode {
    /// `allow`, `allow(display)`; with `dimension`, also promoted.
    Allow {
        dimension: Option<LitStr>,
        display: bool,
    },
    Presence,
    /// `hash`, `hash(display)`.
    Hash {
        display: bool,
    },
    Flatten,
}

/// A recorded field or parameter: its mode and its key in `toolArgs`.
#[derive(Clone)]
pub(crate) struct Recorded {
    pub(crate) mode: Mode,
    pub(crate) key: String,
}

const MODES: [&str; 5] = ["allow", "presence", "hash", "skip", "flatten"];

/// Checks a field's (or parameter's) keys; `None` means not recorded.
/// `name` is `None` for tuple fields, which need `rename`.
pub(crate) fn field(
    entries: &Entries,
    name: Option<&Ident>,
    rule: RenameRule,
) -> syn::Result<Option<Recorded>> {
    let mut mode: Option<(&str, Span)> = None;
    for entry in &entries.0 {
        if MODES.contains(&entry.key) {
            if let Some((first, _)) = mode {
                return Err(syn::Error::new(
                    entry.span,
                    format!(
                        "`{}` conflicts with `{first}`: a field is recorded in one way only",
                        entry.key
                    ),
                ));
            }
            mode = Some((entry.key, entry.span));
        }
    }
    let dimension = entries.get("dimension");
    let rename = entries.get("rename");
    if let Some(dimension) = dimension {
        if mode.map(|(key, _)| key) != Some("allow") {
            return Err(syn::Error::new(
                dimension.span,
                "`dimension` promotes an allowed value: add `allow` (`#[telemetry(allow, dimension = \"...\")]`)",
            ));
        }
        if let Some(lit) = entries.str("dimension") {
            non_empty(lit, "dimension")?;
        }
    }
    if let Some(rename) = rename {
        if !matches!(mode, Some(("allow" | "presence" | "hash", _))) {
            return Err(syn::Error::new(
                rename.span,
                "`rename` names a recorded key: use it with `allow`, `presence` or `hash`",
            ));
        }
    }
    let Some((mode, span)) = mode else {
        return Ok(None);
    };
    let mode = match mode {
        "allow" => Mode::Allow {
            dimension: entries.str("dimension").cloned(),
            display: entries.display("allow"),
        },
        "presence" => Mode::Presence,
        "hash" => Mode::Hash {
            display: entries.display("hash"),
        },
        "flatten" => Mode::Flatten,
        _ => return Ok(None), // skip
    };
    let key = match (entries.str("rename"), name) {
        (Some(lit), _) => {
            non_empty(lit, "rename")?;
            lit.value()
        }
        (None, Some(name)) => rule.apply(&name.to_string()),
        (None, None) if matches!(mode, Mode::Flatten) => String::new(),
        (None, None) => {
            return Err(syn::Error::new(
                span,
                "a tuple field has no name to record: add `rename = \"key\"`",
            ))
        }
    };
    Ok(Some(Recorded { mode, key }))
}

/// A string value that must not be empty.
pub(crate) fn non_empty(lit: &LitStr, key: &str) -> syn::Result<String> {
    let value = lit.value();
    if value.trim().is_empty() {
        return Err(syn::Error::new(
            lit.span(),
            format!("`{key}` must not be empty"),
        ));
    }
    Ok(value)
}

/// The runtime crate's path: `crate = path`, or `::azsdk_telemetry`.
pub(crate) fn krate(entries: &Entries) -> Path {
    entries
        .path("crate")
        .cloned()
        .unwrap_or_else(|| syn::parse_quote!(::azsdk_telemetry))
}

/// The container's `rename_all`, camelCase by default.
pub(crate) fn rename_all(entries: &Entries) -> syn::Result<RenameRule> {
    match entries.str("rename_all") {
        Some(lit) => RenameRule::parse(&lit.value(), lit.span()),
        None => Ok(RenameRule::Camel),
    }
}

/// Checked `#[telemetry_tool(...)]` arguments.
pub(crate) struct Tool {
    pub(crate) name: String,
    pub(crate) category: String,
    pub(crate) krate: Path,
}

pub(crate) fn tool(entries: &Entries, sig: &syn::Signature) -> syn::Result<Tool> {
    if let Some(constness) = &sig.constness {
        return Err(syn::Error::new_spanned(
            constness,
            "`#[telemetry_tool]` cannot instrument a `const fn`: recording a call reads the clock and emits an event at run time; remove `const`",
        ));
    }
    let Some(category) = entries.str("category") else {
        return Err(syn::Error::new(
            Span::call_site(),
            "missing `category` in #[telemetry_tool(...)]: add `category = \"...\"` (generating, testing, validating, ...)",
        ));
    };
    let category = non_empty(category, "category")?;
    let name = match entries.str("name") {
        Some(lit) => non_empty(lit, "name")?,
        None => {
            let ident = sig.ident.to_string();
            ident.strip_prefix("r#").unwrap_or(&ident).to_owned()
        }
    };
    Ok(Tool {
        name,
        category,
        krate: krate(entries),
    })
}

/// Checked `#[telemetry(...)]` of a `TelemetryError` type or variant.
#[derive(Clone, Default)]
pub(crate) struct ErrorRule {
    pub(crate) error_type: Option<String>,
    pub(crate) skip_message: bool,
    pub(crate) expected: bool,
    pub(crate) transparent: bool,
}

/// `fields` is the number of fields of the variant or struct (`None` for an enum container).
pub(crate) fn error_rule(
    entries: &Entries,
    fields: Option<usize>,
    defaults: &ErrorRule,
) -> syn::Result<ErrorRule> {
    let transparent = entries.flag("transparent");
    if let Some(span) = transparent {
        if fields != Some(1) {
            return Err(syn::Error::new(
                span,
                "`transparent` forwards to the one field of a variant or struct; this one does not have exactly one field",
            ));
        }
        for key in ["error_type", "skip_message", "expected"] {
            if let Some(entry) = entries.get(key) {
                return Err(syn::Error::new(
                    entry.span,
                    format!("`{key}` conflicts with `transparent`, which takes everything from the inner error"),
                ));
            }
        }
    }
    let error_type = match entries.str("error_type") {
        Some(lit) => Some(non_empty(lit, "error_type")?),
        None => defaults.error_type.clone(),
    };
    Ok(ErrorRule {
        error_type,
        skip_message: entries.flag("skip_message").is_some() || defaults.skip_message,
        expected: entries.flag("expected").is_some() || defaults.expected,
        transparent: transparent.is_some(),
    })
}
