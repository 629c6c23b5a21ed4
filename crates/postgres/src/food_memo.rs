//! The foods that searches found lately, as they were read. A search's statement selects only the state of each
//! food it ranks (id, version, update time, analyser version: a few bytes) and the foods in a remembered state
//! are not read again; the others are read in one statement by id. Reading, sending and parsing the ~40 columns
//! of 20 foods was ~30 % of what the statement of a word search cost PostgreSQL (docs/benchmarks.md), and
//! building them the larger part of what the API spent reading a page.
//!
//! Every write of a food bumps its version and update time, and a new analysis its analyser version, so a
//! remembered food is never out of date: a food read in an older state is simply not found.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use diningcoach_catalog::{Food, FoodId, FoodState};
use diningcoach_kernel::{GenerationalMemo, InfraError};
use uuid::Uuid;

use crate::PgError;
use crate::foods::FoodRow;
use crate::schema::foods;

/// A food's state from its columns, as a search's statement and a food's row both read them.
pub(crate) fn food_state(
    id: Uuid,
    version: i32,
    updated_at: DateTime<Utc>,
    analysis_version: i32,
) -> FoodState {
    FoodState {
        id: FoodId::from_uuid(id),
        version,
        updated_at,
        // Stored from a `u32`; a value that cannot be one is read as 0 wherever it is read.
        analysis_version: u32::try_from(analysis_version).unwrap_or(0),
    }
}

/// The room of each of the memo's two generations, in (approximate) bytes: ~10,000 foods of ~1.6 KB, some
/// hundreds of search pages, so 32 MB at most for both.
const REMEMBERED_BYTES: usize = 16 << 20;

pub(crate) struct FoodMemo {
    foods: GenerationalMemo<FoodState, Arc<Food>>,
}

impl Default for FoodMemo {
    fn default() -> Self {
        Self {
            foods: GenerationalMemo::new(REMEMBERED_BYTES, weight),
        }
    }
}

impl FoodMemo {
    /// The foods of `states`, in their order: remembered, or read. A food deleted since its state was read is
    /// `None`; one written since is read as it is now.
    pub(crate) async fn foods(
        &self,
        conn: &mut AsyncPgConnection,
        states: &[FoodState],
    ) -> Result<Vec<Option<Food>>, InfraError> {
        let mut found: Vec<Option<Food>> = states
            .iter()
            .map(|state| self.foods.get(state).map(|food| Food::clone(&food)))
            .collect();
        let missing: Vec<Uuid> = states
            .iter()
            .zip(&found)
            .filter(|(_, food)| food.is_none())
            .map(|(state, _)| state.id.as_uuid())
            .collect();
        if missing.is_empty() {
            return Ok(found);
        }
        let rows: Vec<FoodRow> = foods::table
            .filter(foods::id.eq_any(missing))
            .select(FoodRow::as_select())
            .load(conn)
            .await
            .map_err(PgError::from)?;
        for row in rows {
            let state = row.state();
            let food = row.into_food()?;
            if let Some(slot) = states
                .iter()
                .position(|wanted| wanted.id == state.id)
                .and_then(|at| found.get_mut(at))
            {
                *slot = Some(food.clone());
            }
            self.foods.put(state, Arc::new(food));
        }
        Ok(found)
    }
}

/// Roughly what a food holds in memory: its fixed part and its texts.
fn weight(food: &Arc<Food>) -> usize {
    let draft = &food.draft;
    let texts = [
        Some(food.code.as_str()),
        Some(draft.name()),
        draft.brand(),
        draft.country(),
        draft.ingredients_text(),
        draft.storage_notes(),
    ];
    let lists = [draft.allergens(), draft.traces(), draft.labels()];
    size_of::<Food>()
        + texts.iter().flatten().map(|text| text.len()).sum::<usize>()
        + lists
            .iter()
            .flat_map(|list| list.iter())
            .map(|item| item.len() + size_of::<String>())
            .sum::<usize>()
}
