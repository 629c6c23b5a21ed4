//! The API's service assembly, shared with `diningcoach-cli` (which creates admins through the same rules).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use diningcoach_catalog::{
    FoodService, ImportFiles, ImportPorts, ImportService, ImportSettings, VerdictService,
};
use diningcoach_crypto::{Argon2Hasher, HashingParams, JwtAccessTokens, OsRandomness};
use diningcoach_dietary::DietCatalog;
use diningcoach_identity::{IdentityPorts, IdentityService, IdentitySettings};
use diningcoach_kernel::{CursorCodec, SystemClock};
use diningcoach_postgres::{
    PgCatalogImports, PgDietProfiles, PgFoodRepository, PgIdentityStore, PgPool,
};

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

/// The catalog: search, barcode look-ups and food pages with verdicts, contributions, admin edits.
/// Cursors are signed with a key derived from the JWT secret (a distinct purpose prefix), so that operators
/// manage one secret.
pub fn food_service(pool: PgPool, verdicts: Arc<VerdictService>, jwt_secret: &str) -> FoodService {
    FoodService::new(
        Arc::new(PgFoodRepository::new(pool.clone())),
        Arc::new(PgDietProfiles::new(pool)),
        verdicts,
        CursorCodec::new(format!("diningcoach-cursor:{jwt_secret}")),
    )
}

/// Import files on the local file system (a shared volume when the API and the workers run on several hosts).
/// Only the API's uploads (`upload-*` files directly in `IMPORT_DIR`) are removed once their import ends; a file
/// the CLI was given stays where it is, wherever it is.
pub struct FsImportFiles {
    uploads: PathBuf,
}

impl FsImportFiles {
    pub fn new(uploads: &Path) -> Self {
        Self {
            uploads: std::path::absolute(uploads).unwrap_or_else(|_| uploads.to_path_buf()),
        }
    }
}

/// How the HTTP layer names uploads in `IMPORT_DIR`.
const UPLOAD_PREFIX: &str = "upload-";

impl ImportFiles for FsImportFiles {
    fn open(&self, path: &str) -> std::io::Result<Box<dyn Read + Send>> {
        Ok(Box::new(std::fs::File::open(path)?))
    }

    fn discard(&self, path: &str) {
        let path = Path::new(path);
        let is_upload = path.parent() == Some(self.uploads.as_path())
            && path
                .file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with(UPLOAD_PREFIX));
        if is_upload && let Err(error) = std::fs::remove_file(path) {
            tracing::warn!(path = %path.display(), %error, "cannot remove an imported upload");
        }
    }
}

/// Catalog imports: upload requests, the runs (worker and CLI), and synthetic loads — one service for all.
pub fn import_service(pool: PgPool, catalog: Arc<DietCatalog>, import_dir: &Path) -> ImportService {
    ImportService::new(
        ImportPorts {
            jobs: Arc::new(PgCatalogImports::new(pool.clone())),
            foods: Arc::new(PgFoodRepository::new(pool)),
            files: Arc::new(FsImportFiles::new(import_dir)),
            clock: Arc::new(SystemClock),
        },
        catalog,
        ImportSettings::default(),
    )
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
