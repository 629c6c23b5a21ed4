//! Catalog search on PostgreSQL.
//!
//! Search compares the application's normalised text (`search_name`, `search_brand`, `search_text` and the
//! word starts of `food_words`, all in the "C" collation) with the normalised query as is. In the "C" collation
//! "starts with q" is the range `[q, successor(q))`, which a b-tree serves in result order whether or not the
//! planner knows `q`; so the tiers up to word prefixes are branches of one prepared statement, each with its
//! own `LIMIT`, and PostgreSQL stops reading once the page is full: a page that the exact and prefix tiers fill
//! never touches the word-start index. Substrings go through the trigram index, whose best plan depends on how
//! common the text is: they are planned with their values, and only when the page still has room. Misspellings
//! are corrected word by word against the catalog's vocabulary (`search_words`, a trigram index over distinct
//! words rather than over every food), and the corrected query is then looked up like a query's prefixes. See
//! docs/catalog.md.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::sql_types::{Bool, Integer, SmallInt, Text, Timestamptz, Uuid as SqlUuid};
use diesel::{QueryResult, QueryableByName};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use diningcoach_catalog::{
    Food, FoodState, SearchPosition, SearchQuery, SearchTier, SuitabilityFilter, TRIGRAM_CHARS,
    TierQuery,
};
use diningcoach_dietary::{Basis, Nutrient};
use diningcoach_kernel::InfraError;
use uuid::Uuid;

use crate::PgError;
use crate::food_memo::{FoodMemo, food_state};
use crate::memo::Memo;
use crate::search_words::WORD_KEY_CHARS;
use crate::statement::{Bind, Statement};

/// How close (pg_trgm similarity) a catalog word must be to a query word to correct it: "choclate" is 0.58 from
/// "chocolate", "yoghurt" 0.5 from "yogurt", "milk" 0.43 from "mild".
const MIN_CLOSENESS: f64 = 0.4;

/// Candidate corrections weighed per query word, closest first.
const CORRECTION_CANDIDATES: i64 = 5;

/// Foods counted per index when weighing a word's use: enough to tell a common word from a rare one, few enough
/// to cost a short index range read.
const USE_COUNT_CAP: i64 = 100;

/// A query word used by fewer foods than this may be a misspelling; a more common one is taken as meant.
const RARE_WORD_USES: i64 = 20;

/// A food found by a search: the branch of the statement that found it, its sort key there, and the food's
/// state ([`RANKED_COLUMNS`]), by which [`FoodMemo`] finds the food.
type RankedRow = (i16, String, Uuid, i32, DateTime<Utc>, i32);
type RankedSql = (SmallInt, Text, SqlUuid, Integer, Timestamptz, Integer);

/// The columns of a [`FoodState`] in its order, from `foods AS f`.
const RANKED_COLUMNS: &str = "f.id, f.version, f.updated_at, f.analysis_version";

/// How a tier's matches are read (see the module's documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// b-tree ranges in result order: the tiers of a run share one prepared statement.
    Ordered,
    /// The trigram index, planned with the query's values.
    Trigram,
    /// b-tree ranges in result order over the corrected query, once the correction is known.
    Corrected,
}

fn access(tier: SearchTier) -> Access {
    match tier {
        SearchTier::Substring => Access::Trigram,
        SearchTier::CorrectedPrefix | SearchTier::CorrectedWordPrefix => Access::Corrected,
        SearchTier::All | SearchTier::Exact | SearchTier::NamePrefix | SearchTier::WordPrefix => {
            Access::Ordered
        }
    }
}

/// The runs of tiers that one statement each serves, in order.
fn runs(tiers: &[SearchTier]) -> impl Iterator<Item = &[SearchTier]> {
    tiers.chunk_by(|a, b| access(*a) == access(*b))
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
    word_key_chars: i64,
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
            word_key_chars: word_key.chars().count() as i64,
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
fn sort_key(tier: SearchTier) -> &'static str {
    match tier {
        _ if is_word_tier(tier) => "w.word",
        _ => "f.search_name",
    }
}

fn food_id_column(tier: SearchTier) -> &'static str {
    if is_word_tier(tier) {
        "w.food_id"
    } else {
        "f.id"
    }
}

/// The texts a search compares: the query and, for the corrected tiers, its correction.
struct Texts {
    query: QueryForms,
    correction: Option<QueryForms>,
}

/// What a tier matches, excluding the better tiers' matches.
fn push_matches(sql: &mut Statement, tier: SearchTier, texts: &Texts) {
    let query = &texts.query;
    let name_does_not_start_with = |sql: &mut Statement, text: &QueryForms| {
        sql.sql("NOT (");
        push_starts_with(sql, "f.search_name", &text.text, text.successor.as_deref());
        sql.sql(")");
    };
    let word_starts_with = |sql: &mut Statement, text: &QueryForms| {
        push_starts_with(
            sql,
            "w.word",
            &text.word_key,
            text.word_key_successor.as_deref(),
        );
        // Each food once, at its first word start that matches: the one whose previous word start, in key
        // order, does not also start with the key (migration 000013).
        sql.sql(" AND w.shared < ")
            .bind(Bind::BigInt(text.word_key_chars))
            .sql(" AND ");
        name_does_not_start_with(sql, text);
        if text.longer_than_word_keys {
            sql.sql(" AND f.search_text LIKE ")
                .bind(Bind::Text(text.later_word.clone()));
        }
    };
    match tier {
        SearchTier::All => {
            sql.sql("TRUE");
        }
        SearchTier::Exact => {
            sql.sql("f.search_name = ")
                .bind(Bind::Text(query.text.clone()));
        }
        SearchTier::NamePrefix => {
            push_starts_with(
                sql,
                "f.search_name",
                &query.text,
                query.successor.as_deref(),
            );
            sql.sql(" AND f.search_name <> ")
                .bind(Bind::Text(query.text.clone()));
        }
        SearchTier::WordPrefix => word_starts_with(sql, query),
        SearchTier::Substring => {
            sql.sql("f.search_text LIKE ")
                .bind(Bind::Text(query.contains.clone()))
                .sql(" AND f.search_text NOT LIKE ")
                .bind(Bind::Text(query.later_word.clone()))
                .sql(" AND ");
            name_does_not_start_with(sql, query);
        }
        SearchTier::CorrectedPrefix | SearchTier::CorrectedWordPrefix => {
            let Some(correction) = &texts.correction else {
                sql.sql("FALSE");
                return;
            };
            if tier == SearchTier::CorrectedPrefix {
                push_starts_with(
                    sql,
                    "f.search_name",
                    &correction.text,
                    correction.successor.as_deref(),
                );
            } else {
                word_starts_with(sql, correction);
            }
            // What contains the query itself was found by its own tiers.
            sql.sql(" AND f.search_text NOT LIKE ")
                .bind(Bind::Text(query.contains.clone()));
        }
    }
}

/// The request's filters: category, brand, and "only what I can eat".
fn push_filters(sql: &mut Statement, query: &TierQuery<'_>, tier: SearchTier, part: CategoryPart) {
    if let Some(category) = query.category {
        let category = || Bind::Text(category.to_owned());
        // A word start carries its food's categories, under the indexes that a category's word starts need.
        let (main, sub) = if is_word_tier(tier) {
            ("w.category_main", "w.category_sub")
        } else {
            ("f.category_main", "f.category_sub")
        };
        match part {
            CategoryPart::Either => sql
                .sql(format!(" AND ({main} = "))
                .bind(category())
                .sql(format!(" OR {sub} = "))
                .bind(category())
                .sql(")"),
            CategoryPart::Main => sql.sql(format!(" AND {main} = ")).bind(category()),
            CategoryPart::SubOnly => sql
                .sql(format!(" AND {sub} = "))
                .bind(category())
                .sql(format!(" AND {main} IS DISTINCT FROM "))
                .bind(category()),
        };
    }
    if let Some(brand) = query.brand {
        // The brand's foods are also the range of the brand-prefix index whose keys start with "<brand> ": a way in
        // for the planner when the brand has fewer foods than the text has matches (the brand's own foods, plus
        // those of longer brands starting with "<brand> ", which the equality leaves out).
        sql.sql(" AND f.search_brand = ")
            .bind(Bind::Text(brand.to_owned()))
            .sql(" AND (f.search_brand || ' ' || f.search_name) >= ")
            .bind(Bind::Text(format!("{brand} ")))
            .sql(" AND (f.search_brand || ' ' || f.search_name) < ")
            .bind(Bind::Text(format!("{brand}!")));
    }
    if let Some(filter) = query.suitable {
        push_suitability(sql, filter);
    }
}

/// The suitability filter as one clause, which PostgreSQL evaluates left to right: first the nutrient ceilings,
/// cheap arithmetic that most foods fail (only 6,636 of 23,658 yogurts for the demo user's saturated fat), then
/// the overlaps of the food's tags with the profile's. As separate clauses PostgreSQL orders them by estimated
/// cost, an array overlap counting as one operator, and compared every probed food's tags first: the overlaps'
/// text comparisons were 14 % of its CPU under `q=yogurt&suitable=true`.
///
/// A food without a ceiling's value (or without a serving size, for a per-serving limit) is not "ok" for the
/// limit: the comparison is NULL, and so is the conjunction unless another part is false; either way the
/// `coalesce` keeps the food out.
fn push_suitability(sql: &mut Statement, filter: &SuitabilityFilter) {
    let mut parts = 0;
    let mut and = |sql: &mut Statement| {
        sql.sql(if parts == 0 {
            " AND coalesce("
        } else {
            " AND "
        });
        parts += 1;
    };
    for ceiling in &filter.ceilings {
        and(sql);
        sql.sql(nutrient_column(ceiling.nutrient));
        if ceiling.per == Basis::Serving {
            sql.sql(" * f.serving_size_g / 100");
        }
        sql.sql(" <= ").bind(Bind::Double(ceiling.max));
    }
    if !filter.excluded_tags.is_empty() {
        and(sql);
        sql.sql("NOT (f.dietary_tags && ")
            .bind(Bind::Texts(filter.excluded_tags.clone()))
            .sql(")");
    }
    for group in &filter.required_tags {
        and(sql);
        sql.sql("f.dietary_tags && ")
            .bind(Bind::Texts(group.clone()));
    }
    if parts > 0 {
        sql.sql(", false)");
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

/// Whether a tier reads the word starts of `food_words`.
fn is_word_tier(tier: SearchTier) -> bool {
    matches!(
        tier,
        SearchTier::WordPrefix | SearchTier::CorrectedWordPrefix
    )
}

/// Whether a category's indexes serve a tier in its order: (category, name) of the foods for a range of names
/// in name order, (category, word) of the word starts for the word tiers.
fn has_category_order(tier: SearchTier) -> bool {
    is_word_tier(tier)
        || matches!(
            tier,
            SearchTier::All
                | SearchTier::Exact
                | SearchTier::NamePrefix
                | SearchTier::CorrectedPrefix
        )
}

/// Which foods of a category filter a `SELECT` keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CategoryPart {
    /// Those whose main or sub category is the filter's.
    Either,
    /// Those whose main category is.
    Main,
    /// Those whose sub category is, and not their main one.
    SubOnly,
}

/// One tier as a parenthesised `SELECT`: its matches and filters after the cursor, in its order, limited.
///
/// A tier with a category filter and the category's own order ([`has_category_order`]) is the merge of two
/// halves, the foods of the category as a main category and as a sub category, each a range of its own index
/// on (category, name) or (category, word): walking the name index and checking each food's category read
/// 66,000 foods to fill a page of "Dairies" at 700,000 foods (~0.35 s), since names cluster by category, and
/// walking the word starts of "chocolate" read all 58,000 of them to find no dairy.
fn push_branch(
    sql: &mut Statement,
    query: &TierQuery<'_>,
    tier: SearchTier,
    branch: usize,
    texts: Option<&Texts>,
    after: Option<&SearchPosition>,
) {
    if query.category.is_none() || !has_category_order(tier) {
        push_select(sql, query, tier, branch, texts, after, CategoryPart::Either);
        return;
    }
    sql.sql("(SELECT * FROM (");
    push_select(sql, query, tier, branch, texts, after, CategoryPart::Main);
    sql.sql(" UNION ALL ");
    push_select(
        sql,
        query,
        tier,
        branch,
        texts,
        after,
        CategoryPart::SubOnly,
    );
    sql.sql(") AS halves ORDER BY sort_key, id LIMIT ")
        .bind(Bind::BigInt(i64::from(query.limit)))
        .sql(")");
}

/// A `SELECT` of [`push_branch`], with the foods of `category` of the category filter.
fn push_select(
    sql: &mut Statement,
    query: &TierQuery<'_>,
    tier: SearchTier,
    branch: usize,
    texts: Option<&Texts>,
    after: Option<&SearchPosition>,
    category: CategoryPart,
) {
    sql.sql(format!("(SELECT {branch}::int2 AS branch, "))
        .sql(sort_key(tier))
        .sql(" AS sort_key, ")
        .sql(RANKED_COLUMNS);
    sql.sql(if is_word_tier(tier) {
        " FROM food_words AS w JOIN foods AS f ON f.id = w.food_id WHERE "
    } else {
        " FROM foods AS f WHERE "
    });
    match texts {
        Some(texts) => push_matches(sql, tier, texts),
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
        sql.sql(" AND (")
            .sql(sort_key(tier))
            .sql(", ")
            .sql(food_id_column(tier))
            .sql(") > (")
            .bind(Bind::Text(after.key.clone()))
            .sql(", ")
            .bind(Bind::Uuid(after.id.as_uuid()))
            .sql(")");
    }
    push_filters(sql, query, tier, category);
    // `f.id`, the selected column, rather than the equal `w.food_id` that the word starts' index is ordered by:
    // PostgreSQL knows them equal and still reads that index in order, and a branch ordered by a column it does
    // not select gets a Subquery Scan over its Limit, a node of ~40 columns to build at every execution.
    sql.sql(" ORDER BY sort_key, f.id LIMIT ")
        .bind(Bind::BigInt(i64::from(query.limit)))
        .sql(")");
}

/// A run of tiers as one statement, best first: branch `i` holds the matches of `tiers[i]`. `correction` is
/// the corrected query, for the corrected tiers.
fn tiers_statement(
    query: &TierQuery<'_>,
    tiers: &[SearchTier],
    resumes: bool,
    correction: Option<&SearchQuery>,
) -> Statement<RankedSql> {
    let mut sql = if planned_with_values(query, tiers) {
        Statement::one_off()
    } else {
        Statement::prepared()
    };
    let texts = query.query.map(|text| Texts {
        query: QueryForms::of(text),
        correction: correction.map(QueryForms::of),
    });
    sql.sql("SELECT * FROM (");
    for (branch, &tier) in tiers.iter().enumerate() {
        if branch > 0 {
            sql.sql(" UNION ALL ");
        }
        let after = query.after.filter(|_| resumes && branch == 0);
        push_branch(&mut sql, query, tier, branch, texts.as_ref(), after);
    }
    // Append runs its branches in order and this limit stops it: later tiers are not read once the page is full.
    sql.sql(") AS found LIMIT ")
        .bind(Bind::BigInt(i64::from(query.limit)));
    sql.returning()
}

/// The query with its unknown or rare words corrected. A word of three characters or more that fewer than
/// [`RARE_WORD_USES`] foods use (counting names that start with it and word starts, up to [`USE_COUNT_CAP`] in
/// each index) is replaced by the closest catalog word (pg_trgm similarity at least [`MIN_CLOSENESS`]) that more
/// foods use and that does not contain it (the substring tier found those). So a common word ("milk", never
/// "mild"; "greek", never "green") is never corrected, and a word that no food uses any more is never offered.
fn correction_statement(query: &SearchQuery) -> Statement<Text> {
    let words: Vec<String> = query.as_str().split(' ').map(str::to_owned).collect();
    // `word || U+10FFFF` bounds the strings that start with `word` (in the "C" collation) closely enough for
    // counting.
    let uses = |word: &str| {
        format!(
            "((SELECT count(*) FROM (SELECT 1 FROM foods AS f \
               WHERE f.search_name >= {word} AND f.search_name < {word} || chr(1114111) \
               LIMIT {USE_COUNT_CAP}) AS n) \
             + (SELECT count(*) FROM (SELECT 1 FROM food_words AS w \
               WHERE w.word >= {word} AND w.word < {word} || chr(1114111) \
               LIMIT {USE_COUNT_CAP}) AS n))"
        )
    };
    let mut sql = Statement::prepared();
    sql.sql(format!(
        "SELECT coalesce(c.word, q.word) FROM (SELECT u.word, u.i, {} AS uses FROM unnest(",
        uses("u.word")
    ))
    .bind(Bind::Texts(words))
    .sql(format!(
        "::text[]) WITH ORDINALITY AS u(word, i)) AS q \
         LEFT JOIN LATERAL (\
           SELECT v.word FROM (\
             SELECT s.word, similarity(s.word, q.word) AS closeness FROM search_words AS s \
             WHERE s.word % q.word AND similarity(s.word, q.word) >= {MIN_CLOSENESS} \
               AND strpos(s.word, q.word) = 0 \
             ORDER BY closeness DESC, s.word LIMIT {CORRECTION_CANDIDATES}\
           ) AS v \
           WHERE {} > q.uses \
           ORDER BY v.closeness DESC, v.word LIMIT 1\
         ) AS c ON length(q.word) >= {TRIGRAM_CHARS} AND q.uses < {RARE_WORD_USES} \
         ORDER BY q.i",
        uses("v.word"),
    ));
    sql.returning()
}

/// What the catalog's vocabulary says of queries, as it said it a moment ago. Every search that reaches the
/// substring or corrected tiers asks it the same questions of the same text, and the answers change only when
/// foods bring new words or the last use of one goes; a misspelling's two questions were half of what its search
/// cost PostgreSQL. So an answer is kept for [`VOCABULARY_TTL`]: a word that an import brings is found inside
/// other words, and offered as a correction, at most that long after the import.
pub(crate) struct Vocabulary {
    containable: Memo<SearchQuery, bool>,
    corrections: Memo<SearchQuery, Option<SearchQuery>>,
}

/// How long an answer of the [`Vocabulary`] is kept.
const VOCABULARY_TTL: Duration = Duration::from_secs(60);

/// How many answers of each kind are kept (a query is at most a few hundred bytes).
const VOCABULARY_ANSWERS: usize = 10_000;

impl Default for Vocabulary {
    fn default() -> Self {
        Self {
            containable: Memo::new(VOCABULARY_TTL, VOCABULARY_ANSWERS),
            corrections: Memo::new(VOCABULARY_TTL, VOCABULARY_ANSWERS),
        }
    }
}

impl Vocabulary {
    /// Whether the substring tier may find foods: each word of the query (of three characters or more) is
    /// inside a word of the vocabulary, and its first word inside one after that word's first character (the
    /// substring tier's foods hold the query inside a word, not at its start). When not, the trigram look-up over
    /// the foods (whose planning alone takes ~2 ms, and which reads every food of a common word within a small
    /// category) is skipped: the usual case for a misspelling, and for a whole word.
    async fn may_contain(
        &self,
        conn: &mut AsyncPgConnection,
        query: &SearchQuery,
    ) -> QueryResult<bool> {
        let mut patterns = query.word_patterns();
        patterns.extend(query.inner_word_pattern());
        if patterns.is_empty() {
            return Ok(true);
        }
        if let Some(answer) = self.containable.get(query) {
            return Ok(answer);
        }
        let mut sql = Statement::prepared();
        sql.sql("SELECT NOT EXISTS (SELECT 1 FROM unnest(")
            .bind(Bind::Texts(patterns))
            .sql(
                "::text[]) AS q(pattern) \
                 WHERE NOT EXISTS (SELECT 1 FROM search_words AS s WHERE s.word LIKE q.pattern))",
            );
        let answer = sql.returning::<Bool>().get_result(conn).await?;
        self.containable.put(query.clone(), answer);
        Ok(answer)
    }

    /// Whether the query is remembered to be inside no word of the vocabulary.
    fn remembers_nothing_inside(&self, query: &SearchQuery) -> bool {
        self.containable.get(query) == Some(false)
    }

    /// Whether the query is remembered to need a correction, and which.
    fn remembers_a_correction(&self, query: &SearchQuery) -> bool {
        self.corrections
            .get(query)
            .is_some_and(|answer| answer.is_some())
    }

    /// The query corrected by [`correction_statement`]; `None` when no word of it needs correcting.
    async fn correct(
        &self,
        conn: &mut AsyncPgConnection,
        query: &SearchQuery,
    ) -> QueryResult<Option<SearchQuery>> {
        if let Some(answer) = self.corrections.get(query) {
            return Ok(answer);
        }
        let words: Vec<String> = correction_statement(query).load(conn).await?;
        let answer = SearchQuery::parse(&words.join(" "))
            .ok()
            .filter(|corrected| corrected != query);
        self.corrections.put(query.clone(), answer.clone());
        Ok(answer)
    }
}

/// The runs of tiers that one statement each serves, as far as the vocabulary's remembered answers allow. A
/// misspelling whose words are known to be inside no catalog word (so the substring tier has nothing to find)
/// and whose correction is known has its corrected tiers read by the statement of the tiers before them, as
/// further branches that PostgreSQL reads only while the page has room: one statement instead of two.
fn statement_runs(vocabulary: &Vocabulary, query: &TierQuery<'_>) -> Vec<Vec<SearchTier>> {
    let mut planned: Vec<Vec<SearchTier>> = Vec::new();
    for run in runs(query.tiers) {
        let joins_previous = match (run.first().copied().map(access), query.query) {
            (Some(Access::Trigram), Some(text)) if vocabulary.remembers_nothing_inside(text) => {
                continue;
            }
            (Some(Access::Corrected), Some(text)) => {
                vocabulary.remembers_a_correction(text)
                    && planned
                        .last()
                        .is_some_and(|last| last.iter().all(|t| access(*t) == Access::Ordered))
            }
            _ => false,
        };
        match planned.last_mut() {
            Some(last) if joins_previous => last.extend_from_slice(run),
            _ => planned.push(run.to_vec()),
        }
    }
    planned
}

/// The statement of a run of tiers, resuming after the cursor when it is the search's first; `None` for a run
/// of corrected tiers only, of a query that needs no correcting.
async fn run_statement(
    conn: &mut AsyncPgConnection,
    vocabulary: &Vocabulary,
    query: &TierQuery<'_>,
    tiers: &[SearchTier],
    first: bool,
) -> QueryResult<Option<Statement<RankedSql>>> {
    let corrected = tiers
        .iter()
        .filter(|t| access(**t) == Access::Corrected)
        .count();
    let correction = match query.query {
        Some(text) if corrected > 0 => vocabulary.correct(conn, text).await?,
        _ => None,
    };
    // (In a run with other tiers, corrected tiers without a correction match nothing.)
    if corrected == tiers.len() && correction.is_none() {
        return Ok(None);
    }
    Ok(Some(tiers_statement(
        query,
        tiers,
        first,
        correction.as_ref(),
    )))
}

/// Runs a statement; one [`planned_with_values`] is, in a transaction that scopes that setting.
async fn load(
    conn: &mut AsyncPgConnection,
    statement: Statement<RankedSql>,
    query: &TierQuery<'_>,
    tiers: &[SearchTier],
) -> QueryResult<Vec<RankedRow>> {
    if !planned_with_values(query, tiers) {
        return statement.load(conn).await;
    }
    conn.transaction(async |conn| {
        conn.batch_execute(&plan_settings(query, tiers)).await?;
        statement.load(conn).await
    })
    .await
}

/// Whether a run of tiers is planned with its values rather than kept prepared. The trigram tier's best plan
/// depends on how common its text is; a brand or category filter's on how many foods the brand or category
/// has: a small one is read whole and sorted, where walking the text's matches would read them all when none
/// is in it (`q=chocolate&brand=<a small brand>`: ~1 s at 700,000 foods, 4 ms so). Tiers with a category's own
/// order have their own indexes, whatever the category (planning them at every request cost PostgreSQL more than
/// running them).
fn planned_with_values(query: &TierQuery<'_>, tiers: &[SearchTier]) -> bool {
    query.brand.is_some()
        || (query.category.is_some() && !tiers.iter().copied().all(has_category_order))
        || tiers.iter().any(|tier| access(*tier) == Access::Trigram)
}

/// The settings of a transaction that runs a statement [`planned_with_values`].
///
/// A category or brand filter that excludes nearly every match of a substring leaves the planner expecting
/// thousands of matches, so it walks the name index in result order, checking each food, and reads the whole
/// catalog when none passes (`q=chocolate&category=Dairies`: 3–13 s at 700,000 foods). Bitmaps of the trigram
/// index and of the filter's index, intersected, read only the foods that pass both (~30 ms), at the price of a
/// sort; so a filtered substring tier is planned without plain index scans.
fn plan_settings(query: &TierQuery<'_>, tiers: &[SearchTier]) -> String {
    let mut settings = plan_mode(false).to_owned();
    let filtered = query.category.is_some() || query.brand.is_some();
    if filtered && tiers.iter().any(|tier| access(*tier) == Access::Trigram) {
        settings.push_str("; SET LOCAL enable_indexscan = off");
    }
    settings
}

/// Up to `query.limit` foods of `query.tiers`, best tier first, on one connection; later statements run only
/// while the page has room.
pub(crate) async fn search(
    conn: &mut AsyncPgConnection,
    vocabulary: &Vocabulary,
    memo: &FoodMemo,
    query: &TierQuery<'_>,
) -> Result<Vec<(Food, SearchPosition)>, InfraError> {
    let wanted = usize::from(query.limit);
    let mut found: Vec<(FoodState, SearchPosition)> = Vec::with_capacity(wanted);
    for (i, tiers) in statement_runs(vocabulary, query)
        .iter()
        .map(Vec::as_slice)
        .enumerate()
    {
        if found.len() >= wanted {
            break;
        }
        if let (Some(Access::Trigram), Some(text)) =
            (tiers.first().copied().map(access), query.query)
            && !vocabulary
                .may_contain(conn, text)
                .await
                .map_err(PgError::from)?
        {
            continue;
        }
        let Some(statement) = run_statement(conn, vocabulary, query, tiers, i == 0)
            .await
            .map_err(PgError::from)?
        else {
            continue;
        };
        let rows = load(conn, statement, query, tiers)
            .await
            .map_err(PgError::from)?;
        for (branch, key, id, version, updated_at, analysis_version) in
            rows.into_iter().take(wanted - found.len())
        {
            let tier = usize::try_from(branch)
                .ok()
                .and_then(|branch| tiers.get(branch).copied())
                .ok_or_else(|| InfraError::Fault(format!("search branch {branch} unknown")))?;
            let state = food_state(id, version, updated_at, analysis_version);
            let position = SearchPosition {
                tier,
                key,
                id: state.id,
            };
            found.push((state, position));
        }
    }
    let states: Vec<FoodState> = found.iter().map(|(state, _)| *state).collect();
    let foods = memo.foods(conn, &states).await?;
    // A food deleted between the two statements is left out of the page.
    Ok(foods
        .into_iter()
        .zip(found)
        .filter_map(|(food, (_, position))| Some((food?, position)))
        .collect())
}

#[derive(QueryableByName)]
struct PlanLine {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    line: String,
}

/// The plans of the statements of the first run of a search's tiers, one line per node (for the corrected tiers:
/// the correction look-up, then the corrected search), as PostgreSQL makes them for a prepared statement: `generic` without knowing the
/// values (what a prepared statement settles on), otherwise with them. The trigram tier is always planned with
/// its values, as it runs.
pub(crate) async fn explain(
    conn: &mut AsyncPgConnection,
    vocabulary: &Vocabulary,
    query: &TierQuery<'_>,
    generic: bool,
) -> Result<Vec<Vec<String>>, InfraError> {
    let Some(tiers) = runs(query.tiers).next() else {
        return Ok(Vec::new());
    };
    let mut plans = Vec::new();
    if let (Some(Access::Corrected), Some(text)) = (tiers.first().copied().map(access), query.query)
    {
        plans.push(explain_statement(conn, &correction_statement(text), plan_mode(generic)).await?);
    }
    let statement = run_statement(conn, vocabulary, query, tiers, true)
        .await
        .map_err(PgError::from)?;
    if let Some(statement) = statement {
        let settings = if generic && !planned_with_values(query, tiers) {
            plan_mode(true).to_owned()
        } else {
            plan_settings(query, tiers)
        };
        plans.push(explain_statement(conn, &statement, &settings).await?);
    }
    Ok(plans)
}

fn plan_mode(generic: bool) -> &'static str {
    if generic {
        "SET LOCAL plan_cache_mode = force_generic_plan"
    } else {
        "SET LOCAL plan_cache_mode = force_custom_plan"
    }
}

async fn explain_statement<Row>(
    conn: &mut AsyncPgConnection,
    statement: &Statement<Row>,
    settings: &str,
) -> Result<Vec<String>, InfraError> {
    let (text, values) = statement.with_literals();
    let explained = conn
        .transaction(async |conn| {
            conn.batch_execute(&format!("{settings}; PREPARE explained_search AS {text}"))
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
