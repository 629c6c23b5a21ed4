//! The food catalog on the real PostgreSQL: upserts, look-ups, every search tier, keyset paging across tiers,
//! the suitability filter, and the plans of the search queries.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::sync::Arc;

use diesel_async::RunQueryDsl;
use diningcoach_catalog::ports::FoodRepository;
use diningcoach_catalog::{
    AnalysedFood, CatalogError, Food, FoodDraft, FoodFields, FoodId, FoodSource, Gtin,
    NutrientsPer100g, SearchPosition, SearchQuery, SearchTier, SuitabilityFilter, TierQuery,
    generate, normalise_name,
};
use diningcoach_dietary::{AnalysisSummary, DietCatalog, DietProfileInput, DietSelection, Level};
use diningcoach_postgres::PgFoodRepository;
use diningcoach_postgres::testing::TestDatabase;

fn analysed(catalog: &DietCatalog, draft: FoodDraft) -> AnalysedFood {
    let analysis = catalog.analyse(&draft.facts());
    AnalysedFood { draft, analysis }
}

fn food(name: &str, brand: Option<&str>, barcode: Option<&str>, ingredients: &str) -> FoodDraft {
    FoodDraft::new(
        FoodFields {
            food_code: Some(format!("test:{}", normalise_name(name).replace(' ', "_"))),
            barcode: barcode.map(str::to_owned),
            name: name.to_owned(),
            brand: brand.map(str::to_owned),
            category_main: Some("Tests".into()),
            ingredients_text: Some(ingredients.to_owned()),
            serving_size_g: Some(30.0),
            nutrients: NutrientsPer100g {
                sodium_mg: Some(100.0),
                ..NutrientsPer100g::default()
            },
            ..FoodFields::default()
        },
        FoodSource::Import,
    )
    .unwrap()
}

/// Foods whose names exercise every tier of "choc".
fn chocolate_foods() -> Vec<FoodDraft> {
    vec![
        food("Choc", Some("Acme"), Some("4006381333931"), "cocoa, sugar"),
        food(
            "Chocolate Milk",
            Some("Dairyland"),
            Some("5000112637922"),
            "milk, sugar, cocoa",
        ),
        food(
            "Chocolate Bar",
            Some("Acme"),
            None,
            "sugar, cocoa butter, cocoa mass",
        ),
        food(
            "Dark Chocolate",
            Some("Lindt"),
            None,
            "cocoa mass, sugar, cocoa butter",
        ),
        food("Hot Choc Drink", None, None, "sugar, cocoa"),
        food(
            "Pain au Chocolat",
            Some("Boulanger"),
            None,
            "wheat flour, butter, chocolate, sugar",
        ),
        food("Muesli", Some("Choco Brothers"), None, "oats, raisins"),
        food(
            "Crème Brûlée",
            Some("Mamie"),
            None,
            "cream, egg yolk, sugar",
        ),
        food("Apple", None, None, "apple"),
    ]
}

async fn seeded() -> (TestDatabase, PgFoodRepository, Arc<DietCatalog>) {
    let db = TestDatabase::new().await.unwrap();
    let repo = PgFoodRepository::new(db.pool());
    let catalog = Arc::new(DietCatalog::load().unwrap());
    let foods: Vec<_> = chocolate_foods()
        .into_iter()
        .map(|d| analysed(&catalog, d))
        .collect();
    let outcome = repo.upsert_batch(&foods).await.unwrap();
    assert_eq!(outcome.inserted, 9);
    (db, repo, catalog)
}

fn tier<'a>(tier: SearchTier, query: Option<&'a SearchQuery>) -> TierQuery<'a> {
    TierQuery {
        tiers: tier.only(),
        query,
        category: None,
        brand: None,
        suitable: None,
        after: None,
        limit: 100,
    }
}

async fn names(repo: &PgFoodRepository, query: &TierQuery<'_>) -> Vec<String> {
    repo.search(query)
        .await
        .unwrap()
        .into_iter()
        .map(|(food, _)| food.draft.name().to_owned())
        .collect()
}

#[tokio::test]
async fn every_tier_finds_its_own_matches_and_no_other_tiers() {
    let (_db, repo, _) = seeded().await;
    let q = SearchQuery::parse("CHOC").unwrap();
    let q = Some(&q);
    assert_eq!(names(&repo, &tier(SearchTier::Exact, q)).await, ["Choc"]);
    assert_eq!(
        names(&repo, &tier(SearchTier::NamePrefix, q)).await,
        ["Chocolate Bar", "Chocolate Milk"]
    );
    // A word of the name, or of the brand ("Choco Brothers"), starts with it; ordered by that word onwards.
    assert_eq!(
        names(&repo, &tier(SearchTier::WordPrefix, q)).await,
        [
            "Hot Choc Drink",
            "Muesli",
            "Pain au Chocolat",
            "Dark Chocolate"
        ]
    );
    assert!(
        names(&repo, &tier(SearchTier::Substring, q))
            .await
            .is_empty()
    );

    let olat = SearchQuery::parse("olat").unwrap();
    assert_eq!(
        names(&repo, &tier(SearchTier::Substring, Some(&olat))).await,
        [
            "Chocolate Bar",
            "Chocolate Milk",
            "Dark Chocolate",
            "Pain au Chocolat"
        ]
    );
    // Across words; and nothing when a word is in no word of the catalog (the look-up is then skipped).
    let late_bar = SearchQuery::parse("late bar").unwrap();
    assert_eq!(
        names(&repo, &tier(SearchTier::Substring, Some(&late_bar))).await,
        ["Chocolate Bar"]
    );
    let unknown = SearchQuery::parse("olat zzqx").unwrap();
    assert!(
        names(&repo, &tier(SearchTier::Substring, Some(&unknown)))
            .await
            .is_empty()
    );
    // Accents and case do not matter.
    let creme = SearchQuery::parse("creme brulee").unwrap();
    assert_eq!(
        names(&repo, &tier(SearchTier::Exact, Some(&creme))).await,
        ["Crème Brûlée"]
    );
}

#[tokio::test]
async fn misspellings_are_found_by_similarity_and_short_queries_by_prefix() {
    let (_db, repo, _) = seeded().await;
    let corrected = |text: &str| {
        let query = SearchQuery::parse(text).unwrap();
        let repo = &repo;
        async move {
            names(
                repo,
                &TierQuery {
                    tiers: &[SearchTier::CorrectedPrefix, SearchTier::CorrectedWordPrefix],
                    ..tier(SearchTier::All, Some(&query))
                },
            )
            .await
        }
    };
    // "choclate" → "chocolate": names that start with it, then the foods with a word that does.
    assert_eq!(
        corrected("choclate").await,
        ["Chocolate Bar", "Chocolate Milk", "Dark Chocolate"]
    );
    // Each word is corrected on its own, to the closest word used by more foods ("chocolat" is closer to
    // "chocolt" than "chocolate" is); short words are kept.
    assert_eq!(corrected("pain au chocolt").await, ["Pain au Chocolat"]);
    assert_eq!(corrected("dark choclate").await, ["Dark Chocolate"]);
    // A word that foods use is never corrected into another, nor a word that nothing is close to.
    assert!(corrected("apple").await.is_empty());
    assert!(corrected("zzqx").await.is_empty());

    let ac = SearchQuery::parse("ac").unwrap();
    assert!(ac.is_short());
    assert_eq!(
        names(&repo, &tier(SearchTier::WordPrefix, Some(&ac))).await,
        ["Choc", "Chocolate Bar"],
        "the brand Acme's first word, a word start like any other"
    );
    // Word starts in their order: "choc drink", "choco brothers" (a brand), "chocolat …", "chocolate …".
    let ch = SearchQuery::parse("ch").unwrap();
    assert_eq!(
        names(&repo, &tier(SearchTier::WordPrefix, Some(&ch))).await,
        [
            "Hot Choc Drink",
            "Muesli",
            "Pain au Chocolat",
            "Dark Chocolate"
        ]
    );
    let a = SearchQuery::parse("a").unwrap();
    assert_eq!(
        names(&repo, &tier(SearchTier::NamePrefix, Some(&a))).await,
        ["Apple"]
    );
}

#[tokio::test]
async fn what_the_vocabulary_said_of_a_query_is_remembered_for_a_while_by_each_repository() {
    let (db, repo, catalog) = seeded().await;
    let inside = SearchQuery::parse("anill").unwrap();
    let misspelt = SearchQuery::parse("vanila").unwrap();
    let substring = tier(SearchTier::Substring, Some(&inside));
    let corrected = tier(SearchTier::CorrectedPrefix, Some(&misspelt));
    assert!(names(&repo, &substring).await.is_empty());
    assert!(names(&repo, &corrected).await.is_empty());

    let vanilla = food("Vanilla Ice Cream", None, None, "milk, sugar, vanilla");
    repo.upsert_batch(&[analysed(&catalog, vanilla)])
        .await
        .unwrap();
    // The answers given a moment ago stand (for a minute at most)...
    assert!(names(&repo, &substring).await.is_empty());
    assert!(names(&repo, &corrected).await.is_empty());
    // ...and the words are there for a repository that has not asked yet.
    let fresh = PgFoodRepository::new(db.pool());
    assert_eq!(names(&fresh, &substring).await, ["Vanilla Ice Cream"]);
    assert_eq!(names(&fresh, &corrected).await, ["Vanilla Ice Cream"]);
}

/// Every page of a search with all the tiers of its query, one food at a time, through the cursor.
async fn pages(repo: &PgFoodRepository, text: &str) -> Vec<(String, SearchTier)> {
    let q = SearchQuery::parse(text).unwrap();
    let plan = SearchTier::plan(Some(&q));
    let mut found = Vec::new();
    let mut after: Option<SearchPosition> = None;
    loop {
        let from = after.as_ref().map_or(0, |position| {
            plan.iter().position(|t| *t == position.tier).unwrap()
        });
        let query = TierQuery {
            tiers: &plan[from..],
            limit: 1,
            after: after.as_ref(),
            ..tier(SearchTier::All, Some(&q))
        };
        let Some((food, position)) = repo.search(&query).await.unwrap().into_iter().next() else {
            return found;
        };
        found.push((food.draft.name().to_owned(), position.tier));
        after = Some(position);
    }
}

#[tokio::test]
async fn a_misspelling_finds_the_same_pages_once_its_correction_is_remembered() {
    let (db, repo, _) = seeded().await;
    for text in ["choclate", "dark choclate", "chocolat", "olat", "zzqx"] {
        let first = pages(&PgFoodRepository::new(db.pool()), text).await;
        pages(&repo, text).await;
        // Now the corrected tiers of a remembered misspelling join the statement of the tiers before them.
        assert_eq!(pages(&repo, text).await, first, "{text}");
    }
    assert_eq!(
        pages(&repo, "choclate").await,
        [
            ("Chocolate Bar".to_owned(), SearchTier::CorrectedPrefix),
            ("Chocolate Milk".to_owned(), SearchTier::CorrectedPrefix),
            ("Dark Chocolate".to_owned(), SearchTier::CorrectedWordPrefix),
        ]
    );
}

#[tokio::test]
async fn paging_resumes_exactly_after_the_cursor_position() {
    let db = TestDatabase::new().await.unwrap();
    let repo = PgFoodRepository::new(db.pool());
    let catalog = DietCatalog::load().unwrap();
    let foods: Vec<_> = generate(11, 500).map(|d| analysed(&catalog, d)).collect();
    repo.upsert_batch(&foods).await.unwrap();

    let mut seen = Vec::new();
    let mut after: Option<SearchPosition> = None;
    loop {
        let mut query = tier(SearchTier::All, None);
        query.limit = 7;
        query.after = after.as_ref();
        let page = repo.search(&query).await.unwrap();
        let Some((_, last)) = page.last() else { break };
        after = Some(last.clone());
        seen.extend(
            page.into_iter()
                .map(|(food, position)| (position.key, food.id)),
        );
    }
    assert_eq!(seen.len(), 500, "every food once");
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "in (name, id) order");
    assert_eq!(
        seen.iter().map(|(_, id)| id).collect::<HashSet<_>>().len(),
        500
    );
}

#[tokio::test]
async fn upserts_update_by_barcode_and_barcodes_are_found_in_any_printed_form() {
    let (_db, repo, catalog) = seeded().await;
    let renamed = food(
        "Choc Original",
        Some("Acme"),
        Some("04006381333931"),
        "cocoa, sugar",
    );
    let outcome = repo
        .upsert_batch(&[analysed(&catalog, renamed)])
        .await
        .unwrap();
    assert_eq!((outcome.inserted, outcome.updated), (0, 1));

    let gtin = Gtin::parse("4006381333931").unwrap();
    let found = repo.food_by_barcode(&gtin).await.unwrap().unwrap();
    assert_eq!(found.draft.name(), "Choc Original");
    assert_eq!(found.version, 2);

    // A user adding a food with that barcode is told which food has it.
    let copy = food("Another Choc", None, Some("4006381333931"), "cocoa");
    let outcome = repo
        .insert(FoodId::generate(), &analysed(&catalog, copy), None)
        .await;
    assert_eq!(
        outcome,
        Err(CatalogError::BarcodeTaken { existing: found.id })
    );

    // Edits check the version.
    let edit = food(
        "Choc Renamed",
        Some("Acme"),
        Some("4006381333931"),
        "cocoa, sugar",
    );
    let stale = repo
        .update(found.id, 1, &analysed(&catalog, edit.clone()))
        .await;
    assert_eq!(
        stale,
        Err(CatalogError::VersionMismatch {
            expected: 1,
            current: 2
        })
    );
    let edited = repo
        .update(found.id, 2, &analysed(&catalog, edit))
        .await
        .unwrap();
    assert_eq!((edited.draft.name(), edited.version), ("Choc Renamed", 3));

    assert!(repo.delete(found.id).await.unwrap());
    assert!(repo.food(found.id).await.unwrap().is_none());
    assert!(!repo.delete(found.id).await.unwrap());
}

#[tokio::test]
async fn the_suitability_filter_keeps_only_what_the_profile_allows() {
    let (_db, repo, catalog) = seeded().await;
    let vegan = catalog
        .profile(&DietProfileInput {
            diets: vec![DietSelection {
                code: "vegan".into(),
                ..DietSelection::default()
            }],
            ..DietProfileInput::default()
        })
        .unwrap();
    let filter = SuitabilityFilter {
        excluded_tags: vegan.excluded_tags_worse_than(Level::Ok),
        required_tags: vegan.required_tags_worse_than(Level::Ok),
        ceilings: vegan.nutrient_ceilings_worse_than(Level::Ok),
    };
    let mut query = tier(SearchTier::All, None);
    query.suitable = Some(&filter);
    let kept = names(&repo, &query).await;
    assert!(kept.contains(&"Apple".to_owned()), "{kept:?}");
    assert!(kept.contains(&"Dark Chocolate".to_owned()), "{kept:?}");
    for animal in ["Chocolate Milk", "Pain au Chocolat", "Crème Brûlée"] {
        assert!(
            !kept.contains(&animal.to_owned()),
            "{animal} kept: {kept:?}"
        );
    }

    // A per-serving sodium ceiling: 100 mg/100 g × 30 g = 30 mg per serving.
    let low_sodium = catalog
        .profile(&DietProfileInput {
            diets: vec![DietSelection {
                code: "very_low_sodium".into(),
                ..DietSelection::default()
            }],
            ..DietProfileInput::default()
        })
        .unwrap();
    let ceilings = low_sodium.nutrient_ceilings_worse_than(Level::Ok);
    assert!(!ceilings.is_empty());
    let filter = SuitabilityFilter {
        ceilings,
        ..SuitabilityFilter::default()
    };
    query.suitable = Some(&filter);
    let low_in_sodium = names(&repo, &query).await;
    assert_eq!(low_in_sodium.len(), 9, "30 mg per serving is under 35 mg");

    // Tags and ceilings together (one clause, ceilings first): exactly the foods that pass both, whichever part a
    // food fails or lacks the value for.
    let both = SuitabilityFilter {
        excluded_tags: vegan.excluded_tags_worse_than(Level::Ok),
        required_tags: vegan.required_tags_worse_than(Level::Ok),
        ceilings: low_sodium.nutrient_ceilings_worse_than(Level::Ok),
    };
    query.suitable = Some(&both);
    let mut kept_by_both = names(&repo, &query).await;
    let mut expected: Vec<String> = kept
        .iter()
        .filter(|name| low_in_sodium.contains(name))
        .cloned()
        .collect();
    kept_by_both.sort();
    expected.sort();
    // The tags leave out foods that the ceilings alone keep.
    assert!(!expected.is_empty() && expected.len() < low_in_sodium.len());
    assert_eq!(kept_by_both, expected);
}

/// Searches remember the foods they read by state; a food written since is found as it is now, whichever
/// tier finds it and however it was written.
#[tokio::test]
async fn a_search_finds_a_food_as_last_written() {
    let (db, repo, catalog) = seeded().await;
    let choc = SearchQuery::parse("choc").unwrap();
    let milk = |found: &[(Food, SearchPosition)]| {
        found
            .iter()
            .find(|(food, _)| food.draft.name() == "Chocolate Milk")
            .map(|(food, _)| (food.draft.brand().map(str::to_owned), food.version))
    };
    let query = TierQuery {
        tiers: &[SearchTier::NamePrefix, SearchTier::WordPrefix],
        ..tier(SearchTier::NamePrefix, Some(&choc))
    };
    let before = repo.search(&query).await.unwrap();
    assert_eq!(milk(&before), Some((Some("Dairyland".to_owned()), 1)));
    // Twice, so that the second read is the memo's.
    assert_eq!(repo.search(&query).await.unwrap(), before);

    // An import's upsert of the same barcode.
    let rebranded = food(
        "Chocolate Milk",
        Some("Moo Farms"),
        Some("5000112637922"),
        "milk, sugar, cocoa",
    );
    let outcome = repo
        .upsert_batch(&[analysed(&catalog, rebranded)])
        .await
        .unwrap();
    assert_eq!(outcome.updated, 1);
    let after = repo.search(&query).await.unwrap();
    assert_eq!(milk(&after), Some((Some("Moo Farms".to_owned()), 2)));

    // A write outside the application that bumps the version, as every writer must.
    let pool = db.pool();
    let mut conn = pool.get().await.unwrap();
    diesel::sql_query(
        "UPDATE foods SET brand = 'Udder Co', version = version + 1 WHERE name = 'Chocolate Milk'",
    )
    .execute(&mut *conn)
    .await
    .unwrap();
    let last = repo.search(&query).await.unwrap();
    assert_eq!(milk(&last), Some((Some("Udder Co".to_owned()), 3)));

    // A food deleted is not found, and the page holds the others.
    diesel::sql_query("DELETE FROM foods WHERE name = 'Chocolate Milk'")
        .execute(&mut *conn)
        .await
        .unwrap();
    let gone = repo.search(&query).await.unwrap();
    assert_eq!(milk(&gone), None);
    assert_eq!(gone.len(), before.len() - 1);
}

#[tokio::test]
async fn stale_analyses_are_listed_and_replaced() {
    let (db, repo, catalog) = seeded().await;
    let pool = db.pool();
    let mut conn = pool.get().await.unwrap();
    diesel::sql_query("UPDATE foods SET analysis_version = 0 WHERE name LIKE 'Choc%'")
        .execute(&mut *conn)
        .await
        .unwrap();
    let stale = repo
        .stale_analyses(diningcoach_dietary::ANALYSIS_VERSION, None, 100)
        .await
        .unwrap();
    assert_eq!(stale.len(), 3);
    let fresh: Vec<_> = stale
        .iter()
        .map(|f| (f.id, catalog.analyse(&f.draft.facts())))
        .collect();
    assert_eq!(repo.store_analyses(&fresh).await.unwrap(), 3);
    assert!(
        repo.stale_analyses(diningcoach_dietary::ANALYSIS_VERSION, None, 100)
            .await
            .unwrap()
            .is_empty()
    );
}

/// The plan of each query shape over enough generated foods for the planner to prefer indexes, with fresh
/// statistics. An index dropped or made unusable by a query change fails here.
#[tokio::test]
async fn every_search_shape_uses_its_index() {
    let db = TestDatabase::new().await.unwrap();
    let repo = PgFoodRepository::new(db.pool());
    let catalog = DietCatalog::load().unwrap();
    let foods: Vec<_> = generate(5, 30_000).map(|d| analysed(&catalog, d)).collect();
    for batch in foods.chunks(5_000) {
        repo.upsert_batch(batch).await.unwrap();
    }
    let pool = db.pool();
    let mut conn = pool.get().await.unwrap();
    diesel::sql_query("ANALYZE foods, food_words, search_words")
        .execute(&mut *conn)
        .await
        .unwrap();

    let sample = &foods[123].draft;
    let name = SearchQuery::parse(sample.name()).unwrap();
    let prefix = SearchQuery::parse(&sample.search_name()[..5]).unwrap();
    let short = SearchQuery::parse(&sample.search_name()[..2]).unwrap();
    let common = SearchQuery::parse(&sample.search_name()[..3]).unwrap();
    let rare = SearchQuery::parse("zzqx").unwrap();
    let typo = SearchQuery::parse("yoghrt").unwrap();
    let filter = SuitabilityFilter {
        excluded_tags: vec!["contains:milk".into()],
        ..SuitabilityFilter::default()
    };
    let after = SearchPosition {
        tier: SearchTier::NamePrefix,
        key: prefix.as_str().to_owned(),
        id: FoodId::generate(),
    };
    let cases: Vec<(&str, TierQuery<'_>, &[&str])> = vec![
        (
            "no text",
            tier(SearchTier::All, None),
            &["foods_search_name_idx"],
        ),
        (
            "exact",
            tier(SearchTier::Exact, Some(&name)),
            &["foods_search_name_idx"],
        ),
        (
            "prefix",
            tier(SearchTier::NamePrefix, Some(&prefix)),
            &["foods_search_name_idx"],
        ),
        (
            "prefix, next page, suitable only",
            TierQuery {
                after: Some(&after),
                suitable: Some(&filter),
                ..tier(SearchTier::NamePrefix, Some(&prefix))
            },
            &["foods_search_name_idx"],
        ),
        (
            "short prefix",
            tier(SearchTier::NamePrefix, Some(&short)),
            &["foods_search_name_idx"],
        ),
        (
            "short word prefix",
            tier(SearchTier::WordPrefix, Some(&short)),
            &["food_words_pkey"],
        ),
        (
            "word prefix",
            tier(SearchTier::WordPrefix, Some(&prefix)),
            &["food_words_pkey"],
        ),
        (
            // Through either index of the food ids: at this size the planner prefers the primary key's two
            // levels, at 710,000 foods the hash index (docs/catalog.md).
            "word prefix, suitable only: each word start's food probed by its id",
            TierQuery {
                suitable: Some(&filter),
                ..tier(SearchTier::WordPrefix, Some(&prefix))
            },
            &["food_words_pkey", "Index Cond: (id = w.food_id)"],
        ),
        (
            "rare word prefix",
            tier(SearchTier::WordPrefix, Some(&rare)),
            &["food_words_pkey"],
        ),
        (
            "rare substring",
            tier(SearchTier::Substring, Some(&rare)),
            &["foods_search_text_trgm_idx"],
        ),
        (
            "misspelling",
            TierQuery {
                tiers: &[SearchTier::CorrectedPrefix, SearchTier::CorrectedWordPrefix],
                ..tier(SearchTier::All, Some(&typo))
            },
            &["search_words", "foods_search_name_idx", "food_words_pkey"],
        ),
        (
            "the index-ordered tiers of a word query, in one statement",
            TierQuery {
                tiers: SearchTier::plan(Some(&prefix)),
                ..tier(SearchTier::Exact, Some(&prefix))
            },
            &["foods_search_name_idx", "food_words_pkey"],
        ),
        (
            "the tiers of a short query, in one statement",
            TierQuery {
                tiers: SearchTier::plan(Some(&short)),
                ..tier(SearchTier::Exact, Some(&short))
            },
            &["foods_search_name_idx", "food_words_pkey"],
        ),
        (
            "common prefix within a brand with few foods",
            TierQuery {
                brand: Some("nosuchbrand"),
                ..tier(SearchTier::NamePrefix, Some(&short))
            },
            &["foods_brand_key_idx"],
        ),
        (
            "the index-ordered tiers of a common word within a brand with few foods",
            TierQuery {
                tiers: SearchTier::plan(Some(&common)),
                brand: Some("nosuchbrand"),
                ..tier(SearchTier::Exact, Some(&common))
            },
            &["foods_brand_key_idx"],
        ),
        (
            "the tiers of a short query within a category with few foods",
            TierQuery {
                tiers: SearchTier::plan(Some(&short)),
                category: Some("Nothing"),
                ..tier(SearchTier::Exact, Some(&short))
            },
            &[
                "foods_category_main_name_idx",
                "foods_category_sub_name_idx",
                "food_words_category_main_idx",
                "food_words_category_sub_idx",
            ],
        ),
        (
            "a page of a category",
            TierQuery {
                category: sample.category().map(|c| c.main()),
                ..tier(SearchTier::All, None)
            },
            &[
                "foods_category_main_name_idx",
                "foods_category_sub_name_idx",
            ],
        ),
        (
            "a common word within a category, as the word starts of the category's foods",
            TierQuery {
                category: sample.category().map(|c| c.main()),
                ..tier(SearchTier::WordPrefix, Some(&common))
            },
            &[
                "food_words_category_main_idx",
                "food_words_category_sub_idx",
            ],
        ),
        (
            "a word within a category without it",
            TierQuery {
                category: Some("Nothing"),
                ..tier(SearchTier::WordPrefix, Some(&prefix))
            },
            &[
                "food_words_category_main_idx",
                "food_words_category_sub_idx",
            ],
        ),
        (
            "a prefix within a sub category, next page",
            TierQuery {
                category: sample.category().and_then(|c| c.sub()),
                after: Some(&after),
                ..tier(SearchTier::NamePrefix, Some(&prefix))
            },
            &[
                "foods_category_main_name_idx",
                "foods_category_sub_name_idx",
            ],
        ),
    ];
    // Over a catalog of some size, common words are kept as meant ("greek" is close to the more common "green")
    // and rare ones corrected.
    let greek = SearchQuery::parse("greek yogrt").unwrap();
    let corrections: Vec<String> = repo
        .search(&TierQuery {
            tiers: &[SearchTier::CorrectedPrefix, SearchTier::CorrectedWordPrefix],
            ..tier(SearchTier::All, Some(&greek))
        })
        .await
        .unwrap()
        .into_iter()
        .map(|(food, _)| food.draft.search_name())
        .collect();
    assert!(!corrections.is_empty());
    assert!(
        corrections.iter().all(|name| name.contains("greek yogurt")),
        "{corrections:?}"
    );

    // A substring within a category starts from the bitmaps of the trigram and category indexes, never from a
    // walk of the name index that reads the whole catalog when the category has none of the matches.
    // The three letters that most names contain: the planner expects a walk to fill the page at once.
    let names: Vec<String> = foods.iter().map(|f| f.draft.search_name()).collect();
    let everywhere = names[..50]
        .iter()
        .flat_map(|name| {
            let chars: Vec<char> = name.chars().collect();
            chars
                .windows(3)
                .filter(|w| w.iter().all(char::is_ascii_alphabetic))
                .map(|w| w.iter().collect::<String>())
                .collect::<Vec<_>>()
        })
        .max_by_key(|part| {
            names
                .iter()
                .filter(|name| name.contains(part.as_str()))
                .count()
        })
        .unwrap();
    let everywhere = SearchQuery::parse(&everywhere).unwrap();
    let within = TierQuery {
        category: sample.category().map(|c| c.main()),
        ..tier(SearchTier::Substring, Some(&everywhere))
    };
    let plan = repo.explain_search(&within, false).await.unwrap().concat();
    let plan = plan.join("\n");
    assert!(
        !plan.contains("Index Scan using foods_search_name_idx"),
        "{plan}"
    );

    for (shape, query, indexes) in cases {
        // Statements kept prepared must do with the plan made without their values (reading the index in result
        // order, never sorting matches whose number it cannot know), and with the plans made with them; the
        // trigram tiers, brand filters and category filters beyond the tiers that the category's indexes serve
        // in order are always planned with their values.
        let in_category_order = query.tiers.iter().all(|tier| {
            matches!(
                tier,
                SearchTier::All
                    | SearchTier::Exact
                    | SearchTier::NamePrefix
                    | SearchTier::CorrectedPrefix
                    | SearchTier::WordPrefix
                    | SearchTier::CorrectedWordPrefix
            )
        });
        let with_values = query.tiers[0] == SearchTier::Substring
            || query.brand.is_some()
            || (query.category.is_some() && !in_category_order);
        let modes: &[bool] = if with_values {
            &[false]
        } else {
            &[true, false]
        };
        for &generic in modes {
            let plans = repo.explain_search(&query, generic).await.unwrap();
            let all = plans.concat().join("\n");
            for index in indexes {
                assert!(
                    all.contains(index),
                    "{shape} (generic: {generic}) should use {index}:\n{all}"
                );
            }
            // The vocabulary of a generated catalog is small enough to be read whole; the foods never are.
            let scans = all.contains("Seq Scan on food");
            let search = plans.last().unwrap().join("\n");
            let sorts = generic && sorts_unbounded(&search);
            assert!(
                !scans && !sorts,
                "{shape} (generic: {generic}) scans or sorts the table:\n{all}"
            );
        }
    }
}

/// Whether a plan has a Sort node (not the "Sort Key" of a Merge Append of index scans) over more than the
/// limited halves of a category's merge: an Append whose every input is a `Limit` holds at most twice a page,
/// which PostgreSQL may sort rather than merge when it expects a row or two (an exact name within a category).
fn sorts_unbounded(plan: &str) -> bool {
    // (depth, node) of each node line; a node's details (Index Cond, Filter, Sort Key…) carry no costs.
    let nodes: Vec<(usize, &str)> = plan
        .lines()
        .filter(|line| line.contains("(cost="))
        .map(|line| {
            let text = line.trim_start();
            (line.len() - text.len(), text.trim_start_matches("->  "))
        })
        .collect();
    nodes.iter().enumerate().any(|(i, &(depth, node))| {
        if !(node.starts_with("Sort  (") || node.starts_with("Incremental Sort")) {
            return false;
        }
        let Some(&(append_depth, input)) = nodes.get(i + 1) else {
            return true;
        };
        if append_depth <= depth || !input.starts_with("Append  (") {
            return true;
        }
        let inputs: Vec<(usize, &str)> = nodes[i + 2..]
            .iter()
            .copied()
            .take_while(|&(d, _)| d > append_depth)
            .collect();
        let input_depth = match inputs.as_slice() {
            [(d, _), ..] => *d,
            [] => return true,
        };
        !inputs
            .iter()
            .filter(|&&(d, _)| d == input_depth)
            .all(|(_, input)| input.starts_with("Limit  ("))
    })
}

#[test]
fn a_sort_is_bounded_only_over_limited_halves() {
    let bounded = "Limit  (cost=1..2 rows=1 width=1)
  ->  Sort  (cost=1..2 rows=2 width=1)
        Sort Key: f.search_name, f.id
        ->  Append  (cost=0.4..16 rows=2 width=1)
              ->  Limit  (cost=0.4..8 rows=1 width=1)
                    ->  Index Scan using a on foods f  (cost=0.4..8 rows=1 width=1)
              ->  Limit  (cost=0.4..8 rows=1 width=1)
                    ->  Index Scan using b on foods f_1  (cost=0.4..8 rows=1 width=1)";
    assert!(!sorts_unbounded(bounded));
    let unbounded = "Limit  (cost=1..2 rows=1 width=1)
  ->  Sort  (cost=1..2 rows=2 width=1)
        Sort Key: f.search_name, f.id
        ->  Append  (cost=0.4..16 rows=2 width=1)
              ->  Limit  (cost=0.4..8 rows=1 width=1)
                    ->  Index Scan using a on foods f  (cost=0.4..8 rows=1 width=1)
              ->  Index Scan using b on foods f_1  (cost=0.4..8 rows=1 width=1)";
    assert!(sorts_unbounded(unbounded));
    let over_a_scan = "Limit  (cost=1..2 rows=1 width=1)
  ->  Sort  (cost=1..2 rows=2 width=1)
        ->  Bitmap Heap Scan on foods f  (cost=0.4..8 rows=1 width=1)";
    assert!(sorts_unbounded(over_a_scan));
}

/// A category filter keeps the foods of the category as a main or as a sub category, each once, in name order,
/// page after page.
#[tokio::test]
async fn a_category_holds_its_foods_as_main_or_sub_category_once_each_in_name_order() {
    let db = TestDatabase::new().await.unwrap();
    let repo = PgFoodRepository::new(db.pool());
    let catalog = DietCatalog::load().unwrap();
    let in_categories = |name: &str, main: &str, sub: Option<&str>| {
        let fields = FoodFields {
            food_code: Some(format!("test:{}", normalise_name(name).replace(' ', "_"))),
            name: name.to_owned(),
            ingredients_text: Some("milk".into()),
            category_main: Some(main.to_owned()),
            category_sub: sub.map(str::to_owned),
            ..FoodFields::default()
        };
        analysed(
            &catalog,
            FoodDraft::new(fields, FoodSource::Import).unwrap(),
        )
    };
    repo.upsert_batch(&[
        in_categories("Yogurt nature", "Dairies", Some("Yogurts")),
        in_categories("Yogurt cake", "Desserts", Some("Dairies")),
        in_categories("Dairy dessert", "Dairies", Some("Dairies")),
        in_categories("Apple", "Fruits", None),
        in_categories("Yogurt raisins", "Snacks", Some("Dried fruits")),
        in_categories("Cheddar", "Dairies", None),
        in_categories("Greek yogurt", "Dairies", Some("Yogurts")),
        in_categories("Frozen yogurt bar", "Desserts", Some("Dairies")),
        in_categories("Honey yogurt granola", "Snacks", None),
        in_categories("Skyr yogurt", "Dairies", Some("Dairies")),
    ])
    .await
    .unwrap();
    let yog = SearchQuery::parse("yog").unwrap();
    for (query, expected) in [
        (
            TierQuery {
                category: Some("Dairies"),
                ..tier(SearchTier::All, None)
            },
            vec![
                "Cheddar",
                "Dairy dessert",
                "Frozen yogurt bar",
                "Greek yogurt",
                "Skyr yogurt",
                "Yogurt cake",
                "Yogurt nature",
            ],
        ),
        (
            TierQuery {
                category: Some("Dairies"),
                ..tier(SearchTier::NamePrefix, Some(&yog))
            },
            vec!["Yogurt cake", "Yogurt nature"],
        ),
        (
            TierQuery {
                category: Some("Yogurts"),
                ..tier(SearchTier::NamePrefix, Some(&yog))
            },
            vec!["Yogurt nature"],
        ),
        // Word starts in word order ("yogurt", then "yogurt bar"), then by food.
        (
            TierQuery {
                category: Some("Dairies"),
                ..tier(SearchTier::WordPrefix, Some(&yog))
            },
            vec!["Greek yogurt", "Skyr yogurt", "Frozen yogurt bar"],
        ),
        (
            TierQuery {
                category: Some("Yogurts"),
                ..tier(SearchTier::WordPrefix, Some(&yog))
            },
            vec!["Greek yogurt"],
        ),
    ] {
        assert_eq!(names(&repo, &query).await, expected, "{query:?}");
        let mut paged = Vec::new();
        let mut after: Option<SearchPosition> = None;
        loop {
            let page = repo
                .search(&TierQuery {
                    limit: 1,
                    after: after.as_ref(),
                    ..query
                })
                .await
                .unwrap();
            let Some((food, position)) = page.into_iter().next() else {
                break;
            };
            paged.push(food.draft.name().to_owned());
            after = Some(position);
        }
        assert_eq!(paged, expected, "one at a time: {query:?}");
    }
}

/// Paging one food at a time through a tier gives exactly what one big page gives, for every tier's key.
#[tokio::test]
async fn one_at_a_time_paging_matches_one_page_in_every_tier() {
    let (_db, repo, _) = seeded().await;
    let cases = [
        (SearchTier::All, None),
        (SearchTier::NamePrefix, Some("choc")),
        (SearchTier::WordPrefix, Some("choc")),
        (SearchTier::Substring, Some("olat")),
        (SearchTier::WordPrefix, Some("ch")),
        (SearchTier::CorrectedPrefix, Some("choclate")),
        (SearchTier::CorrectedWordPrefix, Some("choclate")),
    ];
    for (search_tier, text) in cases {
        let q = text.map(|t| SearchQuery::parse(t).unwrap());
        let whole = names(&repo, &tier(search_tier, q.as_ref())).await;
        assert!(!whole.is_empty(), "{search_tier:?}");
        let mut paged = Vec::new();
        let mut after: Option<SearchPosition> = None;
        loop {
            let mut query = tier(search_tier, q.as_ref());
            query.limit = 1;
            query.after = after.as_ref();
            let page = repo.search(&query).await.unwrap();
            let Some((food, position)) = page.into_iter().next() else {
                break;
            };
            paged.push(food.draft.name().to_owned());
            after = Some(position);
        }
        assert_eq!(paged, whole, "{search_tier:?}");
    }
}

/// A food is found once, at its first word start that matches, however many of its words do; with a category
/// too, whose word starts are read through other indexes.
#[tokio::test]
async fn a_food_is_found_once_at_its_first_matching_word_start() {
    let (_db, repo, catalog) = seeded().await;
    let name = "Big Choc Chip Chocolate Cookie";
    let cookie = food(name, None, None, "wheat flour, sugar, cocoa");
    repo.upsert_batch(&[analysed(&catalog, cookie)])
        .await
        .unwrap();
    // In key order its word starts are "chip chocolate cookie", "choc chip chocolate cookie", "chocolate
    // cookie" and "cookie": "ch" and "c" start several from the first, "cho" and "choc" two from the second.
    for text in ["ch", "cho", "choc", "chip", "c"] {
        let q = SearchQuery::parse(text).unwrap();
        for category in [None, Some("Tests")] {
            let query = TierQuery {
                category,
                ..tier(SearchTier::WordPrefix, Some(&q))
            };
            let found = names(&repo, &query).await;
            assert_eq!(
                found.iter().filter(|found| *found == name).count(),
                1,
                "{text:?} in {category:?}: {found:?}"
            );
        }
    }
}

/// The word-start index follows every write: inserts, renames by upsert or edit, deletes.
#[tokio::test]
async fn word_starts_follow_renames_and_deletes() {
    let (_db, repo, catalog) = seeded().await;
    let mut two_words = food(
        "Choc Chip Chocolate Cookie",
        None,
        None,
        "wheat flour, sugar, cocoa",
    );
    let outcome = repo
        .upsert_batch(&[analysed(&catalog, two_words.clone())])
        .await
        .unwrap();
    assert_eq!(outcome.inserted, 1);
    let q = SearchQuery::parse("chocolate co").unwrap();
    assert_eq!(
        names(&repo, &tier(SearchTier::WordPrefix, Some(&q))).await,
        ["Choc Chip Chocolate Cookie"]
    );
    let choc = SearchQuery::parse("chip").unwrap();
    assert_eq!(
        names(&repo, &tier(SearchTier::WordPrefix, Some(&choc))).await,
        ["Choc Chip Chocolate Cookie"],
        "once, at its first matching word"
    );
    two_words = food(
        "Choc Chip Chocolate Cookie",
        Some("Nibbles"),
        None,
        "wheat flour, sugar, cocoa",
    );
    let (fields, source) = two_words.into_fields();
    let mut fields = fields;
    fields.name = "Oat Cookie".into();
    let renamed = FoodDraft::new(fields.clone(), source).unwrap();
    let outcome = repo
        .upsert_batch(&[analysed(&catalog, renamed)])
        .await
        .unwrap();
    assert_eq!(outcome.updated, 1);
    assert!(
        names(&repo, &tier(SearchTier::WordPrefix, Some(&choc)))
            .await
            .is_empty()
    );
    // The words of an updated food join the vocabulary: the new brand corrects a misspelling.
    let misspelt = SearchQuery::parse("nibles").unwrap();
    assert_eq!(
        names(
            &repo,
            &TierQuery {
                tiers: &[SearchTier::CorrectedPrefix, SearchTier::CorrectedWordPrefix],
                ..tier(SearchTier::All, Some(&misspelt))
            },
        )
        .await,
        ["Oat Cookie"]
    );
    let nibbles = SearchQuery::parse("nibb").unwrap();
    // A food moved to another category takes its word starts along, name unchanged.
    let in_category = |category: &'static str| TierQuery {
        category: Some(category),
        ..tier(SearchTier::WordPrefix, Some(&nibbles))
    };
    assert_eq!(names(&repo, &in_category("Tests")).await, ["Oat Cookie"]);
    fields.category_main = Some("Biscuits".into());
    let moved = FoodDraft::new(fields, source).unwrap();
    assert_eq!(
        repo.upsert_batch(&[analysed(&catalog, moved)])
            .await
            .unwrap()
            .updated,
        1
    );
    assert!(names(&repo, &in_category("Tests")).await.is_empty());
    assert_eq!(names(&repo, &in_category("Biscuits")).await, ["Oat Cookie"]);
    let found = repo
        .search(&tier(SearchTier::WordPrefix, Some(&nibbles)))
        .await
        .unwrap();
    assert_eq!(found.len(), 1, "the brand's words are indexed");
    assert!(repo.delete(found[0].0.id).await.unwrap());
    assert!(
        names(&repo, &tier(SearchTier::WordPrefix, Some(&nibbles)))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn a_batch_stores_every_field_as_given() {
    let db = TestDatabase::new().await.unwrap();
    let repo = PgFoodRepository::new(db.pool());
    let catalog = DietCatalog::load().unwrap();
    // Tags travel joined in one string and are split again in SQL: separators, quotes, braces and
    // backslashes of array syntax must come back as they were, and empty lists stay empty.
    let odd = FoodDraft::new(
        FoodFields {
            food_code: Some("test:odd".into()),
            barcode: Some("4006381333931".into()),
            name: "L'œuf \"frais\" {bio}".into(),
            brand: Some("Ferme\\Nord".into()),
            allergens: vec!["en:eggs".into(), "a,b".into(), "{x}".into()],
            traces: Vec::new(),
            labels: vec!["\"quoted\"".into(), "back\\slash".into(), "NULL".into()],
            storage_notes: Some("keep cold".into()),
            nutrients: NutrientsPer100g {
                sodium_mg: Some(0.1),
                iodine_ug: Some(12.5),
                ..NutrientsPer100g::default()
            },
            ..FoodFields::default()
        },
        FoodSource::Import,
    )
    .unwrap();
    let drafts: Vec<FoodDraft> = std::iter::once(odd)
        .chain(generate::generate(11, 300))
        .collect();
    let foods: Vec<AnalysedFood> = drafts
        .iter()
        .map(|draft| analysed(&catalog, draft.clone()))
        .collect();
    let outcome = repo.upsert_batch(&foods).await.unwrap();
    assert_eq!((outcome.inserted, outcome.updated), (301, 0));

    let mut checked = 0;
    for food in &foods {
        let Some(gtin) = food.draft.gtin() else {
            continue;
        };
        let stored = repo.food_by_barcode(&gtin).await.unwrap().unwrap();
        assert_eq!(stored.draft, food.draft);
        assert_eq!(stored.analysis, food.analysis.summary());
        assert_eq!(stored.version, 1);
        checked += 1;
    }
    assert!(
        checked > 250,
        "only {checked} generated foods have a barcode"
    );

    // The same batch again updates every food and changes nothing else.
    let outcome = repo.upsert_batch(&foods).await.unwrap();
    assert_eq!((outcome.inserted, outcome.updated), (0, 301));
    let gtin = foods[0].draft.gtin().unwrap();
    let stored = repo.food_by_barcode(&gtin).await.unwrap().unwrap();
    assert_eq!(
        (stored.draft.clone(), stored.version),
        (foods[0].draft.clone(), 2)
    );
}

#[tokio::test]
async fn foods_are_read_back_with_the_summary_of_their_analysis() {
    let db = TestDatabase::new().await.unwrap();
    let repo = PgFoodRepository::new(db.pool());
    let catalog = DietCatalog::load().unwrap();
    // Generated foods cover traces and labels; the odd bar, unrecognised ingredients; the rice has no ingredient
    // list.
    let odd = food(
        "Odd Bar",
        None,
        None,
        "sugar, zorblax extract, cocoa butter. May contain hazelnuts.",
    );
    let foods: Vec<AnalysedFood> = generate::generate(5, 198)
        .chain([odd, food("Plain Rice", None, None, " ")])
        .map(|draft| analysed(&catalog, draft))
        .collect();
    repo.upsert_batch(&foods).await.unwrap();
    let expected: std::collections::HashMap<String, _> = foods
        .iter()
        .map(|food| {
            (
                food.draft.code().unwrap().to_string(),
                food.analysis.summary(),
            )
        })
        .collect();
    let found = repo
        .search(&TierQuery {
            limit: 200,
            ..tier(SearchTier::All, None)
        })
        .await
        .unwrap();
    assert_eq!(found.len(), 200);
    for (food, _) in found {
        assert_eq!(food.analysis, expected[&food.code], "{}", food.code);
        let looked_up = repo.food(food.id).await.unwrap().unwrap();
        assert_eq!(looked_up.analysis, food.analysis);
    }
    let covered = |has: fn(&AnalysisSummary) -> bool| expected.values().any(has);
    assert!(covered(|s| !s.unrecognised.is_empty()));
    assert!(covered(|s| !s.traces.is_empty()));
    assert!(covered(|s| !s.labels.is_empty()));
    assert!(covered(|s| !s.ingredients_declared));
}

#[tokio::test]
async fn brand_and_category_filters_keep_only_their_foods_in_every_tier() {
    let (_db, repo, catalog) = seeded().await;
    // A longer brand starting with the filtered one: its foods are in the brand index's range, not in the brand.
    let ice = food("Choc Ice", Some("Acme Foods"), None, "milk, sugar, cocoa");
    repo.upsert_batch(&[analysed(&catalog, ice)]).await.unwrap();
    let choc = SearchQuery::parse("choc").unwrap();
    let everywhere = TierQuery {
        tiers: SearchTier::plan(Some(&choc)),
        ..tier(SearchTier::All, Some(&choc))
    };
    let cases: [(TierQuery<'_>, &[&str]); 6] = [
        (
            TierQuery {
                brand: Some("acme"),
                ..everywhere
            },
            &["Choc", "Chocolate Bar"],
        ),
        (
            TierQuery {
                brand: Some("acme foods"),
                ..everywhere
            },
            &["Choc Ice"],
        ),
        (
            TierQuery {
                brand: Some("acme foods"),
                ..tier(SearchTier::All, None)
            },
            &["Choc Ice"],
        ),
        (
            TierQuery {
                brand: Some("acme food"),
                ..everywhere
            },
            &[],
        ),
        (
            TierQuery {
                brand: Some("choco brothers"),
                ..everywhere
            },
            &["Muesli"],
        ),
        (
            TierQuery {
                category: Some("Nothing"),
                ..everywhere
            },
            &[],
        ),
    ];
    for (query, expected) in cases {
        assert_eq!(names(&repo, &query).await, expected, "{query:?}");
    }
    let in_category = TierQuery {
        category: Some("Tests"),
        ..everywhere
    };
    assert_eq!(
        names(&repo, &in_category).await,
        names(&repo, &everywhere).await
    );
}
