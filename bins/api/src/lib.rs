//! The API's service assembly, shared with `diningcoach-cli` (which creates admins through the same rules).

use std::sync::Arc;

use anyhow::Context;
use diningcoach_catalog::VerdictService;
use diningcoach_crypto::{Argon2Hasher, HashingParams, JwtAccessTokens, OsRandomness};
use diningcoach_dietary::DietCatalog;
use diningcoach_identity::{IdentityPorts, IdentityService, IdentitySettings};
use diningcoach_kernel::SystemClock;
use diningcoach_postgres::{PgDietProfiles, PgIdentityStore, PgPool};

/// The diet catalog, validated: a broken data file stops start-up with the file and field named.
pub fn diet_catalog() -> anyhow::Result<Arc<DietCatalog>> {
    Ok(Arc::new(
        DietCatalog::load().context("the diet catalog data is invalid")?,
    ))
}

/// Verdicts for users, from their stored health profiles.
pub fn verdict_service(pool: PgPool, catalog: Arc<DietCatalog>) -> VerdictService {
    VerdictService::new(catalog, Arc::new(PgDietProfiles::new(pool)))
}

/// Access tokens are short-lived; the refresh token keeps a login going.
pub const ACCESS_TOKEN_SECS: u64 = 15 * 60;

/// The identity service on PostgreSQL, argon2id and JWT. `hashing_slots` caps concurrent password hashes (each
/// holds a core and 19 MiB for ~20 ms).
pub fn identity_service(
    pool: PgPool,
    catalog: Arc<DietCatalog>,
    jwt_secret: &str,
    app_base_url: &str,
    hashing_slots: usize,
) -> anyhow::Result<IdentityService> {
    let store = Arc::new(PgIdentityStore::new(pool));
    Ok(IdentityService::new(
        IdentityPorts {
            users: store.clone(),
            sessions: store.clone(),
            profiles: store,
            hasher: Arc::new(Argon2Hasher::new(HashingParams::OWASP, hashing_slots)?),
            access_tokens: Arc::new(JwtAccessTokens::new(
                jwt_secret.as_bytes(),
                ACCESS_TOKEN_SECS,
            )),
            randomness: Arc::new(OsRandomness),
            clock: Arc::new(SystemClock),
            vocabulary: catalog,
        },
        IdentitySettings::new(app_base_url),
    ))
}
