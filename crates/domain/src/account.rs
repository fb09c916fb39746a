//! The customer account: the aggregate that every command is decided against.
//!
//! One customer is one consistency boundary, because the credit check needs every open invoice of
//! the customer across all subsidiaries. `decide` is pure (state + command -> event or refusal);
//! `apply` evolves the state from an event read from the log and checks the ledger's invariants
//! again, so that a log that breaks them is reported instead of silently believed.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;

use crate::allocation::{self, AllocationPlan, OpenItem};
use crate::chain::{self, EventHash};
use crate::command::{
    ChangeCreditLimit, Command, CommandBody, CommandDigest, InvoiceKey, IssueInvoice,
    RecordPayment, RecordPromiseToPay,
};
use crate::credit::{CreditCheck, CreditPolicy, CreditTerms};
use crate::event::{
    Allocation, AllocationRule, CreditCheckRecord, CreditLimitChanged, Event, EventEnvelope,
    InvoiceIssued, PaymentReceived, PromiseToPay, RecordedEvent, SCHEMA_VERSION,
};
use crate::ids::{
    CommandId, CustomerId, EventId, PersonName, Position, Principal, PromiseId, SubsidiaryId,
};
use crate::limits::RECEIVED_DATE_AHEAD_DAYS_MAX;
use crate::money::{Currency, Money};
use crate::refusal::{FieldViolation, PreconditionViolation, Reason, Refusal};

/// An invoice as the account knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceState {
    pub key: InvoiceKey,
    pub amount: Money,
    /// What is still owed: never below zero, never above `amount`.
    pub open: Decimal,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    pub over_limit: bool,
}

impl InvoiceState {
    pub fn open_money(&self) -> Money {
        Money::of(self.open, self.amount.currency())
    }
}

/// A promise to pay recorded on the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromiseState {
    pub promise_id: PromiseId,
    pub subsidiary_id: SubsidiaryId,
    pub amount: Money,
    pub made_on: NaiveDate,
    pub promised_date: NaiveDate,
    pub invoices: Vec<InvoiceKey>,
    pub collector: PersonName,
}

/// A command the account has accepted, with the event that recorded it (its first reply).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedCommand {
    pub digest: CommandDigest,
    pub event: RecordedEvent,
}

/// What the caller supplies to a decision: the values that would otherwise make it impure.
#[derive(Debug, Clone)]
pub struct DecisionContext {
    pub event_id: EventId,
    pub recorded_at: DateTime<Utc>,
    pub principal: Principal,
}

impl DecisionContext {
    /// The service's own business date (UTC).
    pub fn today(&self) -> NaiveDate {
        self.recorded_at.date_naive()
    }
}

/// The result of deciding a command.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Append this event.
    Append(EventEnvelope),
    /// The command was accepted before, with the same content: answer with its event.
    AlreadyAccepted(RecordedEvent),
}

/// A fact in the log that contradicts the ledger's invariants. The account cannot be trusted
/// beyond it; the service refuses to decide on it and reports it to the operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event at position {position} of customer {customer_id}: {problem}")]
pub struct InvariantViolation {
    pub customer_id: CustomerId,
    pub position: Position,
    pub problem: String,
}

/// Open invoices and unapplied cash of one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Balance {
    pub currency: Currency,
    pub open_invoices: Decimal,
    pub unapplied: Decimal,
}

impl Balance {
    /// Open invoices minus unapplied cash.
    pub fn exposure(&self) -> Decimal {
        self.open_invoices - self.unapplied
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerAccount {
    customer_id: CustomerId,
    /// Position of the last event applied; `Position::ZERO` for a customer with no events.
    position: Position,
    event_count: u64,
    /// The hash of the last event applied ([`EventHash::GENESIS`] before the first): the next
    /// event's `prev_hash`.
    last_hash: EventHash,
    credit: Option<CreditTerms>,
    invoices: BTreeMap<InvoiceKey, InvoiceState>,
    unapplied: BTreeMap<Currency, Decimal>,
    promises: Vec<PromiseState>,
    accepted: HashMap<CommandId, AcceptedCommand>,
}

impl CustomerAccount {
    pub fn new(customer_id: CustomerId) -> Self {
        CustomerAccount {
            customer_id,
            position: Position::ZERO,
            event_count: 0,
            last_hash: EventHash::GENESIS,
            credit: None,
            invoices: BTreeMap::new(),
            unapplied: BTreeMap::new(),
            promises: Vec::new(),
            accepted: HashMap::new(),
        }
    }

    /// Rebuilds an account from its events, in log order.
    pub fn from_history<'a>(
        customer_id: CustomerId,
        events: impl IntoIterator<Item = &'a RecordedEvent>,
    ) -> Result<Self, InvariantViolation> {
        let mut account = CustomerAccount::new(customer_id);
        for event in events {
            account.apply(event)?;
        }
        Ok(account)
    }

    pub fn customer_id(&self) -> &CustomerId {
        &self.customer_id
    }

    pub fn position(&self) -> Position {
        self.position
    }

    pub fn event_count(&self) -> u64 {
        self.event_count
    }

    /// The hash of the last event applied: the `prev_hash` of the next one.
    pub fn last_hash(&self) -> EventHash {
        self.last_hash
    }

    pub fn credit(&self) -> Option<&CreditTerms> {
        self.credit.as_ref()
    }

    /// Every invoice ever issued to the customer, open or settled.
    pub fn invoices(&self) -> impl Iterator<Item = &InvoiceState> {
        self.invoices.values()
    }

    pub fn invoice(&self, key: &InvoiceKey) -> Option<&InvoiceState> {
        self.invoices.get(key)
    }

    pub fn open_invoices(&self) -> impl Iterator<Item = &InvoiceState> {
        self.invoices.values().filter(|i| i.open > Decimal::ZERO)
    }

    pub fn promises(&self) -> &[PromiseState] {
        &self.promises
    }

    pub fn accepted(&self, command_id: &CommandId) -> Option<&AcceptedCommand> {
        self.accepted.get(command_id)
    }

    /// Open invoices and unapplied cash per currency.
    pub fn balances(&self) -> Vec<Balance> {
        let mut balances: BTreeMap<Currency, Balance> = BTreeMap::new();
        let entry = |balances: &mut BTreeMap<Currency, Balance>, currency| {
            *balances.entry(currency).or_insert(Balance {
                currency,
                open_invoices: Decimal::ZERO,
                unapplied: Decimal::ZERO,
            })
        };
        for invoice in self.open_invoices() {
            let mut balance = entry(&mut balances, invoice.amount.currency());
            balance.open_invoices += invoice.open;
            balances.insert(balance.currency, balance);
        }
        for (currency, unapplied) in &self.unapplied {
            if *unapplied > Decimal::ZERO {
                let mut balance = entry(&mut balances, *currency);
                balance.unapplied += *unapplied;
                balances.insert(balance.currency, balance);
            }
        }
        balances.into_values().collect()
    }

    /// Open invoices minus unapplied cash in `currency`, across all subsidiaries.
    pub fn exposure(&self, currency: Currency) -> Decimal {
        let open: Decimal = self
            .open_invoices()
            .filter(|i| i.amount.currency() == currency)
            .map(|i| i.open)
            .sum();
        open - self.unapplied_cash(currency)
    }

    pub fn unapplied_cash(&self, currency: Currency) -> Decimal {
        self.unapplied
            .get(&currency)
            .copied()
            .unwrap_or(Decimal::ZERO)
    }

    /// Decides a command against the account: the event to append, the earlier answer to a
    /// retried command, or a refusal.
    pub fn decide(
        &self,
        command: &Command,
        context: &DecisionContext,
    ) -> Result<Decision, Refusal> {
        let digest = command.body.digest();
        if let Some(accepted) = self.accepted.get(&command.id) {
            if accepted.digest == digest {
                return Ok(Decision::AlreadyAccepted(accepted.event.clone()));
            }
            return Err(Refusal::already_exists(
                Reason::CommandIdReused,
                format!(
                    "command {} was already accepted with other content (event at position {})",
                    command.id, accepted.event.position
                ),
            )
            .with_metadata("command_id", command.id)
            .with_metadata("position", accepted.event.position));
        }
        let violations = command.body.check();
        if !violations.is_empty() {
            return Err(Refusal::invalid(violations));
        }
        let (event, effective_date) = match &command.body {
            CommandBody::IssueInvoice(c) => (self.decide_invoice(c)?, c.issue_date),
            CommandBody::RecordPayment(c) => (self.decide_payment(c, context)?, c.received_date),
            CommandBody::ChangeCreditLimit(c) => (
                Self::decide_credit_limit(c),
                c.effective_date.unwrap_or_else(|| context.today()),
            ),
            CommandBody::RecordPromiseToPay(c) => (self.decide_promise(command.id, c)?, c.made_on),
        };
        Ok(Decision::Append(EventEnvelope {
            event_id: context.event_id,
            schema_version: SCHEMA_VERSION,
            customer_id: self.customer_id.clone(),
            subsidiary_id: command.body.subsidiary_id().cloned(),
            command_id: command.id,
            command_digest: digest,
            principal: context.principal.clone(),
            recorded_at: context.recorded_at,
            effective_date,
            sequence: self.event_count + 1,
            prev_hash: self.last_hash,
            // Sealed by the caller with `chain::seal` once the envelope is final.
            hash: EventHash::GENESIS,
            event,
        }))
    }

    fn decide_invoice(&self, command: &IssueInvoice) -> Result<Event, Refusal> {
        let key = InvoiceKey {
            subsidiary_id: command.subsidiary_id.clone(),
            invoice_number: command.invoice_number.clone(),
        };
        if self.invoices.contains_key(&key) {
            return Err(Refusal::already_exists(
                Reason::DuplicateInvoiceNumber,
                format!("{key} was already issued to customer {}", self.customer_id),
            )
            .with_metadata("subsidiary_id", &key.subsidiary_id)
            .with_metadata("invoice_number", &key.invoice_number));
        }
        let check_currency = self
            .credit
            .as_ref()
            .map_or(command.amount.currency(), |t| t.limit.currency());
        let exposure_before = self.exposure(check_currency);
        let check = CreditCheck::evaluate(self.credit.as_ref(), exposure_before, command.amount);
        let (over_limit, credit_check) = match &check {
            CreditCheck::NoLimit => (false, None),
            CreditCheck::Within { exposure_after } => {
                let terms = self.credit.as_ref();
                let record = terms.map(|t| CreditCheckRecord {
                    limit: t.limit,
                    policy: t.policy,
                    exposure_after: Money::of(*exposure_after, t.limit.currency()),
                    currency_mismatch: false,
                });
                (false, record)
            }
            CreditCheck::Over {
                policy: CreditPolicy::Block,
                ..
            } => return Err(self.credit_refusal(command, &check)),
            CreditCheck::Over {
                policy: CreditPolicy::Warn,
                limit,
                exposure_after,
                currency_mismatch,
                ..
            } => (
                true,
                Some(CreditCheckRecord {
                    limit: *limit,
                    policy: CreditPolicy::Warn,
                    exposure_after: Money::of(*exposure_after, limit.currency()),
                    currency_mismatch: *currency_mismatch,
                }),
            ),
        };
        Ok(Event::InvoiceIssued(InvoiceIssued {
            subsidiary_id: command.subsidiary_id.clone(),
            invoice_number: command.invoice_number.clone(),
            amount: command.amount,
            issue_date: command.issue_date,
            due_date: command.due_date,
            terms_days: command.terms_days,
            over_limit,
            credit_check,
        }))
    }

    fn credit_refusal(&self, command: &IssueInvoice, check: &CreditCheck) -> Refusal {
        let CreditCheck::Over {
            limit,
            exposure_before,
            exposure_after,
            currency_mismatch,
            ..
        } = check
        else {
            return Refusal::invalid(Vec::new());
        };
        let subject = format!("customers/{}/credit_limit", self.customer_id);
        if *currency_mismatch {
            return Refusal::precondition(
                Reason::CreditLimitCurrencyMismatch,
                vec![PreconditionViolation {
                    kind: Reason::CreditLimitCurrencyMismatch,
                    subject,
                    description: format!(
                        "the credit limit is kept in {} and policy BLOCK refuses invoices in {}",
                        limit.currency(),
                        command.amount.currency()
                    ),
                }],
            )
            .with_metadata("limit", limit.amount())
            .with_metadata("limit_currency", limit.currency())
            .with_metadata("invoice_currency", command.amount.currency());
        }
        let shortfall = check
            .shortfall()
            .map_or(Decimal::ZERO, |shortfall| shortfall.amount());
        Refusal::precondition(
            Reason::CreditLimitExceeded,
            vec![PreconditionViolation {
                kind: Reason::CreditLimitExceeded,
                subject,
                description: format!(
                    "invoice of {} would take exposure from {} to {}, above the limit of {} by {}",
                    command.amount,
                    Money::of(*exposure_before, limit.currency()),
                    Money::of(*exposure_after, limit.currency()),
                    limit,
                    Money::of(shortfall, limit.currency()),
                ),
            }],
        )
        .with_metadata("limit", limit.amount())
        .with_metadata(
            "exposure",
            Money::of(*exposure_before, limit.currency()).amount(),
        )
        .with_metadata("invoice_amount", command.amount.amount())
        .with_metadata("shortfall", Money::of(shortfall, limit.currency()).amount())
        .with_metadata("currency", limit.currency())
    }

    fn decide_payment(
        &self,
        command: &RecordPayment,
        context: &DecisionContext,
    ) -> Result<Event, Refusal> {
        let latest = context.today() + Duration::days(RECEIVED_DATE_AHEAD_DAYS_MAX);
        if command.received_date > latest {
            return Err(Refusal::invalid(vec![FieldViolation::new(
                "received_date",
                format!(
                    "a payment cannot be received in the future: {} is after {latest}",
                    command.received_date
                ),
            )]));
        }
        let currency = command.amount.currency();
        let (rule, plan) = if command.allocations.is_empty() {
            let items = self
                .open_invoices()
                .filter(|i| {
                    i.key.subsidiary_id == command.subsidiary_id
                        && i.amount.currency() == currency
                        && i.issue_date <= command.received_date
                })
                .map(|i| OpenItem {
                    key: &i.key,
                    open: i.open,
                    due_date: i.due_date,
                    issue_date: i.issue_date,
                })
                .collect();
            (
                AllocationRule::OldestDueFirst,
                allocation::oldest_due_first(command.amount, items),
            )
        } else {
            (AllocationRule::Explicit, self.check_allocations(command)?)
        };
        if !plan.is_balanced(command.amount) {
            // The allocation arithmetic guarantees this; refuse rather than append a broken fact.
            return Err(Refusal::invalid(vec![FieldViolation::new(
                "allocations",
                "allocations and unapplied remainder do not add up to the payment",
            )]));
        }
        Ok(Event::PaymentReceived(PaymentReceived {
            subsidiary_id: command.subsidiary_id.clone(),
            amount: command.amount,
            received_date: command.received_date,
            method: command.method,
            reference: command.reference.clone(),
            allocation_rule: rule,
            allocations: plan.allocations,
            unapplied: plan.unapplied,
        }))
    }

    /// Checks explicit allocations against the account: each names an invoice of this customer,
    /// in the payment's currency, with at least that much still open.
    fn check_allocations(&self, command: &RecordPayment) -> Result<AllocationPlan, Refusal> {
        let mut not_found = Vec::new();
        let mut mismatched = Vec::new();
        let mut exceeding = Vec::new();
        let mut premature = Vec::new();
        for request in &command.allocations {
            let subject = request.invoice.to_string();
            match self.invoices.get(&request.invoice) {
                None => not_found.push(PreconditionViolation {
                    kind: Reason::InvoiceNotFound,
                    subject,
                    description: format!("customer {} has no such invoice", self.customer_id),
                }),
                Some(invoice) if invoice.amount.currency() != request.amount.currency() => {
                    mismatched.push(PreconditionViolation {
                        kind: Reason::CurrencyMismatch,
                        subject,
                        description: format!(
                            "the invoice is in {}, the allocation in {}",
                            invoice.amount.currency(),
                            request.amount.currency()
                        ),
                    })
                }
                // Money received before an invoice existed cannot have paid it on that date;
                // it stays unapplied cash until it is applied later.
                Some(invoice) if invoice.issue_date > command.received_date => {
                    premature.push(PreconditionViolation {
                        kind: Reason::AllocationBeforeInvoiceDate,
                        subject,
                        description: format!(
                            "the payment was received on {}, before the invoice was issued on {}",
                            command.received_date, invoice.issue_date
                        ),
                    })
                }
                Some(invoice) if invoice.open < request.amount.amount() => {
                    exceeding.push(PreconditionViolation {
                        kind: Reason::AllocationExceedsOpenAmount,
                        subject,
                        description: format!(
                            "allocation of {} is more than the open amount of {}",
                            request.amount,
                            invoice.open_money()
                        ),
                    })
                }
                Some(_) => {}
            }
        }
        for (reason, violations) in [
            (Reason::InvoiceNotFound, not_found),
            (Reason::CurrencyMismatch, mismatched),
            (Reason::AllocationBeforeInvoiceDate, premature),
            (Reason::AllocationExceedsOpenAmount, exceeding),
        ] {
            if !violations.is_empty() {
                return Err(Refusal::precondition(reason, violations));
            }
        }
        let allocations = command
            .allocations
            .iter()
            .map(|r| Allocation {
                invoice: r.invoice.clone(),
                amount: r.amount,
            })
            .collect();
        Ok(allocation::explicit(command.amount, allocations))
    }

    fn decide_credit_limit(command: &ChangeCreditLimit) -> Event {
        Event::CreditLimitChanged(CreditLimitChanged {
            limit: command.limit,
            policy: command.policy,
            grade: command.grade,
            reason: command.reason.clone(),
            approved_by: command.approved_by.clone(),
        })
    }

    fn decide_promise(
        &self,
        command_id: CommandId,
        command: &RecordPromiseToPay,
    ) -> Result<Event, Refusal> {
        let currency = command.amount.currency();
        let mut violations = Vec::new();
        let mut covered = Decimal::ZERO;
        for key in &command.invoices {
            match self.invoices.get(key) {
                Some(invoice) if invoice.open > Decimal::ZERO => {
                    if invoice.amount.currency() != currency {
                        violations.push(PreconditionViolation {
                            kind: Reason::CurrencyMismatch,
                            subject: key.to_string(),
                            description: format!(
                                "the invoice is in {}, the promise in {currency}",
                                invoice.amount.currency()
                            ),
                        });
                    }
                    covered += invoice.open;
                }
                _ => violations.push(PreconditionViolation {
                    kind: Reason::InvoiceNotFound,
                    subject: key.to_string(),
                    description: format!(
                        "customer {} has no open invoice with this number",
                        self.customer_id
                    ),
                }),
            }
        }
        if let Some(first) = violations.first() {
            return Err(Refusal::precondition(first.kind, violations));
        }
        let balance = self.exposure(currency);
        let subject = format!("customers/{}/balance", self.customer_id);
        if balance <= Decimal::ZERO {
            return Err(Refusal::precondition(
                Reason::NothingOwed,
                vec![PreconditionViolation {
                    kind: Reason::NothingOwed,
                    subject,
                    description: format!(
                        "the customer owes nothing in {currency} (balance {})",
                        Money::of(balance, currency)
                    ),
                }],
            ));
        }
        let ceiling = if command.invoices.is_empty() {
            balance
        } else {
            covered.min(balance)
        };
        if command.amount.amount() > ceiling {
            return Err(Refusal::precondition(
                Reason::PromiseExceedsBalance,
                vec![PreconditionViolation {
                    kind: Reason::PromiseExceedsBalance,
                    subject,
                    description: format!(
                        "promise of {} is more than the {} owed",
                        command.amount,
                        Money::of(ceiling, currency)
                    ),
                }],
            )
            .with_metadata("balance", Money::of(ceiling, currency).amount())
            .with_metadata("currency", currency));
        }
        Ok(Event::PromiseToPay(PromiseToPay {
            promise_id: command_id.into(),
            subsidiary_id: command.subsidiary_id.clone(),
            amount: command.amount,
            made_on: command.made_on,
            promised_date: command.promised_date,
            invoices: command.invoices.clone(),
            collector: command.collector.clone(),
            note: command.note.clone(),
        }))
    }

    /// Applies an event read from the log, checking the ledger's invariants as it goes. On error
    /// the account is left unchanged.
    pub fn apply(&mut self, recorded: &RecordedEvent) -> Result<(), InvariantViolation> {
        let envelope = &recorded.envelope;
        let violation = |problem: String| InvariantViolation {
            customer_id: self.customer_id.clone(),
            position: recorded.position,
            problem,
        };
        if envelope.customer_id != self.customer_id {
            return Err(violation(format!(
                "belongs to customer {}",
                envelope.customer_id
            )));
        }
        if recorded.position <= self.position {
            return Err(violation(format!(
                "is not after the account's position {}",
                self.position
            )));
        }
        // The hash chain, sealed where the event was written and checked where it is read: an
        // account never acts on a history that was changed behind the service's back.
        if envelope.sequence != self.event_count + 1 {
            return Err(violation(format!(
                "has sequence {}, not {}",
                envelope.sequence,
                self.event_count + 1
            )));
        }
        if envelope.prev_hash != self.last_hash {
            return Err(violation(format!(
                "has prev_hash {}, not the previous event's hash {}",
                envelope.prev_hash, self.last_hash
            )));
        }
        match chain::hash_of(envelope) {
            Ok(hash) if hash == envelope.hash => {}
            Ok(hash) => {
                return Err(violation(format!(
                    "content hashes to {hash}, not to its recorded hash {}",
                    envelope.hash
                )));
            }
            Err(error) => return Err(violation(error.to_string())),
        }
        match &envelope.event {
            Event::InvoiceIssued(e) => {
                let key = e.key();
                if self.invoices.contains_key(&key) {
                    return Err(violation(format!("{key} issued twice")));
                }
                if e.amount.amount() <= Decimal::ZERO || e.due_date < e.issue_date {
                    return Err(violation(format!("{key} has a bad amount or due date")));
                }
                self.invoices.insert(
                    key.clone(),
                    InvoiceState {
                        key,
                        amount: e.amount,
                        open: e.amount.amount(),
                        issue_date: e.issue_date,
                        due_date: e.due_date,
                        over_limit: e.over_limit,
                    },
                );
            }
            Event::PaymentReceived(e) => {
                let plan = AllocationPlan {
                    allocations: e.allocations.clone(),
                    unapplied: e.unapplied,
                };
                if !plan.is_balanced(e.amount) || e.unapplied.currency() != e.amount.currency() {
                    return Err(violation(
                        "allocations and unapplied do not add up to the payment".to_owned(),
                    ));
                }
                // Check every allocation before changing anything, so an error leaves the
                // account as it was.
                let mut remaining: BTreeMap<&InvoiceKey, Decimal> = BTreeMap::new();
                for allocation in &e.allocations {
                    let invoice = self.invoices.get(&allocation.invoice).ok_or_else(|| {
                        violation(format!("allocates to unknown {}", allocation.invoice))
                    })?;
                    if invoice.amount.currency() != allocation.amount.currency() {
                        return Err(violation(format!(
                            "allocates {} to {} in another currency",
                            allocation.amount, allocation.invoice
                        )));
                    }
                    if invoice.issue_date > e.received_date {
                        return Err(violation(format!(
                            "allocates a payment received on {} to {}, issued later",
                            e.received_date, allocation.invoice
                        )));
                    }
                    let open = remaining.entry(&invoice.key).or_insert(invoice.open);
                    *open -= allocation.amount.amount();
                    if *open < Decimal::ZERO {
                        return Err(violation(format!(
                            "allocates more than the open amount of {}",
                            allocation.invoice
                        )));
                    }
                }
                let updates: Vec<(InvoiceKey, Decimal)> = remaining
                    .into_iter()
                    .map(|(key, open)| (key.clone(), open))
                    .collect();
                for (key, open) in updates {
                    if let Some(invoice) = self.invoices.get_mut(&key) {
                        invoice.open = open;
                    }
                }
                *self.unapplied.entry(e.amount.currency()).or_default() += e.unapplied.amount();
            }
            Event::CreditLimitChanged(e) => {
                self.credit = Some(CreditTerms {
                    limit: e.limit,
                    policy: e.policy,
                    grade: e.grade,
                });
            }
            Event::PromiseToPay(e) => {
                self.promises.push(PromiseState {
                    promise_id: e.promise_id,
                    subsidiary_id: e.subsidiary_id.clone(),
                    amount: e.amount,
                    made_on: e.made_on,
                    promised_date: e.promised_date,
                    invoices: e.invoices.clone(),
                    collector: e.collector.clone(),
                });
            }
        }
        // A second event for a command that was already accepted can only come from a server
        // that let a duplicate through; the fact stands, the first event stays the answer.
        self.accepted
            .entry(envelope.command_id)
            .or_insert_with(|| AcceptedCommand {
                digest: envelope.command_digest,
                event: recorded.clone(),
            });
        self.position = recorded.position;
        self.event_count += 1;
        self.last_hash = envelope.hash;
        Ok(())
    }
}
