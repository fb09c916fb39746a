//! Receipts: the credit lines of a bank account's statements, imported into the account's own
//! stream, then matched to the customers who paid (each part a payment of its own) or excluded
//! as not a receivable.
//!
//! A line is imported once: the bank's id of the transaction is its key, and the digest of its
//! content tells a statement imported again (the same id, the same digest: known, nothing
//! added) from another transaction that reuses an id (the same id, another digest: refused and
//! reported, never imported over the first). A line is settled once: matched or excluded, by
//! the matcher or by a person in the review queue, and never again, so that two matchers (two
//! importers of one file, a person and the matcher) cannot post one receipt twice. The match
//! names the payments it makes, their command ids derived from the line
//! ([`receipt_payment_id`]), and those payments are posted to the customers' accounts from the
//! match as recorded, so that a retry, by any process, posts the same command.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr};
use uuid::Uuid;

use super::application::ApplyUnappliedCash;
use super::feature::{CommandRules, Decide, DecisionContext, EventRules, Scope};
use super::payment::{RecordPayment, check_allocations};
use super::state::{
    AccountState, BankAccountRecord, LineStatus, StatementLineState, UnappliedSource,
};
use crate::allocation::AllocationRequest;
use crate::ids::{BankLineId, CommandId, CustomerId, SubsidiaryId};
use crate::limits::{
    ALLOCATIONS_PER_APPLICATION_MAX, MATCH_REASONS_MAX, NOTE_LENGTH_MAX, PAYER_TEXT_LENGTH_MAX,
    REASON_LENGTH_MAX, RECEIPT_PARTS_MAX, REFERENCE_LENGTH_MAX, STATEMENT_REFERENCE_LENGTH_MAX,
};
use crate::money::Money;
use crate::payment::PaymentMethod;
use crate::refusal::{FieldViolation, PreconditionViolation, Reason, Refusal};
use crate::rules::{
    InvalidEvent, business_date, check_not_ahead, check_positive, check_text, free_text, invalid,
    positive,
};

/// A credit line of a statement, imported into its bank account's stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportStatementLine {
    /// The subsidiary that holds the bank account (its registration's).
    pub subsidiary_id: SubsidiaryId,
    pub line: StatementLine,
}

/// A credit line of a statement was imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementLineImported {
    pub subsidiary_id: SubsidiaryId,
    pub line: StatementLine,
}

/// A credit line as the statement gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementLine {
    /// The bank's id of the transaction (or one derived from the line when the file gave
    /// none).
    pub line_id: BankLineId,
    /// The statement it came from, as the file names it, for people tracing it back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement_id: Option<String>,
    /// The day the money was the account's: the payment's received date.
    pub value_date: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking_date: Option<NaiveDate>,
    /// Always positive: debits are not receipts and are not imported.
    pub amount: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_account: Option<String>,
    /// The remittance text, which may name the invoices paid.
    pub reference: String,
    /// The hex SHA-256 of the line's content as the statement gave it (64 characters).
    pub digest: String,
}

/// The length of a line's digest: the hex of a SHA-256.
const DIGEST_LENGTH: usize = 64;

impl StatementLine {
    /// Every rule of a line's fields, whatever the account holds, but the bound of its value
    /// date, which needs the decision's date (a receipt is not in the future; `decide` checks
    /// it). Shared with the wire mapping.
    pub fn check(&self, violations: &mut Vec<FieldViolation>) {
        check_positive(violations, "line.amount", &self.amount);
        if let Some(id) = &self.statement_id {
            check_text(violations, "line.statement_id", id, PAYER_TEXT_LENGTH_MAX);
        }
        for (field, text) in [
            ("line.payer_name", &self.payer_name),
            ("line.payer_account", &self.payer_account),
        ] {
            if let Some(text) = text {
                check_text(violations, field, text, PAYER_TEXT_LENGTH_MAX);
            }
        }
        check_text(
            violations,
            "line.reference",
            &self.reference,
            STATEMENT_REFERENCE_LENGTH_MAX,
        );
        if !is_digest(&self.digest) {
            violations.push(FieldViolation::new(
                "line.digest",
                format!("must be {DIGEST_LENGTH} lower-case hex digits"),
            ));
        }
    }

    fn check_event(&self) -> Result<(), InvalidEvent> {
        positive("data.line.amount", &self.amount)?;
        business_date("data.line.value_date", self.value_date)?;
        if let Some(date) = self.booking_date {
            business_date("data.line.booking_date", date)?;
        }
        if let Some(id) = &self.statement_id {
            free_text("data.line.statement_id", id, PAYER_TEXT_LENGTH_MAX)?;
        }
        for (field, text) in [
            ("data.line.payer_name", &self.payer_name),
            ("data.line.payer_account", &self.payer_account),
        ] {
            if let Some(text) = text {
                free_text(field, text, PAYER_TEXT_LENGTH_MAX)?;
            }
        }
        free_text(
            "data.line.reference",
            &self.reference,
            STATEMENT_REFERENCE_LENGTH_MAX,
        )?;
        if !is_digest(&self.digest) {
            return Err(invalid("data.line.digest", "is not a hex SHA-256"));
        }
        Ok(())
    }
}

fn is_digest(text: &str) -> bool {
    text.len() == DIGEST_LENGTH
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The registered account of the stream, held by `subsidiary`: what every command of a bank
/// account's stream but the registration needs first.
fn registered<'a>(
    state: &'a AccountState,
    subsidiary: &SubsidiaryId,
) -> Result<&'a BankAccountRecord, Refusal> {
    let account = state.bank().account().ok_or_else(|| {
        Refusal::precondition(
            Reason::BankAccountNotRegistered,
            vec![PreconditionViolation {
                kind: Reason::BankAccountNotRegistered,
                subject: state.customer_id().to_string(),
                description: "the bank account is not registered".to_owned(),
            }],
        )
    })?;
    if account.subsidiary_id != *subsidiary {
        return Err(mismatch(
            state,
            format!(
                "the bank account is held by {}, not by {subsidiary}",
                account.subsidiary_id
            ),
        ));
    }
    Ok(account)
}

fn mismatch(state: &AccountState, description: String) -> Refusal {
    Refusal::precondition(
        Reason::BankAccountMismatch,
        vec![PreconditionViolation {
            kind: Reason::BankAccountMismatch,
            subject: state.customer_id().to_string(),
            description,
        }],
    )
}

impl CommandRules for ImportStatementLine {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        Some(&self.subsidiary_id)
    }

    fn check(&self) -> Vec<FieldViolation> {
        let mut violations = Vec::new();
        self.line.check(&mut violations);
        violations
    }

    fn effective_date(&self, _context: &DecisionContext) -> NaiveDate {
        self.line.value_date
    }

    fn scope(&self) -> Scope {
        Scope::BankAccount
    }
}

impl Decide for ImportStatementLine {
    type Event = StatementLineImported;

    /// A line already imported with the same content is known (nothing to add: the statement
    /// was imported again, or overlaps an earlier one); with other content it is another
    /// transaction reusing the bank's id, which is refused rather than guessed at.
    fn decide(
        &self,
        state: &AccountState,
        _command_id: CommandId,
        context: &DecisionContext,
    ) -> Result<StatementLineImported, Refusal> {
        let mut violations = Vec::new();
        check_not_ahead(
            &mut violations,
            "line.value_date",
            self.line.value_date,
            context.today(),
        );
        if !violations.is_empty() {
            return Err(Refusal::invalid(violations));
        }
        let account = registered(state, &self.subsidiary_id)?;
        if self.line.amount.currency() != account.currency {
            return Err(mismatch(
                state,
                format!(
                    "line {} is in {}, the bank account in {}",
                    self.line.line_id,
                    self.line.amount.currency(),
                    account.currency
                ),
            ));
        }
        if let Some(known) = state.bank().line(&self.line.line_id) {
            let subject = format!("{}/lines/{}", state.customer_id(), self.line.line_id);
            if known.digest == self.line.digest {
                return Err(Refusal::already_exists(
                    Reason::StatementLineKnown,
                    format!("{subject} was imported already"),
                ));
            }
            return Err(Refusal::precondition(
                Reason::StatementLineConflict,
                vec![PreconditionViolation {
                    kind: Reason::StatementLineConflict,
                    subject,
                    description: format!(
                        "the bank's id {} was imported already for another transaction \
                         ({} on {}); this line ({} on {}) differs",
                        self.line.line_id,
                        known.amount,
                        known.value_date,
                        self.line.amount,
                        self.line.value_date
                    ),
                }],
            ));
        }
        Ok(StatementLineImported {
            subsidiary_id: self.subsidiary_id.clone(),
            line: self.line.clone(),
        })
    }
}

impl EventRules for StatementLineImported {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        Some(&self.subsidiary_id)
    }

    fn takes_effect(&self) -> Option<(&'static str, NaiveDate)> {
        Some(("value date", self.line.value_date))
    }

    fn check(&self) -> Result<(), InvalidEvent> {
        self.line.check_event()
    }

    fn evolve(&self, state: &mut AccountState, _command_id: CommandId) -> Result<(), String> {
        let account = state
            .bank
            .account
            .as_ref()
            .ok_or("imports a line into a bank account not registered")?;
        if account.currency != self.line.amount.currency() {
            return Err(format!(
                "imports a line in {} into an account in {}",
                self.line.amount.currency(),
                account.currency
            ));
        }
        if state.bank.lines.contains_key(&self.line.line_id) {
            return Err(format!("imports line {} again", self.line.line_id));
        }
        state.bank.lines.insert(
            self.line.line_id.clone(),
            StatementLineState {
                digest: self.line.digest.clone(),
                amount: self.line.amount,
                value_date: self.line.value_date,
                status: LineStatus::Unmatched,
            },
        );
        Ok(())
    }

    fn scope(&self) -> Scope {
        Scope::BankAccount
    }
}

/// One customer's part of a receipt: the payment it becomes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptPart {
    pub customer_id: CustomerId,
    pub amount: Money,
    /// The invoices it pays; empty: oldest due first, unless `on_account`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allocations: Vec<AllocationRequest>,
    /// Nothing allocated: the part is the customer's unapplied cash.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub on_account: bool,
    /// The customer's unapplied credit (from credit notes on account that the reference names)
    /// applied to these invoices on the line's value date, after the payment: a payment "less
    /// a credit note" settles what the note's holder owes in full. Empty for most parts, and
    /// then absent from the event, so that matches recorded before it existed read and hash as
    /// they were written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub credit_applications: Vec<AllocationRequest>,
}

impl ReceiptPart {
    /// What the part's credit applications apply together, if it has any.
    pub fn credit_applied(&self) -> Option<Money> {
        let first = self.credit_applications.first()?;
        let total: Decimal = self
            .credit_applications
            .iter()
            .map(|a| a.amount.amount())
            .sum();
        Some(Money::of(total, first.amount.currency()))
    }
}

/// How a line was matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MatchMethod {
    /// By the matcher, sure enough to post without a person: its confidence (percent) and
    /// its reasons, as it stated them.
    Automatic {
        confidence: u8,
        reasons: Vec<String>,
    },
    /// By a person in the review queue (the envelope's principal).
    Reviewed,
}

/// A statement line is matched to the customers who paid it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchStatementLine {
    pub subsidiary_id: SubsidiaryId,
    pub line_id: BankLineId,
    pub parts: Vec<ReceiptPart>,
    pub method: MatchMethod,
}

/// A statement line was matched: each part is a payment to post, with its command id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementLineMatched {
    pub subsidiary_id: SubsidiaryId,
    pub line_id: BankLineId,
    pub parts: Vec<MatchedPart>,
    pub method: MatchMethod,
}

/// A part of a matched line and the command id of its payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchedPart {
    pub payment_id: CommandId,
    pub part: ReceiptPart,
}

/// The namespace of the payments' command ids made of statement lines (a UUID of its own, so
/// that no other derivation can produce them).
const RECEIPT_PAYMENT_NAMESPACE: Uuid = Uuid::from_u128(0x6f1d_2c7a_93b4_4e0f_8a51_c2d7_e93b_1046);

/// The command id of the payment a part of a line becomes: derived from the bank account, the
/// line and the part's place, so that the line's payments have the same ids whoever posts them.
pub fn receipt_payment_id(stream: &CustomerId, line: &BankLineId, part: usize) -> CommandId {
    let name = format!("{stream}\u{1f}{line}\u{1f}{part}");
    let uuid = Uuid::new_v5(&RECEIPT_PAYMENT_NAMESPACE, name.as_bytes());
    // A version 5 UUID has its version bits set: never the nil UUID.
    CommandId::from_uuid(uuid).unwrap_or_else(|_| unreachable!("a v5 UUID is not nil"))
}

/// The namespace of the credit applications' command ids made of statement lines.
const RECEIPT_CREDIT_NAMESPACE: Uuid = Uuid::from_u128(0x0c5e_7a21_4b9d_4d38_9e26_5f83_a1c4_d7b9);

/// The command id of the credit application that follows a part's payment (when the part
/// applies credit), derived like [`receipt_payment_id`] in a namespace of its own.
pub fn receipt_credit_id(stream: &CustomerId, line: &BankLineId, part: usize) -> CommandId {
    let name = format!("{stream}\u{1f}{line}\u{1f}{part}");
    let uuid = Uuid::new_v5(&RECEIPT_CREDIT_NAMESPACE, name.as_bytes());
    // A version 5 UUID has its version bits set: never the nil UUID.
    CommandId::from_uuid(uuid).unwrap_or_else(|_| unreachable!("a v5 UUID is not nil"))
}

/// The credit application a part of a matched line makes after its payment, if it applies
/// credit: the customer's unapplied credit applied to the part's invoices on the line's value
/// date, by the subsidiary that holds the bank account (as its payment is).
pub fn receipt_credit_application(
    subsidiary: &SubsidiaryId,
    value_date: NaiveDate,
    part: &ReceiptPart,
) -> Option<ApplyUnappliedCash> {
    Some(ApplyUnappliedCash {
        subsidiary_id: subsidiary.clone(),
        source: UnappliedSource::Credit,
        amount: part.credit_applied()?,
        application_date: value_date,
        allocations: part.credit_applications.clone(),
    })
}

/// The payment a part of a matched line becomes in the customer's account: received on the
/// line's value date by the subsidiary that holds the bank account, with the bank's id and the
/// line's reference (cut to a payment reference's length) as its reference.
pub fn receipt_payment(
    subsidiary: &SubsidiaryId,
    line_id: &BankLineId,
    value_date: NaiveDate,
    line_reference: &str,
    part: &ReceiptPart,
) -> RecordPayment {
    let mut reference = format!("{line_id} {}", line_reference.trim());
    if reference.chars().count() > REFERENCE_LENGTH_MAX {
        reference = reference.chars().take(REFERENCE_LENGTH_MAX).collect();
    }
    RecordPayment {
        subsidiary_id: subsidiary.clone(),
        amount: part.amount,
        received_date: value_date,
        method: PaymentMethod::BankTransfer,
        reference: reference.trim_end().to_owned(),
        allocations: part.allocations.clone(),
        on_account: part.on_account,
    }
}

/// The parts' rules that need nothing of the line: at least one and at most
/// [`RECEIPT_PARTS_MAX`], each a customer's (not a reserved stream) once, a positive amount,
/// allocations as a payment's, not both allocations and on account. Shared with the wire
/// mapping.
pub fn check_parts(violations: &mut Vec<FieldViolation>, parts: &[ReceiptPart]) {
    if parts.is_empty() || parts.len() > RECEIPT_PARTS_MAX {
        violations.push(FieldViolation::new(
            "parts",
            format!(
                "must hold 1 to {RECEIPT_PARTS_MAX} parts, got {}",
                parts.len()
            ),
        ));
        return;
    }
    let mut seen = std::collections::BTreeSet::new();
    for (index, part) in parts.iter().enumerate() {
        let field = |name: &str| format!("parts[{index}].{name}");
        if part.customer_id.is_reserved() {
            violations.push(FieldViolation::new(
                field("customer_id"),
                format!("{} is reserved, not a customer", part.customer_id),
            ));
        }
        if !seen.insert(&part.customer_id) {
            violations.push(FieldViolation::new(
                field("customer_id"),
                format!("{} has more than one part", part.customer_id),
            ));
        }
        check_positive(violations, &field("amount"), &part.amount);
        let mut inner = Vec::new();
        check_allocations(&mut inner, "part", part.amount, &part.allocations);
        violations.extend(
            inner
                .into_iter()
                .map(|v| FieldViolation::new(field(&v.field), v.description)),
        );
        if part.on_account && !part.allocations.is_empty() {
            violations.push(FieldViolation::new(
                field("on_account"),
                "a part on account allocates nothing: leave allocations empty",
            ));
        }
        check_credit_applications(violations, &field("credit_applications"), part);
    }
}

/// A part's credit applications: only beside explicit allocations (credit applied to the
/// invoices a payment pays in part), at most [`ALLOCATIONS_PER_APPLICATION_MAX`], each a
/// positive amount in the part's currency, each invoice once.
fn check_credit_applications(
    violations: &mut Vec<FieldViolation>,
    field: &str,
    part: &ReceiptPart,
) {
    if part.credit_applications.is_empty() {
        return;
    }
    if part.allocations.is_empty() {
        violations.push(FieldViolation::new(
            field,
            "credit is applied beside the invoices a part pays: name them in allocations",
        ));
    }
    if part.credit_applications.len() > ALLOCATIONS_PER_APPLICATION_MAX {
        violations.push(FieldViolation::new(
            field,
            format!(
                "at most {ALLOCATIONS_PER_APPLICATION_MAX} credit applications per part, got {}",
                part.credit_applications.len()
            ),
        ));
        return;
    }
    let mut seen = std::collections::BTreeSet::new();
    for (index, application) in part.credit_applications.iter().enumerate() {
        check_positive(
            violations,
            &format!("{field}[{index}].amount"),
            &application.amount,
        );
        if application.amount.currency() != part.amount.currency() {
            violations.push(FieldViolation::new(
                format!("{field}[{index}].amount.currency"),
                format!(
                    "credit applied in {} to a part in {}",
                    application.amount.currency(),
                    part.amount.currency()
                ),
            ));
        }
        if !seen.insert(&application.invoice) {
            violations.push(FieldViolation::new(
                format!("{field}[{index}].invoice"),
                format!("{} has credit applied more than once", application.invoice),
            ));
        }
    }
}

/// The method's rules. Shared with the wire mapping.
pub fn check_method(violations: &mut Vec<FieldViolation>, method: &MatchMethod) {
    if let MatchMethod::Automatic {
        confidence,
        reasons,
    } = method
    {
        if *confidence > 100 {
            violations.push(FieldViolation::new(
                "method.confidence",
                format!("is a percentage, got {confidence}"),
            ));
        }
        if reasons.len() > MATCH_REASONS_MAX {
            violations.push(FieldViolation::new(
                "method.reasons",
                format!("at most {MATCH_REASONS_MAX}, got {}", reasons.len()),
            ));
        }
        for (index, reason) in reasons.iter().enumerate() {
            check_text(
                violations,
                &format!("method.reasons[{index}]"),
                reason,
                REASON_LENGTH_MAX,
            );
        }
    }
}

/// The line `line_id` of the stream, still waiting: what matching or excluding it needs.
fn unsettled<'a>(
    state: &'a AccountState,
    line_id: &BankLineId,
) -> Result<&'a StatementLineState, Refusal> {
    let subject = format!("{}/lines/{line_id}", state.customer_id());
    let line = state.bank().line(line_id).ok_or_else(|| {
        Refusal::precondition(
            Reason::StatementLineNotFound,
            vec![PreconditionViolation {
                kind: Reason::StatementLineNotFound,
                subject: subject.clone(),
                description: "no line of this bank account has this id".to_owned(),
            }],
        )
    })?;
    if line.status != LineStatus::Unmatched {
        let status: &str = match line.status {
            LineStatus::Matched => "matched",
            LineStatus::Excluded => "excluded as not a receivable",
            LineStatus::Unmatched => "waiting",
        };
        return Err(Refusal::precondition(
            Reason::StatementLineSettled,
            vec![PreconditionViolation {
                kind: Reason::StatementLineSettled,
                subject,
                description: format!("the line was {status} already"),
            }],
        ));
    }
    Ok(line)
}

impl CommandRules for MatchStatementLine {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        Some(&self.subsidiary_id)
    }

    fn check(&self) -> Vec<FieldViolation> {
        let mut violations = Vec::new();
        check_parts(&mut violations, &self.parts);
        check_method(&mut violations, &self.method);
        violations
    }

    fn effective_date(&self, context: &DecisionContext) -> NaiveDate {
        context.today()
    }

    fn scope(&self) -> Scope {
        Scope::BankAccount
    }
}

impl Decide for MatchStatementLine {
    type Event = StatementLineMatched;

    /// The parts add up to the line, in its currency; the line is still waiting.
    fn decide(
        &self,
        state: &AccountState,
        _command_id: CommandId,
        _context: &DecisionContext,
    ) -> Result<StatementLineMatched, Refusal> {
        registered(state, &self.subsidiary_id)?;
        let line = unsettled(state, &self.line_id)?;
        let mut total = Decimal::ZERO;
        for part in &self.parts {
            if part.amount.currency() != line.amount.currency() {
                return Err(amount_mismatch(
                    state,
                    &self.line_id,
                    format!(
                        "a part is in {}, the line in {}",
                        part.amount.currency(),
                        line.amount.currency()
                    ),
                ));
            }
            total += part.amount.amount();
        }
        if total != line.amount.amount() {
            return Err(amount_mismatch(
                state,
                &self.line_id,
                format!("the parts add up to {total}, the line is {}", line.amount),
            ));
        }
        let stream = state.customer_id();
        Ok(StatementLineMatched {
            subsidiary_id: self.subsidiary_id.clone(),
            line_id: self.line_id.clone(),
            parts: self
                .parts
                .iter()
                .enumerate()
                .map(|(index, part)| MatchedPart {
                    payment_id: receipt_payment_id(stream, &self.line_id, index),
                    part: part.clone(),
                })
                .collect(),
            method: self.method.clone(),
        })
    }
}

fn amount_mismatch(state: &AccountState, line_id: &BankLineId, description: String) -> Refusal {
    Refusal::precondition(
        Reason::ReceiptAmountMismatch,
        vec![PreconditionViolation {
            kind: Reason::ReceiptAmountMismatch,
            subject: format!("{}/lines/{line_id}", state.customer_id()),
            description,
        }],
    )
}

impl EventRules for StatementLineMatched {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        Some(&self.subsidiary_id)
    }

    fn takes_effect(&self) -> Option<(&'static str, NaiveDate)> {
        None
    }

    fn check(&self) -> Result<(), InvalidEvent> {
        let parts: Vec<ReceiptPart> = self.parts.iter().map(|p| p.part.clone()).collect();
        let mut violations = Vec::new();
        check_parts(&mut violations, &parts);
        check_method(&mut violations, &self.method);
        if let Some(first) = violations.first() {
            return Err(invalid(format!("data.{}", first.field), &first.description));
        }
        Ok(())
    }

    fn evolve(&self, state: &mut AccountState, _command_id: CommandId) -> Result<(), String> {
        let stream = state.customer_id().clone();
        let line = state
            .bank
            .lines
            .get_mut(&self.line_id)
            .ok_or_else(|| format!("matches line {}, never imported", self.line_id))?;
        if line.status != LineStatus::Unmatched {
            return Err(format!("matches line {} settled already", self.line_id));
        }
        let total: Decimal = self.parts.iter().map(|p| p.part.amount.amount()).sum();
        if total != line.amount.amount()
            || self
                .parts
                .iter()
                .any(|p| p.part.amount.currency() != line.amount.currency())
        {
            return Err(format!(
                "matches {total} of line {}, which is {}",
                self.line_id, line.amount
            ));
        }
        for (index, part) in self.parts.iter().enumerate() {
            if part.payment_id != receipt_payment_id(&stream, &self.line_id, index) {
                return Err(format!(
                    "names payment {} for part {index}, not the one derived from the line",
                    part.payment_id
                ));
            }
        }
        line.status = LineStatus::Matched;
        Ok(())
    }

    fn scope(&self) -> Scope {
        Scope::BankAccount
    }
}

/// Why a credit on the bank account is not a customer's payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, EnumString, IntoStaticStr)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum ExclusionReason {
    /// A supplier paid money back.
    SupplierRefund,
    /// The bank paid interest.
    Interest,
    /// Money moved between the group's own accounts.
    InternalTransfer,
    /// A loan, a grant, a tax refund, ...: the note says what.
    Other,
}

/// A person says a statement line is not a receivable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExcludeStatementLine {
    pub subsidiary_id: SubsidiaryId,
    pub line_id: BankLineId,
    pub reason: ExclusionReason,
    pub note: String,
}

/// A statement line was excluded as not a receivable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementLineExcluded {
    pub subsidiary_id: SubsidiaryId,
    pub line_id: BankLineId,
    pub reason: ExclusionReason,
    pub note: String,
}

impl CommandRules for ExcludeStatementLine {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        Some(&self.subsidiary_id)
    }

    fn check(&self) -> Vec<FieldViolation> {
        let mut violations = Vec::new();
        check_text(&mut violations, "note", &self.note, NOTE_LENGTH_MAX);
        if self.reason == ExclusionReason::Other && self.note.trim().is_empty() {
            violations.push(FieldViolation::new(
                "note",
                "is required when the reason is OTHER: say what the money is",
            ));
        }
        violations
    }

    fn effective_date(&self, context: &DecisionContext) -> NaiveDate {
        context.today()
    }

    fn scope(&self) -> Scope {
        Scope::BankAccount
    }
}

impl Decide for ExcludeStatementLine {
    type Event = StatementLineExcluded;

    fn decide(
        &self,
        state: &AccountState,
        _command_id: CommandId,
        _context: &DecisionContext,
    ) -> Result<StatementLineExcluded, Refusal> {
        registered(state, &self.subsidiary_id)?;
        unsettled(state, &self.line_id)?;
        Ok(StatementLineExcluded {
            subsidiary_id: self.subsidiary_id.clone(),
            line_id: self.line_id.clone(),
            reason: self.reason,
            note: self.note.trim().to_owned(),
        })
    }
}

impl EventRules for StatementLineExcluded {
    fn subsidiary_id(&self) -> Option<&SubsidiaryId> {
        Some(&self.subsidiary_id)
    }

    fn takes_effect(&self) -> Option<(&'static str, NaiveDate)> {
        None
    }

    fn check(&self) -> Result<(), InvalidEvent> {
        free_text("data.note", &self.note, NOTE_LENGTH_MAX)?;
        if self.reason == ExclusionReason::Other && self.note.trim().is_empty() {
            return Err(invalid("data.note", "is required when the reason is OTHER"));
        }
        Ok(())
    }

    fn evolve(&self, state: &mut AccountState, _command_id: CommandId) -> Result<(), String> {
        let line = state
            .bank
            .lines
            .get_mut(&self.line_id)
            .ok_or_else(|| format!("excludes line {}, never imported", self.line_id))?;
        if line.status != LineStatus::Unmatched {
            return Err(format!("excludes line {} settled already", self.line_id));
        }
        line.status = LineStatus::Excluded;
        Ok(())
    }

    fn scope(&self) -> Scope {
        Scope::BankAccount
    }
}

#[cfg(feature = "testing")]
mod samples {
    use super::*;
    use crate::account::bank_account::BankAccountRegistered;
    use crate::ids::InvoiceKey;

    /// The bank account's stream of the samples.
    pub fn sample_stream() -> CustomerId {
        CustomerId::bank_account(&crate::ids::BankAccountId::parse("ICBC-SH-001").expect("an id"))
    }

    impl StatementLineImported {
        /// A valid line for tests: 600.00 CNY on 2026-06-15 into the sample bank account,
        /// naming the sample invoice.
        pub fn sample() -> Self {
            StatementLineImported {
                subsidiary_id: BankAccountRegistered::sample().subsidiary_id,
                line: StatementLine {
                    line_id: BankLineId::parse("2026061500001").expect("an id"),
                    statement_id: Some("STMT-2026-06-15".to_owned()),
                    value_date: NaiveDate::from_ymd_opt(2026, 6, 15).expect("a date"),
                    booking_date: NaiveDate::from_ymd_opt(2026, 6, 15),
                    amount: Money::cny("600.00"),
                    payer_name: Some("Shanghai Example Trading Co., Ltd.".to_owned()),
                    payer_account: Some("6228 4800 1234 5678".to_owned()),
                    reference: "payment INV-1".to_owned(),
                    digest: "ab".repeat(32),
                },
            }
        }

        pub fn command(&self) -> ImportStatementLine {
            ImportStatementLine {
                subsidiary_id: self.subsidiary_id.clone(),
                line: self.line.clone(),
            }
        }
    }

    impl StatementLineMatched {
        /// The sample line matched automatically to customer C-1 as one part: 400.00 of it to
        /// the sample invoice, the other 200.00 the payment's unapplied rest.
        pub fn sample() -> Self {
            let line = StatementLineImported::sample();
            let part = ReceiptPart {
                customer_id: CustomerId::parse("C-1").expect("an id"),
                amount: line.line.amount,
                allocations: vec![AllocationRequest {
                    invoice: InvoiceKey::sample(),
                    amount: Money::cny("400.00"),
                }],
                on_account: false,
                credit_applications: Vec::new(),
            };
            StatementLineMatched {
                subsidiary_id: line.subsidiary_id,
                line_id: line.line.line_id.clone(),
                parts: vec![MatchedPart {
                    payment_id: receipt_payment_id(&sample_stream(), &line.line.line_id, 0),
                    part,
                }],
                method: MatchMethod::Automatic {
                    confidence: 95,
                    reasons: vec!["the reference names INV-1".to_owned()],
                },
            }
        }

        pub fn command(&self) -> MatchStatementLine {
            MatchStatementLine {
                subsidiary_id: self.subsidiary_id.clone(),
                line_id: self.line_id.clone(),
                parts: self.parts.iter().map(|p| p.part.clone()).collect(),
                method: self.method.clone(),
            }
        }
    }

    impl StatementLineExcluded {
        /// The sample line excluded as interest (a history of its own: a line is settled
        /// once, so this sample and the match's cannot follow each other).
        pub fn sample() -> Self {
            let line = StatementLineImported::sample();
            StatementLineExcluded {
                subsidiary_id: line.subsidiary_id,
                line_id: line.line.line_id,
                reason: ExclusionReason::Interest,
                note: "quarterly interest".to_owned(),
            }
        }

        pub fn command(&self) -> ExcludeStatementLine {
            ExcludeStatementLine {
                subsidiary_id: self.subsidiary_id.clone(),
                line_id: self.line_id.clone(),
                reason: self.reason,
                note: self.note.clone(),
            }
        }
    }
}

#[cfg(feature = "testing")]
pub use samples::sample_stream;
