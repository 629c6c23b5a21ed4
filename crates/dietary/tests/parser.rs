//! Table-driven tests of the ingredient-list parser on real label texts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use diningcoach_dietary::ingredient_list::parse;
use diningcoach_dietary::{ParsedIngredient, Section};

/// `(text, depth, percent, section, alternative)` of every parsed ingredient, for compact expectations.
fn flat(text: &str) -> Vec<(String, u8, Option<f64>, Section, bool)> {
    parse(text)
        .into_iter()
        .map(
            |ParsedIngredient {
                 text,
                 depth,
                 percent,
                 section,
                 alternative,
                 ..
             }| { (text, depth, percent, section, alternative) },
        )
        .collect()
}

fn names(text: &str) -> Vec<String> {
    parse(text).into_iter().map(|i| i.text).collect()
}

/// An expected ingredient: (text, depth, percent, section, alternative).
type Expected<'a> = (&'a str, u8, Option<f64>, Section, bool);

const I: Section = Section::Ingredients;
const C: Section = Section::Contains;
const T: Section = Section::Traces;

#[test]
fn nesting_percentages_and_statements() {
    let cases: &[(&str, &[Expected])] = &[
        (
            "Sugar, palm oil, hazelnuts (13%), skimmed milk powder (8.7%), emulsifier: lecithins (soya), vanillin.",
            &[
                ("Sugar", 0, None, I, false),
                ("palm oil", 0, None, I, false),
                ("hazelnuts", 0, Some(13.0), I, false),
                ("skimmed milk powder", 0, Some(8.7), I, false),
                ("emulsifier", 0, None, I, false),
                ("lecithins", 1, None, I, false),
                ("soya", 2, None, I, false),
                ("vanillin", 0, None, I, false),
            ],
        ),
        (
            "Enriched Flour (Wheat Flour, Niacin, Thiamine Mononitrate {Vitamin B1}), Palm And/Or Canola Oil. CONTAINS: WHEAT, SOY.",
            &[
                ("Enriched Flour", 0, None, I, false),
                ("Wheat Flour", 1, None, I, false),
                ("Niacin", 1, None, I, false),
                ("Thiamine Mononitrate", 1, None, I, false),
                ("Vitamin B1", 2, None, I, false),
                ("Palm", 0, None, I, true),
                ("Canola Oil", 0, None, I, true),
                ("WHEAT", 0, None, C, false),
                ("SOY", 0, None, C, false),
            ],
        ),
        (
            "Cocoa mass, sugar, cocoa 4,5%, milk chocolate 25% (sugar, whole milk powder). May contain traces of nuts and sesame.",
            &[
                ("Cocoa mass", 0, None, I, false),
                ("sugar", 0, None, I, false),
                ("cocoa", 0, Some(4.5), I, false),
                ("milk chocolate", 0, Some(25.0), I, false),
                ("sugar", 1, None, I, false),
                ("whole milk powder", 1, None, I, false),
                ("nuts", 0, None, T, false),
                ("sesame", 0, None, T, false),
            ],
        ),
        (
            "Tomatoes (min. 45 %), water. Made in a factory that also handles peanuts, milk. Store in a cool, dry place.",
            &[
                ("Tomatoes", 0, Some(45.0), I, false),
                ("water", 0, None, I, false),
                ("peanuts", 0, None, T, false),
                ("milk", 0, None, T, false),
            ],
        ),
        (
            "Ingredients: Chicken stock, contains less than 2% of: salt, yeast extract. Allergy advice: for allergens, see ingredients in bold.",
            &[
                ("Chicken stock", 0, None, I, false),
                ("salt", 0, None, I, false),
                ("yeast extract", 0, None, I, false),
            ],
        ),
    ];
    for (text, expected) in cases {
        let expected: Vec<_> = expected
            .iter()
            .map(|(t, d, p, s, a)| ((*t).to_owned(), *d, *p, *s, *a))
            .collect();
        assert_eq!(flat(text), expected, "{text}");
    }
}

#[test]
fn parents_point_to_the_enclosing_ingredient() {
    let parsed = parse("Chocolate (sugar, cocoa butter (from cocoa beans)), salt");
    let parents: Vec<Option<u16>> = parsed.iter().map(|i| i.parent).collect();
    assert_eq!(parents, [None, Some(0), Some(0), Some(2), None]);
    assert_eq!(parsed[3].text, "cocoa beans");
}

#[test]
fn e_numbers_accents_plurals_and_brackets_keep_their_text() {
    let cases: &[(&str, &[&str])] = &[
        (
            "Colour: E 150d, acid (E-330), E471",
            &["Colour", "E 150d", "acid", "E-330", "E471"],
        ),
        (
            "Crème fraîche, œufs frais, Gelatine [Rind]",
            &["Crème fraîche", "œufs frais", "Gelatine", "Rind"],
        ),
        (
            "tomatoes, cherries, peaches",
            &["tomatoes", "cherries", "peaches"],
        ),
        (
            "salt and pepper, sugar or honey",
            &["salt and pepper", "sugar", "honey"],
        ),
        (
            "밀가루(밀), 설탕, 대두유",
            &["밀가루", "밀", "설탕", "대두유"],
        ),
        ("", &[]),
        ("  ,, ;; ()", &[]),
        ("sugar (unclosed, salt", &["sugar", "unclosed", "salt"]),
    ];
    for (text, expected) in cases {
        assert_eq!(names(text), *expected, "{text}");
    }
}

#[test]
fn contains_and_traces_sections_split_on_and() {
    let parsed = flat("Sugar. Contains: milk and soy. May also contain: peanuts & other nuts.");
    let sections: Vec<(String, Section)> =
        parsed.into_iter().map(|(t, _, _, s, _)| (t, s)).collect();
    assert_eq!(
        sections,
        [
            ("Sugar".to_owned(), I),
            ("milk".to_owned(), C),
            ("soy".to_owned(), C),
            ("peanuts".to_owned(), T),
            ("other nuts".to_owned(), T),
        ]
    );
}
