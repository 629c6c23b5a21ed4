//! The shipped catalog loads; bad data is refused with the file and field named; profiles are validated.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use diningcoach_dietary::{
    ANALYSIS_VERSION, DayIntake, DietCatalog, DietProfileInput, DietSelection, DietaryError,
    FoodAnalysis, FoodFacts, ProfileProblem, evaluate,
};

#[test]
fn shipped_data_loads_with_every_required_diet_allergen_and_condition() {
    let catalog = DietCatalog::load().unwrap();
    let diets: Vec<&str> = catalog.diets().iter().map(|d| d.code.as_str()).collect();
    for code in [
        "low_sodium",
        "very_low_sodium",
        "low_iodine",
        "low_fiber",
        "no_starch",
        "vegetarian",
        "vegan",
        "pregnancy",
        "halal",
        "gluten_free",
        "lactose_free",
        "diabetic",
        "renal",
        "low_purine",
        "heart_healthy",
        "soft_food",
    ] {
        assert!(diets.contains(&code), "missing diet {code}");
    }
    let allergens: Vec<&str> = catalog
        .allergens()
        .iter()
        .map(|a| a.code.as_str())
        .collect();
    for code in [
        "gluten",
        "crustaceans",
        "eggs",
        "fish",
        "peanuts",
        "soybeans",
        "milk",
        "nuts",
        "celery",
        "mustard",
        "sesame",
        "sulphites",
        "lupin",
        "molluscs",
        "beef",
        "pork",
        "chicken",
        "peach",
        "tomato",
        "buckwheat",
        "mackerel",
        "crab",
        "shrimp",
        "squid",
        "shellfish",
        "walnut",
        "pine_nut",
    ] {
        assert!(allergens.contains(&code), "missing allergen {code}");
    }
    for condition in [
        "diabetes",
        "hypertension",
        "kidney_disease",
        "thyroid_rai",
        "gout",
        "menieres",
        "pregnancy",
    ] {
        assert!(
            catalog.conditions().iter().any(|c| c.code == condition),
            "missing condition {condition}"
        );
    }
    for diet in catalog.diets() {
        assert!(
            !diet.sources.is_empty() && !diet.rules.is_empty(),
            "{}",
            diet.code
        );
    }
    assert!(catalog.taxonomy_size() > 150, "{}", catalog.taxonomy_size());
    // The catalog serialises for GET /api/v1/diets.
    let json = serde_json::to_value(catalog.diets()).unwrap();
    let low_sodium = json
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "low_sodium")
        .unwrap();
    assert_eq!(low_sodium["parameters"][0]["code"], "daily_sodium_mg");
    assert_eq!(low_sodium["parameters"][0]["default"], 2000.0);
    assert_eq!(low_sodium["rules"][0]["kind"], "nutrient");
    assert_eq!(low_sodium["rules"][0]["caution_above"], 140.0);
    let vegan = json
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "vegan")
        .unwrap();
    assert_eq!(vegan["rules"][0]["properties"][0], "animal_origin");
}

/// The shipped files with one replaced.
fn files_with(path: &'static str, contents: &'static str) -> Vec<(&'static str, &'static str)> {
    let catalog_files = shipped();
    let mut files: Vec<_> = catalog_files
        .into_iter()
        .filter(|(p, _)| *p != path)
        .collect();
    files.push((path, contents));
    files
}

fn shipped() -> Vec<(&'static str, &'static str)> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/data");
    let mut files = Vec::new();
    let mut stack = vec![std::path::PathBuf::from(root)];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let relative = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                let text = std::fs::read_to_string(&path).unwrap();
                files.push((
                    &*Box::leak(relative.into_boxed_str()),
                    &*Box::leak(text.into_boxed_str()),
                ));
            }
        }
    }
    files
}

#[test]
fn bad_data_names_the_file_and_field() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "diets/vegan.toml",
            "code = \"vegan\"\nname = \"Vegan\"\ndescription = \"x\"\n[[rules]]\ncode = \"r\"\nsummary = \"s\"\nkind = \"ingredients\"\nproperties = [\"mylk\"]\n[[sources]]\ntitle = \"t\"\n",
            "data file `diets/vegan.toml`, field `rules[0].properties[0]`: unknown property `mylk`",
        ),
        (
            "diets/vegan.toml",
            "code = \"vegan\"\nname = \"Vegan\"\ndescription = \"x\"\n[[rules]]\ncode = \"r\"\nsummary = \"s\"\nkind = \"nutrient\"\nnutrient = \"sodium_mg\"\nper = \"day\"\navoid_above = \"budget\"\n[[sources]]\ntitle = \"t\"\n",
            "data file `diets/vegan.toml`, field `rules[0].avoid_above`: unknown parameter `budget`",
        ),
        (
            "diets/vegan.toml",
            "code = \"vegan\"\nname = \"Vegan\"\ndescription = \"x\"\nrules = []\nsources = []\n",
            "data file `diets/vegan.toml`, field `sources`: every diet cites the guidance it follows",
        ),
        (
            "conditions.toml",
            "[[condition]]\ncode = \"gout\"\nname = \"Gout\"\nimplies = [\"low_purines\"]\n",
            "data file `conditions.toml`, field `condition[0].implies[0]`: unknown diet `low_purines`",
        ),
        (
            "taxonomy/extra.toml",
            "ingredient = [{ code = \"moo\", names = [\"milk\"], is = [\"milk\"] }]\n",
            "data file `taxonomy/extra.toml`, field `ingredient[0].names`: `milk` of `moo` already names `milk`",
        ),
    ];
    for (path, contents, expected) in cases {
        let error = DietCatalog::from_files(&files_with(path, contents)).unwrap_err();
        assert_eq!(error.to_string(), *expected);
    }
    let error = DietCatalog::from_files(&files_with("labels.toml", "[[label]\n")).unwrap_err();
    assert!(
        matches!(&error, DietaryError::DataSyntax { file, .. } if file == "labels.toml"),
        "{error}"
    );
    let error = DietCatalog::from_files(&files_with(
        "diets/vegan.toml",
        "code = \"vegan\"\nnme = \"x\"\n",
    ))
    .unwrap_err();
    assert!(error.to_string().contains("nme"), "{error}");
}

#[test]
fn profiles_expand_conditions_and_report_every_problem() {
    let catalog = DietCatalog::load().unwrap();
    let profile = catalog
        .profile(&DietProfileInput {
            conditions: vec!["kidney_disease".into(), "hypertension".into()],
            diets: vec![DietSelection {
                code: "renal".into(),
                params: BTreeMap::from([("daily_potassium_mg".into(), 1500.0)]),
            }],
            allergens: vec!["peanuts".into()],
            pregnant: true,
        })
        .unwrap();
    let codes: Vec<&str> = profile.diets().iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["heart_healthy", "low_sodium", "pregnancy", "renal"]);
    let renal = &profile.diets()[3];
    assert_eq!(renal.params["daily_potassium_mg"], 1500.0);
    assert_eq!(renal.params["daily_sodium_mg"], 2000.0);
    assert_eq!(renal.implied_by, ["kidney_disease"]);

    let error = catalog
        .profile(&DietProfileInput {
            conditions: vec!["diabetes".into(), "vampirism".into()],
            diets: vec![
                DietSelection {
                    code: "keto".into(),
                    params: BTreeMap::new(),
                },
                DietSelection {
                    code: "low_sodium".into(),
                    params: BTreeMap::from([
                        ("daily_sodium_mg".into(), 9000.0),
                        ("salt".into(), 1.0),
                    ]),
                },
            ],
            allergens: vec!["kiwi".into()],
            pregnant: false,
        })
        .unwrap_err();
    let DietaryError::InvalidProfile { problems } = error else {
        panic!("{error}")
    };
    let fields: Vec<&str> = problems.iter().map(ProfileProblem::field).collect();
    assert_eq!(
        fields,
        [
            "conditions[1]",
            "diets[0].code",
            "diets[1].params.daily_sodium_mg",
            "diets[1].params.salt",
            "allergens[0]"
        ]
    );
    assert_eq!(
        problems[2].to_string(),
        "diets[1].params.daily_sodium_mg: 9000 is outside 500..=2300 mg"
    );
}

#[test]
fn analysis_round_trips_through_json_and_gives_sql_tags() {
    let catalog = DietCatalog::load().unwrap();
    let facts: FoodFacts = serde_json::from_value(serde_json::json!({
        "ingredients_text": "Sugar, gelatine, skimmed milk powder. May contain nuts.",
        "labels": ["en:halal"],
        "nutrients_per_100g": { "sugars_g": 50.0, "salt_g": 0.1 },
        "serving_size_g": 25.0
    }))
    .unwrap();
    let analysis = catalog.analyse(&facts);
    assert_eq!(analysis.version, ANALYSIS_VERSION);
    assert!(analysis.ensure_current().is_ok());
    assert_eq!(analysis.nutrients.sodium_mg, Some(40.0));
    let json = serde_json::to_string(&analysis).unwrap();
    let back: FoodAnalysis = serde_json::from_str(&json).unwrap();
    assert_eq!(back, analysis);

    let tags = analysis.dietary_tags();
    for tag in [
        "contains:milk",
        "contains:slaughter_byproduct",
        "possibly:pork",
        "traces:nuts",
        "label:halal",
    ] {
        assert!(tags.iter().any(|t| t == tag), "{tag} not in {tags:?}");
    }
    // "Only what I can eat": a vegan profile excludes this food by tags alone.
    let vegan = catalog
        .profile(&DietProfileInput {
            diets: vec![DietSelection {
                code: "vegan".into(),
                params: BTreeMap::new(),
            }],
            ..Default::default()
        })
        .unwrap();
    let excluded = vegan.excluded_tags();
    assert!(tags.iter().any(|t| excluded.contains(t)));
    let ok_food = catalog.analyse(&FoodFacts {
        ingredients_text: Some("Rice, water".into()),
        ..FoodFacts::default()
    });
    assert!(!ok_food.dietary_tags().iter().any(|t| excluded.contains(t)));
    assert_eq!(
        evaluate(&ok_food, &vegan, &DayIntake::default()).level,
        diningcoach_dietary::Level::Ok
    );

    let stale = FoodAnalysis {
        version: 0,
        ..analysis
    };
    assert!(matches!(
        stale.ensure_current(),
        Err(DietaryError::StaleAnalysis { found: 0, .. })
    ));
    let unknown_property = json.replace("\"milk\"", "\"moon_cheese\"");
    assert!(serde_json::from_str::<FoodAnalysis>(&unknown_property).is_err());
}
