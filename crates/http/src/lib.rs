//! HTTP adapter: the REST surface of DiningCoach on actix-web, described by an OpenAPI document (utoipa).
//!
//! Handlers are thin: parse the request into domain types, call one service method, map the result. Every error
//! leaves as `application/problem+json` (RFC 9457), mapped from the domains' errors in one place ([`problem`]).

mod auth;
mod catalog_imports;
mod dietary;
mod food_json;
mod foods;
mod health;
mod identity;
mod metrics;
mod observe;
pub mod openapi;
pub mod problem;
mod server;

pub use auth::{Authenticated, MaybeAuthenticated};
pub use metrics::Metrics;
pub use observe::RequestId;
pub use problem::{ApiError, FieldError, Problem};
pub use server::{Api, HttpSettings, app, configure, serve};
