//! Keeps stored analyses current: when the taxonomy or the parser changes, `ANALYSIS_VERSION` is bumped and this
//! periodic task re-analyses the catalog in the background, in batches, oldest id first. Until it reaches a food,
//! verdicts on it re-analyse on the fly (`VerdictService::judge_food`), so nobody is judged on stale facts.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diningcoach_dietary::{ANALYSIS_VERSION, DietCatalog};
use diningcoach_kernel::InfraError;
use diningcoach_kernel::schedule::PeriodicTask;

use crate::food::FoodId;
use crate::ports::FoodRepository;

pub struct Reanalysis {
    foods: Arc<dyn FoodRepository>,
    catalog: Arc<DietCatalog>,
    batch: u16,
    /// Batches per run: a run stays short, and the next period goes on where this one stopped.
    batches_per_run: usize,
}

impl Reanalysis {
    pub fn new(foods: Arc<dyn FoodRepository>, catalog: Arc<DietCatalog>) -> Self {
        Self {
            foods,
            catalog,
            batch: 500,
            batches_per_run: 200,
        }
    }

    /// Re-analyses up to one batch of stale foods after `after`; returns how many were stored and where to go
    /// on (`None` when none are left).
    ///
    /// # Errors
    /// Infrastructure failures; a batch can be repeated safely.
    pub async fn batch_after(
        &self,
        after: Option<FoodId>,
    ) -> Result<(u64, Option<FoodId>), InfraError> {
        let stale = self
            .foods
            .stale_analyses(ANALYSIS_VERSION, after, self.batch)
            .await?;
        let Some(last) = stale.last().map(|food| food.id) else {
            return Ok((0, None));
        };
        let fresh: Vec<_> = stale
            .iter()
            .map(|food| (food.id, self.catalog.analyse(&food.draft.facts())))
            .collect();
        let stored = self.foods.store_analyses(&fresh).await?;
        Ok((stored, Some(last)))
    }
}

#[async_trait]
impl PeriodicTask for Reanalysis {
    fn name(&self) -> &'static str {
        "catalog.reanalysis"
    }

    fn period(&self) -> Duration {
        Duration::from_secs(600)
    }

    async fn run(&self, _now: DateTime<Utc>) -> Result<String, InfraError> {
        let mut after = None;
        let mut total = 0;
        for _ in 0..self.batches_per_run {
            let (stored, next) = self.batch_after(after).await?;
            total += stored;
            match next {
                Some(next) => after = Some(next),
                None => return Ok(format!("{total} foods re-analysed; none left")),
            }
        }
        Ok(format!(
            "{total} foods re-analysed; more left for the next run"
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::food::FoodDraft;
    use crate::ports::MockFoodRepository;
    use crate::stored::Food;

    #[tokio::test]
    async fn stale_analyses_are_redone_in_batches_until_none_is_left() {
        let catalog = Arc::new(DietCatalog::load().unwrap());
        let draft = FoodDraft::labelled("Gelatine sweets", "sugar, gelatine");
        let mut summary = catalog.analyse(&draft.facts()).summary();
        summary.version = 0;
        let old = Food::stored(draft, summary);
        let id = old.id;
        let mut foods = MockFoodRepository::new();
        foods
            .expect_stale_analyses()
            .returning(move |version, after, _| {
                assert_eq!(version, ANALYSIS_VERSION);
                Ok(if after.is_none() {
                    vec![old.clone()]
                } else {
                    vec![]
                })
            });
        foods.expect_store_analyses().times(1).returning(|fresh| {
            assert!(fresh.iter().all(|(_, a)| a.ensure_current().is_ok()));
            Ok(fresh.len() as u64)
        });
        let task = Reanalysis::new(Arc::new(foods), catalog);
        let outcome = task.run(Utc::now()).await.unwrap();
        assert_eq!(outcome, "1 foods re-analysed; none left");
        assert_eq!(task.batch_after(Some(id)).await.unwrap(), (0, None));
    }
}
