//! A small in-process memo of answers that may be a little out of date, bounded in size and age.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Answers by key, each forgotten `ttl` after it was given. At most `capacity` are kept: a full memo first drops
/// its expired answers, then, if it is still full, all of them (simpler than least-recently-used, and as good for
/// answers that are cheap to give again).
pub(crate) struct Memo<K, V> {
    ttl: Duration,
    capacity: usize,
    answers: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K: Eq + Hash, V: Clone> Memo<K, V> {
    pub(crate) fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            capacity,
            answers: Mutex::new(HashMap::new()),
        }
    }

    /// The answer given for `key` less than `ttl` ago.
    pub(crate) fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let answers = self.answers.lock().unwrap_or_else(PoisonError::into_inner);
        answers
            .get(key)
            .filter(|(given, _)| given.elapsed() < self.ttl)
            .map(|(_, answer)| answer.clone())
    }

    pub(crate) fn put(&self, key: K, answer: V) {
        if self.ttl.is_zero() || self.capacity == 0 {
            return;
        }
        let mut answers = self.answers.lock().unwrap_or_else(PoisonError::into_inner);
        if answers.len() >= self.capacity && !answers.contains_key(&key) {
            answers.retain(|_, (given, _)| given.elapsed() < self.ttl);
            if answers.len() >= self.capacity {
                answers.clear();
            }
        }
        answers.insert(key, (Instant::now(), answer));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.answers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_kept_until_they_expire() {
        let memo = Memo::new(Duration::from_millis(50), 10);
        memo.put("choclate".to_owned(), 1);
        assert_eq!(memo.get("choclate"), Some(1));
        assert_eq!(memo.get("yoghurt"), None);
        memo.put("choclate".to_owned(), 2);
        assert_eq!(memo.get("choclate"), Some(2));
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(memo.get("choclate"), None);
    }

    #[test]
    fn a_full_memo_makes_room_and_never_grows_past_its_capacity() {
        let memo = Memo::new(Duration::from_secs(60), 3);
        for i in 0..3 {
            memo.put(i, i);
        }
        // Replacing an answer needs no room.
        memo.put(2, 20);
        assert_eq!(memo.len(), 3);
        assert_eq!(memo.get(&0), Some(0));
        memo.put(3, 3);
        assert_eq!(memo.len(), 1);
        assert_eq!(memo.get(&3), Some(3));
        assert_eq!(memo.get(&0), None);

        let short = Memo::new(Duration::from_millis(20), 2);
        short.put(0, 0);
        std::thread::sleep(Duration::from_millis(30));
        short.put(1, 1);
        short.put(2, 2);
        // Only the expired answer made room.
        assert_eq!((short.get(&1), short.get(&2)), (Some(1), Some(2)));
        assert_eq!(short.len(), 2);
    }

    #[test]
    fn a_memo_without_time_or_room_keeps_nothing() {
        let memo = Memo::new(Duration::ZERO, 10);
        memo.put(1, 1);
        assert_eq!(memo.get(&1), None);
        let memo = Memo::new(Duration::from_secs(60), 0);
        memo.put(1, 1);
        assert_eq!(memo.get(&1), None);
    }
}
