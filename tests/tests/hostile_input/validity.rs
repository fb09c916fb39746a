//! What makes an event valid, restated here from the rules the command service enforces
//! (README, "The rules") rather than taken from the code under test: the
//! oracle for "nothing invalid got in", whether through a command or through decoding.

use receivables_domain::account::customer::{CustomerRegistered, CustomerUpdated};
use std::collections::BTreeSet;

use chrono::{Days, NaiveDate};
use receivables_domain::credit::CreditPolicy;
use receivables_domain::event::{Event, EventEnvelope};
use receivables_domain::limits::{
    ACTIVITY_CONTACT_LENGTH_MAX, ALLOCATIONS_PER_PAYMENT_MAX, AMOUNT_MAJOR_UNITS_MAX,
    INVOICES_PER_ACTIVITY_MAX, INVOICES_PER_PROMISE_MAX, NAME_LENGTH_MAX, NEXT_ACTION_DAYS_MAX,
    NOTE_LENGTH_MAX, PAYMENT_TERMS_DAYS_MAX, REASON_LENGTH_MAX, REFERENCE_LENGTH_MAX,
};
use receivables_domain::{Money, Principal};
use rust_decimal::Decimal;

fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("a real date")
}

fn business_date(what: &str, value: NaiveDate) -> Result<(), String> {
    if value < date(1990, 1, 1) || value > date(2199, 12, 31) {
        return Err(format!("{what} {value} is outside 1990-01-01..=2199-12-31"));
    }
    Ok(())
}

/// At the currency's scale and within the largest amount; `positive` or merely not negative.
fn amount(what: &str, money: &Money, positive: bool) -> Result<(), String> {
    let value = money.amount();
    if value.scale() != money.currency().minor_units() {
        return Err(format!("{what} {money} is not at its currency's scale"));
    }
    if value.abs() > Decimal::from(AMOUNT_MAJOR_UNITS_MAX) {
        return Err(format!("{what} {money} is too large"));
    }
    if (positive && value <= Decimal::ZERO) || value < Decimal::ZERO {
        return Err(format!("{what} {money} is not positive"));
    }
    Ok(())
}

fn free_text(what: &str, text: &str, max: usize) -> Result<(), String> {
    if text.chars().count() > max {
        return Err(format!("{what} is longer than {max} characters"));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
    {
        return Err(format!("{what} holds a control character"));
    }
    Ok(())
}

fn name(what: &str, text: &str) -> Result<(), String> {
    if text.is_empty()
        || text.trim() != text
        || text.chars().count() > NAME_LENGTH_MAX
        || text.chars().any(char::is_control)
    {
        return Err(format!("{what} {text:?} is not a name"));
    }
    Ok(())
}

/// What the service decided when it wrote the event, beyond [`check`]: a payment is not
/// received more than a day after the service's date, a promise's id is its command's id.
pub fn check_as_written(envelope: &EventEnvelope) -> Result<(), String> {
    check(envelope)?;
    match &envelope.event {
        Event::PaymentReceived(e) => {
            let latest = envelope
                .recorded_at
                .date_naive()
                .checked_add_days(Days::new(1));
            if latest.is_none_or(|latest| e.received_date > latest) {
                return Err("received after the day after it was recorded".to_owned());
            }
        }
        Event::PromiseToPay(e) if e.promise_id.as_uuid() != envelope.command_id.as_uuid() => {
            return Err("the promise id is not the command id".to_owned());
        }
        _ => {}
    }
    Ok(())
}

/// What every event in a log must satisfy, whoever wrote it.
pub fn check(envelope: &EventEnvelope) -> Result<(), String> {
    if envelope.sequence == 0 {
        return Err("sequence 0".to_owned());
    }
    Principal::parse(envelope.principal.as_str())
        .map_err(|e| format!("principal {:?}: {e}", envelope.principal.as_str()))?;
    business_date("effective_date", envelope.effective_date)?;
    match &envelope.event {
        Event::InvoiceIssued(e) => {
            if envelope.subsidiary_id.as_ref() != Some(&e.subsidiary_id) {
                return Err("the envelope names another subsidiary".to_owned());
            }
            amount("amount", &e.amount, true)?;
            business_date("issue_date", e.issue_date)?;
            business_date("due_date", e.due_date)?;
            if e.due_date < e.issue_date {
                return Err("due before issued".to_owned());
            }
            if envelope.effective_date != e.issue_date {
                return Err("effective_date is not the issue date".to_owned());
            }
            if let Some(days) = e.terms_days
                && (days > PAYMENT_TERMS_DAYS_MAX
                    || e.issue_date.checked_add_days(Days::new(u64::from(days)))
                        != Some(e.due_date))
            {
                return Err(format!("terms of {days} days do not give the due date"));
            }
            if let Some(check) = &e.credit_check {
                amount("credit_check.limit", &check.limit, false)?;
                if check.exposure_after.currency() != check.limit.currency() {
                    return Err("exposure_after in another currency than the limit".to_owned());
                }
            }
            let warned = e
                .credit_check
                .as_ref()
                .is_some_and(|check| check.policy == CreditPolicy::Warn);
            if e.over_limit && !warned {
                return Err("over the limit without a check under WARN".to_owned());
            }
        }
        Event::PaymentReceived(e) => {
            if envelope.subsidiary_id.as_ref() != Some(&e.subsidiary_id) {
                return Err("the envelope names another subsidiary".to_owned());
            }
            amount("amount", &e.amount, true)?;
            business_date("received_date", e.received_date)?;
            if envelope.effective_date != e.received_date {
                return Err("effective_date is not the received date".to_owned());
            }
            free_text("reference", &e.reference, REFERENCE_LENGTH_MAX)?;
            if e.allocations.len() > ALLOCATIONS_PER_PAYMENT_MAX {
                return Err("too many allocations".to_owned());
            }
            let mut seen = BTreeSet::new();
            let mut total = Decimal::ZERO;
            for allocation in &e.allocations {
                amount("allocation", &allocation.amount, true)?;
                if allocation.amount.currency() != e.amount.currency() {
                    return Err("an allocation in another currency".to_owned());
                }
                if !seen.insert(&allocation.invoice) {
                    return Err(format!("{} allocated twice", allocation.invoice));
                }
                total += allocation.amount.amount();
            }
            amount("unapplied", &e.unapplied, false)?;
            if e.unapplied.currency() != e.amount.currency()
                || total + e.unapplied.amount() != e.amount.amount()
            {
                return Err("allocations and unapplied do not add up to the payment".to_owned());
            }
        }
        Event::CreditLimitChanged(e) => {
            if envelope.subsidiary_id.is_some() {
                return Err("a credit limit names a subsidiary".to_owned());
            }
            amount("limit", &e.limit, false)?;
            if e.reason.trim().is_empty() {
                return Err("no reason".to_owned());
            }
            free_text("reason", &e.reason, REASON_LENGTH_MAX)?;
            name("approved_by", e.approved_by.as_str())?;
        }
        Event::PromiseToPay(e) => {
            if envelope.subsidiary_id.as_ref() != Some(&e.subsidiary_id) {
                return Err("the envelope names another subsidiary".to_owned());
            }
            amount("amount", &e.amount, true)?;
            business_date("made_on", e.made_on)?;
            business_date("promised_date", e.promised_date)?;
            if e.promised_date < e.made_on {
                return Err("promised before made".to_owned());
            }
            if envelope.effective_date != e.made_on {
                return Err("effective_date is not the day the promise was made".to_owned());
            }
            if e.invoices.len() > INVOICES_PER_PROMISE_MAX {
                return Err("too many invoices".to_owned());
            }
            if e.invoices.iter().collect::<BTreeSet<_>>().len() != e.invoices.len() {
                return Err("an invoice named twice".to_owned());
            }
            name("collector", e.collector.as_str())?;
            free_text("note", &e.note, NOTE_LENGTH_MAX)?;
        }
        Event::CreditNoteIssued(e) => {
            subsidiary_is(envelope, &e.subsidiary_id)?;
            amount("amount", &e.amount, true)?;
            dated(envelope, "issue_date", e.issue_date)?;
            reason(&e.reason)?;
        }
        Event::InvoiceWrittenOff(e) => {
            subsidiary_is(envelope, &e.invoice.subsidiary_id)?;
            amount("amount", &e.amount, true)?;
            dated(envelope, "write_off_date", e.write_off_date)?;
            reason(&e.reason)?;
            name("approved_by", e.approved_by.as_str())?;
        }
        Event::PaymentReversed(e) => {
            subsidiary_is(envelope, &e.subsidiary_id)?;
            amount("amount", &e.amount, true)?;
            amount("unapplied", &e.unapplied, false)?;
            dated(envelope, "reversal_date", e.reversal_date)?;
            business_date("received_date", e.received_date)?;
            if e.reversal_date < e.received_date {
                return Err("reversed before it was received".to_owned());
            }
            let mut total = e.unapplied.amount();
            for allocation in &e.reopened {
                amount("reopened", &allocation.amount, true)?;
                total += allocation.amount.amount();
            }
            if total != e.amount.amount() {
                return Err("re-opened and unapplied do not add up to the payment".to_owned());
            }
        }
        Event::UnappliedCashApplied(e) => {
            subsidiary_is(envelope, &e.subsidiary_id)?;
            amount("amount", &e.amount, true)?;
            dated(envelope, "application_date", e.application_date)?;
            if e.allocations.is_empty() || e.allocations.len() > ALLOCATIONS_PER_PAYMENT_MAX {
                return Err("no allocations, or too many".to_owned());
            }
            let mut total = Decimal::ZERO;
            for allocation in &e.allocations {
                amount("allocation", &allocation.amount, true)?;
                if allocation.amount.currency() != e.amount.currency() {
                    return Err("an allocation in another currency".to_owned());
                }
                total += allocation.amount.amount();
            }
            if total != e.amount.amount() {
                return Err("allocations do not add up to the amount applied".to_owned());
            }
        }
        Event::RefundIssued(e) => {
            subsidiary_is(envelope, &e.subsidiary_id)?;
            amount("amount", &e.amount, true)?;
            dated(envelope, "refund_date", e.refund_date)?;
            free_text("reference", &e.reference, REFERENCE_LENGTH_MAX)?;
        }
        Event::DisputeOpened(e) => {
            subsidiary_is(envelope, &e.invoice.subsidiary_id)?;
            amount("amount", &e.amount, true)?;
            dated(envelope, "opened_on", e.opened_on)?;
            if let Some(expires_on) = e.expires_on {
                business_date("expires_on", expires_on)?;
                if expires_on <= e.opened_on {
                    return Err("expires before it opened".to_owned());
                }
            }
            free_text("note", &e.note, NOTE_LENGTH_MAX)?;
        }
        Event::DisputeResolved(e) => {
            subsidiary_is(envelope, &e.invoice.subsidiary_id)?;
            dated(envelope, "resolved_on", e.resolved_on)?;
            let upheld = e.outcome == receivables_domain::account::state::DisputeOutcome::Upheld;
            if upheld != e.credit_note.is_some() {
                return Err(
                    "an upheld dispute names a credit note, a withdrawn one none".to_owned(),
                );
            }
            free_text("note", &e.note, NOTE_LENGTH_MAX)?;
        }
        Event::BalanceConfirmed(e) => {
            if envelope.subsidiary_id.is_some() {
                return Err("a confirmation names a subsidiary in its envelope".to_owned());
            }
            dated(envelope, "as_of", e.as_of)?;
            if e.confirmed.currency() != e.balance.currency() {
                return Err("confirmed and held balances in two currencies".to_owned());
            }
            free_text("note", &e.note, NOTE_LENGTH_MAX)?;
        }
        Event::CollectionOnBehalfSet(e) => {
            if !envelope.customer_id.is_group() {
                return Err("a group setting in a customer's account".to_owned());
            }
            if envelope.subsidiary_id.is_some() {
                return Err("a group setting names a subsidiary in its envelope".to_owned());
            }
            if e.collector_id == e.on_behalf_of_id {
                return Err("a subsidiary set to collect on its own behalf".to_owned());
            }
            free_text("reason", &e.reason, REASON_LENGTH_MAX)?;
        }
        Event::CustomerRegistered(CustomerRegistered { profile })
        | Event::CustomerUpdated(CustomerUpdated { profile }) => {
            if envelope.customer_id.is_group() || envelope.subsidiary_id.is_some() {
                return Err("a customer's record outside its account".to_owned());
            }
            if profile.name.trim().is_empty() || profile.name.chars().count() > 200 {
                return Err("a customer's name empty or over 200 characters".to_owned());
            }
            if profile.contacts.len() > 20 {
                return Err("more than 20 contacts".to_owned());
            }
            if profile
                .contacts
                .iter()
                .any(|c| c.email.is_empty() && c.phone.is_empty())
            {
                return Err("a contact that cannot be reached".to_owned());
            }
            free_text("notes", &profile.notes, NOTE_LENGTH_MAX)?;
        }
        Event::PaymentTermsDefined(e) => {
            if !envelope.customer_id.is_group() || envelope.subsidiary_id.is_some() {
                return Err("payment terms outside the group's account".to_owned());
            }
            let total: Decimal = e.terms.lines.iter().map(|l| l.portion).sum();
            if e.terms.lines.is_empty() || e.terms.lines.len() > 12 || total != Decimal::from(100) {
                return Err("terms whose portions do not make 100 % in 1 to 12 lines".to_owned());
            }
        }
        Event::InstalmentPlanAgreed(e) => {
            if envelope.subsidiary_id.as_ref() != Some(&e.invoice.subsidiary_id) {
                return Err("the envelope names another subsidiary".to_owned());
            }
            dated(envelope, "agreed_on", e.agreed_on)?;
            amount("open_amount", &e.open_amount, true)?;
            let total: Decimal = e.rows.iter().map(|r| r.amount.amount()).sum();
            if total != e.open_amount.amount()
                || e.rows.iter().any(|r| r.due_date < e.agreed_on)
                || e.rows.windows(2).any(|w| w[0].due_date >= w[1].due_date)
            {
                return Err("instalments that are not the open amount in due order".to_owned());
            }
        }
        Event::InstalmentPlanCancelled(e) => {
            if envelope.subsidiary_id.as_ref() != Some(&e.invoice.subsidiary_id) {
                return Err("the envelope names another subsidiary".to_owned());
            }
            dated(envelope, "cancelled_on", e.cancelled_on)?;
            if e.cancelled_on < e.agreed_on {
                return Err("cancelled before agreed".to_owned());
            }
        }
        Event::DiscountAllowed(e) => {
            if envelope.subsidiary_id.as_ref() != Some(&e.invoice.subsidiary_id) {
                return Err("the envelope names another subsidiary".to_owned());
            }
            dated(envelope, "allowed_on", e.allowed_on)?;
            amount("amount", &e.amount, true)?;
            if e.amount.amount() > e.most_off.amount() {
                return Err("a discount above what the terms allow".to_owned());
            }
        }
        Event::ExchangeRatesPublished(e) => {
            if !envelope.customer_id.is_group() || envelope.subsidiary_id.is_some() {
                return Err("exchange rates outside the group's account".to_owned());
            }
            dated(envelope, "rate_date", e.rate_date)?;
            if e.rates.is_empty() || e.rates.len() > 200 {
                return Err("no rates, or more than 200".to_owned());
            }
            if e.rates.iter().any(|r| r.currency == e.base) {
                return Err("the base's own rate".to_owned());
            }
        }
        Event::CreditReserved(e) => {
            subsidiary_is(envelope, &e.subsidiary_id)?;
            dated(envelope, "reserved_on", e.reserved_on)?;
            amount("amount", &e.amount, true)?;
            business_date("expires_on", e.expires_on)?;
            if e.expires_on < e.reserved_on || (e.expires_on - e.reserved_on).num_days() > 366 {
                return Err("expires before it is made, or more than 366 days after".to_owned());
            }
            let warned = e
                .credit_check
                .as_ref()
                .is_some_and(|check| check.policy == CreditPolicy::Warn);
            if e.over_limit && !warned {
                return Err("over the limit without a check under WARN".to_owned());
            }
        }
        Event::CreditReleased(e) => {
            subsidiary_is(envelope, &e.subsidiary_id)?;
            dated(envelope, "released_on", e.released_on)?;
            amount("amount", &e.amount, true)?;
            amount("remaining", &e.remaining, false)?;
            if e.reason.trim().is_empty() {
                return Err("no reason".to_owned());
            }
        }
        Event::CollectionActivityRecorded(e) => {
            subsidiary_is(envelope, &e.subsidiary_id)?;
            dated(envelope, "occurred_on", e.occurred_on)?;
            name("collector", e.collector.as_str())?;
            free_text("contact", &e.contact, ACTIVITY_CONTACT_LENGTH_MAX)?;
            free_text("note", &e.note, NOTE_LENGTH_MAX)?;
            if let Some(next) = e.next_action_on {
                business_date("next_action_on", next)?;
                if next < e.occurred_on
                    || e.occurred_on
                        .checked_add_days(Days::new(u64::from(NEXT_ACTION_DAYS_MAX)))
                        .is_some_and(|latest| next > latest)
                {
                    return Err("a next action outside its window".to_owned());
                }
            }
            if e.invoices.len() > INVOICES_PER_ACTIVITY_MAX
                || e.invoices.iter().collect::<BTreeSet<_>>().len() != e.invoices.len()
            {
                return Err("too many invoices, or one named twice".to_owned());
            }
        }
        Event::AlertThresholdsSet(e) => {
            if !envelope.customer_id.is_group() {
                return Err("a group setting in a customer's account".to_owned());
            }
            if envelope.subsidiary_id.is_some() {
                return Err("a group setting names a subsidiary in its envelope".to_owned());
            }
            let t = &e.thresholds;
            let percent = |value: Option<Decimal>, max: i64| {
                value.is_none_or(|v| v > Decimal::ZERO && v <= max.into())
            };
            if !percent(t.overdue_rate_percent, 100) || !percent(t.utilisation_percent, 1_000) {
                return Err("a percentage threshold out of range".to_owned());
            }
            let days = |value: Option<u32>, min: u32, max: u32| {
                value.is_none_or(|v| (min..=max).contains(&v))
            };
            if !days(t.dso_days, 1, 3_650)
                || !days(t.days_past_due, 1, 3_650)
                || !days(t.dispute_expiry_days, 0, 366)
            {
                return Err("a threshold of days out of range".to_owned());
            }
            if let Some(unapplied) = &t.unapplied_cash {
                amount("unapplied_cash.amount", &unapplied.amount, true)?;
                if unapplied.days > 366 {
                    return Err("unapplied cash waiting more than a year".to_owned());
                }
            }
            free_text("reason", &e.reason, REASON_LENGTH_MAX)?;
        }
        Event::BankAccountRegistered(e) => {
            bank_stream(envelope)?;
            subsidiary_is(envelope, &e.subsidiary_id)?;
            for (field, text) in [("number", &e.number), ("bank", &e.bank), ("name", &e.name)] {
                if text.trim().is_empty() {
                    return Err(format!("no {field}"));
                }
                free_text(field, text, 200)?;
            }
        }
        Event::StatementLineImported(e) => {
            bank_stream(envelope)?;
            subsidiary_is(envelope, &e.subsidiary_id)?;
            dated(envelope, "value_date", e.line.value_date)?;
            amount("line.amount", &e.line.amount, true)?;
            free_text("line.reference", &e.line.reference, 1_000)?;
            if e.line.digest.len() != 64 {
                return Err("a digest that is not a SHA-256".to_owned());
            }
        }
        Event::StatementLineMatched(e) => {
            bank_stream(envelope)?;
            subsidiary_is(envelope, &e.subsidiary_id)?;
            if e.parts.is_empty() || e.parts.len() > 20 {
                return Err("no parts, or too many".to_owned());
            }
            for matched in &e.parts {
                amount("parts.amount", &matched.part.amount, true)?;
                if matched.part.customer_id.is_group() || matched.part.customer_id.is_bank_account()
                {
                    return Err("a part for a reserved stream".to_owned());
                }
            }
        }
        Event::StatementLineExcluded(e) => {
            bank_stream(envelope)?;
            subsidiary_is(envelope, &e.subsidiary_id)?;
            free_text("note", &e.note, NOTE_LENGTH_MAX)?;
        }
        Event::CollectorAssigned(e) => {
            if envelope.customer_id.is_group() != e.default_for.is_some() {
                return Err("a collector assignment in the wrong account".to_owned());
            }
            if envelope.subsidiary_id.is_some() {
                return Err("a collector assignment names a subsidiary in its envelope".to_owned());
            }
        }
    }
    Ok(())
}

fn bank_stream(envelope: &EventEnvelope) -> Result<(), String> {
    if !envelope.customer_id.is_bank_account() {
        return Err("a bank account's event in another stream".to_owned());
    }
    Ok(())
}

fn subsidiary_is(
    envelope: &EventEnvelope,
    subsidiary: &receivables_domain::SubsidiaryId,
) -> Result<(), String> {
    if envelope.subsidiary_id.as_ref() != Some(subsidiary) {
        return Err("the envelope names another subsidiary".to_owned());
    }
    Ok(())
}

/// The event's own date is a business date and the envelope's effective date.
fn dated(envelope: &EventEnvelope, what: &str, value: NaiveDate) -> Result<(), String> {
    business_date(what, value)?;
    if envelope.effective_date != value {
        return Err(format!("effective_date is not the {what}"));
    }
    Ok(())
}

fn reason(text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err("no reason".to_owned());
    }
    free_text("reason", text, REASON_LENGTH_MAX)
}
