//! Analyses of stored foods made recently, kept for the verdicts that follow.
//!
//! A page of search results re-analysed every food on it for each logged-in viewer: a third of the API's CPU
//! for such a search (docs/benchmarks.md), though the foods people search for come back page after page and
//! user after user. An analysis is a pure function of the food's facts and of the analyser, which is fixed for
//! the life of the process; the facts change only with the food's state ([`FoodState`]), which is the key.

use std::sync::Arc;

use diningcoach_dietary::FoodAnalysis;
use diningcoach_kernel::GenerationalMemo;

use crate::stored::{Food, FoodState};

/// A bounded memo of analyses ([`GenerationalMemo`]). Its capacity is in ingredients rather than foods, since an
/// analysis grows with its ingredient list (a label of ten ingredients is a few hundred bytes; the longest
/// accepted list, a hundred times that).
pub(crate) struct AnalysisMemo(GenerationalMemo<FoodState, Arc<FoodAnalysis>>);

/// What an analysis counts against the capacity: one for the food, one per ingredient, tag or statement kept.
fn weight(analysis: &Arc<FoodAnalysis>) -> usize {
    1 + analysis.ingredients.len() + analysis.unrecognised.len() + analysis.declared.len()
}

impl AnalysisMemo {
    /// Keeps analyses of up to `capacity` ingredients (see [`weight`]) in each generation.
    pub(crate) fn new(capacity: usize) -> Self {
        Self(GenerationalMemo::new(capacity, weight))
    }

    /// The food's analysis: remembered, or made by `analyse` (outside the lock) and remembered.
    pub(crate) fn get_or_make(
        &self,
        food: &Food,
        analyse: impl FnOnce() -> FoodAnalysis,
    ) -> Arc<FoodAnalysis> {
        self.0.get_or_make(&food.state(), || Arc::new(analyse()))
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.len()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::cell::Cell;

    use chrono::Duration;
    use diningcoach_dietary::DietCatalog;

    use super::*;
    use crate::food::FoodDraft;

    fn catalog() -> &'static DietCatalog {
        static CATALOG: std::sync::OnceLock<DietCatalog> = std::sync::OnceLock::new();
        CATALOG.get_or_init(|| DietCatalog::load().unwrap())
    }

    fn food(name: &str) -> Food {
        let draft = FoodDraft::labelled(name, "water");
        let summary = catalog().analyse(&draft.facts()).summary();
        Food::stored(draft, summary)
    }

    /// An analysis told apart from others by its version.
    fn analysis(version: u32) -> FoodAnalysis {
        FoodAnalysis {
            version,
            ..catalog().analyse(&food("water").draft.facts())
        }
    }

    #[test]
    fn a_food_is_analysed_once_until_its_version_or_update_time_changes() {
        let memo = AnalysisMemo::new(8);
        let made = Cell::new(0);
        let analyse = || {
            made.set(made.get() + 1);
            analysis(made.get())
        };
        let mut apple = food("apple");
        assert_eq!(memo.get_or_make(&apple, analyse).version, 1);
        assert_eq!(memo.get_or_make(&apple, analyse).version, 1);
        assert_eq!(made.get(), 1);

        apple.version += 1;
        assert_eq!(memo.get_or_make(&apple, analyse).version, 2);
        apple.updated_at += Duration::seconds(1);
        assert_eq!(memo.get_or_make(&apple, analyse).version, 3);
        assert_eq!(made.get(), 3);
    }

    #[test]
    fn long_ingredient_lists_take_more_of_the_room() {
        let memo = AnalysisMemo::new(40);
        let long = (0..30)
            .map(|i| format!("spice {i}"))
            .collect::<Vec<_>>()
            .join(", ");
        for i in 0..6 {
            let draft = FoodDraft::labelled(&format!("blend {i}"), &long);
            let summary = catalog().analyse(&draft.facts()).summary();
            let food = Food::stored(draft, summary);
            memo.get_or_make(&food, || catalog().analyse(&food.draft.facts()));
        }
        // Each weighs more than 30: one per generation, where six foods of one ingredient would all have fit.
        assert_eq!(memo.len(), 2);
    }
}
