//! The harness of the end-to-end tests: a private database and broker namespace per test, a real SMTP server that
//! keeps what it receives, and the real `diningcoach-api` / `diningcoach-worker` processes.
//!
//! The binaries must be built first (`deploy/test.sh` does): tests start them from the target directory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use diningcoach_postgres::testing::TestDatabase;
use diningcoach_rabbitmq::{Broker, BrokerConfig};
use tokio::process::{Child, Command};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Polls `check` until it returns `Some`, or panics with `what` after `limit`.
pub async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn binary(name: &str) -> PathBuf {
    // Test executables live in target/<profile>/deps; the binaries one level up.
    let exe = std::env::current_exe().expect("the test executable's path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is not built; run `cargo build --bins` (deploy/test.sh does)",
        path.display()
    );
    path
}

fn log_dir() -> PathBuf {
    let dir = root().join("target").join("e2e-logs");
    std::fs::create_dir_all(&dir).expect("log directory");
    dir
}

/// A real SMTP server (aiosmtpd, installed into `.venv` by `deploy/test.sh`) that writes each mail it accepts
/// into a directory.
pub struct SmtpSink {
    pub port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl SmtpSink {
    /// Starts a sink; `delay` holds every mail that long in DATA before accepting it.
    pub async fn start(delay: Duration) -> Self {
        Self::start_on(free_port(), delay).await
    }

    pub async fn start_on(port: u16, delay: Duration) -> Self {
        let dir = std::env::temp_dir().join(format!("dc-smtp-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("mail directory");
        let python = root().join(".venv/bin/python");
        assert!(
            python.exists(),
            "the SMTP sink needs .venv with aiosmtpd; deploy/test.sh installs it"
        );
        let child = Command::new(python)
            .arg(root().join("tests/support/smtp_sink.py"))
            .args(["--port", &port.to_string(), "--dir"])
            .arg(&dir)
            .args(["--delay", &delay.as_secs_f64().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start the SMTP sink");
        eventually(
            Duration::from_secs(20),
            "the SMTP sink to listen",
            || async move {
                tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .ok()
                    .map(drop)
            },
        )
        .await;
        Self {
            port,
            dir,
            child: Some(child),
        }
    }

    /// Every mail received so far, decoded from quoted-printable, oldest first.
    pub fn mails(&self) -> Vec<String> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .map(|dir| {
                dir.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e == "eml"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .map(|raw| decode_quoted_printable(&raw))
            .collect()
    }

    /// How many deliveries have begun (reached DATA), finished or not.
    pub fn deliveries_started(&self) -> usize {
        std::fs::read_dir(&self.dir)
            .map(|dir| {
                dir.flatten()
                    .filter(|e| e.file_name().to_string_lossy().starts_with(".receiving-"))
                    .count()
            })
            .unwrap_or(0)
    }

    /// Waits until at least `n` mails arrived and returns them.
    pub async fn wait_for(&self, n: usize, limit: Duration) -> Vec<String> {
        eventually(limit, &format!("{n} mail(s) in the SMTP sink"), || async {
            let mails = self.mails();
            (mails.len() >= n).then_some(mails)
        })
        .await
    }

    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A mail server that is down: it accepts each connection and drops it at once, counting the attempts, so a test
/// knows the worker tried before it brings a real server up on the same port.
pub struct DeadSmtp {
    pub port: u16,
    attempts: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl DeadSmtp {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("address").port();
        let attempts = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = attempts.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                drop(stream);
            }
        });
        Self {
            port,
            attempts,
            task,
        }
    }

    pub fn attempts(&self) -> usize {
        self.attempts.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Frees the port for a real server.
    pub async fn stop(self) -> u16 {
        self.task.abort();
        let _ = self.task.await;
        self.port
    }
}

/// Undoes quoted-printable soft line breaks and `=XX` escapes, enough to read links out of a mail.
pub fn decode_quoted_printable(raw: &str) -> String {
    let joined = raw.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'=' && i + 2 < bytes.len())
            .then(|| {
                std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok())
            })
            .flatten();
        if let Some(byte) = escaped {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The value of `name=` in the first link of `mail` that contains `path`.
pub fn link_token(mail: &str, path: &str) -> String {
    let start = mail
        .find(&format!("{path}?token="))
        .unwrap_or_else(|| panic!("no {path} link in:\n{mail}"));
    let rest = &mail[start + path.len() + "?token=".len()..];
    rest.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// One of our binaries, running.
pub struct Process {
    name: String,
    child: Child,
    pub log: PathBuf,
}

impl Process {
    pub async fn start(name: &str, env: &HashMap<String, String>) -> Self {
        let log = log_dir().join(format!("{name}-{}.log", uuid::Uuid::new_v4().simple()));
        let file = std::fs::File::create(&log).expect("log file");
        let child = Command::new(binary(name))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "info")
            .envs(env)
            .stdout(file.try_clone().expect("log file"))
            .stderr(file)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("start {name}: {e}"));
        Self {
            name: name.to_owned(),
            child,
            log,
        }
    }

    pub fn id(&self) -> u32 {
        self.child.id().expect("a running process")
    }

    /// Sends SIGTERM and waits for the exit status.
    pub async fn terminate(mut self, limit: Duration) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.id().to_string()])
            .status()
            .await
            .expect("kill");
        assert!(status.success());
        tokio::time::timeout(limit, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("{} did not stop within {limit:?} of SIGTERM", self.name))
            .expect("exit status")
    }

    /// SIGKILL: no chance to finish anything.
    pub async fn kill(mut self) {
        self.child.kill().await.expect("SIGKILL");
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// A private deployment for one test: its own database, its own broker names, and an SMTP URL to use.
pub struct Stack {
    pub db: TestDatabase,
    pub prefix: String,
    pub env: HashMap<String, String>,
}

impl Stack {
    pub async fn new() -> Self {
        let db = TestDatabase::new().await.expect("a test database");
        let prefix = format!("e2e-{}", uuid::Uuid::new_v4().simple());
        let env = HashMap::from(
            [
                ("DATABASE_URL", db.url().to_owned()),
                ("AMQP_PREFIX", prefix.clone()),
                ("AMQP_QUEUE_EXPIRY_SECS", "600".to_owned()),
                ("DB_POOL_SIZE", "8".to_owned()),
                ("HTTP_WORKERS", "2".to_owned()),
                ("JOB_RETRY_DELAYS_SECS", "1,1,2,3".to_owned()),
                (
                    "JWT_SECRET",
                    "end-to-end-test-secret-0123456789abcdef".to_owned(),
                ),
                ("APP_BASE_URL", "https://app.test".to_owned()),
            ]
            .map(|(k, v)| (k.to_owned(), v)),
        );
        Self { db, prefix, env }
    }

    pub fn with(mut self, name: &str, value: impl Into<String>) -> Self {
        self.env.insert(name.to_owned(), value.into());
        self
    }

    pub async fn worker(&self) -> Process {
        Process::start("diningcoach-worker", &self.env).await
    }

    /// Starts the API on a free port and waits until it is ready.
    pub async fn api(&self) -> Api {
        let port = free_port();
        let mut env = self.env.clone();
        env.insert("API_ADDR".to_owned(), format!("127.0.0.1:{port}"));
        let process = Process::start("diningcoach-api", &env).await;
        let mut api = Api {
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
            process,
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(response) = api.client.get(api.url("/health/ready")).send().await
                && response.status().is_success()
            {
                return api;
            }
            if let Ok(Some(status)) = api.process.child.try_wait() {
                panic!(
                    "the API exited with {status} while starting:\n{}",
                    api.process.log_text()
                );
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the API was not ready within 60 s:\n{}",
                api.process.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Runs SQL returning one bigint, e.g. `SELECT count(*) AS n FROM users`.
    pub async fn count(&self, sql: &str) -> i64 {
        use diesel::QueryableByName;
        use diesel::sql_types::BigInt;
        use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let mut conn = AsyncPgConnection::establish(self.db.url())
            .await
            .expect("connect");
        let found: Count = diesel::sql_query(sql)
            .get_result(&mut conn)
            .await
            .expect(sql);
        found.n
    }
}

/// A stack removes its exchanges and queues from the shared broker when dropped, whether its test passed or
/// panicked: the broker holds file descriptors for every queue, and a broker out of them stops accepting
/// connections for every later test. The stack's processes, created after it, are gone by then. Drop runs
/// inside the test's runtime, so the clean-up gets a thread and a runtime of its own.
impl Drop for Stack {
    fn drop(&mut self) {
        let prefix = self.prefix.clone();
        let env = self.env.clone();
        let cleanup = std::thread::spawn(move || {
            if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                runtime.block_on(delete_topology(&prefix, &env));
            }
        });
        let _ = cleanup.join();
    }
}

/// Deletes the queues and exchanges of a stack. The clean-up connection declares the topology before anything
/// else, so it must declare it as the stack's processes did (the same queue expiry, or the broker refuses the
/// declaration), and it must know every retry delay that they may have used: the stack's and the defaults.
async fn delete_topology(prefix: &str, env: &HashMap<String, String>) {
    let defaults = BrokerConfig::default();
    let mut retry_delays = defaults.retry_delays.clone();
    let stack_delays = env
        .get("JOB_RETRY_DELAYS_SECS")
        .into_iter()
        .flat_map(|list| list.split(','))
        .filter_map(|secs| secs.trim().parse().ok())
        .map(Duration::from_secs);
    for delay in stack_delays {
        if !retry_delays.contains(&delay) {
            retry_delays.push(delay);
        }
    }
    let queue_expiry = env
        .get("AMQP_QUEUE_EXPIRY_SECS")
        .and_then(|secs| secs.parse().ok())
        .map(Duration::from_secs);
    let config = BrokerConfig {
        prefix: prefix.to_owned(),
        connection_name: format!("{prefix}-cleanup"),
        retry_delays,
        queue_expiry,
        ..defaults
    };
    if let Ok(broker) = Broker::start(config) {
        if broker
            .wait_until_connected(Duration::from_secs(5))
            .await
            .is_ok()
        {
            let _ = broker.delete_topology().await;
        }
        broker.shutdown().await;
    }
}

/// A running API and a client for it.
pub struct Api {
    pub base: String,
    pub client: reqwest::Client,
    pub process: Process,
}

impl Api {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn post(&self, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    pub async fn get_authed(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }
}
