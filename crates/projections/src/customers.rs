//! The customers projection: each registered customer's record as it now stands, the collector
//! assigned to each customer and each subsidiary's default collector (migration
//! `0006_customers.sql`). The reports name customers from it (`names`), the work queue takes
//! its collectors from it, and the customer search reads it (`customer_search.rs`).
//!
//! It is a projection of its own, apart from the ledger: who a customer is and who chases it
//! say nothing of what it owes, and a read model of names can be rebuilt without the ledger.

use std::collections::HashMap;

use receivables_domain::customer::CustomerProfile;
use receivables_domain::ids::PersonName;
use receivables_domain::{CustomerId, Event, EventType, RecordedEvent};

use crate::database::{ReadPool, on_engine};
use crate::error::ProjectionError;
use crate::projection::{Projection, stored_position};
use crate::rows::{ColumnType as T, RowSet, Table};
use crate::stored;

/// The projection's name, as its checkpoint is stored.
pub const NAME: &str = "customers";

const CUSTOMER_COLUMNS: &[(&str, T)] = &[
    ("customer_id", T::Text),
    ("name", T::Text),
    ("legal_name", T::Text),
    ("tax_id", T::Text),
    ("country", T::Text),
    ("industry", T::Text),
    ("notes", T::Text),
    ("contacts", T::Text),
    ("search_text", T::Text),
    ("position", T::BigInt),
];

const COLLECTOR_COLUMNS: &[(&str, T)] = &[
    ("customer_id", T::Text),
    ("collector", T::Text),
    ("position", T::BigInt),
];

const DEFAULT_COLLECTOR_COLUMNS: &[(&str, T)] = &[
    ("subsidiary_id", T::Text),
    ("collector", T::Text),
    ("position", T::BigInt),
];

pub static CUSTOMERS: Table = Table {
    name: "customers",
    key: "customer_id",
    columns: CUSTOMER_COLUMNS,
    on_conflict: Some(
        "ON CONFLICT (customer_id) DO UPDATE SET name = EXCLUDED.name,
             legal_name = EXCLUDED.legal_name, tax_id = EXCLUDED.tax_id,
             country = EXCLUDED.country, industry = EXCLUDED.industry, notes = EXCLUDED.notes,
             contacts = EXCLUDED.contacts, search_text = EXCLUDED.search_text,
             position = EXCLUDED.position",
    ),
};

pub static CUSTOMER_COLLECTORS: Table = Table {
    name: "customer_collectors",
    key: "customer_id",
    columns: COLLECTOR_COLUMNS,
    on_conflict: Some(
        "ON CONFLICT (customer_id) DO UPDATE SET collector = EXCLUDED.collector,
             position = EXCLUDED.position",
    ),
};

pub static DEFAULT_COLLECTORS: Table = Table {
    name: "default_collectors",
    key: "subsidiary_id",
    columns: DEFAULT_COLLECTOR_COLUMNS,
    on_conflict: Some(
        "ON CONFLICT (subsidiary_id) DO UPDATE SET collector = EXCLUDED.collector,
             position = EXCLUDED.position",
    ),
};

/// Every record each customer had, a row per event (`known.rs`).
pub static CUSTOMERS_HISTORY: Table = Table {
    name: "customers_history",
    key: "customer_id, position",
    columns: CUSTOMER_COLUMNS,
    on_conflict: None,
};

/// Every collector each customer had.
pub static CUSTOMER_COLLECTORS_HISTORY: Table = Table {
    name: "customer_collectors_history",
    key: "customer_id, position",
    columns: COLLECTOR_COLUMNS,
    on_conflict: None,
};

/// Every default collector each subsidiary had.
pub static DEFAULT_COLLECTORS_HISTORY: Table = Table {
    name: "default_collectors_history",
    key: "subsidiary_id, position",
    columns: DEFAULT_COLLECTOR_COLUMNS,
    on_conflict: None,
};

static TABLES: [&Table; 6] = [
    &CUSTOMERS,
    &CUSTOMER_COLLECTORS,
    &DEFAULT_COLLECTORS,
    &CUSTOMERS_HISTORY,
    &CUSTOMER_COLLECTORS_HISTORY,
    &DEFAULT_COLLECTORS_HISTORY,
];

/// What the search by name compares with: the name and the legal name, lower-cased here rather
/// than in SQL, so that both engines fold every script alike (SQLite's `lower` folds ASCII only).
pub fn search_text(name: &str, legal_name: &str) -> String {
    format!("{}\n{}", name.to_lowercase(), legal_name.to_lowercase())
}

/// The customers projection.
pub struct Customers;

impl Customers {
    fn record(
        recorded: &RecordedEvent,
        profile: &CustomerProfile,
        rows: &mut RowSet,
    ) -> Result<(), ProjectionError> {
        let customer = recorded.envelope.customer_id.to_string();
        let contacts =
            serde_json::to_string(&profile.contacts).map_err(|e| ProjectionError::Event {
                position: recorded.position,
                problem: format!("contacts: {e}"),
            })?;
        rows.upsert_kept(
            &CUSTOMERS,
            &CUSTOMERS_HISTORY,
            customer.clone(),
            [
                customer.into(),
                profile.name.as_str().into(),
                profile.legal_name.as_str().into(),
                profile.tax_id.as_str().into(),
                profile.country.as_ref().map_or("", |c| c.as_str()).into(),
                profile.industry.as_str().into(),
                profile.notes.as_str().into(),
                contacts.into(),
                search_text(&profile.name, &profile.legal_name).into(),
                stored_position(recorded)?.into(),
            ],
        )
    }
}

impl Projection for Customers {
    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> &'static [&'static Table] {
        &TABLES
    }

    fn reads(&self, event_type: EventType) -> bool {
        matches!(
            event_type,
            EventType::CustomerRegistered
                | EventType::CustomerUpdated
                | EventType::CollectorAssigned
        )
    }

    fn add(&self, recorded: &RecordedEvent, rows: &mut RowSet) -> Result<(), ProjectionError> {
        match &recorded.envelope.event {
            Event::CustomerRegistered(e) => Self::record(recorded, &e.profile, rows),
            Event::CustomerUpdated(e) => Self::record(recorded, &e.profile, rows),
            Event::CollectorAssigned(e) => {
                let collector = e.collector.as_ref().map_or("", |c| c.as_str());
                match &e.default_for {
                    None => {
                        let customer = recorded.envelope.customer_id.to_string();
                        rows.upsert_kept(
                            &CUSTOMER_COLLECTORS,
                            &CUSTOMER_COLLECTORS_HISTORY,
                            customer.clone(),
                            [
                                customer.into(),
                                collector.into(),
                                stored_position(recorded)?.into(),
                            ],
                        )
                    }
                    Some(subsidiary) => rows.upsert_kept(
                        &DEFAULT_COLLECTORS,
                        &DEFAULT_COLLECTORS_HISTORY,
                        subsidiary.to_string(),
                        [
                            subsidiary.to_string().into(),
                            collector.into(),
                            stored_position(recorded)?.into(),
                        ],
                    ),
                }
            }
            _ => Ok(()),
        }
    }
}

/// Most customers whose names one call looks up: a page of a report at most.
pub const NAMES_PER_LOOKUP_MAX: usize = 500;

/// The names of those of `customers` that are registered, looked up in chunks of
/// [`NAMES_PER_LOOKUP_MAX`]. Reports show a customer by id and, once registered, by name.
pub async fn names(
    pool: &ReadPool,
    customers: &[&CustomerId],
) -> Result<HashMap<String, String>, ProjectionError> {
    let mut names = HashMap::new();
    let mut ids: Vec<&str> = customers.iter().map(|c| c.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    for chunk in ids.chunks(NAMES_PER_LOOKUP_MAX) {
        let placeholders = (1..=chunk.len())
            .map(|n| format!("${n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT customer_id, name FROM customers WHERE customer_id IN ({placeholders})"
        );
        let found: Vec<(String, String)> = on_engine!(pool, pool => {
            let mut query = sqlx::query_as(&sql);
            for id in chunk {
                query = query.bind(*id);
            }
            query.fetch_all(pool).await
        })?;
        names.extend(found);
    }
    Ok(names)
}

/// Today's collector assignments: the collector assigned to each customer, and each
/// subsidiary's default collector (removed assignments left out).
pub(crate) struct Assignments {
    /// Customer id to the collector assigned to it.
    pub(crate) customers: HashMap<String, PersonName>,
    /// Subsidiary id to its default collector.
    pub(crate) defaults: HashMap<String, PersonName>,
}

impl Assignments {
    pub(crate) async fn load(pool: &ReadPool) -> Result<Assignments, ProjectionError> {
        let read =
            |rows: Vec<(String, String)>| -> Result<HashMap<String, PersonName>, ProjectionError> {
                rows.into_iter()
                    .map(|(key, name)| Ok((key, stored::person(&name)?)))
                    .collect()
            };
        let customers: Vec<(String, String)> = on_engine!(pool, pool => sqlx::query_as(
            "SELECT customer_id, collector FROM customer_collectors WHERE collector <> ''",
        )
        .fetch_all(pool).await)?;
        let defaults: Vec<(String, String)> = on_engine!(pool, pool => sqlx::query_as(
            "SELECT subsidiary_id, collector FROM default_collectors WHERE collector <> ''",
        )
        .fetch_all(pool).await)?;
        Ok(Assignments {
            customers: read(customers)?,
            defaults: read(defaults)?,
        })
    }

    /// Who chases what `customer` owes `subsidiary`: the customer's collector, else the
    /// subsidiary's default ([`chaser`] says the same in SQL).
    pub(crate) fn chaser(&self, customer: &str, subsidiary: &str) -> Option<&PersonName> {
        self.customers
            .get(customer)
            .or_else(|| self.defaults.get(subsidiary))
    }
}

/// SQL: who chases the row `alias` (with `customer_id` and `subsidiary_id` columns) as
/// [`Assignments::chaser`] says it; `NULL` when nobody does.
pub(crate) fn chaser(alias: &str) -> String {
    format!(
        "COALESCE(
             (SELECT cc.collector FROM customer_collectors cc
              WHERE cc.customer_id = {alias}.customer_id AND cc.collector <> ''),
             (SELECT dc.collector FROM default_collectors dc
              WHERE dc.subsidiary_id = {alias}.subsidiary_id AND dc.collector <> ''))"
    )
}
