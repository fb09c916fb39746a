//! A given/when/then harness for the customer account.
//!
//! `given(events)` builds an account of customer `C-1` from events as if they had been read back
//! from the log (positions 1, 2, 3, ...), `when(command)` decides a command against it with a
//! fixed [`DecisionContext`] (recorded 2026-06-30T12:00:00Z), and the `then_*` methods assert the
//! outcome. An accepted command's event is applied to the account at the next position, so a test
//! can go on with the next command as the service would.
//!
//! Builders give every command sensible defaults (CNY, subsidiary `SUB-A`, June 2026 dates), so a
//! test only spells out what its rule is about.

#![allow(dead_code, reason = "each test crate uses its own part of the harness")]

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use receivables_domain::DecisionContext;
use receivables_domain::account::reversal::ReversalReason;
use receivables_domain::account::state::UnappliedSource;
use receivables_domain::account::{CustomerAccount, Decision};
use receivables_domain::chain;
use receivables_domain::command::{
    AllocationRequest, ApplyUnappliedCash, ChangeCreditLimit, Command, CommandBody, InvoiceKey,
    IssueCreditNote, IssueInvoice, IssueRefund, RecordPayment, RecordPromiseToPay, ReversePayment,
    WriteOffInvoice,
};
use receivables_domain::credit::{CreditGrade, CreditPolicy};
use receivables_domain::event::{
    Allocation, AllocationRule, CreditLimitChanged, Event, EventEnvelope, InvoiceIssued,
    PaymentReceived, PromiseToPay, RecordedEvent, SCHEMA_VERSION,
};
use receivables_domain::ids::{
    CommandId, CreditNoteNumber, CustomerId, EventId, InvoiceNumber, OrderNumber, PersonName,
    Position, Principal, PromiseId, SubsidiaryId, TermsCode,
};
use receivables_domain::money::{Currency, Money};
use receivables_domain::payment::PaymentMethod;
use receivables_domain::refusal::{Reason, Refusal, RefusalCode};
use receivables_domain::terms::ScheduleRow;
use receivables_domain::testing::EnvelopeBuilder;
use rust_decimal::Decimal;
use uuid::Uuid;

/// The customer every scenario is about.
pub const CUSTOMER: &str = "C-1";
/// The subsidiaries that sell to it.
pub const SUB_A: &str = "SUB-A";
pub const SUB_B: &str = "SUB-B";
/// The service's business date in every decision.
pub const TODAY: &str = "2026-06-30";

// ---------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------

pub fn currency(code: &str) -> Currency {
    Currency::parse(code).expect("a known currency code")
}

/// A non-negative amount in `code`, from text such as `"1000.00"`.
pub fn money(text: &str, code: &str) -> Money {
    Money::non_negative(text, currency(code)).expect("a well-formed amount")
}

pub fn cny(text: &str) -> Money {
    money(text, "CNY")
}

pub fn usd(text: &str) -> Money {
    money(text, "USD")
}

pub fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).expect("a decimal number")
}

pub fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a YYYY-MM-DD date")
}

pub fn customer_id() -> CustomerId {
    CustomerId::parse(CUSTOMER).expect("a valid customer id")
}

pub fn subsidiary(text: &str) -> SubsidiaryId {
    SubsidiaryId::parse(text).expect("a valid subsidiary id")
}

pub fn number(text: &str) -> InvoiceNumber {
    InvoiceNumber::parse(text).expect("a valid invoice number")
}

pub fn key(subsidiary_id: &str, invoice_number: &str) -> InvoiceKey {
    InvoiceKey {
        subsidiary_id: subsidiary(subsidiary_id),
        invoice_number: number(invoice_number),
    }
}

pub fn person(text: &str) -> PersonName {
    PersonName::parse(text).expect("a valid person name")
}

pub fn command_id() -> CommandId {
    CommandId::from_uuid(Uuid::new_v4()).expect("a random UUID is never nil")
}

pub fn event_id() -> EventId {
    EventId::from_uuid(Uuid::new_v4()).expect("a random UUID is never nil")
}

pub fn recorded_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 30, 12, 0, 0)
        .single()
        .expect("a real instant")
}

pub fn principal() -> Principal {
    Principal::parse("clerk@sub-a").expect("a valid principal")
}

/// The context of every decision: recorded 2026-06-30T12:00:00Z by `clerk@sub-a`, with a fresh
/// event id.
pub fn context() -> DecisionContext {
    DecisionContext {
        event_id: event_id(),
        recorded_at: recorded_at(),
        principal: principal(),
        rates: std::sync::Arc::default(),
        payment_terms: std::sync::Arc::default(),
    }
}

// ---------------------------------------------------------------------------------------------
// Command builders
// ---------------------------------------------------------------------------------------------

/// Anything that can be submitted as a command.
pub trait IntoBody {
    fn into_body(self) -> CommandBody;
}

impl IntoBody for CommandBody {
    fn into_body(self) -> CommandBody {
        self
    }
}

impl IntoBody for IssueInvoice {
    fn into_body(self) -> CommandBody {
        CommandBody::IssueInvoice(self)
    }
}

impl IntoBody for RecordPayment {
    fn into_body(self) -> CommandBody {
        CommandBody::RecordPayment(self)
    }
}

impl IntoBody for ChangeCreditLimit {
    fn into_body(self) -> CommandBody {
        CommandBody::ChangeCreditLimit(self)
    }
}

impl IntoBody for RecordPromiseToPay {
    fn into_body(self) -> CommandBody {
        CommandBody::RecordPromiseToPay(self)
    }
}

/// `invoice("INV-1")`: 1000.00 CNY from SUB-A, issued 2026-06-01, due 2026-07-01.
pub fn invoice(invoice_number: &str) -> InvoiceBuilder {
    InvoiceBuilder(IssueInvoice {
        subsidiary_id: subsidiary(SUB_A),
        invoice_number: number(invoice_number),
        amount: cny("1000.00"),
        issue_date: date("2026-06-01"),
        due_date: Some(date("2026-07-01")),
        terms_days: None,
        payment_terms: None,
        schedule: Vec::new(),
        reservation: None,
    })
}

#[derive(Debug, Clone)]
pub struct InvoiceBuilder(pub IssueInvoice);

impl InvoiceBuilder {
    /// Issued by `subsidiary_id`.
    pub fn at(mut self, subsidiary_id: &str) -> Self {
        self.0.subsidiary_id = subsidiary(subsidiary_id);
        self
    }

    pub fn amount(mut self, amount: Money) -> Self {
        self.0.amount = amount;
        self
    }

    pub fn issued(mut self, issue_date: &str) -> Self {
        self.0.issue_date = date(issue_date);
        self
    }

    pub fn due(mut self, due_date: &str) -> Self {
        self.0.due_date = Some(date(due_date));
        self
    }

    /// Consuming the credit reserved for its subsidiary's order `order_number`.
    pub fn for_order(mut self, order_number: &str) -> Self {
        self.0.reservation = Some(OrderNumber::parse(order_number).expect("an order number"));
        self
    }

    /// Issued on the group's payment-terms template `code` instead of a due date.
    pub fn on_terms(mut self, code: &str) -> Self {
        self.0.due_date = None;
        self.0.payment_terms = Some(TermsCode::parse(code).expect("a terms code"));
        self
    }

    /// Due in these rows (`(due date, amount)`) instead of on a due date.
    pub fn scheduled(mut self, rows: &[(&str, Money)]) -> Self {
        self.0.due_date = None;
        self.0.schedule = rows
            .iter()
            .map(|(due, amount)| ScheduleRow {
                due_date: date(due),
                amount: *amount,
            })
            .collect();
        self
    }

    pub fn key(&self) -> InvoiceKey {
        InvoiceKey {
            subsidiary_id: self.0.subsidiary_id.clone(),
            invoice_number: self.0.invoice_number.clone(),
        }
    }

    pub fn command(self) -> IssueInvoice {
        self.0
    }

    /// The event of this invoice accepted for a customer without a credit limit.
    pub fn event(self) -> Event {
        let c = self.0;
        Event::InvoiceIssued(InvoiceIssued {
            subsidiary_id: c.subsidiary_id,
            invoice_number: c.invoice_number,
            amount: c.amount,
            issue_date: c.issue_date,
            due_date: c
                .schedule
                .last()
                .map(|row| row.due_date)
                .or(c.due_date)
                .expect("an invoice given a due date or a schedule"),
            terms_days: c.terms_days,
            payment_terms: None,
            schedule: c.schedule,
            discount: None,
            over_limit: false,
            credit_check: None,
            consumes: None,
        })
    }
}

impl IntoBody for InvoiceBuilder {
    fn into_body(self) -> CommandBody {
        self.0.into_body()
    }
}

/// `payment(cny("300.00"))`: received by SUB-A on 2026-06-30 by bank transfer, no allocations
/// (oldest due first).
pub fn payment(amount: Money) -> PaymentBuilder {
    PaymentBuilder(RecordPayment {
        subsidiary_id: subsidiary(SUB_A),
        amount,
        received_date: date(TODAY),
        method: PaymentMethod::BankTransfer,
        reference: "BANK-REF-0001".to_owned(),
        allocations: Vec::new(),
        on_account: false,
    })
}

#[derive(Debug, Clone)]
pub struct PaymentBuilder(pub RecordPayment);

impl PaymentBuilder {
    /// Received by `subsidiary_id`.
    pub fn at(mut self, subsidiary_id: &str) -> Self {
        self.0.subsidiary_id = subsidiary(subsidiary_id);
        self
    }

    pub fn received(mut self, received_date: &str) -> Self {
        self.0.received_date = date(received_date);
        self
    }

    /// Adds an explicit allocation.
    pub fn allocate(mut self, invoice: InvoiceKey, amount: Money) -> Self {
        self.0
            .allocations
            .push(AllocationRequest { invoice, amount });
        self
    }

    /// Taken on account: nothing allocated.
    pub fn on_account(mut self) -> Self {
        self.0.on_account = true;
        self
    }

    pub fn command(self) -> RecordPayment {
        self.0
    }

    /// The event of this payment as recorded: its explicit allocations and the rest unapplied,
    /// or, without allocations, everything unapplied (as if the receiving subsidiary had no
    /// open invoice in the payment's currency).
    pub fn event(self) -> Event {
        let c = self.0;
        let allocated: Decimal = c.allocations.iter().map(|a| a.amount.amount()).sum();
        let rule = if c.allocations.is_empty() {
            AllocationRule::OldestDueFirst
        } else {
            AllocationRule::Explicit
        };
        Event::PaymentReceived(PaymentReceived {
            subsidiary_id: c.subsidiary_id,
            amount: c.amount,
            received_date: c.received_date,
            method: c.method,
            reference: c.reference,
            allocation_rule: rule,
            allocations: c
                .allocations
                .into_iter()
                .map(|a| Allocation {
                    invoice: a.invoice,
                    amount: a.amount,
                })
                .collect(),
            unapplied: Money::of(c.amount.amount() - allocated, c.amount.currency()),
        })
    }
}

impl IntoBody for PaymentBuilder {
    fn into_body(self) -> CommandBody {
        self.0.into_body()
    }
}

/// `credit_limit(cny("10000.00"))`: policy BLOCK, grade B, approved by the credit manager.
pub fn credit_limit(limit: Money) -> CreditLimitBuilder {
    CreditLimitBuilder(ChangeCreditLimit {
        limit,
        policy: CreditPolicy::Block,
        grade: CreditGrade::B,
        reason: "annual credit review".to_owned(),
        approved_by: person("Zhang Wei"),
        effective_date: None,
        overdue_hold_days: None,
    })
}

#[derive(Debug, Clone)]
pub struct CreditLimitBuilder(pub ChangeCreditLimit);

impl CreditLimitBuilder {
    pub fn warn(mut self) -> Self {
        self.0.policy = CreditPolicy::Warn;
        self
    }

    pub fn block(mut self) -> Self {
        self.0.policy = CreditPolicy::Block;
        self
    }

    pub fn grade(mut self, grade: CreditGrade) -> Self {
        self.0.grade = grade;
        self
    }

    pub fn reason(mut self, reason: &str) -> Self {
        self.0.reason = reason.to_owned();
        self
    }

    pub fn effective(mut self, effective_date: &str) -> Self {
        self.0.effective_date = Some(date(effective_date));
        self
    }

    /// An overdue hold of `days` set with the limit.
    pub fn overdue_hold(mut self, days: u32) -> Self {
        self.0.overdue_hold_days = Some(days);
        self
    }

    pub fn command(self) -> ChangeCreditLimit {
        self.0
    }

    pub fn event(self) -> Event {
        let c = self.0;
        Event::CreditLimitChanged(CreditLimitChanged {
            limit: c.limit,
            policy: c.policy,
            grade: c.grade,
            reason: c.reason,
            approved_by: c.approved_by,
            overdue_hold_days: c.overdue_hold_days,
        })
    }
}

impl IntoBody for CreditLimitBuilder {
    fn into_body(self) -> CommandBody {
        self.0.into_body()
    }
}

/// `promise(cny("500.00"))`: made to SUB-A's collector on 2026-06-30, to pay by 2026-07-15,
/// covering the account as a whole.
pub fn promise(amount: Money) -> PromiseBuilder {
    PromiseBuilder(RecordPromiseToPay {
        subsidiary_id: subsidiary(SUB_A),
        amount,
        made_on: date(TODAY),
        promised_date: date("2026-07-15"),
        invoices: Vec::new(),
        collector: person("Wang Fang"),
        note: "called the treasurer".to_owned(),
    })
}

#[derive(Debug, Clone)]
pub struct PromiseBuilder(pub RecordPromiseToPay);

impl PromiseBuilder {
    /// Recorded by `subsidiary_id`'s collector.
    pub fn at(mut self, subsidiary_id: &str) -> Self {
        self.0.subsidiary_id = subsidiary(subsidiary_id);
        self
    }

    pub fn covering(mut self, invoice: InvoiceKey) -> Self {
        self.0.invoices.push(invoice);
        self
    }

    pub fn made_on(mut self, made_on: &str) -> Self {
        self.0.made_on = date(made_on);
        self
    }

    pub fn promised_for(mut self, promised_date: &str) -> Self {
        self.0.promised_date = date(promised_date);
        self
    }

    pub fn command(self) -> RecordPromiseToPay {
        self.0
    }

    /// The event of this promise, recorded by a command with a fresh id.
    pub fn event(self) -> Event {
        let c = self.0;
        Event::PromiseToPay(PromiseToPay {
            promise_id: PromiseId::from(command_id()),
            subsidiary_id: c.subsidiary_id,
            amount: c.amount,
            made_on: c.made_on,
            promised_date: c.promised_date,
            invoices: c.invoices,
            collector: c.collector,
            note: c.note,
        })
    }
}

impl IntoBody for PromiseBuilder {
    fn into_body(self) -> CommandBody {
        self.0.into_body()
    }
}

/// `credit_note("CN-1", cny("100.00"))`: issued by SUB-A on 2026-06-30 for returned goods, on
/// account (no invoice).
pub fn credit_note(number: &str, amount: Money) -> CreditNoteBuilder {
    CreditNoteBuilder(IssueCreditNote {
        subsidiary_id: subsidiary(SUB_A),
        credit_note_number: CreditNoteNumber::parse(number).expect("a valid number"),
        amount,
        issue_date: date(TODAY),
        reason: "returned goods".to_owned(),
        invoice: None,
    })
}

#[derive(Debug, Clone)]
pub struct CreditNoteBuilder(pub IssueCreditNote);

impl CreditNoteBuilder {
    pub fn at(mut self, subsidiary_id: &str) -> Self {
        self.0.subsidiary_id = subsidiary(subsidiary_id);
        self
    }

    /// Credits this invoice instead of going on account.
    pub fn against(mut self, invoice: InvoiceKey) -> Self {
        self.0.invoice = Some(invoice);
        self
    }

    pub fn dated(mut self, issue_date: &str) -> Self {
        self.0.issue_date = date(issue_date);
        self
    }

    pub fn reason(mut self, reason: &str) -> Self {
        self.0.reason = reason.to_owned();
        self
    }

    pub fn command(self) -> IssueCreditNote {
        self.0
    }
}

impl IntoBody for CreditNoteBuilder {
    fn into_body(self) -> CommandBody {
        CommandBody::IssueCreditNote(self.0)
    }
}

/// `write_off(key(SUB_A, "INV-1"), cny("100.00"))`: on 2026-06-30, customer insolvent,
/// approved by the credit manager.
pub fn write_off(invoice: InvoiceKey, amount: Money) -> WriteOffBuilder {
    WriteOffBuilder(WriteOffInvoice {
        invoice,
        amount,
        write_off_date: date(TODAY),
        reason: "customer insolvent".to_owned(),
        approved_by: person("Zhang Wei"),
    })
}

#[derive(Debug, Clone)]
pub struct WriteOffBuilder(pub WriteOffInvoice);

impl WriteOffBuilder {
    pub fn dated(mut self, write_off_date: &str) -> Self {
        self.0.write_off_date = date(write_off_date);
        self
    }

    pub fn reason(mut self, reason: &str) -> Self {
        self.0.reason = reason.to_owned();
        self
    }
}

impl IntoBody for WriteOffBuilder {
    fn into_body(self) -> CommandBody {
        CommandBody::WriteOffInvoice(self.0)
    }
}

/// `reversal(payment_id)`: SUB-A reverses the payment recorded by command `payment` on
/// 2026-06-30, returned by the bank.
pub fn reversal(payment: CommandId) -> ReversalBuilder {
    ReversalBuilder(ReversePayment {
        subsidiary_id: subsidiary(SUB_A),
        payment,
        reversal_date: date(TODAY),
        reason: ReversalReason::ReturnedByBank,
    })
}

#[derive(Debug, Clone)]
pub struct ReversalBuilder(pub ReversePayment);

impl ReversalBuilder {
    pub fn at(mut self, subsidiary_id: &str) -> Self {
        self.0.subsidiary_id = subsidiary(subsidiary_id);
        self
    }

    pub fn dated(mut self, reversal_date: &str) -> Self {
        self.0.reversal_date = date(reversal_date);
        self
    }
}

impl IntoBody for ReversalBuilder {
    fn into_body(self) -> CommandBody {
        CommandBody::ReversePayment(self.0)
    }
}

/// `application(UnappliedSource::Cash, cny("100.00"))`: SUB-A applies it on 2026-06-30, oldest
/// due first.
pub fn application(source: UnappliedSource, amount: Money) -> ApplicationBuilder {
    ApplicationBuilder(ApplyUnappliedCash {
        subsidiary_id: subsidiary(SUB_A),
        source,
        amount,
        application_date: date(TODAY),
        allocations: Vec::new(),
    })
}

#[derive(Debug, Clone)]
pub struct ApplicationBuilder(pub ApplyUnappliedCash);

impl ApplicationBuilder {
    pub fn at(mut self, subsidiary_id: &str) -> Self {
        self.0.subsidiary_id = subsidiary(subsidiary_id);
        self
    }

    pub fn dated(mut self, application_date: &str) -> Self {
        self.0.application_date = date(application_date);
        self
    }

    /// Adds an explicit allocation.
    pub fn allocate(mut self, invoice: InvoiceKey, amount: Money) -> Self {
        self.0
            .allocations
            .push(AllocationRequest { invoice, amount });
        self
    }
}

impl IntoBody for ApplicationBuilder {
    fn into_body(self) -> CommandBody {
        CommandBody::ApplyUnappliedCash(self.0)
    }
}

/// `refund(UnappliedSource::Cash, cny("100.00"))`: SUB-A pays it back by bank transfer on
/// 2026-06-30.
pub fn refund(source: UnappliedSource, amount: Money) -> RefundBuilder {
    RefundBuilder(IssueRefund {
        subsidiary_id: subsidiary(SUB_A),
        source,
        amount,
        refund_date: date(TODAY),
        method: PaymentMethod::BankTransfer,
        reference: "REFUND-0001".to_owned(),
    })
}

#[derive(Debug, Clone)]
pub struct RefundBuilder(pub IssueRefund);

impl RefundBuilder {
    pub fn dated(mut self, refund_date: &str) -> Self {
        self.0.refund_date = date(refund_date);
        self
    }
}

impl IntoBody for RefundBuilder {
    fn into_body(self) -> CommandBody {
        CommandBody::IssueRefund(self.0)
    }
}

// ---------------------------------------------------------------------------------------------
// Recorded events
// ---------------------------------------------------------------------------------------------

/// `event` in an envelope of customer `C-1`, with fresh ids, recorded at [`recorded_at`] by
/// [`principal`], as the service would have written it (not yet chained or sealed).
pub fn envelope(event: Event) -> EventEnvelope {
    EnvelopeBuilder::new(customer_id(), event)
        .principal(principal())
        .recorded_at(recorded_at())
        .unsealed()
}

/// `envelope` as the next event of `account`: numbered, chained to its last event and sealed.
pub fn chained(mut envelope: EventEnvelope, account: &CustomerAccount) -> EventEnvelope {
    envelope.sequence = account.event_count() + 1;
    envelope.prev_hash = account.last_hash();
    chain::seal(&mut envelope).expect("an envelope can be sealed");
    envelope
}

/// `event` of customer `C-1` as read back from the log at `position`, as the next event of
/// `account` (numbered, chained and sealed).
pub fn recorded_after(account: &CustomerAccount, event: Event, position: u64) -> RecordedEvent {
    RecordedEvent {
        position: Position::new(position),
        envelope: chained(envelope(event), account),
    }
}

/// `event` of customer `C-1` as read back from the log at `position`, outside any chain.
pub fn recorded(event: Event, position: u64) -> RecordedEvent {
    RecordedEvent {
        position: Position::new(position),
        envelope: envelope(event),
    }
}

// ---------------------------------------------------------------------------------------------
// given / when / then
// ---------------------------------------------------------------------------------------------

/// An account and the position its next event will be appended at.
#[derive(Debug, Clone)]
pub struct Scenario {
    account: CustomerAccount,
    next_position: u64,
    /// Every event applied, as the log holds them.
    history: Vec<RecordedEvent>,
    /// The group's exchange rates the decisions are handed.
    rates: std::sync::Arc<receivables_domain::exchange::ExchangeRates>,
    /// The group's payment-terms templates the decisions are handed.
    payment_terms: std::sync::Arc<receivables_domain::terms::PaymentTermsBook>,
}

/// Customer `C-1`'s account after `events`, read back from the log at positions 1, 2, 3, ...
pub fn given(events: impl IntoIterator<Item = Event>) -> Scenario {
    given_in(customer_id(), events)
}

/// The group's own account after `events` (the group's settings), read back from the log at
/// positions 1, 2, 3, ...
pub fn given_group(events: impl IntoIterator<Item = Event>) -> Scenario {
    given_in(CustomerId::group(), events)
}

/// The account `account_id` after `events`, read back from the log at positions 1, 2, 3, ...
pub fn given_in(account_id: CustomerId, events: impl IntoIterator<Item = Event>) -> Scenario {
    let mut scenario = Scenario {
        account: CustomerAccount::new(account_id.clone()),
        next_position: 1,
        history: Vec::new(),
        rates: std::sync::Arc::default(),
        payment_terms: std::sync::Arc::default(),
    };
    for event in events {
        let position = scenario.next_position;
        let mut envelope = envelope(event);
        envelope.customer_id = account_id.clone();
        let envelope = chained(envelope, &scenario.account);
        scenario.apply(RecordedEvent {
            position: Position::new(position),
            envelope,
        });
    }
    scenario
}

impl Scenario {
    pub fn account(&self) -> &CustomerAccount {
        &self.account
    }

    pub fn into_account(self) -> CustomerAccount {
        self.account
    }

    /// Hands `terms` to every later decision, as the command service hands the group's.
    pub fn with_payment_terms(
        mut self,
        terms: receivables_domain::terms::PaymentTermsBook,
    ) -> Self {
        self.payment_terms = std::sync::Arc::new(terms);
        self
    }

    /// Hands `rates` to every later decision, as the command service hands the group's.
    pub fn with_rates(mut self, rates: receivables_domain::exchange::ExchangeRates) -> Self {
        self.rates = std::sync::Arc::new(rates);
        self
    }

    /// The position the next accepted event will be appended at.
    pub fn next_position(&self) -> Position {
        Position::new(self.next_position)
    }

    /// Decides `body`, submitted under a fresh command id.
    pub fn when(&mut self, body: impl IntoBody) -> Then<'_> {
        self.when_command(command_id(), body)
    }

    /// Decides `body`, submitted under command id `id` (for retries).
    pub fn when_command(&mut self, id: CommandId, body: impl IntoBody) -> Then<'_> {
        let command = Command {
            id,
            body: body.into_body(),
        };
        let context = DecisionContext {
            rates: std::sync::Arc::clone(&self.rates),
            payment_terms: std::sync::Arc::clone(&self.payment_terms),
            ..context()
        };
        let decision = self.account.decide(&command, &context);
        Then {
            scenario: self,
            command,
            context,
            decision,
        }
    }

    /// Applies an event read back from the log; a history the account rejects fails the test.
    fn apply(&mut self, event: RecordedEvent) -> RecordedEvent {
        if let Err(violation) = self.account.apply(&event) {
            panic!("the account rejected an event it should accept: {violation}");
        }
        self.next_position = event.position.get() + 1;
        self.history.push(event.clone());
        event
    }

    /// Every event applied so far, as the log holds them.
    pub fn history(&self) -> &[RecordedEvent] {
        &self.history
    }

    /// The unapplied cash of the customer in CNY.
    pub fn unapplied_cash(&self) -> Decimal {
        self.account.unapplied_cash(currency("CNY"))
    }

    /// The unapplied credit of the customer in CNY.
    pub fn unapplied_credit(&self) -> Decimal {
        self.account.state().unapplied_credit(currency("CNY"))
    }

    /// The invoice's open amount.
    pub fn open(&self, invoice: &InvoiceKey) -> Decimal {
        self.account
            .invoice(invoice)
            .unwrap_or_else(|| panic!("{invoice} is not on the account"))
            .open
    }
}

/// The outcome of one decision, to be asserted.
#[must_use = "a decision must be asserted with one of the then_* methods"]
pub struct Then<'a> {
    scenario: &'a mut Scenario,
    command: Command,
    context: DecisionContext,
    decision: Result<Decision, Refusal>,
}

impl Then<'_> {
    /// The raw decision, for tests that assert something the `then_*` methods do not.
    pub fn decision(&self) -> &Result<Decision, Refusal> {
        &self.decision
    }

    /// The command was accepted: its envelope says who, what and when; the event is applied to
    /// the account at the next position and returned as recorded.
    pub fn then_accepted(self) -> RecordedEvent {
        let envelope = match self.decision {
            Ok(Decision::Append(envelope)) => envelope,
            Ok(Decision::AlreadyAccepted(position)) => panic!(
                "expected a new event, the command was answered as a retry with the event at \
                 position {position}"
            ),
            Err(refusal) => {
                panic!("expected the command to be accepted, it was refused: {refusal}")
            }
        };
        assert_eq!(envelope.event_id, self.context.event_id, "event id");
        assert_eq!(envelope.schema_version, SCHEMA_VERSION, "schema version");
        assert_eq!(
            &envelope.customer_id,
            self.scenario.account.customer_id(),
            "customer id"
        );
        assert_eq!(
            envelope.subsidiary_id.as_ref(),
            self.command.body.subsidiary_id(),
            "subsidiary id"
        );
        assert_eq!(envelope.command_id, self.command.id, "command id");
        assert_eq!(envelope.principal, self.context.principal, "principal");
        assert_eq!(
            envelope.recorded_at, self.context.recorded_at,
            "recorded at"
        );
        // Chained to the account's last event; sealed as the command service seals it.
        assert_eq!(
            envelope.sequence,
            self.scenario.account.event_count() + 1,
            "sequence"
        );
        assert_eq!(
            envelope.prev_hash,
            self.scenario.account.last_hash(),
            "prev_hash"
        );
        let mut envelope = envelope;
        chain::seal(&mut envelope).expect("an envelope can be sealed");
        let position = self.scenario.next_position;
        self.scenario.apply(RecordedEvent {
            position: Position::new(position),
            envelope,
        })
    }

    /// The command was accepted with exactly `expected`.
    pub fn then_event(self, expected: Event) -> RecordedEvent {
        let recorded = self.then_accepted();
        assert_eq!(recorded.envelope.event, expected);
        recorded
    }

    pub fn then_invoice_issued(self) -> InvoiceIssued {
        match self.then_accepted().envelope.event {
            Event::InvoiceIssued(e) => e,
            other => panic!("expected InvoiceIssued, got {other:?}"),
        }
    }

    pub fn then_payment_received(self) -> PaymentReceived {
        match self.then_accepted().envelope.event {
            Event::PaymentReceived(e) => e,
            other => panic!("expected PaymentReceived, got {other:?}"),
        }
    }

    pub fn then_credit_limit_changed(self) -> CreditLimitChanged {
        match self.then_accepted().envelope.event {
            Event::CreditLimitChanged(e) => e,
            other => panic!("expected CreditLimitChanged, got {other:?}"),
        }
    }

    pub fn then_promise_to_pay(self) -> PromiseToPay {
        match self.then_accepted().envelope.event {
            Event::PromiseToPay(e) => e,
            other => panic!("expected PromiseToPay, got {other:?}"),
        }
    }

    /// The command was refused with `code` and `reason`; nothing is appended.
    pub fn then_refused(self, code: RefusalCode, reason: Reason) -> Refusal {
        match self.decision {
            Err(refusal) => {
                assert_eq!(
                    (refusal.code, refusal.reason),
                    (code, reason),
                    "refused, but not as expected: {refusal}"
                );
                refusal
            }
            Ok(decision) => panic!("expected a refusal ({code:?}, {reason}), got {decision:?}"),
        }
    }

    /// The command was refused as invalid (`INVALID_ARGUMENT`), naming `field`.
    pub fn then_invalid(self, field: &str) -> Refusal {
        let refusal = self.then_refused(RefusalCode::InvalidArgument, Reason::InvalidCommand);
        assert!(
            refusal.field_violations.iter().any(|v| v.field == field),
            "expected a violation of field {field:?}, got {:?}",
            refusal.field_violations
        );
        refusal
    }

    /// The command is a retry of one accepted before: the answer is the first event, read
    /// back from the history by the position the decision names (as the service reads it back
    /// from the log).
    pub fn then_already_accepted(self) -> RecordedEvent {
        match self.decision {
            Ok(Decision::AlreadyAccepted(position)) => self
                .scenario
                .history()
                .iter()
                .find(|event| event.position == position)
                .cloned()
                .unwrap_or_else(|| panic!("the retry's answer names position {position}, which the history does not hold")),
            other => panic!("expected the first event of a retried command, got {other:?}"),
        }
    }

    /// Either outcome, for tests that predict it themselves: an accepted event is applied.
    pub fn then_outcome(self) -> Result<RecordedEvent, Refusal> {
        match &self.decision {
            Ok(Decision::Append(_)) => Ok(self.then_accepted()),
            Ok(Decision::AlreadyAccepted(position)) => {
                panic!("unexpected retry answer (event at {position})")
            }
            Err(refusal) => Err(refusal.clone()),
        }
    }
}
