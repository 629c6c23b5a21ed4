//! Keyset pagination: a page of items and an opaque, tamper-evident cursor to the next one.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::Sha256;

use crate::KernelError;

/// How many items a client asked for: 1 to [`Limit::MAX`], [`Limit::DEFAULT`] when it did not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit(u16);

impl Limit {
    pub const DEFAULT: u16 = 20;
    pub const MAX: u16 = 100;

    pub fn new(requested: Option<i64>) -> Result<Self, KernelError> {
        match requested {
            None => Ok(Self(Self::DEFAULT)),
            Some(n) if (1..=i64::from(Self::MAX)).contains(&n) => Ok(Self(n as u16)),
            Some(n) => Err(KernelError::InvalidLimit {
                got: n,
                max: Self::MAX,
            }),
        }
    }

    pub fn get(self) -> u16 {
        self.0
    }

    /// One more than the limit: fetching it tells whether a next page exists without a `COUNT(*)`.
    pub fn probe(self) -> i64 {
        i64::from(self.0) + 1
    }
}

impl Default for Limit {
    fn default() -> Self {
        Self(Self::DEFAULT)
    }
}

/// A page of results. `next_cursor` is `None` on the last page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<Cursor>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows fetched in order: the extra row only proves a next page exists.
    pub fn from_probe<P: Serialize>(
        mut rows: Vec<T>,
        limit: Limit,
        codec: &CursorCodec,
        position_of: impl Fn(&T) -> P,
    ) -> Self {
        let has_more = rows.len() > usize::from(limit.get());
        rows.truncate(usize::from(limit.get()));
        let next_cursor = match (has_more, rows.last()) {
            (true, Some(last)) => Some(codec.encode(&position_of(last))),
            _ => None,
        };
        Self {
            items: rows,
            next_cursor,
        }
    }
}

/// An opaque position in a listing, as the client sees it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Cursor(String);

impl Cursor {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Signs cursors so that a client can neither forge nor edit one (a cursor names rows by key; an edited one must
/// not become a way to probe other users' data), and rejects cursors signed with another key.
#[derive(Clone)]
pub struct CursorCodec {
    key: Vec<u8>,
}

impl std::fmt::Debug for CursorCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorCodec(..)")
    }
}

const TAG_LEN: usize = 16;

impl CursorCodec {
    pub fn new(key: impl Into<Vec<u8>>) -> Self {
        Self { key: key.into() }
    }

    fn tag(&self, payload: &[u8]) -> Vec<u8> {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(payload);
        mac.finalize().into_bytes()[..TAG_LEN].to_vec()
    }

    pub fn encode<P: Serialize>(&self, position: &P) -> Cursor {
        // Serialising plain keys (ids, numbers, timestamps) to JSON cannot fail.
        let payload = serde_json::to_vec(position).unwrap_or_default();
        let tag = self.tag(&payload);
        Cursor(format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(tag)
        ))
    }

    pub fn decode<P: DeserializeOwned>(&self, cursor: &str) -> Result<P, KernelError> {
        let (payload, tag) = cursor.split_once('.').ok_or(KernelError::InvalidCursor)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| KernelError::InvalidCursor)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| KernelError::InvalidCursor)?;
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .map_err(|_| KernelError::InvalidCursor)?;
        mac.update(&payload);
        mac.verify_truncated_left(&tag)
            .map_err(|_| KernelError::InvalidCursor)?;
        serde_json::from_slice(&payload).map_err(|_| KernelError::InvalidCursor)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn limit_defaults_and_bounds() {
        assert_eq!(Limit::new(None).map(Limit::get), Ok(20));
        assert_eq!(Limit::new(Some(100)).map(Limit::get), Ok(100));
        assert!(Limit::new(Some(0)).is_err());
        assert!(Limit::new(Some(101)).is_err());
        assert!(Limit::new(Some(-3)).is_err());
    }

    #[test]
    fn cursor_round_trips_and_rejects_tampering() {
        let codec = CursorCodec::new(b"secret".to_vec());
        let cursor = codec.encode(&("2026-11-23T10:00:00Z", 42));
        let back: Result<(String, i64), _> = codec.decode(cursor.as_str());
        assert_eq!(back, Ok(("2026-11-23T10:00:00Z".to_owned(), 42)));

        let other = CursorCodec::new(b"other".to_vec());
        assert_eq!(
            other.decode::<(String, i64)>(cursor.as_str()),
            Err(KernelError::InvalidCursor)
        );

        let (_, tag) = cursor.as_str().split_once('.').unwrap_or_default();
        let forged = format!(
            "{}.{tag}",
            URL_SAFE_NO_PAD.encode(br#"["2026-11-23T10:00:00Z",43]"#)
        );
        assert_eq!(
            codec.decode::<(String, i64)>(&forged),
            Err(KernelError::InvalidCursor)
        );
    }

    #[test]
    fn a_page_probes_one_extra_row_for_the_next_cursor() {
        let codec = CursorCodec::new(b"k".to_vec());
        let limit = Limit::new(Some(2)).unwrap_or_default();
        let page = Page::from_probe(vec![1, 2, 3], limit, &codec, |n| *n);
        assert_eq!(page.items, vec![1, 2]);
        let next = page.next_cursor.map(|c| codec.decode::<i32>(c.as_str()));
        assert_eq!(next, Some(Ok(2)));
        let last = Page::from_probe(vec![1, 2], limit, &codec, |n| *n);
        assert_eq!(last.next_cursor, None);
    }

    proptest! {
        #[test]
        fn decoding_garbage_never_panics(raw in "\\PC{0,120}") {
            let codec = CursorCodec::new(b"k".to_vec());
            let _ = codec.decode::<serde_json::Value>(&raw);
        }
    }
}
