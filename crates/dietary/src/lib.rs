//! # DiningCoach dietary rules
//!
//! Tells a user whether a food suits *their* diets and allergens, and why. Pure domain code: no I/O besides the
//! data files embedded at build time (`data/`, see `build.rs` and `docs/dietary.md`).
//!
//! ## Flow
//! 1. At start-up: [`DietCatalog::load`] — diets, conditions, allergens, labels and the ingredient taxonomy,
//!    validated. Share it (`Arc<DietCatalog>`).
//! 2. Once per food (import, edit, or a label the user typed): [`DietCatalog::analyse`]`(&FoodFacts)` →
//!    [`FoodAnalysis`], stored as JSONB with [`ANALYSIS_VERSION`]; [`FoodAnalysis::dietary_tags`] go in a
//!    `text[]` column for SQL filtering.
//! 3. Once per user (health profile saved or loaded): [`DietCatalog::profile`]`(&DietProfileInput)` →
//!    [`DietProfile`], or a [`DietaryError::InvalidProfile`] naming each bad field (answer 422).
//! 4. Per food shown: [`evaluate`]`(&FoodAnalysis, &DietProfile, &DayIntake)` → [`Verdict`] with
//!    [`Level`] `ok | caution | unknown | avoid` and [`Reason`]s. The verdict borrows from the analysis and the
//!    profile (no copies); serialise it into the response. [`DietProfile::excluded_tags`],
//!    [`DietProfile::required_tags`] and [`DietProfile::nutrient_ceilings`] pre-filter foods in SQL.
//!
//! ## Care
//! A wrong `ok` can hurt someone, so the engine says `unknown` whenever a rule needs data that is missing or
//! not understood: no ingredient list, an ingredient the taxonomy does not know, a nutrient or serving size
//! that is not given. Ambiguous ingredients (gelatine, E471, "natural flavour" of unstated origin) give the
//! severity each rule sets for them, and a certification label can settle them — never a certain finding,
//! except where a rule says the certification is about exactly that (certified gluten-free oats, halal
//! slaughter).
//!
//! ## Extending
//! Adding a diet, a condition, an allergen, a label or taxonomy names only means editing files under `data/`.
//! A new *property* is one `code = name` line in `data/properties.txt`; a new *nutrient* is one line in
//! `nutrient.rs`. Bump [`ANALYSIS_VERSION`] when the taxonomy or parser changes.

#![warn(missing_docs)]

mod analysis;
mod catalog;
mod data;
mod error;
pub mod ingredient_list;
mod nutrient;
mod profile;
mod property;
mod taxonomy;
mod text;
mod verdict;

pub use analysis::{
    ANALYSIS_VERSION, AnalysedIngredient, AnalysisSummary, DeclaredTag, FoodAnalysis, FoodFacts,
};
pub use catalog::{
    Allergen, AllergyPolicy, Basis, Condition, Diet, DietCatalog, DietParameter, IngredientCheck,
    Label, LabelCheck, Limit, NutrientCheck, Rule, RuleCheck, Source,
};
pub use error::{DietaryError, ProfileProblem};
pub use ingredient_list::{ParsedIngredient, Section};
pub use nutrient::{DayIntake, Nutrient, Nutrients};
pub use profile::{ActiveDiet, DietProfile, DietProfileInput, DietSelection, NutrientCeiling};
pub use property::{MAX_PROPERTIES, Property, PropertySet};
pub use text::normalise;
pub use verdict::{Certainty, Evidence, Level, Reason, Verdict, evaluate};
