//! The allowance for doubtful accounts by aging (坏账准备, 账龄分析法) as of a date: the aging by
//! payment terms of the group, a subsidiary or a customer, per currency, each bucket provided
//! for at its loss rate (`receivables_domain::metrics::allowance`: the arithmetic, its rounding
//! and the entry that brings the allowance account to the required balance).
//!
//! The buckets are the aging's default ones (current, 1-30, 31-60, 61-90, 91-120, over 120 days
//! past due), one loss rate each. The allowance account's balance before the entry is the
//! caller's (the general ledger keeps it), per currency; none is a zero balance.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use receivables_domain::metrics::{Allowance, AllowanceError, AllowanceLine, allowance};
use receivables_domain::{Currency, CustomerId, SubsidiaryId};
use rust_decimal::Decimal;

use crate::aging::{AgingRequest, Basis, DEFAULT_EDGES_DAYS, GroupBy, report};
use crate::database::ReadPool;
use crate::error::ProjectionError;

/// The buckets a loss rate is given for, in order.
pub const BUCKETS: [&str; DEFAULT_EDGES_DAYS.len() + 2] =
    ["current", "1-30", "31-60", "61-90", "91-120", "over 120"];

/// A validated allowance request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowanceQuery {
    pub as_of: NaiveDate,
    pub subsidiary: Option<SubsidiaryId>,
    pub customer: Option<CustomerId>,
    /// The loss rate of each of [`BUCKETS`], in percent.
    pub loss_rates: [Decimal; BUCKETS.len()],
    /// The allowance account's balance before the entry, per currency (credit positive).
    pub balances: BTreeMap<Currency, Decimal>,
}

/// One currency's allowance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrencyAllowance {
    pub currency: Currency,
    pub allowance: Allowance,
}

/// Why an allowance could not be worked out.
#[derive(Debug, thiserror::Error)]
pub enum AllowanceFailure {
    #[error(transparent)]
    ReadModel(#[from] ProjectionError),
    /// A loss rate or a balance the arithmetic refuses (every one named).
    #[error("{currency}: {error}")]
    Refused {
        currency: Currency,
        error: AllowanceError,
    },
}

/// The allowance per currency that `query` asks for; a currency with an allowance balance but
/// nothing open comes out too (its whole balance released).
pub async fn allowances(
    pool: &ReadPool,
    query: &AllowanceQuery,
) -> Result<Vec<CurrencyAllowance>, AllowanceFailure> {
    let mut request = AgingRequest::new(query.as_of);
    request.basis = Basis::PaymentTerms;
    request.group_by = GroupBy::Group;
    request.subsidiary = query.subsidiary.clone();
    request.customer = query.customer.clone();
    let mut buckets: BTreeMap<Currency, Vec<Decimal>> = BTreeMap::new();
    for line in report(pool, &request).await? {
        buckets.insert(
            line.currency,
            line.buckets.iter().map(|bucket| bucket.amount()).collect(),
        );
    }
    for currency in query.balances.keys() {
        buckets
            .entry(*currency)
            .or_insert_with(|| vec![Decimal::ZERO; BUCKETS.len()]);
    }
    buckets
        .into_iter()
        .map(|(currency, balances)| {
            let lines: Vec<AllowanceLine> = BUCKETS
                .iter()
                .zip(balances)
                .zip(query.loss_rates)
                .map(|((bucket, balance), rate)| AllowanceLine {
                    bucket: (*bucket).to_owned(),
                    balance,
                    loss_rate_percent: rate,
                })
                .collect();
            let balance = query
                .balances
                .get(&currency)
                .copied()
                .unwrap_or(Decimal::ZERO);
            allowance(&lines, currency.minor_units(), balance)
                .map(|allowance| CurrencyAllowance {
                    currency,
                    allowance,
                })
                .map_err(|error| AllowanceFailure::Refused { currency, error })
        })
        .collect()
}
