//! The diet catalog: diets, conditions, allergens, labels and the ingredient taxonomy, loaded from the embedded
//! data files and validated.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::data;
use crate::error::DietaryError;
use crate::nutrient::Nutrient;
use crate::property::{self, MAX_PROPERTIES, Property, PropertySet};
use crate::taxonomy::{Entry, Taxonomy};
use crate::verdict::Level;

/// A diet: what it limits, with which parameters, and on whose authority.
#[derive(Debug, Clone, Serialize)]
pub struct Diet {
    /// Stable code, e.g. `low_sodium`.
    pub code: String,
    /// Display name.
    pub name: String,
    /// What the diet is for and what it limits.
    pub description: String,
    /// Parameters a user (or their clinician) may set, with defaults.
    pub parameters: Vec<DietParameter>,
    /// The rules, each with a one-line summary.
    pub rules: Vec<Rule>,
    /// Public guidance the rules follow.
    pub sources: Vec<Source>,
}

/// A tunable number of a diet, such as a daily sodium budget.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DietParameter {
    /// Code, with its unit as suffix, e.g. `daily_sodium_mg`.
    pub code: String,
    /// What it means.
    pub description: String,
    /// Unit: `mg`, `g`, `ug`...
    pub unit: String,
    /// Value when the user sets none.
    pub default: f64,
    /// Smallest accepted value.
    pub min: f64,
    /// Largest accepted value.
    pub max: f64,
}

/// Public guidance a diet follows.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// Citation, e.g. `21 CFR 101.61 — Nutrient content claims for the sodium content of foods`.
    pub title: String,
    /// Where to read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// One rule of a diet.
#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    /// Stable code within the diet, e.g. `sodium_per_serving`.
    pub code: String,
    /// One sentence for people.
    pub summary: String,
    /// What the rule checks.
    #[serde(flatten)]
    pub check: RuleCheck,
}

/// What a rule checks.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleCheck {
    /// The ingredients (and declared allergen tags) must not have any of `properties`.
    Ingredients(IngredientCheck),
    /// A nutrient must stay under limits.
    Nutrient(NutrientCheck),
    /// The product must carry one of some labels (or categories) for the rule to be satisfied.
    Labels(LabelCheck),
}

/// A rule satisfied only by a label or category, for what ingredients cannot tell (texture).
#[derive(Debug, Clone, Serialize)]
pub struct LabelCheck {
    /// Label codes, any one of which satisfies the rule.
    pub any_of: Vec<String>,
    /// When none is present.
    pub severity: Level,
}

/// How an ingredient rule answers each situation. A level of `ok` means "does not matter for this rule".
#[derive(Debug, Clone, Serialize)]
pub struct IngredientCheck {
    /// Properties the rule is about.
    pub properties: PropertySet,
    /// When an ingredient certainly has one of them.
    pub severity: Level,
    /// When an ingredient may have one, its origin not being stated (gelatine, E471, "natural flavour").
    pub ambiguous: Level,
    /// When a precautionary statement ("may contain") names one.
    pub traces: Level,
    /// When an ingredient is not recognised.
    pub unrecognised: Level,
    /// When the food has no ingredient list.
    pub missing: Level,
    /// Label codes that settle the ambiguous, unrecognised, trace and missing cases (a certified-halal label
    /// settles a gelatine of unstated origin), never a certain finding.
    pub unless_labels: Vec<String>,
    /// Whether those labels also settle certain findings (certified gluten-free oats).
    pub labels_settle_certain: bool,
}

/// Which amount of a nutrient a rule limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Per 100 g of the food.
    #[serde(rename = "100g")]
    Per100g,
    /// Per serving (needs the serving size).
    Serving,
    /// What was eaten today plus one serving (needs the serving size).
    Day,
}

impl Basis {
    /// The words used in sentences: "per 100 g", "per serving", "today".
    #[must_use]
    pub fn phrase(self) -> &'static str {
        match self {
            Self::Per100g => "per 100 g",
            Self::Serving => "per serving",
            Self::Day => "today, with one serving",
        }
    }
}

/// A limit: a number, or the code of one of the diet's parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Limit {
    /// A fixed value, in the nutrient's unit.
    Value(f64),
    /// A diet parameter's code.
    Parameter(String),
}

/// A nutrient rule.
#[derive(Debug, Clone, Serialize)]
pub struct NutrientCheck {
    /// The nutrient.
    pub nutrient: Nutrient,
    /// Per 100 g, per serving or per day.
    pub per: Basis,
    /// Above this, caution.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caution_above: Option<Limit>,
    /// Above this, avoid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avoid_above: Option<Limit>,
    /// When the nutrient (or, per serving, the serving size) is not known.
    pub missing: Level,
}

/// A health condition and the diets it implies.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// Stable code, e.g. `kidney_disease`.
    pub code: String,
    /// Display name.
    pub name: String,
    /// Codes of the diets it implies.
    pub implies: Vec<String>,
    /// Guidance for the mapping.
    #[serde(default)]
    pub sources: Vec<Source>,
}

/// An allergen a user can declare.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allergen {
    /// Stable code, which is also the property ingredients carry, e.g. `sesame`.
    pub code: String,
    /// Display name.
    pub name: String,
    /// Regulations that list it, e.g. `EU 1169/2011 Annex II`, `KR MFDS allergen labelling`.
    pub regulations: Vec<String>,
}

/// A certification or claim printed on packaging.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Label {
    /// Stable code, e.g. `halal`.
    pub code: String,
    /// Display name.
    pub name: String,
    /// Tags of imported data that mean this label, e.g. `en:halal`.
    pub tags: Vec<String>,
}

/// How declared allergens are judged (data: `allergens.toml`, `[policy]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllergyPolicy {
    /// An ingredient certainly contains the allergen.
    pub severity: Level,
    /// An ingredient may contain it.
    pub ambiguous: Level,
    /// A precautionary statement names it.
    pub traces: Level,
    /// An ingredient is not recognised.
    pub unrecognised: Level,
    /// There is no ingredient list.
    pub missing: Level,
    /// Why these levels.
    #[serde(default)]
    pub sources: Vec<Source>,
}

/// Everything the engine knows, validated. Load once at start-up and share (`Arc<DietCatalog>`).
#[derive(Debug)]
pub struct DietCatalog {
    pub(crate) diets: Vec<Diet>,
    pub(crate) conditions: Vec<Condition>,
    pub(crate) allergens: Vec<Allergen>,
    pub(crate) labels: Vec<Label>,
    pub(crate) allergy_policy: AllergyPolicy,
    pub(crate) taxonomy: Taxonomy,
    /// Lower-cased tag → label code.
    pub(crate) label_tags: BTreeMap<String, String>,
    /// Properties about the form or amount of an ingredient, which allergen tags do not tell.
    pub(crate) form_properties: PropertySet,
}

/// Properties about the form or amount of an ingredient, which allergen tags do not tell.
const FORM_PROPERTIES: &[&str] = &[
    "high_fiber",
    "hard_texture",
    "starch",
    "added_sugar",
    "salt",
    "sea_salt",
];

impl DietCatalog {
    /// Loads and validates the data embedded in the crate.
    ///
    /// # Errors
    /// [`DietaryError::DataSyntax`] or [`DietaryError::InvalidData`], naming the file and the field, when the
    /// shipped data is wrong; a test loads the shipped data, so this only fails for a broken build.
    pub fn load() -> Result<Self, DietaryError> {
        Self::from_files(data::DATA_FILES)
    }

    /// Loads and validates a catalog from `(path, contents)` pairs laid out like the `data/` directory.
    /// [`DietCatalog::load`] is this with the embedded files; tests use it to check that bad data is refused.
    ///
    /// # Errors
    /// As [`DietCatalog::load`].
    pub fn from_files(files: &[(&str, &str)]) -> Result<Self, DietaryError> {
        Loader { files }.load()
    }

    /// Every diet, sorted by code.
    #[must_use]
    pub fn diets(&self) -> &[Diet] {
        &self.diets
    }

    /// The diet with this code.
    #[must_use]
    pub fn diet(&self, code: &str) -> Option<&Diet> {
        self.diets.iter().find(|diet| diet.code == code)
    }

    /// Every condition, sorted by code.
    #[must_use]
    pub fn conditions(&self) -> &[Condition] {
        &self.conditions
    }

    /// Every allergen, in the order of the data (EU list, then Korean additions).
    #[must_use]
    pub fn allergens(&self) -> &[Allergen] {
        &self.allergens
    }

    /// Every label.
    #[must_use]
    pub fn labels(&self) -> &[Label] {
        &self.labels
    }

    /// How declared allergens are judged.
    #[must_use]
    pub fn allergy_policy(&self) -> &AllergyPolicy {
        &self.allergy_policy
    }

    /// Number of taxonomy entries (for health checks and docs).
    #[must_use]
    pub fn taxonomy_size(&self) -> usize {
        self.taxonomy.len()
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Loading and validation. Raw structs mirror the files; `deny_unknown_fields` turns a typo into an error.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDiet {
    code: String,
    name: String,
    description: String,
    #[serde(default)]
    parameters: Vec<DietParameter>,
    rules: Vec<RawRule>,
    sources: Vec<Source>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
enum RawKind {
    Ingredients,
    Nutrient,
    Labels,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    code: String,
    summary: String,
    kind: RawKind,
    // ingredients
    #[serde(default)]
    properties: Vec<String>,
    severity: Option<Level>,
    ambiguous: Option<Level>,
    traces: Option<Level>,
    unrecognised: Option<Level>,
    #[serde(default)]
    unless_labels: Vec<String>,
    #[serde(default)]
    labels_settle_certain: bool,
    // labels
    #[serde(default)]
    any_of: Vec<String>,
    // nutrient
    nutrient: Option<String>,
    per: Option<Basis>,
    caution_above: Option<Limit>,
    avoid_above: Option<Limit>,
    // both
    missing: Option<Level>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConditions {
    condition: Vec<Condition>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAllergens {
    policy: AllergyPolicy,
    allergen: Vec<Allergen>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLabels {
    label: Vec<Label>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTaxonomy {
    ingredient: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    code: String,
    names: Vec<String>,
    #[serde(default)]
    is: Vec<String>,
    #[serde(default)]
    maybe: Vec<String>,
}

const CONDITIONS_FILE: &str = "conditions.toml";
const ALLERGENS_FILE: &str = "allergens.toml";
const LABELS_FILE: &str = "labels.toml";
const QUALIFIERS_FILE: &str = "qualifiers.txt";
const DIETS_DIR: &str = "diets";
const TAXONOMY_DIR: &str = "taxonomy";

struct Loader<'a> {
    files: &'a [(&'a str, &'a str)],
}

fn invalid(file: &str, field: impl Into<String>, message: impl Into<String>) -> DietaryError {
    DietaryError::InvalidData {
        file: file.to_owned(),
        field: field.into(),
        message: message.into(),
    }
}

fn is_code(code: &str) -> bool {
    !code.is_empty()
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && code.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
}

impl Loader<'_> {
    fn file(&self, path: &str) -> Result<&str, DietaryError> {
        self.files
            .iter()
            .find(|(name, _)| *name == path)
            .map(|(_, text)| *text)
            .ok_or_else(|| invalid(path, "", "file is missing"))
    }

    fn under(&self, directory: &str) -> Vec<(&str, &str)> {
        let mut files: Vec<(&str, &str)> = self
            .files
            .iter()
            .filter(|(name, _)| {
                name.strip_prefix(directory)
                    .is_some_and(|rest| rest.starts_with('/'))
                    && name.ends_with(".toml")
            })
            .copied()
            .collect();
        files.sort_unstable();
        files
    }

    fn parse<T: for<'de> Deserialize<'de>>(path: &str, text: &str) -> Result<T, DietaryError> {
        toml::from_str(text).map_err(|error| DietaryError::DataSyntax {
            file: path.to_owned(),
            message: error.to_string().trim().replace('\n', " "),
        })
    }

    fn load(&self) -> Result<DietCatalog, DietaryError> {
        self.check_vocabulary()?;
        let labels = self.load_labels()?;
        let label_codes: HashSet<&str> = labels.iter().map(|l| l.code.as_str()).collect();
        let (allergy_policy, allergens) = self.load_allergens()?;
        let diets = self.load_diets(&label_codes)?;
        let conditions = self.load_conditions(&diets)?;
        let taxonomy = self.load_taxonomy()?;
        let label_tags = labels
            .iter()
            .flat_map(|label| {
                label
                    .tags
                    .iter()
                    .map(|tag| (tag.to_lowercase(), label.code.clone()))
            })
            .collect();
        let form_properties = FORM_PROPERTIES
            .iter()
            .filter_map(|code| Property::from_code(code))
            .collect();
        Ok(DietCatalog {
            diets,
            conditions,
            allergens,
            labels,
            allergy_policy,
            taxonomy,
            label_tags,
            form_properties,
        })
    }

    fn check_vocabulary(&self) -> Result<(), DietaryError> {
        let path = property::VOCABULARY_FILE;
        let lines = property::vocabulary_lines(self.file(path)?);
        let mut seen = HashSet::new();
        for (line, code, _) in &lines {
            if !is_code(code) {
                return Err(invalid(
                    path,
                    format!("line {line}"),
                    format!("`{code}` is not a snake_case code"),
                ));
            }
            if !seen.insert(*code) {
                return Err(invalid(
                    path,
                    format!("line {line}"),
                    format!("`{code}` is listed twice"),
                ));
            }
            if Property::from_code(code).is_none() {
                return Err(invalid(
                    path,
                    format!("line {line}"),
                    format!("`{code}` is not in the vocabulary compiled into this binary"),
                ));
            }
        }
        if lines.len() > MAX_PROPERTIES {
            return Err(invalid(
                path,
                "",
                format!("{} properties; at most {MAX_PROPERTIES} fit", lines.len()),
            ));
        }
        Ok(())
    }

    fn properties(path: &str, field: &str, codes: &[String]) -> Result<PropertySet, DietaryError> {
        codes
            .iter()
            .enumerate()
            .map(|(index, code)| {
                Property::from_code(code).ok_or_else(|| {
                    invalid(
                        path,
                        format!("{field}[{index}]"),
                        format!("unknown property `{code}`"),
                    )
                })
            })
            .collect()
    }

    fn load_labels(&self) -> Result<Vec<Label>, DietaryError> {
        let raw: RawLabels = Self::parse(LABELS_FILE, self.file(LABELS_FILE)?)?;
        let mut seen = HashSet::new();
        for (index, label) in raw.label.iter().enumerate() {
            if !is_code(&label.code) || !seen.insert(label.code.clone()) {
                return Err(invalid(
                    LABELS_FILE,
                    format!("label[{index}].code"),
                    "not a unique snake_case code",
                ));
            }
        }
        Ok(raw.label)
    }

    fn load_allergens(&self) -> Result<(AllergyPolicy, Vec<Allergen>), DietaryError> {
        let raw: RawAllergens = Self::parse(ALLERGENS_FILE, self.file(ALLERGENS_FILE)?)?;
        let mut seen = HashSet::new();
        for (index, allergen) in raw.allergen.iter().enumerate() {
            if Property::from_code(&allergen.code).is_none() {
                return Err(invalid(
                    ALLERGENS_FILE,
                    format!("allergen[{index}].code"),
                    format!(
                        "`{}` is not a property in {}",
                        allergen.code,
                        property::VOCABULARY_FILE
                    ),
                ));
            }
            if !seen.insert(allergen.code.clone()) {
                return Err(invalid(
                    ALLERGENS_FILE,
                    format!("allergen[{index}].code"),
                    "listed twice",
                ));
            }
        }
        Ok((raw.policy, raw.allergen))
    }

    fn load_diets(&self, labels: &HashSet<&str>) -> Result<Vec<Diet>, DietaryError> {
        let mut diets: Vec<Diet> = Vec::new();
        for (path, text) in self.under(DIETS_DIR) {
            let raw: RawDiet = Self::parse(path, text)?;
            if !is_code(&raw.code) {
                return Err(invalid(
                    path,
                    "code",
                    format!("`{}` is not a snake_case code", raw.code),
                ));
            }
            if diets.iter().any(|diet| diet.code == raw.code) {
                return Err(invalid(
                    path,
                    "code",
                    format!("diet `{}` is defined twice", raw.code),
                ));
            }
            if raw.sources.is_empty() {
                return Err(invalid(
                    path,
                    "sources",
                    "every diet cites the guidance it follows",
                ));
            }
            for (index, parameter) in raw.parameters.iter().enumerate() {
                let field = format!("parameters[{index}]");
                if !is_code(&parameter.code) {
                    return Err(invalid(
                        path,
                        format!("{field}.code"),
                        "not a snake_case code",
                    ));
                }
                let finite = [parameter.min, parameter.default, parameter.max]
                    .iter()
                    .all(|v| v.is_finite());
                let ordered =
                    parameter.min <= parameter.default && parameter.default <= parameter.max;
                if !(finite && ordered) {
                    return Err(invalid(
                        path,
                        format!("{field}.default"),
                        "needs min <= default <= max",
                    ));
                }
            }
            let rules = raw
                .rules
                .into_iter()
                .enumerate()
                .map(|(index, rule)| Self::rule(path, index, rule, &raw.parameters, labels))
                .collect::<Result<Vec<_>, _>>()?;
            if rules.is_empty() {
                return Err(invalid(path, "rules", "a diet needs at least one rule"));
            }
            let mut codes = HashSet::new();
            for (index, rule) in rules.iter().enumerate() {
                if !codes.insert(rule.code.as_str()) {
                    return Err(invalid(
                        path,
                        format!("rules[{index}].code"),
                        "rule code used twice",
                    ));
                }
            }
            diets.push(Diet {
                code: raw.code,
                name: raw.name,
                description: raw.description.trim().to_owned(),
                parameters: raw.parameters,
                rules,
                sources: raw.sources,
            });
        }
        diets.sort_by(|a, b| a.code.cmp(&b.code));
        Ok(diets)
    }

    fn rule(
        path: &str,
        index: usize,
        raw: RawRule,
        parameters: &[DietParameter],
        labels: &HashSet<&str>,
    ) -> Result<Rule, DietaryError> {
        let field = format!("rules[{index}]");
        if !is_code(&raw.code) {
            return Err(invalid(
                path,
                format!("{field}.code"),
                "not a snake_case code",
            ));
        }
        let check = match raw.kind {
            RawKind::Ingredients => {
                if raw.properties.is_empty() {
                    return Err(invalid(
                        path,
                        format!("{field}.properties"),
                        "an ingredient rule needs properties",
                    ));
                }
                for (i, label) in raw.unless_labels.iter().enumerate() {
                    if !labels.contains(label.as_str()) {
                        return Err(invalid(
                            path,
                            format!("{field}.unless_labels[{i}]"),
                            format!("unknown label `{label}` (see {LABELS_FILE})"),
                        ));
                    }
                }
                let misplaced =
                    raw.nutrient.is_some() || raw.per.is_some() || raw.caution_above.is_some();
                if misplaced || raw.avoid_above.is_some() {
                    return Err(invalid(
                        path,
                        field,
                        "nutrient fields on an ingredient rule",
                    ));
                }
                RuleCheck::Ingredients(IngredientCheck {
                    properties: Self::properties(
                        path,
                        &format!("{field}.properties"),
                        &raw.properties,
                    )?,
                    severity: raw.severity.unwrap_or(Level::Avoid),
                    ambiguous: raw.ambiguous.unwrap_or(Level::Caution),
                    traces: raw.traces.unwrap_or(Level::Ok),
                    unrecognised: raw.unrecognised.unwrap_or(Level::Unknown),
                    missing: raw.missing.unwrap_or(Level::Unknown),
                    unless_labels: raw.unless_labels,
                    labels_settle_certain: raw.labels_settle_certain,
                })
            }
            RawKind::Labels => {
                if raw.any_of.is_empty() {
                    return Err(invalid(
                        path,
                        format!("{field}.any_of"),
                        "a labels rule needs labels",
                    ));
                }
                for (i, label) in raw.any_of.iter().enumerate() {
                    if !labels.contains(label.as_str()) {
                        return Err(invalid(
                            path,
                            format!("{field}.any_of[{i}]"),
                            format!("unknown label `{label}` (see {LABELS_FILE})"),
                        ));
                    }
                }
                RuleCheck::Labels(LabelCheck {
                    any_of: raw.any_of,
                    severity: raw.severity.unwrap_or(Level::Unknown),
                })
            }
            RawKind::Nutrient => {
                let code = raw.nutrient.unwrap_or_default();
                let nutrient = Nutrient::from_code(&code).ok_or_else(|| {
                    invalid(
                        path,
                        format!("{field}.nutrient"),
                        format!("unknown nutrient `{code}`"),
                    )
                })?;
                let per = raw
                    .per
                    .ok_or_else(|| invalid(path, format!("{field}.per"), "missing"))?;
                if raw.caution_above.is_none() && raw.avoid_above.is_none() {
                    return Err(invalid(
                        path,
                        field,
                        "a nutrient rule needs caution_above or avoid_above",
                    ));
                }
                for (name, limit) in [
                    ("caution_above", &raw.caution_above),
                    ("avoid_above", &raw.avoid_above),
                ] {
                    match limit {
                        Some(Limit::Parameter(code)) => {
                            let parameter =
                                parameters.iter().find(|p| &p.code == code).ok_or_else(|| {
                                    invalid(
                                        path,
                                        format!("{field}.{name}"),
                                        format!("unknown parameter `{code}`"),
                                    )
                                })?;
                            if parameter.unit != nutrient.unit() {
                                return Err(invalid(
                                    path,
                                    format!("{field}.{name}"),
                                    format!(
                                        "parameter `{code}` is in {}, {} is in {}",
                                        parameter.unit,
                                        code,
                                        nutrient.unit()
                                    ),
                                ));
                            }
                        }
                        Some(Limit::Value(value)) if !value.is_finite() || *value < 0.0 => {
                            return Err(invalid(
                                path,
                                format!("{field}.{name}"),
                                "must be a non-negative number",
                            ));
                        }
                        _ => {}
                    }
                }
                if !raw.properties.is_empty()
                    || raw.severity.is_some()
                    || !raw.unless_labels.is_empty()
                {
                    return Err(invalid(path, field, "ingredient fields on a nutrient rule"));
                }
                RuleCheck::Nutrient(NutrientCheck {
                    nutrient,
                    per,
                    caution_above: raw.caution_above,
                    avoid_above: raw.avoid_above,
                    missing: raw.missing.unwrap_or(Level::Unknown),
                })
            }
        };
        Ok(Rule {
            code: raw.code,
            summary: raw.summary.trim().to_owned(),
            check,
        })
    }

    fn load_conditions(&self, diets: &[Diet]) -> Result<Vec<Condition>, DietaryError> {
        let mut raw: RawConditions = Self::parse(CONDITIONS_FILE, self.file(CONDITIONS_FILE)?)?;
        let mut seen = HashSet::new();
        for (index, condition) in raw.condition.iter().enumerate() {
            if !is_code(&condition.code) || !seen.insert(condition.code.clone()) {
                return Err(invalid(
                    CONDITIONS_FILE,
                    format!("condition[{index}].code"),
                    "not a unique snake_case code",
                ));
            }
            for (i, diet) in condition.implies.iter().enumerate() {
                if !diets.iter().any(|d| &d.code == diet) {
                    return Err(invalid(
                        CONDITIONS_FILE,
                        format!("condition[{index}].implies[{i}]"),
                        format!("unknown diet `{diet}`"),
                    ));
                }
            }
        }
        raw.condition.sort_by(|a, b| a.code.cmp(&b.code));
        Ok(raw.condition)
    }

    fn load_taxonomy(&self) -> Result<Taxonomy, DietaryError> {
        let qualifiers = property::vocabulary_lines(self.file(QUALIFIERS_FILE)?)
            .into_iter()
            .map(|(_, word, _)| word.to_owned());
        let mut taxonomy = Taxonomy::new(qualifiers);
        let mut codes = HashSet::new();
        for (path, text) in self.under(TAXONOMY_DIR) {
            let raw: RawTaxonomy = Self::parse(path, text)?;
            for (index, entry) in raw.ingredient.into_iter().enumerate() {
                let field = format!("ingredient[{index}]");
                if !is_code(&entry.code) || !codes.insert(entry.code.clone()) {
                    return Err(invalid(
                        path,
                        format!("{field}.code"),
                        format!("`{}` is not a unique snake_case code", entry.code),
                    ));
                }
                if entry.names.is_empty() {
                    return Err(invalid(
                        path,
                        format!("{field}.names"),
                        "an entry needs at least one name",
                    ));
                }
                let is = Self::properties(path, &format!("{field}.is"), &entry.is)?;
                let maybe = Self::properties(path, &format!("{field}.maybe"), &entry.maybe)?;
                let code = entry.code.clone();
                taxonomy
                    .add(
                        Entry {
                            code: entry.code,
                            is,
                            maybe,
                        },
                        &entry.names,
                    )
                    .map_err(|clash| {
                        invalid(
                            path,
                            format!("{field}.names"),
                            format!(
                                "`{}` of `{code}` already names `{}`",
                                clash.name, clash.first
                            ),
                        )
                    })?;
            }
        }
        Ok(taxonomy)
    }
}
