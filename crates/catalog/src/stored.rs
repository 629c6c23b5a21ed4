//! Foods as the catalog stores them, and the search that finds them.

use chrono::{DateTime, Utc};
use diningcoach_dietary::{AnalysisSummary, FoodAnalysis, Level, NutrientCeiling};
use diningcoach_kernel::{Limit, UserId};
use serde::{Deserialize, Serialize};

use crate::food::{FoodDraft, FoodId};
use crate::search::SearchQuery;

/// A food of the catalog: what was submitted or imported, and what any viewer is shown of its dietary analysis.
///
/// The ingredient-by-ingredient analysis is not stored: it is a function of the draft's facts that costs a few
/// microseconds, where storing it made two thirds of every row. A verdict re-analyses the draft
/// ([`crate::VerdictService::judge_food`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Food {
    pub id: FoodId,
    /// The stable code of the food in its source (`off:…`, `gen:…`, a CSV's `food_code`, `user:…`).
    pub code: String,
    pub draft: FoodDraft,
    /// As stored with the food: from the analyser's version at the time (see [`AnalysisSummary::version`]).
    pub analysis: AnalysisSummary,
    pub created_by: Option<UserId>,
    /// Bumped by every edit, for `If-Match`.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A state of a stored food. Every write of a food bumps its version and update time, and a new analysis of it
/// the analyser version of its stored analysis, so what is derived from a food (its analysis, its JSON) is a
/// function of its state: the key of the memos that keep such things.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FoodState {
    pub id: FoodId,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
    pub analysis_version: u32,
}

impl Food {
    #[must_use]
    pub fn state(&self) -> FoodState {
        FoodState {
            id: self.id,
            version: self.version,
            updated_at: self.updated_at,
            analysis_version: self.analysis.version,
        }
    }
}

/// A validated food with its analysis, ready to be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysedFood {
    pub draft: FoodDraft,
    pub analysis: FoodAnalysis,
}

/// Who acts on the catalog, as far as it cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub user: UserId,
    pub admin: bool,
}

/// The groups of results of a search, best first. Within a group results are in a fixed order, so that a
/// cursor can resume inside a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchTier {
    /// No text: every food, by name.
    All,
    /// The name is the query.
    Exact,
    /// The name starts with the query.
    NamePrefix,
    /// A word of the name or brand starts with the query.
    WordPrefix,
    /// The query is somewhere else in the name or brand.
    Substring,
    /// Close misspellings, only when few foods contain the query itself: the query with each unknown or rare
    /// word corrected to a close, more common word of the catalog ("choclate" → "chocolate"); names that start
    /// with the correction.
    CorrectedPrefix,
    /// A word of the name or brand starts with the correction.
    CorrectedWordPrefix,
}

impl SearchTier {
    /// The tiers a query is looked up in, in order.
    #[must_use]
    pub fn plan(query: Option<&SearchQuery>) -> &'static [SearchTier] {
        use SearchTier::*;
        match query {
            None => &[All],
            // No trigram can be taken from a word under three characters: the b-tree prefix paths only, which
            // find a brand through its first word, a word start like any other.
            Some(q) if q.is_short() => &[Exact, NamePrefix, WordPrefix],
            Some(_) => &[
                Exact,
                NamePrefix,
                WordPrefix,
                Substring,
                CorrectedPrefix,
                CorrectedWordPrefix,
            ],
        }
    }

    /// The tier's name in the API and in cursors.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Exact => "exact",
            Self::NamePrefix => "name_prefix",
            Self::WordPrefix => "word_prefix",
            Self::Substring => "substring",
            Self::CorrectedPrefix => "corrected_prefix",
            Self::CorrectedWordPrefix => "corrected_word_prefix",
        }
    }

    /// Whether the tier holds the matches of a corrected query rather than of the query itself.
    #[must_use]
    pub fn is_correction(self) -> bool {
        matches!(self, Self::CorrectedPrefix | Self::CorrectedWordPrefix)
    }

    /// This tier alone, as a plan.
    #[must_use]
    pub fn only(self) -> &'static [SearchTier] {
        use SearchTier::*;
        match self {
            All => &[All],
            Exact => &[Exact],
            NamePrefix => &[NamePrefix],
            WordPrefix => &[WordPrefix],
            Substring => &[Substring],
            CorrectedPrefix => &[CorrectedPrefix],
            CorrectedWordPrefix => &[CorrectedWordPrefix],
        }
    }
}

/// Where a page of results ended: the tier, the sort key inside it, and the food (ties).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchPosition {
    #[serde(rename = "t")]
    pub tier: SearchTier,
    #[serde(rename = "k")]
    pub key: String,
    #[serde(rename = "i")]
    pub id: FoodId,
}

/// "Only what I can eat", compiled from a profile into what SQL can check on stored analysis facts. Never looser
/// than the verdict; the service drops what the verdict still refuses (daily budgets).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SuitabilityFilter {
    /// A food with any of these tags is out.
    pub excluded_tags: Vec<String>,
    /// A food must have one tag of each group.
    pub required_tags: Vec<Vec<String>>,
    /// Nutrient limits per 100 g or per serving; a food without the value is out.
    pub ceilings: Vec<NutrientCeiling>,
}

/// How suitable the foods of a search must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Suitability {
    /// Only foods whose verdict is ok.
    Ok,
    /// Foods whose verdict is ok or caution.
    Caution,
}

impl Suitability {
    /// The worst verdict kept.
    #[must_use]
    pub fn tolerated(self) -> Level {
        match self {
            Suitability::Ok => Level::Ok,
            Suitability::Caution => Level::Caution,
        }
    }
}

/// A search as the user asked it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FoodSearchRequest {
    pub query: Option<SearchQuery>,
    pub category: Option<String>,
    pub brand: Option<String>,
    pub suitable: Option<Suitability>,
    pub limit: Limit,
    pub cursor: Option<String>,
}

/// A search as the repository runs it: a run of tiers of the plan, best first.
#[derive(Debug, Clone, PartialEq)]
pub struct TierQuery<'a> {
    pub tiers: &'a [SearchTier],
    pub query: Option<&'a SearchQuery>,
    /// Matches `category_main` or `category_sub` exactly.
    pub category: Option<&'a str>,
    /// Normalised like stored brands; matches the whole brand.
    pub brand: Option<&'a str>,
    pub suitable: Option<&'a SuitabilityFilter>,
    /// Resume after this position, which is in the first tier.
    pub after: Option<&'a SearchPosition>,
    pub limit: u16,
}

/// What writing a batch of foods did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BatchOutcome {
    pub inserted: u64,
    pub updated: u64,
}

#[cfg(any(test, feature = "mock"))]
impl Food {
    /// A food as a repository would give it back just after storing it, for tests (other crates' with the `mock`
    /// feature).
    #[must_use]
    pub fn stored(draft: FoodDraft, analysis: AnalysisSummary) -> Self {
        Self {
            id: FoodId::generate(),
            code: format!("test:{}", draft.name()),
            draft,
            analysis,
            created_by: None,
            version: 1,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    /// This food alone as what a search found, in the first of the tiers asked.
    #[cfg(test)]
    pub(crate) fn found_alone(
        self,
        query: &TierQuery<'_>,
    ) -> Result<Vec<(Self, SearchPosition)>, diningcoach_kernel::InfraError> {
        let position = SearchPosition {
            tier: query.tiers[0],
            key: String::new(),
            id: self.id,
        };
        Ok(vec![(self, position)])
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn tiers_are_named_alike_in_the_api_and_in_cursors() {
        let long = SearchQuery::parse("chocolate").unwrap();
        let short = SearchQuery::parse("ch").unwrap();
        let tiers = [
            SearchTier::plan(None),
            SearchTier::plan(Some(&long)),
            SearchTier::plan(Some(&short)),
        ]
        .concat();
        for tier in tiers {
            assert_eq!(
                serde_json::to_string(&tier).unwrap(),
                format!("\"{}\"", tier.as_str())
            );
        }
    }
}
