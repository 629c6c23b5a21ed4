//! Accounts, sessions, the profile and the health profile: `/api/v1/auth/*` and `/api/v1/me*`.

use std::collections::BTreeMap;

use actix_web::http::header::{self, ETag, EntityTag};
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put, web};
use chrono::{DateTime, Utc};
use diningcoach_identity::{
    ActivityLevel, DietChoice, HealthProfile, HealthProfileInput, Profile, ProfilePatchInput,
    Registration, Role, SessionTokens, Sex, User, UserId,
};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use crate::Api;
use crate::auth::Authenticated;
use crate::problem::{ApiError, FieldError, Problem};

/// Distinguishes an absent field (`None`: leave it) from an explicit `null` (`Some(None)`: clear it).
fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ann@example.org", "password": "correct horse battery staple", "nickname": "Ann"}))]
pub struct SignUpRequest {
    email: String,
    /// 8 to 128 characters; common or easily guessed passwords (e.g. built from the email) are refused.
    password: String,
    /// 2 to 30 characters, shown to other users.
    nickname: String,
}

#[derive(Serialize, ToSchema)]
pub struct AccountResponse {
    #[schema(value_type = uuid::Uuid)]
    id: UserId,
    email: String,
    nickname: String,
    email_verified: bool,
}

impl From<User> for AccountResponse {
    fn from(user: User) -> Self {
        Self {
            id: user.id,
            email: user.email.to_string(),
            nickname: user.nickname.as_str().to_owned(),
            email_verified: user.email_verified,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// The token from the mailed link.
    token: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ann@example.org"}))]
pub struct EmailRequest {
    email: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ann@example.org", "password": "correct horse battery staple"}))]
pub struct LoginRequest {
    email: String,
    password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    refresh_token: String,
}

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"access_token": "eyJhbGciOiJIUzI1NiJ9…", "refresh_token": "q0F4…", "token_type": "Bearer", "expires_in": 900}))]
pub struct TokenResponse {
    /// A JWT for the `Authorization: Bearer` header.
    access_token: String,
    /// Opaque; trade it at `/api/v1/auth/refresh` before it idles out. Each use returns a new one; using one twice
    /// ends the login.
    refresh_token: String,
    #[schema(example = "Bearer")]
    token_type: &'static str,
    /// Seconds until the access token expires.
    expires_in: u64,
}

impl From<SessionTokens> for TokenResponse {
    fn from(tokens: SessionTokens) -> Self {
        Self {
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            token_type: "Bearer",
            expires_in: tokens.expires_in,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetConfirmRequest {
    token: String,
    new_password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    current_password: String,
    new_password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteAccountRequest {
    /// The current password, to confirm.
    password: String,
}

#[derive(Serialize, ToSchema)]
pub struct ProfileResponse {
    #[schema(value_type = uuid::Uuid)]
    id: UserId,
    email: String,
    nickname: String,
    #[schema(value_type = String, example = "user")]
    role: Role,
    email_verified: bool,
    created_at: DateTime<Utc>,
    birth_year: Option<i16>,
    #[schema(value_type = Option<String>, example = "female")]
    sex: Option<Sex>,
    height_cm: Option<f64>,
    weight_kg: Option<f64>,
    #[schema(value_type = Option<String>, example = "moderate")]
    activity_level: Option<ActivityLevel>,
}

impl From<Profile> for ProfileResponse {
    fn from(profile: Profile) -> Self {
        Self {
            id: profile.user.id,
            email: profile.user.email,
            nickname: profile.user.nickname,
            role: profile.user.role,
            email_verified: profile.user.email_verified,
            created_at: profile.user.created_at,
            birth_year: profile.birth_year,
            sex: profile.sex,
            height_cm: profile.body.height_cm,
            weight_kg: profile.body.weight_kg,
            activity_level: profile.activity_level,
        }
    }
}

/// Fields to change; a field left out is kept, `null` clears it.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"nickname": "Ann L.", "birth_year": 1984, "height_cm": 168.0, "activity_level": "light"}))]
pub struct ProfilePatchRequest {
    nickname: Option<String>,
    #[serde(default, deserialize_with = "present")]
    birth_year: Option<Option<i32>>,
    /// `female`, `male` or `other`.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    sex: Option<Option<Sex>>,
    #[serde(default, deserialize_with = "present")]
    height_cm: Option<Option<f64>>,
    #[serde(default, deserialize_with = "present")]
    weight_kg: Option<Option<f64>>,
    /// `sedentary`, `light`, `moderate`, `active` or `very_active`.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    activity_level: Option<Option<ActivityLevel>>,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DietChoiceDto {
    /// A diet code from `GET /api/v1/diets`.
    #[schema(example = "low_sodium")]
    code: String,
    /// The diet's parameters; omitted ones take the diet's defaults.
    #[serde(default)]
    #[schema(example = json!({"daily_sodium_mg": 1500}))]
    params: BTreeMap<String, f64>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"conditions": ["hypertension"], "diets": [{"code": "low_sodium", "params": {"daily_sodium_mg": 1500}}],
                          "allergens": ["peanuts", "shrimp"], "pregnant": false, "height_cm": 168.0, "weight_kg": 61.5, "notes": "salt-sensitive"}))]
pub struct HealthRequest {
    #[serde(default)]
    conditions: Vec<String>,
    #[serde(default)]
    diets: Vec<DietChoiceDto>,
    #[serde(default)]
    allergens: Vec<String>,
    #[serde(default)]
    pregnant: bool,
    height_cm: Option<f64>,
    weight_kg: Option<f64>,
    notes: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct HealthResponse {
    conditions: Vec<String>,
    diets: Vec<DietChoiceDto>,
    allergens: Vec<String>,
    pregnant: bool,
    height_cm: Option<f64>,
    weight_kg: Option<f64>,
    notes: Option<String>,
    /// Also sent as the `ETag`; send it back in `If-Match` to update without overwriting another device's change.
    version: i32,
    updated_at: DateTime<Utc>,
}

impl From<HealthProfile> for HealthResponse {
    fn from(health: HealthProfile) -> Self {
        Self {
            conditions: health.conditions,
            diets: health
                .diets
                .into_iter()
                .map(|d| DietChoiceDto {
                    code: d.code,
                    params: d.params,
                })
                .collect(),
            allergens: health.allergens,
            pregnant: health.pregnant,
            height_cm: health.body.height_cm,
            weight_kg: health.body.weight_kg,
            notes: health.notes,
            version: health.version,
            updated_at: health.updated_at,
        }
    }
}

fn with_etag(version: i32, body: HealthResponse) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(ETag(EntityTag::new_strong(version.to_string())))
        .json(body)
}

/// The version a client based its change on, from `If-Match` (`"3"` or `W/"3"`; `*` means any).
pub(crate) fn expected_version(req: &HttpRequest) -> Result<Option<i32>, ApiError> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    let raw = value.to_str().unwrap_or_default().trim();
    if raw == "*" {
        return Ok(None);
    }
    raw.trim_start_matches("W/")
        .trim_matches('"')
        .parse()
        .map(Some)
        .map_err(|_| {
            ApiError::validation(vec![FieldError::new(
                "If-Match",
                "must be an ETag from GET, e.g. \"3\"",
            )])
        })
}

/// Create an account. The confirmation mail is queued, not awaited.
#[utoipa::path(post, path = "/api/v1/auth/signup", tag = "identity", request_body = SignUpRequest,
    responses(
        (status = 201, body = AccountResponse, headers(("Location" = String, description = "/api/v1/me"))),
        (status = 409, description = "The email is already registered", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, e.g. a weak password", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/api/v1/auth/signup")]
pub async fn sign_up(
    api: web::Data<Api>,
    body: web::Json<SignUpRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let registration = Registration {
        email: body.email,
        password: body.password,
        nickname: body.nickname,
    };
    let user = api.identity.sign_up(&registration).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, "/api/v1/me"))
        .json(AccountResponse::from(user)))
}

/// Confirm an email address with the token from the mailed link.
#[utoipa::path(post, path = "/api/v1/auth/email/verify", tag = "identity", request_body = TokenRequest,
    responses((status = 204, description = "Confirmed"),
              (status = 400, description = "Unknown, used or expired token", body = Problem, content_type = "application/problem+json")))]
#[post("/api/v1/auth/email/verify")]
pub async fn verify_email(
    api: web::Data<Api>,
    body: web::Json<TokenRequest>,
) -> Result<HttpResponse, ApiError> {
    api.identity.verify_email(&body.token).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Send a new confirmation link. Answers 202 whether or not the address has an unconfirmed account.
#[utoipa::path(post, path = "/api/v1/auth/email/resend", tag = "identity", request_body = EmailRequest,
    responses((status = 202, description = "A link is on its way if the account exists and is unconfirmed")))]
#[post("/api/v1/auth/email/resend")]
pub async fn resend_verification(
    api: web::Data<Api>,
    body: web::Json<EmailRequest>,
) -> Result<HttpResponse, ApiError> {
    api.identity.resend_verification(&body.email).await?;
    Ok(HttpResponse::Accepted().finish())
}

/// Log in. Five failures within 15 minutes lock the account for the rest of the window (429 with `Retry-After`).
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "identity", request_body = LoginRequest,
    responses((status = 200, body = TokenResponse),
              (status = 401, description = "Wrong email or password", body = Problem, content_type = "application/problem+json"),
              (status = 429, description = "Too many failed logins", body = Problem, content_type = "application/problem+json",
               headers(("Retry-After" = u64, description = "Seconds until the account opens again")))))]
#[post("/api/v1/auth/login")]
pub async fn log_in(
    api: web::Data<Api>,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let tokens = api.identity.log_in(&body.email, &body.password).await?;
    Ok(HttpResponse::Ok().json(TokenResponse::from(tokens)))
}

/// Trade a refresh token for a new pair. A refresh token used twice ends its login everywhere (401).
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "identity", request_body = RefreshRequest,
    responses((status = 200, body = TokenResponse),
              (status = 401, description = "Ended, expired or reused token", body = Problem, content_type = "application/problem+json")))]
#[post("/api/v1/auth/refresh")]
pub async fn refresh(
    api: web::Data<Api>,
    body: web::Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let tokens = api.identity.refresh(&body.refresh_token).await?;
    Ok(HttpResponse::Ok().json(TokenResponse::from(tokens)))
}

/// End the login the refresh token belongs to.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "identity", request_body = RefreshRequest,
    responses((status = 204, description = "Logged out (also when the token was already dead)")))]
#[post("/api/v1/auth/logout")]
pub async fn log_out(
    api: web::Data<Api>,
    body: web::Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    api.identity.log_out(&body.refresh_token).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Mail a password-reset link. Answers 202 whether or not the address has an account.
#[utoipa::path(post, path = "/api/v1/auth/password/reset", tag = "identity", request_body = EmailRequest,
    responses((status = 202, description = "A link is on its way if the account exists")))]
#[post("/api/v1/auth/password/reset")]
pub async fn request_password_reset(
    api: web::Data<Api>,
    body: web::Json<EmailRequest>,
) -> Result<HttpResponse, ApiError> {
    api.identity.request_password_reset(&body.email).await?;
    Ok(HttpResponse::Accepted().finish())
}

/// Set a new password with the token from the mailed link; every session of the account ends.
#[utoipa::path(post, path = "/api/v1/auth/password/reset/confirm", tag = "identity", request_body = ResetConfirmRequest,
    responses((status = 204, description = "Password changed"),
              (status = 400, description = "Unknown, used or expired token", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "The new password is refused", body = Problem, content_type = "application/problem+json")))]
#[post("/api/v1/auth/password/reset/confirm")]
pub async fn confirm_password_reset(
    api: web::Data<Api>,
    body: web::Json<ResetConfirmRequest>,
) -> Result<HttpResponse, ApiError> {
    api.identity
        .reset_password(&body.token, &body.new_password)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Change the password; the caller's other sessions end.
#[utoipa::path(put, path = "/api/v1/auth/password", tag = "identity", request_body = ChangePasswordRequest,
    security(("bearer" = [])),
    responses((status = 204, description = "Password changed"),
              (status = 403, description = "The current password is wrong", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "The new password is refused", body = Problem, content_type = "application/problem+json")))]
#[put("/api/v1/auth/password")]
pub async fn change_password(
    api: web::Data<Api>,
    Authenticated(who): Authenticated,
    body: web::Json<ChangePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    api.identity
        .change_password(who, &body.current_password, &body.new_password)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller's account and profile.
#[utoipa::path(get, path = "/api/v1/me", tag = "identity", security(("bearer" = [])),
    responses((status = 200, body = ProfileResponse),
              (status = 401, description = "No valid access token", body = Problem, content_type = "application/problem+json")))]
#[get("/api/v1/me")]
pub async fn me(
    api: web::Data<Api>,
    Authenticated(who): Authenticated,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(ProfileResponse::from(api.identity.profile(who).await?)))
}

/// Change profile fields.
#[utoipa::path(patch, path = "/api/v1/me", tag = "identity", request_body = ProfilePatchRequest, security(("bearer" = [])),
    responses((status = 200, body = ProfileResponse),
              (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json")))]
#[patch("/api/v1/me")]
pub async fn update_me(
    api: web::Data<Api>,
    Authenticated(who): Authenticated,
    body: web::Json<ProfilePatchRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let input = ProfilePatchInput {
        nickname: body.nickname,
        birth_year: body.birth_year,
        sex: body.sex,
        height_cm: body.height_cm,
        weight_kg: body.weight_kg,
        activity_level: body.activity_level,
    };
    Ok(HttpResponse::Ok().json(ProfileResponse::from(
        api.identity.update_profile(who, input).await?,
    )))
}

/// Delete the account: the profile, health data and sessions are deleted with it.
#[utoipa::path(delete, path = "/api/v1/me", tag = "identity", request_body = DeleteAccountRequest, security(("bearer" = [])),
    responses((status = 204, description = "Deleted"),
              (status = 403, description = "The password is wrong", body = Problem, content_type = "application/problem+json")))]
#[delete("/api/v1/me")]
pub async fn delete_me(
    api: web::Data<Api>,
    Authenticated(who): Authenticated,
    body: web::Json<DeleteAccountRequest>,
) -> Result<HttpResponse, ApiError> {
    api.identity.delete_account(who, &body.password).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The caller's health profile: conditions, diets, allergens; with an `ETag`.
#[utoipa::path(get, path = "/api/v1/me/health", tag = "identity", security(("bearer" = [])),
    responses((status = 200, body = HealthResponse, headers(("ETag" = String)))))]
#[get("/api/v1/me/health")]
pub async fn health_profile(
    api: web::Data<Api>,
    Authenticated(who): Authenticated,
) -> Result<HttpResponse, ApiError> {
    let health = api.identity.health(who).await?;
    Ok(with_etag(health.version, health.into()))
}

/// Replace the health profile (fields left out are cleared, as PUT replaces the whole representation; height and
/// weight are the profile's). Codes come from `GET /api/v1/diets`; an unknown one is a 422 naming it. Send
/// `If-Match` with the ETag you read to avoid overwriting a change made on another device (412 if it is stale).
#[utoipa::path(put, path = "/api/v1/me/health", tag = "identity", request_body = HealthRequest, security(("bearer" = [])),
    params(("If-Match" = Option<String>, Header, description = "The ETag of the version this change is based on")),
    responses((status = 200, body = HealthResponse, headers(("ETag" = String))),
              (status = 412, description = "Changed since the given version", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "Unknown codes or invalid values", body = Problem, content_type = "application/problem+json")))]
#[put("/api/v1/me/health")]
pub async fn replace_health(
    api: web::Data<Api>,
    Authenticated(who): Authenticated,
    req: HttpRequest,
    body: web::Json<HealthRequest>,
) -> Result<HttpResponse, ApiError> {
    let expected = expected_version(&req)?;
    let body = body.into_inner();
    let input = HealthProfileInput {
        conditions: body.conditions,
        diets: body
            .diets
            .into_iter()
            .map(|d| DietChoice {
                code: d.code,
                params: d.params,
            })
            .collect(),
        allergens: body.allergens,
        pregnant: body.pregnant,
        height_cm: body.height_cm,
        weight_kg: body.weight_kg,
        notes: body.notes,
    };
    let health = api.identity.replace_health(who, input, expected).await?;
    Ok(with_etag(health.version, health.into()))
}
