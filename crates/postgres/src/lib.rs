//! PostgreSQL adapter: the schema, the pool, the migrations, and the implementations of the domains' ports.
//!
//! Every port method is one atomic business operation: its transaction lives here, never in the domain.

mod catalog_imports;
mod diet_profiles;
mod error;
mod food_memo;
mod food_search;
mod foods;
mod health;
mod identity;
mod janitor;
mod ledger;
mod memo;
mod migrate;
mod outbox;
mod pool;
mod schedule;
pub mod schema;
mod search_words;
mod statement;
#[cfg(feature = "test-support")]
pub mod testing;

pub use catalog_imports::PgCatalogImports;
pub use diet_profiles::PgDietProfiles;
pub use error::PgError;
pub use foods::PgFoodRepository;
pub use health::PgHealth;
pub use identity::PgIdentityStore;
pub use janitor::OutboxJanitor;
pub use ledger::PgJobLedger;
pub use migrate::{MIGRATIONS, MIGRATIONS_FINGERPRINT, run_migrations};
pub use outbox::{OutboxRelay, PgOutbox, RelayConfig};
pub use pool::{PgConfig, PgPool, connect};
pub use schedule::Scheduler;
