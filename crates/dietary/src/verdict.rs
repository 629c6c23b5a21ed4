//! Verdicts: a food (its stored analysis) against a user's profile and what they already ate today.

use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};

use crate::analysis::{AnalysedIngredient, FoodAnalysis};
use crate::catalog::Basis;
use crate::ingredient_list::Section;
use crate::nutrient::{DayIntake, Nutrient};
use crate::profile::{ActiveCheck, DietProfile, Subject};
use crate::property::PropertySet;

/// How fine a food is. Ordered from best to worst: `ok < caution < unknown < avoid`.
///
/// `unknown` ranks above `caution` because it may hide an `avoid`: a food we cannot judge must not look
/// better than one with a known, moderate concern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Nothing in the data goes against the user's diets and allergens.
    Ok,
    /// Fine in moderation or with care (a trace, an ambiguous origin, a nutrient over a soft limit).
    Caution,
    /// The data needed to judge is missing or not understood.
    Unknown,
    /// Goes against a diet or an allergen.
    Avoid,
}

/// How sure a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Certainty {
    /// The ingredient or declared allergen certainly has the property.
    Certain,
    /// It may have it: its origin is not stated.
    Possible,
    /// A precautionary statement ("may contain") names it.
    Trace,
}

/// What a reason rests on. Borrows from the analysis, so that evaluating a page of foods allocates little.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Evidence<'a> {
    /// An ingredient of the list.
    Ingredient {
        /// As written on the label.
        written: &'a str,
        /// Taxonomy entries it matched.
        matched: &'a [String],
        /// The properties, among those the rule is about, that it has.
        properties: PropertySet,
        /// How sure.
        certainty: Certainty,
    },
    /// An allergen or trace tag of the product data.
    DeclaredTag {
        /// The tag, e.g. `en:milk`.
        tag: &'a str,
        /// The properties, among those the rule is about, that it declares.
        properties: PropertySet,
        /// `certain` for allergens, `trace` for traces.
        certainty: Certainty,
    },
    /// An ingredient the taxonomy does not know.
    UnrecognisedIngredient {
        /// As written on the label.
        written: &'a str,
    },
    /// The food has no ingredient list.
    MissingIngredients,
    /// None of the labels (or categories) a rule needs is present.
    LabelMissing {
        /// The label codes, any one of which would do.
        any_of: &'a [String],
    },
    /// A nutrient amount against a limit.
    Nutrient {
        /// The nutrient.
        nutrient: Nutrient,
        /// Per 100 g, per serving, or the day's total with one serving.
        per: Basis,
        /// The amount.
        value: f64,
        /// The limit it exceeds.
        limit: f64,
        /// Unit of both.
        unit: &'static str,
        /// For daily limits, what was eaten before this food.
        #[serde(skip_serializing_if = "Option::is_none")]
        eaten_today: Option<f64>,
    },
    /// The nutrient amount, or the serving size it needs, is not known.
    MissingNutrient {
        /// The nutrient.
        nutrient: Nutrient,
        /// The basis the rule needs.
        per: Basis,
        /// What is missing: the nutrient's code or `serving_size_g`.
        missing: &'static str,
    },
}

/// One finding: which diet (or allergen) and rule, how bad, why in one sentence, and the evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Reason<'a> {
    /// The diet's code, when the finding comes from a diet.
    pub diet: Option<&'a str>,
    /// The allergen's code, when the finding comes from a declared allergen.
    pub allergen: Option<&'a str>,
    /// The rule's code.
    pub rule: &'a str,
    /// How bad.
    pub severity: Level,
    /// What it rests on.
    pub evidence: Evidence<'a>,
}

impl Reason<'_> {
    /// A sentence for people, e.g. "“Pork gelatine” contains pork.".
    #[must_use]
    pub fn message(&self) -> String {
        let names = |set: &PropertySet| {
            set.iter()
                .map(|p| p.name().replace('_', " "))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match &self.evidence {
            Evidence::Ingredient {
                written,
                properties,
                certainty: Certainty::Certain,
                ..
            } => {
                format!("“{written}” contains {}.", names(properties))
            }
            Evidence::Ingredient {
                written,
                properties,
                certainty: Certainty::Possible,
                ..
            } => {
                format!(
                    "“{written}” may contain {}: the label does not say what it is made from.",
                    names(properties)
                )
            }
            Evidence::Ingredient {
                written,
                properties,
                certainty: Certainty::Trace,
                ..
            } => {
                format!(
                    "The label warns it may contain {} (“{written}”).",
                    names(properties)
                )
            }
            Evidence::DeclaredTag {
                tag,
                properties,
                certainty: Certainty::Trace,
            } => {
                format!(
                    "The product data warns of traces of {} ({tag}).",
                    names(properties)
                )
            }
            Evidence::DeclaredTag {
                tag, properties, ..
            } => {
                format!("The product data declares {} ({tag}).", names(properties))
            }
            Evidence::UnrecognisedIngredient { written } => {
                format!(
                    "“{written}” is not an ingredient we know, so we cannot tell whether it is suitable."
                )
            }
            Evidence::MissingIngredients => {
                "There is no ingredient list, so we cannot tell whether it is suitable.".to_owned()
            }
            Evidence::LabelMissing { any_of } => format!(
                "The label does not show {}, which the ingredients cannot tell.",
                any_of
                    .iter()
                    .map(|code| code.replace('_', " "))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
            Evidence::Nutrient {
                nutrient,
                per,
                value,
                limit,
                unit,
                ..
            } => format!(
                "{} {unit} of {} {}, above the limit of {} {unit}.",
                round(*value),
                nutrient.name(),
                per.phrase(),
                round(*limit)
            ),
            Evidence::MissingNutrient {
                nutrient,
                missing: "serving_size_g",
                ..
            } => {
                format!(
                    "The serving size is not known, so the {} per serving cannot be checked.",
                    nutrient.name()
                )
            }
            Evidence::MissingNutrient { nutrient, .. } => {
                format!(
                    "The {} content is not known, so it cannot be checked.",
                    nutrient.name()
                )
            }
        }
    }
}

fn round(value: f64) -> f64 {
    if value >= 10.0 {
        value.round()
    } else {
        (value * 10.0).round() / 10.0
    }
}

impl Serialize for Reason<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut state = serializer.serialize_struct("Reason", 6)?;
        state.serialize_field("diet", &self.diet)?;
        state.serialize_field("allergen", &self.allergen)?;
        state.serialize_field("rule", self.rule)?;
        state.serialize_field("severity", &self.severity)?;
        state.serialize_field("message", &self.message())?;
        state.serialize_field("evidence", &self.evidence)?;
        state.end()
    }
}

/// The answer for one food and one user.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict<'a> {
    /// The worst severity over all reasons; `ok` when there are none.
    pub level: Level,
    /// Every finding, worst first.
    pub reasons: Vec<Reason<'a>>,
}

impl Verdict<'_> {
    /// The worst level among the reasons of one diet, or of one allergen (`ok` if it has none).
    #[must_use]
    pub fn level_for(&self, code: &str) -> Level {
        self.reasons
            .iter()
            .filter(|r| r.diet == Some(code) || r.allergen == Some(code))
            .map(|r| r.severity)
            .max()
            .unwrap_or(Level::Ok)
    }
}

/// Evaluates a food against a profile, given what the user already ate today (`DayIntake::default()` until the
/// diary passes it in). Pure and cheap: bit operations for ingredient rules, arithmetic for nutrient rules;
/// allocation only for the reasons found.
///
/// Call [`FoodAnalysis::ensure_current`] first when the analysis comes from storage.
#[must_use]
pub fn evaluate<'a>(
    food: &'a FoodAnalysis,
    profile: &'a DietProfile,
    intake: &DayIntake,
) -> Verdict<'a> {
    let mut reasons = Vec::new();
    for set in &profile.rule_sets {
        let (diet, allergen) = match &set.subject {
            Subject::Diet(code) => (Some(code.as_str()), None),
            Subject::Allergen(code) => (None, Some(code.as_str())),
        };
        let mut unrecognised_reported = false;
        // One "not known" reason per nutrient and subject, even when several rules need it.
        let mut missing_reported: Vec<(Nutrient, &'static str)> = Vec::new();
        for rule in &set.rules {
            let mut push = |severity: Level, evidence: Evidence<'a>| {
                if severity > Level::Ok {
                    reasons.push(Reason {
                        diet,
                        allergen,
                        rule: &rule.code,
                        severity,
                        evidence,
                    });
                }
            };
            match &rule.check {
                ActiveCheck::Ingredients {
                    properties,
                    severity,
                    ambiguous,
                    traces,
                    unrecognised,
                    missing,
                    unless_labels,
                    labels_settle_certain,
                } => {
                    let settled = !unless_labels.is_empty()
                        && food.labels.iter().any(|l| unless_labels.contains(l));
                    let certain = food.contains.intersection(*properties);
                    let certain_settled = settled && *labels_settle_certain;
                    if !certain.is_empty() && !certain_settled {
                        certain_findings(food, *properties, *severity, &mut push);
                    }
                    if settled {
                        continue;
                    }
                    if food.possibly.intersects(*properties) && *ambiguous > Level::Ok {
                        for ingredient in ingredients_in(food, Section::Ingredients) {
                            let hit = ingredient
                                .maybe
                                .intersection(*properties)
                                .difference(food.contains);
                            if !hit.is_empty() {
                                push(
                                    *ambiguous,
                                    ingredient_evidence(ingredient, hit, Certainty::Possible),
                                );
                            }
                        }
                    }
                    if food.traces.intersects(*properties) && *traces > Level::Ok {
                        trace_findings(food, *properties, *traces, &mut push);
                    }
                    if certain.is_empty() && !unrecognised_reported && *unrecognised > Level::Ok {
                        for written in &food.unrecognised {
                            unrecognised_reported = true;
                            push(*unrecognised, Evidence::UnrecognisedIngredient { written });
                        }
                    }
                    if certain.is_empty() && !food.ingredients_declared && *missing > Level::Ok {
                        push(*missing, Evidence::MissingIngredients);
                    }
                }
                ActiveCheck::Labels { any_of, severity } => {
                    if !food.labels.iter().any(|l| any_of.contains(l)) {
                        push(*severity, Evidence::LabelMissing { any_of });
                    }
                }
                ActiveCheck::Nutrient {
                    nutrient,
                    per,
                    caution_above,
                    avoid_above,
                    missing,
                } => {
                    let (value, eaten_today) = match nutrient_amount(food, intake, *nutrient, *per)
                    {
                        Ok(amount) => amount,
                        Err(what) => {
                            if *missing > Level::Ok
                                && !missing_reported.contains(&(*nutrient, what))
                            {
                                missing_reported.push((*nutrient, what));
                                let evidence = Evidence::MissingNutrient {
                                    nutrient: *nutrient,
                                    per: *per,
                                    missing: what,
                                };
                                push(*missing, evidence);
                            }
                            continue;
                        }
                    };
                    let exceeded = [(Level::Avoid, avoid_above), (Level::Caution, caution_above)]
                        .into_iter()
                        .find_map(|(level, limit)| {
                            limit
                                .filter(|limit| value > *limit)
                                .map(|limit| (level, limit))
                        });
                    if let Some((level, limit)) = exceeded {
                        push(
                            level,
                            Evidence::Nutrient {
                                nutrient: *nutrient,
                                per: *per,
                                value,
                                limit,
                                unit: nutrient.unit(),
                                eaten_today,
                            },
                        );
                    }
                }
            }
        }
    }
    // Stable: within a severity, reasons keep the order of diets, rules and ingredients.
    reasons.sort_by_key(|r| std::cmp::Reverse(r.severity));
    let level = reasons.first().map_or(Level::Ok, |r| r.severity);
    Verdict { level, reasons }
}

/// The amount a nutrient rule compares with its limits, and for daily rules what was eaten before; or what is
/// missing to compute it (the nutrient's code, or `serving_size_g`).
fn nutrient_amount(
    food: &FoodAnalysis,
    intake: &DayIntake,
    nutrient: Nutrient,
    per: Basis,
) -> Result<(f64, Option<f64>), &'static str> {
    let per_100g = food.nutrients.get(nutrient).ok_or(nutrient.code())?;
    let serving = || {
        food.serving_size_g
            .map(|grams| per_100g * grams / 100.0)
            .ok_or("serving_size_g")
    };
    match per {
        Basis::Per100g => Ok((per_100g, None)),
        Basis::Serving => Ok((serving()?, None)),
        Basis::Day => {
            let eaten = intake.eaten(nutrient);
            Ok((eaten + serving()?, Some(eaten)))
        }
    }
}

fn ingredients_in(
    food: &FoodAnalysis,
    section: Section,
) -> impl Iterator<Item = &AnalysedIngredient> {
    food.ingredients
        .iter()
        .filter(move |i| (i.parsed.section == Section::Traces) == (section == Section::Traces))
}

fn ingredient_evidence(
    ingredient: &AnalysedIngredient,
    hit: PropertySet,
    certainty: Certainty,
) -> Evidence<'_> {
    Evidence::Ingredient {
        written: &ingredient.parsed.text,
        matched: &ingredient.matched,
        properties: hit,
        certainty,
    }
}

fn certain_findings<'a>(
    food: &'a FoodAnalysis,
    properties: PropertySet,
    severity: Level,
    push: &mut impl FnMut(Level, Evidence<'a>),
) {
    for ingredient in ingredients_in(food, Section::Ingredients) {
        let hit = ingredient.is.intersection(properties);
        if !hit.is_empty() {
            push(
                severity,
                ingredient_evidence(ingredient, hit, Certainty::Certain),
            );
        }
    }
    for tag in food
        .declared
        .iter()
        .filter(|t| t.section == Section::Contains)
    {
        let hit = tag.is.intersection(properties);
        if !hit.is_empty() {
            push(
                severity,
                Evidence::DeclaredTag {
                    tag: &tag.tag,
                    properties: hit,
                    certainty: Certainty::Certain,
                },
            );
        }
    }
}

fn trace_findings<'a>(
    food: &'a FoodAnalysis,
    properties: PropertySet,
    severity: Level,
    push: &mut impl FnMut(Level, Evidence<'a>),
) {
    let relevant = properties.difference(food.contains);
    for ingredient in ingredients_in(food, Section::Traces) {
        let hit = ingredient.is.union(ingredient.maybe).intersection(relevant);
        if !hit.is_empty() {
            push(
                severity,
                ingredient_evidence(ingredient, hit, Certainty::Trace),
            );
        }
    }
    for tag in food
        .declared
        .iter()
        .filter(|t| t.section == Section::Traces)
    {
        let hit = tag.is.intersection(relevant);
        if !hit.is_empty() {
            push(
                severity,
                Evidence::DeclaredTag {
                    tag: &tag.tag,
                    properties: hit,
                    certainty: Certainty::Trace,
                },
            );
        }
    }
}
