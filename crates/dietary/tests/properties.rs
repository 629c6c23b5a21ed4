//! Property tests: the parser never panics, and adding an ingredient never turns "avoid" into "ok".
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::LazyLock;

use diningcoach_dietary::{
    DayIntake, DietCatalog, DietProfile, DietProfileInput, DietSelection, FoodFacts, Level,
    evaluate, ingredient_list::parse,
};
use proptest::prelude::*;

static CATALOG: LazyLock<DietCatalog> = LazyLock::new(|| DietCatalog::load().unwrap());

/// Every diet and a few allergens at once.
static EVERYTHING: LazyLock<DietProfile> = LazyLock::new(|| {
    CATALOG
        .profile(&DietProfileInput {
            diets: CATALOG
                .diets()
                .iter()
                .map(|d| DietSelection {
                    code: d.code.clone(),
                    params: Default::default(),
                })
                .collect(),
            allergens: vec![
                "milk".into(),
                "peanuts".into(),
                "sesame".into(),
                "pork".into(),
            ],
            ..Default::default()
        })
        .unwrap()
});

const WORDS: &[&str] = &[
    "sugar",
    "wheat flour",
    "milk",
    "gelatine",
    "E471",
    "salt",
    "pork",
    "rice",
    "soy lecithin",
    "natural flavour",
    "peanuts",
    "water",
    "glorbleberry",
    "tomatoes",
    "whey",
    "oats",
    "kelp",
    "wine",
    "coffee",
    "swordfish",
];

/// Label-like text: known words, punctuation that matters to the parser, and noise.
fn label_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => proptest::sample::select(WORDS).prop_map(str::to_owned),
        1 => "[a-zA-Zéœ가-힣]{1,8}",
        1 => "[0-9]{1,3}([.,][0-9])? ?%",
        1 => proptest::sample::select(&[
            "(", ")", "[", "]", "{", "}", ",", ";", ".", ":", " and ", " and/or ", " or ", "Contains: ",
            "May contain ", "traces of ", "min. ", "E 330", "\n",
        ][..]).prop_map(str::to_owned),
    ];
    proptest::collection::vec(piece, 0..40).prop_map(|pieces| pieces.join(" "))
}

fn level(ingredients: &str) -> Level {
    let food = CATALOG.analyse(&FoodFacts {
        ingredients_text: Some(ingredients.to_owned()),
        ..FoodFacts::default()
    });
    evaluate(&food, &EVERYTHING, &DayIntake::default()).level
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn parser_never_panics_on_any_text(text in "\\PC{0,300}") {
        let parsed = parse(&text);
        for ingredient in &parsed {
            prop_assert!(ingredient.parent.is_none_or(|p| usize::from(p) < parsed.len()));
        }
    }

    #[test]
    fn analysis_never_panics_on_label_like_text(text in label_text()) {
        let _ = level(&text);
    }

    #[test]
    fn adding_an_ingredient_never_turns_avoid_into_ok(
        base in proptest::collection::vec(proptest::sample::select(WORDS), 1..8),
        extra in proptest::sample::select(WORDS),
        at in 0usize..8,
    ) {
        let before = base.join(", ");
        let mut more = base.clone();
        more.insert(at.min(more.len()), extra);
        let after = more.join(", ");
        let (was, now) = (level(&before), level(&after));
        if was == Level::Avoid {
            prop_assert_eq!(now, Level::Avoid, "{:?} -> {:?}", before, after);
        }
        // More generally, adding an ingredient never makes a verdict better.
        prop_assert!(now >= was, "{:?} ({:?}) -> {:?} ({:?})", before, was, after, now);
    }
}
