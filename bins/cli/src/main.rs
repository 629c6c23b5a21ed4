//! diningcoach-cli: the operator's tool. Composition root only: parse the command, build adapters, call them.

use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Parser, Subcommand};
use diningcoach_catalog::{
    CatalogImport, ImportFormat, ImportId, ImportProgress, ImportReport, ImportService,
    ImportStatus, RunOutcome,
};
use diningcoach_config::{ApiSettings, CommonSettings, Env, start};
use diningcoach_identity::{
    DietChoice, HealthProfileInput, IdentityError, IdentityService, Principal, Registration, Role,
};
use diningcoach_postgres::{PgConfig, connect, run_migrations};
use diningcoach_rabbitmq::{Broker, BrokerConfig, ParkingLot, ReplaySelection};

#[derive(Parser)]
#[command(
    name = "diningcoach-cli",
    version,
    about = "Operate a DiningCoach deployment"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending database migrations (safe while API instances run: they share an advisory lock).
    Migrate,
    /// Manage accounts.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Load demo data: an administrator and a user with a health profile (skipped when already there).
    Demo,
    /// Inspect and replay jobs that failed for good (the parking queue).
    Jobs {
        #[command(subcommand)]
        command: JobsCommand,
    },
    /// Import foods, or generate synthetic ones.
    Catalog {
        #[command(subcommand)]
        command: CatalogCommand,
    },
}

#[derive(Subcommand)]
enum CatalogCommand {
    /// Import a file of foods into the catalog (progress on stderr, the report on stdout). The import is recorded
    /// like an upload; if this command dies, `catalog resume ID` goes on after the last committed batch.
    Import {
        /// The file to import.
        file: std::path::PathBuf,
        /// `off` (Open Food Facts export, tab-separated) or `csv` (our format).
        #[arg(long)]
        format: String,
    },
    /// Go on with an import that stopped before its end (its id is printed when it starts).
    Resume { id: String },
    /// Load deterministic synthetic foods into the catalog, or, with --output, write them as an import file.
    Generate {
        #[arg(long)]
        count: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Write an import file here instead of loading the database.
        #[arg(long)]
        output: Option<std::path::PathBuf>,
        /// The file's format with --output: `off` or `csv`.
        #[arg(long, default_value = "off")]
        format: String,
    },
}

#[derive(Subcommand)]
enum UsersCommand {
    /// Create an administrator account (verified from the start).
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long, env = "ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
        #[arg(long, default_value = "Admin")]
        nickname: String,
    },
}

#[derive(Subcommand)]
enum JobsCommand {
    /// List parked jobs without removing them.
    Parked {
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Send parked jobs back to their queues with a fresh retry budget.
    Replay {
        /// Replay only this job (repeatable); without it, every parked job.
        #[arg(long = "id")]
        ids: Vec<String>,
    },
}

/// An import allocates and frees millions of small blocks (rows, analyses, column arrays) across the reading
/// thread and the writing one; with glibc's allocator, freeing them was a quarter of the importer's CPU time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match start("diningcoach-cli", CommonSettings::from_env, |s| {
        s.log_format
    }) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    match run(cli.command, settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("diningcoach-cli: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn parking_lot(settings: &CommonSettings) -> anyhow::Result<(Broker, ParkingLot)> {
    let mut config = BrokerConfig::new(settings.amqp_url.clone());
    config.prefix = settings.amqp_prefix.clone();
    config.queue_expiry = settings.amqp_queue_expiry;
    config.connection_name = "diningcoach-cli".to_owned();
    let broker = Broker::start(config)?;
    broker
        .wait_until_connected(std::time::Duration::from_secs(10))
        .await
        .context("cannot reach RabbitMQ")?;
    let lot = broker.parking_lot();
    Ok((broker, lot))
}

fn identity_service(settings: &CommonSettings) -> anyhow::Result<IdentityService> {
    let api = ApiSettings::from_env(&Env::process())?;
    let pool = connect(&PgConfig::new(settings.database_url.clone()));
    diningcoach_api::identity_service(
        pool,
        diningcoach_api::diet_catalog()?,
        &api.jwt_secret,
        &api.app_base_url,
        1,
    )
}

/// Demo accounts: published passwords, so only for development and demos.
const DEMO_PASSWORD: &str = "demo passphrase for diningcoach";

async fn load_demo(identity: &IdentityService) -> anyhow::Result<()> {
    let accounts = [
        ("admin@diningcoach.app", "Demo admin", Role::Admin),
        ("demo@diningcoach.app", "Demo user", Role::User),
    ];
    for (email, nickname, role) in accounts {
        let registration = Registration {
            email: email.to_owned(),
            password: DEMO_PASSWORD.to_owned(),
            nickname: nickname.to_owned(),
        };
        match identity.create_verified_account(&registration, role).await {
            Ok(user) if role == Role::User => {
                // A low-salt diet for high blood pressure and a peanut allergy: enough to see verdicts at work.
                let who = Principal {
                    user: user.id,
                    role,
                    session: uuid::Uuid::nil(),
                };
                let health = HealthProfileInput {
                    conditions: vec!["hypertension".to_owned()],
                    diets: vec![DietChoice {
                        code: "low_sodium".to_owned(),
                        params: [("daily_sodium_mg".to_owned(), 1500.0)].into(),
                    }],
                    allergens: vec!["peanuts".to_owned()],
                    pregnant: false,
                    height_cm: Some(168.0),
                    weight_kg: Some(64.0),
                    notes: None,
                };
                identity.replace_health(who, health, None).await?;
                println!("created {email} (password: {DEMO_PASSWORD})");
            }
            Ok(_) => println!("created {email} (password: {DEMO_PASSWORD})"),
            Err(IdentityError::EmailTaken) => println!("{email} already exists"),
            Err(error) => return Err(error.into()),
        }
    }
    Ok(())
}

fn import_service(settings: &CommonSettings) -> anyhow::Result<ImportService> {
    let mut pg = PgConfig::new(settings.database_url.clone());
    pg.max_connections = 4;
    pg.checkout_timeout = settings.db_checkout_timeout;
    Ok(diningcoach_api::import_service(
        connect(&pg),
        diningcoach_api::diet_catalog()?,
        &settings.import_dir,
    ))
}

/// Prints progress on stderr at most once a second: rows, share of the file, rows per second.
struct ProgressLine {
    started: Instant,
    last: Mutex<Instant>,
    file_bytes: u64,
    first_row: u64,
}

impl ProgressLine {
    fn new(file_bytes: u64, first_row: u64) -> Self {
        let now = Instant::now();
        Self {
            started: now,
            last: Mutex::new(now),
            file_bytes,
            first_row,
        }
    }

    fn rate(&self, rows: u64) -> f64 {
        (rows.saturating_sub(self.first_row)) as f64
            / self.started.elapsed().as_secs_f64().max(1e-9)
    }

    fn show(&self, progress: &ImportProgress) {
        let Ok(mut last) = self.last.lock() else {
            return;
        };
        if last.elapsed() < Duration::from_secs(1) {
            return;
        }
        *last = Instant::now();
        let share = if self.file_bytes > 0 {
            format!(
                " ({:.1} %)",
                100.0 * progress.bytes as f64 / self.file_bytes as f64
            )
        } else {
            String::new()
        };
        eprintln!(
            "{} rows{share}, {} written, {} skipped, {:.0} rows/s",
            progress.rows,
            progress.report.inserted + progress.report.updated,
            progress.report.skipped,
            self.rate(progress.rows)
        );
    }
}

fn print_report(report: &ImportReport) {
    println!(
        "rows read {}, accepted {}, inserted {}, updated {}, skipped {}, duplicates {}",
        report.rows_read,
        report.accepted,
        report.inserted,
        report.updated,
        report.skipped,
        report.duplicates
    );
    for error in &report.errors {
        println!("  line {}: {}", error.line, error.reason);
    }
    if report.errors_not_kept() > 0 {
        println!("  … and {} more skipped rows", report.errors_not_kept());
    }
}

async fn run_import(service: &ImportService, import: &CatalogImport) -> anyhow::Result<()> {
    eprintln!(
        "import {} of {} ({} bytes); if it stops, `diningcoach-cli catalog resume {}` goes on",
        import.id, import.file_name, import.file_bytes, import.id
    );
    let line = ProgressLine::new(import.file_bytes, import.rows_committed);
    let outcome = service.run(import.id, &|p| line.show(p)).await?;
    let finished = match outcome {
        RunOutcome::Finished(finished) | RunOutcome::AlreadyFinished(finished) => finished,
        RunOutcome::Superseded => anyhow::bail!("another run took the import over"),
    };
    eprintln!(
        "{} rows in {:.1} s: {:.0} rows/s",
        finished.rows_committed,
        line.started.elapsed().as_secs_f64(),
        line.rate(finished.rows_committed)
    );
    println!("import {}: {}", finished.id, finished.status.as_str());
    print_report(&finished.report);
    match (finished.status, finished.failure) {
        (ImportStatus::Failed, Some(failure)) => anyhow::bail!("the import failed: {failure}"),
        (ImportStatus::Failed, None) => anyhow::bail!("the import failed"),
        _ => Ok(()),
    }
}

async fn catalog(command: CatalogCommand, settings: &CommonSettings) -> anyhow::Result<()> {
    match command {
        CatalogCommand::Import { file, format } => {
            let format: ImportFormat = format.parse().context("--format")?;
            let metadata = std::fs::metadata(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let path = std::path::absolute(&file)?;
            let name = file.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            let service = import_service(settings)?;
            let import = service
                .record_local(
                    format,
                    name,
                    path.to_string_lossy().into_owned(),
                    metadata.len(),
                )
                .await?;
            run_import(&service, &import).await
        }
        CatalogCommand::Resume { id } => {
            let id: ImportId = id.parse().context("the import id")?;
            let service = import_service(settings)?;
            let import = service.import(id).await?;
            run_import(&service, &import).await
        }
        CatalogCommand::Generate {
            count,
            seed,
            output: Some(output),
            format,
        } => {
            let format: ImportFormat = format.parse().context("--format")?;
            let started = Instant::now();
            let file = std::fs::File::create(&output)
                .with_context(|| format!("cannot create {}", output.display()))?;
            let writer = std::io::BufWriter::with_capacity(1 << 20, file);
            let foods = diningcoach_catalog::generate(seed, count);
            match format {
                ImportFormat::OpenFoodFacts => diningcoach_catalog::write_foods_off(writer, foods),
                ImportFormat::DiningCoachCsv => diningcoach_catalog::write_foods_csv(writer, foods),
            }
            .with_context(|| format!("cannot write {}", output.display()))?;
            eprintln!(
                "wrote {count} foods to {} in {:.1} s",
                output.display(),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        CatalogCommand::Generate {
            count,
            seed,
            output: None,
            ..
        } => {
            let service = import_service(settings)?;
            let line = ProgressLine::new(0, 0);
            let report = service.generate(seed, count, &|p| line.show(p)).await?;
            eprintln!(
                "{} foods in {:.1} s: {:.0} foods/s",
                report.rows_read,
                line.started.elapsed().as_secs_f64(),
                line.rate(report.rows_read)
            );
            print_report(&report);
            Ok(())
        }
    }
}

async fn run(command: Command, settings: CommonSettings) -> anyhow::Result<()> {
    match command {
        Command::Catalog { command } => catalog(command, &settings).await?,
        Command::Migrate => {
            let applied = run_migrations(&settings.database_url)
                .await
                .context("cannot migrate the database")?;
            if applied.is_empty() {
                println!("the database is up to date");
            }
            for version in applied {
                println!("applied {version}");
            }
        }
        Command::Users {
            command:
                UsersCommand::CreateAdmin {
                    email,
                    password,
                    nickname,
                },
        } => {
            let identity = identity_service(&settings)?;
            let registration = Registration {
                email,
                password,
                nickname,
            };
            let admin = identity
                .create_verified_account(&registration, Role::Admin)
                .await?;
            println!("created admin {} <{}>", admin.id, admin.email);
        }
        Command::Demo => load_demo(&identity_service(&settings)?).await?,
        Command::Jobs {
            command: JobsCommand::Parked { limit },
        } => {
            let (broker, lot) = parking_lot(&settings).await?;
            let parked = lot.list(limit).await?;
            if parked.is_empty() {
                println!("no parked jobs");
            }
            for job in parked {
                let id = job
                    .job_id
                    .map_or_else(|| "(no id)".to_owned(), |id| id.to_string());
                println!(
                    "{id}  {}  attempts={}  {}",
                    job.routing_key, job.attempts, job.reason
                );
            }
            broker.shutdown().await;
        }
        Command::Jobs {
            command: JobsCommand::Replay { ids },
        } => {
            let (broker, lot) = parking_lot(&settings).await?;
            let selection = if ids.is_empty() {
                ReplaySelection::All
            } else {
                ReplaySelection::Only(
                    ids.iter()
                        .map(|id| id.parse())
                        .collect::<Result<_, _>>()
                        .context("--id")?,
                )
            };
            let report = lot.replay(&selection).await?;
            println!("replayed {} job(s)", report.replayed.len());
            for (job, reason) in &report.failed {
                println!(
                    "kept {} parked: {reason}",
                    job.job_id
                        .map_or_else(|| "(no id)".to_owned(), |id| id.to_string())
                );
            }
            broker.shutdown().await;
        }
    }
    Ok(())
}
