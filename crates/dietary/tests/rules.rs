//! Each diet's rules, including the unknown and ambiguous cases, on small labels.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use Level::{Avoid, Caution, Ok, Unknown};
use diningcoach_dietary::{
    DayIntake, DietCatalog, DietProfileInput, DietSelection, Evidence, FoodFacts, Level, Nutrients,
    evaluate,
};

fn catalog() -> DietCatalog {
    DietCatalog::load().unwrap()
}

fn text(ingredients: &str) -> FoodFacts {
    FoodFacts {
        ingredients_text: Some(ingredients.to_owned()),
        ..FoodFacts::default()
    }
}

fn verdict(catalog: &DietCatalog, diet: &str, facts: &FoodFacts) -> Level {
    verdict_with(catalog, diet, BTreeMap::new(), facts, &DayIntake::default())
}

fn verdict_with(
    catalog: &DietCatalog,
    diet: &str,
    params: BTreeMap<String, f64>,
    facts: &FoodFacts,
    intake: &DayIntake,
) -> Level {
    let input = DietProfileInput {
        diets: vec![DietSelection {
            code: diet.to_owned(),
            params,
        }],
        ..DietProfileInput::default()
    };
    let profile = catalog.profile(&input).unwrap();
    let food = catalog.analyse(facts);
    evaluate(&food, &profile, intake).level
}

/// Ingredient rules: (diet, ingredient list, expected level).
#[test]
fn ingredient_rules_of_every_diet() {
    let catalog = catalog();
    let cases: &[(&str, &str, Level)] = &[
        // vegan: certain, ambiguous, unrecognised, settled by label
        ("vegan", "Sugar, cocoa butter, soya lecithin", Ok),
        ("vegan", "Sugar, skimmed milk powder", Avoid),
        ("vegan", "Sugar, E471", Caution),
        ("vegan", "Sugar, E471 (vegetable)", Ok),
        ("vegan", "Sugar, carmine", Avoid),
        ("vegan", "Sugar, shellac", Avoid),
        ("vegan", "Sugar, honey", Avoid),
        ("vegan", "Sugar, glorbleberry", Unknown),
        ("vegan", "Sugar, non-dairy creamer", Unknown),
        ("vegan", "Sugar. May contain milk.", Ok),
        // vegetarian
        ("vegetarian", "Milk, eggs, honey", Ok),
        ("vegetarian", "Pasta, beef", Avoid),
        ("vegetarian", "Sugar, gelatine", Avoid),
        ("vegetarian", "Milk, salt, rennet", Avoid),
        ("vegetarian", "Milk, salt, microbial rennet", Ok),
        ("vegetarian", "Cheese, salt", Caution),
        ("vegetarian", "Water, enzymes", Caution),
        // halal
        ("halal", "Flour, lard", Avoid),
        ("halal", "Sugar, pork gelatine", Avoid),
        ("halal", "Sugar, gelatine", Caution),
        ("halal", "Sugar, gelatine (beef)", Caution),
        ("halal", "Chicken, salt", Caution),
        ("halal", "Sugar, rum", Avoid),
        ("halal", "Fish, salt", Ok),
        ("halal", "Wine vinegar, salt", Ok),
        // gluten_free
        ("gluten_free", "Rice flour, salt", Ok),
        ("gluten_free", "Wheat flour, salt", Avoid),
        ("gluten_free", "Barley malt extract", Avoid),
        ("gluten_free", "Oats", Caution),
        ("gluten_free", "Rice. May contain gluten.", Caution),
        // lactose_free
        ("lactose_free", "Whey powder, sugar", Avoid),
        ("lactose_free", "Butter, salt", Caution),
        ("lactose_free", "Water, sugar", Ok),
        // low_iodine
        ("low_iodine", "Rice, non-iodised salt", Ok),
        ("low_iodine", "Rice, salt", Caution),
        ("low_iodine", "Rice, iodised salt", Avoid),
        ("low_iodine", "Rice, kombu", Avoid),
        ("low_iodine", "Rice, egg yolk", Avoid),
        ("low_iodine", "Sugar, E127", Avoid),
        ("low_iodine", "Rice, tofu", Caution),
        // low_fiber
        ("low_fiber", "White rice, salt", Ok),
        ("low_fiber", "Wholemeal flour, linseed", Avoid),
        // no_starch
        ("no_starch", "Chicken, salt", Ok),
        ("no_starch", "Chicken, modified maize starch", Avoid),
        // pregnancy
        ("pregnancy", "Cooked ham, salt", Ok),
        ("pregnancy", "Swordfish", Avoid),
        ("pregnancy", "Tuna, salt", Caution),
        ("pregnancy", "Chicken liver, pork", Avoid),
        ("pregnancy", "Raw milk, salt", Avoid),
        ("pregnancy", "Brie, salt", Avoid),
        ("pregnancy", "Feta cheese, salt", Caution),
        ("pregnancy", "Sugar, coffee", Caution),
        ("pregnancy", "Sugar, white wine", Avoid),
        ("pregnancy", "Sugar, vanilla extract", Ok),
        // renal ingredient rules (nutrients absent: unknown wins over caution)
        ("low_purine", "Rice, anchovies", Avoid),
        ("low_purine", "Rice, chicken", Caution),
        ("low_purine", "Rice, yeast extract", Avoid),
        ("low_purine", "Water, high fructose corn syrup", Caution),
        // E-numbers, spaced or not, and other languages are just more names
        ("vegan", "Sugar, E120", Avoid),
        ("vegan", "Sugar, glazing agent: E 904", Avoid),
        ("vegetarian", "Sugar, E441", Avoid),
        ("halal", "Sugar, colour (E120)", Caution),
        ("halal", "Sugar, INS 471", Caution),
        ("halal", "밀가루, 설탕, 돼지고기", Avoid),
        ("vegan", "Sucre, eau", Ok),
        ("vegan", "Sucre, lait", Avoid),
        ("vegan", "Sugar, Crème Fraîche", Avoid),
        ("gluten_free", "Tomatoes, Cherries, Peaches", Ok),
        // soft_food: hard pieces avoid, otherwise the label must show a soft texture
        ("soft_food", "Popcorn, salt", Avoid),
        ("soft_food", "Yogurt, sugar", Unknown),
    ];
    let mut failures = Vec::new();
    for (diet, ingredients, expected) in cases {
        let actual = verdict(&catalog, diet, &text(ingredients));
        if actual != *expected {
            failures.push(format!(
                "{diet} / {ingredients:?}: expected {expected:?}, got {actual:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_missing_ingredient_list_is_unknown_never_ok() {
    let catalog = catalog();
    for diet in [
        "vegan",
        "vegetarian",
        "halal",
        "gluten_free",
        "low_iodine",
        "pregnancy",
    ] {
        assert_eq!(
            verdict(&catalog, diet, &FoodFacts::default()),
            Unknown,
            "{diet}"
        );
    }
    // ... but a declared allergen tag is enough for an avoid.
    let facts = FoodFacts {
        allergens: vec!["en:milk".to_owned()],
        ..FoodFacts::default()
    };
    assert_eq!(verdict(&catalog, "vegan", &facts), Avoid);
    // ... and a certification settles the missing list.
    let facts = FoodFacts {
        labels: vec!["en:vegan".to_owned()],
        ..FoodFacts::default()
    };
    assert_eq!(verdict(&catalog, "vegan", &facts), Ok);
}

#[test]
fn labels_settle_ambiguity_but_never_a_certain_finding() {
    let catalog = catalog();
    let halal = |ingredients: &str| FoodFacts {
        labels: vec!["en:halal".to_owned()],
        ..text(ingredients)
    };
    assert_eq!(verdict(&catalog, "halal", &halal("Sugar, gelatine")), Ok);
    assert_eq!(verdict(&catalog, "halal", &halal("Chicken, salt")), Ok);
    assert_eq!(
        verdict(&catalog, "halal", &halal("Sugar, pork gelatine")),
        Avoid
    );
    let vegan = FoodFacts {
        labels: vec!["en:vegan".to_owned()],
        ..text("Sugar, milk")
    };
    assert_eq!(verdict(&catalog, "vegan", &vegan), Avoid);
    let oats = FoodFacts {
        labels: vec!["en:gluten-free".to_owned()],
        ..text("Oats")
    };
    assert_eq!(verdict(&catalog, "gluten_free", &oats), Ok);
}

fn nutrients(sodium_mg: f64) -> Nutrients {
    Nutrients {
        sodium_mg: Some(sodium_mg),
        ..Nutrients::default()
    }
}

#[test]
fn sodium_claims_follow_21_cfr_101_61() {
    let catalog = catalog();
    let food = |per_100g: f64, serving: Option<f64>| FoodFacts {
        nutrients_per_100g: nutrients(per_100g),
        serving_size_g: serving,
        ..FoodFacts::default()
    };
    // 30 g servings: 100 mg/100 g = 30 mg, 400 = 120 mg, 1000 = 300 mg, 2000 = 600 mg per serving.
    let cases = [
        ("very_low_sodium", 100.0, Ok),
        ("very_low_sodium", 400.0, Caution),
        ("very_low_sodium", 1000.0, Avoid),
        ("low_sodium", 400.0, Ok),
        ("low_sodium", 1000.0, Caution),
        ("low_sodium", 2000.0, Avoid),
    ];
    for (diet, per_100g, expected) in cases {
        assert_eq!(
            verdict(&catalog, diet, &food(per_100g, Some(30.0))),
            expected,
            "{diet} {per_100g}"
        );
    }
    // Salt is converted (EU labels): 1 g salt = 400 mg sodium.
    let salty = FoodFacts {
        nutrients_per_100g: Nutrients {
            salt_g: Some(5.0),
            ..Nutrients::default()
        },
        serving_size_g: Some(30.0),
        ..FoodFacts::default()
    };
    assert_eq!(verdict(&catalog, "low_sodium", &salty), Avoid);
    // No serving size, no sodium: unknown, never ok.
    assert_eq!(verdict(&catalog, "low_sodium", &food(100.0, None)), Unknown);
    assert_eq!(
        verdict(
            &catalog,
            "low_sodium",
            &FoodFacts {
                serving_size_g: Some(30.0),
                ..FoodFacts::default()
            }
        ),
        Unknown
    );
}

#[test]
fn daily_budgets_count_what_was_eaten_today() {
    let catalog = catalog();
    let soup = FoodFacts {
        nutrients_per_100g: nutrients(50.0),
        serving_size_g: Some(200.0),
        ..FoodFacts::default()
    };
    let nothing = DayIntake::default();
    let mut eaten = DayIntake::default();
    eaten.nutrients.sodium_mg = Some(1950.0);
    assert_eq!(
        verdict_with(&catalog, "low_sodium", BTreeMap::new(), &soup, &nothing),
        Ok
    );
    assert_eq!(
        verdict_with(&catalog, "low_sodium", BTreeMap::new(), &soup, &eaten),
        Avoid
    );
    // A user's own budget.
    let params = BTreeMap::from([("daily_sodium_mg".to_owned(), 2300.0)]);
    assert_eq!(
        verdict_with(&catalog, "low_sodium", params, &soup, &eaten),
        Ok
    );

    let coffee = FoodFacts {
        ingredients_text: Some("Coffee".to_owned()),
        nutrients_per_100g: Nutrients {
            caffeine_mg: Some(40.0),
            ..Nutrients::default()
        },
        serving_size_g: Some(250.0),
        ..FoodFacts::default()
    };
    let mut caffeinated = DayIntake::default();
    caffeinated.nutrients.caffeine_mg = Some(150.0);
    assert_eq!(
        verdict_with(&catalog, "pregnancy", BTreeMap::new(), &coffee, &nothing),
        Caution
    );
    assert_eq!(
        verdict_with(
            &catalog,
            "pregnancy",
            BTreeMap::new(),
            &coffee,
            &caffeinated
        ),
        Avoid
    );
}

#[test]
fn renal_flags_additives_and_budgets() {
    let catalog = catalog();
    let facts = |ingredients: &str, potassium: f64| FoodFacts {
        nutrients_per_100g: Nutrients {
            sodium_mg: Some(10.0),
            potassium_mg: Some(potassium),
            ..Nutrients::default()
        },
        serving_size_g: Some(100.0),
        ..text(ingredients)
    };
    assert_eq!(verdict(&catalog, "renal", &facts("Rice, water", 50.0)), Ok);
    assert_eq!(
        verdict(&catalog, "renal", &facts("Water, phosphoric acid", 0.0)),
        Caution
    );
    assert_eq!(
        verdict(&catalog, "renal", &facts("Salt, potassium chloride", 0.0)),
        Avoid
    );
    assert_eq!(verdict(&catalog, "renal", &facts("Banana", 358.0)), Caution);
    assert_eq!(
        verdict(&catalog, "renal", &facts("Potatoes", 2500.0)),
        Avoid
    );
}

#[test]
fn diabetic_and_heart_healthy_limits() {
    let catalog = catalog();
    let facts = |sugars: f64, saturated: f64, serving: f64| FoodFacts {
        nutrients_per_100g: Nutrients {
            sugars_g: Some(sugars),
            saturated_fat_g: Some(saturated),
            ..Nutrients::default()
        },
        serving_size_g: Some(serving),
        ..text("Water")
    };
    assert_eq!(verdict(&catalog, "diabetic", &facts(2.0, 0.0, 100.0)), Ok);
    assert_eq!(
        verdict(&catalog, "diabetic", &facts(30.0, 0.0, 20.0)),
        Caution
    );
    assert_eq!(
        verdict(&catalog, "diabetic", &facts(10.6, 0.0, 330.0)),
        Avoid
    );
    assert_eq!(
        verdict(&catalog, "heart_healthy", &facts(0.0, 1.0, 100.0)),
        Ok
    );
    assert_eq!(
        verdict(&catalog, "heart_healthy", &facts(0.0, 20.0, 30.0)),
        Caution
    );
    let pho = FoodFacts {
        ingredients_text: Some("Flour, partially hydrogenated soybean oil".into()),
        ..facts(0.0, 1.0, 30.0)
    };
    assert_eq!(verdict(&catalog, "heart_healthy", &pho), Avoid);
}

#[test]
fn allergens_are_their_own_rule_set() {
    let catalog = catalog();
    let profile = catalog
        .profile(&DietProfileInput {
            allergens: vec!["sesame".into(), "walnut".into()],
            ..Default::default()
        })
        .unwrap();
    let check = |facts: FoodFacts| {
        evaluate(&catalog.analyse(&facts), &profile, &DayIntake::default()).level
    };
    assert_eq!(check(text("Rice, salt")), Ok);
    assert_eq!(check(text("Rice, tahini")), Avoid);
    assert_eq!(check(text("Rice, walnuts")), Avoid);
    assert_eq!(check(text("Rice, mixed nuts")), Caution);
    assert_eq!(check(text("Rice. May contain sesame.")), Caution);
    assert_eq!(check(text("Rice, glorbleberry")), Unknown);
    assert_eq!(check(FoodFacts::default()), Unknown);
    assert_eq!(
        check(FoodFacts {
            allergens: vec!["en:sesame-seeds".into()],
            ..FoodFacts::default()
        }),
        Avoid
    );
    assert_eq!(
        check(FoodFacts {
            traces: vec!["en:sesame-seeds".into()],
            ..text("Rice")
        }),
        Caution
    );
}

#[test]
fn reasons_name_diet_rule_and_evidence() {
    let catalog = catalog();
    let profile = catalog
        .profile(&DietProfileInput {
            diets: vec![DietSelection {
                code: "vegan".into(),
                params: BTreeMap::new(),
            }],
            allergens: vec!["milk".into()],
            ..Default::default()
        })
        .unwrap();
    let food = catalog.analyse(&text("Sugar, Whey Powder (milk), E471"));
    let verdict = evaluate(&food, &profile, &DayIntake::default());
    assert_eq!(verdict.level, Avoid);
    assert_eq!(verdict.level_for("vegan"), Avoid);
    assert_eq!(verdict.level_for("milk"), Avoid);
    let first = &verdict.reasons[0];
    assert_eq!(first.severity, Avoid);
    assert!(
        matches!(
            first.evidence,
            Evidence::Ingredient {
                written: "Whey Powder",
                ..
            }
        ),
        "{first:?}"
    );
    // E471's possible animal origin adds nothing once the food certainly has animal products.
    assert!(!verdict.reasons.iter().any(|r| r.severity == Caution));
    assert!(
        verdict
            .reasons
            .iter()
            .any(|r| r.allergen == Some("milk") && r.rule == "allergen_milk")
    );
    let json = serde_json::to_value(&verdict).unwrap();
    assert_eq!(json["level"], "avoid");
    assert_eq!(
        json["reasons"][0]["message"],
        "“Whey Powder” contains animal products."
    );
    assert_eq!(json["reasons"][0]["evidence"]["kind"], "ingredient");
    assert_eq!(json["reasons"][0]["evidence"]["matched"][0], "whey");
}
