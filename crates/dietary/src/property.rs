//! Ingredient properties (animal origin, pork, gluten, iodine-rich, allergens...) and compact sets of them.
//!
//! The vocabulary is data (`data/properties.txt`), so that a diet needing a new property only needs data. A set
//! is a 128-bit mask, which makes evaluating a food against a profile a handful of AND instructions; it is
//! serialised as the list of codes, never as bits, so that stored analyses survive the vocabulary growing.

use std::borrow::Cow;
use std::fmt;
use std::sync::LazyLock;

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::data;

/// Path of the vocabulary file, relative to `data/`.
pub(crate) const VOCABULARY_FILE: &str = "properties.txt";

/// The largest vocabulary a [`PropertySet`] can hold.
pub const MAX_PROPERTIES: usize = 128;

/// The property codes with their names for people, sorted by code; a code's position is its bit in a
/// [`PropertySet`].
///
/// Parsing cannot fail (one `code = name` per line, `#` starts a comment); whether the codes are well formed, unique and at
/// most [`MAX_PROPERTIES`] is checked by [`crate::DietCatalog::load`], which every binary calls at start-up.
static VOCABULARY: LazyLock<Vec<(&'static str, &'static str)>> = LazyLock::new(|| {
    let mut codes: Vec<(&'static str, &'static str)> = data::file(VOCABULARY_FILE)
        .map(vocabulary_lines)
        .unwrap_or_default()
        .into_iter()
        .map(|(_, code, name)| (code, name))
        .collect();
    codes.sort_unstable_by_key(|(code, _)| *code);
    codes.dedup_by_key(|(code, _)| *code);
    codes.truncate(MAX_PROPERTIES);
    codes
});

/// `(line number, code, name)` for every non-empty line of a vocabulary file: `code = name for people  # comment`.
/// Without `= name`, the name is the code.
pub(crate) fn vocabulary_lines(text: &str) -> Vec<(usize, &str, &str)> {
    text.lines()
        .enumerate()
        .filter_map(|(index, line)| {
            let entry = line.split_once('#').map_or(line, |(entry, _)| entry);
            let (code, name) = entry.split_once('=').unwrap_or((entry, entry));
            let code = code.trim();
            (!code.is_empty()).then_some((index + 1, code, name.trim()))
        })
        .collect()
}

/// One property, by its position in the vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Property(u8);

impl Property {
    /// The property with this code, if the vocabulary has it.
    #[must_use]
    pub fn from_code(code: &str) -> Option<Self> {
        VOCABULARY
            .binary_search_by(|(known, _)| known.cmp(&code))
            .ok()
            .and_then(|index| u8::try_from(index).ok())
            .map(Self)
    }

    /// The property's code, e.g. `animal_origin`.
    #[must_use]
    pub fn code(self) -> &'static str {
        VOCABULARY
            .get(usize::from(self.0))
            .map_or("", |(code, _)| code)
    }

    /// The property's name for people, e.g. `animal products`.
    #[must_use]
    pub fn name(self) -> &'static str {
        VOCABULARY
            .get(usize::from(self.0))
            .map_or("", |(_, name)| name)
    }

    fn bit(self) -> u128 {
        1u128 << self.0
    }
}

impl fmt::Display for Property {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A set of properties, as a bit mask.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PropertySet(u128);

impl PropertySet {
    /// The empty set.
    pub const EMPTY: Self = Self(0);

    /// Whether the set has no property.
    #[must_use]
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether the set holds `property`.
    #[must_use]
    pub fn contains(self, property: Property) -> bool {
        self.0 & property.bit() != 0
    }

    /// Adds `property` to the set.
    pub fn insert(&mut self, property: Property) {
        self.0 |= property.bit();
    }

    /// Every property that is in `self` or in `other`.
    #[must_use]
    pub fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Every property that is in both sets.
    #[must_use]
    pub fn intersection(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }

    /// Every property of `self` that is not in `other`.
    #[must_use]
    pub fn difference(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }

    /// Whether the two sets share a property.
    #[must_use]
    pub fn intersects(self, other: Self) -> bool {
        self.0 & other.0 != 0
    }

    /// The properties, in code order.
    pub fn iter(self) -> impl Iterator<Item = Property> {
        (0..MAX_PROPERTIES)
            .filter(move |bit| self.0 & (1u128 << bit) != 0)
            .filter_map(|bit| u8::try_from(bit).ok().map(Property))
    }

    /// The codes of the properties, in code order.
    #[must_use]
    pub fn codes(self) -> Vec<&'static str> {
        self.iter().map(Property::code).collect()
    }
}

impl FromIterator<Property> for PropertySet {
    fn from_iter<I: IntoIterator<Item = Property>>(iter: I) -> Self {
        let mut set = Self::EMPTY;
        for property in iter {
            set.insert(property);
        }
        set
    }
}

impl Serialize for PropertySet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter().map(Property::code))
    }
}

/// A code as read: borrowed from the input when it can be (stored analyses hold many; they are read with every
/// page of search results), owned when the input needs unescaping.
struct Code<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Code<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Text;
        impl<'de> Visitor<'de> for Text {
            type Value = Cow<'de, str>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a property code")
            }
            fn visit_borrowed_str<E: de::Error>(self, code: &'de str) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(code))
            }
            fn visit_str<E: de::Error>(self, code: &str) -> Result<Self::Value, E> {
                Ok(Cow::Owned(code.to_owned()))
            }
        }
        deserializer.deserialize_str(Text).map(Code)
    }
}

impl<'de> Deserialize<'de> for PropertySet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Codes;
        impl<'de> Visitor<'de> for Codes {
            type Value = PropertySet;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of property codes")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PropertySet, A::Error> {
                let mut set = PropertySet::EMPTY;
                while let Some(Code(code)) = seq.next_element::<Code<'de>>()? {
                    let property = Property::from_code(&code).ok_or_else(|| {
                        de::Error::custom(format_args!(
                            "unknown property `{code}`: the analysis is older than the vocabulary, re-analyse"
                        ))
                    })?;
                    set.insert(property);
                }
                Ok(set)
            }
        }
        deserializer.deserialize_seq(Codes)
    }
}
