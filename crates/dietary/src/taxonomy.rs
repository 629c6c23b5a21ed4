//! The ingredient taxonomy: names (synonyms, in any language) → entries with properties, and the matcher that
//! reads an ingredient as written.
//!
//! Matching works on words, not characters: every taxonomy name is normalised and split into words, and the
//! names form a trie over word ids. An ingredient is read left to right, taking the longest name at each
//! position, skipping *qualifiers* ("organic", "enriched", "and") and numbers. Any other word that no name
//! covers makes the ingredient unrecognised: "non-dairy creamer" or "xyzberry jam" must not pass for
//! "creamer" or "jam", because a word we do not know may be the one that matters.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use crate::property::PropertySet;
use crate::text::{normalise, singular_candidates};

/// A taxonomy entry: one ingredient (or class of ingredients) and what it certainly or possibly is.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) code: String,
    /// Properties the ingredient always has.
    pub(crate) is: PropertySet,
    /// Properties it has depending on an origin the label does not state (gelatine: maybe pork).
    pub(crate) maybe: PropertySet,
}

/// The result of reading one ingredient.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Reading {
    /// Codes of the entries found, in order.
    pub(crate) matched: Vec<String>,
    pub(crate) is: PropertySet,
    pub(crate) maybe: PropertySet,
    /// Every word was covered by an entry, a qualifier or a number.
    pub(crate) recognised: bool,
}

/// A small, fast hasher for short keys; the keys come from our own data and labels, not from an attacker who
/// could aim for collisions, and a collision would only cost time.
#[derive(Default)]
pub(crate) struct FxHasher(u64);

impl Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 =
                (self.0.rotate_left(5) ^ u64::from(byte)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_u32(&mut self, value: u32) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(value)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// The matcher.
#[derive(Debug, Default)]
pub(crate) struct Taxonomy {
    entries: Vec<Entry>,
    /// Normalised word → word id.
    words: FastMap<String, u32>,
    /// (trie node, word id) → child node; node 0 is the root.
    edges: FastMap<(u32, u32), u32>,
    /// Entry ending at each node.
    terminal: Vec<Option<u32>>,
    /// Words that describe an ingredient without changing what it is.
    qualifiers: HashSet<String>,
}

/// A name that two entries claim, found while building.
#[derive(Debug)]
pub(crate) struct NameClash {
    pub(crate) name: String,
    pub(crate) first: String,
}

impl Taxonomy {
    pub(crate) fn new(qualifiers: impl IntoIterator<Item = String>) -> Self {
        Self {
            terminal: vec![None],
            qualifiers: qualifiers.into_iter().map(|q| normalise(&q)).collect(),
            ..Self::default()
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Adds an entry under all its names. Fails if a name already belongs to another entry, because which one
    /// a label meant would then depend on load order.
    pub(crate) fn add(&mut self, entry: Entry, names: &[String]) -> Result<(), NameClash> {
        let index = u32::try_from(self.entries.len()).unwrap_or(u32::MAX);
        for name in names {
            let normalised = normalise(name);
            let mut node = 0u32;
            for word in normalised.split(' ').filter(|w| !w.is_empty()) {
                let next_word = u32::try_from(self.words.len()).unwrap_or(u32::MAX);
                let word = *self.words.entry(word.to_owned()).or_insert(next_word);
                let next_node = u32::try_from(self.terminal.len()).unwrap_or(u32::MAX);
                node = *self.edges.entry((node, word)).or_insert_with(|| next_node);
                if node == next_node {
                    self.terminal.push(None);
                }
            }
            let slot = self.terminal.get_mut(node as usize);
            match slot {
                Some(Some(existing)) if *existing != index => {
                    let first = self
                        .entries
                        .get(*existing as usize)
                        .map(|e| e.code.clone())
                        .unwrap_or_default();
                    return Err(NameClash {
                        name: normalised,
                        first,
                    });
                }
                Some(slot) if node != 0 => *slot = Some(index),
                _ => {}
            }
        }
        self.entries.push(entry);
        Ok(())
    }

    /// Reads an ingredient as written.
    pub(crate) fn read(&self, text: &str) -> Reading {
        let normalised = normalise(text);
        let words: Vec<&str> = normalised.split(' ').filter(|w| !w.is_empty()).collect();
        let ids: Vec<WordIds> = words.iter().map(|word| self.word_ids(word)).collect();
        let mut reading = Reading {
            recognised: !words.is_empty(),
            ..Reading::default()
        };
        let mut at = 0;
        while at < words.len() {
            if let Some((end, entry)) = self.longest_name(&ids[at..]) {
                if let Some(entry) = self.entries.get(entry as usize) {
                    reading.matched.push(entry.code.clone());
                    reading.is = reading.is.union(entry.is);
                    reading.maybe = reading.maybe.union(entry.maybe);
                }
                at += end;
                continue;
            }
            let word = words[at];
            let skippable =
                self.qualifiers.contains(word) || word.chars().all(|c| c.is_ascii_digit());
            if !skippable {
                reading.recognised = false;
            }
            at += 1;
        }
        reading.maybe = reading.maybe.difference(reading.is);
        reading
    }

    /// The entry whose whole name is exactly `text` (used for tags such as `en:sesame-seeds`).
    pub(crate) fn exact(&self, text: &str) -> Option<&Entry> {
        let normalised = normalise(text);
        let ids: Vec<WordIds> = normalised
            .split(' ')
            .filter(|w| !w.is_empty())
            .map(|w| self.word_ids(w))
            .collect();
        match self.longest_name(&ids) {
            Some((end, entry)) if end == ids.len() => self.entries.get(entry as usize),
            _ => None,
        }
    }

    /// The word's id as written, and the id of its singular form if that is a different known word ("eggs" is
    /// a word of "whole eggs", and "free range eggs" must still reach "free range egg").
    fn word_ids(&self, word: &str) -> WordIds {
        let exact = self.words.get(word).copied();
        let singular =
            singular_candidates(word).find_map(|singular| self.words.get(&singular).copied());
        [exact, singular.filter(|id| Some(*id) != exact)]
    }

    /// The longest name starting at the first word: (number of words, entry). At each word the form as written
    /// is tried first, then its singular.
    fn longest_name(&self, ids: &[WordIds]) -> Option<(usize, u32)> {
        let mut node = 0u32;
        let mut best = None;
        for (length, forms) in ids.iter().enumerate() {
            let Some(next) = forms
                .iter()
                .flatten()
                .find_map(|id| self.edges.get(&(node, *id)).copied())
            else {
                break;
            };
            node = next;
            if let Some(Some(entry)) = self.terminal.get(node as usize) {
                best = Some((length + 1, *entry));
            }
        }
        best
    }
}

/// A word's id as written and its singular's id.
type WordIds = [Option<u32>; 2];
