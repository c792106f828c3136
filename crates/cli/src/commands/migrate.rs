//! `fengqiao migrate`.

use fq_store::DatabaseLocation;

use crate::config::Config;
use crate::failure::Outcome;
use crate::open;

pub async fn run(config: &Config) -> Outcome {
    match open::location(config)? {
        DatabaseLocation::Postgres(url) => {
            let version = fq_store_postgres::migrate(&url).await?;
            println!("PostgreSQL schema at version {version} ({})", DatabaseLocation::Postgres(url));
        }
        location @ DatabaseLocation::Sqlite(_) => {
            // Opening a SQLite store migrates it.
            let store = open::store(config).await?;
            store.close().await;
            println!("SQLite schema at version {} ({location})", fq_store_sqlite::SCHEMA_VERSION);
        }
    }
    Ok(())
}
