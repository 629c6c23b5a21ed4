//! The caller's identity, from the `Authorization: Bearer …` header.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use diningcoach_identity::{IdentityError, Principal};

use crate::Api;
use crate::problem::ApiError;

/// A request made with a valid access token. Handlers that take it are closed to anonymous callers (401).
#[derive(Debug, Clone, Copy)]
pub struct Authenticated(pub Principal);

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req))
    }
}

fn authenticate(req: &HttpRequest) -> Result<Authenticated, ApiError> {
    let api = req
        .app_data::<web::Data<Api>>()
        .ok_or_else(|| ApiError::internal(&"the API state is not registered"))?;
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|token| !token.is_empty())
        .ok_or(IdentityError::Unauthenticated)?;
    Ok(Authenticated(api.identity.authenticate(token)?))
}

/// The caller's identity when they sent one: anonymous callers are welcome (`None`), but a token that is sent
/// must be valid (401), so that an expired session is noticed rather than silently served as anonymous.
#[derive(Debug, Clone, Copy)]
pub struct MaybeAuthenticated(pub Option<Principal>);

impl FromRequest for MaybeAuthenticated {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if req.headers().contains_key(header::AUTHORIZATION) {
            ready(authenticate(req).map(|Authenticated(who)| Self(Some(who))))
        } else {
            ready(Ok(Self(None)))
        }
    }
}
