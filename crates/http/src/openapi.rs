//! The OpenAPI 3.1 document: the contract the mobile clients are generated from.

use utoipa::OpenApi;

use crate::health;
use crate::problem::{FieldError, Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "DiningCoach API",
        description = "Tells people on a special diet what they can eat, and why; keeps their meal diary and \
                       their community. Errors are RFC 9457 `application/problem+json`; lists are keyset-paginated \
                       with an opaque `next_cursor`.",
        version = env!("CARGO_PKG_VERSION"),
    ),
    paths(health::live, health::ready, health::metrics),
    components(schemas(Problem, FieldError)),
    tags((name = "operations", description = "Health probes and metrics for operators"))
)]
pub struct ApiDoc;

/// The document as served at `/api-docs/openapi.json`.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
