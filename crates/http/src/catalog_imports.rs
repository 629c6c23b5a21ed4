//! Catalog imports for admins: `POST /api/v1/admin/catalog/imports` (a multipart upload, streamed to disk, run
//! by the worker) and `GET /api/v1/admin/catalog/imports/{id}` (its status and report).

use std::path::{Path, PathBuf};

use actix_multipart::{Field, Multipart, MultipartError};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use diningcoach_catalog::{
    Actor, CatalogImport, Idempotency, ImportFormat, ImportId, ImportRequest, ImportService,
    ImportStatus,
};
use futures_util::StreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::Api;
use crate::auth::Authenticated;
use crate::problem::{ApiError, FieldError, Problem};

/// Where uploads go and how large they may be.
#[derive(Debug, Clone)]
pub struct ImportUploads {
    pub dir: PathBuf,
    pub max_bytes: u64,
}

/// The form of an upload (`multipart/form-data`).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ImportUploadForm {
    /// `off` for an Open Food Facts export (tab-separated), `csv` for our CSV format.
    #[schema(example = "off")]
    format: ImportFormatDto,
    /// The file.
    #[schema(value_type = String, content_media_type = "application/octet-stream")]
    file: Vec<u8>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportFormatDto {
    Off,
    Csv,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatusDto {
    Queued,
    Running,
    Done,
    Failed,
}

/// A row that was skipped.
#[derive(Serialize, ToSchema)]
pub struct ImportRowErrorDto {
    /// The line of the file where the row starts (the header is line 1).
    #[schema(example = 7)]
    line: u64,
    /// What kind of problem: `invalid_food`, `malformed_number`, `invalid_value`, `field_count`, `not_utf8`,
    /// `malformed`, `unreadable`.
    #[schema(example = "malformed_number")]
    problem: String,
    #[schema(example = "column `fat_100g`: `1,5` is not a number")]
    message: String,
}

/// An import: where it is, what it did so far, and the first rows it skipped.
#[derive(Serialize, ToSchema)]
pub struct ImportStatusResponse {
    id: Uuid,
    status: ImportStatusDto,
    format: ImportFormatDto,
    file_name: String,
    file_bytes: u64,
    /// Bytes of the file read when the last batch was committed.
    bytes_read: u64,
    /// `bytes_read / file_bytes`, from 0 to 1 (1 when done).
    #[schema(example = 0.42)]
    progress: f64,
    /// Rows of the file handled (good or bad).
    rows_read: u64,
    /// Rows that became a valid food.
    accepted: u64,
    /// Foods new to the catalog.
    inserted: u64,
    /// Foods that replaced one with the same barcode (or code).
    updated: u64,
    /// Rows skipped as invalid; the first ones are in `errors`.
    skipped: u64,
    /// Rows whose barcode an earlier row of the file had: the later row wins.
    duplicates: u64,
    errors: Vec<ImportRowErrorDto>,
    /// Skipped rows not listed in `errors`.
    errors_not_kept: u64,
    /// Why the import failed, when it did.
    failure: Option<String>,
    /// Runs that worked on it (more than 1 after a worker died and another resumed).
    attempts: u32,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
}

impl From<CatalogImport> for ImportStatusResponse {
    fn from(import: CatalogImport) -> Self {
        let progress = import.progress();
        let report = import.report;
        Self {
            id: import.id.as_uuid(),
            status: match import.status {
                ImportStatus::Queued => ImportStatusDto::Queued,
                ImportStatus::Running => ImportStatusDto::Running,
                ImportStatus::Done => ImportStatusDto::Done,
                ImportStatus::Failed => ImportStatusDto::Failed,
            },
            format: match import.format {
                ImportFormat::OpenFoodFacts => ImportFormatDto::Off,
                ImportFormat::DiningCoachCsv => ImportFormatDto::Csv,
            },
            file_name: import.file_name,
            file_bytes: import.file_bytes,
            bytes_read: import.bytes_committed,
            progress,
            rows_read: report.rows_read,
            accepted: report.accepted,
            inserted: report.inserted,
            updated: report.updated,
            skipped: report.skipped,
            duplicates: report.duplicates,
            errors_not_kept: report.errors_not_kept(),
            errors: report
                .errors
                .iter()
                .map(|error| ImportRowErrorDto {
                    line: error.line,
                    problem: serde_json::to_value(&error.reason)
                        .ok()
                        .and_then(|v| v["problem"].as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    message: error.reason.to_string(),
                })
                .collect(),
            failure: import.failure,
            attempts: import.attempts,
            created_at: import.created_at,
            started_at: import.started_at,
            finished_at: import.finished_at,
            updated_at: import.updated_at,
        }
    }
}

fn location(id: ImportId) -> String {
    format!("/api/v1/admin/catalog/imports/{id}")
}

fn multipart_error(error: MultipartError) -> ApiError {
    match error {
        MultipartError::ContentTypeMissing
        | MultipartError::ContentTypeParse
        | MultipartError::ContentTypeIncompatible => ApiError::from_status(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        )
        .with_detail("Send the file as multipart/form-data with the fields `format` and `file`"),
        other => ApiError::malformed(format!("The upload could not be read: {other}")),
    }
}

/// An upload on disk that is removed unless kept: an error half-way leaves nothing behind.
struct UploadFile {
    path: PathBuf,
    keep: bool,
}

impl Drop for UploadFile {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// What was read from the form.
struct Upload {
    file: UploadFile,
    file_name: String,
    bytes: u64,
    digest: String,
}

const MAX_FILE_NAME_CHARS: usize = 255;
const MAX_IDEMPOTENCY_KEY_CHARS: usize = 255;

async fn store_file(mut field: Field, uploads: &ImportUploads) -> Result<Upload, ApiError> {
    let file_name: String = field
        .content_disposition()
        .and_then(|d| d.get_filename())
        .map(|n| n.trim().chars().take(MAX_FILE_NAME_CHARS).collect())
        .filter(|n: &String| !n.is_empty())
        .unwrap_or_else(|| "upload".to_owned());
    tokio::fs::create_dir_all(&uploads.dir).await.map_err(|e| {
        ApiError::internal(&format!("cannot create {}: {e}", uploads.dir.display()))
    })?;
    let path = uploads
        .dir
        .join(format!("upload-{}", Uuid::now_v7().simple()));
    let file = UploadFile {
        path: path.clone(),
        keep: false,
    };
    let created = tokio::fs::File::create(&path)
        .await
        .map_err(|e| ApiError::internal(&format!("cannot create {}: {e}", path.display())))?;
    let mut writer = tokio::io::BufWriter::with_capacity(256 * 1024, created);
    let mut hasher = Sha256::new();
    let mut bytes = 0u64;
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(multipart_error)?;
        bytes += chunk.len() as u64;
        if bytes > uploads.max_bytes {
            return Err(
                ApiError::from_status(StatusCode::PAYLOAD_TOO_LARGE).with_detail(format!(
                    "An import file may be at most {} bytes",
                    uploads.max_bytes
                )),
            );
        }
        hasher.update(&chunk);
        writer
            .write_all(&chunk)
            .await
            .map_err(|e| ApiError::internal(&format!("cannot write {}: {e}", path.display())))?;
    }
    writer
        .flush()
        .await
        .map_err(|e| ApiError::internal(&format!("cannot write {}: {e}", path.display())))?;
    Ok(Upload {
        file,
        file_name,
        bytes,
        digest: format!("{:x}", hasher.finalize()),
    })
}

async fn small_text(mut field: Field, name: &str) -> Result<String, ApiError> {
    let mut text = Vec::new();
    while let Some(chunk) = field.next().await {
        text.extend_from_slice(&chunk.map_err(multipart_error)?);
        if text.len() > 64 {
            return Err(ApiError::validation(vec![FieldError::new(
                name,
                "is too long",
            )]));
        }
    }
    String::from_utf8(text)
        .map_err(|_| ApiError::validation(vec![FieldError::new(name, "is not UTF-8 text")]))
}

fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get("Idempotency-Key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .map(str::trim)
        .ok()
        .filter(|k| !k.is_empty() && k.chars().count() <= MAX_IDEMPOTENCY_KEY_CHARS)
        .ok_or_else(|| {
            ApiError::validation(vec![FieldError::new(
                "Idempotency-Key",
                "must be 1 to 255 visible ASCII characters",
            )])
        })?;
    Ok(Some(key.to_owned()))
}

fn imports(api: &Api) -> Result<&ImportService, ApiError> {
    Ok(&api.imports)
}

fn uploads(req: &HttpRequest) -> Result<&ImportUploads, ApiError> {
    req.app_data::<ImportUploads>()
        .ok_or_else(|| ApiError::internal(&"the import upload settings are not registered"))
}

/// Upload a file of foods to import (admins). The file is stored and the import queued; the answer comes at
/// once with the import's id, and `Location` names its status. Retrying with the same `Idempotency-Key` and the
/// same file answers with the same import.
#[utoipa::path(post, path = "/api/v1/admin/catalog/imports", tag = "catalog",
    request_body(content = ImportUploadForm, content_type = "multipart/form-data"),
    params(("Idempotency-Key" = Option<String>, Header,
            description = "Makes a retried upload answer with the import the first one created")),
    security(("bearer" = [])),
    responses((status = 202, description = "Queued (or, for a repeated Idempotency-Key, the import it created)",
               body = ImportStatusResponse, headers(("Location" = String))),
              (status = 400, description = "Not a readable multipart form", body = Problem,
               content_type = "application/problem+json"),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Not an administrator", body = Problem,
               content_type = "application/problem+json"),
              (status = 413, description = "Larger than IMPORT_MAX_BYTES", body = Problem,
               content_type = "application/problem+json"),
              (status = 415, description = "Not multipart/form-data", body = Problem,
               content_type = "application/problem+json"),
              (status = 422, description = "No file, a format other than `off` or `csv`, or an Idempotency-Key \
                                            reused with another file", body = Problem,
               content_type = "application/problem+json")))]
#[post("/api/v1/admin/catalog/imports")]
pub async fn request_import(
    api: web::Data<Api>,
    req: HttpRequest,
    Authenticated(who): Authenticated,
    mut form: Multipart,
) -> Result<HttpResponse, ApiError> {
    let service = imports(&api)?;
    let actor = Actor {
        user: who.user,
        admin: who.is_admin(),
    };
    // Refuse before receiving what may be gigabytes.
    service.may_import(actor)?;
    let key = idempotency_key(&req)?;
    let uploads = uploads(&req)?;
    let mut format: Option<String> = None;
    let mut upload: Option<Upload> = None;
    while let Some(field) = form.next().await {
        let field = field.map_err(multipart_error)?;
        match field.name() {
            Some("format") => format = Some(small_text(field, "format").await?),
            Some("file") if upload.is_none() => upload = Some(store_file(field, uploads).await?),
            Some("file") => {
                return Err(ApiError::validation(vec![FieldError::new(
                    "file",
                    "send one file per import",
                )]));
            }
            // Unknown fields are drained and ignored.
            _ => {
                let mut field = field;
                while let Some(chunk) = field.next().await {
                    chunk.map_err(multipart_error)?;
                }
            }
        }
    }
    let mut missing = Vec::new();
    if format.is_none() {
        missing.push(FieldError::new("format", "is required: `off` or `csv`"));
    }
    if upload.is_none() {
        missing.push(FieldError::new("file", "is required"));
    }
    let (Some(format), Some(mut upload)) = (format, upload) else {
        return Err(ApiError::validation(missing));
    };
    let format: ImportFormat = format.parse()?;
    let idempotency = key.map(|key| {
        let mut hash = Sha256::new();
        hash.update(format.as_str());
        hash.update([0]);
        hash.update(&upload.file_name);
        hash.update([0]);
        hash.update(&upload.digest);
        Idempotency {
            key,
            request_hash: format!("{:x}", hash.finalize()),
        }
    });
    let creation = service
        .request(
            actor,
            ImportRequest {
                format,
                file_name: upload.file_name.clone(),
                file_path: absolute(&upload.file.path),
                file_bytes: upload.bytes,
                idempotency,
            },
        )
        .await?;
    // A replayed request keeps the first upload; this copy goes.
    upload.file.keep = matches!(creation, diningcoach_catalog::Creation::Created(_));
    let import = creation.import().clone();
    let location = location(import.id);
    Ok(HttpResponse::Accepted()
        .insert_header((
            header::LOCATION,
            HeaderValue::from_str(&location).map_err(|e| ApiError::internal(&e))?,
        ))
        .json(ImportStatusResponse::from(import)))
}

fn absolute(path: &Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .to_string_lossy()
        .into_owned()
}

/// An import's status, counts, first skipped rows and progress (admins).
#[utoipa::path(get, path = "/api/v1/admin/catalog/imports/{id}", tag = "catalog",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = ImportStatusResponse),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Not an administrator", body = Problem,
               content_type = "application/problem+json"),
              (status = 404, description = "No such import", body = Problem,
               content_type = "application/problem+json")))]
#[get("/api/v1/admin/catalog/imports/{id}")]
pub async fn import_status(
    api: web::Data<Api>,
    Authenticated(who): Authenticated,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let actor = Actor {
        user: who.user,
        admin: who.is_admin(),
    };
    let service = imports(&api)?;
    service.may_import(actor)?;
    let id = Uuid::parse_str(&id)
        .map(ImportId::from_uuid)
        .map_err(|_| ApiError::not_found(format!("No import has the id {id}")))?;
    let import = service.status(actor, id).await?;
    Ok(HttpResponse::Ok().json(ImportStatusResponse::from(import)))
}
