//! The catalog's use cases: search, look-ups with the user's verdict, contributions and admin edits, and the
//! background re-analysis of stored foods.

use std::sync::Arc;

use diningcoach_dietary::DietProfile;
use diningcoach_kernel::{CursorCodec, Page, UserId};

use crate::CatalogError;
use crate::food::{FoodDraft, FoodFields, FoodId, FoodSource};
use crate::gtin::Gtin;
use crate::ports::{DietProfiles, FoodRepository};
use crate::search::normalise_name;
use crate::stored::{
    Actor, Food, FoodSearchRequest, SearchPosition, SearchTier, SuitabilityFilter, TierQuery,
};
use crate::verdicts::{VerdictReport, VerdictService};

/// A food as one viewer sees it: with their verdict when they are logged in.
#[derive(Debug, Clone, PartialEq)]
pub struct FoodView {
    pub food: Food,
    pub verdict: Option<VerdictReport>,
    /// How a search with text found it, so that a client can tell corrections ("did you mean") from matches;
    /// `None` outside searches and for searches without text.
    pub matched: Option<SearchTier>,
}

/// Search, look-ups, contributions, edits.
pub struct FoodService {
    foods: Arc<dyn FoodRepository>,
    accounts: Arc<dyn DietProfiles>,
    verdicts: Arc<VerdictService>,
    cursors: CursorCodec,
}

impl FoodService {
    pub fn new(
        foods: Arc<dyn FoodRepository>,
        accounts: Arc<dyn DietProfiles>,
        verdicts: Arc<VerdictService>,
        cursors: CursorCodec,
    ) -> Self {
        Self {
            foods,
            accounts,
            verdicts,
            cursors,
        }
    }

    /// Searches the catalog: ranked tiers (exact name, name prefix, word prefix, substring, then close
    /// misspellings when few foods contain the text), keyset-paginated across tiers.
    ///
    /// # Errors
    /// [`CatalogError::Kernel`] for a tampered cursor; [`CatalogError::NotAllowed`] for `suitable` without a
    /// viewer; profile errors of [`VerdictService::profile`].
    pub async fn search(
        &self,
        viewer: Option<UserId>,
        request: FoodSearchRequest,
    ) -> Result<Page<FoodView>, CatalogError> {
        let after: Option<SearchPosition> = match &request.cursor {
            Some(cursor) => Some(self.cursors.decode(cursor)?),
            None => None,
        };
        let plan = SearchTier::plan(request.query.as_ref());
        let start = match &after {
            Some(position) => plan
                .iter()
                .position(|tier| *tier == position.tier)
                // A cursor of another query's plan: as good as tampered.
                .ok_or(diningcoach_kernel::KernelError::InvalidCursor)?,
            None => 0,
        };
        let profile = match viewer {
            Some(user) => Some(self.verdicts.profile(user).await?),
            None => None,
        };
        let suitable = match (request.suitable, &profile) {
            (None, _) => None,
            (Some(suitability), Some(profile)) => {
                let tolerated = suitability.tolerated();
                Some((
                    tolerated,
                    SuitabilityFilter {
                        excluded_tags: profile.excluded_tags_worse_than(tolerated),
                        required_tags: profile.required_tags_worse_than(tolerated),
                        ceilings: profile.nutrient_ceilings_worse_than(tolerated),
                    },
                ))
            }
            (Some(_), None) => {
                return Err(CatalogError::NotAllowed(
                    "`suitable` needs a logged-in user: it filters by their health profile",
                ));
            }
        };
        let brand = request.brand.as_deref().map(normalise_name);
        let wanted = usize::from(request.limit.get()) + 1;
        let mut tiers = &plan[start..];
        // Misspellings are offered when few foods contain the text: on a first page that the exact tiers did not
        // fill, or when paging inside them already; never after pages of real matches.
        if after.is_some() && !tiers.first().is_some_and(|tier| tier.is_correction()) {
            let real_matches = tiers
                .iter()
                .take_while(|tier| !tier.is_correction())
                .count();
            tiers = &tiers[..real_matches];
        }
        let rows = self
            .foods
            .search(&TierQuery {
                tiers,
                query: request.query.as_ref(),
                category: request.category.as_deref(),
                brand: brand.as_deref(),
                suitable: suitable.as_ref().map(|(_, filter)| filter),
                after: after.as_ref(),
                limit: u16::try_from(wanted).unwrap_or(u16::MAX),
            })
            .await?;
        let page = Page::from_probe(rows, request.limit, &self.cursors, |(_, position)| {
            position.clone()
        });
        let mut items = Vec::with_capacity(page.items.len());
        for (food, position) in page.items {
            let verdict = profile
                .as_ref()
                .map(|profile| self.verdicts.judge_food(&food, profile));
            // The SQL filter is never looser than the verdict but knows no daily budget: what the verdict
            // still refuses is left out (the page may then be shorter; the cursor is where the scan stopped).
            if let (Some((tolerated, _)), Some(verdict)) = (&suitable, &verdict)
                && verdict.level > *tolerated
            {
                continue;
            }
            items.push(FoodView {
                food,
                verdict,
                matched: Some(position.tier).filter(|tier| *tier != SearchTier::All),
            });
        }
        Ok(Page {
            items,
            next_cursor: page.next_cursor,
        })
    }

    /// A food, with the viewer's verdict.
    ///
    /// # Errors
    /// [`CatalogError::FoodNotFound`].
    pub async fn food(&self, viewer: Option<UserId>, id: FoodId) -> Result<FoodView, CatalogError> {
        let food = self
            .foods
            .food(id)
            .await?
            .ok_or(CatalogError::FoodNotFound)?;
        self.view(viewer, food).await
    }

    /// The food with this barcode, whichever of its printed forms (UPC-A, EAN-13, GTIN-14) was scanned.
    ///
    /// # Errors
    /// [`CatalogError::FoodNotFound`].
    pub async fn food_by_barcode(
        &self,
        viewer: Option<UserId>,
        gtin: &Gtin,
    ) -> Result<FoodView, CatalogError> {
        let food = self
            .foods
            .food_by_barcode(gtin)
            .await?
            .ok_or(CatalogError::FoodNotFound)?;
        self.view(viewer, food).await
    }

    /// The user's verdict on a stored food, with its reasons.
    ///
    /// # Errors
    /// [`CatalogError::FoodNotFound`], and the profile errors of [`VerdictService::profile`].
    pub async fn verdict(&self, user: UserId, id: FoodId) -> Result<VerdictReport, CatalogError> {
        let food = self
            .foods
            .food(id)
            .await?
            .ok_or(CatalogError::FoodNotFound)?;
        let profile = self.verdicts.profile(user).await?;
        Ok(self.verdicts.judge_food(&food, &profile))
    }

    /// A verified user adds a product the catalog lacks; it is marked user-submitted.
    ///
    /// # Errors
    /// [`CatalogError::NotAllowed`] for an unconfirmed email, [`CatalogError::InvalidFood`],
    /// [`CatalogError::BarcodeTaken`].
    pub async fn contribute(
        &self,
        actor: Actor,
        fields: FoodFields,
    ) -> Result<FoodView, CatalogError> {
        if !self.accounts.email_verified(actor.user).await? {
            return Err(CatalogError::NotAllowed(
                "confirm your email address before adding foods",
            ));
        }
        let id = FoodId::generate();
        let mut fields = fields;
        // A user's food is identified by its barcode; without one, by a code of its own.
        fields.food_code = Some(format!("user:{}", id.as_uuid()));
        let draft = FoodDraft::new(fields, FoodSource::User)?;
        let food = self
            .foods
            .insert(id, &self.verdicts.analysed(draft), Some(actor.user))
            .await?;
        self.view(Some(actor.user), food).await
    }

    /// An admin replaces a food's fields; `expected_version` comes from `If-Match`.
    ///
    /// # Errors
    /// [`CatalogError::NotAllowed`], [`CatalogError::FoodNotFound`], [`CatalogError::VersionMismatch`],
    /// [`CatalogError::InvalidFood`], [`CatalogError::BarcodeTaken`].
    pub async fn edit(
        &self,
        actor: Actor,
        id: FoodId,
        expected_version: i32,
        fields: FoodFields,
    ) -> Result<FoodView, CatalogError> {
        Self::require_admin(actor)?;
        let current = self
            .foods
            .food(id)
            .await?
            .ok_or(CatalogError::FoodNotFound)?;
        let mut fields = fields;
        // The code is the food's identity in its source: an edit keeps it.
        fields.food_code = Some(current.code.clone());
        let draft = FoodDraft::new(fields, current.draft.source())?;
        let food = self
            .foods
            .update(id, expected_version, &self.verdicts.analysed(draft))
            .await?;
        self.view(Some(actor.user), food).await
    }

    /// An admin deletes a food.
    ///
    /// # Errors
    /// [`CatalogError::NotAllowed`], [`CatalogError::FoodNotFound`].
    pub async fn delete(&self, actor: Actor, id: FoodId) -> Result<(), CatalogError> {
        Self::require_admin(actor)?;
        if self.foods.delete(id).await? {
            Ok(())
        } else {
            Err(CatalogError::FoodNotFound)
        }
    }

    fn require_admin(actor: Actor) -> Result<(), CatalogError> {
        if actor.admin {
            Ok(())
        } else {
            Err(CatalogError::NotAllowed("only admins edit or delete foods"))
        }
    }

    async fn view(&self, viewer: Option<UserId>, food: Food) -> Result<FoodView, CatalogError> {
        let verdict = match viewer {
            Some(user) => {
                let profile: DietProfile = self.verdicts.profile(user).await?;
                Some(self.verdicts.judge_food(&food, &profile))
            }
            None => None,
        };
        Ok(FoodView {
            food,
            verdict,
            matched: None,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::Mutex;

    use chrono::Utc;
    use diningcoach_dietary::{DietCatalog, DietProfileInput, DietSelection, Level};
    use diningcoach_kernel::{KernelError, Limit};

    use super::*;
    use crate::ports::{MockDietProfiles, MockFoodRepository};
    use crate::search::SearchQuery;
    use crate::stored::Suitability;

    fn catalog() -> Arc<DietCatalog> {
        Arc::new(DietCatalog::load().unwrap())
    }

    fn stored(name: &str, ingredients: &str) -> Food {
        let draft = FoodDraft::labelled(name, ingredients);
        let summary = catalog().analyse(&draft.facts()).summary();
        Food::stored(draft, summary)
    }

    fn vegan_accounts(verified: bool) -> MockDietProfiles {
        let mut accounts = MockDietProfiles::new();
        accounts.expect_diet_profile().returning(|_| {
            Ok(Some(DietProfileInput {
                diets: vec![DietSelection {
                    code: "vegan".into(),
                    ..DietSelection::default()
                }],
                ..DietProfileInput::default()
            }))
        });
        accounts
            .expect_email_verified()
            .returning(move |_| Ok(verified));
        accounts
    }

    fn service(foods: MockFoodRepository, accounts: MockDietProfiles) -> FoodService {
        let accounts = Arc::new(accounts);
        FoodService::new(
            Arc::new(foods),
            accounts.clone(),
            Arc::new(VerdictService::new(catalog(), accounts)),
            CursorCodec::new("test"),
        )
    }

    /// A repository holding `per_tier` foods in every tier, recording the runs of tiers asked.
    fn tiers_with(per_tier: usize, asked: Arc<Mutex<Vec<Vec<SearchTier>>>>) -> MockFoodRepository {
        let mut foods = MockFoodRepository::new();
        foods.expect_search().returning(move |query| {
            asked.lock().unwrap().push(query.tiers.to_vec());
            let mut found = Vec::new();
            for (i, &tier) in query.tiers.iter().enumerate() {
                let skip = query
                    .after
                    .filter(|_| i == 0)
                    .map_or(0, |p| p.key.parse::<usize>().unwrap() + 1);
                for n in skip..per_tier {
                    let food = stored(&format!("{tier:?} {n}"), "water");
                    let position = SearchPosition {
                        tier,
                        key: n.to_string(),
                        id: food.id,
                    };
                    found.push((food, position));
                }
            }
            found.truncate(usize::from(query.limit));
            Ok(found)
        });
        foods
    }

    fn request(q: &str, limit: i64, cursor: Option<String>) -> FoodSearchRequest {
        FoodSearchRequest {
            query: Some(SearchQuery::parse(q).unwrap()),
            limit: Limit::new(Some(limit)).unwrap(),
            cursor,
            ..FoodSearchRequest::default()
        }
    }

    #[tokio::test]
    async fn a_page_fills_from_the_best_tiers_and_the_cursor_resumes_inside_a_tier() {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let service = service(tiers_with(3, asked.clone()), MockDietProfiles::new());
        let page = service
            .search(None, request("choc", 5, None))
            .await
            .unwrap();
        let names: Vec<_> = page.items.iter().map(|v| v.food.draft.name()).collect();
        assert_eq!(
            names,
            [
                "Exact 0",
                "Exact 1",
                "Exact 2",
                "NamePrefix 0",
                "NamePrefix 1"
            ]
        );
        assert!(page.items.iter().all(|v| v.verdict.is_none()));
        assert_eq!(page.items[0].matched, Some(SearchTier::Exact));
        assert_eq!(page.items[4].matched, Some(SearchTier::NamePrefix));
        let cursor = page.next_cursor.unwrap().as_str().to_owned();
        let page = service
            .search(None, request("choc", 5, Some(cursor)))
            .await
            .unwrap();
        let names: Vec<_> = page.items.iter().map(|v| v.food.draft.name()).collect();
        assert_eq!(
            names,
            [
                "NamePrefix 2",
                "WordPrefix 0",
                "WordPrefix 1",
                "WordPrefix 2",
                "Substring 0"
            ]
        );
        // Pages of real matches are never followed by misspellings.
        let cursor = page.next_cursor.unwrap().as_str().to_owned();
        asked.lock().unwrap().clear();
        let page = service
            .search(None, request("choc", 5, Some(cursor)))
            .await
            .unwrap();
        assert_eq!(page.items.len(), 2);
        assert!(page.next_cursor.is_none());
        assert_eq!(*asked.lock().unwrap(), [[SearchTier::Substring]]);
    }

    #[tokio::test]
    async fn misspellings_are_offered_when_few_foods_contain_the_text() {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let service = service(tiers_with(1, asked.clone()), MockDietProfiles::new());
        let page = service
            .search(None, request("choclate", 20, None))
            .await
            .unwrap();
        assert_eq!(page.items.len(), 6);
        assert_eq!(
            *asked.lock().unwrap(),
            [[
                SearchTier::Exact,
                SearchTier::NamePrefix,
                SearchTier::WordPrefix,
                SearchTier::Substring,
                SearchTier::CorrectedPrefix,
                SearchTier::CorrectedWordPrefix
            ]]
        );
        // A page that ends among the corrections resumes there.
        let page = service
            .search(None, request("choclate", 5, None))
            .await
            .unwrap();
        let cursor = page.next_cursor.unwrap().as_str().to_owned();
        asked.lock().unwrap().clear();
        let page = service
            .search(None, request("choclate", 5, Some(cursor)))
            .await
            .unwrap();
        let names: Vec<_> = page.items.iter().map(|v| v.food.draft.name()).collect();
        assert_eq!(names, ["CorrectedWordPrefix 0"]);
        assert_eq!(
            *asked.lock().unwrap(),
            [[SearchTier::CorrectedPrefix, SearchTier::CorrectedWordPrefix]]
        );
        // One- and two-letter queries only take the b-tree prefix paths.
        asked.lock().unwrap().clear();
        service.search(None, request("ch", 20, None)).await.unwrap();
        assert_eq!(
            *asked.lock().unwrap(),
            [[
                SearchTier::Exact,
                SearchTier::NamePrefix,
                SearchTier::WordPrefix
            ]]
        );
    }

    #[tokio::test]
    async fn tampered_cursors_and_anonymous_suitability_are_refused() {
        let service = service(tiers_with(3, Arc::default()), MockDietProfiles::new());
        let outcome = service
            .search(None, request("choc", 5, Some("forged".into())))
            .await;
        assert_eq!(
            outcome.err(),
            Some(CatalogError::Kernel(KernelError::InvalidCursor))
        );
        let mut anonymous = request("choc", 5, None);
        anonymous.suitable = Some(Suitability::Ok);
        assert!(matches!(
            service.search(None, anonymous).await,
            Err(CatalogError::NotAllowed(_))
        ));
    }

    #[tokio::test]
    async fn a_logged_in_search_carries_verdicts_and_suitable_passes_the_filter_down() {
        let mut foods = MockFoodRepository::new();
        foods.expect_search().returning(|query| {
            let filter = query.suitable.expect("the filter reaches SQL");
            assert!(
                filter
                    .excluded_tags
                    .iter()
                    .any(|t| t == "contains:animal_origin")
            );
            stored("Oat drink", "water, oats, salt").found_alone(query)
        });
        let service = service(foods, vegan_accounts(true));
        let mut search = request("oat", 20, None);
        search.suitable = Some(Suitability::Ok);
        let page = service
            .search(Some(UserId::generate()), search)
            .await
            .unwrap();
        assert!(!page.items.is_empty());
        for item in &page.items {
            assert_eq!(item.verdict.as_ref().unwrap().level, Level::Ok);
        }
    }

    #[tokio::test]
    async fn a_search_judges_each_food_on_its_facts_and_shows_its_stored_summary() {
        let mut foods = MockFoodRepository::new();
        foods.expect_search().returning(move |query| {
            let mut food = stored("Milk chocolate", "sugar, whole milk powder, cocoa butter");
            // Stored by an older analyser that knew nothing of milk.
            food.analysis.version = 0;
            food.analysis.contains = diningcoach_dietary::PropertySet::default();
            food.found_alone(query)
        });
        let service = service(foods, vegan_accounts(true));
        let anonymous = service
            .search(None, request("milk", 20, None))
            .await
            .unwrap();
        assert!(anonymous.items[0].verdict.is_none());
        assert_eq!(anonymous.items[0].food.analysis.version, 0);
        let logged_in = service
            .search(Some(UserId::generate()), request("milk", 20, None))
            .await
            .unwrap();
        assert_eq!(
            logged_in.items[0].verdict.as_ref().unwrap().level,
            Level::Avoid
        );
    }

    #[tokio::test]
    async fn only_verified_users_add_foods_and_only_admins_edit_them() {
        let mut foods = MockFoodRepository::new();
        foods.expect_insert().times(1).returning(|id, food, by| {
            assert!(food.draft.code().unwrap().as_str().starts_with("user:"));
            Ok(Food {
                id,
                code: food.draft.code().unwrap().to_string(),
                draft: food.draft.clone(),
                analysis: food.analysis.summary(),
                created_by: by,
                version: 1,
                created_at: Utc::now(),
                updated_at: Utc::now(),
            })
        });
        let user = UserId::generate();
        let fields = FoodFields {
            name: "Milk chocolate".into(),
            ingredients_text: Some("sugar, whole milk powder, cocoa butter".into()),
            ..FoodFields::default()
        };
        let unverified = service(MockFoodRepository::new(), vegan_accounts(false));
        let actor = Actor { user, admin: false };
        assert!(matches!(
            unverified.contribute(actor, fields.clone()).await,
            Err(CatalogError::NotAllowed(_))
        ));
        let verified = service(foods, vegan_accounts(true));
        let view = verified.contribute(actor, fields.clone()).await.unwrap();
        assert_eq!(view.food.draft.kind(), crate::FoodKind::UserSubmitted);
        assert_eq!(
            view.verdict.unwrap().level,
            Level::Avoid,
            "the vegan adder is warned"
        );

        assert!(matches!(
            verified.edit(actor, view.food.id, 1, fields).await,
            Err(CatalogError::NotAllowed(_))
        ));
        assert!(matches!(
            verified.delete(actor, view.food.id).await,
            Err(CatalogError::NotAllowed(_))
        ));
    }
}
