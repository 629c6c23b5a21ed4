//! Analysis of the facts of a food that do not depend on the user, computed once per food and stored.

use serde::{Deserialize, Serialize};

use crate::catalog::DietCatalog;
use crate::error::DietaryError;
use crate::ingredient_list::{self, ParsedIngredient, Section};
use crate::nutrient::Nutrients;
use crate::property::PropertySet;

/// Version of the analyser and its data. Bump it whenever the parser, the taxonomy, the vocabulary or the tag
/// mappings change, so that the worker re-analyses stored foods (`FoodAnalysis::version` differs).
pub const ANALYSIS_VERSION: u32 = 1;

/// What a label or an imported product says, as far as diets are concerned.
///
/// Tags follow Open Food Facts (`en:sesame-seeds`, `en:nuts`, `en:vegan`, `en:halal`); the language prefix is
/// optional and the rest is read through the taxonomy, so `sesame seeds` works too.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FoodFacts {
    /// The ingredient list as printed, allergen and "may contain" statements included.
    pub ingredients_text: Option<String>,
    /// Declared allergens (OFF `allergens_tags`): certainly present.
    pub allergens: Vec<String>,
    /// Declared traces (OFF `traces_tags`): possibly present through cross-contact.
    pub traces: Vec<String>,
    /// Labels and certifications (OFF `labels_tags`).
    pub labels: Vec<String>,
    /// Nutrients per 100 g (or 100 ml).
    pub nutrients_per_100g: Nutrients,
    /// Grams (or ml) in one serving, as printed.
    pub serving_size_g: Option<f64>,
}

/// One ingredient of the analysed list, with what the taxonomy made of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "StoredIngredient")]
pub struct AnalysedIngredient {
    /// The ingredient as parsed.
    #[serde(flatten)]
    pub parsed: ParsedIngredient,
    /// Codes of the taxonomy entries it matched.
    pub matched: Vec<String>,
    /// Properties it certainly has.
    pub is: PropertySet,
    /// Properties it may have (origin not stated, and not settled by its sub-ingredients).
    pub maybe: PropertySet,
    /// Whether every word of it (or else all its sub-ingredients) was understood.
    pub recognised: bool,
}

/// How an [`AnalysedIngredient`] is stored: its parsed fields inline. Read through this flat record because
/// serde's `flatten` buffers every field of every ingredient on the way in, which made reading stored analyses
/// a tenth of the cost of a catalog search.
#[derive(Deserialize)]
struct StoredIngredient {
    text: String,
    #[serde(default)]
    percent: Option<f64>,
    depth: u8,
    #[serde(default)]
    parent: Option<u16>,
    section: Section,
    #[serde(default)]
    alternative: bool,
    matched: Vec<String>,
    is: PropertySet,
    maybe: PropertySet,
    recognised: bool,
}

impl From<StoredIngredient> for AnalysedIngredient {
    fn from(stored: StoredIngredient) -> Self {
        Self {
            parsed: ParsedIngredient {
                text: stored.text,
                percent: stored.percent,
                depth: stored.depth,
                parent: stored.parent,
                section: stored.section,
                alternative: stored.alternative,
            },
            matched: stored.matched,
            is: stored.is,
            maybe: stored.maybe,
            recognised: stored.recognised,
        }
    }
}

/// An allergen or trace tag of the product data, as read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeclaredTag {
    /// The tag as imported, e.g. `en:sesame-seeds`.
    pub tag: String,
    /// `contains` for allergen tags, `traces` for trace tags.
    pub section: Section,
    /// What the taxonomy made of it.
    pub is: PropertySet,
}

/// The user-independent facts of a food, stored with it (JSONB) and merged with a profile by
/// [`crate::evaluate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoodAnalysis {
    /// [`ANALYSIS_VERSION`] when it was made.
    pub version: u32,
    /// Whether the food had an ingredient list at all.
    pub ingredients_declared: bool,
    /// The ingredients, flattened in label order (sub-ingredients follow their parent).
    pub ingredients: Vec<AnalysedIngredient>,
    /// Ingredients and statements not understood, as written (ingredient list and "contains" only).
    pub unrecognised: Vec<String>,
    /// Properties certainly present (ingredients, "contains" statements, allergen tags).
    pub contains: PropertySet,
    /// Properties possibly present because an origin is not stated; never overlaps `contains`.
    pub possibly: PropertySet,
    /// Properties named by precautionary statements or trace tags; never overlaps `contains`.
    pub traces: PropertySet,
    /// Label codes (see `labels.toml`) found in the label tags.
    pub labels: Vec<String>,
    /// Allergen and trace tags that were understood.
    pub declared: Vec<DeclaredTag>,
    /// Tags that were not understood (kept for the taxonomy's maintainers; they do not affect verdicts).
    pub unmapped_tags: Vec<String>,
    /// Nutrients per 100 g, with salt and sodium reconciled and impossible values dropped.
    pub nutrients: Nutrients,
    /// Grams in a serving, if known and plausible.
    pub serving_size_g: Option<f64>,
}

impl FoodAnalysis {
    /// Checks that the analysis was made by this version of the analyser.
    ///
    /// # Errors
    /// [`DietaryError::StaleAnalysis`] when it must be recomputed with [`DietCatalog::analyse`].
    pub fn ensure_current(&self) -> Result<(), DietaryError> {
        if self.version == ANALYSIS_VERSION {
            Ok(())
        } else {
            Err(DietaryError::StaleAnalysis {
                found: self.version,
                expected: ANALYSIS_VERSION,
            })
        }
    }

    /// What any viewer is shown of the analysis, without the ingredient-by-ingredient reading that a verdict's
    /// reasons need.
    #[must_use]
    pub fn summary(&self) -> AnalysisSummary {
        AnalysisSummary {
            version: self.version,
            ingredients_declared: self.ingredients_declared,
            unrecognised: self.unrecognised.clone(),
            contains: self.contains,
            possibly: self.possibly,
            traces: self.traces,
            labels: self.labels.clone(),
        }
    }

    /// Compact tags for SQL filtering (store them in a `text[]` column with a GIN index):
    /// `contains:<property>`, `possibly:<property>`, `traces:<property>`, `label:<label>`,
    /// `ingredients:missing`, `ingredients:unrecognised`. A food passes a profile's ingredient rules only if it
    /// has none of [`crate::DietProfile::excluded_tags`] (`NOT (dietary_tags && $1)`).
    #[must_use]
    pub fn dietary_tags(&self) -> Vec<String> {
        let mut tags: Vec<String> = Vec::new();
        tags.extend(self.contains.iter().map(|p| format!("contains:{p}")));
        tags.extend(self.possibly.iter().map(|p| format!("possibly:{p}")));
        tags.extend(self.traces.iter().map(|p| format!("traces:{p}")));
        tags.extend(self.labels.iter().map(|l| format!("label:{l}")));
        if !self.ingredients_declared {
            tags.push("ingredients:missing".to_owned());
        }
        if !self.unrecognised.is_empty() {
            tags.push("ingredients:unrecognised".to_owned());
        }
        tags
    }
}

/// The part of a [`FoodAnalysis`] that is shown with a food whoever looks at it: what the catalog stores of it (a
/// tenth of the size; the ingredient-by-ingredient part is made again from the food when a verdict needs it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalysisSummary {
    /// [`ANALYSIS_VERSION`] when the analysis was made.
    pub version: u32,
    /// Whether the food had an ingredient list at all.
    pub ingredients_declared: bool,
    /// Ingredients and statements not understood, as written.
    pub unrecognised: Vec<String>,
    /// Properties certainly present.
    pub contains: PropertySet,
    /// Properties possibly present because an origin is not stated.
    pub possibly: PropertySet,
    /// Properties named by precautionary statements or trace tags.
    pub traces: PropertySet,
    /// Label codes found in the label tags.
    pub labels: Vec<String>,
}

impl DietCatalog {
    /// Analyses the user-independent facts of a food. Pure and deterministic: the same facts and the same
    /// [`ANALYSIS_VERSION`] give the same analysis.
    #[must_use]
    pub fn analyse(&self, facts: &FoodFacts) -> FoodAnalysis {
        let text = facts
            .ingredients_text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty());
        let parsed = text.map(ingredient_list::parse).unwrap_or_default();
        let mut ingredients: Vec<AnalysedIngredient> = parsed
            .into_iter()
            .map(|parsed| {
                let reading = self.taxonomy.read(&parsed.text);
                AnalysedIngredient {
                    parsed,
                    matched: reading.matched,
                    is: reading.is,
                    maybe: reading.maybe,
                    recognised: reading.recognised,
                }
            })
            .collect();
        self.complete_elliptical_names(&mut ingredients);
        settle_by_children(&mut ingredients);

        let mut analysis = FoodAnalysis {
            version: ANALYSIS_VERSION,
            ingredients_declared: text.is_some() && !ingredients.is_empty(),
            unrecognised: Vec::new(),
            contains: PropertySet::EMPTY,
            possibly: PropertySet::EMPTY,
            traces: PropertySet::EMPTY,
            labels: Vec::new(),
            declared: Vec::new(),
            unmapped_tags: Vec::new(),
            nutrients: facts.nutrients_per_100g.reconciled(),
            serving_size_g: facts
                .serving_size_g
                .filter(|g| g.is_finite() && *g > 0.0 && *g <= 5000.0),
            ingredients: Vec::new(),
        };
        for ingredient in &ingredients {
            match ingredient.parsed.section {
                Section::Ingredients | Section::Contains => {
                    analysis.contains = analysis.contains.union(ingredient.is);
                    analysis.possibly = analysis.possibly.union(ingredient.maybe);
                    if !ingredient.recognised {
                        analysis.unrecognised.push(ingredient.parsed.text.clone());
                    }
                }
                Section::Traces => {
                    analysis.traces = analysis.traces.union(ingredient.is.union(ingredient.maybe))
                }
            }
        }
        analysis.ingredients = ingredients;
        for (tags, section) in [
            (&facts.allergens, Section::Contains),
            (&facts.traces, Section::Traces),
        ] {
            for tag in tags {
                self.read_tag(tag, section, &mut analysis);
            }
        }
        for tag in &facts.labels {
            match self.label_tags.get(&tag.trim().to_lowercase()) {
                Some(code) if !analysis.labels.contains(code) => analysis.labels.push(code.clone()),
                Some(_) => {}
                None => analysis.unmapped_tags.push(tag.clone()),
            }
        }
        analysis.labels.sort_unstable();
        analysis.possibly = analysis.possibly.difference(analysis.contains);
        analysis.traces = analysis.traces.difference(analysis.contains);
        analysis
    }

    /// "Palm and/or canola oil", "vegetable oil (sunflower, corn and/or canola oil)": a one-word ingredient
    /// followed by siblings whose last one ends with a head noun ("oil") means that noun. The longer name is
    /// taken when the taxonomy knows it, even if the word alone is known too ("corn" is a starch, "corn oil" is
    /// not).
    fn complete_elliptical_names(&self, ingredients: &mut [AnalysedIngredient]) {
        for index in 0..ingredients.len() {
            let item = &ingredients[index].parsed;
            if item.text.split_whitespace().count() != 1 {
                continue;
            }
            // Top-level ingredients only share a head within one "a and/or b" run; a bracketed list shares it.
            let top_level = item.parent.is_none();
            if top_level && !item.alternative {
                continue;
            }
            let head = ingredients[index + 1..]
                .iter()
                .filter(|other| {
                    other.parsed.parent == item.parent
                        && other.parsed.depth == item.depth
                        && other.parsed.section == item.section
                })
                .take_while(|other| !top_level || other.parsed.alternative)
                .last()
                .and_then(|last| {
                    let mut words = last.parsed.text.split_whitespace();
                    let head = words.next_back();
                    words.next().and(head)
                });
            let Some(head) = head else { continue };
            let completed = format!("{} {head}", item.text);
            let reading = self.taxonomy.read(&completed);
            // Only when the completed text is one known name, not two names side by side.
            if reading.recognised && reading.matched.len() == 1 {
                let ingredient = &mut ingredients[index];
                ingredient.parsed.text = completed;
                ingredient.matched = reading.matched;
                ingredient.is = reading.is;
                ingredient.maybe = reading.maybe;
                ingredient.recognised = true;
            }
        }
    }

    fn read_tag(&self, tag: &str, section: Section, analysis: &mut FoodAnalysis) {
        let name = tag.split_once(':').map_or(tag, |(_, name)| name);
        let Some(entry) = self.taxonomy.exact(name) else {
            analysis.unmapped_tags.push(tag.to_owned());
            return;
        };
        // A tag says the allergen is there, not in which form or amount: "en:sesame-seeds" may be sesame oil,
        // so it carries no fibre, texture, starch, sugar or salt.
        let is = entry.is.difference(self.form_properties);
        let maybe = entry.maybe.difference(self.form_properties);
        match section {
            Section::Traces => analysis.traces = analysis.traces.union(is.union(maybe)),
            Section::Ingredients | Section::Contains => {
                analysis.contains = analysis.contains.union(is);
                analysis.possibly = analysis.possibly.union(maybe);
            }
        }
        analysis.declared.push(DeclaredTag {
            tag: tag.to_owned(),
            section,
            is,
        });
    }
}

/// A compound ingredient whose sub-ingredients are all recognised is explained by them: it counts as recognised
/// even if its own name is not ("Hobnob crumb (...)").
///
/// Its own "maybe" is settled when the sub-ingredients state the origin: either they name one of the possible
/// origins ("gelatine (beef)", "natural flavour (contains milk)") or they carry no property at all ("E471
/// (vegetable)"). An allergen reminder that says nothing about the doubt does not settle it: "skipjack tuna
/// (fish)" may still be a high-mercury tuna.
fn settle_by_children(ingredients: &mut [AnalysedIngredient]) {
    #[derive(Clone, Copy)]
    struct Children {
        any: bool,
        all_recognised: bool,
        properties: PropertySet,
    }
    let none = Children {
        any: false,
        all_recognised: true,
        properties: PropertySet::EMPTY,
    };
    // Children always follow their parent, so a reverse pass sees them first.
    let mut children = vec![none; ingredients.len()];
    for index in (0..ingredients.len()).rev() {
        let found = children[index];
        let ingredient = &mut ingredients[index];
        if found.any && found.all_recognised {
            ingredient.recognised = true;
            if found.properties.is_empty() || found.properties.intersects(ingredient.maybe) {
                ingredient.maybe = PropertySet::EMPTY;
            }
        }
        let (recognised, properties) =
            (ingredient.recognised, ingredient.is.union(ingredient.maybe));
        if let Some(parent) = ingredient
            .parsed
            .parent
            .and_then(|p| children.get_mut(usize::from(p)))
        {
            parent.any = true;
            parent.all_recognised &= recognised;
            parent.properties = parent.properties.union(properties);
        }
    }
}
