//! The crate's one error type.

use serde::Serialize;

/// Everything that can go wrong in the dietary domain.
///
/// `InvalidData` and `DataSyntax` are programming errors in the shipped data (the catalog test catches them
/// before release); `InvalidProfile` is a client error that the HTTP layer answers with 422 and one field error
/// per [`ProfileProblem`]; `StaleAnalysis` tells the caller to re-run the analyser on a stored food.
#[derive(Debug, thiserror::Error)]
pub enum DietaryError {
    /// A data file is not valid TOML or does not have the expected shape.
    #[error("data file `{file}`: {message}")]
    DataSyntax {
        /// Path of the file relative to the crate's `data/` directory.
        file: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A data file parses but breaks a rule of the catalog (unknown code, duplicate, range...).
    #[error("data file `{file}`, field `{field}`: {message}")]
    InvalidData {
        /// Path of the file relative to the crate's `data/` directory.
        file: String,
        /// Path of the offending field inside the file, e.g. `rules[2].properties`.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// A health profile names codes or parameters the catalog does not know, or values out of range.
    #[error("invalid diet profile: {}", problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    InvalidProfile {
        /// Every problem found, not only the first, so that a client can fix them all at once.
        problems: Vec<ProfileProblem>,
    },
    /// A stored analysis was made by another version of the analyser and must be recomputed.
    #[error(
        "food analysis has version {found}, the analyser is at version {expected}; re-analyse the food"
    )]
    StaleAnalysis {
        /// Version found in the stored analysis.
        found: u32,
        /// [`crate::ANALYSIS_VERSION`].
        expected: u32,
    },
}

/// One problem in a health profile, with the path of the field it concerns (for RFC 9457 field errors).
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum ProfileProblem {
    /// The condition code is not in the catalog.
    #[error("{field}: unknown condition `{code}`")]
    UnknownCondition {
        /// e.g. `conditions[1]`.
        field: String,
        /// The code as sent.
        code: String,
    },
    /// The diet code is not in the catalog.
    #[error("{field}: unknown diet `{code}`")]
    UnknownDiet {
        /// e.g. `diets[0].code`.
        field: String,
        /// The code as sent.
        code: String,
    },
    /// The allergen code is not in the catalog.
    #[error("{field}: unknown allergen `{code}`")]
    UnknownAllergen {
        /// e.g. `allergens[2]`.
        field: String,
        /// The code as sent.
        code: String,
    },
    /// The diet has no parameter of that name.
    #[error("{field}: diet `{diet}` has no parameter `{parameter}`")]
    UnknownParameter {
        /// e.g. `diets[0].params.daily_sodium`.
        field: String,
        /// The diet's code.
        diet: String,
        /// The parameter as sent.
        parameter: String,
    },
    /// The value is outside the parameter's clinical range (or not a finite number).
    #[error("{field}: {value} is outside {min}..={max} {unit}")]
    ParameterOutOfRange {
        /// e.g. `diets[0].params.daily_sodium_mg`.
        field: String,
        /// The value as sent.
        value: f64,
        /// Smallest accepted value.
        min: f64,
        /// Largest accepted value.
        max: f64,
        /// Unit of the parameter.
        unit: String,
    },
}

impl ProfileProblem {
    /// The path of the field the problem concerns, as in the request body.
    #[must_use]
    pub fn field(&self) -> &str {
        match self {
            Self::UnknownCondition { field, .. }
            | Self::UnknownDiet { field, .. }
            | Self::UnknownAllergen { field, .. }
            | Self::UnknownParameter { field, .. }
            | Self::ParameterOutOfRange { field, .. } => field,
        }
    }
}
