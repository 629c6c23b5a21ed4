//! What the search structures hold for a food's search text (its normalised name and brand): the word starts of
//! `food_words` and the words of the vocabulary, `search_words`.
//!
//! The migrations define them, and their triggers keep them up to date whatever writes the foods. A first load
//! (see `catalog_imports`) writes them itself from here instead: the word-start trigger spent more of
//! PostgreSQL's time than the foods themselves, on the one core that the load keeps busy, while these take
//! microseconds on the importer's side. A test holds the two definitions to the same results.

use std::collections::BTreeSet;

/// Word starts are stored cut to this many characters (`food_word_starts`).
pub(crate) const WORD_KEY_CHARS: usize = 32;

/// Vocabulary words have at least this many characters (`foods_vocabulary_written`).
const VOCABULARY_MIN_CHARS: usize = 3;

/// `food_word_starts`: the text from each word after the first to its end, cut to [`WORD_KEY_CHARS`]
/// characters, once each.
fn word_starts(search_text: &str) -> BTreeSet<String> {
    search_text
        .match_indices(' ')
        .map(|(space, _)| &search_text[space + 1..])
        .filter(|rest| !rest.is_empty() && !rest.starts_with(' '))
        .map(|rest| rest.chars().take(WORD_KEY_CHARS).collect())
        .collect()
}

/// `food_word_keys`: the word starts in key order, each with the number of characters it shares with the one
/// before it (0 for the first), which lets a search keep a food at its first word start that matches.
pub(crate) fn word_keys(search_text: &str) -> Vec<(String, i16)> {
    let keys: Vec<String> = word_starts(search_text).into_iter().collect();
    let shared: Vec<i16> = std::iter::once(0)
        .chain(
            keys.windows(2)
                .map(|pair| shared_prefix_chars(&pair[0], &pair[1])),
        )
        .collect();
    keys.into_iter().zip(shared).collect()
}

/// `shared_prefix_chars`: how many leading characters two texts have in common.
fn shared_prefix_chars(a: &str, b: &str) -> i16 {
    let shared = a.chars().zip(b.chars()).take_while(|(a, b)| a == b).count();
    // Keys have at most WORD_KEY_CHARS characters.
    i16::try_from(shared).unwrap_or(i16::MAX)
}

/// The words of the text that the vocabulary holds.
pub(crate) fn vocabulary_words(search_text: &str) -> impl Iterator<Item = &str> {
    search_text
        .split(' ')
        .filter(|word| word.chars().nth(VOCABULARY_MIN_CHARS - 1).is_some())
}

/// The search text of a food, as the `foods.search_text` column computes it.
pub(crate) fn search_text(search_name: &str, search_brand: Option<&str>) -> String {
    match search_brand {
        Some(brand) => format!("{search_name} {brand}"),
        None => search_name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn starts(text: &str) -> Vec<String> {
        word_starts(text).into_iter().collect()
    }

    #[test]
    fn every_word_after_the_first_starts_a_key_to_the_end_of_the_text() {
        assert_eq!(
            starts("strawberry yogurt fjord fresh"),
            ["fjord fresh", "fresh", "yogurt fjord fresh"]
        );
        assert!(starts("yogurt").is_empty());
        assert!(starts("").is_empty());
    }

    #[test]
    fn empty_words_start_nothing_and_repeated_keys_are_kept_once() {
        assert_eq!(starts("a  b "), ["b "]);
        assert_eq!(starts("tea tea tea"), ["tea", "tea tea"]);
    }

    #[test]
    fn keys_are_cut_to_32_characters_not_bytes() {
        let text = format!("x {}", "é".repeat(40));
        assert_eq!(starts(&text), ["é".repeat(32)]);
    }

    #[test]
    fn each_key_counts_the_characters_it_shares_with_the_previous_one() {
        let keys = word_keys("x yogurt yoghurt tea yog é éa");
        let expected = [
            ("tea yog é éa", 0),
            ("yog é éa", 0),
            ("yoghurt tea yog é éa", 3),
            ("yogurt yoghurt tea yog é éa", 3),
            ("é éa", 0),
            ("éa", 1),
        ];
        let expected: Vec<(String, i16)> = expected
            .iter()
            .map(|(key, shared)| ((*key).to_owned(), *shared))
            .collect();
        assert_eq!(keys, expected);
    }

    #[test]
    fn the_vocabulary_keeps_words_of_three_characters_or_more() {
        let words: Vec<&str> = vocabulary_words("tè au lait  crème x").collect();
        assert_eq!(words, ["lait", "crème"]);
        assert_eq!(vocabulary_words("thé").count(), 1);
    }
}
