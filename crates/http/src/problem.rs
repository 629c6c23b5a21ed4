//! RFC 9457 problem details, and the one place where errors become HTTP answers.

use actix_web::body::BoxBody;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use diningcoach_catalog::CatalogError;
use diningcoach_identity::IdentityError;
use diningcoach_kernel::{InfraError, KernelError};
use serde::Serialize;
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";
const TYPE_BASE: &str = "https://diningcoach.app/problems/";

/// An error answer, as every client receives it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "https://diningcoach.app/problems/validation",
    "title": "The request has invalid fields",
    "status": 422,
    "detail": "1 field is invalid",
    "errors": [{"field": "email", "message": "not a valid email address: it has no @"}]
}))]
pub struct Problem {
    /// A stable URI naming the kind of problem; clients branch on it, not on `title`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind of problem; the same for every occurrence.
    pub title: String,
    pub status: u16,
    /// What went wrong this time, for a person to read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The fields that failed validation, when the problem is a validation problem.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Which dependencies are down, on a 503 from the readiness probe.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub checks: Option<serde_json::Map<String, serde_json::Value>>,
}

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// The field's path in the request, e.g. `email` or `diets[1].code`.
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// An error on its way to becoming a problem+json response. Boxed: it travels in every handler's `Result`.
#[derive(Debug, Clone)]
pub struct ApiError(Box<ProblemParts>);

#[derive(Debug, Clone)]
struct ProblemParts {
    status: StatusCode,
    slug: &'static str,
    title: &'static str,
    detail: Option<String>,
    errors: Vec<FieldError>,
    headers: Vec<(header::HeaderName, String)>,
    checks: Option<serde_json::Map<String, serde_json::Value>>,
}

impl ApiError {
    pub fn new(status: StatusCode, slug: &'static str, title: &'static str) -> Self {
        Self(Box::new(ProblemParts {
            status,
            slug,
            title,
            detail: None,
            errors: Vec::new(),
            headers: Vec::new(),
            checks: None,
        }))
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.0.detail = Some(detail.into());
        self
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.0
            .headers
            .push((header::RETRY_AFTER, seconds.to_string()));
        self
    }

    /// Tells the client how to authenticate (RFC 6750), on 401 answers.
    pub fn with_bearer_challenge(mut self) -> Self {
        self.0.headers.push((
            header::WWW_AUTHENTICATE,
            "Bearer realm=\"diningcoach\"".to_owned(),
        ));
        self
    }

    pub(crate) fn with_checks(
        mut self,
        checks: serde_json::Map<String, serde_json::Value>,
    ) -> Self {
        self.0.checks = Some(checks);
        self
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.len() {
            1 => "1 field is invalid".to_owned(),
            n => format!("{n} fields are invalid"),
        };
        let mut error = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            "The request has invalid fields",
        )
        .with_detail(detail);
        error.0.errors = errors;
        error
    }

    pub fn malformed(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "malformed-request",
            "The request could not be read",
        )
        .with_detail(detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not found").with_detail(detail)
    }

    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "The service is temporarily unavailable",
        )
        .with_detail(detail)
        .with_retry_after(5)
    }

    /// An unexpected failure. The cause is logged (with the request id, by the request's span) and never sent.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(cause = %cause, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Something went wrong on our side",
        )
        .with_detail("The error has been logged; please try again later.")
    }

    /// A problem for a status that the framework produced with no detail of ours.
    pub(crate) fn from_status(status: StatusCode) -> Self {
        let (slug, title) = match status.as_u16() {
            400 => ("malformed-request", "The request could not be read"),
            401 => ("unauthenticated", "Authentication is required"),
            403 => ("forbidden", "Not allowed"),
            404 => ("not-found", "Not found"),
            405 => ("method-not-allowed", "Method not allowed"),
            406 => ("not-acceptable", "Not acceptable"),
            408 => ("timeout", "The request took too long to arrive"),
            413 => ("payload-too-large", "The request body is too large"),
            415 => ("unsupported-media-type", "Unsupported content type"),
            429 => ("rate-limited", "Too many requests"),
            503 => ("unavailable", "The service is temporarily unavailable"),
            s if s >= 500 => ("internal", "Something went wrong on our side"),
            _ => ("bad-request", "The request was not accepted"),
        };
        Self::new(status, slug, title)
    }

    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    pub fn problem(&self) -> Problem {
        Problem {
            kind: format!("{TYPE_BASE}{}", self.0.slug),
            title: self.0.title.to_owned(),
            status: self.0.status.as_u16(),
            detail: self.0.detail.clone(),
            errors: self.0.errors.clone(),
            checks: self.0.checks.clone(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.0.status.as_u16(), self.0.title)?;
        if let Some(detail) = &self.0.detail {
            write!(f, ": {detail}")?;
        }
        Ok(())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.0.status
    }

    fn error_response(&self) -> HttpResponse<BoxBody> {
        let mut response = HttpResponse::build(self.0.status);
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        for (name, value) in &self.0.headers {
            response.insert_header((name.clone(), value.clone()));
        }
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        response.body(body)
    }
}

impl From<KernelError> for ApiError {
    fn from(error: KernelError) -> Self {
        let field = match &error {
            KernelError::InvalidEmail { .. } => "email",
            KernelError::InvalidLimit { .. } => "limit",
            // Not a field a client fills in: a cursor is handed back as received, so a bad one is a bad request.
            KernelError::InvalidCursor => {
                return ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid-cursor",
                    "The cursor is invalid",
                )
                .with_detail(error.to_string());
            }
            KernelError::InvalidId(_) => "id",
        };
        ApiError::validation(vec![FieldError::new(field, error.to_string())])
    }
}

impl From<IdentityError> for ApiError {
    fn from(error: IdentityError) -> Self {
        use StatusCode as S;
        let detail = error.to_string();
        match error {
            IdentityError::Invalid(issues) => {
                return ApiError::validation(
                    issues
                        .into_iter()
                        .map(|i| FieldError::new(i.field, i.message))
                        .collect(),
                );
            }
            IdentityError::EmailTaken => ApiError::new(
                S::CONFLICT,
                "email-taken",
                "The email is already registered",
            ),
            IdentityError::InvalidCredentials => ApiError::new(
                S::UNAUTHORIZED,
                "invalid-credentials",
                "Wrong email or password",
            ),
            IdentityError::TooManyAttempts { retry_after_secs } => ApiError::new(
                S::TOO_MANY_REQUESTS,
                "too-many-login-attempts",
                "Too many failed logins",
            )
            .with_retry_after(retry_after_secs),
            IdentityError::InvalidLinkToken => ApiError::new(
                S::BAD_REQUEST,
                "invalid-link-token",
                "The link is invalid, already used or expired",
            ),
            IdentityError::SessionEnded => {
                ApiError::new(S::UNAUTHORIZED, "session-ended", "The session has ended")
            }
            IdentityError::RefreshTokenReused => ApiError::new(
                S::UNAUTHORIZED,
                "refresh-token-reused",
                "The refresh token was already used",
            ),
            IdentityError::Unauthenticated => ApiError::new(
                S::UNAUTHORIZED,
                "unauthenticated",
                "Authentication is required",
            )
            .with_bearer_challenge(),
            IdentityError::WrongPassword => {
                ApiError::new(S::FORBIDDEN, "wrong-password", "The password is wrong")
            }
            IdentityError::UserNotFound => ApiError::not_found("The account does not exist"),
            IdentityError::VersionMismatch { .. } => ApiError::new(
                S::PRECONDITION_FAILED,
                "version-mismatch",
                "The resource has changed",
            ),
            IdentityError::Infra(error) => return ApiError::from(error),
        }
        .with_detail(detail)
    }
}

impl From<CatalogError> for ApiError {
    fn from(error: CatalogError) -> Self {
        let detail = error.to_string();
        match error {
            CatalogError::Invalid { field, message } => {
                ApiError::validation(vec![FieldError::new(field, message)])
            }
            CatalogError::HealthProfileOutdated(_) => ApiError::new(
                StatusCode::CONFLICT,
                "health-profile-outdated",
                "The health profile uses codes that no longer exist",
            )
            .with_detail(detail),
            CatalogError::UserNotFound => ApiError::not_found("The account does not exist"),
            CatalogError::InvalidGtin {
                expected_check_digit,
                ..
            } => ApiError::validation(vec![FieldError::new(
                "code",
                format!(
                    "the check digit is wrong: it should be {expected_check_digit}; check the number under the bars"
                ),
            )])
            .with_detail(detail),
            CatalogError::MalformedGtin(_) => {
                ApiError::validation(vec![FieldError::new("code", detail)])
            }
            CatalogError::InvalidFood { errors } => ApiError::validation(
                errors
                    .into_iter()
                    .map(|e| FieldError::new(e.field, e.message))
                    .collect(),
            ),
            CatalogError::InvalidSearchQuery(message) => {
                ApiError::validation(vec![FieldError::new("q", message)])
            }
            CatalogError::UnreadableImport(_) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unreadable-import",
                "The import file cannot be read",
            )
            .with_detail(detail),
            CatalogError::FoodNotFound => ApiError::new(
                StatusCode::NOT_FOUND,
                "food-not-found",
                "No such food",
            )
            .with_detail(
                "No food has this id or barcode. A verified user can add it with POST /api/v1/foods.",
            ),
            CatalogError::BarcodeTaken { .. } => ApiError::new(
                StatusCode::CONFLICT,
                "barcode-taken",
                "A food with this barcode exists",
            )
            .with_detail(detail),
            CatalogError::VersionMismatch { .. } => ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "version-mismatch",
                "The resource has changed",
            )
            .with_detail(detail),
            CatalogError::NotAllowed(_) => {
                ApiError::new(StatusCode::FORBIDDEN, "not-allowed", "Not allowed").with_detail(detail)
            }
            CatalogError::ImportNotFound => ApiError::new(
                StatusCode::NOT_FOUND,
                "import-not-found",
                "No such import",
            )
            .with_detail(detail),
            CatalogError::ImportBusy => ApiError::new(
                StatusCode::CONFLICT,
                "import-busy",
                "The import is being run",
            )
            .with_detail(detail),
            CatalogError::IdempotencyKeyReused => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "The Idempotency-Key was used for another request",
            )
            .with_detail(detail),
            CatalogError::Kernel(error) => ApiError::from(error),
            CatalogError::Infra(error) => ApiError::from(error),
        }
    }
}

impl From<InfraError> for ApiError {
    fn from(error: InfraError) -> Self {
        match error {
            InfraError::Unavailable { dependency, reason } => {
                tracing::warn!(dependency, %reason, "dependency unavailable");
                ApiError::unavailable(
                    "A service we depend on is briefly unavailable; please retry shortly.",
                )
            }
            InfraError::Fault(cause) => ApiError::internal(&cause),
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::body::to_bytes;

    use super::*;

    async fn body(error: ApiError) -> serde_json::Value {
        let response = error.error_response();
        assert_eq!(
            response
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
            Some(PROBLEM_JSON)
        );
        let bytes = to_bytes(response.into_body()).await.unwrap_or_default();
        serde_json::from_slice(&bytes).unwrap_or_default()
    }

    #[actix_web::test]
    async fn a_validation_problem_lists_its_fields() {
        let json = body(ApiError::from(KernelError::InvalidLimit {
            got: 0,
            max: 100,
        }))
        .await;
        assert_eq!(json["type"], "https://diningcoach.app/problems/validation");
        assert_eq!(json["status"], 422);
        assert_eq!(json["errors"][0]["field"], "limit");
    }

    #[actix_web::test]
    async fn a_tampered_cursor_is_a_bad_request() {
        let json = body(ApiError::from(KernelError::InvalidCursor)).await;
        assert_eq!(
            json["type"],
            "https://diningcoach.app/problems/invalid-cursor"
        );
        assert_eq!(json["status"], 400);
    }

    #[actix_web::test]
    async fn an_internal_error_hides_its_cause() {
        let json = body(ApiError::from(InfraError::Fault(
            "relation \"users\" does not exist".into(),
        )))
        .await;
        assert_eq!(json["status"], 500);
        assert!(!json.to_string().contains("users"));
    }

    #[actix_web::test]
    async fn an_outage_is_a_503_with_retry_after() {
        let error = ApiError::from(InfraError::Unavailable {
            dependency: "postgresql",
            reason: "timeout".into(),
        });
        let response = error.error_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            response
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok()),
            Some("5")
        );
    }
}
