//! The food model: what a food is before it is stored, and the checks every way in (import, user submission,
//! generator) goes through, so that the database only ever holds foods that passed the same rules.

use std::fmt;
use std::str::FromStr;

use diningcoach_dietary::{FoodFacts, Nutrients};
use serde::{Deserialize, Serialize};

use crate::error::{CatalogError, FieldError};
use crate::gtin::Gtin;
use crate::search::normalise_name;
use crate::verdicts::MAX_INGREDIENTS_CHARS;

diningcoach_kernel::typed_id!(
    /// Identifies a stored food.
    FoodId
);

/// Longest food name: longer than any real product name, short enough for an index entry.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest brand, country, category level and food code.
pub const MAX_SHORT_TEXT_CHARS: usize = 100;
/// Longest storage note.
pub const MAX_STORAGE_NOTES_CHARS: usize = 1_000;
/// Most allergen, trace or label tags on one food: real products have a handful; the bound keeps a bad row
/// from filling a `text[]` column.
pub const MAX_TAGS: usize = 64;
/// Largest serving accepted, in grams (the same bound as a label checked by the verdict service).
pub const MAX_SERVING_SIZE_G: f64 = 10_000.0;

/// How a food came to be: the original app's three kinds, plus foods users added themselves (which are shown
/// as such, since nobody has checked them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FoodKind {
    /// A packaged product with a label (almost every import).
    Processed,
    /// Raw produce, meat, fish.
    Fresh,
    /// A dish as cooked (restaurant or home recipe).
    Cooked,
    /// Added by a user through `POST /api/v1/foods`.
    UserSubmitted,
}

/// Where a food's data came from, so that a re-import never overwrites what users added and generated demo
/// data can be removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FoodSource {
    /// An import file (Open Food Facts or our CSV).
    Import,
    /// A user submission.
    User,
    /// The synthetic generator (demos, benchmarks).
    Generated,
}

macro_rules! text_enum {
    ($ty:ident { $($variant:ident => $text:literal),* $(,)? }) => {
        impl $ty {
            /// Every value, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),*];

            /// The text used in JSON, in the database and in import files.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $text,)* }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $ty {
            type Err = CatalogError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s.trim() {
                    $($text => Ok($ty::$variant),)*
                    other => Err(CatalogError::Invalid {
                        field: stringify!($ty).to_owned(),
                        message: format!(
                            "`{}` is not one of: {}",
                            other.chars().take(40).collect::<String>(),
                            [$($text),*].join(", ")
                        ),
                    }),
                }
            }
        }
    };
}

text_enum!(FoodKind { Processed => "processed", Fresh => "fresh", Cooked => "cooked", UserSubmitted => "user_submitted" });
text_enum!(FoodSource { Import => "import", User => "user", Generated => "generated" });

/// A two-level category, e.g. `Dairies` › `Yogurts`: enough to filter and browse, without importing a whole
/// taxonomy. `sub` is the most specific level the source gives, when it gives more than one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Category {
    main: String,
    sub: Option<String>,
}

impl Category {
    /// Validates both levels: trimmed, 1 to 100 characters (a blank `sub` means none).
    ///
    /// # Errors
    /// [`CatalogError::InvalidFood`] with errors for `category_main` / `category_sub`.
    pub fn new(main: &str, sub: Option<&str>) -> Result<Self, CatalogError> {
        Self::from_owned(main.to_owned(), sub.map(str::to_owned))
    }

    /// As [`Category::new`], keeping the strings it is given when they need no trimming.
    fn from_owned(main: String, sub: Option<String>) -> Result<Self, CatalogError> {
        let mut errors = Vec::new();
        let main = required_text("category_main", main, MAX_SHORT_TEXT_CHARS, &mut errors);
        let sub = optional_text("category_sub", sub, MAX_SHORT_TEXT_CHARS, &mut errors);
        match main {
            Some(main) if errors.is_empty() => Ok(Self { main, sub }),
            _ => Err(CatalogError::InvalidFood { errors }),
        }
    }

    /// The broad level, e.g. `Dairies`.
    #[must_use]
    pub fn main(&self) -> &str {
        &self.main
    }

    /// The specific level, e.g. `Yogurts`.
    #[must_use]
    pub fn sub(&self) -> Option<&str> {
        self.sub.as_deref()
    }
}

macro_rules! nutrient_fields {
    ($( $field:ident: $max:expr, $doc:literal; )*) => {
        /// Nutrients per 100 g (or 100 ml for drinks), in the units of the field names. `None` means unknown,
        /// never zero: a rule that needs a missing value says `unknown` rather than guess.
        #[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct NutrientsPer100g {
            $(
                #[doc = $doc]
                #[serde(skip_serializing_if = "Option::is_none")]
                pub $field: Option<f64>,
            )*
        }

        impl NutrientsPer100g {
            /// Every field name (the column names of our CSV format and of the database).
            pub const FIELDS: &'static [&'static str] = &[$(stringify!($field)),*];

            /// The value of a field by name.
            #[must_use]
            pub fn get(&self, field: &str) -> Option<Option<f64>> {
                match field { $(stringify!($field) => Some(self.$field),)* _ => None }
            }

            /// Sets a field by name; `false` if there is no such field.
            pub fn set(&mut self, field: &str, value: Option<f64>) -> bool {
                match field { $(stringify!($field) => { self.$field = value; true })* _ => false }
            }

            /// Checks that every known value is a finite number between 0 and what 100 g can hold.
            fn validate(&self, errors: &mut Vec<FieldError>) {
                $(
                    if let Some(value) = self.$field {
                        let max: f64 = $max;
                        if !value.is_finite() || value < 0.0 {
                            errors.push(FieldError::new(
                                concat!("nutrients.", stringify!($field)),
                                "must be a number of at least 0",
                            ));
                        } else if value > max {
                            errors.push(FieldError::new(
                                concat!("nutrients.", stringify!($field)),
                                format!("must be at most {max} per 100 g"),
                            ));
                        }
                    }
                )*
            }
        }
    };
}

// Upper bounds are what 100 g can physically hold: 100 g of a macronutrient, 900 kcal for pure fat (plus
// rounding), 100 000 mg (100 g) of a mineral, 100 % alcohol.
nutrient_fields! {
    energy_kcal: 950.0, "Energy, kcal.";
    protein_g: 100.0, "Protein, g.";
    fat_g: 100.0, "Fat, g.";
    saturated_fat_g: 100.0, "Saturated fat, g.";
    trans_fat_g: 100.0, "Trans fat, g.";
    cholesterol_mg: 100_000.0, "Cholesterol, mg.";
    carbohydrates_g: 100.0, "Carbohydrates, g.";
    sugars_g: 100.0, "Sugars, g.";
    starch_g: 100.0, "Starch, g.";
    fiber_g: 100.0, "Fibre, g.";
    sodium_mg: 100_000.0, "Sodium, mg (salt ÷ 2.5).";
    potassium_mg: 100_000.0, "Potassium, mg.";
    phosphorus_mg: 100_000.0, "Phosphorus, mg.";
    iodine_ug: 100_000_000.0, "Iodine, µg.";
    caffeine_mg: 100_000.0, "Caffeine, mg.";
    alcohol_percent_vol: 100.0, "Alcohol, % by volume (as printed on drinks).";
}

/// Grams of ethanol in 1 ml (at 20 °C): turns % vol into grams per 100 ml, which the dietary engine reads as
/// grams per 100 g (a drink's density is close enough to 1 for a limit on alcohol).
pub const ETHANOL_G_PER_ML: f64 = 0.789;

impl NutrientsPer100g {
    /// The same values in the dietary engine's vocabulary: alcohol % vol becomes grams, salt is derived from
    /// sodium.
    #[must_use]
    pub fn to_dietary(&self) -> Nutrients {
        Nutrients {
            energy_kcal: self.energy_kcal,
            fat_g: self.fat_g,
            saturated_fat_g: self.saturated_fat_g,
            trans_fat_g: self.trans_fat_g,
            cholesterol_mg: self.cholesterol_mg,
            carbohydrates_g: self.carbohydrates_g,
            sugars_g: self.sugars_g,
            added_sugars_g: None,
            starch_g: self.starch_g,
            fiber_g: self.fiber_g,
            protein_g: self.protein_g,
            salt_g: None,
            sodium_mg: self.sodium_mg,
            potassium_mg: self.potassium_mg,
            phosphorus_mg: self.phosphorus_mg,
            iodine_ug: self.iodine_ug,
            caffeine_mg: self.caffeine_mg,
            alcohol_g: self.alcohol_percent_vol.map(|abv| abv * ETHANOL_G_PER_ML),
        }
        .reconciled()
    }
}

/// A stable code naming a food in its source, so that re-importing the same file updates rather than
/// duplicates (`off:3017620422003`, a code from our CSV, `gen:42:17` for generated foods). Letters, digits and
/// `:_.-/`, 1 to 100 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FoodCode(String);

impl FoodCode {
    /// # Errors
    /// [`CatalogError::Invalid`] for `food_code`.
    pub fn parse(code: &str) -> Result<Self, CatalogError> {
        let code = code.trim();
        let ok = !code.is_empty()
            && code.len() <= MAX_SHORT_TEXT_CHARS
            && code
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b":_.-/".contains(&b));
        if ok {
            Ok(Self(code.to_owned()))
        } else {
            Err(CatalogError::Invalid {
                field: "food_code".to_owned(),
                message: "must be 1 to 100 letters, digits or `:_.-/`".to_owned(),
            })
        }
    }

    /// The code as stored.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for FoodCode {
    type Error = CatalogError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<FoodCode> for String {
    fn from(code: FoodCode) -> Self {
        code.0
    }
}

impl fmt::Display for FoodCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The raw fields of a food as they arrive (an import row, a request body, the generator), before any check.
/// Plain data, so that every way in fills the same struct and [`FoodDraft::new`] is the one place that decides
/// what is acceptable.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FoodFields {
    pub food_code: Option<String>,
    pub barcode: Option<String>,
    pub name: String,
    pub brand: Option<String>,
    pub country: Option<String>,
    pub category_main: Option<String>,
    pub category_sub: Option<String>,
    pub kind: Option<FoodKind>,
    pub serving_size_g: Option<f64>,
    pub ingredients_text: Option<String>,
    pub allergens: Vec<String>,
    pub traces: Vec<String>,
    pub labels: Vec<String>,
    pub storage_notes: Option<String>,
    pub nutrients: NutrientsPer100g,
}

/// A food that passed validation and is ready to be analysed and stored: what an import row or a user
/// submission becomes. Fields are private so that no unchecked value can reach the database.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FoodDraft {
    code: Option<FoodCode>,
    gtin: Option<Gtin>,
    name: String,
    brand: Option<String>,
    country: Option<String>,
    category: Option<Category>,
    kind: FoodKind,
    source: FoodSource,
    serving_size_g: Option<f64>,
    ingredients_text: Option<String>,
    allergens: Vec<String>,
    traces: Vec<String>,
    labels: Vec<String>,
    storage_notes: Option<String>,
    nutrients: NutrientsPer100g,
}

impl FoodDraft {
    /// Validates every field and reports all the faulty ones at once. Text is trimmed (inner runs of
    /// whitespace collapsed in names); blank optional text means absent; tags are trimmed, de-duplicated and
    /// emptied of blanks. A missing `kind` is `processed`, or `user_submitted` when `source` is `user`; a user
    /// submission is always `user_submitted`, whatever it claims.
    ///
    /// # Errors
    /// [`CatalogError::InvalidFood`] with one [`FieldError`] per problem.
    pub fn new(fields: FoodFields, source: FoodSource) -> Result<Self, CatalogError> {
        let mut errors = Vec::new();
        let code = fields
            .food_code
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .and_then(|c| match FoodCode::parse(c) {
                Ok(code) => Some(code),
                Err(error) => {
                    push_error(&mut errors, "food_code", &error);
                    None
                }
            });
        let gtin = fields
            .barcode
            .as_deref()
            .map(str::trim)
            .filter(|b| !b.is_empty())
            .and_then(|b| match Gtin::parse(b) {
                Ok(gtin) => Some(gtin),
                Err(error) => {
                    push_error(&mut errors, "barcode", &error);
                    None
                }
            });
        let name = required_text(
            "name",
            collapse_whitespace(fields.name),
            MAX_NAME_CHARS,
            &mut errors,
        );
        let brand = optional_text("brand", fields.brand, MAX_SHORT_TEXT_CHARS, &mut errors);
        let country = optional_text("country", fields.country, MAX_SHORT_TEXT_CHARS, &mut errors);
        let main = fields.category_main.map(trimmed).filter(|m| !m.is_empty());
        let category = match main {
            Some(main) => match Category::from_owned(main, fields.category_sub) {
                Ok(category) => Some(category),
                Err(CatalogError::InvalidFood {
                    errors: mut category_errors,
                }) => {
                    errors.append(&mut category_errors);
                    None
                }
                Err(other) => {
                    push_error(&mut errors, "category_main", &other);
                    None
                }
            },
            None => {
                if fields
                    .category_sub
                    .as_deref()
                    .is_some_and(|s| !s.trim().is_empty())
                {
                    errors.push(FieldError::new(
                        "category_sub",
                        "needs a category_main above it",
                    ));
                }
                None
            }
        };
        let kind = match (source, fields.kind) {
            (FoodSource::User, _) => FoodKind::UserSubmitted,
            (_, Some(kind)) => kind,
            (_, None) => FoodKind::Processed,
        };
        if let Some(grams) = fields.serving_size_g
            && !(grams.is_finite() && grams > 0.0 && grams <= MAX_SERVING_SIZE_G)
        {
            errors.push(FieldError::new(
                "serving_size_g",
                format!("must be more than 0 and at most {MAX_SERVING_SIZE_G}"),
            ));
        }
        let ingredients_text = optional_text(
            "ingredients_text",
            fields.ingredients_text,
            MAX_INGREDIENTS_CHARS,
            &mut errors,
        );
        let allergens = tags("allergens", fields.allergens, &mut errors);
        let traces = tags("traces", fields.traces, &mut errors);
        let labels = tags("labels", fields.labels, &mut errors);
        let storage_notes = optional_text(
            "storage_notes",
            fields.storage_notes,
            MAX_STORAGE_NOTES_CHARS,
            &mut errors,
        );
        fields.nutrients.validate(&mut errors);
        match name {
            Some(name) if errors.is_empty() => Ok(Self {
                code,
                gtin,
                name,
                brand,
                country,
                category,
                kind,
                source,
                serving_size_g: fields.serving_size_g,
                ingredients_text,
                allergens,
                traces,
                labels,
                storage_notes,
                nutrients: fields.nutrients,
            }),
            _ => Err(CatalogError::InvalidFood { errors }),
        }
    }

    /// The source's stable code, if it has one.
    #[must_use]
    pub fn code(&self) -> Option<&FoodCode> {
        self.code.as_ref()
    }

    /// The barcode, canonical (14 digits).
    #[must_use]
    pub fn gtin(&self) -> Option<Gtin> {
        self.gtin
    }

    /// The name as shown.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The name as searched: store it next to the name (see [`normalise_name`]).
    #[must_use]
    pub fn search_name(&self) -> String {
        normalise_name(&self.name)
    }

    /// The brand as searched.
    #[must_use]
    pub fn search_brand(&self) -> Option<String> {
        self.brand.as_deref().map(normalise_name)
    }

    #[must_use]
    pub fn brand(&self) -> Option<&str> {
        self.brand.as_deref()
    }

    #[must_use]
    pub fn country(&self) -> Option<&str> {
        self.country.as_deref()
    }

    #[must_use]
    pub fn category(&self) -> Option<&Category> {
        self.category.as_ref()
    }

    #[must_use]
    pub fn kind(&self) -> FoodKind {
        self.kind
    }

    #[must_use]
    pub fn source(&self) -> FoodSource {
        self.source
    }

    #[must_use]
    pub fn serving_size_g(&self) -> Option<f64> {
        self.serving_size_g
    }

    #[must_use]
    pub fn ingredients_text(&self) -> Option<&str> {
        self.ingredients_text.as_deref()
    }

    /// Declared allergen tags (`en:milk`).
    #[must_use]
    pub fn allergens(&self) -> &[String] {
        &self.allergens
    }

    /// Declared trace tags ("may contain").
    #[must_use]
    pub fn traces(&self) -> &[String] {
        &self.traces
    }

    /// Label and certification tags (`en:organic`, `en:vegan`).
    #[must_use]
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    #[must_use]
    pub fn storage_notes(&self) -> Option<&str> {
        self.storage_notes.as_deref()
    }

    #[must_use]
    pub fn nutrients(&self) -> &NutrientsPer100g {
        &self.nutrients
    }

    /// What the dietary analyser reads: `DietCatalog::analyse(&draft.facts())` gives the analysis to store
    /// with the food (and its `dietary_tags` for SQL filtering).
    #[must_use]
    pub fn facts(&self) -> FoodFacts {
        FoodFacts {
            ingredients_text: self.ingredients_text.clone(),
            allergens: self.allergens.clone(),
            traces: self.traces.clone(),
            labels: self.labels.clone(),
            nutrients_per_100g: self.nutrients.to_dietary(),
            serving_size_g: self.serving_size_g,
        }
    }

    /// Back to plain fields, e.g. for an admin edit that changes one field and validates again.
    #[must_use]
    pub fn into_fields(self) -> (FoodFields, FoodSource) {
        let (category_main, category_sub) = match self.category {
            Some(Category { main, sub }) => (Some(main), sub),
            None => (None, None),
        };
        (
            FoodFields {
                food_code: self.code.map(String::from),
                barcode: self.gtin.map(|g| g.as_str().to_owned()),
                name: self.name,
                brand: self.brand,
                country: self.country,
                category_main,
                category_sub,
                kind: Some(self.kind),
                serving_size_g: self.serving_size_g,
                ingredients_text: self.ingredients_text,
                allergens: self.allergens,
                traces: self.traces,
                labels: self.labels,
                storage_notes: self.storage_notes,
                nutrients: self.nutrients,
            },
            self.source,
        )
    }
}

fn push_error(errors: &mut Vec<FieldError>, field: &str, error: &CatalogError) {
    errors.push(FieldError::new(field, error.to_string()));
}

/// `text` without its leading and trailing whitespace, in its own allocation when it had none: a stored food
/// passes through here each time it is read, and copying every text of it was a tenth of a search's CPU.
fn trimmed(text: String) -> String {
    let kept = text.trim();
    if kept.len() == text.len() {
        text
    } else {
        kept.to_owned()
    }
}

/// Trimmed, with inner runs of whitespace made one space.
fn collapse_whitespace(text: String) -> String {
    let single_spaced =
        !text.contains("  ") && !text.chars().any(|c| c.is_whitespace() && c != ' ');
    if single_spaced {
        trimmed(text)
    } else {
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

fn required_text(
    field: &str,
    text: String,
    max_chars: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let text = trimmed(text);
    if text.is_empty() {
        errors.push(FieldError::new(field, "is required"));
        return None;
    }
    checked_length(field, text, max_chars, errors)
}

fn optional_text(
    field: &str,
    text: Option<String>,
    max_chars: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let text = text.map(trimmed).filter(|t| !t.is_empty())?;
    checked_length(field, text, max_chars, errors)
}

fn checked_length(
    field: &str,
    text: String,
    max_chars: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        errors.push(FieldError::new(
            field,
            "must not contain control characters",
        ));
        return None;
    }
    // Byte length bounds the character count from above: skip counting for short text.
    if text.len() > max_chars && text.chars().count() > max_chars {
        errors.push(FieldError::new(
            field,
            format!("must be at most {max_chars} characters"),
        ));
        return None;
    }
    Some(text)
}

fn tags(field: &str, raw: Vec<String>, errors: &mut Vec<FieldError>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    for tag in raw {
        let tag = trimmed(tag);
        if tag.is_empty() || out.contains(&tag) {
            continue;
        }
        if tag.len() > MAX_SHORT_TEXT_CHARS || tag.chars().any(char::is_control) {
            errors.push(FieldError::new(
                field,
                "each tag must be at most 100 characters, without control characters",
            ));
            return Vec::new();
        }
        out.push(tag);
    }
    if out.len() > MAX_TAGS {
        errors.push(FieldError::new(
            field,
            format!("must have at most {MAX_TAGS} tags"),
        ));
        return Vec::new();
    }
    out
}

#[cfg(test)]
impl FoodDraft {
    /// An imported food known by its name and ingredient list only, for the services' tests.
    #[allow(clippy::unwrap_used)]
    pub(crate) fn labelled(name: &str, ingredients: &str) -> Self {
        Self::new(
            FoodFields {
                name: name.into(),
                ingredients_text: Some(ingredients.into()),
                ..FoodFields::default()
            },
            FoodSource::Import,
        )
        .unwrap()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use diningcoach_dietary::DietCatalog;
    use proptest::prelude::*;

    use super::*;

    fn nutella() -> FoodFields {
        FoodFields {
            food_code: Some("off:3017620422003".into()),
            barcode: Some("3017620422003".into()),
            name: "  Nutella   400 g ".into(),
            brand: Some("Ferrero".into()),
            country: Some("France".into()),
            category_main: Some("Spreads".into()),
            category_sub: Some("Hazelnut spreads".into()),
            kind: None,
            serving_size_g: Some(15.0),
            ingredients_text: Some(
                "Sugar, palm oil, hazelnuts (13%), skimmed milk powder (8.7%), fat-reduced cocoa (7.4%), \
                 emulsifier: lecithins (soya), vanillin"
                    .into(),
            ),
            allergens: vec!["en:milk".into(), "en:nuts".into(), " en:milk ".into()],
            traces: vec![],
            labels: vec!["".into()],
            storage_notes: Some("   ".into()),
            nutrients: NutrientsPer100g {
                energy_kcal: Some(539.0),
                fat_g: Some(30.9),
                saturated_fat_g: Some(10.6),
                carbohydrates_g: Some(57.5),
                sugars_g: Some(56.3),
                protein_g: Some(6.3),
                sodium_mg: Some(42.8),
                ..NutrientsPer100g::default()
            },
        }
    }

    #[test]
    fn a_valid_food_is_tidied_up() {
        let draft = FoodDraft::new(nutella(), FoodSource::Import).unwrap();
        assert_eq!(draft.name(), "Nutella 400 g");
        assert_eq!(draft.search_name(), "nutella 400 g");
        assert_eq!(draft.gtin().unwrap().as_str(), "03017620422003");
        assert_eq!(draft.kind(), FoodKind::Processed);
        assert_eq!(draft.allergens(), ["en:milk", "en:nuts"]);
        assert!(draft.labels().is_empty());
        assert_eq!(draft.storage_notes(), None);
        assert_eq!(draft.category().unwrap().sub(), Some("Hazelnut spreads"));
        let (fields, source) = draft.clone().into_fields();
        assert_eq!(FoodDraft::new(fields, source).unwrap(), draft);
    }

    #[test]
    fn users_always_submit_user_submitted_foods() {
        let mut fields = nutella();
        fields.kind = Some(FoodKind::Fresh);
        let draft = FoodDraft::new(fields, FoodSource::User).unwrap();
        assert_eq!(draft.kind(), FoodKind::UserSubmitted);
    }

    #[test]
    fn every_bad_field_is_reported() {
        type Breaker = fn(&mut FoodFields);
        let cases: [(Breaker, &str); 14] = [
            (|f| f.name = "   ".into(), "name"),
            (|f| f.name = "x".repeat(201), "name"),
            (|f| f.name = "bad\u{0}name".into(), "name"),
            (|f| f.barcode = Some("3017620422004".into()), "barcode"),
            (|f| f.barcode = Some("abc".into()), "barcode"),
            (|f| f.food_code = Some("has space".into()), "food_code"),
            (|f| f.brand = Some("b".repeat(101)), "brand"),
            (|f| f.category_main = None, "category_sub"),
            (|f| f.serving_size_g = Some(0.0), "serving_size_g"),
            (|f| f.serving_size_g = Some(f64::NAN), "serving_size_g"),
            (|f| f.nutrients.fat_g = Some(-0.1), "nutrients.fat_g"),
            (|f| f.nutrients.fat_g = Some(100.5), "nutrients.fat_g"),
            (
                |f| f.nutrients.sodium_mg = Some(f64::INFINITY),
                "nutrients.sodium_mg",
            ),
            (|f| f.allergens = vec!["a".repeat(101)], "allergens"),
        ];
        for (breaker, field) in cases {
            let mut fields = nutella();
            breaker(&mut fields);
            let Err(CatalogError::InvalidFood { errors }) =
                FoodDraft::new(fields, FoodSource::Import)
            else {
                panic!("{field} accepted")
            };
            assert!(
                errors.iter().any(|e| e.field == field),
                "{field}: {errors:?}"
            );
        }
        let mut fields = nutella();
        fields.name = String::new();
        fields.nutrients.protein_g = Some(-1.0);
        let Err(CatalogError::InvalidFood { errors }) = FoodDraft::new(fields, FoodSource::Import)
        else {
            panic!("accepted")
        };
        assert_eq!(errors.len(), 2, "{errors:?}");
    }

    #[test]
    fn facts_feed_the_analyser() {
        let mut fields = nutella();
        fields.nutrients.alcohol_percent_vol = Some(5.0);
        let draft = FoodDraft::new(fields, FoodSource::Import).unwrap();
        let facts = draft.facts();
        assert_eq!(facts.nutrients_per_100g.sodium_mg, Some(42.8));
        let salt = facts.nutrients_per_100g.salt_g.unwrap();
        assert!((salt - 0.107).abs() < 1e-9, "{salt}");
        let alcohol = facts.nutrients_per_100g.alcohol_g.unwrap();
        assert!((alcohol - 3.945).abs() < 1e-9, "{alcohol}");
        let analysis = DietCatalog::load().unwrap().analyse(&facts);
        assert!(analysis.ingredients_declared);
        assert!(analysis.contains.iter().any(|p| p.to_string() == "milk"));
    }

    #[test]
    fn kinds_and_sources_read_their_text() {
        for kind in FoodKind::ALL {
            assert_eq!(kind.as_str().parse::<FoodKind>().unwrap(), *kind);
            assert_eq!(
                serde_json::to_string(kind).unwrap(),
                format!("\"{}\"", kind.as_str())
            );
        }
        for source in FoodSource::ALL {
            assert_eq!(source.as_str().parse::<FoodSource>().unwrap(), *source);
        }
        assert!("raw".parse::<FoodKind>().is_err());
    }

    proptest! {
        #[test]
        fn validation_never_panics(
            name in ".{0,250}",
            barcode in proptest::option::of("[0-9a-z ]{0,16}"),
            fat in proptest::option::of(proptest::num::f64::ANY),
            serving in proptest::option::of(proptest::num::f64::ANY),
            tag in ".{0,120}",
        ) {
            let fields = FoodFields {
                name,
                barcode,
                serving_size_g: serving,
                allergens: vec![tag],
                nutrients: NutrientsPer100g { fat_g: fat, ..NutrientsPer100g::default() },
                ..FoodFields::default()
            };
            if let Ok(draft) = FoodDraft::new(fields, FoodSource::Import) {
                prop_assert!(!draft.name().is_empty());
                prop_assert!(draft.name().chars().count() <= MAX_NAME_CHARS);
                prop_assert!(draft.nutrients().fat_g.is_none_or(|f| (0.0..=100.0).contains(&f)));
            }
        }
    }
}
