//! A database of its own for every test, cloned from a template that holds the migrated schema.
//!
//! Cloning (`CREATE DATABASE … TEMPLATE …`) takes milliseconds where migrating takes seconds, and private databases
//! let tests run in parallel, in separate processes, with no cleanup order. The template is named after the
//! migrations' fingerprint, so editing a migration builds a new one; building it is serialised across processes
//! by an advisory lock and published by a rename, so no test ever sees a half-migrated template.

use diesel::sql_types::{BigInt, Text};
use diesel::{QueryableByName, sql_query};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::{MIGRATIONS_FINGERPRINT, PgConfig, PgError, PgPool, connect, run_migrations};

const TEMPLATE_LOCK_KEY: i64 = 0x4469_6e69_6e67_0002;

/// The server the tests create their databases on; `TEST_DATABASE_URL` points elsewhere (any database on it).
pub fn server_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// `url` with its database name replaced by `database`.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let prefix = match base.rfind('/') {
        Some(slash) if base[..slash].ends_with('/') => base, // "postgres://host" has no database part
        Some(slash) => &base[..slash],
        None => base,
    };
    match query {
        Some(query) => format!("{prefix}/{database}?{query}"),
        None => format!("{prefix}/{database}"),
    }
}

#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn admin() -> Result<AsyncPgConnection, PgError> {
    AsyncPgConnection::establish(&server_url())
        .await
        .map_err(|e| PgError::Connection(e.to_string()))
}

async fn database_exists(conn: &mut AsyncPgConnection, name: &str) -> Result<bool, PgError> {
    let found: Found = sql_query("SELECT count(*) AS n FROM pg_database WHERE datname = $1")
        .bind::<Text, _>(name)
        .get_result(conn)
        .await?;
    Ok(found.n > 0)
}

/// The name of the migrated template, building it first if this migration set has none yet.
pub async fn template() -> Result<String, PgError> {
    let name = format!("dc_tmpl_{MIGRATIONS_FINGERPRINT}");
    let mut conn = admin().await?;
    if database_exists(&mut conn, &name).await? {
        return Ok(name);
    }
    sql_query("SELECT pg_advisory_lock($1)")
        .bind::<BigInt, _>(TEMPLATE_LOCK_KEY)
        .execute(&mut conn)
        .await?;
    let built = async {
        if database_exists(&mut conn, &name).await? {
            return Ok(());
        }
        let building = format!("{name}_building");
        sql_query(format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
            .execute(&mut conn)
            .await?;
        sql_query(format!("CREATE DATABASE {building}"))
            .execute(&mut conn)
            .await?;
        run_migrations(&with_database(&server_url(), &building)).await?;
        sql_query(format!("ALTER DATABASE {building} RENAME TO {name}"))
            .execute(&mut conn)
            .await?;
        Ok::<_, PgError>(())
    }
    .await;
    let _ = sql_query("SELECT pg_advisory_unlock($1)")
        .bind::<BigInt, _>(TEMPLATE_LOCK_KEY)
        .execute(&mut conn)
        .await;
    built.map(|()| name)
}

/// A migrated database that exists for one test and is dropped with it.
pub struct TestDatabase {
    name: String,
    url: String,
    pool: PgPool,
}

impl TestDatabase {
    /// A fresh database holding the current schema.
    pub async fn new() -> Result<Self, PgError> {
        let template = template().await?;
        Self::create(Some(&template)).await
    }

    /// A fresh database with no schema at all, for tests of the migrations themselves.
    pub async fn empty() -> Result<Self, PgError> {
        Self::create(None).await
    }

    async fn create(template: Option<&str>) -> Result<Self, PgError> {
        let name = format!("dc_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = admin().await?;
        let statement = match template {
            Some(template) => format!("CREATE DATABASE {name} TEMPLATE {template}"),
            None => format!("CREATE DATABASE {name}"),
        };
        sql_query(statement).execute(&mut conn).await?;
        let url = with_database(&server_url(), &name);
        let mut config = PgConfig::new(url.clone());
        config.max_connections = 8;
        Ok(Self {
            pool: connect(&config),
            name,
            url,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn pool(&self) -> PgPool {
        self.pool.clone()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Drop runs outside async context (or on a runtime that is shutting down), so the DROP gets a thread and
        // a small runtime of its own. A failure only leaves a database that `.ci/run` removes next time.
        let name = std::mem::take(&mut self.name);
        let dropper = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                if let Ok(mut conn) = admin().await {
                    let _ = sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut conn)
                        .await;
                }
            });
        });
        let _ = dropper.join();
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_the_database_of_a_url() {
        assert_eq!(
            with_database("postgres://u@h:5432/postgres", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            with_database("postgres://u@h/postgres?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
