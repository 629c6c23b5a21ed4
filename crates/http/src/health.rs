//! Liveness, readiness and metrics: what load balancers, orchestrators and Prometheus ask.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::problem::ApiError;
use crate::{Api, Metrics};

/// How long a dependency may take to answer the readiness probe before it counts as down.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Serialize, ToSchema)]
pub struct Liveness {
    #[schema(example = "ok")]
    status: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    #[schema(example = "ready")]
    status: &'static str,
    /// Each dependency and its state.
    #[schema(value_type = Object, example = json!({"postgresql": "up", "rabbitmq": "up"}))]
    checks: serde_json::Map<String, serde_json::Value>,
}

/// The process is up and serving HTTP. Checks nothing else, so that a database outage does not get every API
/// instance restarted.
#[utoipa::path(get, path = "/health/live", tag = "operations", responses((status = 200, body = Liveness)))]
#[get("/health/live")]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(Liveness { status: "ok" })
}

/// The instance can serve requests: PostgreSQL answers and RabbitMQ is connected. 503 names what is down.
#[utoipa::path(
    get,
    path = "/health/ready",
    tag = "operations",
    responses(
        (status = 200, body = Readiness),
        (status = 503, description = "A dependency is down; `checks` says which", body = crate::Problem,
         content_type = "application/problem+json",
         example = json!({"type": "https://diningcoach.app/problems/unavailable", "title": "The service is temporarily unavailable",
                          "status": 503, "detail": "rabbitmq is down", "checks": {"postgresql": "up", "rabbitmq": "down: connection refused"}}))
    )
)]
#[get("/health/ready")]
pub async fn ready(api: web::Data<Api>) -> Result<HttpResponse, ApiError> {
    let probes = api.health_checks.iter().map(|check| async move {
        let state = match tokio::time::timeout(CHECK_TIMEOUT, check.check()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(reason)) => Err(reason),
            Err(_) => Err(format!("no answer within {}s", CHECK_TIMEOUT.as_secs())),
        };
        (check.dependency(), state)
    });
    let results = futures_util::future::join_all(probes).await;
    let down: Vec<&str> = results
        .iter()
        .filter(|(_, state)| state.is_err())
        .map(|(name, _)| *name)
        .collect();
    let checks = results
        .into_iter()
        .map(|(name, state)| {
            let state = match state {
                Ok(()) => "up".to_owned(),
                Err(reason) => format!("down: {reason}"),
            };
            (name.to_owned(), serde_json::Value::String(state))
        })
        .collect();
    if down.is_empty() {
        return Ok(HttpResponse::Ok().json(Readiness {
            status: "ready",
            checks,
        }));
    }
    let verb = if down.len() == 1 { "is" } else { "are" };
    Err(ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "The service is temporarily unavailable",
    )
    .with_detail(format!("{} {verb} down", down.join(" and ")))
    .with_retry_after(5)
    .with_checks(checks))
}

/// Prometheus metrics: request counts and latency histograms per route, database pool and outbox gauges.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses((status = 200, description = "Prometheus text format 0.0.4", content_type = "text/plain", body = String))
)]
#[get("/metrics")]
pub async fn metrics(api: web::Data<Api>, metrics: web::Data<Metrics>) -> HttpResponse {
    let gauges =
        futures_util::future::join_all(api.health_checks.iter().map(|check| check.gauges())).await;
    let gauges: Vec<_> = gauges.into_iter().flatten().collect();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics.render(&gauges))
}
