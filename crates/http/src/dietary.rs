//! The diet catalog and verdicts: `/api/v1/diets`, `/api/v1/verdicts/check`.

use actix_web::{HttpResponse, get, post, web};
use diningcoach_catalog::VerdictReport;
use diningcoach_dietary::{DietCatalog, FoodFacts, Nutrients};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::Api;
use crate::auth::Authenticated;
use crate::problem::{ApiError, Problem};

#[derive(Serialize, ToSchema)]
pub struct DietParameterDto {
    #[schema(example = "daily_sodium_mg")]
    code: String,
    description: String,
    #[schema(example = "mg")]
    unit: String,
    default: f64,
    min: f64,
    max: f64,
}

#[derive(Serialize, ToSchema)]
pub struct RuleSummaryDto {
    #[schema(example = "sodium_per_serving")]
    code: String,
    summary: String,
}

#[derive(Serialize, ToSchema)]
pub struct SourceDto {
    title: String,
    url: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DietDto {
    #[schema(example = "low_sodium")]
    code: String,
    name: String,
    description: String,
    parameters: Vec<DietParameterDto>,
    rules: Vec<RuleSummaryDto>,
    sources: Vec<SourceDto>,
}

#[derive(Serialize, ToSchema)]
pub struct ConditionDto {
    #[schema(example = "hypertension")]
    code: String,
    name: String,
    /// The diets a user with this condition follows.
    implies: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AllergenDto {
    #[schema(example = "peanuts")]
    code: String,
    name: String,
    /// The labelling rules that list it (EU 1169/2011, US FALCPA, KR MFDS).
    regulations: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct LabelDto {
    #[schema(example = "halal")]
    code: String,
    name: String,
    /// Product-data tags that carry the label, e.g. `en:halal`.
    tags: Vec<String>,
}

/// Every code a health profile may use, with what each diet checks and on which guidance.
#[derive(Serialize, ToSchema)]
pub struct DietCatalogResponse {
    diets: Vec<DietDto>,
    conditions: Vec<ConditionDto>,
    allergens: Vec<AllergenDto>,
    labels: Vec<LabelDto>,
}

fn sources(sources: &[diningcoach_dietary::Source]) -> Vec<SourceDto> {
    sources
        .iter()
        .map(|s| SourceDto {
            title: s.title.clone(),
            url: s.url.clone(),
        })
        .collect()
}

impl From<&DietCatalog> for DietCatalogResponse {
    fn from(catalog: &DietCatalog) -> Self {
        Self {
            diets: catalog
                .diets()
                .iter()
                .map(|d| DietDto {
                    code: d.code.clone(),
                    name: d.name.clone(),
                    description: d.description.clone(),
                    parameters: d
                        .parameters
                        .iter()
                        .map(|p| DietParameterDto {
                            code: p.code.clone(),
                            description: p.description.clone(),
                            unit: p.unit.clone(),
                            default: p.default,
                            min: p.min,
                            max: p.max,
                        })
                        .collect(),
                    rules: d
                        .rules
                        .iter()
                        .map(|r| RuleSummaryDto {
                            code: r.code.clone(),
                            summary: r.summary.clone(),
                        })
                        .collect(),
                    sources: sources(&d.sources),
                })
                .collect(),
            conditions: catalog
                .conditions()
                .iter()
                .map(|c| ConditionDto {
                    code: c.code.clone(),
                    name: c.name.clone(),
                    implies: c.implies.clone(),
                })
                .collect(),
            allergens: catalog
                .allergens()
                .iter()
                .map(|a| AllergenDto {
                    code: a.code.clone(),
                    name: a.name.clone(),
                    regulations: a.regulations.clone(),
                })
                .collect(),
            labels: catalog
                .labels()
                .iter()
                .map(|l| LabelDto {
                    code: l.code.clone(),
                    name: l.name.clone(),
                    tags: l.tags.clone(),
                })
                .collect(),
        }
    }
}

/// A label as the user typed or photographed it. Tags use the Open Food Facts vocabulary (`en:milk`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"ingredients_text": "Sugar, skimmed milk powder, cocoa butter, emulsifier (soy lecithin). May contain peanuts.",
                          "allergens": ["en:milk", "en:soybeans"], "traces": ["en:peanuts"], "labels": [],
                          "nutrients_per_100g": {"sodium_mg": 120, "sugars_g": 48.5}, "serving_size_g": 25}))]
pub struct LabelCheckRequest {
    ingredients_text: Option<String>,
    #[serde(default)]
    allergens: Vec<String>,
    #[serde(default)]
    traces: Vec<String>,
    #[serde(default)]
    labels: Vec<String>,
    /// Per 100 g: `energy_kcal`, `fat_g`, `saturated_fat_g`, `sugars_g`, `fiber_g`, `protein_g`, `salt_g`,
    /// `sodium_mg`, `potassium_mg`, `phosphorus_mg`, `caffeine_mg`, … (see `GET /api/v1/diets` rules).
    #[serde(default)]
    #[schema(value_type = std::collections::BTreeMap<String, f64>)]
    nutrients_per_100g: Nutrients,
    serving_size_g: Option<f64>,
}

#[derive(Serialize, ToSchema)]
pub struct ReasonDto {
    /// The diet the finding comes from, if any.
    diet: Option<String>,
    /// The declared allergen the finding comes from, if any.
    allergen: Option<String>,
    rule: String,
    /// `ok`, `caution`, `unknown` or `avoid`.
    #[schema(example = "avoid")]
    severity: String,
    #[schema(example = "“skimmed milk powder” contains milk.")]
    message: String,
    /// The ingredient as written and what it matched, or the nutrient, its value, the limit and the unit.
    #[schema(value_type = Object)]
    evidence: serde_json::Value,
}

/// The verdict: the worst level over the user's diets and allergens, and every finding behind it.
#[derive(Serialize, ToSchema)]
pub struct VerdictResponse {
    /// `ok`, `caution`, `unknown` (data missing or not understood) or `avoid`.
    #[schema(example = "avoid")]
    level: String,
    reasons: Vec<ReasonDto>,
    unrecognised_ingredients: Vec<String>,
}

fn level_name(level: impl Serialize) -> String {
    serde_json::to_value(level)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

impl From<VerdictReport> for VerdictResponse {
    fn from(report: VerdictReport) -> Self {
        Self {
            level: level_name(report.level),
            reasons: report
                .reasons
                .into_iter()
                .map(|r| ReasonDto {
                    diet: r.diet,
                    allergen: r.allergen,
                    rule: r.rule,
                    severity: level_name(r.severity),
                    message: r.message,
                    evidence: r.evidence,
                })
                .collect(),
            unrecognised_ingredients: report.unrecognised_ingredients,
        }
    }
}

/// The diet catalog: diets with their parameters, rules and sources; conditions and the diets they imply;
/// allergens; certification labels.
#[utoipa::path(get, path = "/api/v1/diets", tag = "dietary", responses((status = 200, body = DietCatalogResponse)))]
#[get("/api/v1/diets")]
pub async fn diets(api: web::Data<Api>) -> HttpResponse {
    HttpResponse::Ok().json(DietCatalogResponse::from(api.verdicts.diet_catalog()))
}

/// The caller's verdict for a label they typed or photographed, with the reasons.
#[utoipa::path(post, path = "/api/v1/verdicts/check", tag = "dietary", request_body = LabelCheckRequest,
    security(("bearer" = [])),
    responses((status = 200, body = VerdictResponse),
              (status = 409, description = "The health profile names codes the catalog no longer has", body = Problem,
               content_type = "application/problem+json"),
              (status = 422, description = "Invalid numbers or an unknown nutrient", body = Problem, content_type = "application/problem+json")))]
#[post("/api/v1/verdicts/check")]
pub async fn check_label(
    api: web::Data<Api>,
    Authenticated(who): Authenticated,
    body: web::Json<LabelCheckRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let facts = FoodFacts {
        ingredients_text: body.ingredients_text,
        allergens: body.allergens,
        traces: body.traces,
        labels: body.labels,
        nutrients_per_100g: body.nutrients_per_100g,
        serving_size_g: body.serving_size_g,
    };
    let report = api.verdicts.check_label(who.user, &facts).await?;
    Ok(HttpResponse::Ok().json(VerdictResponse::from(report)))
}
