//! Key naming: `rename_all` rules applied to Rust identifiers.

use proc_macro2::Span;

/// A `rename_all` rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RenameRule {
    Camel,
    Snake,
    Pascal,
    Kebab,
    ScreamingSnake,
    Lower,
    Upper,
}

impl RenameRule {
    pub(crate) const NAMES: &'static str =
        "\"camelCase\", \"snake_case\", \"PascalCase\", \"kebab-case\", \"SCREAMING_SNAKE_CASE\", \"lowercase\" or \"UPPERCASE\"";

    pub(crate) fn parse(name: &str, span: Span) -> syn::Result<Self> {
        Ok(match name {
            "camelCase" => RenameRule::Camel,
            "snake_case" => RenameRule::Snake,
            "PascalCase" => RenameRule::Pascal,
            "kebab-case" => RenameRule::Kebab,
            "SCREAMING_SNAKE_CASE" => RenameRule::ScreamingSnake,
            "lowercase" => RenameRule::Lower,
            "UPPERCASE" => RenameRule::Upper,
            _ => {
                return Err(syn::Error::new(
                    span,
                    format!(
                        "unknown `rename_all` rule `{name}`; expected {}",
                        Self::NAMES
                    ),
                ))
            }
        })
    }

    /// Applies the rule to a field or variant name (snake_case or PascalCase).
    pub(crate) fn apply(self, name: &str) -> String {
        let name = name.strip_prefix("r#").unwrap_or(name);
        let words = words(name);
        let capitalize = |word: &str| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect::<String>()
            })
        };
        match self {
            RenameRule::Camel => words
                .iter()
                .enumerate()
                .map(|(i, word)| {
                    if i == 0 {
                        word.clone()
                    } else {
                        capitalize(word)
                    }
                })
                .collect(),
            RenameRule::Pascal => words.iter().map(|word| capitalize(word)).collect(),
            RenameRule::Snake => words.join("_"),
            RenameRule::Kebab => words.join("-"),
            RenameRule::ScreamingSnake => words.join("_").to_uppercase(),
            RenameRule::Lower => words.concat(),
            RenameRule::Upper => words.concat().to_uppercase(),
        }
    }
}

/// Lower-case words of a snake_case or PascalCase name.
fn words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    for part in name.split('_').filter(|part| !part.is_empty()) {
        let mut current = String::new();
        let chars: Vec<char> = part.chars().collect();
        for (i, &c) in chars.iter().enumerate() {
            let boundary = c.is_uppercase()
                && i > 0
                && (chars[i - 1].is_lowercase()
                    || chars[i - 1].is_ascii_digit()
                    || chars.get(i + 1).is_some_and(|next| next.is_lowercase()));
            if boundary && !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            current.extend(c.to_lowercase());
        }
        if !current.is_empty() {
            words.push(current);
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        assert_eq!(
            RenameRule::Camel.apply("typespec_project_root"),
            "typespecProjectRoot"
        );
        assert_eq!(RenameRule::Camel.apply("Preview"), "preview");
        assert_eq!(RenameRule::Camel.apply("HTTPServer"), "httpServer");
        assert_eq!(RenameRule::Camel.apply("r#type"), "type");
        assert_eq!(RenameRule::Pascal.apply("api_version"), "ApiVersion");
        assert_eq!(RenameRule::Snake.apply("DataPlane"), "data_plane");
        assert_eq!(RenameRule::Kebab.apply("api_version"), "api-version");
        assert_eq!(
            RenameRule::ScreamingSnake.apply("apiVersion"),
            "API_VERSION"
        );
        assert_eq!(RenameRule::Lower.apply("api_version"), "apiversion");
        assert_eq!(RenameRule::Upper.apply("api_version"), "APIVERSION");
        assert_eq!(RenameRule::Camel.apply("sdk_v2_name"), "sdkV2Name");
    }
}
