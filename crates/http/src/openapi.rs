//! The OpenAPI 3.1 document: the contract the mobile clients are generated from.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::problem::{FieldError, Problem};
use crate::{catalog_imports, dietary, foods, health, identity};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "DiningCoach API",
        description = "Tells people on a special diet what they can eat, and why; keeps their meal diary and \
                       their community. Errors are RFC 9457 `application/problem+json`; lists are keyset-paginated \
                       with an opaque `next_cursor`.",
        version = env!("CARGO_PKG_VERSION"),
    ),
    paths(
        health::live, health::ready, health::metrics,
        identity::sign_up, identity::verify_email, identity::resend_verification, identity::log_in, identity::refresh,
        identity::log_out, identity::request_password_reset, identity::confirm_password_reset,
        identity::change_password, identity::me, identity::update_me, identity::delete_me, identity::health_profile,
        identity::replace_health,
        dietary::diets, dietary::check_label,
        foods::search, foods::by_barcode, foods::show, foods::show_verdict, foods::contribute, foods::edit, foods::remove,
        catalog_imports::request_import, catalog_imports::import_status,
    ),
    components(schemas(Problem, FieldError)),
    modifiers(&BearerAuth),
    tags(
        (name = "operations", description = "Health probes and metrics for operators"),
        (name = "identity", description = "Accounts, sessions, the profile and the health profile"),
        (name = "dietary", description = "The diet catalog and personal verdicts"),
        (name = "catalog", description = "Food search, barcode scans and food pages, with the caller's verdict"),
    )
)]
pub struct ApiDoc;

/// Declares the `bearer` security scheme the authenticated routes refer to.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The document as served at `/api-docs/openapi.json`.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
