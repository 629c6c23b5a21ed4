//! A user's diets and allergens, validated against the catalog and compiled for fast evaluation.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::catalog::{Basis, DietCatalog, Limit, RuleCheck};
use crate::error::{DietaryError, ProfileProblem};
use crate::nutrient::Nutrient;
use crate::property::{Property, PropertySet};
use crate::verdict::Level;

/// A health profile as the user (or the identity crate's stored row) gives it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DietProfileInput {
    /// Condition codes, e.g. `kidney_disease`; each adds the diets it implies.
    pub conditions: Vec<String>,
    /// Diets chosen explicitly, with parameters that override the defaults.
    pub diets: Vec<DietSelection>,
    /// Allergen codes, e.g. `peanuts`, `shrimp`.
    pub allergens: Vec<String>,
    /// Adds the `pregnancy` condition.
    pub pregnant: bool,
}

/// One diet chosen by the user.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DietSelection {
    /// The diet's code.
    pub code: String,
    /// Parameter code → value, in the parameter's unit.
    #[serde(default)]
    pub params: BTreeMap<String, f64>,
}

/// Who a set of rules speaks for: a diet or a declared allergen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Subject {
    Diet(String),
    Allergen(String),
}

/// A rule with its limits resolved from the user's parameters.
#[derive(Debug, Clone)]
pub(crate) enum ActiveCheck {
    Ingredients {
        properties: PropertySet,
        severity: Level,
        ambiguous: Level,
        traces: Level,
        unrecognised: Level,
        missing: Level,
        unless_labels: Vec<String>,
        labels_settle_certain: bool,
    },
    Labels {
        any_of: Vec<String>,
        severity: Level,
    },
    Nutrient {
        nutrient: Nutrient,
        per: Basis,
        caution_above: Option<f64>,
        avoid_above: Option<f64>,
        missing: Level,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct ActiveRule {
    pub(crate) code: String,
    pub(crate) check: ActiveCheck,
}

#[derive(Debug, Clone)]
pub(crate) struct RuleSet {
    pub(crate) subject: Subject,
    pub(crate) rules: Vec<ActiveRule>,
}

/// A diet in force for the user, with the parameter values that apply.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActiveDiet {
    /// The diet's code.
    pub code: String,
    /// Every parameter of the diet with the value in force (the user's, or the default).
    pub params: BTreeMap<String, f64>,
    /// Conditions that imply it (empty when only chosen explicitly).
    pub implied_by: Vec<String>,
}

/// A nutrient limit, for pre-filtering foods in SQL alongside [`DietProfile::excluded_tags`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NutrientCeiling {
    /// The nutrient.
    pub nutrient: Nutrient,
    /// Per 100 g or per serving (daily limits are not a property of a food and are not listed).
    pub per: Basis,
    /// A food above this is not `ok`.
    pub max: f64,
}

/// A user's diets and allergens, validated and compiled. Build it with [`DietCatalog::profile`]; it is
/// self-contained (holds no reference to the catalog), cheap to clone and to cache per user.
#[derive(Debug, Clone)]
pub struct DietProfile {
    pub(crate) diets: Vec<ActiveDiet>,
    pub(crate) allergens: Vec<String>,
    pub(crate) rule_sets: Vec<RuleSet>,
}

impl DietProfile {
    /// The diets in force, sorted by code.
    #[must_use]
    pub fn diets(&self) -> &[ActiveDiet] {
        &self.diets
    }

    /// The declared allergen codes, sorted.
    #[must_use]
    pub fn allergens(&self) -> &[String] {
        &self.allergens
    }

    /// Tags (see [`crate::FoodAnalysis::dietary_tags`]) any one of which keeps a food from being `ok` for this
    /// profile's ingredient and allergen rules. It is a pre-filter for "only what I can eat": it is stricter
    /// than the verdict where a label would settle a case (a certified-halal gelatine), never looser.
    #[must_use]
    pub fn excluded_tags(&self) -> Vec<String> {
        self.excluded_tags_worse_than(Level::Ok)
    }

    /// [`Self::excluded_tags`] for a caller who accepts verdicts up to `tolerated` ("ok or caution"): the tags
    /// that make a food worse than that.
    #[must_use]
    pub fn excluded_tags_worse_than(&self, tolerated: Level) -> Vec<String> {
        let mut tags = Vec::new();
        for rule in self.rule_sets.iter().flat_map(|set| &set.rules) {
            if let ActiveCheck::Ingredients {
                properties,
                severity,
                ambiguous,
                traces,
                unrecognised,
                missing,
                ..
            } = &rule.check
            {
                for (prefix, level) in [
                    ("contains", severity),
                    ("possibly", ambiguous),
                    ("traces", traces),
                ] {
                    if *level > tolerated {
                        tags.extend(properties.iter().map(|p: Property| format!("{prefix}:{p}")));
                    }
                }
                if *unrecognised > tolerated {
                    tags.push("ingredients:unrecognised".to_owned());
                }
                if *missing > tolerated {
                    tags.push("ingredients:missing".to_owned());
                }
            }
        }
        tags.sort_unstable();
        tags.dedup();
        tags
    }

    /// Groups of tags a food must have at least one of, per group, to be `ok` (label rules such as the soft-food
    /// texture: `[["label:soft_texture"]]`). In SQL: `dietary_tags && $group` for each group.
    #[must_use]
    pub fn required_tags(&self) -> Vec<Vec<String>> {
        self.required_tags_worse_than(Level::Ok)
    }

    /// [`Self::required_tags`] for a caller who accepts verdicts up to `tolerated`.
    #[must_use]
    pub fn required_tags_worse_than(&self, tolerated: Level) -> Vec<Vec<String>> {
        self.rule_sets
            .iter()
            .flat_map(|set| &set.rules)
            .filter_map(|rule| match &rule.check {
                ActiveCheck::Labels { any_of, severity } if *severity > tolerated => Some(
                    any_of
                        .iter()
                        .map(|label| format!("label:{label}"))
                        .collect(),
                ),
                _ => None,
            })
            .collect()
    }

    /// The per-100 g and per-serving nutrient limits above which a food is not `ok`.
    #[must_use]
    pub fn nutrient_ceilings(&self) -> Vec<NutrientCeiling> {
        self.nutrient_ceilings_worse_than(Level::Ok)
    }

    /// [`Self::nutrient_ceilings`] for a caller who accepts verdicts up to `tolerated`: with `caution`, only the
    /// limits above which a food is to be avoided.
    #[must_use]
    pub fn nutrient_ceilings_worse_than(&self, tolerated: Level) -> Vec<NutrientCeiling> {
        let mut ceilings: Vec<NutrientCeiling> = Vec::new();
        for rule in self.rule_sets.iter().flat_map(|set| &set.rules) {
            if let ActiveCheck::Nutrient {
                nutrient,
                per,
                caution_above,
                avoid_above,
                ..
            } = &rule.check
            {
                if *per == Basis::Day {
                    continue;
                }
                let limit = if tolerated >= Level::Caution {
                    *avoid_above
                } else {
                    caution_above.or(*avoid_above)
                };
                let Some(max) = limit else {
                    continue;
                };
                match ceilings
                    .iter_mut()
                    .find(|c| c.nutrient == *nutrient && c.per == *per)
                {
                    Some(existing) => existing.max = existing.max.min(max),
                    None => ceilings.push(NutrientCeiling {
                        nutrient: *nutrient,
                        per: *per,
                        max,
                    }),
                }
            }
        }
        ceilings
    }
}

/// The condition the `pregnant` flag stands for.
const PREGNANCY_CONDITION: &str = "pregnancy";

impl DietCatalog {
    /// Validates a health profile and compiles it. Conditions expand to the diets they imply; a diet both
    /// implied and chosen appears once, with the user's parameters.
    ///
    /// # Errors
    /// [`DietaryError::InvalidProfile`] listing every unknown code and every bad parameter, each with the path
    /// of its field (`diets[0].params.daily_sodium_mg`), for a 422 answer.
    pub fn profile(&self, input: &DietProfileInput) -> Result<DietProfile, DietaryError> {
        let mut problems = Vec::new();
        // diet code → (params set by the user, conditions implying it)
        let mut chosen: BTreeMap<String, (BTreeMap<String, f64>, Vec<String>)> = BTreeMap::new();

        let pregnancy = input.pregnant.then(|| PREGNANCY_CONDITION.to_owned());
        let conditions = input
            .conditions
            .iter()
            .enumerate()
            .map(|(i, c)| (Some(i), c))
            .chain(pregnancy.iter().map(|c| (None, c)));
        for (index, code) in conditions {
            match self.conditions.iter().find(|c| &c.code == code) {
                Some(condition) => {
                    for diet in &condition.implies {
                        let entry = chosen.entry(diet.clone()).or_default();
                        if !entry.1.contains(code) {
                            entry.1.push(code.clone());
                        }
                    }
                }
                None => problems.push(ProfileProblem::UnknownCondition {
                    field: index
                        .map_or_else(|| "pregnant".to_owned(), |i| format!("conditions[{i}]")),
                    code: code.clone(),
                }),
            }
        }
        for (index, selection) in input.diets.iter().enumerate() {
            let Some(diet) = self.diet(&selection.code) else {
                problems.push(ProfileProblem::UnknownDiet {
                    field: format!("diets[{index}].code"),
                    code: selection.code.clone(),
                });
                continue;
            };
            for (name, value) in &selection.params {
                let field = format!("diets[{index}].params.{name}");
                match diet.parameters.iter().find(|p| &p.code == name) {
                    None => problems.push(ProfileProblem::UnknownParameter {
                        field,
                        diet: diet.code.clone(),
                        parameter: name.clone(),
                    }),
                    Some(p) if !(value.is_finite() && p.min <= *value && *value <= p.max) => {
                        problems.push(ProfileProblem::ParameterOutOfRange {
                            field,
                            value: *value,
                            min: p.min,
                            max: p.max,
                            unit: p.unit.clone(),
                        });
                    }
                    Some(_) => {}
                }
            }
            chosen
                .entry(diet.code.clone())
                .or_default()
                .0
                .extend(selection.params.iter().map(|(k, v)| (k.clone(), *v)));
        }
        let mut allergens = Vec::new();
        for (index, code) in input.allergens.iter().enumerate() {
            if self.allergens.iter().any(|a| &a.code == code) {
                allergens.push(code.clone());
            } else {
                problems.push(ProfileProblem::UnknownAllergen {
                    field: format!("allergens[{index}]"),
                    code: code.clone(),
                });
            }
        }
        if !problems.is_empty() {
            return Err(DietaryError::InvalidProfile { problems });
        }
        allergens.sort_unstable();
        allergens.dedup();

        let mut diets = Vec::new();
        let mut rule_sets = Vec::new();
        for (code, (user_params, implied_by)) in chosen {
            let Some(diet) = self.diet(&code) else {
                continue;
            };
            let params: BTreeMap<String, f64> = diet
                .parameters
                .iter()
                .map(|p| {
                    (
                        p.code.clone(),
                        user_params.get(&p.code).copied().unwrap_or(p.default),
                    )
                })
                .collect();
            let resolve = |limit: &Option<Limit>| match limit {
                Some(Limit::Value(value)) => Some(*value),
                Some(Limit::Parameter(name)) => params.get(name).copied(),
                None => None,
            };
            let rules = diet
                .rules
                .iter()
                .map(|rule| ActiveRule {
                    code: rule.code.clone(),
                    check: match &rule.check {
                        RuleCheck::Ingredients(c) => ActiveCheck::Ingredients {
                            properties: c.properties,
                            severity: c.severity,
                            ambiguous: c.ambiguous,
                            traces: c.traces,
                            unrecognised: c.unrecognised,
                            missing: c.missing,
                            unless_labels: c.unless_labels.clone(),
                            labels_settle_certain: c.labels_settle_certain,
                        },
                        RuleCheck::Labels(c) => ActiveCheck::Labels {
                            any_of: c.any_of.clone(),
                            severity: c.severity,
                        },
                        RuleCheck::Nutrient(c) => ActiveCheck::Nutrient {
                            nutrient: c.nutrient,
                            per: c.per,
                            caution_above: resolve(&c.caution_above),
                            avoid_above: resolve(&c.avoid_above),
                            missing: c.missing,
                        },
                    },
                })
                .collect();
            rule_sets.push(RuleSet {
                subject: Subject::Diet(code.clone()),
                rules,
            });
            diets.push(ActiveDiet {
                code,
                params,
                implied_by,
            });
        }
        let policy = &self.allergy_policy;
        for code in &allergens {
            let Some(property) = Property::from_code(code) else {
                continue;
            };
            rule_sets.push(RuleSet {
                subject: Subject::Allergen(code.clone()),
                rules: vec![ActiveRule {
                    code: format!("allergen_{code}"),
                    check: ActiveCheck::Ingredients {
                        properties: std::iter::once(property).collect(),
                        severity: policy.severity,
                        ambiguous: policy.ambiguous,
                        traces: policy.traces,
                        unrecognised: policy.unrecognised,
                        missing: policy.missing,
                        unless_labels: Vec::new(),
                        labels_settle_certain: false,
                    },
                }],
            });
        }
        Ok(DietProfile {
            diets,
            allergens,
            rule_sets,
        })
    }
}
