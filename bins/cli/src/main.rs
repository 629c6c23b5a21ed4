//! diningcoach-cli: the operator's tool. Composition root only: parse the command, build adapters, call them.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use diningcoach_config::{CommonSettings, Env, init_tracing};

#[derive(Parser)]
#[command(name = "diningcoach-cli", version, about = "Operate a DiningCoach deployment")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending database migrations (safe while API instances run: they share an advisory lock).
    Migrate,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match CommonSettings::from_env(&Env::process()) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("diningcoach-cli: {error}");
            return ExitCode::from(2);
        }
    };
    init_tracing(settings.log_format);
    match run(cli.command, settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("diningcoach-cli: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, settings: CommonSettings) -> anyhow::Result<()> {
    match command {
        Command::Migrate => {
            let applied = diningcoach_postgres::run_migrations(&settings.database_url)
                .await
                .context("cannot migrate the database")?;
            if applied.is_empty() {
                println!("the database is up to date");
            }
            for version in applied {
                println!("applied {version}");
            }
        }
    }
    Ok(())
}
