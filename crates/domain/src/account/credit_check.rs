//! The credit check of a new commitment — an invoice, or credit reserved for an order — and the
//! answer to "would this amount fit now?" (`CheckCredit`), which runs the same check without
//! appending anything.
//!
//! Exposure is open invoices less unapplied cash and credit, plus the credit reserved for
//! orders that has not expired before the decision's date (`credit_reservation.rs`), across
//! every subsidiary. One limit covers every currency: each other currency's exposure counts
//! converted into the limit's at the cross rate of the decision's date (`exchange.rs`), each
//! currency's part rounded to the limit's minor units. Without a rate for a currency with
//! exposure the exposure cannot be measured and the commitment is refused under either policy
//! (`EXCHANGE_RATE_MISSING`); without a limit no rate is needed.
//!
//! The check runs in this order:
//! 1. the **overdue hold**, when the credit terms set one: while the customer owes anything
//!    collectible more than the hold's days overdue on the decision's date (disputed amounts
//!    held back), the commitment is refused (`CUSTOMER_OVERDUE`) with each currency's overdue
//!    amount and the oldest row's days in the details;
//! 2. the **limit**: under policy `block` a commitment that takes exposure above the limit is
//!    refused with the limit, the exposure and the shortfall; under `warn` it is accepted and
//!    flagged. A commitment that adds nothing to the exposure (an invoice wholly inside the
//!    reservation it consumes) passes the limit: its credit was checked when it was reserved.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::state::AccountState;
use crate::credit::{CreditCheck, CreditPolicy, CreditTerms};
use crate::exchange::{ExchangeRates, MissingRate, Rate, convert_at};
use crate::money::{self, Currency, Money};
use crate::refusal::{PreconditionViolation, Reason, Refusal};

/// The credit check a commitment went through, as decided when it was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditCheckRecord {
    pub limit: Money,
    pub policy: CreditPolicy,
    /// Exposure in the limit's currency after the commitment: a sum over the customer's
    /// documents, which may be negative or larger than any one amount.
    #[serde(with = "money::derived")]
    pub exposure_after: Money,
    /// The invoice is in another currency than the limit, so it could not be checked (events
    /// recorded before exposure was converted; false since).
    pub currency_mismatch: bool,
    /// The exposure in each currency other than the limit's after the commitment, with the
    /// cross rate and the converted amount counted in `exposure_after`; empty when every amount
    /// was in the limit's currency (and in events recorded before conversion).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conversions: Vec<ExposureConversion>,
}

/// One currency's part of an exposure measured in the limit's currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExposureConversion {
    /// The exposure in that currency (may be negative: money on account).
    #[serde(with = "money::derived")]
    pub exposure: Money,
    /// Its cross rate to the limit's currency on the decision's date.
    pub rate: Rate,
    /// `exposure x rate`, in the limit's currency.
    #[serde(with = "money::derived")]
    pub converted: Money,
}

/// What a new commitment is, for the check and its refusals.
#[derive(Debug, Clone, Copy)]
pub struct Commitment<'a> {
    /// "invoice", "reservation": how the refusal names it, and its metadata key
    /// (`invoice_amount`, `reservation_amount`).
    pub kind: &'static str,
    /// The document's amount.
    pub amount: Money,
    /// What it adds to the exposure in the amount's currency: the amount, less what of a
    /// reservation it consumes.
    pub adds: Decimal,
    /// The business date the check is made for (an issue date, a reservation date).
    pub date: NaiveDate,
    pub rates: &'a ExchangeRates,
}

/// The customer's exposure in the limit's currency before and after a commitment.
struct MeasuredExposure {
    before: Decimal,
    after: Decimal,
    conversions: Vec<ExposureConversion>,
}

/// Whether checking a commitment of `currency` dated `date` converts: the customer has a
/// limit, and the commitment or some exposure is in another currency than the limit's.
pub fn converts(state: &AccountState, currency: Currency, date: NaiveDate) -> bool {
    state.credit().is_some_and(|terms| {
        let limit_currency = terms.limit.currency();
        currency != limit_currency
            || state
                .credit_exposure_on(date)
                .iter()
                .any(|(c, exposure)| *c != limit_currency && !exposure.is_zero())
    })
}

/// The check of `commitment` against the customer's credit terms: whether it was accepted over
/// the limit (under `warn`), and the record of the check (none without a limit); or the
/// refusal of the overdue hold, of the limit under `block`, or of a missing rate.
pub fn check(
    state: &AccountState,
    commitment: &Commitment<'_>,
) -> Result<(bool, Option<CreditCheckRecord>), Refusal> {
    let Some(terms) = state.credit() else {
        return Ok((false, None));
    };
    if let Some(days) = terms.overdue_hold_days {
        let overdue = Overdue::beyond(state, commitment.date, days);
        if !overdue.by_currency.is_empty() {
            return Err(overdue_refusal(state, commitment, days, &overdue));
        }
    }
    let measured = measure(
        state,
        terms.limit.currency(),
        commitment.amount.currency(),
        commitment.adds,
        commitment.date,
        commitment.rates,
    )?;
    let record = |conversions: Vec<ExposureConversion>| CreditCheckRecord {
        limit: terms.limit,
        policy: terms.policy,
        exposure_after: Money::of(measured.after, terms.limit.currency()),
        currency_mismatch: false,
        conversions,
    };
    if commitment.adds <= Decimal::ZERO {
        return Ok((false, Some(record(measured.conversions))));
    }
    match CreditCheck::evaluate(Some(terms), measured.before, measured.after) {
        CreditCheck::NoLimit | CreditCheck::Within { .. } => {
            Ok((false, Some(record(measured.conversions))))
        }
        CreditCheck::Over {
            policy: CreditPolicy::Block,
            limit,
            ..
        } => Err(credit_refusal(state, commitment, limit, &measured)),
        CreditCheck::Over {
            policy: CreditPolicy::Warn,
            ..
        } => Ok((true, Some(record(measured.conversions)))),
    }
}

/// The exposure before and after adding `adds` in `currency`, in `limit_currency`, every other
/// currency converted at the cross rate of `date`; refused when a currency with exposure has no
/// rate then.
fn measure(
    state: &AccountState,
    limit_currency: Currency,
    currency: Currency,
    adds: Decimal,
    date: NaiveDate,
    rates: &ExchangeRates,
) -> Result<MeasuredExposure, Refusal> {
    let mut by_currency = state.credit_exposure_on(date);
    by_currency.entry(currency).or_default();
    let mut measured = MeasuredExposure {
        before: Decimal::ZERO,
        after: Decimal::ZERO,
        conversions: Vec::new(),
    };
    for (each, before) in by_currency {
        let after = if each == currency {
            before + adds
        } else {
            before
        };
        if each == limit_currency {
            measured.before += before;
            measured.after += after;
            continue;
        }
        if before.is_zero() && after.is_zero() {
            continue;
        }
        let rate = rates
            .cross_rate(each, limit_currency, date)
            .map_err(|missing| missing_rate(state, &missing, limit_currency))?;
        let converted = convert_at(after, rate, limit_currency);
        measured.before += convert_at(before, rate, limit_currency).amount();
        measured.after += converted.amount();
        measured.conversions.push(ExposureConversion {
            exposure: Money::of(after, each),
            rate,
            converted,
        });
    }
    Ok(measured)
}

/// What the customer owes collectible and more than some days overdue on a date, per currency
/// (currencies with nothing left out), and the due date of the oldest such row.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Overdue {
    pub by_currency: BTreeMap<Currency, Decimal>,
    pub oldest_due: Option<NaiveDate>,
}

impl Overdue {
    /// More than `days` overdue on `date` (`days` 0: everything overdue), every open
    /// invoice's rows by the schedule holding then (`InvoiceState::overdue_beyond`).
    pub fn beyond(state: &AccountState, date: NaiveDate, days: u32) -> Overdue {
        let mut overdue = Overdue::default();
        for invoice in state.invoices() {
            if invoice.issue_date > date {
                continue;
            }
            let (amount, oldest) = invoice.overdue_beyond(date, days);
            if amount > Decimal::ZERO {
                *overdue
                    .by_currency
                    .entry(invoice.amount.currency())
                    .or_default() += amount;
                overdue.oldest_due = match (overdue.oldest_due, oldest) {
                    (Some(known), Some(this)) => Some(known.min(this)),
                    (known, this) => known.or(this),
                };
            }
        }
        overdue
    }

    /// Days between the oldest overdue row's due date and `date`.
    pub fn oldest_days(&self, date: NaiveDate) -> Option<i64> {
        self.oldest_due.map(|due| (date - due).num_days())
    }
}

/// The refusal of the overdue hold: what is more than the hold's days overdue, per currency,
/// and the oldest row's days, in the message and as metadata (`overdue_cny`, `oldest_days`).
fn overdue_refusal(
    state: &AccountState,
    commitment: &Commitment<'_>,
    days: u32,
    overdue: &Overdue,
) -> Refusal {
    let amounts: Vec<String> = overdue
        .by_currency
        .iter()
        .map(|(currency, amount)| Money::of(*amount, *currency).to_string())
        .collect();
    let oldest = overdue.oldest_days(commitment.date).unwrap_or_default();
    let mut refusal = Refusal::precondition(
        Reason::CustomerOverdue,
        vec![PreconditionViolation {
            kind: Reason::CustomerOverdue,
            subject: format!("customers/{}/overdue_hold", state.customer_id()),
            description: format!(
                "customer {} owes {} more than {days} days overdue on {} (the oldest {oldest} \
                 days): its overdue hold refuses a new {} until that is paid",
                state.customer_id(),
                amounts.join(" and "),
                commitment.date,
                commitment.kind,
            ),
        }],
    )
    .with_metadata("hold_days", days)
    .with_metadata("oldest_days", oldest)
    .with_metadata("date", commitment.date);
    for (currency, amount) in &overdue.by_currency {
        refusal = refusal.with_metadata(
            &format!("overdue_{}", currency.code().to_lowercase()),
            amount,
        );
    }
    refusal
}

/// The refusal of a commitment whose customer's exposure cannot be measured in the limit's
/// currency: a currency with exposure has no rate on the decision's date.
fn missing_rate(state: &AccountState, missing: &MissingRate, limit_currency: Currency) -> Refusal {
    Refusal::precondition(
        Reason::ExchangeRateMissing,
        vec![PreconditionViolation {
            kind: Reason::ExchangeRateMissing,
            subject: format!("group/exchange_rates/{}", missing.currency),
            description: format!(
                "{missing}: customer {}'s credit limit is in {limit_currency}, and its {} \
                 exposure cannot be counted without a rate",
                state.customer_id(),
                missing.currency
            ),
        }],
    )
    .with_metadata("currency", missing.currency)
    .with_metadata("limit_currency", limit_currency)
    .with_metadata("date", missing.date)
}

/// The refusal of a commitment under policy `block` over the limit: the limit, the exposure and
/// the shortfall, and each other currency's exposure, rate and converted amount, in the message
/// and as metadata (`exposure_usd`, `rate_usd`, `converted_usd`).
fn credit_refusal(
    state: &AccountState,
    commitment: &Commitment<'_>,
    limit: Money,
    measured: &MeasuredExposure,
) -> Refusal {
    let subject = format!("customers/{}/credit_limit", state.customer_id());
    let currency = limit.currency();
    let shortfall = Money::of(measured.after - limit.amount(), currency);
    let exposure = Money::of(measured.before, currency);
    let mut description = format!(
        "{} of {} would take exposure from {exposure} to {}, above the limit of {limit} by \
         {shortfall}",
        commitment.kind,
        commitment.amount,
        Money::of(measured.after, currency),
    );
    if commitment.adds != commitment.amount.amount() {
        description.push_str(&format!(
            " ({} of it beyond the reservation it consumes)",
            Money::of(commitment.adds, commitment.amount.currency())
        ));
    }
    if !measured.conversions.is_empty() {
        let parts: Vec<String> = measured
            .conversions
            .iter()
            .map(|c| format!("{} at {} = {}", c.exposure, c.rate, c.converted))
            .collect();
        description.push_str(&format!(" (counting {})", parts.join(", ")));
    }
    let mut refusal = Refusal::precondition(
        Reason::CreditLimitExceeded,
        vec![PreconditionViolation {
            kind: Reason::CreditLimitExceeded,
            subject,
            description,
        }],
    )
    .with_metadata("limit", limit.amount())
    .with_metadata("exposure", exposure.amount())
    .with_metadata(
        &format!("{}_amount", commitment.kind),
        commitment.amount.amount(),
    )
    .with_metadata("shortfall", shortfall.amount())
    .with_metadata("currency", currency);
    for conversion in &measured.conversions {
        let code = conversion.exposure.currency().code().to_lowercase();
        refusal = refusal
            .with_metadata(&format!("exposure_{code}"), conversion.exposure.amount())
            .with_metadata(&format!("rate_{code}"), conversion.rate)
            .with_metadata(&format!("converted_{code}"), conversion.converted.amount());
    }
    refusal
}

/// The answer to "would this amount fit under the customer's limit now?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreditDecision {
    /// The amount fits under the limit.
    WithinLimit,
    /// The amount would take exposure above the limit (refused under `block`, flagged under
    /// `warn`).
    OverLimit,
    /// The customer owes more than its overdue hold's days overdue: refused whatever the limit.
    CustomerOverdue,
    /// The customer has no limit: nothing to check.
    NoLimit,
}

impl CreditDecision {
    /// The name on the wire and in the command line (`WITHIN_LIMIT`...).
    pub fn as_str(self) -> &'static str {
        match self {
            CreditDecision::WithinLimit => "WITHIN_LIMIT",
            CreditDecision::OverLimit => "OVER_LIMIT",
            CreditDecision::CustomerOverdue => "CUSTOMER_OVERDUE",
            CreditDecision::NoLimit => "NO_LIMIT",
        }
    }
}

/// One currency's part of the customer's exposure for a credit check, in that currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CurrencyExposure {
    pub currency: Currency,
    pub open_invoices: Decimal,
    /// Unapplied cash and unapplied credit.
    pub unapplied: Decimal,
    /// Credit reserved for orders, not expired before the date.
    pub reserved: Decimal,
    /// `open_invoices - unapplied + reserved`.
    pub exposure: Decimal,
    /// Collectible and overdue on the date.
    pub overdue: Decimal,
}

/// A credit check made without appending anything: the figures an order system decides on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditAssessment {
    pub decision: CreditDecision,
    /// Why, in a sentence with the figures.
    pub explanation: String,
    /// Whether an invoice or a reservation of the amount would be accepted now: within the
    /// limit, over it under `warn`, or without a limit.
    pub would_accept: bool,
    pub terms: Option<CreditTerms>,
    /// Each currency the customer has exposure or overdue debt in, and the amount's.
    pub lines: Vec<CurrencyExposure>,
    /// Under a limit, in its currency: the exposure before and after the amount, and what is
    /// available before it (negative when over the limit).
    pub exposure: Option<Money>,
    pub exposure_after: Option<Money>,
    pub available: Option<Money>,
    /// Each other currency's exposure after the amount, converted as an invoice's would be.
    pub conversions: Vec<ExposureConversion>,
    /// Days the oldest overdue row is past due on the date, if anything is overdue.
    pub oldest_overdue_days: Option<i64>,
    /// Under an overdue hold, what is more than its days overdue, per currency.
    pub overdue_beyond_hold: Vec<Money>,
}

/// Would `amount` fit under the customer's limit on `date`? The overdue hold and the limit as
/// an invoice or a reservation of it would meet them; refused only when the exposure cannot be
/// measured (a missing rate).
pub fn assess(
    state: &AccountState,
    amount: Money,
    date: NaiveDate,
    rates: &ExchangeRates,
) -> Result<CreditAssessment, Refusal> {
    let overdue = Overdue::beyond(state, date, 0);
    let balances = state.balances();
    let reserved = state.reserved_on(date);
    let mut currencies: Vec<Currency> = balances.iter().map(|b| b.currency).collect();
    currencies.extend(reserved.keys().copied());
    currencies.extend(overdue.by_currency.keys().copied());
    currencies.push(amount.currency());
    currencies.sort();
    currencies.dedup();
    let lines = currencies
        .into_iter()
        .map(|currency| {
            let balance = balances.iter().find(|b| b.currency == currency);
            let open_invoices = balance.map_or(Decimal::ZERO, |b| b.open_invoices);
            let unapplied = balance.map_or(Decimal::ZERO, |b| b.unapplied + b.unapplied_credit);
            let reserved = reserved.get(&currency).copied().unwrap_or_default();
            CurrencyExposure {
                currency,
                open_invoices,
                unapplied,
                reserved,
                exposure: open_invoices - unapplied + reserved,
                overdue: overdue
                    .by_currency
                    .get(&currency)
                    .copied()
                    .unwrap_or_default(),
            }
        })
        .collect();
    let mut assessment = CreditAssessment {
        decision: CreditDecision::NoLimit,
        explanation: format!("customer {} has no credit limit", state.customer_id()),
        would_accept: true,
        terms: state.credit().cloned(),
        lines,
        exposure: None,
        exposure_after: None,
        available: None,
        conversions: Vec::new(),
        oldest_overdue_days: overdue.oldest_days(date),
        overdue_beyond_hold: Vec::new(),
    };
    let Some(terms) = state.credit() else {
        return Ok(assessment);
    };
    let limit_currency = terms.limit.currency();
    let measured = measure(
        state,
        limit_currency,
        amount.currency(),
        amount.amount(),
        date,
        rates,
    )?;
    let exposure = Money::of(measured.before, limit_currency);
    let after = Money::of(measured.after, limit_currency);
    assessment.exposure = Some(exposure);
    assessment.exposure_after = Some(after);
    assessment.available = Some(Money::of(
        terms.limit.amount() - measured.before,
        limit_currency,
    ));
    assessment.conversions = measured.conversions;
    if let Some(days) = terms.overdue_hold_days {
        let held = Overdue::beyond(state, date, days);
        if !held.by_currency.is_empty() {
            assessment.overdue_beyond_hold = held
                .by_currency
                .iter()
                .map(|(currency, amount)| Money::of(*amount, *currency))
                .collect();
            assessment.decision = CreditDecision::CustomerOverdue;
            assessment.would_accept = false;
            assessment.explanation = format!(
                "customer {} owes {} more than {days} days overdue on {date}: its overdue hold \
                 refuses new invoices and reservations",
                state.customer_id(),
                assessment
                    .overdue_beyond_hold
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" and "),
            );
            return Ok(assessment);
        }
    }
    if measured.after > terms.limit.amount() {
        assessment.decision = CreditDecision::OverLimit;
        assessment.would_accept = terms.policy == CreditPolicy::Warn;
        assessment.explanation = format!(
            "{amount} would take exposure from {exposure} to {after}, above the limit of {} by \
             {} (policy {}: {})",
            terms.limit,
            Money::of(measured.after - terms.limit.amount(), limit_currency),
            terms.policy.as_str(),
            if assessment.would_accept {
                "accepted and flagged"
            } else {
                "refused"
            }
        );
    } else {
        assessment.decision = CreditDecision::WithinLimit;
        assessment.explanation = format!(
            "{amount} takes exposure from {exposure} to {after}, within the limit of {}",
            terms.limit
        );
    }
    Ok(assessment)
}
