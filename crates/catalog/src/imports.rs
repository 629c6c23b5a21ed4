//! Catalog imports: one service for both ways in (the admin upload run by the worker, and the operator CLI).
//!
//! A file is read row by row on a blocking thread: parsed, validated, de-duplicated by barcode (the later row
//! wins, counted as a duplicate), analysed by the dietary engine, and handed over in batches to the async side,
//! which commits each batch **together with the import's progress** (rows handled, bytes read, the report) in one
//! transaction ([`ImportJobs::commit_batch`]). Memory stays flat: at most three batches exist at once (one being
//! built, one waiting, one being written; a first load also keeps the column arrays of the batch PostgreSQL is
//! still writing). A run that dies mid-file leaves the import `running` with its last
//! committed progress; the next claim (the job redelivered, or `diningcoach-cli catalog import --resume`) skips the
//! rows already committed and goes on. An import into an empty catalog is a **first load** instead
//! ([`ImportJobs::first_load`]): every batch goes into one transaction, and the catalog's search structures are
//! built once at the end rather than kept up row by row; a run that dies leaves the catalog empty and the import
//! resumable from its first row. See `docs/catalog.md` ("Import").

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diningcoach_dietary::DietCatalog;
use diningcoach_kernel::{
    Clock, InfraError, Job, JobFailure, JobHandler, JobKind, JobPayload, UserId,
};
use serde::{Deserialize, Serialize};

use crate::CatalogError;
use crate::food::FoodDraft;
use crate::import::{ImportBatch, ImportFormat, ImportReport, RowError, SeenBarcodes, read_foods};
use crate::ports::FoodRepository;
use crate::stored::{Actor, AnalysedFood, BatchOutcome};

diningcoach_kernel::typed_id!(
    /// Identifies a catalog import (and the status document at `/api/v1/admin/catalog/imports/{id}`).
    ImportId
);

/// Where an import is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    /// Recorded, waiting for a worker.
    Queued,
    /// A run claimed it; progress is committed with every batch.
    Running,
    /// Every row was handled.
    Done,
    /// The file could not be read (missing, no usable header, an I/O error mid-file): `failure` says why. The rows
    /// committed before the failure stay; the report says how many.
    Failed,
}

impl ImportStatus {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Queued, Self::Running, Self::Done, Self::Failed]
            .into_iter()
            .find(|status| status.as_str() == text)
    }

    /// Done or failed: nothing will change any more.
    #[must_use]
    pub fn is_final(self) -> bool {
        matches!(self, Self::Done | Self::Failed)
    }
}

/// An import as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogImport {
    pub id: ImportId,
    /// The admin who uploaded the file; `None` for the CLI (and once that account is deleted).
    pub requested_by: Option<UserId>,
    pub format: ImportFormat,
    /// The name the file had on the client.
    pub file_name: String,
    /// Where the file is read from (under `IMPORT_DIR` for uploads; the operator's file for the CLI).
    pub file_path: String,
    pub file_bytes: u64,
    pub status: ImportStatus,
    /// Rows (good or bad) of the file fully handled and committed: a resumed run skips them.
    pub rows_committed: u64,
    /// Bytes of the file read when the last batch was committed, or so far in a first load (progress, not a
    /// resume point).
    pub bytes_committed: u64,
    pub report: ImportReport,
    pub failure: Option<String>,
    /// How many runs claimed it (1 for an import that ran once).
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

impl CatalogImport {
    /// The share of the file handled, from 0 to 1.
    #[must_use]
    pub fn progress(&self) -> f64 {
        if self.status == ImportStatus::Done {
            return 1.0;
        }
        if self.file_bytes == 0 {
            return 0.0;
        }
        (self.bytes_committed as f64 / self.file_bytes as f64).clamp(0.0, 1.0)
    }
}

/// The idempotency key of a creation request and the hash of what was asked with it (DESIGN.md §4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idempotency {
    pub key: String,
    pub request_hash: String,
}

/// An import to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewImport {
    pub id: ImportId,
    pub requested_by: Option<UserId>,
    pub format: ImportFormat,
    pub file_name: String,
    pub file_path: String,
    pub file_bytes: u64,
    pub idempotency: Option<Idempotency>,
}

/// An upload, as the HTTP layer hands it over once the file is on disk.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRequest {
    pub format: ImportFormat,
    pub file_name: String,
    pub file_path: String,
    pub file_bytes: u64,
    pub idempotency: Option<Idempotency>,
}

/// What recording an import did.
#[derive(Debug, Clone, PartialEq)]
pub enum Creation {
    Created(CatalogImport),
    /// The idempotency key was used before with the same request: this is the import it created.
    Replayed(CatalogImport),
}

impl Creation {
    #[must_use]
    pub fn import(&self) -> &CatalogImport {
        match self {
            Self::Created(import) | Self::Replayed(import) => import,
        }
    }
}

/// What claiming an import for a run found.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// This run owns it now (status `running`, `attempts` counts this run).
    Claimed(CatalogImport),
    /// Another run is at it and committed progress recently.
    Busy,
    /// Done or failed already.
    Finished(CatalogImport),
    Missing,
}

/// Progress as committed with a batch.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportProgress {
    /// Rows of the file handled so far (good or bad).
    pub rows: u64,
    /// Bytes of the file read so far.
    pub bytes: u64,
    pub report: ImportReport,
}

/// The payload of a [`JobKind::CatalogImport`] job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunImport {
    pub import: ImportId,
}

impl JobPayload for RunImport {
    const KIND: JobKind = JobKind::CatalogImport;
    const VERSION: u16 = 1;
}

/// The stored imports.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait ImportJobs: Send + Sync {
    /// Records an import, and its job in the outbox when there is one, in one transaction.
    ///
    /// # Errors
    /// [`CatalogError::IdempotencyKeyReused`] when the requester used the key before for another request.
    async fn create(&self, import: &NewImport, job: Option<Job>) -> Result<Creation, CatalogError>;

    async fn find(&self, id: ImportId) -> Result<Option<CatalogImport>, InfraError>;

    /// Claims an import for a run: `queued` → `running`, or `running` whose progress is older than `stale_after`
    /// (its run died). Counts the attempt.
    async fn claim(&self, id: ImportId, stale_after: Duration) -> Result<Claim, InfraError>;

    /// In one transaction: upserts `foods` and stores `progress`, its report plus this batch's outcome — if run
    /// `attempt` still owns the import. `None` when it does not (another run claimed it): nothing is written.
    async fn commit_batch(
        &self,
        id: ImportId,
        attempt: u32,
        foods: &[AnalysedFood],
        progress: &ImportProgress,
    ) -> Result<Option<BatchOutcome>, InfraError>;

    /// Ends run `attempt`: `done` without a failure, `failed` with one, storing the final progress. `false` when
    /// the run no longer owns the import.
    async fn finish(
        &self,
        id: ImportId,
        attempt: u32,
        progress: &ImportProgress,
        failure: Option<String>,
    ) -> Result<bool, InfraError>;

    /// Starts a first load for run `attempt` when the catalog holds no food at all; `None` otherwise (the
    /// batches are then committed one by one). The catalog stays locked until the load ends.
    async fn first_load(
        &self,
        id: ImportId,
        attempt: u32,
    ) -> Result<Option<Box<dyn FirstLoad>>, InfraError>;

    /// Tells the other runs that run `attempt` is alive although it commits nothing (a first load), so that
    /// they do not take the import over, and shows how far it has read (`bytes`). `false` when the run no
    /// longer owns the import.
    async fn keep_alive(&self, id: ImportId, attempt: u32, bytes: u64) -> Result<bool, InfraError>;
}

/// A first load: an import into an empty catalog, written in one transaction with the catalog's search indexes
/// built once at its end. Until [`FirstLoad::finish`] nothing is visible; dropping it unfinished writes nothing.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait FirstLoad: Send {
    /// Writes a batch (at most one food per natural key, as [`ImportJobs::commit_batch`]). Every food counts
    /// as inserted: one whose natural key an earlier batch wrote replaces that food only when the load
    /// finishes, which then counts it as updated ([`ImportReport::record_replaced`]). The batch may still be
    /// being written when this answers, so that the next one is read meanwhile: its error is then the answer
    /// of the next call.
    async fn write(&mut self, foods: &[AnalysedFood]) -> Result<BatchOutcome, InfraError>;

    /// Settles the natural keys written twice (the later food wins), builds the search indexes, ends the run
    /// as [`ImportJobs::finish`] does and commits all of it. `false` when the run no longer owns the import:
    /// then nothing is written. Called once.
    async fn finish(
        &mut self,
        progress: &ImportProgress,
        failure: Option<String>,
    ) -> Result<bool, InfraError>;
}

/// Where import files are read from.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
pub trait ImportFiles: Send + Sync {
    /// Opens a file for reading (called on a blocking thread).
    fn open(&self, path: &str) -> std::io::Result<Box<dyn Read + Send>>;

    /// Forgets a file once its import has ended: removes uploads, leaves anything else alone.
    fn discard(&self, path: &str);
}

/// Tuning of the import runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportSettings {
    /// Foods per committed batch.
    pub batch_size: usize,
    /// A `running` import whose progress is older than this is taken over by the next claim.
    pub stale_after: Duration,
    /// Row errors kept in the report (the rest are counted).
    pub max_errors: usize,
}

impl Default for ImportSettings {
    fn default() -> Self {
        Self {
            batch_size: 4_000,
            stale_after: Duration::from_secs(60),
            max_errors: crate::import::DEFAULT_MAX_ERRORS,
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum RunOutcome {
    /// This run finished the import (done or failed).
    Finished(CatalogImport),
    /// It had finished before (a redelivered job): nothing was done.
    AlreadyFinished(CatalogImport),
    /// Another run claimed it meanwhile; this one stopped without writing further.
    Superseded,
}

/// The ports an [`ImportService`] works with.
pub struct ImportPorts {
    pub jobs: Arc<dyn ImportJobs>,
    pub foods: Arc<dyn FoodRepository>,
    pub files: Arc<dyn ImportFiles>,
    pub clock: Arc<dyn Clock>,
}

/// Imports foods: records upload requests, runs imports with resumable progress, loads synthetic foods.
pub struct ImportService {
    jobs: Arc<dyn ImportJobs>,
    foods: Arc<dyn FoodRepository>,
    files: Arc<dyn ImportFiles>,
    clock: Arc<dyn Clock>,
    catalog: Arc<DietCatalog>,
    settings: ImportSettings,
}

/// One batch, ready to write, with the progress after it.
struct Chunk {
    foods: Vec<AnalysedFood>,
    progress: ImportProgress,
    ending: Option<Ending>,
}

enum Ending {
    Complete,
    Failed(String),
}

/// Counts the bytes read through it.
struct Counted<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Reads rows into analysed batches and hands each to `send` (which answers `false` when nobody listens any
/// more). The first `skip` rows were committed by an earlier run: they are read (to know their barcodes, so that
/// duplicates keep being counted) but not counted again.
fn produce(
    rows: impl Iterator<Item = Result<FoodDraft, RowError>>,
    skip: u64,
    mut report: ImportReport,
    bytes: &dyn Fn() -> u64,
    catalog: &DietCatalog,
    batch_size: usize,
    send: &mut dyn FnMut(Chunk) -> bool,
) {
    let analyse = |drafts: Vec<FoodDraft>| -> Vec<AnalysedFood> {
        drafts
            .into_iter()
            .map(|draft| {
                let analysis = catalog.analyse(&draft.facts());
                AnalysedFood { draft, analysis }
            })
            .collect()
    };
    let mut seen = SeenBarcodes::default();
    let mut batch = ImportBatch::with_capacity(batch_size);
    let mut rows_done = 0u64;
    for item in rows {
        rows_done += 1;
        let fatal = item
            .as_ref()
            .err()
            .filter(|error| error.is_fatal())
            .cloned();
        if rows_done <= skip && fatal.is_none() {
            if let Ok(Some(gtin)) = item.as_ref().map(FoodDraft::gtin) {
                seen.seen_before(gtin);
            }
            continue;
        }
        if let Some(food) = report.record(item) {
            let again = food.gtin().is_some_and(|gtin| seen.seen_before(gtin));
            if batch.push(food) || again {
                report.record_duplicates(1);
            }
        }
        if let Some(error) = fatal {
            send(Chunk {
                foods: analyse(batch.take()),
                progress: ImportProgress {
                    rows: rows_done,
                    bytes: bytes(),
                    report,
                },
                ending: Some(Ending::Failed(error.to_string())),
            });
            return;
        }
        if batch.len() >= batch_size {
            let sent = send(Chunk {
                foods: analyse(batch.take()),
                progress: ImportProgress {
                    rows: rows_done,
                    bytes: bytes(),
                    report: report.clone(),
                },
                ending: None,
            });
            if !sent {
                return;
            }
        }
    }
    send(Chunk {
        foods: analyse(batch.take()),
        progress: ImportProgress {
            rows: rows_done.max(skip),
            bytes: bytes(),
            report,
        },
        ending: Some(Ending::Complete),
    });
}

/// Runs `produce` on a blocking thread; chunks come out of the receiver, at most one waiting.
fn spawn_producer(
    work: impl FnOnce(&mut dyn FnMut(Chunk) -> bool) + Send + 'static,
) -> (
    tokio::sync::mpsc::Receiver<Chunk>,
    tokio::task::JoinHandle<()>,
) {
    let (sender, receiver) = tokio::sync::mpsc::channel::<Chunk>(1);
    let handle = tokio::task::spawn_blocking(move || {
        let mut send = |chunk: Chunk| sender.blocking_send(chunk).is_ok();
        work(&mut send);
    });
    (receiver, handle)
}

impl ImportService {
    pub fn new(ports: ImportPorts, catalog: Arc<DietCatalog>, settings: ImportSettings) -> Self {
        Self {
            jobs: ports.jobs,
            foods: ports.foods,
            files: ports.files,
            clock: ports.clock,
            catalog,
            settings,
        }
    }

    /// Whether `actor` may import (and see imports): administrators only. The HTTP layer asks before it
    /// receives an upload.
    ///
    /// # Errors
    /// [`CatalogError::NotAllowed`].
    pub fn may_import(&self, actor: Actor) -> Result<(), CatalogError> {
        Self::admin_only(actor)
    }

    fn admin_only(actor: Actor) -> Result<(), CatalogError> {
        if actor.admin {
            Ok(())
        } else {
            Err(CatalogError::NotAllowed("only administrators import foods"))
        }
    }

    /// Records an uploaded file as an import and queues its job (the worker runs it).
    ///
    /// # Errors
    /// [`CatalogError::NotAllowed`] for a non-admin; [`CatalogError::IdempotencyKeyReused`].
    pub async fn request(
        &self,
        actor: Actor,
        request: ImportRequest,
    ) -> Result<Creation, CatalogError> {
        Self::admin_only(actor)?;
        let id = ImportId::generate();
        let job = Job::new(&RunImport { import: id }, self.clock.now())
            .map_err(|error| InfraError::Fault(error.to_string()))?;
        let import = NewImport {
            id,
            requested_by: Some(actor.user),
            format: request.format,
            file_name: request.file_name,
            file_path: request.file_path,
            file_bytes: request.file_bytes,
            idempotency: request.idempotency,
        };
        self.jobs.create(&import, Some(job)).await
    }

    /// Records an import that the caller runs itself with [`ImportService::run`] (the CLI): no job is queued.
    pub async fn record_local(
        &self,
        format: ImportFormat,
        file_name: String,
        file_path: String,
        file_bytes: u64,
    ) -> Result<CatalogImport, CatalogError> {
        let import = NewImport {
            id: ImportId::generate(),
            requested_by: None,
            format,
            file_name,
            file_path,
            file_bytes,
            idempotency: None,
        };
        Ok(self.jobs.create(&import, None).await?.import().clone())
    }

    /// The status of an import, for an admin.
    ///
    /// # Errors
    /// [`CatalogError::NotAllowed`] for a non-admin; [`CatalogError::ImportNotFound`].
    pub async fn status(&self, actor: Actor, id: ImportId) -> Result<CatalogImport, CatalogError> {
        Self::admin_only(actor)?;
        self.import(id).await
    }

    /// An import, for the operator's tools (which run with the database's rights, not a user's).
    ///
    /// # Errors
    /// [`CatalogError::ImportNotFound`].
    pub async fn import(&self, id: ImportId) -> Result<CatalogImport, CatalogError> {
        self.jobs
            .find(id)
            .await?
            .ok_or(CatalogError::ImportNotFound)
    }

    /// Runs an import to its end, resuming after the rows an earlier run committed. `observe` sees the progress
    /// after every committed batch. Running a finished import again does nothing (a redelivered job).
    ///
    /// # Errors
    /// [`CatalogError::ImportNotFound`]; [`CatalogError::ImportBusy`] when another run holds it; infrastructure
    /// failures, after which the import stays `running` and the next claim resumes it.
    pub async fn run(
        &self,
        id: ImportId,
        observe: &(dyn Fn(&ImportProgress) + Send + Sync),
    ) -> Result<RunOutcome, CatalogError> {
        let import = match self.jobs.claim(id, self.settings.stale_after).await? {
            Claim::Claimed(import) => import,
            Claim::Finished(import) => return Ok(RunOutcome::AlreadyFinished(import)),
            Claim::Busy => return Err(CatalogError::ImportBusy),
            Claim::Missing => return Err(CatalogError::ImportNotFound),
        };
        let attempt = import.attempts;
        let mut report = import.report.clone();
        report.max_errors = self.settings.max_errors;
        let files = self.files.clone();
        let catalog = self.catalog.clone();
        let path = import.file_path.clone();
        let format = import.format;
        let skip = import.rows_committed;
        let batch_size = self.settings.batch_size.max(1);
        let start = ImportProgress {
            rows: import.rows_committed,
            bytes: import.bytes_committed,
            report: report.clone(),
        };
        let (mut chunks, producer) = spawn_producer(move |send| {
            let fail = |reason: String, report: ImportReport| Chunk {
                foods: Vec::new(),
                progress: ImportProgress {
                    rows: skip,
                    bytes: 0,
                    report,
                },
                ending: Some(Ending::Failed(reason)),
            };
            let file = match files.open(&path) {
                Ok(file) => file,
                Err(error) => {
                    send(fail(
                        format!(
                            "the file cannot be opened at {path}: {error} (the API and the workers must share \
                             IMPORT_DIR)"
                        ),
                        report,
                    ));
                    return;
                }
            };
            let read = Arc::new(AtomicU64::new(0));
            let counted = Counted {
                inner: file,
                read: read.clone(),
            };
            match read_foods(counted, format) {
                Ok(rows) => produce(
                    rows,
                    skip,
                    report,
                    &|| read.load(Ordering::Relaxed),
                    &catalog,
                    batch_size,
                    send,
                ),
                Err(error) => {
                    send(fail(error.to_string(), report));
                }
            }
        });
        let mut first_load = if skip == 0 {
            match self.jobs.first_load(id, attempt).await {
                Ok(load) => load,
                Err(error) => {
                    drop(chunks);
                    let _ = producer.await;
                    return Err(error.into());
                }
            }
        } else {
            None
        };
        let mut written = (start.report.inserted, start.report.updated);
        let mut last = start;
        let outcome = loop {
            let Some(chunk) = chunks.recv().await else {
                // The reader stopped without an ending: it panicked.
                break Err(CatalogError::Infra(InfraError::Fault(
                    "the import reader stopped unexpectedly".to_owned(),
                )));
            };
            let mut progress = chunk.progress;
            progress.report.inserted = written.0;
            progress.report.updated = written.1;
            if !chunk.foods.is_empty() {
                let committed = match &mut first_load {
                    Some(load) => {
                        self.load(load.as_mut(), id, attempt, &chunk.foods, &progress)
                            .await
                    }
                    None => {
                        self.jobs
                            .commit_batch(id, attempt, &chunk.foods, &progress)
                            .await
                    }
                };
                match committed {
                    Ok(Some(outcome)) => {
                        progress
                            .report
                            .record_written(outcome.inserted, outcome.updated);
                        written = (progress.report.inserted, progress.report.updated);
                        observe(&progress);
                    }
                    Ok(None) => break Ok(RunOutcome::Superseded),
                    Err(error) => break Err(error.into()),
                }
            }
            if matches!(chunk.ending, Some(Ending::Failed(_))) && progress.bytes == 0 {
                // Nothing could be read: keep what earlier runs committed.
                progress.bytes = last.bytes;
            }
            last = progress;
            let failure = match chunk.ending {
                None => continue,
                Some(Ending::Complete) => None,
                Some(Ending::Failed(reason)) => Some(reason),
            };
            let finished = match &mut first_load {
                Some(load) => load.finish(&last, failure).await,
                None => self.jobs.finish(id, attempt, &last, failure).await,
            };
            match finished {
                Ok(true) => {}
                Ok(false) => break Ok(RunOutcome::Superseded),
                Err(error) => break Err(error.into()),
            }
            self.files.discard(&import.file_path);
            break match self.jobs.find(id).await {
                Ok(Some(finished)) => Ok(RunOutcome::Finished(finished)),
                Ok(None) => Err(CatalogError::ImportNotFound),
                Err(error) => Err(error.into()),
            };
        };
        // Stop the reader (its next send fails) and wait for it, so that no thread outlives the run.
        drop(chunks);
        let _ = producer.await;
        outcome
    }

    /// Writes a batch of a first load and keeps the run's claim alive: `None` when another run took it over.
    async fn load(
        &self,
        load: &mut dyn FirstLoad,
        id: ImportId,
        attempt: u32,
        foods: &[AnalysedFood],
        progress: &ImportProgress,
    ) -> Result<Option<BatchOutcome>, InfraError> {
        let outcome = load.write(foods).await?;
        Ok(self
            .jobs
            .keep_alive(id, attempt, progress.bytes)
            .await?
            .then_some(outcome))
    }

    /// Loads `count` synthetic foods of `seed` ([`crate::generate`]) through the same batched, analysed upserts
    /// as an import. `observe` sees the progress after every batch.
    ///
    /// # Errors
    /// Infrastructure failures (batches committed before stay).
    pub async fn generate(
        &self,
        seed: u64,
        count: u64,
        observe: &(dyn Fn(&ImportProgress) + Send + Sync),
    ) -> Result<ImportReport, CatalogError> {
        let catalog = self.catalog.clone();
        let batch_size = self.settings.batch_size.max(1);
        let max_errors = self.settings.max_errors;
        let (mut chunks, producer) = spawn_producer(move |send| {
            produce(
                crate::generate::generate(seed, count).map(Ok),
                0,
                ImportReport::new(max_errors),
                &|| 0,
                &catalog,
                batch_size,
                send,
            );
        });
        let mut written = BatchOutcome::default();
        let outcome = loop {
            let Some(chunk) = chunks.recv().await else {
                break Err(CatalogError::Infra(InfraError::Fault(
                    "the generator stopped unexpectedly".to_owned(),
                )));
            };
            let mut progress = chunk.progress;
            if !chunk.foods.is_empty() {
                match self.foods.upsert_batch(&chunk.foods).await {
                    Ok(outcome) => {
                        written.inserted += outcome.inserted;
                        written.updated += outcome.updated;
                    }
                    Err(error) => break Err(error.into()),
                }
            }
            progress.report.inserted = written.inserted;
            progress.report.updated = written.updated;
            observe(&progress);
            if chunk.ending.is_some() {
                break Ok(progress.report);
            }
        };
        drop(chunks);
        let _ = producer.await;
        outcome
    }
}

/// Runs [`JobKind::CatalogImport`] jobs. Idempotent: a finished import is acknowledged as it is; a running one
/// resumes after its committed rows (or waits, retried, while another run still holds it).
pub struct CatalogImportHandler {
    imports: Arc<ImportService>,
}

impl CatalogImportHandler {
    pub fn new(imports: Arc<ImportService>) -> Self {
        Self { imports }
    }
}

#[async_trait]
impl JobHandler for CatalogImportHandler {
    async fn handle(&self, job: &Job) -> Result<(), JobFailure> {
        let payload: RunImport = job.payload()?;
        match self.imports.run(payload.import, &|_| {}).await {
            Ok(_) => Ok(()),
            Err(CatalogError::ImportNotFound) => Err(JobFailure::permanent(format!(
                "import {} does not exist",
                payload.import
            ))),
            // Another run holds it (or held it until it died): try again once its claim has gone stale.
            Err(error) => Err(JobFailure::retryable(error.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::Mutex;

    use chrono::TimeZone;
    use diningcoach_kernel::clock::MockClock;

    use super::*;
    use crate::ports::MockFoodRepository;

    const OFF_FIXTURE: &str = include_str!("../tests/fixtures/off_sample.tsv");

    /// What a run committed, as the mocks saw it.
    #[derive(Default)]
    struct Seen {
        batches: Vec<(Vec<String>, ImportProgress)>,
        finished: Option<(ImportProgress, Option<String>)>,
        discarded: Vec<String>,
    }

    fn stored(format: ImportFormat, rows_committed: u64, report: ImportReport) -> CatalogImport {
        let at = Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap();
        CatalogImport {
            id: ImportId::generate(),
            requested_by: None,
            format,
            file_name: "foods".into(),
            file_path: "/imports/foods".into(),
            file_bytes: 1_000,
            status: ImportStatus::Running,
            rows_committed,
            bytes_committed: 0,
            report,
            failure: None,
            attempts: 1,
            created_at: at,
            started_at: Some(at),
            finished_at: None,
            updated_at: at,
        }
    }

    fn clock() -> Arc<MockClock> {
        let mut clock = MockClock::new();
        clock.expect_now().returning(Utc::now);
        Arc::new(clock)
    }

    fn service(
        jobs: MockImportJobs,
        files: MockImportFiles,
        foods: MockFoodRepository,
        batch_size: usize,
    ) -> ImportService {
        ImportService::new(
            ImportPorts {
                jobs: Arc::new(jobs),
                foods: Arc::new(foods),
                files: Arc::new(files),
                clock: clock(),
            },
            Arc::new(DietCatalog::load().unwrap()),
            ImportSettings {
                batch_size,
                ..ImportSettings::default()
            },
        )
    }

    /// Mocks that serve `text` as the file of `import` and record every commit.
    fn recording(
        import: &CatalogImport,
        text: impl Into<Vec<u8>>,
        seen: &Arc<Mutex<Seen>>,
    ) -> (MockImportJobs, MockImportFiles) {
        let bytes: Vec<u8> = text.into();
        let mut files = MockImportFiles::new();
        files
            .expect_open()
            .returning(move |_| Ok(Box::new(std::io::Cursor::new(bytes.clone()))));
        let discarded = seen.clone();
        files
            .expect_discard()
            .returning(move |path| discarded.lock().unwrap().discarded.push(path.to_owned()));
        jobs_recording(import, seen, files)
    }

    fn jobs_recording(
        import: &CatalogImport,
        seen: &Arc<Mutex<Seen>>,
        files: MockImportFiles,
    ) -> (MockImportJobs, MockImportFiles) {
        let mut jobs = MockImportJobs::new();
        let claimed = import.clone();
        jobs.expect_claim()
            .times(1)
            .returning(move |_, _| Ok(Claim::Claimed(claimed.clone())));
        // A catalog with foods in it: batches are committed one by one.
        jobs.expect_first_load().returning(|_, _| Ok(None));
        let batches = seen.clone();
        jobs.expect_commit_batch()
            .returning(move |_, attempt, foods, progress| {
                assert_eq!(attempt, 1);
                let names = foods.iter().map(|f| f.draft.name().to_owned()).collect();
                let mut progress = progress.clone();
                progress.report.record_written(foods.len() as u64, 0);
                batches.lock().unwrap().batches.push((names, progress));
                Ok(Some(BatchOutcome {
                    inserted: foods.len() as u64,
                    updated: 0,
                }))
            });
        let finished = seen.clone();
        jobs.expect_finish()
            .times(1)
            .returning(move |_, _, progress, failure| {
                finished.lock().unwrap().finished = Some((progress.clone(), failure));
                Ok(true)
            });
        let mut found = import.clone();
        let result = seen.clone();
        jobs.expect_find().returning(move |_| {
            let seen = result.lock().unwrap();
            if let Some((progress, failure)) = &seen.finished {
                found.status = if failure.is_some() {
                    ImportStatus::Failed
                } else {
                    ImportStatus::Done
                };
                found.report = progress.report.clone();
                found.rows_committed = progress.rows;
                found.failure = failure.clone();
            }
            Ok(Some(found.clone()))
        });
        (jobs, files)
    }

    #[tokio::test]
    async fn bad_rows_are_skipped_and_reported_with_their_line_numbers() {
        let import = stored(ImportFormat::OpenFoodFacts, 0, ImportReport::default());
        let seen = Arc::new(Mutex::new(Seen::default()));
        let (jobs, files) = recording(&import, OFF_FIXTURE, &seen);
        let outcome = service(jobs, files, MockFoodRepository::new(), 2)
            .run(import.id, &|_| {})
            .await
            .unwrap();
        let RunOutcome::Finished(finished) = outcome else {
            panic!("{outcome:?}")
        };
        assert_eq!(finished.status, ImportStatus::Done);
        let seen = seen.lock().unwrap();
        let (progress, failure) = seen.finished.clone().unwrap();
        assert_eq!(failure, None);
        let report = &progress.report;
        assert_eq!(report.rows_read, 11);
        assert_eq!(report.accepted, 6);
        assert_eq!(report.skipped, 5);
        assert_eq!(report.inserted, 6, "{report:?}");
        let lines: Vec<u64> = report.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [6, 7, 8, 9, 10]);
        assert_eq!(progress.rows, 11);
        assert_eq!(progress.bytes, OFF_FIXTURE.len() as u64);
        // Batches of two foods, each committed with the rows handled so far.
        let sizes: Vec<usize> = seen.batches.iter().map(|(names, _)| names.len()).collect();
        assert_eq!(sizes, [2, 2, 2]);
        let rows: Vec<u64> = seen.batches.iter().map(|(_, p)| p.rows).collect();
        assert!(rows.windows(2).all(|w| w[0] < w[1]), "{rows:?}");
        assert_eq!(seen.discarded, ["/imports/foods"]);
    }

    const CSV_WITH_DUPLICATES: &str = "food_code,barcode,name\n\
        a,3017620422003,First Nutella\n\
        b,,Oats\n\
        c,3017620422003,Second Nutella\n\
        d,,Rice\n\
        e,3017620422003,Third Nutella\n\
        b,,Oats again\n";

    #[tokio::test]
    async fn duplicates_are_counted_and_the_later_row_wins() {
        let import = stored(ImportFormat::DiningCoachCsv, 0, ImportReport::default());
        let seen = Arc::new(Mutex::new(Seen::default()));
        let (jobs, files) = recording(&import, CSV_WITH_DUPLICATES, &seen);
        service(jobs, files, MockFoodRepository::new(), 3)
            .run(import.id, &|_| {})
            .await
            .unwrap();
        let seen = seen.lock().unwrap();
        let (progress, _) = seen.finished.clone().unwrap();
        // Within the first batch the second Nutella took the first one's place; across batches the third
        // one is counted too (by barcode; the upsert makes it win). "Oats again" shares only a food code with
        // a food of an earlier batch: the upsert updates it, uncounted (codes are not remembered across batches).
        assert_eq!(progress.report.duplicates, 2, "{:?}", progress.report);
        let batches: Vec<Vec<String>> = seen.batches.iter().map(|(n, _)| n.clone()).collect();
        assert_eq!(
            batches,
            [
                vec![
                    "Second Nutella".to_owned(),
                    "Oats".to_owned(),
                    "Rice".to_owned()
                ],
                vec!["Third Nutella".to_owned(), "Oats again".to_owned()],
            ]
        );
    }

    /// An import whose earlier run committed rows 1–4 of the OFF fixture (Nutella, Coke, Leffe, salt) and died.
    fn resumed() -> CatalogImport {
        let earlier = ImportReport {
            rows_read: 4,
            accepted: 4,
            inserted: 4,
            ..ImportReport::default()
        };
        stored(ImportFormat::OpenFoodFacts, 4, earlier)
    }

    #[tokio::test]
    async fn a_resumed_run_skips_the_rows_already_committed() {
        let import = resumed();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let (jobs, files) = recording(&import, OFF_FIXTURE, &seen);
        service(jobs, files, MockFoodRepository::new(), 100)
            .run(import.id, &|_| {})
            .await
            .unwrap();
        let seen = seen.lock().unwrap();
        let written: Vec<String> = seen.batches.iter().flat_map(|(n, _)| n.clone()).collect();
        assert!(
            !written
                .iter()
                .any(|n| n == "Nutella" || n == "Leffe Blonde"),
            "{written:?}"
        );
        assert_eq!(written.len(), 2, "{written:?}");
        let (progress, _) = seen.finished.clone().unwrap();
        assert_eq!(progress.report.rows_read, 11);
        assert_eq!(progress.report.accepted, 6);
        assert_eq!(progress.report.inserted, 6);
        assert_eq!(progress.report.skipped, 5);
        assert_eq!(progress.rows, 11);
    }

    /// Reads `good` and then fails, like a disk or a network share that goes away.
    struct Failing {
        good: std::io::Cursor<Vec<u8>>,
    }

    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            match self.good.read(buf)? {
                0 => Err(std::io::Error::other("the disk went away")),
                n => Ok(n),
            }
        }
    }

    #[tokio::test]
    async fn a_fatal_read_error_ends_the_import_failed_with_what_was_committed() {
        let import = stored(ImportFormat::DiningCoachCsv, 0, ImportReport::default());
        let seen = Arc::new(Mutex::new(Seen::default()));
        let mut files = MockImportFiles::new();
        files.expect_open().returning(|_| {
            Ok(Box::new(Failing {
                good: std::io::Cursor::new(
                    b"food_code,name\na,Apple\nb,Pear\nc,Plum\nd,Fig".to_vec(),
                ),
            }))
        });
        files.expect_discard().return_const(());
        let (jobs, files) = jobs_recording(&import, &seen, files);
        let outcome = service(jobs, files, MockFoodRepository::new(), 2)
            .run(import.id, &|_| {})
            .await
            .unwrap();
        let RunOutcome::Finished(finished) = outcome else {
            panic!("{outcome:?}")
        };
        assert_eq!(finished.status, ImportStatus::Failed);
        let seen = seen.lock().unwrap();
        let (progress, failure) = seen.finished.clone().unwrap();
        assert!(
            failure.as_deref().unwrap().contains("the disk went away"),
            "{failure:?}"
        );
        let written: Vec<String> = seen.batches.iter().flat_map(|(n, _)| n.clone()).collect();
        assert_eq!(written, ["Apple", "Pear", "Plum"]);
        assert_eq!(progress.report.inserted, 3);
    }

    #[tokio::test]
    async fn a_file_without_a_usable_header_ends_failed_without_writing() {
        let import = stored(ImportFormat::OpenFoodFacts, 0, ImportReport::default());
        let seen = Arc::new(Mutex::new(Seen::default()));
        let (jobs, files) = recording(&import, "food_code,name\na,Apple\n", &seen);
        service(jobs, files, MockFoodRepository::new(), 2)
            .run(import.id, &|_| {})
            .await
            .unwrap();
        let seen = seen.lock().unwrap();
        assert!(seen.batches.is_empty());
        let (_, failure) = seen.finished.clone().unwrap();
        assert!(
            failure.as_deref().unwrap().contains("product_name"),
            "{failure:?}"
        );
    }

    #[tokio::test]
    async fn a_redelivered_job_for_a_finished_import_is_acknowledged_without_work() {
        let mut done = stored(ImportFormat::OpenFoodFacts, 11, ImportReport::default());
        done.status = ImportStatus::Done;
        let mut jobs = MockImportJobs::new();
        jobs.expect_claim()
            .returning(move |_, _| Ok(Claim::Finished(done.clone())));
        jobs.expect_commit_batch().never();
        let mut files = MockImportFiles::new();
        files.expect_open().never();
        let handler =
            CatalogImportHandler::new(Arc::new(service(jobs, files, MockFoodRepository::new(), 2)));
        let job = Job::new(
            &RunImport {
                import: ImportId::generate(),
            },
            Utc::now(),
        )
        .unwrap();
        assert_eq!(handler.handle(&job).await, Ok(()));
    }

    #[tokio::test]
    async fn an_import_held_by_another_run_is_retried_and_a_missing_one_is_parked() {
        for (claim, retryable) in [(Claim::Busy, true), (Claim::Missing, false)] {
            let mut jobs = MockImportJobs::new();
            jobs.expect_claim().returning(move |_, _| Ok(claim.clone()));
            let handler = CatalogImportHandler::new(Arc::new(service(
                jobs,
                MockImportFiles::new(),
                MockFoodRepository::new(),
                2,
            )));
            let job = Job::new(
                &RunImport {
                    import: ImportId::generate(),
                },
                Utc::now(),
            )
            .unwrap();
            let outcome = handler.handle(&job).await;
            assert_eq!(
                matches!(outcome, Err(JobFailure::Retryable(_))),
                retryable,
                "{outcome:?}"
            );
            assert_eq!(matches!(outcome, Err(JobFailure::Permanent(_))), !retryable);
        }
    }

    #[tokio::test]
    async fn a_lost_claim_stops_the_run_without_finishing() {
        let import = stored(ImportFormat::OpenFoodFacts, 0, ImportReport::default());
        let mut jobs = MockImportJobs::new();
        let claimed = import.clone();
        jobs.expect_claim()
            .returning(move |_, _| Ok(Claim::Claimed(claimed.clone())));
        jobs.expect_first_load().returning(|_, _| Ok(None));
        jobs.expect_commit_batch()
            .times(1)
            .returning(|_, _, _, _| Ok(None));
        jobs.expect_finish().never();
        let mut files = off_file();
        files.expect_discard().never();
        let outcome = service(jobs, files, MockFoodRepository::new(), 2)
            .run(import.id, &|_| {})
            .await
            .unwrap();
        assert_eq!(outcome, RunOutcome::Superseded);
    }

    /// Jobs whose catalog is empty: the run gets `load` as its first load, and each keep-alive answers from
    /// `alive` in turn.
    fn first_loading(
        import: &CatalogImport,
        load: MockFirstLoad,
        alive: Vec<bool>,
    ) -> MockImportJobs {
        let mut jobs = MockImportJobs::new();
        let claimed = import.clone();
        jobs.expect_claim()
            .returning(move |_, _| Ok(Claim::Claimed(claimed.clone())));
        let load = Mutex::new(Some(load));
        jobs.expect_first_load()
            .times(1)
            .returning(move |_, attempt| {
                assert_eq!(attempt, 1);
                let load: Box<dyn FirstLoad> = Box::new(load.lock().unwrap().take().unwrap());
                Ok(Some(load))
            });
        let alive = Mutex::new(alive.into_iter());
        let read = Mutex::new(0);
        jobs.expect_keep_alive().returning(move |_, _, bytes| {
            // How far the file was read, never going back (a small file is read whole at once).
            let mut read = read.lock().unwrap();
            assert!(bytes > 0 && bytes >= *read, "{bytes} after {read}");
            *read = bytes;
            Ok(alive.lock().unwrap().next().unwrap())
        });
        jobs.expect_commit_batch().never();
        jobs.expect_finish().never();
        let mut found = import.clone();
        found.status = ImportStatus::Done;
        jobs.expect_find()
            .returning(move |_| Ok(Some(found.clone())));
        jobs
    }

    fn off_file() -> MockImportFiles {
        let mut files = MockImportFiles::new();
        files.expect_open().returning(|_| {
            Ok(Box::new(std::io::Cursor::new(
                OFF_FIXTURE.as_bytes().to_vec(),
            )))
        });
        files
    }

    #[tokio::test]
    async fn an_import_into_an_empty_catalog_is_one_first_load() {
        let import = stored(ImportFormat::OpenFoodFacts, 0, ImportReport::default());
        let seen = Arc::new(Mutex::new(Seen::default()));
        let mut load = MockFirstLoad::new();
        let sizes = Arc::new(Mutex::new(Vec::new()));
        let written = sizes.clone();
        load.expect_write().times(3).returning(move |foods| {
            written.lock().unwrap().push(foods.len());
            Ok(BatchOutcome {
                inserted: foods.len() as u64,
                updated: 0,
            })
        });
        let finished = seen.clone();
        load.expect_finish()
            .times(1)
            .returning(move |progress, failure| {
                finished.lock().unwrap().finished = Some((progress.clone(), failure));
                Ok(true)
            });
        let jobs = first_loading(&import, load, vec![true; 3]);
        let mut files = off_file();
        files.expect_discard().times(1).return_const(());
        let observed = Mutex::new(Vec::new());
        let outcome = service(jobs, files, MockFoodRepository::new(), 2)
            .run(import.id, &|progress| {
                observed.lock().unwrap().push(progress.report.inserted);
            })
            .await
            .unwrap();
        assert!(matches!(outcome, RunOutcome::Finished(_)), "{outcome:?}");
        assert_eq!(*sizes.lock().unwrap(), [2, 2, 2]);
        let seen = seen.lock().unwrap();
        // The load ends the run with the whole file's progress; observers saw it grow batch by batch.
        let (progress, failure) = seen.finished.clone().unwrap();
        assert_eq!(failure, None);
        assert_eq!((progress.rows, progress.report.inserted), (11, 6));
        assert_eq!(progress.report.skipped, 5);
        assert_eq!(*observed.lock().unwrap(), [2, 4, 6]);
    }

    #[tokio::test]
    async fn a_first_load_whose_claim_was_taken_over_stops_without_finishing() {
        let import = stored(ImportFormat::OpenFoodFacts, 0, ImportReport::default());
        let mut load = MockFirstLoad::new();
        load.expect_write().times(2).returning(|foods| {
            Ok(BatchOutcome {
                inserted: foods.len() as u64,
                updated: 0,
            })
        });
        load.expect_finish().never();
        let jobs = first_loading(&import, load, vec![true, false]);
        let mut files = off_file();
        files.expect_discard().never();
        let outcome = service(jobs, files, MockFoodRepository::new(), 2)
            .run(import.id, &|_| {})
            .await
            .unwrap();
        assert_eq!(outcome, RunOutcome::Superseded);
    }

    #[tokio::test]
    async fn a_resumed_import_is_never_a_first_load() {
        // Rows were committed one batch at a time before: the catalog is not empty, whatever it holds now.
        let import = resumed();
        let mut jobs = MockImportJobs::new();
        let claimed = import.clone();
        jobs.expect_claim()
            .returning(move |_, _| Ok(Claim::Claimed(claimed.clone())));
        jobs.expect_first_load().never();
        jobs.expect_commit_batch()
            .times(1)
            .returning(|_, _, foods, _| {
                Ok(Some(BatchOutcome {
                    inserted: foods.len() as u64,
                    updated: 0,
                }))
            });
        jobs.expect_finish()
            .times(1)
            .returning(|_, _, _, _| Ok(true));
        let mut found = import.clone();
        found.status = ImportStatus::Done;
        jobs.expect_find()
            .returning(move |_| Ok(Some(found.clone())));
        let mut files = off_file();
        files.expect_discard().return_const(());
        let outcome = service(jobs, files, MockFoodRepository::new(), 100)
            .run(import.id, &|_| {})
            .await
            .unwrap();
        assert!(matches!(outcome, RunOutcome::Finished(_)), "{outcome:?}");
    }

    #[tokio::test]
    async fn only_admins_request_imports_and_the_job_goes_with_the_record() {
        let request = ImportRequest {
            format: ImportFormat::OpenFoodFacts,
            file_name: "off.tsv".into(),
            file_path: "/imports/x".into(),
            file_bytes: 10,
            idempotency: None,
        };
        let user = UserId::generate();
        let mut jobs = MockImportJobs::new();
        jobs.expect_create()
            .withf(move |import, job| {
                let Some(job) = job else { return false };
                job.kind == JobKind::CatalogImport
                    && job.payload::<RunImport>().ok().map(|p| p.import) == Some(import.id)
                    && import.requested_by == Some(user)
            })
            .times(1)
            .returning(|import, _| {
                let mut stored = stored(import.format, 0, ImportReport::default());
                stored.id = import.id;
                stored.status = ImportStatus::Queued;
                Ok(Creation::Created(stored))
            });
        let service = service(jobs, MockImportFiles::new(), MockFoodRepository::new(), 2);
        let refused = service
            .request(Actor { user, admin: false }, request.clone())
            .await;
        assert!(matches!(refused, Err(CatalogError::NotAllowed(_))));
        let created = service
            .request(Actor { user, admin: true }, request)
            .await
            .unwrap();
        assert!(matches!(created, Creation::Created(_)));
        let status = service
            .status(Actor { user, admin: false }, ImportId::generate())
            .await;
        assert!(matches!(status, Err(CatalogError::NotAllowed(_))));
    }

    #[tokio::test]
    async fn generated_foods_are_analysed_and_written_in_batches() {
        let mut foods = MockFoodRepository::new();
        let sizes = Arc::new(Mutex::new(Vec::new()));
        let seen = sizes.clone();
        foods.expect_upsert_batch().returning(move |batch| {
            assert!(
                batch.iter().all(
                    |f| f.analysis.ingredients_declared || f.draft.ingredients_text().is_none()
                )
            );
            seen.lock().unwrap().push(batch.len());
            Ok(BatchOutcome {
                inserted: batch.len() as u64,
                updated: 0,
            })
        });
        let report = service(MockImportJobs::new(), MockImportFiles::new(), foods, 40)
            .generate(7, 100, &|_| {})
            .await
            .unwrap();
        assert_eq!(report.rows_read, 100);
        assert_eq!(report.inserted, 100);
        assert_eq!(report.duplicates, 0);
        assert_eq!(*sizes.lock().unwrap(), [40, 40, 20]);
    }
}
