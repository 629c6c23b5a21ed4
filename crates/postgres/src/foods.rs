//! The food catalog on PostgreSQL: look-ups, contributions, edits, batch upserts, re-analysis; search is in
//! `food_search`.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::sql_types::{Bool, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use diningcoach_catalog::ports::FoodRepository;
use diningcoach_catalog::{
    AnalysedFood, BatchOutcome, CatalogError, Food, FoodDraft, FoodFields, FoodId, FoodKind,
    FoodSource, FoodState, Gtin, NutrientsPer100g, SearchPosition, TierQuery,
};
use diningcoach_dietary::{AnalysisSummary, FoodAnalysis};
use diningcoach_kernel::{InfraError, UserId};
use uuid::Uuid;

use crate::food_memo::{FoodMemo, food_state};
use crate::food_search::{self, Vocabulary};
use crate::pool::checkout;
use crate::schema::foods;
use crate::search_words;
use crate::statement::{Bind, Statement};
use crate::{PgError, PgPool};

#[derive(Clone)]
pub struct PgFoodRepository {
    pool: PgPool,
    /// Shared by the clones of a repository.
    vocabulary: Arc<Vocabulary>,
    found: Arc<FoodMemo>,
}

impl PgFoodRepository {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            vocabulary: Arc::default(),
            found: Arc::default(),
        }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = foods)]
#[diesel(check_for_backend(Pg))]
pub(crate) struct FoodRow {
    id: Uuid,
    food_code: String,
    barcode: Option<String>,
    kind: String,
    source: String,
    name: String,
    brand: Option<String>,
    country: Option<String>,
    category_main: Option<String>,
    category_sub: Option<String>,
    serving_size_g: Option<f64>,
    energy_kcal: Option<f64>,
    protein_g: Option<f64>,
    fat_g: Option<f64>,
    saturated_fat_g: Option<f64>,
    trans_fat_g: Option<f64>,
    cholesterol_mg: Option<f64>,
    carbohydrates_g: Option<f64>,
    sugars_g: Option<f64>,
    starch_g: Option<f64>,
    fiber_g: Option<f64>,
    sodium_mg: Option<f64>,
    potassium_mg: Option<f64>,
    phosphorus_mg: Option<f64>,
    iodine_ug: Option<f64>,
    caffeine_mg: Option<f64>,
    alcohol_percent_vol: Option<f64>,
    ingredients_text: Option<String>,
    allergens: Vec<Option<String>>,
    traces: Vec<Option<String>>,
    labels: Vec<Option<String>>,
    storage_notes: Option<String>,
    analysis_summary: String,
    created_by: Option<Uuid>,
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    analysis_version: i32,
}

impl FoodRow {
    /// The state of the food as read (see [`FoodState`]).
    pub(crate) fn state(&self) -> FoodState {
        food_state(
            self.id,
            self.version,
            self.updated_at,
            self.analysis_version,
        )
    }

    pub(crate) fn into_food(self) -> Result<Food, InfraError> {
        let fault = |what: &str, error: &dyn std::fmt::Display| {
            InfraError::Fault(format!("stored food {} has {what}: {error}", self.id))
        };
        let kind: FoodKind = self
            .kind
            .parse()
            .map_err(|e: CatalogError| fault("an unknown kind", &e))?;
        let source: FoodSource = self
            .source
            .parse()
            .map_err(|e: CatalogError| fault("an unknown source", &e))?;
        let analysis = serde_json::from_str(&self.analysis_summary)
            .map_err(|e| fault("an unreadable analysis summary", &e))?;
        let fields = FoodFields {
            food_code: Some(self.food_code.clone()),
            barcode: self.barcode,
            name: self.name,
            brand: self.brand,
            country: self.country,
            category_main: self.category_main,
            category_sub: self.category_sub,
            kind: Some(kind),
            serving_size_g: self.serving_size_g,
            ingredients_text: self.ingredients_text,
            allergens: self.allergens.into_iter().flatten().collect(),
            traces: self.traces.into_iter().flatten().collect(),
            labels: self.labels.into_iter().flatten().collect(),
            storage_notes: self.storage_notes,
            nutrients: NutrientsPer100g {
                energy_kcal: self.energy_kcal,
                protein_g: self.protein_g,
                fat_g: self.fat_g,
                saturated_fat_g: self.saturated_fat_g,
                trans_fat_g: self.trans_fat_g,
                cholesterol_mg: self.cholesterol_mg,
                carbohydrates_g: self.carbohydrates_g,
                sugars_g: self.sugars_g,
                starch_g: self.starch_g,
                fiber_g: self.fiber_g,
                sodium_mg: self.sodium_mg,
                potassium_mg: self.potassium_mg,
                phosphorus_mg: self.phosphorus_mg,
                iodine_ug: self.iodine_ug,
                caffeine_mg: self.caffeine_mg,
                alcohol_percent_vol: self.alcohol_percent_vol,
            },
        };
        // Stored foods were validated on the way in; a failure here means the rules tightened since.
        let draft = FoodDraft::new(fields, source).map_err(|e| fault("invalid fields", &e))?;
        Ok(Food {
            id: FoodId::from_uuid(self.id),
            code: self.food_code,
            draft,
            analysis,
            created_by: self.created_by.map(UserId::from_uuid),
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = foods)]
#[diesel(treat_none_as_null = true)]
struct FoodValues<'a> {
    food_code: String,
    barcode: Option<String>,
    kind: &'static str,
    source: &'static str,
    name: &'a str,
    search_name: String,
    brand: Option<&'a str>,
    search_brand: Option<String>,
    country: Option<&'a str>,
    category_main: Option<&'a str>,
    category_sub: Option<&'a str>,
    serving_size_g: Option<f64>,
    energy_kcal: Option<f64>,
    protein_g: Option<f64>,
    fat_g: Option<f64>,
    saturated_fat_g: Option<f64>,
    trans_fat_g: Option<f64>,
    cholesterol_mg: Option<f64>,
    carbohydrates_g: Option<f64>,
    sugars_g: Option<f64>,
    starch_g: Option<f64>,
    fiber_g: Option<f64>,
    sodium_mg: Option<f64>,
    potassium_mg: Option<f64>,
    phosphorus_mg: Option<f64>,
    iodine_ug: Option<f64>,
    caffeine_mg: Option<f64>,
    alcohol_percent_vol: Option<f64>,
    ingredients_text: Option<&'a str>,
    allergens: &'a [String],
    traces: &'a [String],
    labels: &'a [String],
    storage_notes: Option<&'a str>,
    analysis_version: i32,
    analysis_summary: String,
    dietary_tags: Vec<String>,
}

#[derive(Insertable)]
#[diesel(table_name = foods)]
struct NewFood<'a> {
    id: Uuid,
    created_by: Option<Uuid>,
    #[diesel(embed)]
    values: FoodValues<'a>,
}

/// What is stored of an analysis, as JSON. An `AnalysisSummary` serialises whatever it holds (strings, numbers,
/// sets): this cannot fail.
fn summary_json(analysis: &FoodAnalysis) -> String {
    serde_json::to_string::<AnalysisSummary>(&analysis.summary()).unwrap_or_default()
}

fn analysis_version(analysis: &FoodAnalysis) -> i32 {
    i32::try_from(analysis.version).unwrap_or(i32::MAX)
}

fn values(food: &AnalysedFood, id: Uuid) -> FoodValues<'_> {
    let draft = &food.draft;
    let n = draft.nutrients();
    FoodValues {
        // Without a code of its source, a food's code is its id: unique, and stable from then on.
        food_code: draft
            .code()
            .map_or_else(|| format!("dc:{id}"), |code| code.as_str().to_owned()),
        barcode: draft.gtin().map(|gtin| gtin.as_str().to_owned()),
        kind: draft.kind().as_str(),
        source: draft.source().as_str(),
        name: draft.name(),
        search_name: draft.search_name(),
        brand: draft.brand(),
        search_brand: draft.search_brand(),
        country: draft.country(),
        category_main: draft.category().map(|c| c.main()),
        category_sub: draft.category().and_then(|c| c.sub()),
        serving_size_g: draft.serving_size_g(),
        energy_kcal: n.energy_kcal,
        protein_g: n.protein_g,
        fat_g: n.fat_g,
        saturated_fat_g: n.saturated_fat_g,
        trans_fat_g: n.trans_fat_g,
        cholesterol_mg: n.cholesterol_mg,
        carbohydrates_g: n.carbohydrates_g,
        sugars_g: n.sugars_g,
        starch_g: n.starch_g,
        fiber_g: n.fiber_g,
        sodium_mg: n.sodium_mg,
        potassium_mg: n.potassium_mg,
        phosphorus_mg: n.phosphorus_mg,
        iodine_ug: n.iodine_ug,
        caffeine_mg: n.caffeine_mg,
        alcohol_percent_vol: n.alcohol_percent_vol,
        ingredients_text: draft.ingredients_text(),
        allergens: draft.allergens(),
        traces: draft.traces(),
        labels: draft.labels(),
        storage_notes: draft.storage_notes(),
        analysis_version: analysis_version(&food.analysis),
        analysis_summary: summary_json(&food.analysis),
        dietary_tags: food.analysis.dietary_tags(),
    }
}

fn is_barcode_conflict(error: &DieselError) -> bool {
    matches!(error, DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info)
        if matches!(info.constraint_name(), Some("foods_natural_key_idx" | "foods_barcode_idx")))
}

async fn food_id_by_barcode(
    conn: &mut AsyncPgConnection,
    barcode: &str,
) -> Result<Option<Uuid>, DieselError> {
    foods::table
        .filter(foods::barcode.eq(barcode))
        .select(foods::id)
        .first(conn)
        .await
        .optional()
}

async fn barcode_taken(
    conn: &mut AsyncPgConnection,
    food: &AnalysedFood,
) -> Result<CatalogError, InfraError> {
    let Some(barcode) = food.draft.gtin() else {
        return Err(InfraError::Fault(
            "a unique violation on a food without a barcode".into(),
        ));
    };
    match food_id_by_barcode(conn, barcode.as_str())
        .await
        .map_err(PgError::from)?
    {
        Some(existing) => Ok(CatalogError::BarcodeTaken {
            existing: FoodId::from_uuid(existing),
        }),
        // Deleted in between: the client may simply retry.
        None => Err(InfraError::Fault(
            "a barcode conflict with a food that no longer exists".into(),
        )),
    }
}

/// Tag lists travel joined by this separator, since the elements of a SQL array must all have the same
/// dimensions; tags never hold control characters (`FoodDraft` refuses them).
const TAG_SEPARATOR: char = '\u{1f}';

/// How a batch column reaches its table column.
#[derive(Clone, Copy, PartialEq)]
enum Carried {
    AsIs,
    /// Joined by [`TAG_SEPARATOR`], split again in SQL.
    JoinedTags,
}

/// The columns of a batch upsert, in bind order: name, SQL type of one element, how it is carried. The
/// statement and [`batch_columns`] follow this list.
const BATCH_COLUMNS: [(&str, &str, Carried); 39] = [
    ("id", "uuid", Carried::AsIs),
    ("food_code", "text", Carried::AsIs),
    ("barcode", "text", Carried::AsIs),
    ("kind", "text", Carried::AsIs),
    ("source", "text", Carried::AsIs),
    ("name", "text", Carried::AsIs),
    ("search_name", "text", Carried::AsIs),
    ("brand", "text", Carried::AsIs),
    ("search_brand", "text", Carried::AsIs),
    ("country", "text", Carried::AsIs),
    ("category_main", "text", Carried::AsIs),
    ("category_sub", "text", Carried::AsIs),
    ("serving_size_g", "float8", Carried::AsIs),
    ("energy_kcal", "float8", Carried::AsIs),
    ("protein_g", "float8", Carried::AsIs),
    ("fat_g", "float8", Carried::AsIs),
    ("saturated_fat_g", "float8", Carried::AsIs),
    ("trans_fat_g", "float8", Carried::AsIs),
    ("cholesterol_mg", "float8", Carried::AsIs),
    ("carbohydrates_g", "float8", Carried::AsIs),
    ("sugars_g", "float8", Carried::AsIs),
    ("starch_g", "float8", Carried::AsIs),
    ("fiber_g", "float8", Carried::AsIs),
    ("sodium_mg", "float8", Carried::AsIs),
    ("potassium_mg", "float8", Carried::AsIs),
    ("phosphorus_mg", "float8", Carried::AsIs),
    ("iodine_ug", "float8", Carried::AsIs),
    ("caffeine_mg", "float8", Carried::AsIs),
    ("alcohol_percent_vol", "float8", Carried::AsIs),
    ("ingredients_text", "text", Carried::AsIs),
    ("allergens", "text", Carried::JoinedTags),
    ("traces", "text", Carried::JoinedTags),
    ("labels", "text", Carried::JoinedTags),
    ("storage_notes", "text", Carried::AsIs),
    ("analysis_version", "int4", Carried::AsIs),
    ("analysis_summary", "text", Carried::AsIs),
    ("dietary_tags", "text", Carried::JoinedTags),
    ("created_by", "uuid", Carried::AsIs),
    ("version", "int4", Carried::AsIs),
];

/// How a batch meets the foods already in the catalog.
#[derive(Clone, Copy, PartialEq)]
enum Meeting {
    /// A food whose natural key the catalog holds updates that food.
    Upsert,
    /// Every food is a new row: a first load, whose natural-key index is built at its end
    /// (`catalog_imports`), settles the keys written twice there.
    Append,
}

/// The batch insert: one row per element of the column arrays. Its text does not depend on the batch, so a
/// connection prepares and plans it once; a multi-row `VALUES` list of 1,500 rows had 58,500 parameters to
/// parse and plan at every batch (a quarter of an import's time). An upsert returns, for each food, its id and
/// whether it was inserted.
fn insert_statement(columns: [Bind; BATCH_COLUMNS.len()], meeting: Meeting) -> Statement {
    let names: Vec<&str> = BATCH_COLUMNS.iter().map(|(name, ..)| *name).collect();
    let names = names.join(", ");
    let selected: Vec<String> = BATCH_COLUMNS
        .iter()
        .map(|(name, _, carried)| match carried {
            Carried::AsIs => format!("batch.{name}"),
            Carried::JoinedTags => format!(
                "string_to_array(batch.{name}, chr({}))",
                u32::from(TAG_SEPARATOR)
            ),
        })
        .collect();
    let mut statement = Statement::prepared();
    statement.sql(format!(
        "INSERT INTO foods ({names}) SELECT {} FROM (SELECT ",
        selected.join(", ")
    ));
    for (i, ((name, sql_type, _), column)) in BATCH_COLUMNS.iter().zip(columns).enumerate() {
        if i > 0 {
            statement.sql(", ");
        }
        statement
            .sql("unnest(")
            .bind(column)
            .sql(format!("::{sql_type}[]) AS {name}"));
    }
    // One `unnest` per array in the select list, which PostgreSQL runs in step (shorter arrays padded with
    // NULLs, as `unnest(a, b, …)` does), streams the rows; `FROM unnest(a, b, …)` first copies them all into
    // a tuple store. Half the time of the `SELECT` for a first load's word starts (docs/benchmarks.md).
    statement.sql(") AS batch");
    if meeting == Meeting::Upsert {
        let updated: Vec<String> = BATCH_COLUMNS
            .iter()
            .filter(|(name, ..)| !matches!(*name, "id" | "created_by" | "version"))
            .map(|(name, ..)| format!("{name} = excluded.{name}"))
            .collect();
        // `xmax = 0` only for a freshly inserted row version: it tells inserts from updates.
        statement.sql(format!(
            " ON CONFLICT (natural_key) DO UPDATE SET {}, \
             version = foods.version + 1, updated_at = now() RETURNING id, xmax = 0",
            updated.join(", ")
        ));
    }
    statement
}

/// The values of foods as column arrays, in the order of [`BATCH_COLUMNS`]; `ids` are the ids the foods get if
/// they are inserted.
fn batch_columns(rows: &[FoodValues<'_>], ids: &[Uuid]) -> [Bind; BATCH_COLUMNS.len()] {
    let text = |field: for<'r> fn(&'r FoodValues<'r>) -> Option<&'r str>| {
        Bind::OptionalTexts(
            rows.iter()
                .map(|row| field(row).map(str::to_owned))
                .collect(),
        )
    };
    let number = |field: fn(&FoodValues<'_>) -> Option<f64>| {
        Bind::OptionalDoubles(rows.iter().map(field).collect())
    };
    let separator = TAG_SEPARATOR.to_string();
    let tags = |field: for<'r> fn(&'r FoodValues<'r>) -> &'r [String]| {
        Bind::OptionalTexts(
            rows.iter()
                .map(|row| Some(field(row).join(&separator)))
                .collect(),
        )
    };
    [
        Bind::Uuids(ids.to_vec()),
        text(|r| Some(r.food_code.as_str())),
        text(|r| r.barcode.as_deref()),
        text(|r| Some(r.kind)),
        text(|r| Some(r.source)),
        text(|r| Some(r.name)),
        text(|r| Some(r.search_name.as_str())),
        text(|r| r.brand),
        text(|r| r.search_brand.as_deref()),
        text(|r| r.country),
        text(|r| r.category_main),
        text(|r| r.category_sub),
        number(|r| r.serving_size_g),
        number(|r| r.energy_kcal),
        number(|r| r.protein_g),
        number(|r| r.fat_g),
        number(|r| r.saturated_fat_g),
        number(|r| r.trans_fat_g),
        number(|r| r.cholesterol_mg),
        number(|r| r.carbohydrates_g),
        number(|r| r.sugars_g),
        number(|r| r.starch_g),
        number(|r| r.fiber_g),
        number(|r| r.sodium_mg),
        number(|r| r.potassium_mg),
        number(|r| r.phosphorus_mg),
        number(|r| r.iodine_ug),
        number(|r| r.caffeine_mg),
        number(|r| r.alcohol_percent_vol),
        text(|r| r.ingredients_text),
        tags(|r| r.allergens),
        tags(|r| r.traces),
        tags(|r| r.labels),
        text(|r| r.storage_notes),
        Bind::Integers(rows.iter().map(|r| r.analysis_version).collect()),
        text(|r| Some(r.analysis_summary.as_str())),
        tags(|r| &r.dietary_tags),
        Bind::OptionalTexts(vec![None; rows.len()]),
        Bind::Integers(vec![1; rows.len()]),
    ]
}

/// Inserts or updates foods by natural key (barcode, or code without one). The batch holds at most one food
/// per natural key (PostgreSQL refuses to update a row twice in one statement). Run it inside a transaction
/// when the batch must land whole.
pub(crate) async fn upsert_foods(
    conn: &mut AsyncPgConnection,
    foods: &[AnalysedFood],
) -> Result<BatchOutcome, DieselError> {
    if foods.is_empty() {
        return Ok(outcome_of(&[]));
    }
    let (ids, values) = batch_values(foods);
    let rows: Vec<(Uuid, bool)> = insert_statement(batch_columns(&values, &ids), Meeting::Upsert)
        .returning::<(SqlUuid, Bool)>()
        .load(conn)
        .await?;
    Ok(outcome_of(&rows))
}

/// A batch of a first load, whose word-start and vocabulary triggers on insert are disabled, ready to be
/// appended (see [`Meeting::Append`]) with its word starts and vocabulary. It owns what it writes, so that a
/// load prepares the next batch while PostgreSQL writes this one.
pub(crate) struct LoadBatch {
    columns: [Bind; BATCH_COLUMNS.len()],
    /// The word starts: key, food, characters shared with the food's previous key, and the food's categories.
    word_keys: Vec<String>,
    word_foods: Vec<Uuid>,
    word_shared: Vec<i32>,
    word_mains: Vec<Option<String>>,
    word_subs: Vec<Option<String>>,
    vocabulary: BTreeSet<String>,
}

impl LoadBatch {
    pub(crate) fn of(foods: &[AnalysedFood]) -> Self {
        let (ids, values) = batch_values(foods);
        let (mut word_keys, mut word_foods, mut word_shared) = (Vec::new(), Vec::new(), Vec::new());
        let (mut word_mains, mut word_subs) = (Vec::new(), Vec::new());
        let mut vocabulary = BTreeSet::new();
        for (row, id) in values.iter().zip(&ids) {
            let text = search_words::search_text(&row.search_name, row.search_brand.as_deref());
            for (key, shared) in search_words::word_keys(&text) {
                word_keys.push(key);
                word_foods.push(*id);
                word_shared.push(i32::from(shared));
                word_mains.push(row.category_main.map(str::to_owned));
                word_subs.push(row.category_sub.map(str::to_owned));
            }
            vocabulary.extend(search_words::vocabulary_words(&text).map(str::to_owned));
        }
        Self {
            columns: batch_columns(&values, &ids),
            word_keys,
            word_foods,
            word_shared,
            word_mains,
            word_subs,
            vocabulary,
        }
    }

    pub(crate) async fn write(self, conn: &mut AsyncPgConnection) -> Result<(), DieselError> {
        insert_statement(self.columns, Meeting::Append)
            .execute(conn)
            .await?;
        let mut words = Statement::prepared();
        words
            .sql(
                "INSERT INTO food_words (word, food_id, shared, category_main, category_sub) SELECT unnest(",
            )
            .bind(Bind::Texts(self.word_keys))
            .sql("::text[]), unnest(")
            .bind(Bind::Uuids(self.word_foods))
            .sql("::uuid[]), unnest(")
            .bind(Bind::Integers(self.word_shared))
            .sql("::int4[]), unnest(")
            .bind(Bind::OptionalTexts(self.word_mains))
            .sql("::text[]), unnest(")
            .bind(Bind::OptionalTexts(self.word_subs))
            .sql("::text[])");
        words.execute(conn).await?;
        // In order, like the trigger, so that two writers adding the same new words cannot deadlock.
        let mut known = Statement::prepared();
        known
            .sql("INSERT INTO search_words (word) SELECT unnest(")
            .bind(Bind::Texts(self.vocabulary.into_iter().collect()))
            .sql("::text[]) ON CONFLICT DO NOTHING");
        known.execute(conn).await?;
        Ok(())
    }
}

/// The ids that foods get if they are inserted, in their order (growing: a first load keeps the last food
/// written of a natural key), and the values written.
fn batch_values(foods: &[AnalysedFood]) -> (Vec<Uuid>, Vec<FoodValues<'_>>) {
    let ids: Vec<Uuid> = foods.iter().map(|_| Uuid::now_v7()).collect();
    let values = foods
        .iter()
        .zip(&ids)
        .map(|(food, id)| values(food, *id))
        .collect();
    (ids, values)
}

fn outcome_of(rows: &[(Uuid, bool)]) -> BatchOutcome {
    let inserted = rows.iter().filter(|(_, inserted)| *inserted).count() as u64;
    BatchOutcome {
        inserted,
        updated: rows.len() as u64 - inserted,
    }
}

impl PgFoodRepository {
    /// The plans PostgreSQL chooses for the first statements of a search (see `food_search::explain`);
    /// `generic` for the plans of prepared statements that do not know their values. Tests assert that each query shape uses the
    /// index it was designed with, so that an index regression fails CI rather than production.
    pub async fn explain_search(
        &self,
        query: &TierQuery<'_>,
        generic: bool,
    ) -> Result<Vec<Vec<String>>, InfraError> {
        let mut conn = checkout(&self.pool).await?;
        food_search::explain(&mut conn, &self.vocabulary, query, generic).await
    }
}

fn food_rows(rows: Vec<FoodRow>) -> Result<Vec<Food>, InfraError> {
    rows.into_iter().map(|row| row.into_food()).collect()
}

#[async_trait]
impl FoodRepository for PgFoodRepository {
    async fn search<'a>(
        &self,
        query: &TierQuery<'a>,
    ) -> Result<Vec<(Food, SearchPosition)>, InfraError> {
        let mut conn = checkout(&self.pool).await?;
        food_search::search(&mut conn, &self.vocabulary, &self.found, query).await
    }

    async fn food(&self, id: FoodId) -> Result<Option<Food>, InfraError> {
        let mut conn = checkout(&self.pool).await?;
        let row: Option<FoodRow> = foods::table
            .find(id.as_uuid())
            .select(FoodRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(PgError::from)?;
        row.map(|row| row.into_food()).transpose()
    }

    async fn food_by_barcode(&self, gtin: &Gtin) -> Result<Option<Food>, InfraError> {
        let mut conn = checkout(&self.pool).await?;
        let row: Option<FoodRow> = foods::table
            .filter(foods::barcode.eq(gtin.as_str()))
            .select(FoodRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(PgError::from)?;
        row.map(|row| row.into_food()).transpose()
    }

    async fn insert(
        &self,
        id: FoodId,
        food: &AnalysedFood,
        created_by: Option<UserId>,
    ) -> Result<Food, CatalogError> {
        let mut conn = checkout(&self.pool).await.map_err(InfraError::from)?;
        let inserted: Result<FoodRow, DieselError> = diesel::insert_into(foods::table)
            .values(NewFood {
                id: id.as_uuid(),
                created_by: created_by.map(|u| u.as_uuid()),
                values: values(food, id.as_uuid()),
            })
            .returning(FoodRow::as_returning())
            .get_result(&mut conn)
            .await;
        match inserted {
            Ok(row) => Ok(row.into_food()?),
            Err(error) if is_barcode_conflict(&error) => Err(barcode_taken(&mut conn, food).await?),
            Err(error) => Err(InfraError::from(PgError::from(error)).into()),
        }
    }

    async fn update(
        &self,
        id: FoodId,
        expected_version: i32,
        food: &AnalysedFood,
    ) -> Result<Food, CatalogError> {
        let mut conn = checkout(&self.pool).await.map_err(InfraError::from)?;
        let updated: Result<Option<FoodRow>, DieselError> = diesel::update(
            foods::table
                .find(id.as_uuid())
                .filter(foods::version.eq(expected_version)),
        )
        .set((
            values(food, id.as_uuid()),
            foods::version.eq(foods::version + 1),
            foods::updated_at.eq(diesel::dsl::now),
        ))
        .returning(FoodRow::as_returning())
        .get_result(&mut conn)
        .await
        .optional();
        match updated {
            Ok(Some(row)) => Ok(row.into_food()?),
            Ok(None) => {
                let current: Option<i32> = foods::table
                    .find(id.as_uuid())
                    .select(foods::version)
                    .first(&mut conn)
                    .await
                    .optional()
                    .map_err(PgError::from)
                    .map_err(InfraError::from)?;
                Err(match current {
                    Some(current) => CatalogError::VersionMismatch {
                        expected: expected_version,
                        current,
                    },
                    None => CatalogError::FoodNotFound,
                })
            }
            Err(error) if is_barcode_conflict(&error) => Err(barcode_taken(&mut conn, food).await?),
            Err(error) => Err(InfraError::from(PgError::from(error)).into()),
        }
    }

    async fn delete(&self, id: FoodId) -> Result<bool, InfraError> {
        let mut conn = checkout(&self.pool).await?;
        let deleted = diesel::delete(foods::table.find(id.as_uuid()))
            .execute(&mut conn)
            .await
            .map_err(PgError::from)?;
        Ok(deleted > 0)
    }

    async fn upsert_batch(&self, foods: &[AnalysedFood]) -> Result<BatchOutcome, InfraError> {
        let mut conn = checkout(&self.pool).await?;
        let outcome = conn
            .transaction(async |conn| upsert_foods(conn, foods).await)
            .await
            .map_err(PgError::from)?;
        Ok(outcome)
    }

    async fn stale_analyses(
        &self,
        current_version: u32,
        after: Option<FoodId>,
        limit: u16,
    ) -> Result<Vec<Food>, InfraError> {
        let mut conn = checkout(&self.pool).await?;
        let current = i32::try_from(current_version).unwrap_or(i32::MAX);
        let after = after.map_or(Uuid::nil(), |id| id.as_uuid());
        // Two index ranges (older and newer versions) walked by id.
        let rows: Vec<FoodRow> = foods::table
            .filter(foods::analysis_version.ne(current))
            .filter(foods::id.gt(after))
            .order(foods::id)
            .limit(i64::from(limit))
            .select(FoodRow::as_select())
            .load(&mut conn)
            .await
            .map_err(PgError::from)?;
        food_rows(rows)
    }

    async fn store_analyses(&self, analyses: &[(FoodId, FoodAnalysis)]) -> Result<u64, InfraError> {
        let mut conn = checkout(&self.pool).await?;
        let stored = conn
            .transaction(async |conn| {
                let mut stored = 0u64;
                for (id, analysis) in analyses {
                    stored += diesel::update(foods::table.find(id.as_uuid()))
                        .set((
                            foods::analysis_version.eq(analysis_version(analysis)),
                            foods::analysis_summary.eq(summary_json(analysis)),
                            foods::dietary_tags.eq(analysis.dietary_tags()),
                        ))
                        .execute(conn)
                        .await? as u64;
                }
                Ok::<_, DieselError>(stored)
            })
            .await
            .map_err(PgError::from)?;
        Ok(stored)
    }
}
