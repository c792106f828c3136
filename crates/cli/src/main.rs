//! `fengqiao`: the one binary. Every subcommand loads the layered configuration, opens the store
//! and calls the engine; `serve` also runs the HTTP server.

mod args;
mod bench;
mod commands;
mod config;
mod failure;
mod nightly;
mod open;
mod open311_pull;
mod progress;

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::args::{Cli, Command};
use crate::config::{Config, LogFormat};
use crate::failure::Failure;

fn init_logging(config: &Config) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log.filter));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match config.log.format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Loads the configuration and applies the global flags on top.
fn configure(cli: &Cli) -> Result<Config, Failure> {
    let mut config = config::load(cli.global.config.as_deref())?;
    if let Some(dir) = &cli.global.data_dir {
        config.storage.data_dir = dir.clone();
    }
    if let Some(url) = &cli.global.database {
        config.storage.database = url.clone();
    }
    if let Some(dir) = &cli.global.programmes {
        config.programmes.dir = Some(dir.clone());
    }
    Ok(config)
}

async fn run(cli: Cli) -> Result<(), Failure> {
    if let Command::Config(args::ConfigCommand::Example) = &cli.command {
        print!("{}", config::EXAMPLE);
        return Ok(());
    }
    let config = configure(&cli)?;
    init_logging(&config);
    match cli.command {
        Command::Serve(args) => commands::serve::run(config, args).await,
        Command::Migrate => commands::migrate::run(&config).await,
        Command::Import(command) => commands::import::run(&config, command).await,
        Command::Audit(command) => commands::audit::run(&config, command).await,
        Command::Config(args::ConfigCommand::Show) => {
            println!("{config:#?}");
            Ok(())
        }
        Command::Config(args::ConfigCommand::Example) => unreachable!("handled before loading the configuration"),
        Command::Backup { dest } => commands::backup::backup(&config, &dest).await,
        Command::Restore { source, force, checkpoint } => commands::backup::restore(&config, &source, force, &checkpoint).await,
        Command::Org(command) => commands::org::run(&config, command).await,
        Command::Account(command) => commands::account::run(&config, command).await,
        Command::Worker => commands::serve::worker(config).await,
        Command::Programmes(command) => commands::programmes::run(&config, command),
        Command::Case(command) => commands::case::run(&config, command).await,
        Command::Dispatch(command) => commands::dispatch::run(&config, command).await,
        Command::Bench(args::BenchCommand::Store { seconds, dir, json }) => bench::store::run(&config, seconds, dir, json).await,
        Command::Bench(args::BenchCommand::Http { cases, connections, seconds, dir, tool, json }) => {
            let load = bench::http::Load { connections, seconds, tool };
            bench::http::run(&config, cases, load, dir, json).await
        }
        Command::Bench(args::BenchCommand::Engine { seconds, only, dir, json }) => {
            bench::engine::run(&config, seconds, only.as_deref(), dir, json).await
        }
        Command::Bench(args::BenchCommand::Allocate { records, reviewers, city, json }) => {
            bench::allocate::run(records, reviewers, &city, json)
        }
        Command::Bench(args::BenchCommand::Risk { postgres, json }) => bench::risk::run(json, postgres.as_deref()).await,
        Command::Simulate(command) => commands::simulate::run(command),
        Command::Inspection(command) => commands::inspection::run(&config, command).await,
        Command::Risk(command) => commands::risk::run(&config, command).await,
    }
}

/// mimalloc instead of glibc's malloc: under 128 connections the server spent about an eighth of
/// its CPU in malloc and free (`fengqiao bench http`, perf), and mimalloc's per-thread heaps cut
/// that down.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => return Failure::new("runtime_failed", format!("cannot start the async runtime: {e}")).report(),
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}
