//! Parsing of the macros' arguments, keeping the span of every key and value
//! so diagnostics point at the offending token.

use proc_macro2::{Span, TokenStream};
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::{Attribute, LitStr, Path};

/// The shape of a key's value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `key`
    Flag,
    /// `key` or `key(display)`: a recording mode, optionally through `Display`
    Mode,
    /// `key = "text"`
    Str,
    /// `key = path` or `key = "path"`
    Path,
}

/// A parsed value.
#[derive(Clone)]
pub(crate) enum Value {
    Flag,
    /// `key(display)`
    Display,
    Str(LitStr),
    Path(Path),
}

/// One `key` or `key = value` with the key's span.
#[derive(Clone)]
pub(crate) struct Entry {
    pub(crate) key: &'static str,
    pub(crate) span: Span,
    pub(crate) value: Value,
}

/// The keys found in one place (an attribute's arguments, or every
/// `#[telemetry(...)]` on one item), in order, each at most once.
#[derive(Clone, Default)]
pub(crate) struct Entries(pub(crate) Vec<Entry>);

impl Entries {
    pub(crate) fn get(&self, key: &str) -> Option<&Entry> {
        self.0.iter().find(|entry| entry.key == key)
    }

    pub(crate) fn flag(&self, key: &str) -> Option<Span> {
        self.get(key).map(|entry| entry.span)
    }

    /// Whether `key` was given as `key(display)`.
    pub(crate) fn display(&self, key: &str) -> bool {
        matches!(
            self.get(key).map(|entry| &entry.value),
            Some(Value::Display)
        )
    }

    pub(crate) fn str(&self, key: &str) -> Option<&LitStr> {
        match self.get(key).map(|entry| &entry.value) {
            Some(Value::Str(lit)) => Some(lit),
            _ => None,
        }
    }

    pub(crate) fn path(&self, key: &str) -> Option<&Path> {
        match self.get(key).map(|entry| &entry.value) {
            Some(Value::Path(path)) => Some(path),
            _ => None,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What a place accepts: key names and their shapes, and how to name the place in errors.
pub(crate) struct Spec {
    pub(crate) place: &'static str,
    pub(crate) keys: &'static [(&'static str, Kind)],
}

impl Spec {
    fn expected(&self) -> String {
        let names: Vec<String> = self
            .keys
            .iter()
            .map(|(key, _)| format!("`{key}`"))
            .collect();
        match names.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        }
    }

    fn parse_one(&self, meta: ParseNestedMeta<'_>, entries: &mut Entries) -> syn::Result<()> {
        let Some(&(key, kind)) = self.keys.iter().find(|(key, _)| meta.path.is_ident(key)) else {
            let shown = path_text(&meta.path);
            return Err(meta.error(format!(
                "unknown key `{shown}` in {}; expected {}",
                self.place,
                self.expected()
            )));
        };
        let span = key_span(&meta.path);
        if entries.get(key).is_some() {
            return Err(syn::Error::new(
                span,
                format!("duplicate `{key}` in {}", self.place),
            ));
        }
        let value = match kind {
            Kind::Flag => {
                if meta.input.peek(syn::Token![=]) || meta.input.peek(syn::token::Paren) {
                    return Err(meta.error(format!("`{key}` takes no value: write `{key}` alone")));
                }
                Value::Flag
            }
            Kind::Mode => {
                if meta.input.peek(syn::Token![=]) {
                    return Err(meta.error(format!(
                        "`{key}` takes no value: write `{key}`, or `{key}(display)` to record the value's `Display` text"
                    )));
                }
                if !meta.input.peek(syn::token::Paren) {
                    Value::Flag
                } else {
                    let mut display = false;
                    let wrong = || {
                        format!("`{key}(...)` takes one option, `display`: write `{key}(display)` to record the value's `Display` text")
                    };
                    meta.parse_nested_meta(|option| {
                        let valued = option.input.peek(syn::Token![=])
                            || option.input.peek(syn::token::Paren);
                        if display || valued || !option.path.is_ident("display") {
                            return Err(option.error(wrong()));
                        }
                        display = true;
                        Ok(())
                    })?;
                    if !display {
                        return Err(syn::Error::new(span, wrong()));
                    }
                    Value::Display
                }
            }
            Kind::Str => {
                let lit: LitStr = meta.value()?.parse().map_err(|error| {
                    syn::Error::new(
                        error.span(),
                        format!("`{key}` expects a string literal: `{key} = \"...\"`"),
                    )
                })?;
                Value::Str(lit)
            }
            Kind::Path => {
                let input = meta.value()?;
                let path = if input.peek(LitStr) {
                    input.parse::<LitStr>()?.parse()
                } else {
                    input.call(Path::parse_mod_style)
                };
                Value::Path(path.map_err(|error| {
                    syn::Error::new(
                        error.span(),
                        format!("`{key}` expects a path: `{key} = my_crate::telemetry`"),
                    )
                })?)
            }
        };
        entries.0.push(Entry { key, span, value });
        Ok(())
    }

    /// Parses the arguments of an attribute macro: `#[telemetry_tool(...)]`.
    pub(crate) fn parse_args(&self, args: TokenStream) -> syn::Result<Entries> {
        let mut entries = Entries::default();
        syn::meta::parser(|meta| self.parse_one(meta, &mut entries)).parse2(args)?;
        Ok(entries)
    }

    /// Parses every `#[telemetry(...)]` among `attrs`.
    pub(crate) fn parse_attrs(&self, attrs: &[Attribute]) -> syn::Result<Entries> {
        let mut entries = Entries::default();
        for attr in attrs.iter().filter(|attr| is_telemetry(attr)) {
            if !matches!(attr.meta, syn::Meta::List(_)) {
                return Err(syn::Error::new_spanned(
                    &attr.meta,
                    format!(
                        "expected `#[telemetry(...)]` with one of {}",
                        self.expected()
                    ),
                ));
            }
            attr.parse_nested_meta(|meta| self.parse_one(meta, &mut entries))?;
        }
        Ok(entries)
    }
}

/// Whether an attribute is one of ours: `#[telemetry(...)]`.
pub(crate) fn is_telemetry(attr: &Attribute) -> bool {
    attr.path().is_ident("telemetry")
}

fn path_text(path: &Path) -> String {
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    segments.join("::")
}

fn key_span(path: &Path) -> Span {
    path.segments
        .first()
        .map_or_else(Span::call_site, |segment| segment.ident.span())
}

/// `#[telemetry_tool(...)]`.
pub(crate) const TOOL: Spec = Spec {
    place: "#[telemetry_tool(...)]",
    keys: &[
        ("category", Kind::Str),
        ("name", Kind::Str),
        ("crate", Kind::Path),
    ],
};

/// `#[telemetry(...)]` on a field of `derive(TelemetryArgs)` or a tool's parameter.
pub(crate) const FIELD: Spec = Spec {
    place: "#[telemetry(...)] on a field",
    keys: &[
        ("allow", Kind::Mode),
        ("presence", Kind::Flag),
        ("hash", Kind::Mode),
        ("skip", Kind::Flag),
        ("flatten", Kind::Flag),
        ("dimension", Kind::Str),
        ("rename", Kind::Str),
    ],
};

/// `#[telemetry(...)]` on a tool's parameter.
pub(crate) const PARAM: Spec = Spec {
    place: "#[telemetry(...)] on a parameter",
    keys: FIELD.keys,
};

/// `#[telemetry(...)]` on a type deriving `TelemetryArgs`.
pub(crate) const ARGS_CONTAINER: Spec = Spec {
    place: "#[telemetry(...)] on a TelemetryArgs type",
    keys: &[("rename_all", Kind::Str), ("crate", Kind::Path)],
};

/// `#[telemetry(...)]` on a variant of an enum deriving `TelemetryArgs`.
pub(crate) const ARGS_VARIANT: Spec = Spec {
    place: "#[telemetry(...)] on a variant",
    keys: &[("rename", Kind::Str)],
};

/// `#[telemetry(...)]` on a type deriving `TelemetryError`.
pub(crate) const ERROR_CONTAINER: Spec = Spec {
    place: "#[telemetry(...)] on a TelemetryError type",
    keys: &[
        ("error_type", Kind::Str),
        ("skip_message", Kind::Flag),
        ("expected", Kind::Flag),
        ("transparent", Kind::Flag),
        ("crate", Kind::Path),
    ],
};

/// `#[telemetry(...)]` on a variant of an enum deriving `TelemetryError`.
pub(crate) const ERROR_VARIANT: Spec = Spec {
    place: "#[telemetry(...)] on a variant",
    keys: &[
        ("error_type", Kind::Str),
        ("skip_message", Kind::Flag),
        ("expected", Kind::Flag),
        ("transparent", Kind::Flag),
    ],
};
