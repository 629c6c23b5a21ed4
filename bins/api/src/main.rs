//! diningcoach-api: the REST API. Composition root: read the settings, build the adapters, hand them to the
//! services, serve.

use std::net::TcpListener;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use diningcoach_api::{
    diet_catalog, food_service, identity_service, import_service, verdict_service,
};
use diningcoach_config::{ApiSettings, start};
use diningcoach_http::{Api, HttpSettings, serve};
use diningcoach_postgres::{PgConfig, PgHealth, connect, run_migrations};
use diningcoach_rabbitmq::{Broker, BrokerConfig};

/// A request allocates and frees thousands of small blocks (rows, analyses, JSON); glibc's allocator was a
/// quarter of the API's CPU time in the catalog search benchmark (docs/benchmarks.md), and of an import's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How long start-up waits for PostgreSQL to accept the migrations before giving up.
const MIGRATION_PATIENCE: Duration = Duration::from_secs(60);

#[tokio::main]
async fn main() -> ExitCode {
    let settings = match start("diningcoach-api", ApiSettings::from_env, |s| {
        s.common.log_format
    }) {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    match run(settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Applies pending migrations (under the advisory lock, so instances starting together take turns), retrying
/// while PostgreSQL is still coming up.
async fn migrate(database_url: &str) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + MIGRATION_PATIENCE;
    loop {
        match run_migrations(database_url).await {
            Ok(applied) => {
                for version in applied {
                    tracing::info!(%version, "applied migration");
                }
                return Ok(());
            }
            Err(error) if error.is_unavailable() && tokio::time::Instant::now() < deadline => {
                tracing::warn!(%error, "PostgreSQL is not reachable yet; retrying");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            Err(error) => return Err(error).context("cannot migrate the database"),
        }
    }
}

async fn run(settings: ApiSettings) -> anyhow::Result<()> {
    migrate(&settings.common.database_url).await?;

    let mut pg = PgConfig::new(settings.common.database_url.clone());
    pg.max_connections = settings.common.db_pool_size;
    pg.checkout_timeout = settings.common.db_checkout_timeout;
    let pool = connect(&pg);

    // The API publishes nothing itself (the worker relays the outbox); it keeps a supervised connection so that
    // readiness reports the broker.
    let mut broker_config = BrokerConfig::new(settings.common.amqp_url.clone());
    broker_config.prefix = settings.common.amqp_prefix.clone();
    broker_config.queue_expiry = settings.common.amqp_queue_expiry;
    broker_config.connection_name = format!("diningcoach-api@{}", settings.api_addr);
    let broker = Broker::start(broker_config).context("invalid RabbitMQ settings")?;

    let catalog = diet_catalog()?;
    let identity = identity_service(
        pool.clone(),
        catalog.clone(),
        &settings.jwt_secret,
        &settings.app_base_url,
        settings.password_hash_slots,
    )?;
    let imports = import_service(pool.clone(), catalog.clone(), &settings.common.import_dir);
    let verdicts = Arc::new(verdict_service(pool.clone(), catalog));
    let foods = food_service(pool.clone(), verdicts.clone(), &settings.jwt_secret);

    let api = Api {
        identity: Arc::new(identity),
        verdicts,
        foods: Arc::new(foods),
        imports: Arc::new(imports),
        health_checks: vec![Arc::new(PgHealth::new(pool)), Arc::new(broker.clone())],
    };
    let listener = TcpListener::bind(settings.api_addr)
        .with_context(|| format!("cannot listen on {}", settings.api_addr))?;
    tracing::info!(addr = %settings.api_addr, "serving the API; Swagger UI at /swagger-ui/");
    let http = HttpSettings {
        json_limit: settings.json_limit_bytes,
        workers: settings.http_workers,
        import_dir: settings.common.import_dir.clone(),
        import_max_bytes: settings.import_max_bytes,
        ..HttpSettings::default()
    };
    serve(listener, api, http)
        .await
        .context("the HTTP server failed")?;
    tracing::info!("stopped serving; closing the broker connection");
    broker.shutdown().await;
    Ok(())
}
