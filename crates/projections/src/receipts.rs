//! The receipts projection: the group's bank accounts, the credit lines of their statements,
//! what became of each line (matched to customers' payments, or excluded), and the keys by
//! which a remittance text finds the invoices and credit notes it names (migration
//! `0013_receipts.sql`). The review queue (`receipt_queue.rs`) and the matcher's evidence
//! (`receipt_evidence.rs`) read it.
//!
//! A projection of its own, apart from the ledger: a statement line is not money a customer
//! owes until it is matched, and then the payment it became is the ledger's, recorded in the
//! customer's account. Every table is appended to: a line's outcome is a row of its own beside
//! the line, never an update of it.

use std::collections::BTreeMap;

use receivables_domain::account::receipt::{MatchMethod, StatementLine, receipt_credit_id};
use receivables_domain::allocation::AllocationRequest;
use receivables_domain::customer::CustomerProfile;
use receivables_domain::matching::{DocumentKind, document_keys, payer_key};
use receivables_domain::{Event, EventType, RecordedEvent};

use crate::error::ProjectionError;
use crate::minor_units::to_minor;
use crate::projection::{Projection, stored_position};
use crate::rows::{ColumnType as T, RowSet, Table};

/// The projection's name, as its checkpoint is stored.
pub const NAME: &str = "receipts";

pub static BANK_ACCOUNTS: Table = Table {
    name: "bank_accounts",
    key: "bank_account_id",
    columns: &[
        ("bank_account_id", T::Text),
        ("subsidiary_id", T::Text),
        ("currency", T::Text),
        ("number", T::Text),
        ("bank", T::Text),
        ("name", T::Text),
        ("position", T::BigInt),
    ],
    on_conflict: None,
};

pub static STATEMENT_LINES: Table = Table {
    name: "statement_lines",
    key: "bank_account_id, line_id",
    columns: &[
        ("bank_account_id", T::Text),
        ("line_id", T::Text),
        ("statement_id", T::Text),
        ("subsidiary_id", T::Text),
        ("value_date", T::Date),
        ("currency", T::Text),
        ("amount_minor", T::BigInt),
        ("payer_name", T::Text),
        ("payer_account", T::Text),
        ("payer_name_key", T::Text),
        ("payer_account_key", T::Text),
        ("reference", T::Text),
        ("position", T::BigInt),
    ],
    on_conflict: None,
};

pub static LINE_OUTCOMES: Table = Table {
    name: "statement_line_outcomes",
    key: "bank_account_id, line_id",
    columns: &[
        ("bank_account_id", T::Text),
        ("line_id", T::Text),
        ("status", T::Text),
        ("method", T::Text),
        ("confidence", T::Integer),
        ("reasons", T::Text),
        ("exclusion_reason", T::Text),
        ("note", T::Text),
        ("principal", T::Text),
        ("position", T::BigInt),
    ],
    on_conflict: None,
};

pub static RECEIPT_PARTS: Table = Table {
    name: "receipt_parts",
    key: "bank_account_id, line_id, part",
    columns: &[
        ("bank_account_id", T::Text),
        ("line_id", T::Text),
        ("part", T::Integer),
        ("customer_id", T::Text),
        ("payment_id", T::Text),
        ("currency", T::Text),
        ("amount_minor", T::BigInt),
        ("on_account", T::Boolean),
        ("allocations", T::Text),
        ("credit_applications", T::Text),
        ("credit_id", T::Text),
        ("position", T::BigInt),
    ],
    on_conflict: None,
};

pub static DOCUMENT_KEYS: Table = Table {
    name: "document_keys",
    key: "key_text, subsidiary_id, document_kind, number",
    columns: &[
        ("key_text", T::Text),
        ("key_kind", T::Integer),
        ("document_kind", T::Text),
        ("subsidiary_id", T::Text),
        ("number", T::Text),
        ("customer_id", T::Text),
        ("position", T::BigInt),
    ],
    on_conflict: None,
};

const NAME_KEY_COLUMNS: &[(&str, T)] = &[
    ("customer_id", T::Text),
    ("name_key", T::Text),
    ("legal_name_key", T::Text),
    ("position", T::BigInt),
];

pub static CUSTOMER_NAME_KEYS: Table = Table {
    name: "customer_name_keys",
    key: "customer_id",
    columns: NAME_KEY_COLUMNS,
    on_conflict: Some(
        "ON CONFLICT (customer_id) DO UPDATE SET name_key = EXCLUDED.name_key,
             legal_name_key = EXCLUDED.legal_name_key, position = EXCLUDED.position",
    ),
};

/// Every name key each customer had, a row per event (`known.rs`).
pub static CUSTOMER_NAME_KEYS_HISTORY: Table = Table {
    name: "customer_name_keys_history",
    key: "customer_id, position",
    columns: NAME_KEY_COLUMNS,
    on_conflict: None,
};

static TABLES: [&Table; 7] = [
    &BANK_ACCOUNTS,
    &STATEMENT_LINES,
    &LINE_OUTCOMES,
    &RECEIPT_PARTS,
    &DOCUMENT_KEYS,
    &CUSTOMER_NAME_KEYS,
    &CUSTOMER_NAME_KEYS_HISTORY,
];

/// The names a document's kind is stored by.
pub fn document_kind_name(kind: DocumentKind) -> &'static str {
    match kind {
        DocumentKind::Invoice => "INVOICE",
        DocumentKind::CreditNote => "CREDIT_NOTE",
    }
}

/// The receipts projection.
pub struct Receipts;

impl Receipts {
    /// The keys of a document's number, each text once with its strongest kind.
    fn keys(
        recorded: &RecordedEvent,
        kind: DocumentKind,
        subsidiary: &str,
        number: &str,
        rows: &mut RowSet,
    ) -> Result<(), ProjectionError> {
        let mut strongest = BTreeMap::new();
        for key in document_keys(number) {
            let entry = strongest.entry(key.text).or_insert(key.kind);
            if key.kind < *entry {
                *entry = key.kind;
            }
        }
        let customer = recorded.envelope.customer_id.to_string();
        let at = stored_position(recorded)?;
        let table = rows.of(&DOCUMENT_KEYS)?;
        for (text, key_kind) in strongest {
            table.push([
                text.into(),
                (key_kind as i32).into(),
                document_kind_name(kind).into(),
                subsidiary.into(),
                number.into(),
                customer.as_str().into(),
                at.into(),
            ])?;
        }
        Ok(())
    }

    fn names(
        recorded: &RecordedEvent,
        profile: &CustomerProfile,
        rows: &mut RowSet,
    ) -> Result<(), ProjectionError> {
        let customer = recorded.envelope.customer_id.to_string();
        let key = |name: &str| payer_key(name).unwrap_or_default();
        rows.upsert_kept(
            &CUSTOMER_NAME_KEYS,
            &CUSTOMER_NAME_KEYS_HISTORY,
            customer.clone(),
            [
                customer.into(),
                key(profile.name.as_str()).into(),
                key(profile.legal_name.as_str()).into(),
                stored_position(recorded)?.into(),
            ],
        )
    }

    fn line(
        recorded: &RecordedEvent,
        subsidiary: &str,
        line: &StatementLine,
        rows: &mut RowSet,
    ) -> Result<(), ProjectionError> {
        let key = |text: &Option<String>| text.as_deref().and_then(payer_key).unwrap_or_default();
        rows.of(&STATEMENT_LINES)?.push([
            bank_account(recorded)?.into(),
            line.line_id.as_str().into(),
            line.statement_id.clone().unwrap_or_default().into(),
            subsidiary.into(),
            line.value_date.into(),
            line.amount.currency().code().into(),
            to_minor(line.amount, recorded.position)?.into(),
            line.payer_name.clone().unwrap_or_default().into(),
            line.payer_account.clone().unwrap_or_default().into(),
            key(&line.payer_name).into(),
            key(&line.payer_account).into(),
            line.reference.as_str().into(),
            stored_position(recorded)?.into(),
        ])
    }
}

/// Allocations as `receipt_parts` stores them: `[{subsidiary_id, invoice_number, amount}]`.
fn allocations_json(allocations: &[AllocationRequest]) -> serde_json::Value {
    allocations
        .iter()
        .map(|a| {
            serde_json::json!({
                "subsidiary_id": a.invoice.subsidiary_id.as_str(),
                "invoice_number": a.invoice.invoice_number.as_str(),
                "amount": a.amount.amount().to_string(),
            })
        })
        .collect()
}

/// The bank account whose stream the event is in.
fn bank_account(recorded: &RecordedEvent) -> Result<String, ProjectionError> {
    recorded
        .envelope
        .customer_id
        .bank_account_id()
        .map(String::from)
        .ok_or_else(|| ProjectionError::Event {
            position: recorded.position,
            problem: format!(
                "a bank account's event in {}, not a bank account's stream",
                recorded.envelope.customer_id
            ),
        })
}

fn json(recorded: &RecordedEvent, value: &serde_json::Value) -> Result<String, ProjectionError> {
    serde_json::to_string(value).map_err(|e| ProjectionError::Event {
        position: recorded.position,
        problem: e.to_string(),
    })
}

impl Projection for Receipts {
    fn name(&self) -> &'static str {
        NAME
    }

    fn tables(&self) -> &'static [&'static Table] {
        &TABLES
    }

    fn reads(&self, event_type: EventType) -> bool {
        matches!(
            event_type,
            EventType::InvoiceIssued
                | EventType::CreditNoteIssued
                | EventType::CustomerRegistered
                | EventType::CustomerUpdated
                | EventType::BankAccountRegistered
                | EventType::StatementLineImported
                | EventType::StatementLineMatched
                | EventType::StatementLineExcluded
        )
    }

    fn add(&self, recorded: &RecordedEvent, rows: &mut RowSet) -> Result<(), ProjectionError> {
        let at = stored_position(recorded)?;
        let principal = String::from(recorded.envelope.principal.clone());
        match &recorded.envelope.event {
            Event::InvoiceIssued(e) => Self::keys(
                recorded,
                DocumentKind::Invoice,
                e.subsidiary_id.as_str(),
                e.invoice_number.as_str(),
                rows,
            ),
            Event::CreditNoteIssued(e) => Self::keys(
                recorded,
                DocumentKind::CreditNote,
                e.subsidiary_id.as_str(),
                e.credit_note_number.as_str(),
                rows,
            ),
            Event::CustomerRegistered(e) => Self::names(recorded, &e.profile, rows),
            Event::CustomerUpdated(e) => Self::names(recorded, &e.profile, rows),
            Event::BankAccountRegistered(e) => rows.of(&BANK_ACCOUNTS)?.push([
                bank_account(recorded)?.into(),
                e.subsidiary_id.as_str().into(),
                e.currency.code().into(),
                e.number.as_str().into(),
                e.bank.as_str().into(),
                e.name.as_str().into(),
                at.into(),
            ]),
            Event::StatementLineImported(e) => {
                Self::line(recorded, e.subsidiary_id.as_str(), &e.line, rows)
            }
            Event::StatementLineMatched(e) => {
                let account = bank_account(recorded)?;
                let (method, confidence, reasons) = match &e.method {
                    MatchMethod::Automatic {
                        confidence,
                        reasons,
                    } => (
                        "AUTOMATIC",
                        i32::from(*confidence),
                        json(recorded, &serde_json::json!(reasons))?,
                    ),
                    MatchMethod::Reviewed => ("REVIEWED", 0, "[]".to_owned()),
                };
                rows.of(&LINE_OUTCOMES)?.push([
                    account.as_str().into(),
                    e.line_id.as_str().into(),
                    "MATCHED".into(),
                    method.into(),
                    confidence.into(),
                    reasons.into(),
                    "".into(),
                    "".into(),
                    principal.into(),
                    at.into(),
                ])?;
                for (index, matched) in e.parts.iter().enumerate() {
                    let part = &matched.part;
                    let credit_id = if part.credit_applications.is_empty() {
                        String::new()
                    } else {
                        receipt_credit_id(&recorded.envelope.customer_id, &e.line_id, index)
                            .to_string()
                    };
                    rows.of(&RECEIPT_PARTS)?.push([
                        account.as_str().into(),
                        e.line_id.as_str().into(),
                        i32::try_from(index).unwrap_or(i32::MAX).into(),
                        part.customer_id.as_str().into(),
                        matched.payment_id.to_string().into(),
                        part.amount.currency().code().into(),
                        to_minor(part.amount, recorded.position)?.into(),
                        part.on_account.into(),
                        json(recorded, &allocations_json(&part.allocations))?.into(),
                        json(recorded, &allocations_json(&part.credit_applications))?.into(),
                        credit_id.into(),
                        at.into(),
                    ])?;
                }
                Ok(())
            }
            Event::StatementLineExcluded(e) => {
                let reason: &'static str = e.reason.into();
                rows.of(&LINE_OUTCOMES)?.push([
                    bank_account(recorded)?.into(),
                    e.line_id.as_str().into(),
                    "EXCLUDED".into(),
                    "REVIEWED".into(),
                    0.into(),
                    "[]".into(),
                    reason.into(),
                    e.note.as_str().into(),
                    principal.into(),
                    at.into(),
                ])
            }
            _ => Ok(()),
        }
    }
}
