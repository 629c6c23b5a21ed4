//! diningcoach-cli: the operator's tool. Composition root only: parse the command, build adapters, call them.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
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

async fn run(command: Command, settings: CommonSettings) -> anyhow::Result<()> {
    match command {
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
