//! Benchmarks of the two hot paths: analysing an ingredient list (once per food, at import) and evaluating a
//! stored analysis against a profile (once per food shown). Both run over the 69 products of the test fixture.
//!
//! `CARGO_TARGET_DIR=/work/target-dietary cargo bench -p diningcoach-dietary`; figures in `docs/dietary.md`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use diningcoach_dietary::{
    DayIntake, DietCatalog, DietProfileInput, DietSelection, FoodAnalysis, FoodFacts, Nutrients,
    evaluate,
};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    product: Vec<Product>,
}

#[derive(Deserialize)]
struct Product {
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
}

fn foods() -> Vec<FoodFacts> {
    let fixture: Fixture = toml::from_str(include_str!("../tests/data/products.toml")).unwrap();
    fixture
        .product
        .into_iter()
        .map(|p| FoodFacts {
            ingredients_text: p.ingredients,
            allergens: p.allergens,
            traces: p.traces,
            labels: p.labels,
            nutrients_per_100g: p.nutrients,
            serving_size_g: p.serving_size_g,
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    let catalog = DietCatalog::load().unwrap();
    let foods = foods();
    let count = u64::try_from(foods.len()).unwrap();

    let mut group = c.benchmark_group("analyse");
    group.throughput(Throughput::Elements(count));
    group.bench_function("fixture_labels", |b| {
        b.iter(|| {
            for facts in &foods {
                black_box(catalog.analyse(black_box(facts)));
            }
        });
    });
    group.finish();

    let analyses: Vec<FoodAnalysis> = foods.iter().map(|facts| catalog.analyse(facts)).collect();
    let selection = |code: &str| DietSelection {
        code: code.to_owned(),
        params: BTreeMap::new(),
    };
    let profile = catalog
        .profile(&DietProfileInput {
            diets: vec![
                selection("vegan"),
                selection("low_sodium"),
                selection("halal"),
            ],
            allergens: vec!["peanuts".to_owned(), "milk".to_owned()],
            ..DietProfileInput::default()
        })
        .unwrap();
    let intake = DayIntake::default();

    let mut group = c.benchmark_group("evaluate");
    group.throughput(Throughput::Elements(count));
    group.bench_function("3_diets_2_allergens", |b| {
        b.iter(|| {
            for food in &analyses {
                black_box(evaluate(black_box(food), &profile, &intake));
            }
        });
    });
    group.bench_function("3_diets_2_allergens_to_json", |b| {
        b.iter(|| {
            for food in &analyses {
                black_box(
                    serde_json::to_vec(&evaluate(black_box(food), &profile, &intake)).unwrap(),
                );
            }
        });
    });
    group.finish();
}

criterion_group!(dietary, benches);
criterion_main!(dietary);
