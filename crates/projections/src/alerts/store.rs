//! Where alerts are kept: beside the control table, numbered in the order recorded, with the
//! episodes of the conditions that last (see the module above).

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use receivables_domain::Position;
use receivables_domain::alerts::AlertKind;

use super::{ALERTS_PER_READ_MAX, Alert, Candidate, Pass};
use crate::database::{ReadPool, on_engine};
use crate::error::ProjectionError;

/// The alert-side tables, created with the control database's own statements.
const CREATE_TABLES: [&str; 4] = [
    "CREATE TABLE IF NOT EXISTS alerts (
         seq           BIGINT NOT NULL PRIMARY KEY CHECK (seq > 0),
         alert_id      TEXT   NOT NULL UNIQUE,
         kind          TEXT   NOT NULL,
         customer_id   TEXT   NOT NULL,
         subsidiary_id TEXT   NOT NULL,
         subject       TEXT   NOT NULL,
         raised_on     DATE   NOT NULL,
         position      BIGINT NOT NULL CHECK (position >= 0),
         detail        TEXT   NOT NULL,
         value         TEXT   NOT NULL,
         threshold     TEXT   NOT NULL
     )",
    "CREATE TABLE IF NOT EXISTS alert_conditions (
         condition_key TEXT   NOT NULL PRIMARY KEY,
         family        TEXT   NOT NULL,
         level         BIGINT NOT NULL,
         alert_id      TEXT   NOT NULL
     )",
    "CREATE TABLE IF NOT EXISTS alert_cursors (
         name  TEXT   NOT NULL PRIMARY KEY,
         value BIGINT NOT NULL
     )",
    "INSERT INTO alert_cursors (name, value) VALUES ('recording', 0)
     ON CONFLICT (name) DO NOTHING",
];

/// Taken first by every recording transaction: PostgreSQL locks the row, SQLite its one write
/// lock, so passes record one after the other.
const LOCK_RECORDING: &str = "UPDATE alert_cursors SET value = value + 1 WHERE name = 'recording'";

/// The cursor of the invoices over the limit already looked at: the highest position seen.
pub(super) const OVER_LIMIT_CURSOR: &str = "invoices_over_limit";

/// Moves a cursor on, never back: another read side on the database may have gone further.
const ADVANCE_CURSOR: &str = "INSERT INTO alert_cursors (name, value) VALUES ($1, $2)
     ON CONFLICT (name) DO UPDATE SET value = CASE
         WHEN alert_cursors.value > EXCLUDED.value THEN alert_cursors.value
         ELSE EXCLUDED.value END";

const SELECT_ALERTS: &str = "SELECT seq, alert_id, kind, customer_id, subsidiary_id, subject,
        raised_on, position, detail, value, threshold
 FROM alerts WHERE seq > $1 ORDER BY seq LIMIT $2";

/// Where alerts are kept: the control database.
#[derive(Debug, Clone)]
pub struct AlertStore {
    pool: ReadPool,
}

type AlertRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    NaiveDate,
    i64,
    String,
    String,
    String,
);

impl AlertStore {
    /// The store on `control` (`ReadStore::control_pool`), its tables created if missing.
    pub async fn open(control: ReadPool) -> Result<Self, ProjectionError> {
        for statement in CREATE_TABLES {
            on_engine!(&control, pool => sqlx::query(statement).execute(pool).await.map(|_| ()))?;
        }
        Ok(AlertStore { pool: control })
    }

    /// Up to `limit` alerts recorded after `after`, in order.
    pub async fn after(&self, after: u64, limit: u32) -> Result<Vec<Alert>, ProjectionError> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let limit = i64::from(limit.clamp(1, ALERTS_PER_READ_MAX));
        let rows: Vec<AlertRow> = on_engine!(&self.pool, pool => {
            sqlx::query_as(SELECT_ALERTS).bind(after).bind(limit).fetch_all(pool).await
        })?;
        rows.into_iter().map(alert).collect()
    }

    /// The number of the last alert recorded (0: none).
    pub async fn last_seq(&self) -> Result<u64, ProjectionError> {
        const LAST: &str = "SELECT CAST(COALESCE(MAX(seq), 0) AS BIGINT) FROM alerts";
        let (last,): (i64,) =
            on_engine!(&self.pool, pool => sqlx::query_as(LAST).fetch_one(pool).await)?;
        u64::try_from(last).map_err(|_| ProjectionError::Stored(format!("alert seq {last}")))
    }

    /// A cursor's value (0 when never set).
    pub async fn cursor(&self, name: &str) -> Result<u64, ProjectionError> {
        const SELECT: &str = "SELECT value FROM alert_cursors WHERE name = $1";
        let row: Option<(i64,)> = on_engine!(&self.pool, pool => {
            sqlx::query_as(SELECT).bind(name).fetch_optional(pool).await
        })?;
        Ok(row.map_or(0, |(value,)| u64::try_from(value).unwrap_or(0)))
    }

    /// Moves a cursor on to `value` (a publisher's last alert sent), never back.
    pub async fn advance_cursor(&self, name: &str, value: u64) -> Result<(), ProjectionError> {
        let value = i64::try_from(value).unwrap_or(i64::MAX);
        on_engine!(&self.pool, pool => {
            sqlx::query(ADVANCE_CURSOR).bind(name).bind(value).execute(pool).await.map(|_| ())
        })?;
        Ok(())
    }

    /// Records what `pass` found that is new, in one transaction, and returns it numbered.
    pub async fn record(&self, pass: &Pass) -> Result<Vec<Alert>, ProjectionError> {
        // A pass that found nothing and ends no condition writes nothing: passes of events
        // follow every batch, and most find nothing.
        if pass.candidates.is_empty()
            && pass.families.is_empty()
            && pass.over_limit_through.is_none()
        {
            return Ok(Vec::new());
        }
        on_engine!(&self.pool, pool => {
            let mut transaction = pool.begin().await?;
            sqlx::query(LOCK_RECORDING).execute(&mut *transaction).await?;
            let (last,): (i64,) = sqlx::query_as(
                "SELECT CAST(COALESCE(MAX(seq), 0) AS BIGINT) FROM alerts",
            )
            .fetch_one(&mut *transaction)
            .await?;
            let held: Vec<(String, String, i64)> =
                sqlx::query_as("SELECT condition_key, family, level FROM alert_conditions")
                    .fetch_all(&mut *transaction)
                    .await?;
            let plan = plan(pass, &held);
            for key in &plan.dropped {
                sqlx::query("DELETE FROM alert_conditions WHERE condition_key = $1")
                    .bind(key)
                    .execute(&mut *transaction)
                    .await?;
            }
            let mut recorded: Vec<Alert> = Vec::new();
            for candidate in plan.raised {
                // Numbered as inserted: an id recorded before (a condition that ended and came
                // back on the same day) is skipped without leaving a gap that a client resuming
                // would wait on.
                let seq = u64::try_from(last).unwrap_or(0) + recorded.len() as u64 + 1;
                let alert = candidate.alert(seq, pass);
                let inserted = sqlx::query(
                    "INSERT INTO alerts (seq, alert_id, kind, customer_id, subsidiary_id,
                         subject, raised_on, position, detail, value, threshold)
                     SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11
                     WHERE NOT EXISTS (SELECT 1 FROM alerts WHERE alert_id = $2)",
                )
                .bind(i64::try_from(alert.seq).unwrap_or(i64::MAX))
                .bind(&alert.id)
                .bind(alert.kind.name())
                .bind(&alert.customer)
                .bind(alert.subsidiary.as_deref().unwrap_or(""))
                .bind(&alert.subject)
                .bind(alert.raised_on)
                .bind(i64::try_from(alert.position.get()).unwrap_or(i64::MAX))
                .bind(&alert.detail)
                .bind(&alert.value)
                .bind(&alert.threshold)
                .execute(&mut *transaction)
                .await?
                .rows_affected();
                if let Some(condition) = &candidate.condition {
                    sqlx::query(
                        "INSERT INTO alert_conditions (condition_key, family, level, alert_id)
                         VALUES ($1, $2, $3, $4)
                         ON CONFLICT (condition_key) DO UPDATE SET level = EXCLUDED.level,
                             alert_id = EXCLUDED.alert_id",
                    )
                    .bind(&condition.key)
                    .bind(condition.family)
                    .bind(condition.level)
                    .bind(&alert.id)
                    .execute(&mut *transaction)
                    .await?;
                }
                if inserted == 1 {
                    recorded.push(alert);
                }
            }
            if let Some(through) = pass.over_limit_through {
                sqlx::query(ADVANCE_CURSOR)
                .bind(OVER_LIMIT_CURSOR)
                .bind(i64::try_from(through.get()).unwrap_or(i64::MAX))
                .execute(&mut *transaction)
                .await?;
            }
            transaction.commit().await?;
            Ok(recorded)
        })
    }
}

/// What recording a pass changes: the conditions that ended, the candidates to raise.
struct Plan<'a> {
    dropped: Vec<String>,
    raised: Vec<&'a Candidate>,
}

/// Decides, from the conditions held, which of the pass's candidates are new: a one-off alert
/// always is (its insert skips an id already recorded); an episode's only when its condition is
/// not held, or held at a lower level. Conditions of the families the pass looked at and no
/// longer found are dropped.
fn plan<'a>(pass: &'a Pass, held: &[(String, String, i64)]) -> Plan<'a> {
    let held_levels: HashMap<&str, i64> = held
        .iter()
        .map(|(key, _, level)| (key.as_str(), *level))
        .collect();
    let found: BTreeSet<&str> = pass
        .candidates
        .iter()
        .filter_map(|candidate| candidate.condition.as_ref().map(|c| c.key.as_str()))
        .collect();
    let dropped = held
        .iter()
        .filter(|(key, family, _)| {
            pass.families.contains(family.as_str()) && !found.contains(key.as_str())
        })
        .map(|(key, _, _)| key.clone())
        .collect();
    let raised = pass
        .candidates
        .iter()
        .filter(|candidate| {
            candidate.condition.as_ref().is_none_or(|condition| {
                held_levels
                    .get(condition.key.as_str())
                    .is_none_or(|level| *level < condition.level)
            })
        })
        .collect();
    Plan { dropped, raised }
}

fn alert(row: AlertRow) -> Result<Alert, ProjectionError> {
    let (
        seq,
        id,
        kind,
        customer,
        subsidiary,
        subject,
        raised_on,
        position,
        detail,
        value,
        threshold,
    ) = row;
    Ok(Alert {
        seq: u64::try_from(seq).map_err(|_| ProjectionError::Stored(format!("alert seq {seq}")))?,
        kind: AlertKind::parse(&kind)
            .ok_or_else(|| ProjectionError::Stored(format!("alert kind {kind:?}")))?,
        id,
        customer,
        subsidiary: (!subsidiary.is_empty()).then_some(subsidiary),
        subject,
        raised_on,
        position: Position::new(
            u64::try_from(position)
                .map_err(|_| ProjectionError::Stored(format!("alert position {position}")))?,
        ),
        detail,
        value,
        threshold,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use receivables_domain::testing::date;

    fn pass(candidates: Vec<Candidate>, families: &[&'static str]) -> Pass {
        Pass {
            business_date: date("2026-11-02"),
            position: Position::new(40),
            candidates,
            families: families.iter().copied().collect(),
            over_limit_through: None,
        }
    }

    fn aged(customer: &str, from_days: i64) -> Candidate {
        Candidate::new(
            AlertKind::aged(u32::try_from(from_days).unwrap()).unwrap(),
            customer,
            format!("entered {from_days}"),
            String::new(),
        )
        .episode(format!("aged/{customer}"), "aged", from_days)
    }

    #[test]
    fn an_episode_raises_once_per_worse_bucket_and_ends_when_not_found() {
        // Given C-1 held at 31-60 and C-2 at 61-90
        let held = vec![
            ("aged/C-1".to_owned(), "aged".to_owned(), 31),
            ("aged/C-2".to_owned(), "aged".to_owned(), 61),
        ];
        // When C-1 is found at 61-90, C-2 back at 31-60, and C-3 at 31-60 for the first time
        let found = pass(
            vec![aged("C-1", 61), aged("C-2", 31), aged("C-3", 31)],
            &["aged"],
        );
        let plan = plan(&found, &held);
        // Then C-1's and C-3's alerts are raised, and nothing ends
        let raised: Vec<String> = plan.raised.iter().map(|c| c.id()).collect();
        assert_eq!(
            raised,
            ["aged_61_90/C-1/entered 61", "aged_31_60/C-3/entered 31"]
        );
        assert!(plan.dropped.is_empty());
        // And a pass that no longer finds C-2 ends its episode
        let later = pass(vec![aged("C-1", 61)], &["aged"]);
        let plan = super::plan(&later, &held);
        assert_eq!(plan.dropped, ["aged/C-2"]);
    }

    #[test]
    fn a_pass_leaves_the_families_it_did_not_look_at_alone() {
        let held = vec![(
            "overdue_rate/_group/CNY".to_owned(),
            "overdue_rate".to_owned(),
            0,
        )];
        let looked = pass(Vec::new(), &["aged", "utilisation"]);
        assert!(plan(&looked, &held).dropped.is_empty());
        let looked = pass(Vec::new(), &["overdue_rate"]);
        let plan = super::plan(&looked, &held);
        assert_eq!(plan.dropped, ["overdue_rate/_group/CNY"]);
    }

    #[test]
    fn what_happens_once_is_held_under_its_id_and_not_raised_again_while_found() {
        let broken = || {
            Candidate::new(
                AlertKind::PromiseBroken,
                "C-1",
                "P-1".to_owned(),
                String::new(),
            )
            .held()
        };
        // Given nothing held, the broken promise is raised and held under its id
        let found = pass(vec![broken()], &["promise_broken"]);
        let first = plan(&found, &[]);
        assert_eq!(first.raised.len(), 1);
        let condition = first.raised[0].condition.as_ref().unwrap();
        assert_eq!(condition.key, "promise_broken/C-1/P-1");
        // When the next pass finds it again, it is not raised again and stays held
        let held = vec![(condition.key.clone(), "promise_broken".to_owned(), 0)];
        let again = plan(&found, &held);
        assert!(again.raised.is_empty());
        assert!(again.dropped.is_empty());
    }

    #[test]
    fn a_one_off_alert_takes_the_passs_position_unless_an_event_raised_it() {
        let mut over = Candidate::new(
            AlertKind::InvoiceOverLimit,
            "C-1",
            "S1/INV-1".to_owned(),
            String::new(),
        );
        over.position = Some(Position::new(12));
        let broken = Candidate::new(
            AlertKind::PromiseBroken,
            "C-1",
            "P-1".to_owned(),
            String::new(),
        );
        let found = pass(vec![over, broken], &[]);
        let positions: Vec<u64> = plan(&found, &[])
            .raised
            .iter()
            .enumerate()
            .map(|(index, candidate)| candidate.alert(index as u64 + 1, &found).position.get())
            .collect();
        assert_eq!(positions, [12, 40]);
    }
}
