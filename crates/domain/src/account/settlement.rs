//! Taking money off invoices: what payments, applications of unapplied cash, credit notes and
//! write-offs share. Each names invoices of the customer with an amount and takes effect on a
//! date; the checks (the invoice exists, is in the money's currency, was issued by the date, and
//! owes at least that much on the date and every day after) and the settlement itself are
//! defined once, here, with the reasons each kind of settlement refuses with.

use std::collections::BTreeSet;

use chrono::NaiveDate;

use super::state::{AccountState, InvoiceState};
use crate::allocation::{Allocation, AllocationRequest};
use crate::ids::InvoiceKey;
use crate::money::Money;
use crate::refusal::{PreconditionViolation, Reason, Refusal};

/// A kind of settlement: what happened on its date, and its reasons for a refusal.
#[derive(Debug, Clone, Copy)]
pub struct Settlement {
    /// What happened on the date, for the descriptions ("the payment was received").
    pub dated: &'static str,
    /// The reason when the date is before the invoice's issue date.
    pub before_invoice: Reason,
    /// The reason when the invoice owes less than the amount on the date or after.
    pub exceeds_open: Reason,
}

impl Settlement {
    pub const ALLOCATION: Settlement = Settlement {
        dated: "the money was received",
        before_invoice: Reason::AllocationBeforeInvoiceDate,
        exceeds_open: Reason::AllocationExceedsOpenAmount,
    };
    pub const APPLICATION: Settlement = Settlement {
        dated: "the application is dated",
        before_invoice: Reason::AllocationBeforeInvoiceDate,
        exceeds_open: Reason::AllocationExceedsOpenAmount,
    };
    pub const CREDIT_NOTE: Settlement = Settlement {
        dated: "the credit note is dated",
        before_invoice: Reason::CreditNoteBeforeInvoiceDate,
        exceeds_open: Reason::CreditNoteExceedsOpenAmount,
    };
    pub const DISCOUNT: Settlement = Settlement {
        dated: "the discounted payment was received",
        before_invoice: Reason::AllocationBeforeInvoiceDate,
        exceeds_open: Reason::AllocationExceedsOpenAmount,
    };
    pub const WRITE_OFF: Settlement = Settlement {
        dated: "the write-off is dated",
        before_invoice: Reason::WriteOffBeforeInvoiceDate,
        exceeds_open: Reason::WriteOffExceedsOpenAmount,
    };
}

/// Checks settlements of money dated `date` against the account: each names an invoice of this
/// customer, in the money's currency, issued by `date`, owing at least that much on `date` and
/// every day after (a later reversal may have re-opened it only from its own date). Every
/// violation of the first kind found is named at once.
pub fn check(
    account: &AccountState,
    requests: &[AllocationRequest],
    date: NaiveDate,
    kind: &Settlement,
) -> Result<(), Refusal> {
    let mut not_found = Vec::new();
    let mut mismatched = Vec::new();
    let mut exceeding = Vec::new();
    let mut premature = Vec::new();
    for request in requests {
        let subject = request.invoice.to_string();
        match account.invoices.get(&request.invoice) {
            None => not_found.push(PreconditionViolation {
                kind: Reason::InvoiceNotFound,
                subject,
                description: format!("customer {} has no such invoice", account.customer_id),
            }),
            Some(invoice) if invoice.amount.currency() != request.amount.currency() => mismatched
                .push(PreconditionViolation {
                    kind: Reason::CurrencyMismatch,
                    subject,
                    description: format!(
                        "the invoice is in {}, the amount in {}",
                        invoice.amount.currency(),
                        request.amount.currency()
                    ),
                }),
            // Money that came before an invoice existed cannot have settled it on that date.
            Some(invoice) if invoice.issue_date > date => premature.push(PreconditionViolation {
                kind: kind.before_invoice,
                subject,
                description: format!(
                    "{} {date}, before the invoice was issued on {}",
                    kind.dated, invoice.issue_date
                ),
            }),
            Some(invoice) if invoice.settleable_on(date) < request.amount.amount() => exceeding
                .push(PreconditionViolation {
                    kind: kind.exceeds_open,
                    subject,
                    description: format!(
                        "{} is more than the {} the invoice owes on {date} or after",
                        request.amount,
                        Money::of(invoice.settleable_on(date), invoice.amount.currency())
                    ),
                }),
            Some(_) => {}
        }
    }
    for (reason, violations) in [
        (Reason::InvoiceNotFound, not_found),
        (Reason::CurrencyMismatch, mismatched),
        (kind.before_invoice, premature),
        (kind.exceeds_open, exceeding),
    ] {
        if !violations.is_empty() {
            return Err(Refusal::precondition(reason, violations));
        }
    }
    Ok(())
}

/// Settles `allocations` of money dated `date` on the account's invoices: every one is checked
/// before any is made, so that an error leaves the account as it was.
pub fn settle(
    account: &mut AccountState,
    allocations: &[Allocation],
    date: NaiveDate,
) -> Result<(), String> {
    let mut seen = BTreeSet::new();
    for allocation in allocations {
        let invoice = account
            .invoices
            .get(&allocation.invoice)
            .ok_or_else(|| format!("settles unknown {}", allocation.invoice))?;
        if invoice.amount.currency() != allocation.amount.currency() {
            return Err(format!(
                "settles {} of {} in another currency",
                allocation.amount, allocation.invoice
            ));
        }
        if !seen.insert(&allocation.invoice) {
            return Err(format!("settles {} twice", allocation.invoice));
        }
        if invoice.issue_date > date || invoice.settleable_on(date) < allocation.amount.amount() {
            return Err(format!(
                "settles {} of {} on {date}, issued later or owing less then or after",
                allocation.amount, allocation.invoice
            ));
        }
    }
    for allocation in allocations {
        if let Some(invoice) = account.invoices.get_mut(&allocation.invoice) {
            invoice.settle(date, allocation.amount.amount())?;
        }
    }
    Ok(())
}

/// A refusal of `reason` about one invoice. Shared by the features that name an invoice
/// (disputes, instalment plans, discounts).
pub(super) fn refusal(reason: Reason, subject: &InvoiceKey, description: String) -> Refusal {
    Refusal::precondition(
        reason,
        vec![PreconditionViolation {
            kind: reason,
            subject: subject.to_string(),
            description,
        }],
    )
}

/// The invoice a command names, or the refusal naming it.
pub(super) fn invoice_of<'a>(
    account: &'a AccountState,
    key: &InvoiceKey,
) -> Result<&'a InvoiceState, Refusal> {
    account.invoice(key).ok_or_else(|| {
        refusal(
            Reason::InvoiceNotFound,
            key,
            format!("customer {} has no such invoice", account.customer_id),
        )
    })
}
