use std::sync::Arc;

use diningcoach_dietary::{
    DayIntake, DietCatalog, DietProfile, DietaryError, FoodAnalysis, FoodFacts, Level, Verdict,
    evaluate,
};
use diningcoach_kernel::{InfraError, UserId};
use serde::Serialize;

use crate::CatalogError;
use crate::analysis_memo::AnalysisMemo;
use crate::food::FoodDraft;
use crate::ports::DietProfiles;
use crate::stored::{AnalysedFood, Food};

/// One finding of a verdict, owned, ready to serialise.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReasonReport {
    pub diet: Option<String>,
    pub allergen: Option<String>,
    pub rule: String,
    pub severity: Level,
    /// A sentence for people.
    pub message: String,
    /// What the finding rests on: the ingredient as written and what it matched, or the nutrient, its value, the
    /// limit and the unit.
    pub evidence: serde_json::Value,
}

/// A verdict for one user and one food.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerdictReport {
    pub level: Level,
    pub reasons: Vec<ReasonReport>,
    /// Ingredients the taxonomy did not recognise (they make a verdict `unknown` rather than a guess).
    pub unrecognised_ingredients: Vec<String>,
}

impl VerdictReport {
    fn new(verdict: &Verdict<'_>, unrecognised: &[String]) -> Self {
        Self {
            level: verdict.level,
            reasons: verdict
                .reasons
                .iter()
                .map(|reason| ReasonReport {
                    diet: reason.diet.map(str::to_owned),
                    allergen: reason.allergen.map(str::to_owned),
                    rule: reason.rule.to_owned(),
                    severity: reason.severity,
                    message: reason.message(),
                    evidence: serde_json::to_value(&reason.evidence)
                        .unwrap_or(serde_json::Value::Null),
                })
                .collect(),
            unrecognised_ingredients: unrecognised.to_vec(),
        }
    }
}

/// The longest ingredient list accepted: far beyond any real label, short enough to bound the analysis.
pub const MAX_INGREDIENTS_CHARS: usize = 10_000;

fn validate_label(facts: &FoodFacts) -> Result<(), CatalogError> {
    let invalid = |field: &str, message: &str| CatalogError::Invalid {
        field: field.to_owned(),
        message: message.to_owned(),
    };
    if facts
        .ingredients_text
        .as_ref()
        .is_some_and(|t| t.chars().count() > MAX_INGREDIENTS_CHARS)
    {
        return Err(invalid(
            "ingredients_text",
            "must be at most 10000 characters",
        ));
    }
    if facts
        .serving_size_g
        .is_some_and(|g| !(g.is_finite() && g > 0.0 && g <= 10_000.0))
    {
        return Err(invalid(
            "serving_size_g",
            "must be more than 0 and at most 10000",
        ));
    }
    let nutrients = serde_json::to_value(facts.nutrients_per_100g).unwrap_or_default();
    if let Some(map) = nutrients.as_object() {
        for (name, value) in map {
            if value.as_f64().is_none_or(|v| !v.is_finite() || v < 0.0) {
                return Err(invalid(
                    &format!("nutrients_per_100g.{name}"),
                    "must be a number of at least 0",
                ));
            }
        }
    }
    Ok(())
}

/// Judges foods for users: their stored health profile, the diet catalog, what they ate today.
pub struct VerdictService {
    catalog: Arc<DietCatalog>,
    profiles: Arc<dyn DietProfiles>,
    analyses: AnalysisMemo,
}

/// The room of each of the analysis memo's two generations, in ingredients of the analyses it holds: ~5,000
/// foods of ten-odd ingredients (a few hundred pages of search results), 10–20 MB at most.
const REMEMBERED_INGREDIENTS: usize = 65_536;

impl VerdictService {
    pub fn new(catalog: Arc<DietCatalog>, profiles: Arc<dyn DietProfiles>) -> Self {
        Self {
            catalog,
            profiles,
            analyses: AnalysisMemo::new(REMEMBERED_INGREDIENTS),
        }
    }

    /// The diet catalog, as `GET /api/v1/diets` shows it.
    pub fn diet_catalog(&self) -> &DietCatalog {
        &self.catalog
    }

    /// The verdict for a label the user typed or photographed (restaurant food, a product not in the catalog).
    pub async fn check_label(
        &self,
        user: UserId,
        facts: &FoodFacts,
    ) -> Result<VerdictReport, CatalogError> {
        validate_label(facts)?;
        let profile = self.profile(user).await?;
        Ok(self.judge(&self.catalog.analyse(facts), &profile))
    }

    /// The user's stored health profile, compiled.
    ///
    /// # Errors
    /// [`CatalogError::UserNotFound`]; [`CatalogError::HealthProfileOutdated`] when it names a code the diet
    /// catalog no longer has.
    pub async fn profile(&self, user: UserId) -> Result<DietProfile, CatalogError> {
        let input = self
            .profiles
            .diet_profile(user)
            .await?
            .ok_or(CatalogError::UserNotFound)?;
        self.catalog.profile(&input).map_err(|error| match error {
            DietaryError::InvalidProfile { .. } => {
                CatalogError::HealthProfileOutdated(error.to_string())
            }
            other => CatalogError::Infra(InfraError::Fault(other.to_string())),
        })
    }

    /// Judges an analysis for a compiled profile.
    #[must_use]
    pub fn judge(&self, analysis: &FoodAnalysis, profile: &DietProfile) -> VerdictReport {
        // The diary will pass what the user ate today; until it does, the day starts empty.
        let verdict = evaluate(analysis, profile, &DayIntake::default());
        VerdictReport::new(&verdict, &analysis.unrecognised)
    }

    /// Judges a stored food on an analysis of its facts by this process's analyser, made now or remembered from
    /// an earlier verdict on the same version of the food: the catalog stores only a summary, which may also be
    /// from an older analyser that the background re-analysis has not reached yet. A verdict is never made on
    /// stale or partial facts.
    #[must_use]
    pub fn judge_food(&self, food: &Food, profile: &DietProfile) -> VerdictReport {
        let analysis = self
            .analyses
            .get_or_make(food, || self.catalog.analyse(&food.draft.facts()));
        self.judge(&analysis, profile)
    }

    /// A draft with its analysis, ready to store.
    #[must_use]
    pub fn analysed(&self, draft: FoodDraft) -> AnalysedFood {
        let analysis = self.catalog.analyse(&draft.facts());
        AnalysedFood { draft, analysis }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use diningcoach_dietary::{DietProfileInput, DietSelection};

    use super::*;
    use crate::ports::MockDietProfiles;

    fn service(profile: Option<DietProfileInput>) -> VerdictService {
        let mut profiles = MockDietProfiles::new();
        profiles
            .expect_diet_profile()
            .returning(move |_| Ok(profile.clone()));
        VerdictService::new(Arc::new(DietCatalog::load().unwrap()), Arc::new(profiles))
    }

    /// A profile that follows one diet.
    fn following(diet: &str) -> DietProfileInput {
        DietProfileInput {
            diets: vec![DietSelection {
                code: diet.into(),
                ..DietSelection::default()
            }],
            ..DietProfileInput::default()
        }
    }

    fn label(text: &str) -> FoodFacts {
        FoodFacts {
            ingredients_text: Some(text.to_owned()),
            ..FoodFacts::default()
        }
    }

    #[tokio::test]
    async fn a_vegan_is_told_why_a_label_is_not_for_them() {
        let vegan = DietProfileInput {
            allergens: vec!["peanuts".into()],
            ..following("vegan")
        };
        let report = service(Some(vegan))
            .check_label(
                UserId::generate(),
                &label("Sugar, skimmed milk powder, cocoa butter. May contain peanuts."),
            )
            .await
            .unwrap();
        assert_eq!(report.level, Level::Avoid);
        let milk = report
            .reasons
            .iter()
            .find(|r| r.diet.as_deref() == Some("vegan"))
            .expect("a vegan finding");
        assert_eq!(milk.severity, Level::Avoid);
        assert!(
            milk.evidence.to_string().contains("skimmed milk powder"),
            "{}",
            milk.evidence
        );
        let trace = report
            .reasons
            .iter()
            .find(|r| r.allergen.as_deref() == Some("peanuts"))
            .expect("the trace");
        assert_eq!(trace.severity, Level::Caution);
    }

    #[tokio::test]
    async fn impossible_numbers_are_refused() {
        let mut facts = label("water");
        facts.nutrients_per_100g.sodium_mg = Some(-1.0);
        let outcome = service(Some(DietProfileInput::default()))
            .check_label(UserId::generate(), &facts)
            .await;
        assert!(
            matches!(outcome, Err(CatalogError::Invalid { ref field, .. }) if field == "nutrients_per_100g.sodium_mg")
        );
        let mut facts = label("water");
        facts.serving_size_g = Some(0.0);
        let outcome = service(Some(DietProfileInput::default()))
            .check_label(UserId::generate(), &facts)
            .await;
        assert!(
            matches!(outcome, Err(CatalogError::Invalid { ref field, .. }) if field == "serving_size_g")
        );
    }

    #[tokio::test]
    async fn no_ingredient_list_is_unknown_never_ok() {
        let report = service(Some(following("vegan")))
            .check_label(UserId::generate(), &FoodFacts::default())
            .await
            .unwrap();
        assert_eq!(report.level, Level::Unknown);
    }

    #[tokio::test]
    async fn a_stored_food_is_judged_on_a_fresh_analysis_whatever_its_stored_summary_says() {
        let verdicts = service(Some(following("vegetarian")));
        let profile = verdicts.profile(UserId::generate()).await.unwrap();
        let draft =
            FoodDraft::labelled("Gummy bears", "Glucose syrup, sugar, gelatine, citric acid");
        let analysis = verdicts.analysed(draft.clone()).analysis;
        let fresh = verdicts.judge(&analysis, &profile);
        assert_eq!(fresh.level, Level::Avoid);
        let mut stale = analysis.summary();
        stale.version = 0;
        // A stale summary that missed the gelatine would pass if it were believed.
        stale.contains = diningcoach_dietary::PropertySet::default();
        for summary in [analysis.summary(), stale] {
            let food = Food::stored(draft.clone(), summary);
            assert_eq!(verdicts.judge_food(&food, &profile), fresh);
        }
    }

    #[tokio::test]
    async fn an_outdated_profile_or_a_missing_user_is_an_error_not_a_verdict() {
        let outcome = service(Some(following("retired_diet")))
            .check_label(UserId::generate(), &label("water"))
            .await;
        assert!(matches!(
            outcome,
            Err(CatalogError::HealthProfileOutdated(_))
        ));
        let outcome = service(None)
            .check_label(UserId::generate(), &label("water"))
            .await;
        assert_eq!(outcome, Err(CatalogError::UserNotFound));
    }
}
