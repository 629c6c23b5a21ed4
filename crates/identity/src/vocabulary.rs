//! The dietary catalog answers which health codes exist: identity asks it through [`HealthVocabulary`].

use diningcoach_dietary::{DietCatalog, DietProfileInput, DietSelection, DietaryError};

use crate::{DietChoice, HealthVocabulary, HealthVocabularyError};

impl HealthVocabulary for DietCatalog {
    fn check(
        &self,
        conditions: &[String],
        diets: &[DietChoice],
        allergens: &[String],
    ) -> Result<(), Vec<HealthVocabularyError>> {
        let input = DietProfileInput {
            conditions: conditions.to_vec(),
            diets: diets
                .iter()
                .map(|d| DietSelection {
                    code: d.code.clone(),
                    params: d.params.clone(),
                })
                .collect(),
            allergens: allergens.to_vec(),
            // Pregnancy only adds a diet; it cannot make a code unknown.
            pregnant: false,
        };
        match self.profile(&input) {
            Ok(_) => Ok(()),
            Err(DietaryError::InvalidProfile { problems }) => Err(problems
                .iter()
                .map(|problem| {
                    let field = problem.field().to_owned();
                    let message = problem.to_string();
                    let message = message
                        .strip_prefix(&format!("{field}: "))
                        .unwrap_or(&message)
                        .to_owned();
                    HealthVocabularyError { field, message }
                })
                .collect()),
            Err(other) => Err(vec![HealthVocabularyError {
                field: "diets".into(),
                message: other.to_string(),
            }]),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn the_shipped_catalog_accepts_known_codes_and_names_unknown_ones() {
        let catalog = DietCatalog::load().unwrap();
        let diets = [DietChoice {
            code: "low_sodium".into(),
            params: BTreeMap::from([("daily_sodium_mg".into(), 1500.0)]),
        }];
        assert_eq!(
            catalog.check(
                &["hypertension".into()],
                &diets,
                &["peanuts".into(), "shrimp".into()]
            ),
            Ok(())
        );

        let errors = catalog
            .check(
                &["hypertension".into(), "dragon_pox".into()],
                &[],
                &["unicorn".into()],
            )
            .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["conditions[1]", "allergens[0]"]);
        assert!(errors[0].message.contains("dragon_pox"));
    }
}
