//! Catalog search on PostgreSQL.
//!
//! Search compares the application's normalised text (`search_name`, `search_brand`, `search_text` and the
//! word starts of `food_words`, all in the "C" collation) with the normalised query as is. In the "C" collation
//! "starts with q" is the range `[q, successor(q))`, which a b-tree serves in result order whether or not the
//! planner knows `q`; so the tiers up to word prefixes are branches of one prepared statement, each with its
//! own `LIMIT`, and PostgreSQL stops reading once the page is full: a page that the exact and prefix tiers fill
//! never touches the word-start index. Substrings and misspellings go through the trigram index, whose best
//! plan depends on how common the text is: they are planned with their values, one tier at a time, and only
//! when the page still has room. See docs/catalog.md.

use diesel::dsl::AsSelect;
use diesel::pg::Pg;
use diesel::result::Error as DieselError;
use diesel::sql_types::{SmallInt, Text};
use diesel::{QueryResult, QueryableByName};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use diningcoach_catalog::{Food, SearchPosition, SearchQuery, SearchTier, TierQuery};
use diningcoach_dietary::{Basis, Nutrient};
use diningcoach_kernel::InfraError;

use crate::PgError;
use crate::foods::FoodRow;
use crate::statement::{Bind, Statement};

/// The columns of [`FoodRow`], in its order, from `foods AS f`.
const FOOD_COLUMNS: &str = "f.id, f.food_code, f.barcode, f.kind, f.source, f.name, f.brand, f.country, \
    f.category_main, f.category_sub, f.serving_size_g, f.energy_kcal, f.protein_g, f.fat_g, f.saturated_fat_g, \
    f.trans_fat_g, f.cholesterol_mg, f.carbohydrates_g, f.sugars_g, f.starch_g, f.fiber_g, f.sodium_mg, \
    f.potassium_mg, f.phosphorus_mg, f.iodine_ug, f.caffeine_mg, f.alcohol_percent_vol, f.ingredients_text, \
    f.allergens, f.traces, f.labels, f.storage_notes, f.analysis, f.created_by, f.version, f.created_at, \
    f.updated_at";

/// Word starts are stored cut to this many characters (see the `food_words` migration).
const WORD_KEY_CHARS: usize = 32;

/// pg_trgm's default word-similarity threshold (0.6) misses common misspellings ("choclate" is 0.58 from
/// "chocolate", "yoghurt" 0.5 from "yogurt"). Set for the misspelling query's transaction only.
const WORD_SIMILARITY_THRESHOLD: &str = "0.45";

/// The misspelling query rechecks every food sharing enough trigrams with the query, which at catalog scale
/// can be a large share of it: its time is bounded so that one search cannot hold a connection.
const SIMILAR_TIMEOUT_MS: &str = "250";

/// A food found by a search: the branch of the statement that found it, its sort key there, the food.
type RankedRow = (i16, String, FoodRow);
type RankedSql = (SmallInt, Text, AsSelect<FoodRow, Pg>);

/// Whether a tier is a b-tree range read in result order (see the module's documentation).
fn is_index_ordered(tier: SearchTier) -> bool {
    !matches!(tier, SearchTier::Substring | SearchTier::Similar)
}

/// The smallest string greater than every string that starts with `prefix`, in the "C" collation (code point
/// order); `None` when there is none (a prefix of only `char::MAX`).
fn successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (u32::from(last) + 1..=u32::from(char::MAX)).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// A search query's forms as the SQL compares them.
struct QueryForms {
    text: String,
    successor: Option<String>,
    /// The query cut to the length of word-start keys, and its successor.
    word_key: String,
    word_key_successor: Option<String>,
    /// Whether the query is longer than word-start keys, so that their matches must be checked on the full text.
    longer_than_word_keys: bool,
    /// `LIKE` patterns: the query anywhere, and at the start of a word after the first.
    contains: String,
    later_word: String,
}

impl QueryForms {
    fn of(query: &SearchQuery) -> Self {
        let text = query.as_str().to_owned();
        let word_key: String = text.chars().take(WORD_KEY_CHARS).collect();
        Self {
            successor: successor(&text),
            word_key_successor: successor(&word_key),
            longer_than_word_keys: word_key.len() < text.len(),
            contains: query.contains_pattern(),
            later_word: format!("% {}", query.prefix_pattern()),
            word_key,
            text,
        }
    }
}

/// `column` starts with `text`: a range the column's b-tree serves.
fn push_starts_with(
    sql: &mut Statement,
    column: &'static str,
    text: &str,
    successor: Option<&str>,
) {
    match successor {
        Some(successor) => {
            sql.sql(column)
                .sql(" >= ")
                .bind(Bind::Text(text.to_owned()))
                .sql(" AND ")
                .sql(column)
                .sql(" < ")
                .bind(Bind::Text(successor.to_owned()));
        }
        None => {
            sql.sql("starts_with(")
                .sql(column)
                .sql(", ")
                .bind(Bind::Text(text.to_owned()))
                .sql(")");
        }
    }
}

/// The sort key of a tier, as selected and compared with cursors. Results are ordered by it, then by food.
fn push_sort_key(sql: &mut Statement, tier: SearchTier, text: Option<&QueryForms>) {
    match (tier, text) {
        (SearchTier::BrandPrefix, _) => {
            sql.sql("(f.search_brand || ' ' || f.search_name)");
        }
        (SearchTier::WordPrefix, _) => {
            sql.sql("w.word");
        }
        // Misspellings are ordered by closeness, then name: 1000 − word similarity × 1000, zero-padded so that
        // text order is numeric order. The key is computed by PostgreSQL only, so a cursor compares like with
        // like.
        (SearchTier::Similar, Some(text)) => {
            sql.sql("(lpad((1000 - (word_similarity(")
                .bind(Bind::Text(text.text.clone()))
                .sql(", f.search_text) * 1000)::int)::text, 4, '0') || f.search_name)");
        }
        _ => {
            sql.sql("f.search_name");
        }
    }
}

fn food_id_column(tier: SearchTier) -> &'static str {
    match tier {
        SearchTier::WordPrefix => "w.food_id",
        _ => "f.id",
    }
}

/// What a tier matches, excluding the better tiers' matches.
fn push_matches(sql: &mut Statement, tier: SearchTier, text: &QueryForms) {
    let name_does_not_start_with_query = |sql: &mut Statement| {
        sql.sql("NOT (");
        push_starts_with(sql, "f.search_name", &text.text, text.successor.as_deref());
        sql.sql(")");
    };
    match tier {
        SearchTier::All => {
            sql.sql("TRUE");
        }
        SearchTier::Exact => {
            sql.sql("f.search_name = ")
                .bind(Bind::Text(text.text.clone()));
        }
        SearchTier::NamePrefix => {
            push_starts_with(sql, "f.search_name", &text.text, text.successor.as_deref());
            sql.sql(" AND f.search_name <> ")
                .bind(Bind::Text(text.text.clone()));
        }
        SearchTier::BrandPrefix => {
            push_starts_with(
                sql,
                "(f.search_brand || ' ' || f.search_name)",
                &text.text,
                text.successor.as_deref(),
            );
            sql.sql(" AND ");
            name_does_not_start_with_query(sql);
        }
        SearchTier::WordPrefix => {
            push_starts_with(
                sql,
                "w.word",
                &text.word_key,
                text.word_key_successor.as_deref(),
            );
            // Each food once, at its first word start that matches.
            sql.sql(
                " AND NOT EXISTS (SELECT 1 FROM food_words AS earlier \
                 WHERE earlier.food_id = w.food_id AND earlier.word < w.word AND ",
            );
            push_starts_with(
                sql,
                "earlier.word",
                &text.word_key,
                text.word_key_successor.as_deref(),
            );
            sql.sql(") AND ");
            name_does_not_start_with_query(sql);
            if text.longer_than_word_keys {
                sql.sql(" AND f.search_text LIKE ")
                    .bind(Bind::Text(text.later_word.clone()));
            }
        }
        SearchTier::Substring => {
            sql.sql("f.search_text LIKE ")
                .bind(Bind::Text(text.contains.clone()))
                .sql(" AND f.search_text NOT LIKE ")
                .bind(Bind::Text(text.later_word.clone()))
                .sql(" AND ");
            name_does_not_start_with_query(sql);
        }
        SearchTier::Similar => {
            sql.bind(Bind::Text(text.text.clone()))
                .sql(" <% f.search_text AND f.search_text NOT LIKE ")
                .bind(Bind::Text(text.contains.clone()));
        }
    }
}

/// The request's filters: category, brand, and "only what I can eat".
fn push_filters(sql: &mut Statement, query: &TierQuery<'_>) {
    if let Some(category) = query.category {
        sql.sql(" AND (f.category_main = ")
            .bind(Bind::Text(category.to_owned()))
            .sql(" OR f.category_sub = ")
            .bind(Bind::Text(category.to_owned()))
            .sql(")");
    }
    if let Some(brand) = query.brand {
        sql.sql(" AND f.search_brand = ")
            .bind(Bind::Text(brand.to_owned()));
    }
    if let Some(filter) = query.suitable {
        if !filter.excluded_tags.is_empty() {
            sql.sql(" AND NOT (f.dietary_tags && ")
                .bind(Bind::Texts(filter.excluded_tags.clone()))
                .sql(")");
        }
        for group in &filter.required_tags {
            sql.sql(" AND f.dietary_tags && ")
                .bind(Bind::Texts(group.clone()));
        }
        for ceiling in &filter.ceilings {
            // A food without the value (or without a serving size, for a per-serving limit) is not "ok" for the
            // limit: NULL compares false.
            sql.sql(" AND coalesce(")
                .sql(nutrient_column(ceiling.nutrient));
            if ceiling.per == Basis::Serving {
                sql.sql(" * f.serving_size_g / 100");
            }
            sql.sql(" <= ")
                .bind(Bind::Double(ceiling.max))
                .sql(", false)");
        }
    }
}

/// The column (or expression over columns) holding a nutrient per 100 g, as the dietary engine names it. Imports
/// derive sodium from salt, so the sodium column is the reconciled value. A nutrient without a column reads as
/// unknown (NULL), which keeps the filter never looser than the verdict.
fn nutrient_column(nutrient: Nutrient) -> &'static str {
    match nutrient {
        Nutrient::EnergyKcal => "f.energy_kcal",
        Nutrient::ProteinG => "f.protein_g",
        Nutrient::FatG => "f.fat_g",
        Nutrient::SaturatedFatG => "f.saturated_fat_g",
        Nutrient::TransFatG => "f.trans_fat_g",
        Nutrient::CholesterolMg => "f.cholesterol_mg",
        Nutrient::CarbohydratesG => "f.carbohydrates_g",
        Nutrient::SugarsG => "f.sugars_g",
        Nutrient::StarchG => "f.starch_g",
        Nutrient::FiberG => "f.fiber_g",
        Nutrient::SodiumMg => "f.sodium_mg",
        Nutrient::PotassiumMg => "f.potassium_mg",
        Nutrient::PhosphorusMg => "f.phosphorus_mg",
        Nutrient::IodineUg => "f.iodine_ug",
        Nutrient::CaffeineMg => "f.caffeine_mg",
        // Alcohol is stored as % by volume; the engine counts grams (ethanol: 0.789 g/ml).
        Nutrient::AlcoholG => "(f.alcohol_percent_vol * 0.789)",
        // EU Regulation 1169/2011: salt = sodium × 2.5.
        Nutrient::SaltG => "(f.sodium_mg * 2.5 / 1000)",
        Nutrient::AddedSugarsG => "NULL::float8",
    }
}

/// One tier as a parenthesised `SELECT`: its matches and filters after the cursor, in its order, limited.
fn push_branch(
    sql: &mut Statement,
    query: &TierQuery<'_>,
    tier: SearchTier,
    branch: usize,
    after: Option<&SearchPosition>,
) {
    let text = query.query.map(QueryForms::of);
    sql.sql(format!("(SELECT {branch}::int2 AS branch, "));
    push_sort_key(sql, tier, text.as_ref());
    sql.sql(" AS sort_key, ").sql(FOOD_COLUMNS);
    sql.sql(match tier {
        SearchTier::WordPrefix => {
            " FROM food_words AS w JOIN foods AS f ON f.id = w.food_id WHERE "
        }
        _ => " FROM foods AS f WHERE ",
    });
    match &text {
        Some(text) => push_matches(sql, tier, text),
        // Only the `All` tier goes without text; any other matches nothing.
        None => {
            sql.sql(if tier == SearchTier::All {
                "TRUE"
            } else {
                "FALSE"
            });
        }
    }
    if let Some(after) = after {
        // `(key, id) > ($key, $id)`: a row comparison that the tier's b-tree serves as a range.
        sql.sql(" AND (");
        push_sort_key(sql, tier, text.as_ref());
        sql.sql(", ")
            .sql(food_id_column(tier))
            .sql(") > (")
            .bind(Bind::Text(after.key.clone()))
            .sql(", ")
            .bind(Bind::Uuid(after.id.as_uuid()))
            .sql(")");
    }
    push_filters(sql, query);
    sql.sql(" ORDER BY sort_key, ")
        .sql(food_id_column(tier))
        .sql(" LIMIT ")
        .bind(Bind::BigInt(i64::from(query.limit)))
        .sql(")");
}

/// A run of tiers as one statement, best first: branch `i` holds the matches of `tiers[i]`.
fn tiers_statement(
    query: &TierQuery<'_>,
    tiers: &[SearchTier],
    resumes: bool,
) -> Statement<RankedSql> {
    let mut sql = if tiers.iter().copied().all(is_index_ordered) {
        Statement::prepared()
    } else {
        Statement::one_off()
    };
    sql.sql("SELECT * FROM (");
    for (branch, &tier) in tiers.iter().enumerate() {
        if branch > 0 {
            sql.sql(" UNION ALL ");
        }
        let after = query.after.filter(|_| resumes && branch == 0);
        push_branch(&mut sql, query, tier, branch, after);
    }
    // Append runs its branches in order and this limit stops it: later tiers are not read once the page is full.
    sql.sql(") AS found LIMIT ")
        .bind(Bind::BigInt(i64::from(query.limit)));
    sql.returning()
}

/// The statements of a search, in order, with the tiers each one covers: the index-ordered tiers together, then
/// each trigram tier on its own. Only the first resumes after the cursor.
fn statements<'t>(query: &TierQuery<'t>) -> Vec<(Statement<RankedSql>, &'t [SearchTier])> {
    let ordered = query
        .tiers
        .iter()
        .take_while(|tier| is_index_ordered(**tier))
        .count();
    let (indexed, trigram) = query.tiers.split_at(ordered);
    let runs = std::iter::once(indexed)
        .filter(|run| !run.is_empty())
        .chain(trigram.chunks(1));
    runs.enumerate()
        .map(|(i, run)| (tiers_statement(query, run, i == 0), run))
        .collect()
}

/// Runs a statement. The trigram tiers are planned with their values, in a transaction that scopes that setting
/// (and, for misspellings, their similarity threshold and time bound).
async fn load(
    conn: &mut AsyncPgConnection,
    statement: Statement<RankedSql>,
    tiers: &[SearchTier],
) -> QueryResult<Vec<RankedRow>> {
    if tiers.iter().copied().all(is_index_ordered) {
        return statement.load(conn).await;
    }
    let similar = tiers == [SearchTier::Similar];
    let found = conn
        .transaction(async |conn| {
            plan_with_values(conn, similar).await?;
            statement.load(conn).await
        })
        .await;
    match found {
        Err(error) if similar && is_timeout(&error) => {
            // Suggestions are a courtesy: past their time budget the page goes without them.
            tracing::warn!("misspelling search timed out; no suggestions");
            Ok(Vec::new())
        }
        other => other,
    }
}

/// Settings for the rest of the transaction: plans made with the statement's values and, for misspellings,
/// pg_trgm's threshold and a time bound.
async fn plan_with_values(conn: &mut AsyncPgConnection, similar: bool) -> QueryResult<()> {
    let mut sql = Statement::prepared();
    sql.sql("SELECT set_config('plan_cache_mode', 'force_custom_plan', true)");
    if similar {
        sql.sql(", set_config('pg_trgm.word_similarity_threshold', ")
            .bind(Bind::Text(WORD_SIMILARITY_THRESHOLD.to_owned()))
            .sql(", true), set_config('statement_timeout', ")
            .bind(Bind::Text(SIMILAR_TIMEOUT_MS.to_owned()))
            .sql(", true)");
    }
    sql.execute(conn).await.map(|_| ())
}

fn is_timeout(error: &DieselError) -> bool {
    matches!(error, DieselError::DatabaseError(_, info) if info.message().contains("statement timeout"))
}

/// Up to `query.limit` foods of `query.tiers`, best tier first, on one connection; later statements run only
/// while the page has room.
pub(crate) async fn search(
    conn: &mut AsyncPgConnection,
    query: &TierQuery<'_>,
) -> Result<Vec<(Food, SearchPosition)>, InfraError> {
    let wanted = usize::from(query.limit);
    let mut found: Vec<(Food, SearchPosition)> = Vec::with_capacity(wanted);
    for (statement, tiers) in statements(query) {
        if found.len() >= wanted {
            break;
        }
        let rows = load(conn, statement, tiers).await.map_err(PgError::from)?;
        for (branch, key, row) in rows.into_iter().take(wanted - found.len()) {
            let tier = usize::try_from(branch)
                .ok()
                .and_then(|branch| tiers.get(branch).copied())
                .ok_or_else(|| InfraError::Fault(format!("search branch {branch} unknown")))?;
            let food = row.into_food()?;
            let position = SearchPosition {
                tier,
                key,
                id: food.id,
            };
            found.push((food, position));
        }
    }
    Ok(found)
}

#[derive(QueryableByName)]
struct PlanLine {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    line: String,
}

/// The plan of the first statement of a search, as PostgreSQL makes it for a prepared statement: `generic`
/// without knowing the values (what a prepared statement settles on), otherwise with them.
pub(crate) async fn explain(
    conn: &mut AsyncPgConnection,
    query: &TierQuery<'_>,
    generic: bool,
) -> Result<Vec<String>, InfraError> {
    let Some((statement, tiers)) = statements(query).into_iter().next() else {
        return Ok(Vec::new());
    };
    let (text, values) = statement.with_literals();
    let mode = if generic {
        "force_generic_plan"
    } else {
        "force_custom_plan"
    };
    let explained = conn
        .transaction(async |conn| {
            if tiers == [SearchTier::Similar] {
                plan_with_values(conn, true).await?;
            }
            conn.batch_execute(&format!(
                "SET LOCAL plan_cache_mode = {mode}; PREPARE explained_search AS {text}"
            ))
            .await?;
            diesel::sql_query(format!(
                "EXPLAIN EXECUTE explained_search({})",
                values.join(", ")
            ))
            .load::<PlanLine>(conn)
            .await
        })
        .await;
    // Prepared statements outlive transactions, even failed ones: this one must not stay on a pooled connection.
    let deallocated = conn.batch_execute("DEALLOCATE explained_search").await;
    let lines = explained.map_err(PgError::from)?;
    deallocated.map_err(PgError::from)?;
    Ok(lines.into_iter().map(|l| l.line).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_successor_bounds_exactly_the_strings_with_the_prefix() {
        assert_eq!(successor("yog").as_deref(), Some("yoh"));
        assert_eq!(successor("a z").as_deref(), Some("a {"));
        assert_eq!(successor("caf\u{e9}").as_deref(), Some("caf\u{ea}"));
        // U+D7FF is followed by the surrogates, which are not characters.
        assert_eq!(successor("\u{d7ff}").as_deref(), Some("\u{e000}"));
        assert_eq!(successor("a\u{10ffff}").as_deref(), Some("b"));
        assert_eq!(successor("\u{10ffff}"), None);
        assert_eq!(successor(""), None);
    }
}
