//! Foods as JSON, each food's own fields written once per state of the food.
//!
//! A page of 20 foods is ~30 KB of JSON, and writing it was a third of the API's instructions for a search
//! (`callgrind`: serde_json escaping every key and text byte by byte, chrono formatting the timestamps): more
//! than reading the rows, judging them and everything else. Yet a food's fields change only with its version
//! and update time (every edit bumps both) or when its stored analysis is replaced by a newer analyser's, and
//! the foods people search for come back page after page and user after user. So each food's fields are kept
//! as written, and a response only adds what is the caller's: the verdict and how the search matched.

use std::sync::{Arc, LazyLock};

use diningcoach_catalog::{Food, FoodState, FoodView, SearchTier};
use diningcoach_kernel::{Cursor, GenerationalMemo, Page};

use crate::dietary::VerdictResponse;
use crate::foods::FoodResponse;

/// The room of each of the memo's two generations, in bytes of JSON: ~6,000 foods of ~1.3 KB (a few hundred
/// pages of search results), so 16 MB at most for both.
const REMEMBERED_BYTES: usize = 8 << 20;

static FIELDS: LazyLock<GenerationalMemo<FoodState, Arc<[u8]>>> =
    LazyLock::new(|| GenerationalMemo::new(REMEMBERED_BYTES, |json| json.len()));

/// How [`FoodResponse`] ends when the caller's fields are unset: its last two fields are the caller's.
const NO_CALLER_FIELDS: &[u8] = br#","verdict":null,"matched":null}"#;

/// A food's [`FoodResponse`] without the caller's fields: the object, open after its last field.
fn fields(food: Food) -> Result<Arc<[u8]>, serde_json::Error> {
    let neutral = FoodView {
        food,
        verdict: None,
        matched: None,
    };
    let json = serde_json::to_vec(&FoodResponse::from(neutral))?;
    json.strip_suffix(NO_CALLER_FIELDS)
        .map(Arc::from)
        .ok_or_else(|| serde::ser::Error::custom("a food's JSON must end with the caller's fields"))
}

/// Appends `view` as its [`FoodResponse`] would be written.
///
/// # Errors
/// A serialisation failure (none is expected of these types).
pub(crate) fn write_food(out: &mut Vec<u8>, view: FoodView) -> Result<(), serde_json::Error> {
    let FoodView {
        food,
        verdict,
        matched,
    } = view;
    let fields = FIELDS.try_get_or_make(&food.state(), || fields(food))?;
    out.extend_from_slice(&fields);
    out.extend_from_slice(br#","verdict":"#);
    serde_json::to_writer(&mut *out, &verdict.map(VerdictResponse::from))?;
    out.extend_from_slice(br#","matched":"#);
    serde_json::to_writer(&mut *out, &matched.map(SearchTier::as_str))?;
    out.push(b'}');
    Ok(())
}

/// A page of foods as its [`crate::foods::FoodPage`] would be written.
///
/// # Errors
/// As [`write_food`].
pub(crate) fn page(page: Page<FoodView>) -> Result<Vec<u8>, serde_json::Error> {
    let Page { items, next_cursor } = page;
    let mut out = Vec::with_capacity(256 + items.len() * 1536);
    out.extend_from_slice(br#"{"items":["#);
    for (i, view) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_food(&mut out, view)?;
    }
    out.extend_from_slice(br#"],"next_cursor":"#);
    serde_json::to_writer(&mut out, &next_cursor.as_ref().map(Cursor::as_str))?;
    out.push(b'}');
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use diningcoach_catalog::{FoodDraft, FoodFields, FoodSource, VerdictService};
    use diningcoach_dietary::{DietCatalog, DietProfileInput};
    use diningcoach_kernel::CursorCodec;
    use serde_json::Value;

    use super::*;
    use crate::foods::FoodPage;

    fn catalog() -> &'static DietCatalog {
        static CATALOG: LazyLock<DietCatalog> = LazyLock::new(|| DietCatalog::load().unwrap());
        &CATALOG
    }

    fn food(name: &str) -> Food {
        let draft = FoodDraft::new(
            FoodFields {
                name: name.to_owned(),
                brand: Some("Brand \"quoted\" \u{e9}".to_owned()),
                barcode: Some("3017620422003".to_owned()),
                category_main: Some("Dairies".to_owned()),
                ingredients_text: Some("milk, peanuts, sugar".to_owned()),
                allergens: vec!["en:milk".to_owned()],
                ..FoodFields::default()
            },
            FoodSource::Import,
        )
        .unwrap();
        let analysis = catalog().analyse(&draft.facts()).summary();
        Food::stored(draft, analysis)
    }

    /// The food as a viewer allergic to peanuts sees it in a search.
    fn judged(food: Food) -> FoodView {
        let profile = catalog()
            .profile(&DietProfileInput {
                allergens: vec!["peanuts".to_owned()],
                ..DietProfileInput::default()
            })
            .unwrap();
        let verdicts = VerdictService::new(
            Arc::new(DietCatalog::load().unwrap()),
            Arc::new(diningcoach_catalog::ports::MockDietProfiles::new()),
        );
        let verdict = verdicts.judge_food(&food, &profile);
        FoodView {
            food,
            verdict: Some(verdict),
            matched: Some(SearchTier::WordPrefix),
        }
    }

    fn written(view: FoodView) -> Value {
        let mut out = Vec::new();
        write_food(&mut out, view).unwrap();
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn a_food_is_written_as_its_response_with_and_without_the_callers_fields() {
        let food = food("Peanut Yogurt");
        for view in [
            judged(food.clone()),
            FoodView {
                food: food.clone(),
                verdict: None,
                matched: None,
            },
        ] {
            let expected = serde_json::to_value(FoodResponse::from(view.clone())).unwrap();
            if view.verdict.is_some() {
                assert_eq!(expected["verdict"]["level"], "avoid", "{expected}");
                assert!(expected["verdict"]["reasons"][0]["allergen"].is_string());
                assert_eq!(expected["matched"], "word_prefix");
            }
            // Twice: once made, once remembered.
            assert_eq!(written(view.clone()), expected);
            assert_eq!(written(view), expected);
        }
    }

    #[test]
    fn a_new_state_of_the_food_is_written_anew() {
        let mut food = food("Plain Yogurt");
        let before = written(judged(food.clone()));
        food.draft = FoodDraft::new(
            FoodFields {
                name: "Greek Yogurt".to_owned(),
                ..food.draft.clone().into_fields().0
            },
            FoodSource::Import,
        )
        .unwrap();
        food.version += 1;
        let after = written(judged(food.clone()));
        assert_eq!(before["name"], "Plain Yogurt");
        assert_eq!(after["name"], "Greek Yogurt");

        // A newer analyser's analysis, stored without an edit of the food.
        food.analysis.version += 1;
        assert_eq!(
            written(judged(food.clone()))["analysis"]["version"],
            food.analysis.version
        );
    }

    #[test]
    fn a_page_is_written_as_its_food_page() {
        let views = vec![judged(food("Peanut Bar")), judged(food("Milk"))];
        let cursor = CursorCodec::new("key").encode(&"position");
        let expected = serde_json::to_value(FoodPage {
            items: views.iter().cloned().map(FoodResponse::from).collect(),
            next_cursor: Some(cursor.as_str().to_owned()),
        })
        .unwrap();
        let json = page(Page {
            items: views,
            next_cursor: Some(cursor),
        })
        .unwrap();
        assert_eq!(serde_json::from_slice::<Value>(&json).unwrap(), expected);

        let empty = page(Page {
            items: Vec::new(),
            next_cursor: None,
        })
        .unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&empty).unwrap(),
            serde_json::json!({"items": [], "next_cursor": null})
        );
    }
}
