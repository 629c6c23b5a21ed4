//! Per-request plumbing: a request id, a tracing span, the access log line, metrics, and the guarantee that every
//! error leaves as problem+json whatever produced it.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, ResponseError, web};
use tracing::Instrument;

use crate::Metrics;
use crate::problem::{ApiError, PROBLEM_JSON};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the request being served: the client's `X-Request-Id` when it is sane, else a new UUID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

fn accepted_request_id(value: &HeaderValue) -> Option<String> {
    let value = value.to_str().ok()?;
    let sane = !value.is_empty()
        && value.len() <= 128
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    sane.then(|| value.to_owned())
}

/// Headers of a framework error worth keeping when its body is replaced by a problem.
const KEPT_HEADERS: [HeaderName; 3] =
    [header::ALLOW, header::RETRY_AFTER, header::WWW_AUTHENTICATE];

pub(crate) async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let request_id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(accepted_request_id)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let method = req.method().to_string();
    let span = tracing::info_span!("request", request_id = %request_id, method = %method, path = %req.path());
    let started = Instant::now();

    let response = next
        .call(req)
        .instrument(span.clone())
        .await?
        .map_into_boxed_body();
    let mut response = problem_for_framework_errors(response);

    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    if let Some(metrics) = metrics {
        metrics.observe(&method, &route, status, elapsed.as_secs_f64());
    }
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    span.in_scope(|| match status {
        // A 503 is an outage already logged where it was seen (and expected from the readiness probe).
        503 => tracing::warn!(status, latency_ms, route, "request answered"),
        500.. => tracing::error!(status, latency_ms, route, "request answered"),
        400..500 => tracing::info!(status, latency_ms, route, "request answered"),
        _ => tracing::debug!(status, latency_ms, route, "request answered"),
    });
    Ok(response)
}

/// Errors that actix produced itself (a bad path parameter, an unknown method) arrive as plain text; clients are
/// promised problem+json for every error, so the body is replaced, keeping the status and the meaningful headers.
fn problem_for_framework_errors(response: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }
    let (request, original) = response.into_parts();
    let mut replacement = ApiError::from_status(status).error_response();
    for name in KEPT_HEADERS {
        if let Some(value) = original.headers().get(&name) {
            replacement.headers_mut().insert(name, value.clone());
        }
    }
    ServiceResponse::new(request, replacement)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_sane_request_ids() {
        let ok = HeaderValue::from_static("7f1c2b0e-req_42.a:b");
        assert_eq!(
            accepted_request_id(&ok),
            Some("7f1c2b0e-req_42.a:b".to_owned())
        );
        for bad in ["", "has space", "semi;colon", "quote\"d"] {
            let value = HeaderValue::from_str(bad).unwrap_or(HeaderValue::from_static("x y"));
            assert_eq!(accepted_request_id(&value), None, "{bad:?}");
        }
        let long =
            HeaderValue::from_str(&"a".repeat(129)).unwrap_or(HeaderValue::from_static("x y"));
        assert_eq!(accepted_request_id(&long), None);
    }
}
