//! A bounded in-process memo of values that are pure functions of their key: derived forms of a stored thing,
//! keyed by the thing's identity and version, so that a remembered value is never out of date.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Values by key, in two generations: a value found in the older one moves to the newer one, and when the
/// newer one is full the older one is dropped whole. Values in use stay; a run of one-off keys (a crawl through
/// every page of a query) passes through without growing it past twice the capacity.
///
/// The capacity is in the units of `weight`, so that values of very different sizes share it fairly.
pub struct GenerationalMemo<K, V> {
    capacity: usize,
    weight: fn(&V) -> usize,
    generations: Mutex<Generations<K, V>>,
}

struct Generations<K, V> {
    newer: HashMap<K, V>,
    /// The weight of the newer generation's values.
    newer_weight: usize,
    older: HashMap<K, V>,
}

impl<K: Eq + Hash, V> Generations<K, V> {
    fn put(&mut self, key: K, value: V, capacity: usize, weight: usize) {
        if self.newer_weight + weight > capacity && !self.newer.is_empty() {
            self.older = std::mem::take(&mut self.newer);
            self.newer_weight = 0;
        }
        self.newer_weight += weight;
        self.newer.insert(key, value);
    }
}

impl<K: Eq + Hash + Clone, V: Clone> GenerationalMemo<K, V> {
    /// Keeps values weighing up to `capacity` in each generation.
    #[must_use]
    pub fn new(capacity: usize, weight: fn(&V) -> usize) -> Self {
        Self {
            capacity,
            weight,
            generations: Mutex::new(Generations {
                newer: HashMap::new(),
                newer_weight: 0,
                older: HashMap::new(),
            }),
        }
    }

    /// The value of `key`: remembered, or made by `make` (outside the lock) and remembered.
    pub fn get_or_make(&self, key: &K, make: impl FnOnce() -> V) -> V {
        match self.try_get_or_make(key, || Ok::<V, std::convert::Infallible>(make())) {
            Ok(value) => value,
            Err(never) => match never {},
        }
    }

    /// Like [`Self::get_or_make`], for a `make` that may fail: a failure is returned and nothing is remembered.
    ///
    /// # Errors
    /// `make`'s.
    pub fn try_get_or_make<E>(&self, key: &K, make: impl FnOnce() -> Result<V, E>) -> Result<V, E> {
        if let Some(found) = self.get(key) {
            return Ok(found);
        }
        let value = make()?;
        self.put(key.clone(), value.clone());
        Ok(value)
    }

    /// The value remembered for `key`, if any: for values made elsewhere, as a batch, then [`Self::put`].
    pub fn get(&self, key: &K) -> Option<V> {
        let mut generations = self.lock();
        if let Some(found) = generations.newer.get(key) {
            return Some(found.clone());
        }
        let found = generations.older.remove(key)?;
        generations.put(
            key.clone(),
            found.clone(),
            self.capacity,
            (self.weight)(&found),
        );
        Some(found)
    }

    /// Remembers `value` for `key`.
    pub fn put(&self, key: K, value: V) {
        let weight = (self.weight)(&value);
        self.lock().put(key, value, self.capacity, weight);
    }

    /// How many values are remembered.
    pub fn len(&self) -> usize {
        let generations = self.lock();
        generations.newer.len() + generations.older.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The lock is never held across a panic that could leave the maps half-changed: a poisoned one is as good.
    fn lock(&self) -> MutexGuard<'_, Generations<K, V>> {
        self.generations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[test]
    fn a_value_is_made_once_per_key() {
        let memo = GenerationalMemo::new(100, String::len);
        let made = Cell::new(0);
        let make = |text: &str| {
            made.set(made.get() + 1);
            text.to_owned()
        };
        assert_eq!(memo.get_or_make(&1, || make("one")), "one");
        assert_eq!(memo.get_or_make(&1, || make("not made")), "one");
        assert_eq!(memo.get_or_make(&2, || make("two")), "two");
        assert_eq!(made.get(), 2);
    }

    #[test]
    fn it_holds_two_generations_at_most_and_keeps_the_values_in_use() {
        // Room for two values of weight 2 in each generation.
        let memo = GenerationalMemo::new(4, String::len);
        let made = Cell::new(0);
        let make = || {
            made.set(made.get() + 1);
            "ab".to_owned()
        };
        memo.get_or_make(&-1, make);
        for i in 0..10 {
            memo.get_or_make(&i, make);
            // Used between the one-off keys, it is moved to the newer generation whenever it reaches the older.
            memo.get_or_make(&-1, make);
            assert!(memo.len() <= 4, "{} values kept", memo.len());
        }
        assert_eq!(made.get(), 11, "the value in use was made once");
    }

    #[test]
    fn heavier_values_take_more_of_the_room() {
        let memo = GenerationalMemo::new(40, String::len);
        for i in 0..6 {
            memo.get_or_make(&i, || "x".repeat(30));
        }
        // Each weighs 30: one per generation, where six values of weight 1 would all have fit.
        assert_eq!(memo.len(), 2);
    }
}
