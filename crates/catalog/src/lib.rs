//! DiningCoach food catalog: foods, barcodes, search input, import parsing, synthetic foods, and the verdict
//! use cases — judging a food for a user.
//!
//! Pure domain code: no I/O besides the `Read`/`Write` the import parser and CSV writer are handed. The
//! PostgreSQL adapter stores [`FoodDraft`]s (with [`FoodDraft::search_name`] and the dietary analysis of
//! [`FoodDraft::facts`]); the import service drives [`read_foods`] with an [`ImportReport`] and [`ImportBatch`]es;
//! the HTTP layer parses [`Gtin`]s and [`SearchQuery`]s. See `docs/catalog.md`.

mod analysis_memo;
mod error;
pub mod food;
mod foods;
pub mod generate;
pub mod gtin;
pub mod import;
pub mod imports;
pub mod ports;
mod reanalysis;
pub mod search;
mod stored;
mod verdicts;

pub use error::{CatalogError, FieldError, GtinProblem};
pub use food::{
    Category, FoodCode, FoodDraft, FoodFields, FoodId, FoodKind, FoodSource, NutrientsPer100g,
};
pub use foods::{FoodService, FoodView};
pub use generate::generate;
pub use gtin::{Gtin, GtinFormat};
pub use import::{
    ImportBatch, ImportFormat, ImportReport, RowError, RowProblem, SeenBarcodes, read_foods,
    write_foods_csv, write_foods_off,
};
pub use imports::{
    CatalogImport, CatalogImportHandler, Claim, Creation, FirstLoad, Idempotency, ImportFiles,
    ImportId, ImportJobs, ImportPorts, ImportProgress, ImportRequest, ImportService,
    ImportSettings, ImportStatus, NewImport, RunImport, RunOutcome,
};
pub use reanalysis::Reanalysis;
pub use search::{SearchQuery, TRIGRAM_CHARS, normalise_name};
pub use stored::{
    Actor, AnalysedFood, BatchOutcome, Food, FoodSearchRequest, FoodState, SearchPosition,
    SearchTier, Suitability, SuitabilityFilter, TierQuery,
};
pub use verdicts::{MAX_INGREDIENTS_CHARS, ReasonReport, VerdictReport, VerdictService};
