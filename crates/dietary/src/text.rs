//! Text normalisation shared by the ingredient parser, the taxonomy and tag mapping.
//!
//! Label text and taxonomy names go through the same [`normalise`], so that case, accents, ligatures,
//! punctuation and the spacing of E-numbers never decide whether an ingredient is recognised.

/// Lower-cases, folds accents and ligatures, turns punctuation into spaces, collapses spaces and joins
/// E-numbers written with a space or a dash (`E 471`, `e-471`, `INS 471` all become `e471`).
///
/// Letters of scripts without case or accents (Hangul, Han...) pass through unchanged, so that other languages
/// only need more names in the taxonomy.
#[must_use]
pub fn normalise(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    for c in text.chars() {
        fold_char(c, &mut folded);
    }
    let mut out = String::with_capacity(folded.len());
    let mut words = folded.split_whitespace().peekable();
    while let Some(word) = words.next() {
        if !out.is_empty() {
            out.push(' ');
        }
        let joins_number = (word == "e" || word == "ins")
            && words
                .peek()
                .is_some_and(|next| next.chars().next().is_some_and(|c| c.is_ascii_digit()));
        if joins_number {
            out.push('e');
            if let Some(number) = words.next() {
                out.push_str(number);
            }
        } else {
            out.push_str(word);
        }
    }
    out
}

fn fold_char(c: char, out: &mut String) {
    if c.is_ascii() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if c == '\'' {
            // "baker's yeast" and "bakers yeast" are the same ingredient.
        } else {
            out.push(' ');
        }
        return;
    }
    let replacement = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => {
            "a"
        }
        'ç' | 'ć' | 'č' | 'Ç' | 'Ć' | 'Č' => "c",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' | 'È' | 'É' | 'Ê' | 'Ë' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'Ì' | 'Í' | 'Î' | 'Ï' => "i",
        'ñ' | 'ń' | 'ň' | 'Ñ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' => {
            "o"
        }
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' | 'Ù' | 'Ú' | 'Û' | 'Ü' => "u",
        'ý' | 'ÿ' | 'Ý' => "y",
        'ś' | 'š' | 'ş' | 'Š' => "s",
        'ź' | 'ż' | 'ž' | 'Ž' => "z",
        'ł' | 'Ł' => "l",
        'ř' => "r",
        'ď' => "d",
        'ť' => "t",
        'ß' => "ss",
        'æ' | 'Æ' => "ae",
        'œ' | 'Œ' => "oe",
        // Typographic apostrophes, like the ASCII one, vanish.
        '\u{2019}' | '\u{2018}' | '\u{02bc}' => "",
        _ if c.is_alphanumeric() => {
            out.extend(c.to_lowercase());
            return;
        }
        _ => " ",
    };
    out.push_str(replacement);
}

/// Singular forms to try for an English plural, most likely first (`tomatoes` → `tomato`, `cherries` →
/// `cherry`, `peaches` → `peach`, `almonds` → `almond`). Words ending in `ss` or `us` are not plurals.
pub(crate) fn singular_candidates(word: &str) -> impl Iterator<Item = String> + '_ {
    let plural =
        word.len() > 3 && word.ends_with('s') && !word.ends_with("ss") && !word.ends_with("us");
    let candidates: [Option<String>; 3] = if plural {
        [
            word.strip_suffix("ies").map(|stem| format!("{stem}y")),
            word.strip_suffix("es").map(str::to_owned),
            word.strip_suffix('s').map(str::to_owned),
        ]
    } else {
        [None, None, None]
    };
    candidates.into_iter().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_accents_ligatures_and_punctuation() {
        let cases = [
            ("Crème Fraîche", "creme fraiche"),
            ("ŒUFS", "oeufs"),
            ("Baker’s Yeast", "bakers yeast"),
            ("mono- and di-glycerides", "mono and di glycerides"),
            ("E 471", "e471"),
            ("e-150d", "e150d"),
            ("INS 330", "e330"),
            ("  Straße  ", "strasse"),
            ("쇠고기", "쇠고기"),
            ("vitamin E", "vitamin e"),
        ];
        for (input, expected) in cases {
            assert_eq!(normalise(input), expected, "{input}");
        }
    }

    #[test]
    fn proposes_singulars() {
        let first = |w: &str| singular_candidates(w).collect::<Vec<_>>();
        assert_eq!(first("tomatoes"), ["tomato", "tomatoe"]);
        assert_eq!(first("cherries"), ["cherry", "cherri", "cherrie"]);
        assert!(first("grass").is_empty());
        assert!(first("asparagus").is_empty());
        assert!(first("oats").contains(&"oat".to_owned()));
    }
}
