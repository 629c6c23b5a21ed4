//! DiningCoach food catalog: foods, barcodes, search and import arrive with the catalog issue. Today it holds the
//! verdict use cases — judging a food for a user — which every catalog feature builds on.

mod error;
pub mod ports;
mod verdicts;

pub use error::CatalogError;
pub use verdicts::{ReasonReport, VerdictReport, VerdictService};
