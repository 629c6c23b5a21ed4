//! The product fixture: realistic labels with the expected verdict for each diet and some allergens.
//! Set `DIETARY_FIXTURE_PRINT=1` to print the computed verdicts (for reviewing a taxonomy change).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use diningcoach_dietary::{
    DayIntake, DietCatalog, DietProfileInput, DietSelection, FoodAnalysis, FoodFacts, Level,
    Nutrients, evaluate,
};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Fixture {
    product: Vec<Product>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Product {
    name: String,
    ingredients: Option<String>,
    #[serde(default)]
    allergens: Vec<String>,
    #[serde(default)]
    traces: Vec<String>,
    #[serde(default)]
    labels: Vec<String>,
    serving_size_g: Option<f64>,
    #[serde(default)]
    nutrients: Nutrients,
    #[serde(default)]
    expect: BTreeMap<String, Level>,
    #[serde(default)]
    expect_allergens: BTreeMap<String, Level>,
    #[serde(default)]
    unrecognised: Vec<String>,
}

fn fixture() -> Vec<Product> {
    toml::from_str::<Fixture>(include_str!("data/products.toml"))
        .expect("fixture parses")
        .product
}

fn analyse(catalog: &DietCatalog, product: &Product) -> FoodAnalysis {
    catalog.analyse(&FoodFacts {
        ingredients_text: product.ingredients.clone(),
        allergens: product.allergens.clone(),
        traces: product.traces.clone(),
        labels: product.labels.clone(),
        nutrients_per_100g: product.nutrients,
        serving_size_g: product.serving_size_g,
    })
}

fn level(catalog: &DietCatalog, food: &FoodAnalysis, input: DietProfileInput) -> Level {
    let profile = catalog.profile(&input).expect("profile");
    evaluate(food, &profile, &DayIntake::default()).level
}

fn diet(code: &str) -> DietProfileInput {
    DietProfileInput {
        diets: vec![DietSelection {
            code: code.to_owned(),
            params: BTreeMap::new(),
        }],
        ..DietProfileInput::default()
    }
}

fn allergen(code: &str) -> DietProfileInput {
    DietProfileInput {
        allergens: vec![code.to_owned()],
        ..DietProfileInput::default()
    }
}

#[test]
fn fixture_has_at_least_sixty_products_covering_every_diet() {
    let catalog = DietCatalog::load().unwrap();
    let products = fixture();
    assert!(products.len() >= 60, "{} products", products.len());
    for product in &products {
        for diet in catalog.diets() {
            assert!(
                product.expect.contains_key(&diet.code),
                "{}: no expectation for {}",
                product.name,
                diet.code
            );
        }
    }
}

#[test]
fn every_product_gets_its_expected_verdicts() {
    let catalog = DietCatalog::load().unwrap();
    let print = std::env::var_os("DIETARY_FIXTURE_PRINT").is_some();
    let mut failures = Vec::new();
    for product in fixture() {
        let food = analyse(&catalog, &product);
        if print {
            let line: Vec<String> = catalog
                .diets()
                .iter()
                .map(|d| {
                    format!(
                        "{} = \"{}\"",
                        d.code,
                        serde_json::to_value(level(&catalog, &food, diet(&d.code)))
                            .unwrap()
                            .as_str()
                            .unwrap()
                    )
                })
                .collect();
            println!(
                "## {}\nunrecognised: {:?}\nexpect = {{ {} }}",
                product.name,
                food.unrecognised,
                line.join(", ")
            );
        }
        if !print {
            assert_eq!(
                food.unrecognised, product.unrecognised,
                "{}: unrecognised ingredients",
                product.name
            );
        }
        for (code, expected) in &product.expect {
            let actual = level(&catalog, &food, diet(code));
            if actual != *expected {
                failures.push(format!(
                    "{} / {code}: expected {expected:?}, got {actual:?}",
                    product.name
                ));
            }
        }
        // `expect_allergens` lists every allergen that is not ok.
        let mut not_ok = Vec::new();
        for code in catalog.allergens().iter().map(|a| &a.code) {
            let actual = level(&catalog, &food, allergen(code));
            let expected = product
                .expect_allergens
                .get(code)
                .copied()
                .unwrap_or(Level::Ok);
            if actual != Level::Ok {
                not_ok.push(format!(
                    "{code} = \"{}\"",
                    serde_json::to_value(actual).unwrap().as_str().unwrap()
                ));
            }
            if actual != expected {
                failures.push(format!(
                    "{} / allergen {code}: expected {expected:?}, got {actual:?}",
                    product.name
                ));
            }
        }
        if print {
            println!("expect_allergens = {{ {} }}", not_ok.join(", "));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
