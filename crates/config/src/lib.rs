//! Settings come from environment variables, with defaults that run on a developer's machine as-is. Each one is
//! parsed at start-up; a missing or invalid one stops the process with a single line naming it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
#[error("invalid setting {name}: {reason}")]
pub struct ConfigError {
    pub name: &'static str,
    pub reason: String,
}

/// Reads variables from a source (the process environment, or a map in tests).
pub struct Env<F: Fn(&str) -> Option<String>> {
    lookup: F,
}

impl Env<fn(&str) -> Option<String>> {
    pub fn process() -> Self {
        Self {
            lookup: |name| std::env::var(name).ok(),
        }
    }
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    pub fn from_fn(lookup: F) -> Self {
        Self { lookup }
    }

    /// The value, with surrounding space removed; an empty value counts as unset.
    pub fn optional(&self, name: &'static str) -> Option<String> {
        (self.lookup)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    pub fn string(&self, name: &'static str, default: &str) -> String {
        self.optional(name).unwrap_or_else(|| default.to_owned())
    }

    pub fn parsed<T: FromStr>(&self, name: &'static str, default: T) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        match self.optional(name) {
            None => Ok(default),
            Some(raw) => raw.parse().map_err(|e: T::Err| ConfigError {
                name,
                reason: format!("{raw:?}: {e}"),
            }),
        }
    }

    /// A URL whose scheme must be one of `schemes`.
    pub fn url(
        &self,
        name: &'static str,
        default: &str,
        schemes: &[&str],
    ) -> Result<String, ConfigError> {
        let value = self.string(name, default);
        let scheme_ok = value
            .split_once("://")
            .is_some_and(|(scheme, rest)| schemes.contains(&scheme) && !rest.is_empty());
        if scheme_ok {
            Ok(value)
        } else {
            Err(ConfigError {
                name,
                reason: format!("expected a {} URL, got {value:?}", schemes.join("/")),
            })
        }
    }

    pub fn seconds(&self, name: &'static str, default: u64) -> Result<Duration, ConfigError> {
        self.parsed(name, default).map(Duration::from_secs)
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines, for a terminal.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

impl FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "text" | "pretty" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err("expected text or json".to_owned()),
        }
    }
}

/// Settings every binary shares.
#[derive(Debug, Clone)]
pub struct CommonSettings {
    pub database_url: String,
    pub db_pool_size: u32,
    pub db_checkout_timeout: Duration,
    pub amqp_url: String,
    /// Prefix of every exchange and queue name, so that several deployments (or test runs) can share a broker.
    pub amqp_prefix: String,
    /// Deletes queues unused this long; for throw-away prefixes (tests), never in production.
    pub amqp_queue_expiry: Option<Duration>,
    pub log_format: LogFormat,
    /// Where uploaded import files are kept until their import ends. The API writes them and a worker reads them:
    /// with several hosts it must be a volume they share.
    pub import_dir: PathBuf,
}

impl CommonSettings {
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let db_pool_size = env.parsed("DB_POOL_SIZE", 16u32)?;
        if db_pool_size == 0 {
            return Err(ConfigError {
                name: "DB_POOL_SIZE",
                reason: "must be at least 1".into(),
            });
        }
        Ok(Self {
            database_url: env.url(
                "DATABASE_URL",
                "postgres://postgres@127.0.0.1:5432/diningcoach",
                &["postgres", "postgresql"],
            )?,
            db_pool_size,
            db_checkout_timeout: env.seconds("DB_CHECKOUT_TIMEOUT_SECS", 3)?,
            amqp_url: env.url(
                "AMQP_URL",
                "amqp://guest:guest@127.0.0.1:5672/%2f",
                &["amqp", "amqps"],
            )?,
            amqp_prefix: env.string("AMQP_PREFIX", "diningcoach"),
            amqp_queue_expiry: match env.optional("AMQP_QUEUE_EXPIRY_SECS") {
                None => None,
                Some(_) => Some(env.seconds("AMQP_QUEUE_EXPIRY_SECS", 0)?).filter(|d| !d.is_zero()),
            },
            log_format: env.parsed("LOG_FORMAT", LogFormat::Text)?,
            import_dir: PathBuf::from(env.string("IMPORT_DIR", "var/imports")),
        })
    }
}

/// Settings of the API binary.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    pub common: CommonSettings,
    pub api_addr: SocketAddr,
    pub app_base_url: String,
    pub jwt_secret: String,
    pub media_dir: PathBuf,
    pub json_limit_bytes: usize,
    pub http_workers: usize,
    /// Password hashes that may run at once, each on a thread of its own holding a core and 19 MiB for ~20 ms.
    pub password_hash_slots: usize,
    /// Largest catalog import upload; it is streamed to `import_dir`, never held in memory.
    pub import_max_bytes: u64,
}

/// Used when JWT_SECRET is unset, so that a first run needs no configuration. Production must set its own.
pub const DEVELOPMENT_JWT_SECRET: &str = "development-only-secret-change-me-0123456789";

impl ApiSettings {
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let jwt_secret = env.string("JWT_SECRET", DEVELOPMENT_JWT_SECRET);
        if jwt_secret.len() < 32 {
            return Err(ConfigError {
                name: "JWT_SECRET",
                reason: "must be at least 32 characters".into(),
            });
        }
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let workers = env.parsed("HTTP_WORKERS", cores)?;
        Ok(Self {
            common: CommonSettings::from_env(env)?,
            api_addr: env.parsed("API_ADDR", SocketAddr::from(([127, 0, 0, 1], 8080)))?,
            app_base_url: env
                .url("APP_BASE_URL", "http://127.0.0.1:8080", &["http", "https"])?
                .trim_end_matches('/')
                .to_owned(),
            jwt_secret,
            media_dir: PathBuf::from(env.string("MEDIA_DIR", "var/media")),
            json_limit_bytes: env.parsed("JSON_LIMIT_BYTES", 64 * 1024)?,
            http_workers: workers.max(1),
            password_hash_slots: env.parsed("PASSWORD_HASH_SLOTS", cores)?.max(1),
            import_max_bytes: env.parsed("IMPORT_MAX_BYTES", 2 * 1024 * 1024 * 1024)?,
        })
    }
}

/// Settings of the worker binary.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    pub common: CommonSettings,
    /// `None` writes mails as `.eml` files under `mail_dir` instead of sending them.
    pub smtp_url: Option<String>,
    pub mail_dir: PathBuf,
    pub mail_from: String,
    pub prefetch: u16,
    /// Waits before the 1st, 2nd, … retry of a failed job; when they are used up the job is parked.
    pub retry_delays: Vec<Duration>,
}

impl WorkerSettings {
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let smtp_url = match env.optional("SMTP_URL") {
            None => None,
            Some(_) => Some(env.url("SMTP_URL", "", &["smtp", "smtps"])?),
        };
        Ok(Self {
            common: CommonSettings::from_env(env)?,
            smtp_url,
            mail_dir: PathBuf::from(env.string("MAIL_DIR", "var/mail")),
            mail_from: env.string("MAIL_FROM", "DiningCoach <no-reply@diningcoach.app>"),
            prefetch: env.parsed("WORKER_PREFETCH", 16u16)?,
            retry_delays: retry_delays(env)?,
        })
    }
}

/// `JOB_RETRY_DELAYS_SECS`, e.g. `5,30,120,600,3600` (the default).
fn retry_delays<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Vec<Duration>, ConfigError> {
    let raw = env.string("JOB_RETRY_DELAYS_SECS", "5,30,120,600,3600");
    let delays: Result<Vec<Duration>, _> = raw
        .split(',')
        .map(|part| part.trim().parse::<f64>().map(Duration::from_secs_f64))
        .collect();
    match delays {
        Ok(delays) if !delays.is_empty() && delays.iter().all(|d| !d.is_zero()) => Ok(delays),
        _ => Err(ConfigError {
            name: "JOB_RETRY_DELAYS_SECS",
            reason: format!("expected positive seconds separated by commas, got {raw:?}"),
        }),
    }
}

/// Starts a binary: parses its settings from the process environment and installs tracing. On a bad setting it
/// prints one line naming the variable and returns the exit code (2) to stop with.
pub fn start<S>(
    binary: &str,
    parse: impl FnOnce(&Env<fn(&str) -> Option<String>>) -> Result<S, ConfigError>,
    log_format: impl FnOnce(&S) -> LogFormat,
) -> Result<S, std::process::ExitCode> {
    match parse(&Env::process()) {
        Ok(settings) => {
            init_tracing(log_format(&settings));
            Ok(settings)
        }
        Err(error) => {
            eprintln!("{binary}: {error}");
            Err(std::process::ExitCode::from(2))
        }
    }
}

/// Installs the global tracing subscriber: `RUST_LOG` filters (default `info`), `format` chooses text or JSON.
pub fn init_tracing(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(vars: &[(&str, &str)]) -> Env<impl Fn(&str) -> Option<String>> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Env::from_fn(move |name| map.get(name).cloned())
    }

    #[test]
    fn defaults_run_locally() {
        let Ok(api) = ApiSettings::from_env(&env(&[])) else {
            panic!("defaults must parse")
        };
        assert_eq!(api.api_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(
            api.common.database_url,
            "postgres://postgres@127.0.0.1:5432/diningcoach"
        );
        let Ok(worker) = WorkerSettings::from_env(&env(&[])) else {
            panic!("defaults must parse")
        };
        assert_eq!(worker.smtp_url, None);
    }

    #[test]
    fn fewer_http_workers_do_not_hash_fewer_passwords_at_once() {
        let Ok(api) = ApiSettings::from_env(&env(&[("HTTP_WORKERS", "1")])) else {
            panic!("must parse")
        };
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        assert_eq!((api.http_workers, api.password_hash_slots), (1, cores));
        let Ok(api) = ApiSettings::from_env(&env(&[("PASSWORD_HASH_SLOTS", "3")])) else {
            panic!("must parse")
        };
        assert_eq!((api.http_workers, api.password_hash_slots), (cores, 3));
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        let cases: [(&str, &str); 6] = [
            ("API_ADDR", "localhost"),
            ("PASSWORD_HASH_SLOTS", "many"),
            ("DATABASE_URL", "mysql://x/y"),
            ("JWT_SECRET", "short"),
            ("LOG_FORMAT", "xml"),
            ("DB_POOL_SIZE", "0"),
        ];
        for (name, value) in cases {
            let error = ApiSettings::from_env(&env(&[(name, value)])).err();
            assert_eq!(error.map(|e| e.name), Some(name), "{name}={value}");
        }
        let error = WorkerSettings::from_env(&env(&[("SMTP_URL", "http://mail")])).err();
        assert_eq!(error.map(|e| e.name), Some("SMTP_URL"));
        for bad in ["", "5,x", "0", "5,,30"] {
            let error = WorkerSettings::from_env(&env(&[("JOB_RETRY_DELAYS_SECS", bad)])).err();
            let expected = if bad.is_empty() {
                None
            } else {
                Some("JOB_RETRY_DELAYS_SECS")
            };
            assert_eq!(error.map(|e| e.name), expected, "{bad:?}");
        }
        let Ok(worker) = WorkerSettings::from_env(&env(&[("JOB_RETRY_DELAYS_SECS", "0.5, 2")]))
        else {
            panic!()
        };
        assert_eq!(
            worker.retry_delays,
            [Duration::from_millis(500), Duration::from_secs(2)]
        );
    }
}
