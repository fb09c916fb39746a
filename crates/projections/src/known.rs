//! Reports as known at a past moment, answered from the live read model: the bitemporal view.
//!
//! Every row of the read model carries the log position of the event that recorded it, and no
//! value is lost when a later event supersedes it: most tables are only appended to, the few
//! that hold one row per key as last set (credit terms, customer records, collectors, payment
//! terms, thresholds, name keys) keep every value in a history table beside them
//! ([`crate::rows::RowSet::upsert_kept`]), and child rows are written with their parent's
//! event. So the read model as it stood at position P is the live one restricted to the rows
//! recorded at or before P, and a report as known then is the live query over that.
//!
//! How the restriction reaches the queries unchanged: a connection of its own, on which every
//! table is shadowed by a temporary view of the same name ([`views`]): both engines look a
//! name up in the connection's temporary schema before the database's, so the live query's
//! text reads the views. The checkpoints are capped at P and today's summaries shadowed empty,
//! which sends every report to its exact computation, as for any date other than today.
//!
//! Every table is covered: a projection's by its position, its history or its parent (a table
//! with none of them makes [`views`] fail, which the unit tests below catch), the summaries'
//! and the checkpoints by name; the tests that compare whole read models fail on a table that
//! is none of these.
//!
//! The moment becomes a position through the `moments` projection (`moments.rs`): the last
//! position before the first event recorded after the moment ([`position_at`]), so that what
//! is answered is a prefix of the log, as a reader of the log saw it then.

use chrono::{DateTime, Utc};
use receivables_domain::Position;

use crate::customers::{
    CUSTOMER_COLLECTORS, CUSTOMER_COLLECTORS_HISTORY, CUSTOMERS, CUSTOMERS_HISTORY,
    DEFAULT_COLLECTORS, DEFAULT_COLLECTORS_HISTORY,
};
use crate::database::{ReadPool, on_engine};
use crate::error::ProjectionError;
use crate::ledger::{
    ALERT_THRESHOLDS, ALERT_THRESHOLDS_HISTORY, CREDIT_TERMS, CREDIT_TERMS_HISTORY,
    INSTALMENT_PLAN_ROWS, INSTALMENT_PLANS, INVOICES, PAYMENT_TERMS, PAYMENT_TERMS_HISTORY,
    SCHEDULE_ROWS,
};
use crate::moments::stored_moment;
use crate::receipts::{CUSTOMER_NAME_KEYS, CUSTOMER_NAME_KEYS_HISTORY};
use crate::rows::Table;
use crate::runtime::PROJECTIONS;
use crate::{postgres, sqlite};

/// The tables holding one row per key as last set, each with the table keeping every value it
/// held (the same columns, keyed by the key and the position).
pub static KEPT: [(&Table, &Table); 7] = [
    (&CREDIT_TERMS, &CREDIT_TERMS_HISTORY),
    (&PAYMENT_TERMS, &PAYMENT_TERMS_HISTORY),
    (&ALERT_THRESHOLDS, &ALERT_THRESHOLDS_HISTORY),
    (&CUSTOMERS, &CUSTOMERS_HISTORY),
    (&CUSTOMER_COLLECTORS, &CUSTOMER_COLLECTORS_HISTORY),
    (&DEFAULT_COLLECTORS, &DEFAULT_COLLECTORS_HISTORY),
    (&CUSTOMER_NAME_KEYS, &CUSTOMER_NAME_KEYS_HISTORY),
];

/// Tables without a position whose rows are written by their parent's event: (table, parent,
/// the columns joining them).
pub static WITH_PARENT: [(&Table, &Table, &[&str]); 2] = [
    (
        &SCHEDULE_ROWS,
        &INVOICES,
        &["subsidiary_id", "invoice_number"],
    ),
    (&INSTALMENT_PLAN_ROWS, &INSTALMENT_PLANS, &["plan_id"]),
];

/// The checkpoints, which the queries read as the position they answer for: capped at P.
const CHECKPOINTS: &str = "projection_checkpoints";

/// Read only to decide whether a read model can answer as known at all ([`history_since`]).
pub const HISTORY_SINCE: &str = "known_history_since";

/// How a table is seen as known at a position.
#[derive(Debug, Clone, Copy)]
pub enum Shadow {
    /// Appended to, each row with the position that recorded it: the rows at or before P.
    Recorded,
    /// One row per key as last set: the newest row of its history at or before P.
    Latest { history: &'static Table },
    /// Rows written with their parent's: those whose parent was recorded at or before P.
    WithParent {
        parent: &'static Table,
        on: &'static [&'static str],
    },
}

/// How `table` (one of the projections') is seen as known at a position; `None` for a table
/// this module does not know, which [`views`] refuses.
pub fn shadow(table: &Table) -> Option<Shadow> {
    if let Some((_, history)) = KEPT.iter().find(|(live, _)| live.name == table.name) {
        return Some(Shadow::Latest { history });
    }
    if let Some((_, parent, on)) = WITH_PARENT
        .iter()
        .find(|(child, ..)| child.name == table.name)
    {
        return Some(Shadow::WithParent { parent, on });
    }
    table
        .columns
        .iter()
        .any(|(column, _)| *column == "position")
        .then_some(Shadow::Recorded)
}

/// The statements that shadow every table of the read model in `schema` (SQLite's `main`, a
/// PostgreSQL generation's schema) with a temporary view of the rows recorded at or before
/// `position`: run once on a connection of its own, they make every query on it answer as
/// known then.
pub fn views(schema: &str, position: Position) -> Result<String, ProjectionError> {
    let at = crate::checkpoint::stored(position)?;
    let mut statements = Vec::new();
    for projection in PROJECTIONS {
        for table in projection.tables() {
            let shadow = shadow(table).ok_or_else(|| ProjectionError::Rows {
                table: table.name,
                problem: "has no position, no history and no parent: it cannot be read as \
                          known at a position (known.rs)"
                    .to_owned(),
            })?;
            statements.push(view(schema, table, shadow, at));
        }
    }
    // Today's summaries hold the present only. The capped checkpoints already keep the queries
    // from them (they answer only at the checkpoint they were kept for); empty, no query can
    // read them by mistake.
    for table in crate::summaries::TABLES {
        statements.push(format!(
            "CREATE TEMPORARY VIEW {table} AS SELECT * FROM {schema}.{table} WHERE 1 = 0"
        ));
    }
    statements.push(format!(
        "CREATE TEMPORARY VIEW {CHECKPOINTS} AS SELECT projection, \
         CASE WHEN position > {at} THEN {at} ELSE position END AS position, updated_at \
         FROM {schema}.{CHECKPOINTS}"
    ));
    Ok(statements.join(";\n"))
}

/// The view of one projection's table.
fn view(schema: &str, table: &Table, shadow: Shadow, at: i64) -> String {
    let name = table.name;
    let select = match shadow {
        Shadow::Recorded => format!("SELECT * FROM {schema}.{name} WHERE position <= {at}"),
        Shadow::Latest { history } => {
            let columns: Vec<&str> = table.columns.iter().map(|(column, _)| *column).collect();
            let same_key: Vec<String> = table
                .key
                .split(',')
                .map(str::trim)
                .map(|column| format!("newer.{column} = kept.{column}"))
                .collect();
            format!(
                "SELECT {columns} FROM {schema}.{history} kept \
                 WHERE kept.position = (SELECT MAX(newer.position) FROM {schema}.{history} newer \
                 WHERE {same_key} AND newer.position <= {at})",
                columns = columns
                    .iter()
                    .map(|column| format!("kept.{column}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                history = history.name,
                same_key = same_key.join(" AND "),
            )
        }
        Shadow::WithParent { parent, on } => {
            let joined: Vec<String> = on
                .iter()
                .map(|column| format!("parent.{column} = child.{column}"))
                .collect();
            format!(
                "SELECT child.* FROM {schema}.{name} child WHERE EXISTS (SELECT 1 FROM \
                 {schema}.{parent} parent WHERE {joined} AND parent.position <= {at})",
                parent = parent.name,
                joined = joined.join(" AND "),
            )
        }
    };
    format!("CREATE TEMPORARY VIEW {name} AS {select}")
}

/// One connection that reads `read` (a live read model on either engine) as known at
/// `position`: every table shadowed by the rows recorded at or before it. For one call; close
/// it after.
pub async fn pool(read: &ReadPool, position: Position) -> Result<ReadPool, ProjectionError> {
    match read {
        ReadPool::Postgres(pool) => {
            // The generation's schema, which the pool's connections set as their search path.
            let schema: String = sqlx::query_scalar("SELECT current_schema()::TEXT")
                .fetch_one(pool)
                .await?;
            let schema = format!("\"{}\"", schema.replace('"', "\"\""));
            let statements = format!(
                "SET search_path TO {schema};\n{}",
                views(&schema, position)?
            );
            postgres::known_pool((*pool.connect_options()).clone(), statements)
                .await
                .map(ReadPool::Postgres)
        }
        ReadPool::Sqlite(pool) => {
            sqlite::known_pool((*pool.connect_options()).clone(), views("main", position)?)
                .await
                .map(ReadPool::Sqlite)
        }
    }
}

/// The last position known at `moment`: the one before the first event recorded after it, at
/// most `last` (the log's last position when the question was asked, which the read model has
/// applied). Every event up to it was recorded at or before `moment`.
pub async fn position_at(
    pool: &ReadPool,
    moment: DateTime<Utc>,
    last: Position,
) -> Result<Position, ProjectionError> {
    let Some(moment) = stored_moment(moment) else {
        // Past 2262: every event was recorded before it.
        return Ok(last);
    };
    let last_stored = crate::checkpoint::stored(last)?;
    let first_after: Option<i64> = on_engine!(pool, pool => {
        sqlx::query_scalar(
            "SELECT MIN(position) FROM event_moments
             WHERE recorded_at_ns > $1 AND position <= $2",
        )
        .bind(moment)
        .bind(last_stored)
        .fetch_one(pool)
        .await?
    });
    match first_after {
        None => Ok(last),
        Some(first) => crate::checkpoint::position(first.saturating_sub(1)),
    }
}

/// The first position a report can be answered as known at: 0 for a read model built with its
/// history, the highest checkpoint when it was migrated for one built before (whose superseded
/// values before then were not kept; a rebuild, `RebuildReadModel`, keeps them all).
pub async fn history_since(pool: &ReadPool) -> Result<Position, ProjectionError> {
    let since: Option<i64> = on_engine!(pool, pool => {
        sqlx::query_scalar(&format!("SELECT position FROM {HISTORY_SINCE} WHERE id = 1"))
            .fetch_optional(pool)
            .await?
    });
    crate::checkpoint::position(since.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_projection_table_is_seen_as_known_at_a_position() {
        for projection in PROJECTIONS {
            for table in projection.tables() {
                assert!(shadow(table).is_some(), "{} has no shadow", table.name);
            }
        }
        assert!(views("main", Position::new(7)).is_ok());
    }

    #[test]
    fn every_overwritten_table_keeps_its_history_with_its_own_columns() {
        for projection in PROJECTIONS {
            for table in projection.tables() {
                if table.on_conflict.is_some() {
                    assert!(
                        matches!(shadow(table), Some(Shadow::Latest { .. })),
                        "{} is overwritten and keeps no history",
                        table.name
                    );
                }
            }
        }
        for (live, history) in KEPT {
            let names = |table: &Table| {
                let mut names: Vec<&str> = table.columns.iter().map(|(name, _)| *name).collect();
                names.sort_unstable();
                names
            };
            assert_eq!(names(live), names(history), "{}", history.name);
            assert!(
                history.on_conflict.is_none(),
                "{} is appended",
                history.name
            );
        }
    }

    #[test]
    fn a_latest_view_takes_the_newest_row_of_its_key_at_or_before_the_position() {
        let sql = view(
            "main",
            &CUSTOMER_COLLECTORS,
            Shadow::Latest {
                history: &CUSTOMER_COLLECTORS_HISTORY,
            },
            42,
        );
        assert_eq!(
            sql,
            "CREATE TEMPORARY VIEW customer_collectors AS SELECT kept.customer_id, \
             kept.collector, kept.position FROM main.customer_collectors_history kept \
             WHERE kept.position = (SELECT MAX(newer.position) FROM \
             main.customer_collectors_history newer WHERE newer.customer_id = \
             kept.customer_id AND newer.position <= 42)"
        );
    }
}
