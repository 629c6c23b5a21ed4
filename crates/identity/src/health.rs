use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{BodyMetrics, IdentityError};

/// A diet the user follows, with the parameters they set (e.g. `low_sodium` with `daily_sodium_mg = 1500`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DietChoice {
    pub code: String,
    pub params: BTreeMap<String, f64>,
}

/// What a user told us about their health: it personalises every verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthProfile {
    /// What the patient knows they have (`hypertension`, `kidney_disease`, …); each implies diets.
    pub conditions: Vec<String>,
    /// What they follow by choice or prescription.
    pub diets: Vec<DietChoice>,
    pub allergens: Vec<String>,
    pub pregnant: bool,
    pub body: BodyMetrics,
    pub notes: Option<String>,
    /// Bumped on every change; the HTTP layer shows it as the ETag.
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

/// A health profile as a client submits it, before its codes are checked.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthProfileInput {
    pub conditions: Vec<String>,
    pub diets: Vec<DietChoice>,
    pub allergens: Vec<String>,
    pub pregnant: bool,
    pub height_cm: Option<f64>,
    pub weight_kg: Option<f64>,
    pub notes: Option<String>,
}

/// A code or parameter the dietary catalog does not accept, named by its place in the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthVocabularyError {
    pub field: String,
    pub message: String,
}

/// The codes and parameters the dietary catalog defines. Identity does not know diets; it asks.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait HealthVocabulary: Send + Sync {
    fn check(
        &self,
        conditions: &[String],
        diets: &[DietChoice],
        allergens: &[String],
    ) -> Result<(), Vec<HealthVocabularyError>>;
}

/// The validated profile to store.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidHealthProfile {
    pub conditions: Vec<String>,
    pub diets: Vec<DietChoice>,
    pub allergens: Vec<String>,
    pub pregnant: bool,
    pub body: BodyMetrics,
    pub notes: Option<String>,
}

pub const MAX_NOTES_CHARS: usize = 2000;

impl HealthProfileInput {
    /// Normalises (trims, lower-cases, removes duplicates keeping the first) and validates against the vocabulary.
    pub fn validate(
        self,
        vocabulary: &dyn HealthVocabulary,
    ) -> Result<ValidHealthProfile, IdentityError> {
        fn normalise(codes: Vec<String>) -> Vec<String> {
            let mut seen = Vec::with_capacity(codes.len());
            for code in codes {
                let code = code.trim().to_lowercase();
                if !seen.contains(&code) {
                    seen.push(code);
                }
            }
            seen
        }
        let conditions = normalise(self.conditions);
        let allergens = normalise(self.allergens);
        let mut diets: Vec<DietChoice> = Vec::with_capacity(self.diets.len());
        let mut issues = Vec::new();
        for (index, diet) in self.diets.into_iter().enumerate() {
            let code = diet.code.trim().to_lowercase();
            if diets.iter().any(|d| d.code == code) {
                issues.push(IdentityError::invalid(
                    format!("diets[{index}].code"),
                    format!("{code} is listed twice"),
                ));
                continue;
            }
            diets.push(DietChoice {
                code,
                params: diet.params,
            });
        }
        let notes = self
            .notes
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty());
        let mut body = BodyMetrics::default();
        let checks = [
            self.height_cm
                .map(BodyMetrics::check_height)
                .transpose()
                .map(|h| body.height_cm = h),
            self.weight_kg
                .map(BodyMetrics::check_weight)
                .transpose()
                .map(|w| body.weight_kg = w),
            match &notes {
                Some(n) if n.chars().count() > MAX_NOTES_CHARS => Err(IdentityError::invalid(
                    "notes",
                    "must be at most 2000 characters",
                )),
                _ => Ok(()),
            },
            vocabulary
                .check(&conditions, &diets, &allergens)
                .map_err(|errors| {
                    IdentityError::Invalid(
                        errors
                            .into_iter()
                            .map(|e| crate::error::FieldIssue {
                                field: e.field,
                                message: e.message,
                            })
                            .collect(),
                    )
                }),
        ];
        IdentityError::collect(checks.into_iter().chain(issues.into_iter().map(Err)))?;
        Ok(ValidHealthProfile {
            conditions,
            diets,
            allergens,
            pregnant: self.pregnant,
            body,
            notes,
        })
    }
}
