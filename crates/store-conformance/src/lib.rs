//! The storage conformance suite: one set of stories, run against every backend.
//!
//! `tests/sqlite.rs` runs them on a fresh SQLite file per story; `tests/postgres.rs` on a fresh
//! PostgreSQL database per story (FENGQIAO_TEST_POSTGRES names the server; with `CI=true` an
//! unreachable server fails the run instead of skipping it). A backend is conformant when every
//! story passes on it unchanged.

mod fixtures;
pub mod stories;

use std::sync::Arc;

use async_trait::async_trait;
use fq_store::Store;

/// What a story needs from a backend under test.
#[async_trait]
pub trait Harness: Send + Sync {
    /// The store under test.
    fn store(&self) -> Arc<dyn Store>;

    /// Runs raw SQL against the database behind the store's back (to tamper with it).
    async fn try_raw(&self, sql: &str) -> Result<(), String>;

    /// Drops the triggers that make the journal append-only, as an intruder with database access
    /// would, so that tampering can be attempted.
    async fn unprotect_journal(&self);

    /// Drops the trigger that keeps the journal head row.
    async fn unprotect_head(&self);

    /// A second, independent store on the same database: another server process (PostgreSQL) or
    /// a CLI command beside the server (SQLite).
    async fn second_store(&self) -> Arc<dyn Store>;
}

/// Generates one `#[tokio::test]` per story for a backend. `$make` is an async function returning
/// `Option<impl Harness>` (`None` skips, for a backend that is not available locally).
#[macro_export]
macro_rules! conformance_tests {
    ($make:path; $($story:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $story() {
                if let Some(harness) = $make().await {
                    $crate::stories::$story(&harness).await;
                }
            }
        )*
    };
    ($make:path) => {
        $crate::conformance_tests!($make;
            empty_store,
            regions_round_trip,
            real_reference_data_loads,
            organisations_accounts_and_tokens,
            grids_round_trip,
            journal_numbering_and_streams,
            failed_change_writes_nothing,
            stream_expectation_guards_concurrent_edits,
            concurrent_writers_share_commits,
            cancelled_writers_do_not_stall_the_queue,
            two_stores_on_one_database_keep_one_chain,
            occurred_at_is_kept_beside_recorded_at,
            settings_round_trip,
            tampered_payload_is_named,
            deleted_row_is_named,
            swapped_rows_are_named,
            appended_row_is_named,
            inserted_row_is_named,
            append_only_triggers_refuse_edits,
            rows_outside_the_sequence_are_refused,
            a_deleted_head_record_is_named,
            an_emptied_journal_is_named,
            verification_beside_a_live_writer_stays_intact,
            case_put_and_replace,
            a_taken_case_number_is_a_conflict,
            case_lists_filter_and_page,
            due_cases_come_earliest_first,
            last_case_number_per_series,
            tallies_add_up,
            handler_profiles_are_replaced,
            notifications_newest_first,
            accounts_with_a_role,
            case_lists_filter_sort_and_count,
            case_kpis_whole_and_per_county,
            case_trend_by_beijing_day,
            sessions_insert_revoke_and_conflict,
            login_throttles_replace_and_clear,
            attachments_round_trip_and_attach,
            risk_forecasts_replace_only_with_more_events,
            risk_checks_read_by_span_latest_first,
            positions_read_by_time_and_county,
            positions_read_by_place_in_one_snapshot,
        );
    };
}
