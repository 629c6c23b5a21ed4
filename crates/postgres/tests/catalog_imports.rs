//! Catalog imports against the real PostgreSQL: creation with its job and idempotency key, claims, batches
//! committed with their progress, resumption after a dead run, first loads into an empty catalog.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use diesel::sql_types::{BigInt, Text};
use diesel::{QueryableByName, sql_query};
use diesel_async::RunQueryDsl;
use diningcoach_catalog::{
    AnalysedFood, CatalogError, Claim, Creation, FirstLoad, FoodFields, FoodSource, Idempotency,
    ImportFormat, ImportId, ImportJobs, ImportProgress, ImportReport, ImportStatus, NewImport,
    RunImport,
};
use diningcoach_dietary::DietCatalog;
use diningcoach_kernel::{Job, UserId};
use diningcoach_postgres::PgCatalogImports;
use diningcoach_postgres::testing::TestDatabase;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn count(db: &TestDatabase, sql: &str) -> i64 {
    let mut conn = db.pool().get_owned().await.unwrap();
    let found: Count = sql_query(sql).get_result(&mut *conn).await.unwrap();
    found.n
}

async fn admin(db: &TestDatabase) -> UserId {
    let id = UserId::generate();
    let mut conn = db.pool().get_owned().await.unwrap();
    sql_query(format!(
        "INSERT INTO users (id, email, nickname, password_hash, role, created_at, updated_at) \
         VALUES ('{id}', 'admin-{id}@example.org', 'Admin', 'x', 'admin', now(), now())"
    ))
    .execute(&mut *conn)
    .await
    .unwrap();
    id
}

fn new_import(requested_by: Option<UserId>, idempotency: Option<Idempotency>) -> NewImport {
    NewImport {
        id: ImportId::generate(),
        requested_by,
        format: ImportFormat::OpenFoodFacts,
        file_name: "off.tsv".into(),
        file_path: "/var/imports/upload-1".into(),
        file_bytes: 1_000,
        idempotency,
    }
}

fn foods(names: &[(&str, &str)]) -> Vec<AnalysedFood> {
    let catalog = DietCatalog::load().unwrap();
    names
        .iter()
        .map(|(barcode, name)| {
            let draft = diningcoach_catalog::FoodDraft::new(
                FoodFields {
                    name: (*name).to_owned(),
                    barcode: Some((*barcode).to_owned()),
                    food_code: Some(format!("off:{barcode}")),
                    ingredients_text: Some("water, salt".into()),
                    ..FoodFields::default()
                },
                FoodSource::Import,
            )
            .unwrap();
            let analysis = catalog.analyse(&draft.facts());
            AnalysedFood { draft, analysis }
        })
        .collect()
}

fn progress(rows: u64, bytes: u64) -> ImportProgress {
    ImportProgress {
        rows,
        bytes,
        report: ImportReport {
            rows_read: rows,
            accepted: rows,
            ..ImportReport::default()
        },
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upload_is_recorded_with_its_job_and_its_idempotency_key_replays_it() {
    let db = TestDatabase::new().await.unwrap();
    let imports = PgCatalogImports::new(db.pool());
    let user = admin(&db).await;
    let key = |hash: &str| {
        Some(Idempotency {
            key: "key-1".into(),
            request_hash: hash.into(),
        })
    };
    let first = new_import(Some(user), key("h1"));
    let job = Job::new(&RunImport { import: first.id }, chrono::Utc::now()).unwrap();
    let created = imports.create(&first, Some(job)).await.unwrap();
    let Creation::Created(created) = created else {
        panic!("{created:?}")
    };
    assert_eq!(created.status, ImportStatus::Queued);
    assert_eq!(created.report, ImportReport::default());
    assert_eq!(
        count(
            &db,
            "SELECT count(*) AS n FROM outbox WHERE kind = 'catalog.import'"
        )
        .await,
        1
    );

    // The same request again (a client retry): the same import, no second job.
    let retry = new_import(Some(user), key("h1"));
    let job = Job::new(&RunImport { import: retry.id }, chrono::Utc::now()).unwrap();
    let replayed = imports.create(&retry, Some(job)).await.unwrap();
    assert!(
        matches!(&replayed, Creation::Replayed(i) if i.id == first.id),
        "{replayed:?}"
    );
    assert_eq!(count(&db, "SELECT count(*) AS n FROM outbox").await, 1);
    assert_eq!(
        count(&db, "SELECT count(*) AS n FROM catalog_imports").await,
        1
    );

    // The same key with another file: refused.
    let other = new_import(Some(user), key("h2"));
    assert_eq!(
        imports.create(&other, None).await,
        Err(CatalogError::IdempotencyKeyReused)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn batches_commit_with_their_progress_and_a_dead_run_is_taken_over() {
    let db = TestDatabase::new().await.unwrap();
    let imports = PgCatalogImports::new(db.pool());
    let import = new_import(None, None);
    imports.create(&import, None).await.unwrap();
    let hour = Duration::from_secs(3600);

    let Claim::Claimed(first) = imports.claim(import.id, hour).await.unwrap() else {
        panic!("claim")
    };
    assert_eq!((first.status, first.attempts), (ImportStatus::Running, 1));
    assert!(first.started_at.is_some());
    // A second claim while the first run is fresh: busy.
    assert_eq!(imports.claim(import.id, hour).await.unwrap(), Claim::Busy);

    let batch = foods(&[("3017620422003", "Nutella"), ("5410228142218", "Leffe")]);
    let outcome = imports
        .commit_batch(import.id, 1, &batch, &progress(2, 400))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((outcome.inserted, outcome.updated), (2, 0));
    let stored = imports.find(import.id).await.unwrap().unwrap();
    assert_eq!((stored.rows_committed, stored.bytes_committed), (2, 400));
    assert_eq!(
        stored.report.inserted, 2,
        "the batch's outcome is in the report"
    );
    assert!((stored.progress() - 0.4).abs() < 1e-9);

    // The first run "dies"; a claim that treats any progress as stale takes over as attempt 2.
    let Claim::Claimed(second) = imports.claim(import.id, Duration::ZERO).await.unwrap() else {
        panic!("take over")
    };
    assert_eq!(second.attempts, 2);
    assert_eq!(second.rows_committed, 2, "the resume point");

    // The first run comes back to life: it no longer owns the import and writes nothing.
    let late = foods(&[("3560070472826", "Salt")]);
    assert_eq!(
        imports
            .commit_batch(import.id, 1, &late, &progress(3, 600))
            .await
            .unwrap(),
        None
    );
    assert!(
        !imports
            .finish(import.id, 1, &progress(3, 600), None)
            .await
            .unwrap()
    );
    assert_eq!(count(&db, "SELECT count(*) AS n FROM foods").await, 2);

    // The second run updates one food and adds one, then finishes.
    let batch = foods(&[("3017620422003", "Nutella 2"), ("3560070472826", "Salt")]);
    let mut p = progress(4, 1_000);
    p.report.inserted = 2;
    let outcome = imports
        .commit_batch(import.id, 2, &batch, &p)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((outcome.inserted, outcome.updated), (1, 1));
    p.report.record_written(1, 1);
    assert!(imports.finish(import.id, 2, &p, None).await.unwrap());
    let done = imports.find(import.id).await.unwrap().unwrap();
    assert_eq!(done.status, ImportStatus::Done);
    assert_eq!((done.report.inserted, done.report.updated), (3, 1));
    assert!(done.finished_at.is_some());
    assert_eq!(done.progress(), 1.0);
    // A redelivered job finds it finished.
    assert!(matches!(
        imports.claim(import.id, Duration::ZERO).await.unwrap(),
        Claim::Finished(_)
    ));
    assert_eq!(
        imports.claim(ImportId::generate(), hour).await.unwrap(),
        Claim::Missing
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_run_records_why() {
    let db = TestDatabase::new().await.unwrap();
    let imports = PgCatalogImports::new(db.pool());
    let import = new_import(None, None);
    imports.create(&import, None).await.unwrap();
    imports
        .claim(import.id, Duration::from_secs(60))
        .await
        .unwrap();
    assert!(
        imports
            .finish(
                import.id,
                1,
                &progress(0, 0),
                Some("no `product_name` column".into())
            )
            .await
            .unwrap()
    );
    let failed = imports.find(import.id).await.unwrap().unwrap();
    assert_eq!(failed.status, ImportStatus::Failed);
    assert_eq!(failed.failure.as_deref(), Some("no `product_name` column"));
}

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

/// The indexes and keys of the catalog's search tables, as PostgreSQL would recreate them.
async fn structures(db: &TestDatabase) -> Vec<String> {
    let mut conn = db.pool().get_owned().await.unwrap();
    let lines: Vec<Line> = sql_query(
        "SELECT pg_get_indexdef(indexrelid) AS line FROM pg_index \
         WHERE indrelid IN ('foods'::regclass, 'food_words'::regclass, 'search_words'::regclass) \
         UNION ALL \
         SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint \
         WHERE conrelid IN ('foods'::regclass, 'food_words'::regclass, 'search_words'::regclass) \
         UNION ALL \
         SELECT 'trigger ' || tgname || ' ' || tgenabled::text FROM pg_trigger \
         WHERE tgrelid = 'foods'::regclass AND NOT tgisinternal \
         ORDER BY 1",
    )
    .load(&mut *conn)
    .await
    .unwrap();
    lines.into_iter().map(|l| l.line).collect()
}

async fn claimed(imports: &PgCatalogImports) -> ImportId {
    let import = new_import(None, None);
    imports.create(&import, None).await.unwrap();
    let claim = imports
        .claim(import.id, Duration::from_secs(3600))
        .await
        .unwrap();
    assert!(matches!(claim, Claim::Claimed(_)), "{claim:?}");
    import.id
}

/// A first load of an empty catalog under way, Nutella written; with the catalog's structures before it began.
async fn loading_nutella(
    db: &TestDatabase,
) -> (PgCatalogImports, Vec<String>, ImportId, Box<dyn FirstLoad>) {
    let imports = PgCatalogImports::new(db.pool());
    let before = structures(db).await;
    let id = claimed(&imports).await;
    let mut load = imports.first_load(id, 1).await.unwrap().unwrap();
    load.write(&foods(&[("3017620422003", "Nutella")]))
        .await
        .unwrap();
    (imports, before, id, load)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_first_load_writes_its_batches_at_once_and_builds_the_indexes_at_its_end() {
    let db = TestDatabase::new().await.unwrap();
    let imports = PgCatalogImports::new(db.pool());
    let before = structures(&db).await;
    assert!(before.len() > 10, "{before:?}");
    let id = claimed(&imports).await;

    let mut load = imports
        .first_load(id, 1)
        .await
        .unwrap()
        .expect("empty catalog");
    let batch = foods(&[
        ("3017620422003", "Nutella"),
        ("5410228142218", "Leffe Blonde"),
    ]);
    let outcome = load.write(&batch).await.unwrap();
    assert_eq!((outcome.inserted, outcome.updated), (2, 0));
    assert!(imports.keep_alive(id, 1, 400).await.unwrap());
    // Nothing is committed yet, but the status shows how far the load has read.
    let running = imports.find(id).await.unwrap().unwrap();
    assert_eq!((running.rows_committed, running.bytes_committed), (0, 400));
    assert!((running.progress() - 0.4).abs() < 1e-9);
    // The later row of a barcode wins, across batches as in committed batches.
    let batch = foods(&[
        ("3017620422003", "Nutella Biscuits"),
        ("3560070472826", "Sea Salt"),
    ]);
    // It counts as inserted until the load settles its natural keys.
    let outcome = load.write(&batch).await.unwrap();
    assert_eq!((outcome.inserted, outcome.updated), (2, 0));
    let mut p = progress(4, 1_000);
    p.report.record_written(4, 0);
    assert!(load.finish(&p, None).await.unwrap());

    assert_eq!(structures(&db).await, before, "every index and key is back");
    assert_eq!(count(&db, "SELECT count(*) AS n FROM foods").await, 3);
    // The word starts and the vocabulary were written as the triggers write them.
    assert_eq!(
        count(&db, "SELECT count(*) AS n FROM food_words").await,
        count(
            &db,
            "SELECT count(*) AS n FROM foods AS f, food_word_starts(f.search_text)"
        )
        .await
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) AS n FROM food_words WHERE word = 'biscuits'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) AS n FROM search_words WHERE word IN ('nutella', 'biscuits', 'leffe', 'salt')"
        )
        .await,
        4
    );
    let done = imports.find(id).await.unwrap().unwrap();
    assert_eq!(done.status, ImportStatus::Done);
    assert_eq!((done.rows_committed, done.bytes_committed), (4, 1_000));
    assert_eq!((done.report.inserted, done.report.updated), (3, 1));
    assert!(done.finished_at.is_some());
}

/// A food of our own format without a barcode, whose natural key is its code.
fn coded(code: &str, name: &str) -> AnalysedFood {
    let draft = diningcoach_catalog::FoodDraft::new(
        FoodFields {
            name: name.to_owned(),
            food_code: Some(code.to_owned()),
            ingredients_text: Some("flour, butter, fruit".into()),
            ..FoodFields::default()
        },
        FoodSource::Import,
    )
    .unwrap();
    AnalysedFood {
        analysis: DietCatalog::load().unwrap().analyse(&draft.facts()),
        draft,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_first_load_keeps_the_last_food_written_of_each_natural_key() {
    let db = TestDatabase::new().await.unwrap();
    let imports = PgCatalogImports::new(db.pool());
    let before = structures(&db).await;
    let id = claimed(&imports).await;
    let mut load = imports.first_load(id, 1).await.unwrap().unwrap();
    // One barcode written in three batches, one code in two.
    let mut first = foods(&[("3017620422003", "Nutella")]);
    first.push(coded("home:1", "Apple pie"));
    let mut second = foods(&[
        ("3017620422003", "Nutella Biscuits"),
        ("5410228142218", "Leffe Blonde"),
    ]);
    second.push(coded("home:1", "Pear tart"));
    let third = foods(&[("3017620422003", "Nutella Plant-Based")]);
    for batch in [&first, &second, &third] {
        let outcome = load.write(batch).await.unwrap();
        assert_eq!(outcome.updated, 0);
    }
    let mut p = progress(6, 1_000);
    p.report.record_written(6, 0);
    assert!(load.finish(&p, None).await.unwrap());

    assert_eq!(structures(&db).await, before, "the unique indexes are back");
    assert_eq!(count(&db, "SELECT count(*) AS n FROM foods").await, 3);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) AS n FROM foods \
             WHERE name IN ('Nutella Plant-Based', 'Leffe Blonde', 'Pear tart')"
        )
        .await,
        3
    );
    // The replaced foods' word starts went with them.
    assert_eq!(word_starts_unlike_the_triggers(&db).await, (0, 0));
    let done = imports.find(id).await.unwrap().unwrap();
    assert_eq!((done.report.inserted, done.report.updated), (3, 3));
}

/// Rows of `sql` not in `other`, and of `other` not in `sql`.
async fn difference(db: &TestDatabase, sql: &str, other: &str) -> (i64, i64) {
    (
        count(
            db,
            &format!("SELECT count(*) AS n FROM ({sql} EXCEPT {other}) AS d"),
        )
        .await,
        count(
            db,
            &format!("SELECT count(*) AS n FROM ({other} EXCEPT {sql}) AS d"),
        )
        .await,
    )
}

/// The word starts (with their shared prefixes and their foods' categories) that the triggers would not have
/// written, and those they would have written that are missing.
async fn word_starts_unlike_the_triggers(db: &TestDatabase) -> (i64, i64) {
    difference(
        db,
        "SELECT word, food_id, shared, category_main, category_sub FROM food_words",
        "SELECT w.word, f.id, w.shared, f.category_main, f.category_sub \
         FROM foods AS f, food_word_keys(f.search_text) AS w",
    )
    .await
}

#[tokio::test]
async fn a_first_load_writes_the_word_starts_and_the_vocabulary_that_the_triggers_would() {
    let db = TestDatabase::new().await.unwrap();
    let imports = PgCatalogImports::new(db.pool());
    let id = claimed(&imports).await;
    let catalog = DietCatalog::load().unwrap();
    let analysed = |draft: diningcoach_catalog::FoodDraft| AnalysedFood {
        analysis: catalog.analyse(&draft.facts()),
        draft,
    };
    let generated: Vec<AnalysedFood> = diningcoach_catalog::generate(17, 400)
        .map(analysed)
        .collect();
    let mut load = imports.first_load(id, 1).await.unwrap().unwrap();
    load.write(&generated[..300]).await.unwrap();
    // A later batch renames a food of the first one (the update trigger runs) and brings new ones.
    let first = &generated[0].draft;
    let renamed = FoodFields {
        name: "Crème brûlée à la vanille de Madagascar, façon grand-mère".into(),
        barcode: first.gtin().map(|gtin| gtin.as_str().to_owned()),
        food_code: first.code().map(|code| code.as_str().to_owned()),
        ingredients_text: Some("cream, sugar, egg yolk, vanilla".into()),
        ..FoodFields::default()
    };
    let mut batch = vec![analysed(
        diningcoach_catalog::FoodDraft::new(renamed, FoodSource::Import).unwrap(),
    )];
    batch.extend_from_slice(&generated[300..]);
    let outcome = load.write(&batch).await.unwrap();
    assert_eq!((outcome.inserted, outcome.updated), (101, 0));
    assert!(load.finish(&progress(401, 1_000), None).await.unwrap());

    assert_eq!(count(&db, "SELECT count(*) AS n FROM foods").await, 400);
    assert_eq!(word_starts_unlike_the_triggers(&db).await, (0, 0));
    // Not only first keys: the comparison covers what keys share with their predecessors.
    assert!(count(&db, "SELECT count(*) AS n FROM food_words WHERE shared > 0").await > 0);
    assert_eq!(
        difference(
            &db,
            "SELECT word FROM search_words",
            "SELECT w.word FROM foods AS f, unnest(string_to_array(f.search_text, ' ')) AS w(word) \
             WHERE length(w.word) >= 3",
        )
        .await,
        (0, 0)
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) AS n FROM search_words WHERE word = 'brulee'"
        )
        .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unfinished_first_load_leaves_nothing_and_a_catalog_with_foods_gets_batches() {
    let db = TestDatabase::new().await.unwrap();
    let (imports, before, id, load) = loading_nutella(&db).await;
    // The run dies mid-load: its transaction goes with its connection.
    drop(load);
    assert_eq!(count(&db, "SELECT count(*) AS n FROM foods").await, 0);
    assert_eq!(count(&db, "SELECT count(*) AS n FROM food_words").await, 0);
    assert_eq!(structures(&db).await, before);
    let stored = imports.find(id).await.unwrap().unwrap();
    assert_eq!(
        (stored.status, stored.rows_committed),
        (ImportStatus::Running, 0)
    );

    // With one food in the catalog, imports commit batch by batch and keep the indexes.
    imports
        .commit_batch(
            id,
            1,
            &foods(&[("5410228142218", "Leffe")]),
            &progress(1, 10),
        )
        .await
        .unwrap()
        .unwrap();
    let other = claimed(&imports).await;
    assert!(imports.first_load(other, 1).await.unwrap().is_none());
    assert_eq!(structures(&db).await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_first_load_taken_over_by_another_run_writes_nothing() {
    let db = TestDatabase::new().await.unwrap();
    let (imports, before, id, mut load) = loading_nutella(&db).await;

    // The run looked dead (no keep-alive in time): another takes the import over.
    let Claim::Claimed(second) = imports.claim(id, Duration::ZERO).await.unwrap() else {
        panic!("take over")
    };
    assert_eq!(second.attempts, 2);
    assert!(!imports.keep_alive(id, 1, 10).await.unwrap());
    assert!(!load.finish(&progress(1, 10), None).await.unwrap());

    assert_eq!(count(&db, "SELECT count(*) AS n FROM foods").await, 0);
    assert_eq!(structures(&db).await, before);
    let stored = imports.find(id).await.unwrap().unwrap();
    assert_eq!((stored.status, stored.attempts), (ImportStatus::Running, 2));
}
