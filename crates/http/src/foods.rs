//! The food catalog: search, barcode scans, food pages with the caller's verdict, contributions, admin edits.

use actix_web::http::header::{self, ContentType, ETag, EntityTag};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, delete, get, post, put, web};
use chrono::{DateTime, Utc};
use diningcoach_catalog::{
    Actor, Food, FoodFields, FoodId, FoodKind, FoodSearchRequest, FoodView, Gtin, NutrientsPer100g,
    SearchQuery, SearchTier, Suitability,
};
use diningcoach_dietary::PropertySet;
use diningcoach_kernel::Limit;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::Api;
use crate::auth::{Authenticated, MaybeAuthenticated};
use crate::dietary::VerdictResponse;
use crate::food_json;
use crate::identity::expected_version;
use crate::problem::{ApiError, FieldError, Problem};

/// Nutrients per 100 g (or 100 ml); `null` means unknown, which is not zero.
#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"energy_kcal": 539, "fat_g": 30.9, "saturated_fat_g": 10.6, "carbohydrates_g": 57.5,
                          "sugars_g": 56.3, "fiber_g": null, "protein_g": 6.3, "sodium_mg": 43}))]
pub struct NutrientsDto {
    energy_kcal: Option<f64>,
    protein_g: Option<f64>,
    fat_g: Option<f64>,
    saturated_fat_g: Option<f64>,
    trans_fat_g: Option<f64>,
    cholesterol_mg: Option<f64>,
    carbohydrates_g: Option<f64>,
    sugars_g: Option<f64>,
    starch_g: Option<f64>,
    fiber_g: Option<f64>,
    sodium_mg: Option<f64>,
    potassium_mg: Option<f64>,
    phosphorus_mg: Option<f64>,
    iodine_ug: Option<f64>,
    caffeine_mg: Option<f64>,
    alcohol_percent_vol: Option<f64>,
}

impl From<&NutrientsPer100g> for NutrientsDto {
    fn from(n: &NutrientsPer100g) -> Self {
        Self {
            energy_kcal: n.energy_kcal,
            protein_g: n.protein_g,
            fat_g: n.fat_g,
            saturated_fat_g: n.saturated_fat_g,
            trans_fat_g: n.trans_fat_g,
            cholesterol_mg: n.cholesterol_mg,
            carbohydrates_g: n.carbohydrates_g,
            sugars_g: n.sugars_g,
            starch_g: n.starch_g,
            fiber_g: n.fiber_g,
            sodium_mg: n.sodium_mg,
            potassium_mg: n.potassium_mg,
            phosphorus_mg: n.phosphorus_mg,
            iodine_ug: n.iodine_ug,
            caffeine_mg: n.caffeine_mg,
            alcohol_percent_vol: n.alcohol_percent_vol,
        }
    }
}

impl From<NutrientsDto> for NutrientsPer100g {
    fn from(n: NutrientsDto) -> Self {
        Self {
            energy_kcal: n.energy_kcal,
            protein_g: n.protein_g,
            fat_g: n.fat_g,
            saturated_fat_g: n.saturated_fat_g,
            trans_fat_g: n.trans_fat_g,
            cholesterol_mg: n.cholesterol_mg,
            carbohydrates_g: n.carbohydrates_g,
            sugars_g: n.sugars_g,
            starch_g: n.starch_g,
            fiber_g: n.fiber_g,
            sodium_mg: n.sodium_mg,
            potassium_mg: n.potassium_mg,
            phosphorus_mg: n.phosphorus_mg,
            iodine_ug: n.iodine_ug,
            caffeine_mg: n.caffeine_mg,
            alcohol_percent_vol: n.alcohol_percent_vol,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CategoryDto {
    #[schema(example = "Sweet spreads")]
    main: String,
    #[schema(example = "Hazelnut spreads")]
    sub: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct BarcodeDto {
    /// The canonical 14-digit GTIN, as stored and matched.
    #[schema(example = "03017620422003")]
    gtin: String,
    /// The form printed on the pack (EAN-8, UPC-A, EAN-13 or GTIN-14).
    #[schema(example = "3017620422003")]
    printed: String,
}

/// What the dietary engine read in the food's data, whoever looks at it.
#[derive(Serialize, ToSchema)]
pub struct AnalysisDto {
    /// The analyser version that made it.
    version: u32,
    ingredients_declared: bool,
    /// Properties certainly present (`milk`, `pork`, `gluten`, `animal_origin`, …).
    contains: Vec<String>,
    /// Properties possibly present (an ingredient of unstated origin, such as gelatine).
    possibly: Vec<String>,
    /// Properties of precautionary "may contain" statements and trace tags.
    traces: Vec<String>,
    /// Certification labels recognised (`halal`, `vegan`, `gluten_free`, …).
    labels: Vec<String>,
    /// Ingredients not recognised, as written: they make a verdict `unknown` rather than a guess.
    unrecognised_ingredients: Vec<String>,
}

/// A food of the catalog.
#[derive(Serialize, ToSchema)]
pub struct FoodResponse {
    id: Uuid,
    /// The stable code of the food in its source (`off:…`, `user:…`, a CSV's `food_code`).
    #[schema(example = "off:3017620422003")]
    food_code: String,
    barcode: Option<BarcodeDto>,
    /// `processed`, `fresh`, `cooked` or `user_submitted`.
    #[schema(example = "processed")]
    kind: String,
    /// `import`, `user` or `generated`.
    #[schema(example = "import")]
    source: String,
    #[schema(example = "Nutella")]
    name: String,
    #[schema(example = "Ferrero")]
    brand: Option<String>,
    #[schema(example = "France")]
    country: Option<String>,
    category: Option<CategoryDto>,
    #[schema(example = 15)]
    serving_size_g: Option<f64>,
    nutrients_per_100g: NutrientsDto,
    ingredients_text: Option<String>,
    /// Declared allergen tags (`en:milk`).
    allergens: Vec<String>,
    /// Declared "may contain" tags.
    traces: Vec<String>,
    /// Label tags (`en:vegan`, `en:halal`).
    labels: Vec<String>,
    storage_notes: Option<String>,
    analysis: AnalysisDto,
    /// Also sent as the `ETag`; an admin edit sends it back in `If-Match`.
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    // The caller's fields come last: a food's other fields are written once and kept (see food_json.rs).
    /// The caller's verdict with its reasons; absent for anonymous callers.
    verdict: Option<VerdictResponse>,
    /// In search results with text, how the food matched, best first: `exact`, `name_prefix`, `word_prefix`
    /// (a word of the name or brand), `substring`, then the corrections of a misspelt query, `corrected_prefix`
    /// and `corrected_word_prefix` ("did you mean"). `null` elsewhere.
    #[schema(example = "name_prefix")]
    matched: Option<&'static str>,
}

fn codes(set: PropertySet) -> Vec<String> {
    set.iter()
        .map(|property| property.code().to_owned())
        .collect()
}

impl From<FoodView> for FoodResponse {
    fn from(view: FoodView) -> Self {
        let FoodView {
            food,
            verdict,
            matched,
        } = view;
        let Food {
            id,
            code,
            draft,
            analysis,
            version,
            created_at,
            updated_at,
            created_by: _,
        } = food;
        let barcode = draft.gtin().map(|gtin| BarcodeDto {
            gtin: gtin.as_str().to_owned(),
            printed: gtin.printed().to_owned(),
        });
        let kind = draft.kind();
        // Moved out rather than copied: a page of 20 foods copied every text of every food.
        let (fields, source) = draft.into_fields();
        Self {
            id: id.as_uuid(),
            food_code: code,
            barcode,
            kind: kind.as_str().to_owned(),
            source: source.as_str().to_owned(),
            name: fields.name,
            brand: fields.brand,
            country: fields.country,
            category: fields.category_main.map(|main| CategoryDto {
                main,
                sub: fields.category_sub,
            }),
            serving_size_g: fields.serving_size_g,
            nutrients_per_100g: (&fields.nutrients).into(),
            ingredients_text: fields.ingredients_text,
            allergens: fields.allergens,
            traces: fields.traces,
            labels: fields.labels,
            storage_notes: fields.storage_notes,
            analysis: AnalysisDto {
                version: analysis.version,
                ingredients_declared: analysis.ingredients_declared,
                contains: codes(analysis.contains),
                possibly: codes(analysis.possibly),
                traces: codes(analysis.traces),
                labels: analysis.labels,
                unrecognised_ingredients: analysis.unrecognised,
            },
            version,
            created_at,
            updated_at,
            verdict: verdict.map(VerdictResponse::from),
            matched: matched.map(SearchTier::as_str),
        }
    }
}

/// A page of foods, best matches first.
#[derive(Serialize, ToSchema)]
// Written by `food_json::page`, which a test keeps equal to this type's serialisation.
pub struct FoodPage {
    pub(crate) items: Vec<FoodResponse>,
    /// Pass it back as `cursor` for the next page; `null` on the last page.
    pub(crate) next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FoodSearchParams {
    /// Text found anywhere in the name or brand, whatever the case and accents. Ranked: exact name, names
    /// starting with it, a word starting with it, elsewhere, then close misspellings when few foods contain it.
    /// One- and two-letter queries match the start of the name or of a word of the name or brand.
    #[param(example = "choco")]
    q: Option<String>,
    /// The main or sub category, exactly as foods show it.
    category: Option<String>,
    /// The brand (case and accents ignored).
    brand: Option<String>,
    /// Logged-in callers only: `true` keeps only foods whose verdict is `ok` for them, `caution` keeps `ok`
    /// and `caution`.
    #[param(value_type = Option<String>, example = "true")]
    suitable: Option<String>,
    /// 1 to 100, default 20.
    limit: Option<i64>,
    cursor: Option<String>,
}

fn suitability(value: Option<&str>) -> Result<Option<Suitability>, ApiError> {
    match value {
        None | Some("false") => Ok(None),
        Some("true" | "ok") => Ok(Some(Suitability::Ok)),
        Some("caution") => Ok(Some(Suitability::Caution)),
        Some(_) => Err(ApiError::validation(vec![FieldError::new(
            "suitable",
            "must be true, false or caution",
        )])),
    }
}

fn blank_to_none(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn food_id(raw: &str) -> Result<FoodId, ApiError> {
    Uuid::parse_str(raw)
        .map(FoodId::from_uuid)
        .map_err(|_| ApiError::not_found(format!("No food has the id {raw}")))
}

/// A food's JSON, with its version as the `ETag`.
fn food_response(
    mut response: HttpResponseBuilder,
    view: FoodView,
) -> Result<HttpResponse, ApiError> {
    let version = view.food.version;
    let mut json = Vec::with_capacity(2048);
    food_json::write_food(&mut json, view).map_err(|e| ApiError::internal(&e))?;
    Ok(response
        .insert_header(ETag(EntityTag::new_strong(version.to_string())))
        .content_type(ContentType::json())
        .body(json))
}

/// Search the catalog. Logged-in callers get their verdict on every food, and may keep only what suits them.
#[utoipa::path(get, path = "/api/v1/foods", tag = "catalog", params(FoodSearchParams),
    security((), ("bearer" = [])),
    responses((status = 200, body = FoodPage),
              (status = 400, description = "A tampered cursor", body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "`suitable` without logging in", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "A bad limit or an empty query", body = Problem, content_type = "application/problem+json")))]
#[get("/api/v1/foods")]
pub async fn search(
    api: web::Data<Api>,
    MaybeAuthenticated(who): MaybeAuthenticated,
    params: web::Query<FoodSearchParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let request = FoodSearchRequest {
        query: blank_to_none(params.q)
            .map(|q| SearchQuery::parse(&q))
            .transpose()?,
        category: blank_to_none(params.category),
        brand: blank_to_none(params.brand),
        suitable: suitability(params.suitable.as_deref())?,
        limit: Limit::new(params.limit)?,
        cursor: params.cursor,
    };
    let page = api.foods.search(who.map(|w| w.user), request).await?;
    let json = food_json::page(page).map_err(|e| ApiError::internal(&e))?;
    Ok(HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(json))
}

/// The food with this barcode: EAN-13, EAN-8, UPC-A or GTIN-14, with or without leading zeros.
#[utoipa::path(get, path = "/api/v1/foods/barcode/{code}", tag = "catalog",
    params(("code" = String, Path, example = "3017620422003")),
    security((), ("bearer" = [])),
    responses((status = 200, body = FoodResponse, headers(("ETag" = String))),
              (status = 404, description = "Not in the catalog; a verified user can add it with POST /api/v1/foods",
               body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "Not a barcode, or a wrong check digit (the expected one is named)",
               body = Problem, content_type = "application/problem+json")))]
#[get("/api/v1/foods/barcode/{code}")]
pub async fn by_barcode(
    api: web::Data<Api>,
    MaybeAuthenticated(who): MaybeAuthenticated,
    code: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let gtin = Gtin::parse(&code)?;
    let view = api
        .foods
        .food_by_barcode(who.map(|w| w.user), &gtin)
        .await?;
    food_response(HttpResponse::Ok(), view)
}

/// A food, with the caller's verdict when logged in.
#[utoipa::path(get, path = "/api/v1/foods/{id}", tag = "catalog", params(("id" = Uuid, Path)),
    security((), ("bearer" = [])),
    responses((status = 200, body = FoodResponse, headers(("ETag" = String))),
              (status = 404, description = "No such food", body = Problem, content_type = "application/problem+json")))]
#[get("/api/v1/foods/{id}")]
pub async fn show(
    api: web::Data<Api>,
    MaybeAuthenticated(who): MaybeAuthenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = api.foods.food(who.map(|w| w.user), food_id(&id)?).await?;
    food_response(HttpResponse::Ok(), view)
}

/// The caller's verdict on a food, with the reasons.
#[utoipa::path(get, path = "/api/v1/foods/{id}/verdict", tag = "catalog", params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = VerdictResponse),
              (status = 404, description = "No such food", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "The health profile names codes the catalog no longer has", body = Problem,
               content_type = "application/problem+json")))]
#[get("/api/v1/foods/{id}/verdict")]
pub async fn show_verdict(
    api: web::Data<Api>,
    Authenticated(who): Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let report = api.foods.verdict(who.user, food_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(VerdictResponse::from(report)))
}

/// A food as a client submits it. Only `name` is required; a barcode makes it findable by scanning.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Kimchi", "brand": "Jongga", "barcode": "8801052012345",
    "category_main": "Fermented foods", "serving_size_g": 40,
    "ingredients_text": "Napa cabbage, radish, red pepper powder, garlic, fish sauce (anchovy, salt), ginger, salt",
    "allergens": ["en:fish"], "nutrients_per_100g": {"energy_kcal": 32, "sodium_mg": 690}}))]
pub struct FoodRequest {
    name: String,
    brand: Option<String>,
    /// EAN-8, UPC-A, EAN-13 or GTIN-14.
    barcode: Option<String>,
    country: Option<String>,
    category_main: Option<String>,
    category_sub: Option<String>,
    /// `processed` (default), `fresh` or `cooked`; user submissions are always recorded as `user_submitted`.
    #[schema(value_type = Option<String>)]
    kind: Option<FoodKind>,
    serving_size_g: Option<f64>,
    ingredients_text: Option<String>,
    #[serde(default)]
    allergens: Vec<String>,
    #[serde(default)]
    traces: Vec<String>,
    #[serde(default)]
    labels: Vec<String>,
    storage_notes: Option<String>,
    #[serde(default)]
    nutrients_per_100g: NutrientsDto,
}

impl From<FoodRequest> for FoodFields {
    fn from(r: FoodRequest) -> Self {
        FoodFields {
            food_code: None,
            barcode: r.barcode,
            name: r.name,
            brand: r.brand,
            country: r.country,
            category_main: r.category_main,
            category_sub: r.category_sub,
            kind: r.kind,
            serving_size_g: r.serving_size_g,
            ingredients_text: r.ingredients_text,
            allergens: r.allergens,
            traces: r.traces,
            labels: r.labels,
            storage_notes: r.storage_notes,
            nutrients: r.nutrients_per_100g.into(),
        }
    }
}

fn actor(who: &diningcoach_identity::Principal) -> Actor {
    Actor {
        user: who.user,
        admin: who.is_admin(),
    }
}

/// Add a product the catalog lacks (a user with a confirmed email). It is analysed at once and marked
/// user-submitted.
#[utoipa::path(post, path = "/api/v1/foods", tag = "catalog", request_body = FoodRequest,
    security(("bearer" = [])),
    responses((status = 201, body = FoodResponse, headers(("Location" = String), ("ETag" = String))),
              (status = 403, description = "The email is not confirmed yet", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "A food with this barcode exists (its id is in the detail)", body = Problem,
               content_type = "application/problem+json"),
              (status = 422, description = "Invalid fields, each named", body = Problem, content_type = "application/problem+json")))]
#[post("/api/v1/foods")]
pub async fn contribute(
    api: web::Data<Api>,
    Authenticated(who): Authenticated,
    body: web::Json<FoodRequest>,
) -> Result<HttpResponse, ApiError> {
    let view = api
        .foods
        .contribute(actor(&who), body.into_inner().into())
        .await?;
    let location = format!("/api/v1/foods/{}", view.food.id.as_uuid());
    let mut created = HttpResponse::Created();
    created.insert_header((header::LOCATION, location));
    food_response(created, view)
}

/// Replace a food's fields (admins). `If-Match` with the ETag read is required, so that two edits cannot
/// silently overwrite each other.
#[utoipa::path(put, path = "/api/v1/foods/{id}", tag = "catalog", request_body = FoodRequest,
    params(("id" = Uuid, Path), ("If-Match" = String, Header, description = "The ETag of the version edited")),
    security(("bearer" = [])),
    responses((status = 200, body = FoodResponse, headers(("ETag" = String))),
              (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No such food", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Another food has this barcode", body = Problem, content_type = "application/problem+json"),
              (status = 412, description = "The food changed since it was read", body = Problem, content_type = "application/problem+json"),
              (status = 428, description = "`If-Match` is missing", body = Problem, content_type = "application/problem+json")))]
#[put("/api/v1/foods/{id}")]
pub async fn edit(
    api: web::Data<Api>,
    Authenticated(who): Authenticated,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<FoodRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = food_id(&id)?;
    let expected = expected_version(&req)?.ok_or_else(|| {
        ApiError::new(
            actix_web::http::StatusCode::PRECONDITION_REQUIRED,
            "if-match-required",
            "If-Match is required",
        )
        .with_detail("send the ETag of the food you edited in If-Match")
    })?;
    let view = api
        .foods
        .edit(actor(&who), id, expected, body.into_inner().into())
        .await?;
    food_response(HttpResponse::Ok(), view)
}

/// Delete a food (admins).
#[utoipa::path(delete, path = "/api/v1/foods/{id}", tag = "catalog", params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 204, description = "Deleted"),
              (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No such food", body = Problem, content_type = "application/problem+json")))]
#[delete("/api/v1/foods/{id}")]
pub async fn remove(
    api: web::Data<Api>,
    Authenticated(who): Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    api.foods.delete(actor(&who), food_id(&id)?).await?;
    Ok(HttpResponse::NoContent().finish())
}
