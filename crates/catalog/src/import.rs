//! Import parsing: files of foods read row by row into [`FoodDraft`]s, with constant memory whatever the size.
//!
//! Two formats (see `docs/catalog.md`): the Open Food Facts export ([`ImportFormat::OpenFoodFacts`],
//! tab-separated, grams per 100 g) and our own CSV ([`ImportFormat::DiningCoachCsv`], the units of our field
//! names). Columns are found by header name and may come in any order. A bad row is an `Err(RowError)` with its
//! line and reason and the reader goes on with the next one: one broken product never stops an import of
//! millions. Only an unreadable header, or the input itself failing (an I/O error), ends the reading.
//!
//! The import service drives it: for each item, count it in an [`ImportReport`], collect good drafts in an
//! [`ImportBatch`] (which keeps the later of two rows with one barcode, as a multi-row upsert requires), and
//! write full batches.

use std::collections::HashMap;
use std::collections::HashSet;
use std::fmt;
use std::io::Read;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::CatalogError;
use crate::food::{FoodDraft, FoodFields, FoodKind, FoodSource, NutrientsPer100g};
use crate::gtin::Gtin;

/// The formats an import file can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportFormat {
    /// The Open Food Facts CSV export (`en.openfoodfacts.org.products.csv`): tab-separated, unquoted.
    #[serde(rename = "off")]
    OpenFoodFacts,
    /// Our own CSV: comma-separated, RFC 4180 quoting, a header naming our columns.
    #[serde(rename = "csv")]
    DiningCoachCsv,
}

impl ImportFormat {
    /// The name used by the CLI's `--format` and the admin API: `off` or `csv`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OpenFoodFacts => "off",
            Self::DiningCoachCsv => "csv",
        }
    }
}

impl FromStr for ImportFormat {
    type Err = CatalogError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "off" => Ok(Self::OpenFoodFacts),
            "csv" => Ok(Self::DiningCoachCsv),
            _ => Err(CatalogError::Invalid {
                field: "format".to_owned(),
                message: "must be `off` or `csv`".to_owned(),
            }),
        }
    }
}

impl fmt::Display for ImportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A row that could not become a food: where it is and why, for the import report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct RowError {
    /// 1-based line of the file where the row starts (the header is line 1).
    pub line: u64,
    pub reason: RowProblem,
}

/// Why a row was skipped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum RowProblem {
    /// A number column holds something that is not a number.
    #[error("column `{column}`: `{value}` is not a number")]
    MalformedNumber { column: String, value: String },
    /// The food failed validation: no name, a bad barcode, a negative or impossible nutrient...
    #[error("{}", errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    InvalidFood {
        errors: Vec<crate::error::FieldError>,
    },
    /// A value of a closed list (`kind`) that is not in it.
    #[error("column `{column}`: {message}")]
    InvalidValue { column: String, message: String },
    /// The row has another number of fields than the header.
    #[error("{found} fields where the header has {expected}")]
    FieldCount { expected: usize, found: usize },
    /// A field is not UTF-8.
    #[error("column `{column}` is not valid UTF-8")]
    NotUtf8 { column: String },
    /// The row is not valid CSV (e.g. an unterminated quote).
    #[error("not a valid row: {message}")]
    Malformed { message: String },
    /// Reading the input failed: nothing after this row can be read, the reader stops.
    #[error("the file could not be read further: {message}")]
    Unreadable { message: String },
}

impl RowError {
    /// Whether the reader stopped here (the input failed). The import must then end as failed, not as done.
    #[must_use]
    pub fn is_fatal(&self) -> bool {
        matches!(self.reason, RowProblem::Unreadable { .. })
    }
}

/// Values longer than this in a single field are cut in error messages.
const MAX_ECHOED_CHARS: usize = 40;

fn echo(value: &str) -> String {
    value.chars().take(MAX_ECHOED_CHARS).collect()
}

/// Reads foods from `input`, one row at a time. No need for a [`std::io::BufReader`]: the reader
/// buffers itself (64 KiB).
///
/// # Errors
/// [`CatalogError::UnreadableImport`] when the header cannot be read or lacks a required column (`product_name`
/// for OFF, `name` for our CSV), or when our CSV has a column we do not know (a typo would silently drop data).
pub fn read_foods<R: Read>(input: R, format: ImportFormat) -> Result<FoodRows<R>, CatalogError> {
    let mut builder = csv::ReaderBuilder::new();
    builder
        .has_headers(true)
        .flexible(true)
        .buffer_capacity(64 * 1024);
    match format {
        // OFF's export is tab-separated and unquoted: names contain `"` that are not quotes.
        ImportFormat::OpenFoodFacts => builder.delimiter(b'\t').quoting(false),
        ImportFormat::DiningCoachCsv => builder.delimiter(b','),
    };
    let mut reader = builder.from_reader(input);
    let header = reader
        .byte_headers()
        .map_err(|error| CatalogError::UnreadableImport(format!("the header: {error}")))?
        .clone();
    let names: Vec<String> = header
        .iter()
        .map(|name| {
            String::from_utf8_lossy(name)
                .trim()
                .trim_start_matches('\u{feff}')
                .to_owned()
        })
        .collect();
    let columns = match format {
        ImportFormat::OpenFoodFacts => Columns::off(&names)?,
        ImportFormat::DiningCoachCsv => Columns::ours(&names)?,
    };
    Ok(FoodRows {
        reader,
        record: csv::ByteRecord::new(),
        columns,
        format,
        header_len: names.len(),
        done: false,
    })
}

/// The rows of an import file as foods: an iterator of `Result<FoodDraft, RowError>`, with one reused record
/// buffer, so memory does not grow with the file.
pub struct FoodRows<R> {
    reader: csv::Reader<R>,
    record: csv::ByteRecord,
    columns: Columns,
    format: ImportFormat,
    header_len: usize,
    done: bool,
}

impl<R: Read> Iterator for FoodRows<R> {
    type Item = Result<FoodDraft, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        loop {
            let line_before = self.reader.position().line();
            match self.reader.read_byte_record(&mut self.record) {
                Ok(false) => {
                    self.done = true;
                    return None;
                }
                Ok(true) => {
                    // Blank lines are not rows.
                    if self.record.len() == 1 && self.record.get(0).is_some_and(<[u8]>::is_empty) {
                        continue;
                    }
                    let line = self
                        .record
                        .position()
                        .map_or(line_before, csv::Position::line);
                    return Some(self.food().map_err(|reason| RowError { line, reason }));
                }
                Err(error) => {
                    let line = error.position().map_or(line_before, csv::Position::line);
                    let reason = if let csv::ErrorKind::Io(io) = error.kind() {
                        self.done = true;
                        RowProblem::Unreadable {
                            message: io.to_string(),
                        }
                    } else {
                        RowProblem::Malformed {
                            message: error.to_string(),
                        }
                    };
                    return Some(Err(RowError { line, reason }));
                }
            }
        }
    }
}

impl<R: Read> FoodRows<R> {
    fn food(&self) -> Result<FoodDraft, RowProblem> {
        if self.record.len() != self.header_len {
            return Err(RowProblem::FieldCount {
                expected: self.header_len,
                found: self.record.len(),
            });
        }
        let row = Row {
            record: &self.record,
            columns: &self.columns,
        };
        let fields = match self.format {
            ImportFormat::OpenFoodFacts => off_fields(&row)?,
            ImportFormat::DiningCoachCsv => our_fields(&row)?,
        };
        FoodDraft::new(fields, FoodSource::Import).map_err(|error| match error {
            CatalogError::InvalidFood { errors } => RowProblem::InvalidFood { errors },
            other => RowProblem::InvalidValue {
                column: String::new(),
                message: other.to_string(),
            },
        })
    }
}

/// Column positions by name.
struct Columns {
    index: HashMap<String, usize>,
}

/// Columns of our CSV format, in the order `docs/catalog.md` lists them (after the nutrients' own).
pub const OUR_TEXT_COLUMNS: &[&str] = &[
    "food_code",
    "barcode",
    "name",
    "brand",
    "country",
    "category_main",
    "category_sub",
    "kind",
    "serving_size_g",
    "ingredients_text",
    "allergens",
    "traces",
    "labels",
    "storage_notes",
];

impl Columns {
    fn new(names: &[String]) -> Self {
        let mut index = HashMap::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            // The first of two same-named columns wins, as a person reading the file would assume.
            index.entry(name.clone()).or_insert(i);
        }
        Self { index }
    }

    fn off(names: &[String]) -> Result<Self, CatalogError> {
        let columns = Self::new(names);
        if !columns.index.contains_key("product_name") {
            return Err(CatalogError::UnreadableImport(
                "no `product_name` column: is this an Open Food Facts export (tab-separated)?"
                    .to_owned(),
            ));
        }
        Ok(columns)
    }

    fn ours(names: &[String]) -> Result<Self, CatalogError> {
        let unknown: Vec<&str> = names
            .iter()
            .map(String::as_str)
            .filter(|name| {
                !OUR_TEXT_COLUMNS.contains(name) && !NutrientsPer100g::FIELDS.contains(name)
            })
            .collect();
        if !unknown.is_empty() {
            return Err(CatalogError::UnreadableImport(format!(
                "unknown columns: {} (see docs/catalog.md)",
                unknown
                    .iter()
                    .map(|n| format!("`{}`", echo(n)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let columns = Self::new(names);
        if !columns.index.contains_key("name") {
            return Err(CatalogError::UnreadableImport(
                "no `name` column (is the file comma-separated with a header?)".to_owned(),
            ));
        }
        Ok(columns)
    }
}

/// One record seen through the header.
struct Row<'a> {
    record: &'a csv::ByteRecord,
    columns: &'a Columns,
}

impl Row<'_> {
    /// The trimmed text of a column; `None` when the column is absent or the cell blank.
    fn text(&self, column: &str) -> Result<Option<&str>, RowProblem> {
        let Some(bytes) = self
            .columns
            .index
            .get(column)
            .and_then(|&i| self.record.get(i))
        else {
            return Ok(None);
        };
        let text = std::str::from_utf8(bytes).map_err(|_| RowProblem::NotUtf8 {
            column: column.to_owned(),
        })?;
        let text = text.trim();
        Ok((!text.is_empty()).then_some(text))
    }

    fn owned(&self, column: &str) -> Result<Option<String>, RowProblem> {
        Ok(self.text(column)?.map(str::to_owned))
    }

    /// A number column; blank is unknown. Sign checks are the validator's: a negative value reads, then fails
    /// validation with the field's name.
    fn number(&self, column: &str) -> Result<Option<f64>, RowProblem> {
        let Some(text) = self.text(column)? else {
            return Ok(None);
        };
        match text.parse::<f64>() {
            Ok(value) if value.is_finite() => Ok(Some(value)),
            _ => Err(RowProblem::MalformedNumber {
                column: column.to_owned(),
                value: echo(text),
            }),
        }
    }

    /// A list column: comma- or semicolon-separated.
    fn list(&self, column: &str) -> Result<Vec<String>, RowProblem> {
        Ok(self
            .text(column)?
            .map(|text| {
                text.split([',', ';'])
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default())
    }
}

/// Grams of salt per gram of sodium (EU Regulation 1169/2011, Annex XIV).
pub const SALT_PER_SODIUM: f64 = 2.5;
/// Kilojoules per kilocalorie.
const KJ_PER_KCAL: f64 = 4.184;

/// OFF nutrient columns: (OFF column, our field, factor from OFF's unit to ours). OFF gives every amount per
/// 100 g in grams (alcohol in % vol, energy in kcal).
const OFF_NUTRIENTS: &[(&str, &str, f64)] = &[
    ("energy-kcal_100g", "energy_kcal", 1.0),
    ("proteins_100g", "protein_g", 1.0),
    ("fat_100g", "fat_g", 1.0),
    ("saturated-fat_100g", "saturated_fat_g", 1.0),
    ("trans-fat_100g", "trans_fat_g", 1.0),
    ("cholesterol_100g", "cholesterol_mg", 1_000.0),
    ("carbohydrates_100g", "carbohydrates_g", 1.0),
    ("sugars_100g", "sugars_g", 1.0),
    ("starch_100g", "starch_g", 1.0),
    ("fiber_100g", "fiber_g", 1.0),
    ("sodium_100g", "sodium_mg", 1_000.0),
    ("potassium_100g", "potassium_mg", 1_000.0),
    ("phosphorus_100g", "phosphorus_mg", 1_000.0),
    ("iodine_100g", "iodine_ug", 1_000_000.0),
    ("caffeine_100g", "caffeine_mg", 1_000.0),
    ("alcohol_100g", "alcohol_percent_vol", 1.0),
];

/// The first entry of an OFF comma-separated list (`brands`, `countries_en`).
fn first_of_list(text: Option<&str>) -> Option<String> {
    text.and_then(|t| t.split(',').map(str::trim).find(|s| !s.is_empty()))
        .map(str::to_owned)
}

fn off_fields(row: &Row<'_>) -> Result<FoodFields, RowProblem> {
    let mut nutrients = NutrientsPer100g::default();
    for &(column, field, factor) in OFF_NUTRIENTS {
        // Products and rounding make e.g. 0.0000001 g; scaling keeps them small, not negative.
        nutrients.set(field, row.number(column)?.map(|v| v * factor));
    }
    if nutrients.energy_kcal.is_none() {
        nutrients.energy_kcal = row.number("energy-kj_100g")?.map(|kj| kj / KJ_PER_KCAL);
    }
    if nutrients.sodium_mg.is_none() {
        nutrients.sodium_mg = row
            .number("salt_100g")?
            .map(|salt_g| salt_g / SALT_PER_SODIUM * 1_000.0);
    }
    // OFF's categories go from general to specific: the first is the main one, the last the most specific.
    let (category_main, category_sub) = match row.text("categories_en")? {
        Some(list) => {
            let mut levels = list.split(',').map(str::trim).filter(|s| !s.is_empty());
            let main = levels.next().map(str::to_owned);
            let sub = levels.next_back().map(str::to_owned);
            (main, sub)
        }
        None => (None, None),
    };
    let code = row.text("code")?;
    Ok(FoodFields {
        // The barcode is the product's identity in OFF; a non-GTIN code fails as a bad barcode.
        food_code: code.map(|c| format!("off:{}", echo(c))),
        barcode: code.map(str::to_owned),
        name: row.owned("product_name")?.unwrap_or_default(),
        brand: first_of_list(row.text("brands")?),
        // OFF's closest column to a country of origin: where the product is sold; the first one.
        country: first_of_list(row.text("countries_en")?),
        category_main,
        category_sub,
        kind: Some(FoodKind::Processed),
        // OFF writes 0 when it could not read the serving size: that is unknown, not a zero-gram serving.
        serving_size_g: row.number("serving_quantity")?.filter(|g| *g != 0.0),
        ingredients_text: row.owned("ingredients_text")?,
        allergens: row.list("allergens_tags")?,
        traces: row.list("traces_tags")?,
        labels: row.list("labels_tags")?,
        storage_notes: None,
        nutrients,
    })
}

fn our_fields(row: &Row<'_>) -> Result<FoodFields, RowProblem> {
    let mut nutrients = NutrientsPer100g::default();
    for field in NutrientsPer100g::FIELDS {
        nutrients.set(field, row.number(field)?);
    }
    let kind = row
        .text("kind")?
        .map(FoodKind::from_str)
        .transpose()
        .map_err(|error| RowProblem::InvalidValue {
            column: "kind".to_owned(),
            message: error.to_string(),
        })?;
    Ok(FoodFields {
        food_code: row.owned("food_code")?,
        barcode: row.owned("barcode")?,
        name: row.owned("name")?.unwrap_or_default(),
        brand: row.owned("brand")?,
        country: row.owned("country")?,
        category_main: row.owned("category_main")?,
        category_sub: row.owned("category_sub")?,
        kind,
        serving_size_g: row.number("serving_size_g")?,
        ingredients_text: row.owned("ingredients_text")?,
        allergens: row.list("allergens")?,
        traces: row.list("traces")?,
        labels: row.list("labels")?,
        storage_notes: row.owned("storage_notes")?,
        nutrients,
    })
}

/// Writes foods in our CSV format (the header, then one row each): for exports, and for making import files
/// of any size from the generator.
///
/// # Errors
/// The writer's I/O errors.
pub fn write_foods_csv<W: std::io::Write>(
    output: W,
    foods: impl IntoIterator<Item = FoodDraft>,
) -> Result<(), csv::Error> {
    let mut writer = csv::Writer::from_writer(output);
    let header: Vec<&str> = OUR_TEXT_COLUMNS
        .iter()
        .chain(NutrientsPer100g::FIELDS)
        .copied()
        .collect();
    writer.write_record(&header)?;
    let mut cells: Vec<String> = Vec::with_capacity(header.len());
    for food in foods {
        cells.clear();
        let opt = |v: Option<&str>| v.unwrap_or_default().to_owned();
        let num = |v: Option<f64>| v.map(|n| n.to_string()).unwrap_or_default();
        cells.push(opt(food.code().map(crate::food::FoodCode::as_str)));
        cells.push(
            food.gtin()
                .map(|g| g.as_str().to_owned())
                .unwrap_or_default(),
        );
        cells.push(food.name().to_owned());
        cells.push(opt(food.brand()));
        cells.push(opt(food.country()));
        cells.push(opt(food.category().map(crate::food::Category::main)));
        cells.push(opt(food.category().and_then(crate::food::Category::sub)));
        cells.push(food.kind().as_str().to_owned());
        cells.push(num(food.serving_size_g()));
        cells.push(opt(food.ingredients_text()));
        cells.push(food.allergens().join(";"));
        cells.push(food.traces().join(";"));
        cells.push(food.labels().join(";"));
        cells.push(opt(food.storage_notes()));
        for field in NutrientsPer100g::FIELDS {
            cells.push(num(food.nutrients().get(field).flatten()));
        }
        writer.write_record(&cells)?;
    }
    writer.flush()?;
    Ok(())
}

/// Writes foods as an Open Food Facts export (the columns [`read_foods`] reads, tab-separated, unquoted, OFF's
/// units): to make OFF-format files of any size from the generator for the import benchmark. Tabs and line
/// breaks inside text become spaces, as in OFF's own export. Foods without a barcode get an empty `code`.
///
/// # Errors
/// The writer's I/O errors.
pub fn write_foods_off<W: std::io::Write>(
    output: W,
    foods: impl IntoIterator<Item = FoodDraft>,
) -> Result<(), csv::Error> {
    let mut writer = csv::WriterBuilder::new()
        .delimiter(b'\t')
        .quote_style(csv::QuoteStyle::Never)
        .from_writer(output);
    let mut header = vec![
        "code",
        "product_name",
        "brands",
        "categories_en",
        "countries_en",
        "ingredients_text",
        "allergens_tags",
        "traces_tags",
        "labels_tags",
        "serving_quantity",
    ];
    header.extend(OFF_NUTRIENTS.iter().map(|(column, _, _)| *column));
    writer.write_record(&header)?;
    let clean = |text: Option<&str>| -> String {
        text.unwrap_or_default()
            .chars()
            .map(|c| {
                if c == '\t' || c == '\n' || c == '\r' {
                    ' '
                } else {
                    c
                }
            })
            .collect()
    };
    let mut cells: Vec<String> = Vec::with_capacity(header.len());
    for food in foods {
        cells.clear();
        cells.push(
            food.gtin()
                .map(|g| g.printed().to_owned())
                .unwrap_or_default(),
        );
        cells.push(clean(Some(food.name())));
        cells.push(clean(food.brand()));
        cells.push(clean(
            food.category()
                .map(|c| match c.sub() {
                    Some(sub) => format!("{},{sub}", c.main()),
                    None => c.main().to_owned(),
                })
                .as_deref(),
        ));
        cells.push(clean(food.country()));
        cells.push(clean(food.ingredients_text()));
        cells.push(clean(Some(&food.allergens().join(","))));
        cells.push(clean(Some(&food.traces().join(","))));
        cells.push(clean(Some(&food.labels().join(","))));
        cells.push(
            food.serving_size_g()
                .map(|g| g.to_string())
                .unwrap_or_default(),
        );
        for &(_, field, factor) in OFF_NUTRIENTS {
            cells.push(
                food.nutrients()
                    .get(field)
                    .flatten()
                    .map(|v| (v / factor).to_string())
                    .unwrap_or_default(),
            );
        }
        writer.write_record(&cells)?;
    }
    writer.flush()?;
    Ok(())
}

/// The running account of an import, as `GET /api/v1/admin/catalog/imports/{id}` and the CLI show it.
///
/// The parser fills `rows_read`, `accepted`, `skipped` and the errors; [`ImportBatch`] and [`SeenBarcodes`]
/// report duplicates; the repository's write result fills `inserted` and `updated`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportReport {
    /// Rows read from the file, good and bad (blank lines excluded).
    pub rows_read: u64,
    /// Rows that became foods.
    pub accepted: u64,
    /// Rows skipped as bad.
    pub skipped: u64,
    /// Accepted rows replaced by a later row with the same barcode in the same file.
    pub duplicates: u64,
    /// Foods created by the import.
    pub inserted: u64,
    /// Existing foods the import updated.
    pub updated: u64,
    /// The first errors, in file order, at most `max_errors` of them.
    pub errors: Vec<RowError>,
    /// How many errors are kept: enough to see a pattern, bounded so that a file of garbage stays small.
    pub max_errors: usize,
}

/// Errors kept in a report unless told otherwise.
pub const DEFAULT_MAX_ERRORS: usize = 100;

impl Default for ImportReport {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_ERRORS)
    }
}

impl ImportReport {
    #[must_use]
    pub fn new(max_errors: usize) -> Self {
        Self {
            rows_read: 0,
            accepted: 0,
            skipped: 0,
            duplicates: 0,
            inserted: 0,
            updated: 0,
            errors: Vec::new(),
            max_errors,
        }
    }

    /// Counts one item of [`FoodRows`], handing back the food if there is one.
    pub fn record(&mut self, row: Result<FoodDraft, RowError>) -> Option<FoodDraft> {
        self.rows_read += 1;
        match row {
            Ok(food) => {
                self.accepted += 1;
                Some(food)
            }
            Err(error) => {
                self.skipped += 1;
                if self.errors.len() < self.max_errors {
                    self.errors.push(error);
                }
                None
            }
        }
    }

    /// Counts `n` accepted rows replaced by later ones.
    pub fn record_duplicates(&mut self, n: u64) {
        self.duplicates += n;
    }

    /// Adds a batch write's outcome.
    pub fn record_written(&mut self, inserted: u64, updated: u64) {
        self.inserted += inserted;
        self.updated += updated;
    }

    /// Counts `n` foods that a first load wrote as new and that later rows of it replaced when it settled its
    /// natural keys ([`crate::FirstLoad::write`]): updates, as they would have been batch by batch.
    pub fn record_replaced(&mut self, n: u64) {
        let n = n.min(self.inserted);
        self.inserted -= n;
        self.updated += n;
    }

    /// Errors that were counted but not kept.
    #[must_use]
    pub fn errors_not_kept(&self) -> u64 {
        self.skipped.saturating_sub(self.errors.len() as u64)
    }
}

/// A batch of foods to write at once, with at most one food per barcode (PostgreSQL refuses a multi-row
/// `INSERT … ON CONFLICT DO UPDATE` that touches one row twice). A later food with a barcode already in the batch
/// replaces the earlier one in place: the later row of the file wins. Foods without a barcode are keyed by their
/// code, if any, in the same way.
#[derive(Debug, Default)]
pub struct ImportBatch {
    foods: Vec<FoodDraft>,
    by_key: HashMap<BatchKey, usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum BatchKey {
    Gtin(Gtin),
    Code(String),
}

impl ImportBatch {
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            foods: Vec::with_capacity(capacity),
            by_key: HashMap::with_capacity(capacity),
        }
    }

    /// Adds a food; `true` when it replaced one with the same barcode (count it as a duplicate).
    pub fn push(&mut self, food: FoodDraft) -> bool {
        let key = match (food.gtin(), food.code()) {
            (Some(gtin), _) => Some(BatchKey::Gtin(gtin)),
            (None, Some(code)) => Some(BatchKey::Code(code.as_str().to_owned())),
            (None, None) => None,
        };
        if let Some(key) = key {
            if let Some(&at) = self.by_key.get(&key)
                && let Some(slot) = self.foods.get_mut(at)
            {
                *slot = food;
                return true;
            }
            self.by_key.insert(key, self.foods.len());
        }
        self.foods.push(food);
        false
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.foods.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.foods.is_empty()
    }

    /// The foods, in the order their barcodes first appeared; the batch is empty afterwards, ready for reuse.
    pub fn take(&mut self) -> Vec<FoodDraft> {
        self.by_key.clear();
        std::mem::take(&mut self.foods)
    }
}

/// The barcodes an import has already seen, across batches, to count duplicates the batch cannot see (the
/// upsert makes the later row win anyway). Costs about 16–32 bytes per distinct barcode: some 100 MB for the
/// 3 million products of a full OFF dump — use it only when the duplicate count is worth that.
#[derive(Debug, Default)]
pub struct SeenBarcodes(HashSet<u64>);

impl SeenBarcodes {
    /// `true` when the barcode was seen before.
    pub fn seen_before(&mut self, gtin: Gtin) -> bool {
        !self.0.insert(gtin.as_u64())
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use diningcoach_dietary::DietCatalog;
    use proptest::prelude::*;

    use super::*;

    const OFF_FIXTURE: &str = include_str!("../tests/fixtures/off_sample.tsv");
    const CSV_FIXTURE: &str = include_str!("../tests/fixtures/foods_sample.csv");

    fn read(text: &str, format: ImportFormat) -> Vec<Result<FoodDraft, RowError>> {
        read_foods(text.as_bytes(), format).unwrap().collect()
    }

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-6)
    }

    #[test]
    fn reads_an_open_food_facts_export() {
        let rows = read(OFF_FIXTURE, ImportFormat::OpenFoodFacts);
        let good: Vec<&FoodDraft> = rows.iter().filter_map(|r| r.as_ref().ok()).collect();
        let bad: Vec<&RowError> = rows.iter().filter_map(|r| r.as_ref().err()).collect();

        let nutella = good
            .iter()
            .find(|f| f.name() == "Nutella")
            .expect("nutella");
        assert_eq!(nutella.gtin().unwrap().as_str(), "03017620422003");
        assert_eq!(nutella.code().unwrap().as_str(), "off:3017620422003");
        assert_eq!(nutella.brand(), Some("Ferrero"));
        assert_eq!(nutella.country(), Some("France"));
        let category = nutella.category().unwrap();
        assert_eq!(category.main(), "Breakfasts");
        assert_eq!(category.sub(), Some("Hazelnut spreads"));
        assert_eq!(nutella.allergens(), ["en:milk", "en:nuts", "en:soybeans"]);
        assert_eq!(nutella.serving_size_g(), Some(15.0));
        let n = nutella.nutrients();
        assert!(close(n.energy_kcal, 539.0));
        assert!(close(n.fat_g, 30.9));
        // 0.107 g salt only → 42.8 mg sodium.
        assert!(close(n.sodium_mg, 42.8), "{:?}", n.sodium_mg);

        let coke = good
            .iter()
            .find(|f| f.name() == "Coca-Cola Classic")
            .expect("coke");
        // Sodium given in g → mg; caffeine g → mg; the UPC-A form.
        assert!(
            close(coke.nutrients().sodium_mg, 4.0),
            "{:?}",
            coke.nutrients()
        );
        assert!(close(coke.nutrients().caffeine_mg, 9.7));
        assert_eq!(coke.gtin().unwrap().printed(), "049000028911");
        assert_eq!(coke.serving_size_g(), None, "0 means unknown");

        let beer = good.iter().find(|f| f.name() == "Leffe Blonde").unwrap();
        assert!(close(beer.nutrients().alcohol_percent_vol, 6.6));
        // Energy from kJ when kcal is missing.
        assert!(close(beer.nutrients().energy_kcal, 242.0 / 4.184));

        let salt = good.iter().find(|f| f.name() == "Sel de Guérande").unwrap();
        assert!(close(salt.nutrients().iodine_ug, 20.0));
        assert!(close(salt.nutrients().potassium_mg, 300.0));

        let lines: Vec<u64> = bad.iter().map(|e| e.line).collect();
        assert_eq!(lines, [6, 7, 8, 9, 10], "{bad:#?}");
        assert!(bad[0].to_string().contains("name"), "{}", bad[0]);
        assert!(
            matches!(bad[1].reason, RowProblem::MalformedNumber { ref column, .. } if column == "fat_100g")
        );
        assert!(
            bad[2].to_string().contains("nutrients.sugars_g"),
            "{}",
            bad[2]
        );
        assert!(
            bad[3].to_string().contains("check digit should be 3"),
            "{}",
            bad[3]
        );
        assert!(matches!(bad[4].reason, RowProblem::FieldCount { .. }));
        assert!(bad.iter().all(|e| !e.is_fatal()));
        assert_eq!(good.len(), 6);
        // The last row is good: nothing stopped at the bad ones.
        assert_eq!(good.last().unwrap().name(), "Organic Rolled Oats");
    }

    #[test]
    fn imported_foods_are_understood_by_the_analyser() {
        let catalog = DietCatalog::load().unwrap();
        for food in read(OFF_FIXTURE, ImportFormat::OpenFoodFacts)
            .into_iter()
            .flatten()
        {
            let analysis = catalog.analyse(&food.facts());
            if food.ingredients_text().is_some() {
                assert!(analysis.ingredients_declared, "{}", food.name());
            }
        }
    }

    #[test]
    fn reads_our_csv_format() {
        let rows = read(CSV_FIXTURE, ImportFormat::DiningCoachCsv);
        let good: Vec<&FoodDraft> = rows.iter().filter_map(|r| r.as_ref().ok()).collect();
        let bad: Vec<&RowError> = rows.iter().filter_map(|r| r.as_ref().err()).collect();
        assert_eq!(good.len(), 3, "{bad:#?}");
        let apple = good[0];
        assert_eq!(apple.name(), "Apple, raw");
        assert_eq!(apple.kind(), FoodKind::Fresh);
        assert_eq!(apple.gtin(), None);
        assert!(close(apple.nutrients().potassium_mg, 107.0));
        let yogurt = good[1];
        assert_eq!(yogurt.labels(), ["en:organic", "en:vegetarian"]);
        assert_eq!(
            yogurt.storage_notes(),
            Some("Keep refrigerated, 0–4 °C.\nEat within 3 days of opening.")
        );
        assert!(close(yogurt.nutrients().iodine_ug, 30.0));
        let lines: Vec<u64> = bad.iter().map(|e| e.line).collect();
        // The yogurt's notes span two lines, so later rows' lines are one further on.
        assert_eq!(lines, [5, 6, 7], "{bad:#?}");
        assert!(
            matches!(bad[0].reason, RowProblem::InvalidValue { ref column, .. } if column == "kind")
        );
        assert!(bad[1].to_string().contains("nutrients.sodium_mg"));
        assert!(matches!(bad[2].reason, RowProblem::MalformedNumber { .. }));
    }

    #[test]
    fn a_header_without_the_required_column_is_refused() {
        let cases = [
            ("code\tname\n1\tx\n", ImportFormat::OpenFoodFacts),
            ("code,product_name\n1,x\n", ImportFormat::OpenFoodFacts),
            ("name,sodium_g\nx,1\n", ImportFormat::DiningCoachCsv),
            ("brand\nx\n", ImportFormat::DiningCoachCsv),
        ];
        for (text, format) in cases {
            assert!(
                matches!(
                    read_foods(text.as_bytes(), format),
                    Err(CatalogError::UnreadableImport(_))
                ),
                "{text:?}"
            );
        }
        // An empty file has no rows (and no header to complain about).
        assert!(read_foods(&b""[..], ImportFormat::DiningCoachCsv).is_err());
    }

    #[test]
    fn an_io_failure_ends_the_reading() {
        struct Failing(usize);
        impl Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.0 == 0 {
                    self.0 = 1;
                    let text = b"name,energy_kcal\nApple,52\nPear";
                    buf[..text.len()].copy_from_slice(text);
                    Ok(text.len())
                } else {
                    Err(std::io::Error::other("disk gone"))
                }
            }
        }
        let rows: Vec<_> = read_foods(Failing(0), ImportFormat::DiningCoachCsv)
            .unwrap()
            .collect();
        assert!(
            rows.last().unwrap().as_ref().is_err_and(RowError::is_fatal),
            "{rows:?}"
        );
    }

    #[test]
    fn our_format_round_trips_through_the_writer() {
        let foods: Vec<FoodDraft> = read(CSV_FIXTURE, ImportFormat::DiningCoachCsv)
            .into_iter()
            .flatten()
            .collect();
        let mut out = Vec::new();
        write_foods_csv(&mut out, foods.clone()).unwrap();
        let again: Vec<FoodDraft> = read_foods(&out[..], ImportFormat::DiningCoachCsv)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(again, foods);
    }

    #[test]
    fn generated_foods_round_trip_through_the_off_writer() {
        let foods: Vec<FoodDraft> = crate::generate(3, 300).collect();
        let mut out = Vec::new();
        write_foods_off(&mut out, foods.clone()).unwrap();
        let again: Vec<FoodDraft> = read_foods(&out[..], ImportFormat::OpenFoodFacts)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(again.len(), foods.len());
        for (a, b) in foods.iter().zip(&again) {
            assert_eq!(a.name(), b.name());
            assert_eq!(a.gtin(), b.gtin());
            assert_eq!(a.category(), b.category());
            assert_eq!(a.ingredients_text(), b.ingredients_text());
            assert_eq!(a.allergens(), b.allergens());
            for field in NutrientsPer100g::FIELDS {
                let (x, y) = (
                    a.nutrients().get(field).flatten(),
                    b.nutrients().get(field).flatten(),
                );
                assert!(
                    x.is_none() && y.is_none()
                        || x.zip(y).is_some_and(|(x, y)| (x - y).abs() < 1e-6),
                    "{field}: {x:?} vs {y:?}"
                );
            }
        }
    }

    #[test]
    fn the_report_and_the_batch_count_what_happened() {
        let mut report = ImportReport::new(2);
        let mut batch = ImportBatch::default();
        let text = "name,barcode\nA,3017620422003\nB,\nC,bad\nD,03017620422003\nE,\nF,x\n";
        for row in read(text, ImportFormat::DiningCoachCsv) {
            if let Some(food) = report.record(row)
                && batch.push(food)
            {
                report.record_duplicates(1);
            }
        }
        assert_eq!(
            (
                report.rows_read,
                report.accepted,
                report.skipped,
                report.duplicates
            ),
            (6, 4, 2, 1)
        );
        assert_eq!(report.errors.len(), 2);
        let names: Vec<String> = batch.take().iter().map(|f| f.name().to_owned()).collect();
        assert_eq!(
            names,
            ["D", "B", "E"],
            "the later row wins, in the first row's place"
        );
        assert!(batch.is_empty());
        let mut seen = SeenBarcodes::default();
        let gtin = Gtin::parse("3017620422003").unwrap();
        assert!(!seen.seen_before(gtin));
        assert!(seen.seen_before(Gtin::parse("03017620422003").unwrap()));
        // A first load learns at its end which foods later rows replaced.
        report.record_written(3, 0);
        report.record_replaced(1);
        assert_eq!((report.inserted, report.updated), (2, 1));
        report.record_replaced(5);
        assert_eq!(
            (report.inserted, report.updated),
            (0, 3),
            "never more than were inserted"
        );
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["errors"][0]["line"], 4);
        assert_eq!(json["errors"][0]["reason"]["problem"], "invalid_food");
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2_000)) {
            for format in [ImportFormat::OpenFoodFacts, ImportFormat::DiningCoachCsv] {
                if let Ok(rows) = read_foods(&bytes[..], format) {
                    for row in rows.take(10_000) {
                        let _ = row;
                    }
                }
            }
        }

        #[test]
        fn never_panics_on_rows_under_a_real_header(
            cells in proptest::collection::vec("[ -~\t\"é]{0,12}", 0..60),
        ) {
            let header = OFF_FIXTURE.lines().next().unwrap_or_default();
            let text = format!("{header}\n{}\n", cells.join("\t"));
            for row in read_foods(text.as_bytes(), ImportFormat::OpenFoodFacts).unwrap() {
                if let Err(error) = row {
                    prop_assert_eq!(error.line, 2);
                }
            }
        }
    }
}
