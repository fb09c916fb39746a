//! The field rules that every feature states twice: once over its command (a refusal naming the
//! request's field) and once over its event (an event that breaks them is neither appended nor
//! believed when read back). The helpers of both sides live here so that each feature's module
//! says only which rule applies to which field.

use std::collections::BTreeSet;
use std::fmt::Display;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::calendar::check_business_date;
use crate::ids::InvoiceKey;
use crate::ids::check_free_text;
use crate::limits::MOVEMENT_DATE_AHEAD_DAYS_MAX;
use crate::money::Money;
use crate::refusal::FieldViolation;

/// Amounts of invoices, payments, allocations and promises are strictly positive. `Money` from
/// the wire is checked when it is parsed; this catches amounts built any other way.
pub fn check_positive(violations: &mut Vec<FieldViolation>, field: &str, money: &Money) {
    if money.amount() <= Decimal::ZERO {
        violations.push(FieldViolation::new(
            format!("{field}.amount"),
            format!("must be greater than zero, got {}", money.amount()),
        ));
    }
}

/// The invoices a command names (`invoices`): at most `max`, each once. `per` names the command
/// in the violation ("at most 100 invoices per promise").
pub fn check_invoice_list(
    violations: &mut Vec<FieldViolation>,
    invoices: &[InvoiceKey],
    max: usize,
    per: &str,
) {
    if invoices.len() > max {
        violations.push(FieldViolation::new(
            "invoices",
            format!("at most {max} invoices per {per}, got {}", invoices.len()),
        ));
    }
    let mut seen = BTreeSet::new();
    for (index, invoice) in invoices.iter().enumerate() {
        if !seen.insert(invoice) {
            violations.push(FieldViolation::new(
                format!("invoices[{index}]"),
                format!("{invoice} is named more than once"),
            ));
        }
    }
}

/// Bounded free text (a reason, a note, a reference) of a command's field.
pub fn check_text(violations: &mut Vec<FieldViolation>, field: &str, text: &str, max: usize) {
    if let Err(error) = check_free_text(text, max) {
        violations.push(FieldViolation::new(field, error));
    }
}

/// Required bounded free text (a reason): not blank, and within `max` characters.
pub fn check_required_text(
    violations: &mut Vec<FieldViolation>,
    field: &str,
    text: &str,
    max: usize,
) {
    if text.trim().is_empty() {
        violations.push(FieldViolation::new(field, "is required"));
    } else {
        check_text(violations, field, text, max);
    }
}

/// Money moves on a business date no later than the service's own date plus
/// [`MOVEMENT_DATE_AHEAD_DAYS_MAX`]: a payment cannot be received, nor a credit note, write-off,
/// reversal, application or refund take effect, in the future.
pub fn check_not_ahead(
    violations: &mut Vec<FieldViolation>,
    field: &str,
    date: NaiveDate,
    today: NaiveDate,
) {
    let latest = today + chrono::Duration::days(MOVEMENT_DATE_AHEAD_DAYS_MAX);
    if date > latest {
        violations.push(FieldViolation::new(
            field,
            format!("cannot be in the future: {date} is after {latest}"),
        ));
    }
}

/// An event's required free text is not blank, bounded and printable.
pub fn required_text(field: &str, text: &str, max: usize) -> Result<(), InvalidEvent> {
    if text.trim().is_empty() {
        return Err(invalid(field, "is required"));
    }
    free_text(field, text, max)
}

/// An event that breaks a rule every event the command service writes keeps.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct InvalidEvent {
    /// The field's path in the encoded event (`data.allocations[2].amount`).
    pub field: String,
    pub problem: String,
}

/// An [`InvalidEvent`] of `field`.
pub fn invalid(field: impl Into<String>, problem: impl Display) -> InvalidEvent {
    InvalidEvent {
        field: field.into(),
        problem: problem.to_string(),
    }
}

/// An event's amount is strictly positive.
pub fn positive(field: &str, money: &Money) -> Result<(), InvalidEvent> {
    if money.amount() <= Decimal::ZERO {
        return Err(invalid(field, format!("{money} is not greater than zero")));
    }
    Ok(())
}

/// An event's business date lies in the accepted range.
pub fn business_date(field: &str, date: NaiveDate) -> Result<(), InvalidEvent> {
    check_business_date(date).map_err(|e| invalid(field, e))?;
    Ok(())
}

/// An event's free text is bounded and printable.
pub fn free_text(field: &str, text: &str, max: usize) -> Result<(), InvalidEvent> {
    check_free_text(text, max).map_err(|e| invalid(field, e))
}
