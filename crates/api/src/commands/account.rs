//! `GetAccount`: the authoritative view of one customer's account, as the command service
//! decides on it.

use chrono::NaiveDate;
use receivables_domain::Money;
use receivables_domain::account::CustomerAccount;
use receivables_domain::account::state::InvoiceState;
use rust_decimal::Decimal;

use super::dispute;
use crate::responses::{credit_grade, credit_policy, date, invoice_ref, money};
use crate::{pb, responses};

/// The account view: the customer's record and collector, credit terms, balances per currency,
/// open invoices oldest due first (with their disputes), promises, payments (with their
/// reversals), credit notes, the invoices with write-offs and the credit reservations.
/// Reservations count in the exposure as the credit check counts them on `today` (the
/// service's date): the limit's line in its own currency, unconverted.
pub fn view(account: &CustomerAccount, today: NaiveDate) -> pb::GetAccountResponse {
    let reserved = account.state().reserved_on(today);
    let reserved_in = |currency| reserved.get(&currency).copied().unwrap_or_default();
    let credit = account.credit().map(|terms| {
        let currency = terms.limit.currency();
        let exposure = account.exposure(currency) + reserved_in(currency);
        pb::CreditTerms {
            limit: Some(money(terms.limit)),
            policy: credit_policy(terms.policy).into(),
            grade: credit_grade(terms.grade).into(),
            exposure: Some(money(Money::of(exposure, currency))),
            available: Some(money(Money::of(terms.limit.amount() - exposure, currency))),
            over_limit: exposure > terms.limit.amount(),
            overdue_hold_days: terms.overdue_hold_days,
        }
    });
    let parts = account.balances();
    let balances = account
        .state()
        .credit_exposure_on(today)
        .into_iter()
        .map(|(currency, exposure)| {
            let part = parts.iter().find(|b| b.currency == currency);
            let of = |amount| Some(money(Money::of(amount, currency)));
            pb::CurrencyBalance {
                currency: currency.code().to_owned(),
                open_invoices: of(part.map_or(Decimal::ZERO, |b| b.open_invoices)),
                unapplied: of(part.map_or(Decimal::ZERO, |b| b.unapplied)),
                exposure: of(exposure),
                unapplied_credit: of(part.map_or(Decimal::ZERO, |b| b.unapplied_credit)),
                reserved: of(reserved_in(currency)),
            }
        })
        .collect();
    let reservations = account
        .state()
        .reservations()
        .map(|r| {
            let currency = r.amount.currency();
            pb::AccountReservation {
                subsidiary_id: r.key.subsidiary_id.to_string(),
                order_number: r.key.order_number.to_string(),
                amount: Some(money(r.amount)),
                open: Some(money(r.open_money())),
                consumed: Some(money(Money::of(r.consumed, currency))),
                released: Some(money(Money::of(r.released, currency))),
                reserved_on: date(r.reserved_on),
                expires_on: date(r.expires_on),
                over_limit: r.over_limit,
            }
        })
        .collect();
    let mut open: Vec<_> = account.open_invoices().collect();
    open.sort_by(|a, b| {
        (a.due_date, a.issue_date, &a.key).cmp(&(b.due_date, b.issue_date, &b.key))
    });
    let open_invoices = open.into_iter().map(invoice).collect();
    let written_off_invoices = account
        .invoices()
        .filter(|i| i.written_off > Decimal::ZERO)
        .map(invoice)
        .collect();
    let credit_notes = account
        .state()
        .credit_notes()
        .map(|n| pb::AccountCreditNote {
            subsidiary_id: n.key.subsidiary_id.to_string(),
            credit_note_number: n.key.credit_note_number.to_string(),
            amount: Some(money(n.amount)),
            issue_date: date(n.issue_date),
            reason: n.reason.clone(),
            invoice: n.invoice.as_ref().map(invoice_ref),
        })
        .collect();
    let payments = account
        .state()
        .payments()
        .map(|p| pb::AccountPayment {
            payment_command_id: p.command_id.to_string(),
            subsidiary_id: p.subsidiary_id.to_string(),
            amount: Some(money(p.amount)),
            received_date: date(p.received_date),
            unapplied: Some(money(p.unapplied)),
            reversed_on: p.reversed_on.map(date).unwrap_or_default(),
        })
        .collect();
    let promises = account
        .promises()
        .iter()
        .map(|p| pb::Promise {
            promise_id: p.promise_id.to_string(),
            subsidiary_id: p.subsidiary_id.to_string(),
            amount: Some(money(p.amount)),
            made_on: date(p.made_on),
            promised_date: date(p.promised_date),
            invoices: p.invoices.iter().map(invoice_ref).collect(),
            collector: p.collector.to_string(),
        })
        .collect();
    pb::GetAccountResponse {
        customer_id: account.customer_id().to_string(),
        position: account.position().get(),
        event_count: account.event_count(),
        credit,
        balances,
        open_invoices,
        promises,
        payments,
        written_off_invoices,
        credit_notes,
        customer: account.state().profile().map(super::customer::wire_profile),
        collector: account
            .state()
            .collector()
            .map(ToString::to_string)
            .unwrap_or_default(),
        reservations,
    }
}

fn invoice(i: &InvoiceState) -> pb::OpenInvoice {
    let currency = i.amount.currency();
    pb::OpenInvoice {
        invoice: Some(invoice_ref(&i.key)),
        amount: Some(money(i.amount)),
        open_amount: Some(money(i.open_money())),
        issue_date: date(i.issue_date),
        due_date: date(i.due_date),
        over_limit: i.over_limit,
        credited: Some(money(Money::of(i.credited, currency))),
        written_off: Some(money(Money::of(i.written_off, currency))),
        disputes: i
            .disputes
            .iter()
            .map(|d| pb::AccountDispute {
                dispute_id: d.dispute_id.to_string(),
                amount: Some(money(d.amount)),
                reason: dispute::wire_reason(d.reason).into(),
                opened_on: date(d.opened_on),
                expires_on: d.expires_on.map(date).unwrap_or_default(),
                resolved_on: d.resolved.map(|(on, _)| date(on)).unwrap_or_default(),
                outcome: d
                    .resolved
                    .map_or(pb::DisputeOutcome::Unspecified, |(_, outcome)| {
                        dispute::wire_outcome(outcome)
                    })
                    .into(),
            })
            .collect(),
        schedule: responses::schedule(&i.own_schedule()),
        discount: i.discount.as_ref().map(responses::discount),
        discounted: Some(money(Money::of(i.discounted, currency))),
        plans: i
            .plans
            .iter()
            .map(|p| pb::AccountInstalmentPlan {
                plan_id: p.plan_id.to_string(),
                agreed_on: date(p.agreed_on),
                rows: responses::schedule(&p.rows),
                collector: p.collector.to_string(),
                cancelled_on: p.cancelled_on.map(date).unwrap_or_default(),
            })
            .collect(),
    }
}
