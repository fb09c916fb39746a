//! Cash application: which customer a bank receipt comes from and which invoices it pays.
//!
//! A receipt is one credit line of a bank statement: an amount, a value date, the payer's name
//! and account when the bank gives them, and a free-text reference. The read side gathers the
//! evidence about it (the open documents its reference or its amount could name, what is known
//! about its payer, the customers' paying patterns and names) and [`rank`] turns that evidence
//! into at most [`CANDIDATES_MAX`] candidates, best first, each a customer with the allocations
//! it would post, a [`Confidence`] and the [`Reason`]s for it. [`automatic`] says whether the best
//! one is sure enough to post without a person. Everything here is a pure function of its
//! arguments: the same evidence in any order gives the same candidates.
//!
//! # Reading a receipt
//!
//! Per customer, the engine reads the receipt up to three ways and keeps the one worth most:
//!
//! - **named**: the documents the reference names (`reference.rs`, by the keys of `keys.rs`).
//!   Named invoices are paid oldest due first: in full when the amount is what they owe
//!   together (or, for one invoice due in several rows, its row next due); net of the named
//!   credit notes when the amount is what the invoices owe less what those credit notes hold
//!   (the allocations take the amount, and the caller applies the credit notes to what is left);
//!   when the reference names several invoices and the amount is what exactly one of them
//!   owes, that one (the others named are a reason to look); otherwise as far as the amount
//!   goes (a partial payment), or in full with the rest on account (an over-payment). A named
//!   credit note is never allocated.
//! - **by amount**: the customer's oldest-due open invoice that owes exactly the amount, else the
//!   oldest whose row next due is the amount, else the set of its oldest invoices that owe the
//!   amount together (`sets.rs`).
//! - **payer only**: nothing allocated, all on account; only when neither reading exists and the
//!   payer is known or resembles the customer.
//!
//! # Weights
//!
//! A candidate's confidence is the sum of the points of its evidence, capped at 100, then at the
//! caps below. A wrong automatic posting is worse than none: it moves money against the wrong
//! customer's invoices, and nobody looks at a posting that went through. So the points are set
//! such that only a reference that names the document, together with an amount it explains,
//! reaches the default threshold (90) without help; everything else needs more evidence, or a
//! person.
//!
//! | evidence | points |
//! | --- | --- |
//! | reference names a document, `Exact` key (separators and case aside) | 60 |
//! | ... `NoLeadingZeros` key (sequences are padded to one width per subsidiary) | 60 |
//! | ... `NoPrefix` key (the subsidiary's letters missing) | 48 |
//! | ... `DigitsOnly` key (a year and a sequence: many subsidiaries share it) | 25 |
//! | ... the same words name documents of another customer as well (`AmbiguousReference`) | 5 |
//! | amount equals what the named documents owe, or what one invoice owes | 32 |
//! | amount equals the row next due of an invoice due in several rows | 30 |
//! | amount equals the named invoices less the named credit notes (`NetOfCreditNote`) | 30 |
//! | amount equals a set of unnamed invoices found by searching | 20 |
//! | any amount, when another customer's documents fit it too and no unambiguous reference says which (`AmbiguousAmount`) | at most 10 |
//! | payer account in the customer's record | 30 |
//! | payer account learned from accepted matches | 15 + 3 per match, up to 5 matches (30) |
//! | payer name in the customer's record | 15 |
//! | payer name learned from accepted matches | 10 + 2 per match, up to 5 matches (20) |
//! | payer name equal to the customer's name or legal name ([`payer_key`] of both) | 15 |
//! | one of the two names containing the other (at least [`NAME_CONTAINS_CHARS_MIN`] characters) | 8 |
//! | account and name together (the name counts once: its best evidence) | at most 35 |
//! | the receipt arrives when the customer usually pays (`UsualPattern`) | 5 |
//!
//! | cap | confidence at most |
//! | --- | --- |
//! | nothing allocated (a known payer alone) | 40 |
//! | allocations that do not explain the amount: a partial payment, money left on account, invoices named and not paid | 80 |
//!
//! What follows from the table:
//!
//! - An `Exact` or `NoLeadingZeros` reference with the amount it explains (its open amount, its
//!   row, a named set, net of a named credit note) reaches 90; a `NoPrefix` one (80) needs a
//!   known payer as well; a `DigitsOnly` one (57) needs a known payer and the usual pattern.
//! - Without a reference nothing is automatic: a payer, the amount and the pattern at their best
//!   add up to 72. In particular a learned payer account and a unique amount make a good
//!   candidate for a person to confirm, not an automatic posting: a payer account learned from a
//!   wrong match, or a customer with many invoices of one amount, would post wrongly again and
//!   again.
//! - A payer who pays for a sister company: the reference and the amount (92) outrank the payer
//!   (at most 40 without either), so the customer the reference names wins.
//! - Equal amounts at two customers with nothing else: 10 each, never automatic.
//!
//! # Automatic posting
//!
//! [`automatic`] takes the best candidate when it allocates something, its confidence is at least
//! the policy's threshold (default [`AUTO_THRESHOLD_DEFAULT`]) and it is ahead of every other
//! candidate by at least the policy's margin (default [`AUTO_MARGIN_DEFAULT`]).

mod keys;
mod reference;
mod score;
mod sets;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ids::{CustomerId, SubsidiaryId};
use crate::money::{Currency, Money};

pub use keys::{Key, KeyKind, document_keys, payer_key, reference_keys};

/// Most candidates [`rank`] returns: a person choosing among more than a handful is searching,
/// which the dashboard does better.
pub const CANDIDATES_MAX: usize = 5;

/// Most open invoices of one customer the set search considers, the oldest due: a payer clears
/// its oldest invoices first, and 24 keep the search small.
pub const SET_DOCUMENTS_MAX: usize = 24;

/// Most invoices in one set: a remittance of more is rarely paid without naming them, and every
/// invoice more makes a coincidental sum likelier.
pub const SET_SIZE_MAX: usize = 6;

/// Most steps of one set search, so that one receipt against a customer with many invoices of
/// awkward amounts costs a bounded time; a search out of steps finds no set.
pub const SET_SEARCH_STEPS_MAX: usize = 100_000;

/// Most adjacent runs of letters and digits of a reference read together as one number: the
/// demo's numbers have at most four (`SHT INV 2026 000123`), one more for a stray separator.
pub const REFERENCE_JOIN_MAX: usize = 5;

/// Characters of a reference that are read: more than any bank's remittance field holds (SEPA's
/// is 140), so that a pasted document cannot cost without bound.
pub const REFERENCE_CHARS_MAX: usize = 256;

/// Most key texts [`reference_keys`] returns for the read side to look up.
pub const REFERENCE_KEYS_MAX: usize = 1_024;

/// Fewest letters and digits of any key but an exact one: `2026` or `7` alone would name half
/// the ledger.
pub const KEY_ALPHANUMERICS_MIN: usize = 5;

/// Fewest characters of the shorter of two names for one containing the other to count: `ACME`
/// in `ACME TRADING` counts, `HK` in `HK SERVICES` does not.
pub const NAME_CONTAINS_CHARS_MIN: usize = 4;

/// Fewest payments behind a paying pattern for it to say anything.
pub const PATTERN_PAYMENTS_MIN: u32 = 3;

/// How far, in days, a receipt may arrive from a customer's median days after due and still be
/// usual.
pub const PATTERN_TOLERANCE_DAYS: i64 = 5;

/// The confidence from which [`automatic`] posts by default.
pub const AUTO_THRESHOLD_DEFAULT: u8 = 90;

/// How far ahead of the second candidate the best must be by default.
pub const AUTO_MARGIN_DEFAULT: u8 = 20;

/// A credit line of a bank statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub amount: Money,
    pub value_date: NaiveDate,
    pub payer_name: Option<String>,
    pub payer_account: Option<String>,
    pub reference: String,
}

/// What kind of document an open document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum DocumentKind {
    Invoice,
    CreditNote,
}

/// A document that still owes (an invoice) or holds (a credit note) money on the receipt's value
/// date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenDocument {
    pub customer: CustomerId,
    pub subsidiary: SubsidiaryId,
    pub kind: DocumentKind,
    /// As issued, e.g. `SHT-INV-2026-000123`, `SZE/2026/000045`, `HKS-202603-000007`.
    pub number: String,
    /// What it still owes (or holds) on the receipt's value date; more than zero.
    pub open: Money,
    /// Its (next) due date.
    pub due_date: NaiveDate,
    /// When it is due in several rows (payment terms or an instalment plan): what the row next
    /// due owes.
    pub next_row: Option<Money>,
}

/// Where what is known about a payer comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PayerSource {
    /// From earlier matches that a person or the engine accepted.
    Learned { matches: u32 },
    /// From the customer's own record.
    Record,
}

/// What of the payer is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PayerBy {
    Account,
    Name,
}

/// The receipt's payer is known for a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayerHint {
    pub customer: CustomerId,
    pub by: PayerBy,
    pub source: PayerSource,
}

/// When a customer usually pays: the median of its payments' days after the due date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayingPattern {
    pub customer: CustomerId,
    pub median_days_after_due: i32,
    pub payments: u32,
}

/// A customer's name and legal name, from its record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerName {
    pub customer: CustomerId,
    pub names: Vec<String>,
}

/// Everything the read side found that may bear on a receipt.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Evidence {
    pub documents: Vec<OpenDocument>,
    pub payers: Vec<PayerHint>,
    pub patterns: Vec<PayingPattern>,
    pub names: Vec<CustomerName>,
}

/// Why a confidence was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfidenceError {
    #[error("a confidence is a percentage from 0 to 100, got {0}")]
    AboveHundred(u8),
}

/// How sure the engine is of a candidate, in percent.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(try_from = "u8", into = "u8")]
pub struct Confidence(u8);

impl Confidence {
    pub const NONE: Confidence = Confidence(0);
    pub const FULL: Confidence = Confidence(100);

    pub fn new(percent: u8) -> Result<Self, ConfidenceError> {
        if percent > 100 {
            return Err(ConfidenceError::AboveHundred(percent));
        }
        Ok(Confidence(percent))
    }

    pub fn percent(self) -> u8 {
        self.0
    }

    /// Points capped at 100.
    fn of_points(points: u32) -> Self {
        Confidence(u8::try_from(points.min(100)).unwrap_or(100))
    }
}

impl TryFrom<u8> for Confidence {
    type Error = ConfidenceError;
    fn try_from(percent: u8) -> Result<Self, ConfidenceError> {
        Confidence::new(percent)
    }
}

impl From<Confidence> for u8 {
    fn from(confidence: Confidence) -> u8 {
        confidence.0
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} %", self.0)
    }
}

/// How a payer's name resembles a customer's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Resemblance {
    /// The same, once normalised ([`payer_key`]).
    Equal,
    /// One contains the other, the shorter of at least [`NAME_CONTAINS_CHARS_MIN`] characters.
    Contains,
}

/// Why a candidate is what it is: machine-readable, with [`Reason::describe`] for a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reason {
    /// The reference names this document by a key of this kind.
    ReferenceNamesDocument { number: String, how: KeyKind },
    /// Words of the reference that name this customer's documents name another customer's just
    /// as well.
    AmbiguousReference,
    /// The reference names a credit note that the amount does not net off: the caller decides
    /// what to do with it.
    CreditNoteNamed { number: String },
    /// The amount is what this document owes.
    AmountEqualsOpen { number: String },
    /// The amount is what this invoice's row next due owes.
    AmountEqualsRow { number: String },
    /// The amount is what these invoices owe together, oldest due first.
    AmountEqualsSet { numbers: Vec<String> },
    /// The amount is what these invoices owe less what these credit notes hold: the allocations
    /// take the amount, and the credit notes are to settle the rest.
    NetOfCreditNote {
        invoices: Vec<String>,
        credit_notes: Vec<String>,
    },
    /// The amount pays this invoice only in part: it owes `open`.
    PartialPayment { number: String, open: Money },
    /// The amount is more than the named invoices owe: the rest stays on account.
    OverPayment { on_account: Money },
    /// The reference names these invoices as well, which the amount does not pay.
    NamedNotPaid { numbers: Vec<String> },
    /// Documents of another customer fit the amount as well.
    AmbiguousAmount,
    /// The payer's account is known for this customer.
    PayerAccountKnown { source: PayerSource },
    /// The payer's name is known for this customer.
    PayerNameKnown { source: PayerSource },
    /// The payer's name resembles this name of the customer.
    PayerNameResembles { name: String, how: Resemblance },
    /// The receipt arrives this many days after the due date of the oldest invoice it pays,
    /// within [`PATTERN_TOLERANCE_DAYS`] of when the customer usually pays.
    UsualPattern { days_after_due: i64 },
}

fn source_text(source: PayerSource) -> String {
    match source {
        PayerSource::Record => "the customer's record".to_owned(),
        PayerSource::Learned { matches: 1 } => "one earlier match".to_owned(),
        PayerSource::Learned { matches } => format!("{matches} earlier matches"),
    }
}

impl Reason {
    /// The reason as an English sentence.
    pub fn describe(&self) -> String {
        match self {
            Reason::ReferenceNamesDocument { number, how } => {
                let how = match how {
                    KeyKind::Exact => "exactly",
                    KeyKind::NoLeadingZeros => "without its leading zeros",
                    KeyKind::NoPrefix => "without its subsidiary's prefix",
                    KeyKind::DigitsOnly => "by its digits only",
                };
                format!("The reference names {number} {how}.")
            }
            Reason::AmbiguousReference => {
                "The reference names documents of other customers just as well.".to_owned()
            }
            Reason::CreditNoteNamed { number } => {
                format!("The reference names the credit note {number}.")
            }
            Reason::AmountEqualsOpen { number } => {
                format!("The amount is what {number} owes.")
            }
            Reason::AmountEqualsRow { number } => {
                format!("The amount is what the row of {number} next due owes.")
            }
            Reason::AmountEqualsSet { numbers } => {
                format!("The amount is what {} owe together.", numbers.join(", "))
            }
            Reason::NetOfCreditNote {
                invoices,
                credit_notes,
            } => format!(
                "The amount is what {} owe less the credit notes {}, which are to settle the rest.",
                invoices.join(", "),
                credit_notes.join(", ")
            ),
            Reason::PartialPayment { number, open } => {
                format!("The amount pays {number} only in part: it owes {open}.")
            }
            Reason::OverPayment { on_account } => format!(
                "The amount is more than the named invoices owe: {on_account} stays on account."
            ),
            Reason::NamedNotPaid { numbers } => format!(
                "The reference names {} as well, which the amount does not pay.",
                numbers.join(", ")
            ),
            Reason::AmbiguousAmount => {
                "Documents of another customer fit the amount as well.".to_owned()
            }
            Reason::PayerAccountKnown { source } => format!(
                "The payer's account is known for this customer from {}.",
                source_text(*source)
            ),
            Reason::PayerNameKnown { source } => format!(
                "The payer's name is known for this customer from {}.",
                source_text(*source)
            ),
            Reason::PayerNameResembles { name, how } => match how {
                Resemblance::Equal => format!("The payer's name is the customer's name {name}."),
                Resemblance::Contains => {
                    format!("The payer's name and the customer's name {name} contain one another.")
                }
            },
            Reason::UsualPattern { days_after_due } => format!(
                "The receipt arrives {days_after_due} days after the due date, when this customer usually pays."
            ),
        }
    }
}

/// Money a candidate takes off one invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    pub number: String,
    /// The subsidiary that issued the invoice: numbers are unique per subsidiary only.
    pub subsidiary: SubsidiaryId,
    pub amount: Money,
}

/// A customer the receipt may come from, and what posting it there would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub customer: CustomerId,
    /// Oldest due first; each at most what its invoice owes.
    pub allocations: Vec<Allocation>,
    /// What is left of the receipt after the allocations.
    pub on_account: Money,
    /// The customer's unapplied credit to apply to the invoices the allocations leave open
    /// (oldest due first, each at most what it still owes): what the named credit notes hold,
    /// when the amount is the invoices less those notes (`NetOfCreditNote`); empty otherwise.
    pub credit_applications: Vec<Allocation>,
    pub confidence: Confidence,
    pub reasons: Vec<Reason>,
}

/// When [`automatic`] posts without a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AutoPolicy {
    /// The least confidence of the best candidate.
    pub threshold: Confidence,
    /// How many points the best candidate must be ahead of every other.
    pub margin: u8,
}

impl Default for AutoPolicy {
    fn default() -> Self {
        AutoPolicy {
            threshold: Confidence(AUTO_THRESHOLD_DEFAULT),
            margin: AUTO_MARGIN_DEFAULT,
        }
    }
}

/// The candidate to post without a person, if any: the best of `candidates` (as [`rank`] orders
/// them) when it allocates something, reaches the policy's threshold and is ahead of every other
/// candidate by the policy's margin.
pub fn automatic<'a>(candidates: &'a [Candidate], policy: &AutoPolicy) -> Option<&'a Candidate> {
    let (best, others) = candidates.split_first()?;
    let runner_up = others
        .iter()
        .map(|candidate| candidate.confidence.percent())
        .max()
        .unwrap_or(0);
    let ahead = best.confidence.percent().saturating_sub(runner_up) >= policy.margin
        && best.confidence.percent() > runner_up;
    (!best.allocations.is_empty() && best.confidence >= policy.threshold && ahead).then_some(best)
}

/// One way of reading the receipt for one customer: what it would allocate and why.
#[derive(Debug, Clone)]
struct Reading {
    /// Positions among the usable documents and the amounts, oldest due first.
    allocations: Vec<(usize, Decimal)>,
    /// Credit to apply after the allocations: positions and amounts, oldest due first.
    credits: Vec<(usize, Decimal)>,
    reasons: Vec<Reason>,
    reference_points: u32,
    amount_points: u32,
    /// The allocations take the whole amount and the amount is what the reading says it is.
    explained: bool,
    /// An unambiguous reference names the documents allocated.
    named_unambiguously: bool,
}

impl Reading {
    fn bare() -> Self {
        Reading {
            allocations: Vec::new(),
            credits: Vec::new(),
            reasons: Vec::new(),
            reference_points: 0,
            amount_points: 0,
            explained: false,
            named_unambiguously: false,
        }
    }
}

/// What the payer says about one customer.
struct PayerEvidence {
    points: u32,
    reasons: Vec<Reason>,
}

/// The candidates for `receipt`, best first (by confidence, then customer id), at most
/// [`CANDIDATES_MAX`]. Documents in another currency than the receipt's, or owing nothing, are
/// ignored; a receipt of no positive amount has no candidates.
pub fn rank(receipt: &Receipt, evidence: &Evidence) -> Vec<Candidate> {
    if receipt.amount.amount() <= Decimal::ZERO {
        return Vec::new();
    }
    let currency = receipt.amount.currency();
    let documents = usable_documents(currency, &evidence.documents);
    let named = reference::named(&receipt.reference, &documents);

    let mut by_customer: BTreeMap<&CustomerId, Vec<usize>> = BTreeMap::new();
    for (position, document) in documents.iter().enumerate() {
        by_customer
            .entry(&document.customer)
            .or_default()
            .push(position);
    }
    let mut readings: BTreeMap<&CustomerId, Vec<Reading>> = BTreeMap::new();
    for (customer, positions) in &by_customer {
        let mine: Vec<&reference::Named> = named
            .iter()
            .filter(|n| documents[n.document].customer == **customer)
            .collect();
        let mut found = Vec::new();
        if !mine.is_empty() {
            found.push(named_reading(receipt, &documents, &mine));
        }
        found.extend(amount_reading(receipt, &documents, positions));
        readings.insert(customer, found);
    }
    // Customers whose documents fit the amount by some reading: when several do, the amount
    // alone does not say which of them paid.
    let fitting: BTreeSet<&CustomerId> = readings
        .iter()
        .filter(|(_, found)| found.iter().any(|r| r.explained))
        .map(|(customer, _)| *customer)
        .collect();

    let payer_name = receipt.payer_name.as_deref().and_then(payer_key);
    let mut customers: BTreeSet<&CustomerId> = readings.keys().copied().collect();
    customers.extend(evidence.payers.iter().map(|hint| &hint.customer));
    customers.extend(evidence.names.iter().map(|names| &names.customer));

    let mut candidates: Vec<Candidate> = Vec::new();
    for customer in customers {
        let payer = payer_evidence(customer, evidence, payer_name.as_deref());
        let mut found = readings.remove(customer).unwrap_or_default();
        if found.is_empty() {
            found.push(Reading::bare());
        }
        let shared = fitting.iter().any(|other| *other != customer);
        let best = found
            .into_iter()
            .map(|reading| {
                candidate(
                    receipt, evidence, &documents, customer, reading, &payer, shared,
                )
            })
            .reduce(|best, next| {
                if next.confidence > best.confidence {
                    next
                } else {
                    best
                }
            });
        if let Some(best) = best.filter(|c| !c.reasons.is_empty()) {
            candidates.push(best);
        }
    }
    candidates.sort_by(|a, b| {
        b.confidence
            .cmp(&a.confidence)
            .then_with(|| a.customer.cmp(&b.customer))
    });
    candidates.truncate(CANDIDATES_MAX);
    candidates
}

/// The documents in the receipt's currency that owe something, in one order whatever the
/// order given (customer, due date, number, subsidiary, kind, amounts), each document once. A row
/// next due that is not a positive amount in the currency, below what the document owes, is
/// dropped.
fn usable_documents(currency: Currency, given: &[OpenDocument]) -> Vec<OpenDocument> {
    let mut documents: Vec<OpenDocument> = given
        .iter()
        .filter(|d| d.open.currency() == currency && d.open.amount() > Decimal::ZERO)
        .cloned()
        .map(|mut d| {
            d.next_row = d.next_row.filter(|row| {
                row.currency() == currency
                    && row.amount() > Decimal::ZERO
                    && row.amount() < d.open.amount()
            });
            d
        })
        .collect();
    documents.sort_by(|a, b| {
        a.customer
            .cmp(&b.customer)
            .then(a.due_date.cmp(&b.due_date))
            .then_with(|| a.number.cmp(&b.number))
            .then_with(|| a.subsidiary.cmp(&b.subsidiary))
            .then(a.kind.cmp(&b.kind))
            .then(a.open.amount().cmp(&b.open.amount()))
            .then(
                a.next_row
                    .map(|row| row.amount())
                    .cmp(&b.next_row.map(|row| row.amount())),
            )
    });
    documents.dedup_by(|later, earlier| {
        later.customer == earlier.customer
            && later.subsidiary == earlier.subsidiary
            && later.kind == earlier.kind
            && later.number == earlier.number
    });
    documents
}

/// Takes `amount` off the documents at `positions` in their order, each at most what it owes.
fn oldest_first(
    documents: &[OpenDocument],
    positions: &[usize],
    amount: Decimal,
) -> Vec<(usize, Decimal)> {
    let mut left = amount;
    let mut allocations = Vec::new();
    for &position in positions {
        if left <= Decimal::ZERO {
            break;
        }
        let take = documents[position].open.amount().min(left);
        allocations.push((position, take));
        left -= take;
    }
    allocations
}

fn numbers(documents: &[OpenDocument], positions: &[usize]) -> Vec<String> {
    positions
        .iter()
        .map(|&position| documents[position].number.clone())
        .collect()
}

/// The reading of the documents the reference names for one customer (see the module's doc).
fn named_reading(
    receipt: &Receipt,
    documents: &[OpenDocument],
    named: &[&reference::Named],
) -> Reading {
    let amount = receipt.amount.amount();
    let mut reading = Reading::bare();
    for n in named.iter().filter(|n| !n.ambiguous) {
        reading.reasons.push(Reason::ReferenceNamesDocument {
            number: documents[n.document].number.clone(),
            how: n.kind,
        });
        reading.reference_points = reading.reference_points.max(score::reference(n.kind));
        reading.named_unambiguously = true;
    }
    if named.iter().any(|n| n.ambiguous) {
        reading.reasons.push(Reason::AmbiguousReference);
        reading.reference_points = reading.reference_points.max(score::REFERENCE_AMBIGUOUS);
    }
    let of_kind = |kind: DocumentKind| -> Vec<usize> {
        named
            .iter()
            .map(|n| n.document)
            .filter(|&position| documents[position].kind == kind)
            .collect()
    };
    let invoices = of_kind(DocumentKind::Invoice);
    let credit_notes = of_kind(DocumentKind::CreditNote);
    let owed: Decimal = invoices
        .iter()
        .map(|&position| documents[position].open.amount())
        .sum();
    let credited: Decimal = credit_notes
        .iter()
        .map(|&position| documents[position].open.amount())
        .sum();
    let mut credit_notes_used = false;
    if invoices.is_empty() {
        // Only credit notes named: who, but not what.
    } else if amount == owed {
        reading.allocations = oldest_first(documents, &invoices, amount);
        reading.reasons.push(match invoices.as_slice() {
            [one] => Reason::AmountEqualsOpen {
                number: documents[*one].number.clone(),
            },
            several => Reason::AmountEqualsSet {
                numbers: numbers(documents, several),
            },
        });
        reading.amount_points = score::AMOUNT_EQUALS_OPEN;
        reading.explained = true;
    } else if !credit_notes.is_empty() && amount == owed - credited {
        reading.allocations = oldest_first(documents, &invoices, amount);
        // What the payment leaves open of each invoice is the credit's to settle: together
        // exactly what the notes hold, as the amount is what the invoices owe less that.
        reading.credits = invoices
            .iter()
            .map(|&position| {
                let paid: Decimal = reading
                    .allocations
                    .iter()
                    .filter(|(paid, _)| *paid == position)
                    .map(|(_, amount)| *amount)
                    .sum();
                (position, documents[position].open.amount() - paid)
            })
            .filter(|(_, left)| *left > Decimal::ZERO)
            .collect();
        reading.reasons.push(Reason::NetOfCreditNote {
            invoices: numbers(documents, &invoices),
            credit_notes: numbers(documents, &credit_notes),
        });
        reading.amount_points = score::AMOUNT_NET_OF_CREDIT_NOTE;
        reading.explained = true;
        credit_notes_used = true;
    } else if let [one] = invoices.as_slice()
        && documents[*one]
            .next_row
            .is_some_and(|row| row.amount() == amount)
    {
        reading.allocations = vec![(*one, amount)];
        reading.reasons.push(Reason::AmountEqualsRow {
            number: documents[*one].number.clone(),
        });
        reading.amount_points = score::AMOUNT_EQUALS_ROW;
        reading.explained = true;
    } else if let Some(&paid) = one_owing(documents, &invoices, amount) {
        // The reference names more invoices than the amount pays: the one it pays exactly is
        // the likeliest reading, but the others named deserve a look.
        reading.allocations = vec![(paid, amount)];
        reading.reasons.push(Reason::AmountEqualsOpen {
            number: documents[paid].number.clone(),
        });
        let unpaid: Vec<usize> = invoices.iter().copied().filter(|&i| i != paid).collect();
        reading.reasons.push(Reason::NamedNotPaid {
            numbers: numbers(documents, &unpaid),
        });
        reading.amount_points = score::AMOUNT_EQUALS_OPEN;
    } else if amount < owed {
        reading.allocations = oldest_first(documents, &invoices, amount);
        if let Some(&(position, _)) = reading.allocations.last() {
            reading.reasons.push(Reason::PartialPayment {
                number: documents[position].number.clone(),
                open: documents[position].open,
            });
        }
    } else {
        reading.allocations = oldest_first(documents, &invoices, owed);
        reading.reasons.push(Reason::OverPayment {
            on_account: Money::of(amount - owed, receipt.amount.currency()),
        });
    }
    if !credit_notes_used {
        for &position in &credit_notes {
            reading.reasons.push(Reason::CreditNoteNamed {
                number: documents[position].number.clone(),
            });
        }
    }
    reading
}

/// The only one of several invoices that owes exactly `amount`, if exactly one does.
fn one_owing<'a>(
    documents: &[OpenDocument],
    invoices: &'a [usize],
    amount: Decimal,
) -> Option<&'a usize> {
    let mut owing = invoices
        .iter()
        .filter(|&&position| documents[position].open.amount() == amount);
    match (invoices.len(), owing.next(), owing.next()) {
        (2.., Some(one), None) => Some(one),
        _ => None,
    }
}

/// The reading of the amount alone against one customer's open invoices (see the module's doc).
fn amount_reading(
    receipt: &Receipt,
    documents: &[OpenDocument],
    positions: &[usize],
) -> Option<Reading> {
    let amount = receipt.amount.amount();
    let invoices: Vec<usize> = positions
        .iter()
        .copied()
        .filter(|&position| documents[position].kind == DocumentKind::Invoice)
        .collect();
    let found = |allocations: Vec<(usize, Decimal)>, reason: Reason, points: u32| Reading {
        allocations,
        credits: Vec::new(),
        reasons: vec![reason],
        reference_points: 0,
        amount_points: points,
        explained: true,
        named_unambiguously: false,
    };
    if let Some(&one) = invoices
        .iter()
        .find(|&&position| documents[position].open.amount() == amount)
    {
        let number = documents[one].number.clone();
        return Some(found(
            vec![(one, amount)],
            Reason::AmountEqualsOpen { number },
            score::AMOUNT_EQUALS_OPEN,
        ));
    }
    if let Some(&one) = invoices.iter().find(|&&position| {
        documents[position]
            .next_row
            .is_some_and(|row| row.amount() == amount)
    }) {
        let number = documents[one].number.clone();
        return Some(found(
            vec![(one, amount)],
            Reason::AmountEqualsRow { number },
            score::AMOUNT_EQUALS_ROW,
        ));
    }
    let considered: Vec<usize> = invoices.into_iter().take(SET_DOCUMENTS_MAX).collect();
    let minor: Vec<i128> = considered
        .iter()
        .map(|&position| documents[position].open.minor_units())
        .collect();
    let set = sets::oldest_set(
        &minor,
        receipt.amount.minor_units(),
        SET_SIZE_MAX,
        SET_SEARCH_STEPS_MAX,
    )?;
    let chosen: Vec<usize> = set.iter().map(|&i| considered[i]).collect();
    let allocations = chosen
        .iter()
        .map(|&position| (position, documents[position].open.amount()))
        .collect();
    Some(found(
        allocations,
        Reason::AmountEqualsSet {
            numbers: numbers(documents, &chosen),
        },
        score::AMOUNT_EQUALS_FOUND_SET,
    ))
}

/// What the payer hints and the names say about one customer; the name counts once, by its best
/// evidence.
fn payer_evidence(
    customer: &CustomerId,
    evidence: &Evidence,
    payer_name: Option<&str>,
) -> PayerEvidence {
    let mut reasons = Vec::new();
    let best = |by: PayerBy, points: fn(PayerSource) -> u32| {
        evidence
            .payers
            .iter()
            .filter(|hint| hint.customer == *customer && hint.by == by)
            .map(|hint| (points(hint.source), hint.source))
            .max()
    };
    let mut account_points = 0;
    if let Some((points, source)) = best(PayerBy::Account, score::payer_account) {
        account_points = points;
        reasons.push(Reason::PayerAccountKnown { source });
    }
    let mut name_points = 0;
    if let Some((points, source)) = best(PayerBy::Name, score::payer_name) {
        name_points = points;
        reasons.push(Reason::PayerNameKnown { source });
    }
    if let Some((how, name)) = payer_name.and_then(|payer| resemblance(customer, evidence, payer)) {
        name_points = name_points.max(score::resemblance(how));
        reasons.push(Reason::PayerNameResembles { name, how });
    }
    PayerEvidence {
        points: (account_points + name_points).min(score::PAYER_MAX),
        reasons,
    }
}

/// How closely the payer's name (normalised) resembles one of the customer's names: the closest,
/// and of equals the first name in text order.
fn resemblance(
    customer: &CustomerId,
    evidence: &Evidence,
    payer: &str,
) -> Option<(Resemblance, String)> {
    evidence
        .names
        .iter()
        .filter(|names| names.customer == *customer)
        .flat_map(|names| names.names.iter())
        .filter_map(|name| {
            let key = payer_key(name)?;
            let (shorter, longer) = if key.chars().count() <= payer.chars().count() {
                (key.as_str(), payer)
            } else {
                (payer, key.as_str())
            };
            let how = if key == payer {
                Resemblance::Equal
            } else if shorter.chars().count() >= NAME_CONTAINS_CHARS_MIN && longer.contains(shorter)
            {
                Resemblance::Contains
            } else {
                return None;
            };
            Some((how, name.clone()))
        })
        .min()
}

/// The candidate one reading makes, with its confidence (see the module's table).
fn candidate(
    receipt: &Receipt,
    evidence: &Evidence,
    documents: &[OpenDocument],
    customer: &CustomerId,
    reading: Reading,
    payer: &PayerEvidence,
    shared: bool,
) -> Candidate {
    let currency = receipt.amount.currency();
    let mut reasons = reading.reasons;
    let mut amount_points = reading.amount_points;
    if shared && reading.explained && !reading.named_unambiguously {
        amount_points = amount_points.min(score::AMOUNT_SHARED);
        reasons.push(Reason::AmbiguousAmount);
    }
    reasons.extend(payer.reasons.iter().cloned());
    let mut pattern_points = 0;
    if let Some(days_after_due) =
        usual_days(receipt, evidence, documents, customer, &reading.allocations)
    {
        pattern_points = score::USUAL_PATTERN;
        reasons.push(Reason::UsualPattern { days_after_due });
    }
    let allocated: Decimal = reading.allocations.iter().map(|(_, amount)| *amount).sum();
    let on_account = receipt.amount.amount() - allocated;
    let mut points = reading.reference_points + amount_points + payer.points + pattern_points;
    if reading.allocations.is_empty() {
        points = points.min(score::CONFIDENCE_NOTHING_ALLOCATED_MAX);
    } else if !reading.explained || on_account > Decimal::ZERO {
        points = points.min(score::CONFIDENCE_AMOUNT_UNEXPLAINED_MAX);
    }
    debug_assert!(on_account >= Decimal::ZERO);
    debug_assert!(reading.allocations.iter().all(|(position, amount)| {
        *amount > Decimal::ZERO && *amount <= documents[*position].open.amount()
    }));
    debug_assert!(reading.credits.iter().all(|(position, credit)| {
        let paid: Decimal = reading
            .allocations
            .iter()
            .filter(|(paid, _)| paid == position)
            .map(|(_, amount)| *amount)
            .sum();
        *credit > Decimal::ZERO && paid + *credit <= documents[*position].open.amount()
    }));
    let allocations = |taken: &[(usize, Decimal)]| -> Vec<Allocation> {
        taken
            .iter()
            .map(|&(position, amount)| Allocation {
                number: documents[position].number.clone(),
                subsidiary: documents[position].subsidiary.clone(),
                amount: Money::of(amount, currency),
            })
            .collect()
    };
    let candidate = Candidate {
        customer: customer.clone(),
        allocations: allocations(&reading.allocations),
        credit_applications: allocations(&reading.credits),
        on_account: Money::of(on_account, currency),
        confidence: Confidence::of_points(points),
        reasons,
    };
    debug_assert_eq!(
        candidate
            .allocations
            .iter()
            .map(|allocation| allocation.amount.amount())
            .sum::<Decimal>()
            + candidate.on_account.amount(),
        receipt.amount.amount(),
        "allocations and money on account add up to the receipt"
    );
    candidate
}

/// The receipt's days after the due date of the oldest invoice it pays, when that is within
/// [`PATTERN_TOLERANCE_DAYS`] of the customer's usual (the pattern with the most payments, of at
/// least [`PATTERN_PAYMENTS_MIN`]).
fn usual_days(
    receipt: &Receipt,
    evidence: &Evidence,
    documents: &[OpenDocument],
    customer: &CustomerId,
    allocations: &[(usize, Decimal)],
) -> Option<i64> {
    let &(oldest, _) = allocations.first()?;
    let pattern = evidence
        .patterns
        .iter()
        .filter(|p| p.customer == *customer && p.payments >= PATTERN_PAYMENTS_MIN)
        .max_by_key(|p| (p.payments, std::cmp::Reverse(p.median_days_after_due)))?;
    let days = (receipt.value_date - documents[oldest].due_date).num_days();
    ((days - i64::from(pattern.median_days_after_due)).abs() <= PATTERN_TOLERANCE_DAYS)
        .then_some(days)
}
