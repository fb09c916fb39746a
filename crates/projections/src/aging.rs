//! Aging: open receivables as of a business date, in buckets of days past due (or since the
//! invoice date), grouped by customer, subsidiary or the whole group, per currency, with
//! unapplied cash in its own column.
//!
//! "As of" is a business date: invoices issued after it are left out, and payments received
//! after it do not reduce the open amounts, so the aging of a past month-end is what it was then.
//! The database sums open amounts per group, currency and reference date; the buckets are cut in
//! Rust from the bucket edges, so the SQL is the same for every edge configuration.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use receivables_domain::{Currency, CustomerId, Money, SubsidiaryId};
use sqlx::PgPool;

use crate::ProjectionError;
use crate::minor_units::from_minor;

/// Default bucket edges in days: current, 1-30, 31-60, 61-90, 91-120, over 120.
pub const DEFAULT_EDGES_DAYS: [u32; 4] = [30, 60, 90, 120];

/// Most bucket edges a report may ask for.
pub const EDGES_MAX: usize = 12;

/// What an item's age is counted from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    DueDate,
    InvoiceDate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Customer,
    Subsidiary,
    Group,
}

/// Why an aging request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgingRequestError {
    #[error("bucket edges must be strictly increasing positive day counts, got {0:?}")]
    Edges(Vec<u32>),
    #[error("at most {EDGES_MAX} bucket edges, got {0}")]
    TooManyEdges(usize),
}

/// A validated aging request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgingRequest {
    pub as_of: NaiveDate,
    pub basis: Basis,
    edges_days: Vec<u32>,
    pub group_by: GroupBy,
    pub subsidiary: Option<SubsidiaryId>,
    pub customer: Option<CustomerId>,
    pub currency: Option<Currency>,
}

impl AgingRequest {
    /// A request with the default edges, grouped by customer, unfiltered.
    pub fn new(as_of: NaiveDate) -> Self {
        AgingRequest {
            as_of,
            basis: Basis::DueDate,
            edges_days: DEFAULT_EDGES_DAYS.to_vec(),
            group_by: GroupBy::Customer,
            subsidiary: None,
            customer: None,
            currency: None,
        }
    }

    /// Sets the bucket edges: strictly increasing, positive.
    pub fn with_edges(mut self, edges_days: Vec<u32>) -> Result<Self, AgingRequestError> {
        if edges_days.len() > EDGES_MAX {
            return Err(AgingRequestError::TooManyEdges(edges_days.len()));
        }
        let increasing = edges_days.windows(2).all(|pair| pair[0] < pair[1]);
        if edges_days.is_empty() || edges_days[0] == 0 || !increasing {
            return Err(AgingRequestError::Edges(edges_days));
        }
        self.edges_days = edges_days;
        Ok(self)
    }

    pub fn edges_days(&self) -> &[u32] {
        &self.edges_days
    }

    /// The bucket of an item `days` old: 0 is current (not yet due), then one per edge, then
    /// "over the last edge".
    pub fn bucket(&self, days: i64) -> usize {
        if days <= 0 {
            return 0;
        }
        self.edges_days
            .iter()
            .position(|edge| days <= i64::from(*edge))
            .map_or(self.edges_days.len() + 1, |index| index + 1)
    }
}

/// One line of the report: a group in a currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgingLine {
    pub group: String,
    pub currency: Currency,
    /// Open amounts per bucket: current, then one per edge, then over the last edge.
    pub buckets: Vec<Money>,
    pub open_total: Money,
    pub unapplied: Money,
}

/// The aging report, lines ordered by group and currency.
pub async fn report(
    pool: &PgPool,
    request: &AgingRequest,
) -> Result<Vec<AgingLine>, ProjectionError> {
    // The group column of an invoice, and of a payment (unapplied cash belongs to the customer
    // and to the subsidiary that received it).
    let (invoice_group, payment_group) = match request.group_by {
        GroupBy::Customer => ("i.customer_id", "customer_id"),
        GroupBy::Subsidiary => ("i.subsidiary_id", "subsidiary_id"),
        GroupBy::Group => ("'GROUP'", "'GROUP'"),
    };
    let reference = match request.basis {
        Basis::DueDate => "i.due_date",
        Basis::InvoiceDate => "i.issue_date",
    };
    let open_sql = format!(
        "SELECT {group}::TEXT, i.currency, {reference},
                SUM(i.amount_minor - COALESCE(a.applied, 0))::BIGINT
         FROM invoices i
         LEFT JOIN (SELECT subsidiary_id, invoice_number, SUM(amount_minor) AS applied
                    FROM allocations WHERE received_date <= $1
                    GROUP BY subsidiary_id, invoice_number) a
           USING (subsidiary_id, invoice_number)
         WHERE i.issue_date <= $1
           AND ($2::TEXT IS NULL OR i.subsidiary_id = $2)
           AND ($3::TEXT IS NULL OR i.customer_id = $3)
           AND ($4::TEXT IS NULL OR i.currency = $4)
         GROUP BY 1, 2, 3
         HAVING SUM(i.amount_minor - COALESCE(a.applied, 0)) <> 0",
        group = invoice_group,
    );
    let subsidiary = request.subsidiary.as_ref().map(SubsidiaryId::as_str);
    let customer = request.customer.as_ref().map(CustomerId::as_str);
    let currency = request.currency.map(Currency::code);
    let open: Vec<(String, String, NaiveDate, i64)> = sqlx::query_as(&open_sql)
        .bind(request.as_of)
        .bind(subsidiary)
        .bind(customer)
        .bind(currency)
        .fetch_all(pool)
        .await?;
    let unapplied_sql = format!(
        "SELECT {group}::TEXT, currency, SUM(unapplied_minor)::BIGINT
         FROM payments
         WHERE received_date <= $1
           AND ($2::TEXT IS NULL OR subsidiary_id = $2)
           AND ($3::TEXT IS NULL OR customer_id = $3)
           AND ($4::TEXT IS NULL OR currency = $4)
         GROUP BY 1, 2
         HAVING SUM(unapplied_minor) <> 0",
        group = payment_group,
    );
    let unapplied: Vec<(String, String, i64)> = sqlx::query_as(&unapplied_sql)
        .bind(request.as_of)
        .bind(subsidiary)
        .bind(customer)
        .bind(currency)
        .fetch_all(pool)
        .await?;

    let bucket_count = request.edges_days.len() + 2;
    let mut lines: BTreeMap<(String, String), (Vec<i64>, i64)> = BTreeMap::new();
    for (group, currency, reference_date, open_minor) in open {
        let days = (request.as_of - reference_date).num_days();
        let line = lines
            .entry((group, currency))
            .or_insert_with(|| (vec![0; bucket_count], 0));
        line.0[request.bucket(days)] += open_minor;
    }
    for (group, currency, unapplied_minor) in unapplied {
        lines
            .entry((group, currency))
            .or_insert_with(|| (vec![0; bucket_count], 0))
            .1 += unapplied_minor;
    }
    lines
        .into_iter()
        .map(|((group, code), (buckets, unapplied))| {
            let currency = Currency::parse(&code)
                .map_err(|e| ProjectionError::Stored(format!("currency {code}: {e}")))?;
            Ok(AgingLine {
                group,
                currency,
                open_total: from_minor(buckets.iter().sum(), currency),
                buckets: buckets
                    .into_iter()
                    .map(|b| from_minor(b, currency))
                    .collect(),
                unapplied: from_minor(unapplied, currency),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> AgingRequest {
        AgingRequest::new(NaiveDate::from_ymd_opt(2026, 6, 30).unwrap())
    }

    #[test]
    fn buckets_follow_the_edges() {
        let r = request();
        assert_eq!(r.bucket(-5), 0);
        assert_eq!(r.bucket(0), 0);
        assert_eq!(r.bucket(1), 1);
        assert_eq!(r.bucket(30), 1);
        assert_eq!(r.bucket(31), 2);
        assert_eq!(r.bucket(90), 3);
        assert_eq!(r.bucket(120), 4);
        assert_eq!(r.bucket(121), 5);
    }

    #[test]
    fn edges_must_increase() {
        assert!(request().with_edges(vec![30, 30]).is_err());
        assert!(request().with_edges(vec![60, 30]).is_err());
        assert!(request().with_edges(vec![0, 30]).is_err());
        assert!(request().with_edges(vec![]).is_err());
        assert!(request().with_edges((1..=13).collect()).is_err());
        let r = request().with_edges(vec![15, 45]).unwrap();
        assert_eq!(r.bucket(16), 2);
        assert_eq!(r.bucket(46), 3);
    }
}
