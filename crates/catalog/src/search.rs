//! Search input: the user's text as the database compares it.
//!
//! Names are normalised once, when a food is stored ([`normalise_name`] → a `search_name` column), and queries
//! go through the very same function ([`SearchQuery::parse`]), so case, accents, ligatures and punctuation
//! never decide whether a food is found. The SQL must compare these strings as they are (no `lower()` or
//! `unaccent()` on either side): the normalisation lives here, in one place.

use std::fmt;

use serde::Serialize;

use crate::error::CatalogError;

/// Longest query accepted, in characters, before normalisation: longer than any product name a person types.
pub const MAX_QUERY_CHARS: usize = 100;

/// Shortest word a trigram index can serve: `pg_trgm` needs a three-character run inside the pattern.
pub const TRIGRAM_CHARS: usize = 3;

/// The normalised form of a food name or brand for searching: lower case, accents and ligatures folded
/// (`Crème brûlée` → `creme brulee`, `Œufs` → `oeufs`), punctuation turned into single spaces (`M&M's` →
/// `m ms`), apostrophes dropped. It is the dietary engine's [`diningcoach_dietary::normalise`], so that labels,
/// ingredient names, food names and queries all fold the same way.
#[must_use]
pub fn normalise_name(name: &str) -> String {
    diningcoach_dietary::normalise(name)
}

/// A validated search text, normalised like stored names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct SearchQuery(String);

impl SearchQuery {
    /// Trims and normalises the user's text.
    ///
    /// # Errors
    /// [`CatalogError::InvalidSearchQuery`] when the text is longer than [`MAX_QUERY_CHARS`] or has nothing
    /// searchable in it (empty, only spaces or punctuation).
    pub fn parse(text: &str) -> Result<Self, CatalogError> {
        let text = text.trim();
        if text.len() > MAX_QUERY_CHARS && text.chars().count() > MAX_QUERY_CHARS {
            return Err(CatalogError::InvalidSearchQuery(format!(
                "must be at most {MAX_QUERY_CHARS} characters"
            )));
        }
        let normalised = normalise_name(text);
        if normalised.is_empty() {
            return Err(CatalogError::InvalidSearchQuery(
                "must contain a letter or a digit".to_owned(),
            ));
        }
        Ok(Self(normalised))
    }

    /// The normalised text, to compare with stored search names.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether a trigram index cannot serve this query: no word of it has [`TRIGRAM_CHARS`] characters (every
    /// 1–2 character query, and `a b`). Such queries need another path, e.g. a prefix match on a b-tree
    /// (`search_name LIKE 'ab%'` with `text_pattern_ops`, or a word-prefix index).
    #[must_use]
    pub fn is_short(&self) -> bool {
        self.0
            .split(' ')
            .all(|word| word.chars().count() < TRIGRAM_CHARS)
    }

    /// A `LIKE` pattern for "the name contains the query", wildcards escaped (with `\`, PostgreSQL's default).
    #[must_use]
    pub fn contains_pattern(&self) -> String {
        format!("%{}%", escape_like(&self.0))
    }

    /// A `LIKE` pattern for "the name starts with the query".
    #[must_use]
    pub fn prefix_pattern(&self) -> String {
        format!("{}%", escape_like(&self.0))
    }

    /// `LIKE` patterns for "contains this word", one per word of the query that a trigram index can serve. A text
    /// contains the query only if its words contain each of these.
    #[must_use]
    pub fn word_patterns(&self) -> Vec<String> {
        self.0
            .split(' ')
            .filter(|word| word.chars().count() >= TRIGRAM_CHARS)
            .map(|word| format!("%{}%", escape_like(word)))
            .collect()
    }

    /// A `LIKE` pattern for "holds the query's first word after its own first character", when a trigram index
    /// can serve it. The query is inside a text but at no word's start only if a word of the text holds the
    /// query's first word that way: a word of at least [`TRIGRAM_CHARS`] characters, such as a vocabulary of
    /// the catalog's words keeps.
    #[must_use]
    pub fn inner_word_pattern(&self) -> Option<String> {
        let first = self.0.split(' ').next()?;
        (first.chars().count() >= TRIGRAM_CHARS).then(|| format!("_%{}%", escape_like(first)))
    }

    /// A `LIKE` pattern for "starts with the first `chars` characters of the query", for keys stored cut to
    /// that length (the word-start index); the full query must then be checked against the full text.
    #[must_use]
    pub fn cut_prefix_pattern(&self, chars: usize) -> String {
        let cut: String = self.0.chars().take(chars).collect();
        format!("{}%", escape_like(&cut))
    }
}

impl fmt::Display for SearchQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Normalised text has no `%`, `_` or `\` (they are punctuation), but the patterns must stay safe whatever the
/// normaliser becomes.
fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn queries_fold_like_names() {
        let cases = [
            ("  Crème Brûlée ", "creme brulee", false),
            ("YOGHURT", "yoghurt", false),
            ("Œufs", "oeufs", false),
            ("M&M's", "m ms", true),
            ("Dr. Oetker", "dr oetker", false),
            ("ab", "ab", true),
            ("é", "e", true),
            ("a b", "a b", true),
            ("7 up", "7 up", true),
            ("abc", "abc", false),
            ("Straße", "strasse", false),
        ];
        for (input, normalised, short) in cases {
            let query = SearchQuery::parse(input).unwrap();
            assert_eq!(query.as_str(), normalised, "{input}");
            assert_eq!(query.is_short(), short, "{input}");
            assert_eq!(normalise_name(input), normalised, "{input}");
        }
    }

    #[test]
    fn empty_or_long_queries_are_refused() {
        for input in ["", "   ", "!!!", "—", &"a".repeat(101)] {
            assert!(
                matches!(
                    SearchQuery::parse(input),
                    Err(CatalogError::InvalidSearchQuery(_))
                ),
                "{input}"
            );
        }
        assert!(SearchQuery::parse(&"é".repeat(100)).is_ok());
        assert!(SearchQuery::parse(&format!("  {}  ", "a".repeat(100))).is_ok());
    }

    #[test]
    fn patterns_are_escaped() {
        let query = SearchQuery::parse("choc").unwrap();
        assert_eq!(query.contains_pattern(), "%choc%");
        assert_eq!(query.prefix_pattern(), "choc%");
        let words = SearchQuery::parse("dark choc au lait").unwrap();
        assert_eq!(words.word_patterns(), ["%dark%", "%choc%", "%lait%"]);
        assert_eq!(words.inner_word_pattern().as_deref(), Some("_%dark%"));
        let short = SearchQuery::parse("au lait").unwrap();
        assert_eq!(short.inner_word_pattern(), None);
        assert_eq!(escape_like("50%_a\\"), "50\\%\\_a\\\\");
    }

    proptest! {
        #[test]
        fn a_name_is_found_by_itself_and_its_parts(name in "[a-zA-Zàéîõüß&' -]{1,60}") {
            let stored = normalise_name(&name);
            if let Ok(query) = SearchQuery::parse(&name) {
                prop_assert_eq!(query.as_str(), stored.as_str());
                // Normalising is idempotent: a stored name searched for is found as is.
                prop_assert_eq!(normalise_name(&stored), stored.clone());
            }
            if let Some(word) = name.split_whitespace().next()
                && let Ok(query) = SearchQuery::parse(word)
            {
                prop_assert!(stored.contains(query.as_str()), "{:?} not in {:?}", query, stored);
            }
        }

        #[test]
        fn parse_never_panics_and_keeps_its_promises(text in ".{0,130}") {
            if let Ok(query) = SearchQuery::parse(&text) {
                prop_assert!(!query.as_str().is_empty());
                prop_assert_eq!(query.as_str().trim(), query.as_str());
                prop_assert!(!query.as_str().contains("  "));
                prop_assert_eq!(query.as_str().to_lowercase(), query.as_str());
                let short = query.as_str().chars().count() < TRIGRAM_CHARS;
                if short {
                    prop_assert!(query.is_short());
                }
            }
        }
    }
}
