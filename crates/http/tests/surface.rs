//! The HTTP surface in-process: probes, metrics, problem+json for every kind of bad request, the OpenAPI contract.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpResponse, test, web};
use diningcoach_catalog::imports::{MockImportFiles, MockImportJobs};
use diningcoach_catalog::ports::{MockDietProfiles, MockFoodRepository};
use diningcoach_catalog::{
    FoodService, ImportPorts, ImportService, ImportSettings, VerdictService,
};
use diningcoach_dietary::DietCatalog;
use diningcoach_http::{Api, HttpSettings, Metrics, app};
use diningcoach_identity::ports::{
    MockAccessTokens, MockPasswordHasher, MockProfileRepository, MockRandomness,
    MockSessionRepository, MockUserRepository,
};
use diningcoach_identity::{
    IdentityPorts, IdentityService, IdentitySettings, MockHealthVocabulary,
};
use diningcoach_kernel::CursorCodec;
use diningcoach_kernel::clock::MockClock;
use diningcoach_kernel::health::{Gauge, MockHealthCheck};
use serde::Deserialize;

fn check(name: &'static str, up: bool) -> Arc<MockHealthCheck> {
    let mut check = MockHealthCheck::new();
    check.expect_dependency().return_const(name);
    check.expect_check().returning(move || {
        if up {
            Ok(())
        } else {
            Err("connection refused".into())
        }
    });
    check.expect_gauges().returning(|| {
        vec![Gauge {
            name: "outbox_pending_jobs",
            help: "Jobs waiting",
            value: 7.0,
        }]
    });
    Arc::new(check)
}

/// An identity service whose ports are mocks without expectations: these tests never reach it.
fn identity() -> Arc<IdentityService> {
    Arc::new(IdentityService::new(
        IdentityPorts {
            users: Arc::new(MockUserRepository::new()),
            sessions: Arc::new(MockSessionRepository::new()),
            profiles: Arc::new(MockProfileRepository::new()),
            hasher: Arc::new(MockPasswordHasher::new()),
            access_tokens: Arc::new(MockAccessTokens::new()),
            randomness: Arc::new(MockRandomness::new()),
            clock: Arc::new(MockClock::new()),
            vocabulary: Arc::new(MockHealthVocabulary::new()),
        },
        IdentitySettings::new("http://app.test"),
    ))
}

fn api(postgres_up: bool, rabbitmq_up: bool) -> web::Data<Api> {
    let catalog = Arc::new(DietCatalog::load().unwrap());
    let verdicts = Arc::new(VerdictService::new(
        catalog.clone(),
        Arc::new(MockDietProfiles::new()),
    ));
    web::Data::new(Api {
        identity: identity(),
        verdicts: verdicts.clone(),
        foods: Arc::new(FoodService::new(
            Arc::new(MockFoodRepository::new()),
            Arc::new(MockDietProfiles::new()),
            verdicts,
            CursorCodec::new("test"),
        )),
        imports: Arc::new(ImportService::new(
            ImportPorts {
                jobs: Arc::new(MockImportJobs::new()),
                foods: Arc::new(MockFoodRepository::new()),
                files: Arc::new(MockImportFiles::new()),
                clock: Arc::new(MockClock::new()),
            },
            catalog,
            ImportSettings::default(),
        )),
        health_checks: vec![
            check("postgresql", postgres_up),
            check("rabbitmq", rabbitmq_up),
        ],
    })
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Echo {
    name: String,
    count: u32,
}

async fn echo(body: web::Json<Echo>) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"name": body.name}))
}

macro_rules! service {
    ($api:expr) => {{
        let settings = HttpSettings {
            json_limit: 1024,
            ..HttpSettings::default()
        };
        test::init_service(
            app($api, web::Data::new(Metrics::default()), &settings)
                .route("/test/echo", web::post().to(echo)),
        )
        .await
    }};
}

fn is_problem(
    response: &actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
) -> bool {
    response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        == Some("application/problem+json")
}

#[actix_web::test]
async fn liveness_and_readiness() {
    let service = service!(api(true, true));
    let live = test::call_service(
        &service,
        test::TestRequest::get().uri("/health/live").to_request(),
    )
    .await;
    assert_eq!(live.status(), StatusCode::OK);
    let ready: serde_json::Value = test::call_and_read_body_json(
        &service,
        test::TestRequest::get().uri("/health/ready").to_request(),
    )
    .await;
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["checks"]["rabbitmq"], "up");
}

#[actix_web::test]
async fn readiness_names_the_dependency_that_is_down() {
    let service = service!(api(true, false));
    let response = test::call_service(
        &service,
        test::TestRequest::get().uri("/health/ready").to_request(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(is_problem(&response));
    let body: serde_json::Value = test::read_body_json(response).await;
    assert_eq!(body["detail"], "rabbitmq is down");
    assert_eq!(body["checks"]["postgresql"], "up");
    assert_eq!(body["checks"]["rabbitmq"], "down: connection refused");
}

#[actix_web::test]
async fn every_bad_request_is_problem_json() {
    let service = service!(api(true, true));
    let cases = [
        (
            test::TestRequest::get().uri("/no/such/route").to_request(),
            StatusCode::NOT_FOUND,
            "not-found",
        ),
        (
            test::TestRequest::post()
                .uri("/test/echo")
                .insert_header((CONTENT_TYPE, "application/json"))
                .set_payload("{\"name\": ")
                .to_request(),
            StatusCode::BAD_REQUEST,
            "malformed-request",
        ),
        (
            test::TestRequest::post()
                .uri("/test/echo")
                .insert_header((CONTENT_TYPE, "text/plain"))
                .set_payload("hi")
                .to_request(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
        ),
        (
            test::TestRequest::post()
                .uri("/test/echo")
                .insert_header((CONTENT_TYPE, "application/json"))
                .set_payload(format!(
                    "{{\"name\": \"{}\", \"count\": 1}}",
                    "x".repeat(2000)
                ))
                .to_request(),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
        ),
        (
            test::TestRequest::post()
                .uri("/test/echo")
                .set_json(serde_json::json!({"name": "a", "count": "x"}))
                .to_request(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
        ),
        (
            test::TestRequest::delete().uri("/health/live").to_request(),
            StatusCode::NOT_FOUND,
            "not-found",
        ),
    ];
    for (request, status, kind) in cases {
        let response = test::call_service(&service, request).await;
        assert_eq!(response.status(), status);
        assert!(is_problem(&response), "{status} is not problem+json");
        let body: serde_json::Value = test::read_body_json(response).await;
        assert_eq!(
            body["type"],
            format!("https://diningcoach.app/problems/{kind}")
        );
        assert_eq!(body["status"], status.as_u16());
    }
    let ok = test::call_service(
        &service,
        test::TestRequest::post()
            .uri("/test/echo")
            .set_json(serde_json::json!({"name": "a", "count": 1}))
            .to_request(),
    )
    .await;
    assert_eq!(ok.status(), StatusCode::OK);
}

#[actix_web::test]
async fn request_ids_are_echoed_or_generated() {
    let service = service!(api(true, true));
    let echoed = test::call_service(
        &service,
        test::TestRequest::get()
            .uri("/health/live")
            .insert_header(("x-request-id", "abc-123"))
            .to_request(),
    )
    .await;
    assert_eq!(echoed.headers().get("x-request-id").unwrap(), "abc-123");
    let generated = test::call_service(
        &service,
        test::TestRequest::get()
            .uri("/health/live")
            .insert_header(("x-request-id", "no spaces allowed"))
            .to_request(),
    )
    .await;
    let id = generated
        .headers()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok());
}

#[actix_web::test]
async fn metrics_count_requests_by_route_pattern() {
    let service = service!(api(true, true));
    for _ in 0..3 {
        test::call_service(
            &service,
            test::TestRequest::get().uri("/health/live").to_request(),
        )
        .await;
    }
    test::call_service(
        &service,
        test::TestRequest::get().uri("/nope/1").to_request(),
    )
    .await;
    let body = test::call_and_read_body(
        &service,
        test::TestRequest::get().uri("/metrics").to_request(),
    )
    .await;
    let text = String::from_utf8(body.to_vec()).unwrap();
    assert!(
        text.contains(r#"http_requests_total{method="GET",route="/health/live",status="200"} 3"#),
        "{text}"
    );
    assert!(
        text.contains(r#"http_requests_total{method="GET",route="unmatched",status="404"} 1"#),
        "{text}"
    );
    assert!(text.contains("outbox_pending_jobs 7"));
}

#[actix_web::test]
async fn swagger_ui_is_served_from_the_binary() {
    let service = service!(api(true, true));
    let page = test::call_service(
        &service,
        test::TestRequest::get().uri("/swagger-ui/").to_request(),
    )
    .await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = String::from_utf8(test::read_body(page).await.to_vec()).unwrap();
    assert!(html.contains("swagger-ui-bundle.js"));
    let script = test::call_service(
        &service,
        test::TestRequest::get()
            .uri("/swagger-ui/swagger-ui-bundle.js")
            .to_request(),
    )
    .await;
    assert_eq!(script.status(), StatusCode::OK);
}

/// The document is the contract the mobile clients are generated from: any change to it must be deliberate.
/// Regenerate the checked-in copy with `UPDATE_OPENAPI=1 cargo test -p diningcoach-http --test surface`.
#[actix_web::test]
async fn the_openapi_document_matches_the_checked_in_contract() {
    let service = service!(api(true, true));
    let served: serde_json::Value = test::call_and_read_body_json(
        &service,
        test::TestRequest::get()
            .uri("/api-docs/openapi.json")
            .to_request(),
    )
    .await;
    assert!(served["openapi"].as_str().unwrap().starts_with("3.1"));
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
    let pretty = serde_json::to_string_pretty(&served).unwrap() + "\n";
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(path, &pretty).unwrap();
    }
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        pretty == checked_in,
        "docs/openapi.json differs from the served document; see this test's doc comment"
    );
}

#[actix_web::test]
async fn a_private_route_without_a_token_is_a_401_with_a_bearer_challenge() {
    let service = service!(api(true, true));
    let response = test::call_service(
        &service,
        test::TestRequest::get().uri("/api/v1/me").to_request(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(is_problem(&response));
    assert!(
        response
            .headers()
            .get("www-authenticate")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
}

#[actix_web::test]
async fn the_diet_catalog_is_public() {
    let service = service!(api(true, true));
    let catalog: serde_json::Value = test::call_and_read_body_json(
        &service,
        test::TestRequest::get().uri("/api/v1/diets").to_request(),
    )
    .await;
    let codes: Vec<&str> = catalog["diets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    for code in [
        "low_sodium",
        "very_low_sodium",
        "low_iodine",
        "vegan",
        "halal",
        "renal",
        "pregnancy",
    ] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
    let low_sodium = catalog["diets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "low_sodium")
        .unwrap();
    assert!(!low_sodium["sources"].as_array().unwrap().is_empty());
    assert!(
        catalog["allergens"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["code"] == "peanuts")
    );
}
