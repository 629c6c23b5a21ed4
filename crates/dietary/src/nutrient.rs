//! Nutrients, their units, and amounts per 100 g or per day.
//!
//! The nutrient list is a closed, typed vocabulary (like the label's nutrition table): rules in the data name a
//! nutrient by its code (`sodium_mg`), whose suffix is its unit, as in the HTTP API.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! nutrients {
    ($( $variant:ident => $field:ident, $unit:literal, $name:literal; )*) => {
        /// A nutrient a rule can limit. The code is the field name, unit included.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Nutrient {
            $(
                #[doc = $name]
                $variant,
            )*
        }

        impl Nutrient {
            /// Every nutrient, in declaration order.
            pub const ALL: &'static [Nutrient] = &[$(Nutrient::$variant),*];

            /// The code used in data files and JSON, e.g. `sodium_mg`.
            #[must_use]
            pub fn code(self) -> &'static str {
                match self { $(Self::$variant => stringify!($field),)* }
            }

            /// The unit: `g`, `mg`, `ug` or `kcal`.
            #[must_use]
            pub fn unit(self) -> &'static str {
                match self { $(Self::$variant => $unit,)* }
            }

            /// A human name, e.g. `sodium`.
            #[must_use]
            pub fn name(self) -> &'static str {
                match self { $(Self::$variant => $name,)* }
            }

            /// The nutrient with this code.
            #[must_use]
            pub fn from_code(code: &str) -> Option<Self> {
                match code { $(stringify!($field) => Some(Self::$variant),)* _ => None }
            }
        }

        /// Amounts of nutrients (per 100 g of a food, or eaten in a day); `None` means "not known", never zero.
        #[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct Nutrients {
            $(
                #[doc = concat!($name, ", in ", $unit, ".")]
                #[serde(skip_serializing_if = "Option::is_none")]
                pub $field: Option<f64>,
            )*
        }

        impl Nutrients {
            /// The amount of `nutrient`, if known.
            #[must_use]
            pub fn get(&self, nutrient: Nutrient) -> Option<f64> {
                match nutrient { $(Nutrient::$variant => self.$field,)* }
            }

            /// Sets the amount of `nutrient`.
            pub fn set(&mut self, nutrient: Nutrient, amount: Option<f64>) {
                match nutrient { $(Nutrient::$variant => self.$field = amount,)* }
            }
        }
    };
}

nutrients! {
    EnergyKcal => energy_kcal, "kcal", "energy";
    FatG => fat_g, "g", "fat";
    SaturatedFatG => saturated_fat_g, "g", "saturated fat";
    TransFatG => trans_fat_g, "g", "trans fat";
    CholesterolMg => cholesterol_mg, "mg", "cholesterol";
    CarbohydratesG => carbohydrates_g, "g", "carbohydrates";
    SugarsG => sugars_g, "g", "sugars";
    AddedSugarsG => added_sugars_g, "g", "added sugars";
    StarchG => starch_g, "g", "starch";
    FiberG => fiber_g, "g", "fibre";
    ProteinG => protein_g, "g", "protein";
    SaltG => salt_g, "g", "salt";
    SodiumMg => sodium_mg, "mg", "sodium";
    PotassiumMg => potassium_mg, "mg", "potassium";
    PhosphorusMg => phosphorus_mg, "mg", "phosphorus";
    IodineUg => iodine_ug, "ug", "iodine";
    CaffeineMg => caffeine_mg, "mg", "caffeine";
    AlcoholG => alcohol_g, "g", "alcohol";
}

impl fmt::Display for Nutrient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Grams of salt per gram of sodium (EU Regulation 1169/2011, Annex XIV: salt = sodium × 2.5).
pub(crate) const SALT_PER_SODIUM: f64 = 2.5;

impl Nutrients {
    /// Fills sodium from salt and salt from sodium when only one is given (EU labels print salt, US labels
    /// sodium), and drops values that cannot be amounts (negative, NaN, infinite) so that they read as unknown.
    #[must_use]
    pub fn reconciled(mut self) -> Self {
        for &nutrient in Nutrient::ALL {
            let amount = self.get(nutrient).filter(|v| v.is_finite() && *v >= 0.0);
            self.set(nutrient, amount);
        }
        match (self.sodium_mg, self.salt_g) {
            (None, Some(salt_g)) => self.sodium_mg = Some(salt_g / SALT_PER_SODIUM * 1000.0),
            (Some(sodium_mg), None) => self.salt_g = Some(sodium_mg * SALT_PER_SODIUM / 1000.0),
            _ => {}
        }
        self
    }
}

/// What the user already ate today, summed by the diary; zero until the diary passes it in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DayIntake {
    /// Amounts eaten so far today; a `None` counts as zero, since nothing eaten is the only safe reading of a
    /// diary with no entries for that nutrient.
    pub nutrients: Nutrients,
}

impl DayIntake {
    /// The amount of `nutrient` eaten today.
    #[must_use]
    pub fn eaten(&self, nutrient: Nutrient) -> f64 {
        self.nutrients.get(nutrient).unwrap_or(0.0)
    }
}
