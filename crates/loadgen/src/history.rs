//! The synthetic history the read-side benchmarks start from, and the fast way to write it.
//!
//! `projection-bench` and `audit-bench` measure reading a large log, not writing one: going
//! through the command service would take far longer than the measurement itself. So they write
//! a synthetic but valid history straight into a fresh log, bypassing the service, and both use
//! the same one so that their figures can be compared.
//!
//! The history is what the service would have written: every event is sealed into its
//! customer's hash chain (`sequence` 1, 2, 3, ... and `prev_hash` the hash of the customer's
//! previous event), so that `VerifyLog` finds every link whole and the accounts load.
//!
//! Each customer's history cycles through four invoices of 1000.00 and one payment of 400.00
//! allocated to the invoice just before it, so 80 % of the events are invoices and every invoice
//! stays open; [`Totals::expected`] works out what an aging report over it must say. The
//! life-cycle mix ([`HistoryMix::LifeCycle`]) continues each such cycle with the other events
//! that move money (see [`LIFE_CYCLE_EVENTS`]).

use std::future::Future;
use std::time::Instant;

use anyhow::{Context as _, bail};
use async_nats::jetstream;
use chrono::{Days, NaiveDate, Utc};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use receivables_domain::account::state::{DisputeReason, UnappliedSource};
use receivables_domain::chain::{self, EventHash};
use receivables_domain::command::InvoiceKey;
use receivables_domain::event::{
    Allocation, AllocationRule, CreditNoteIssued, DisputeOpened, InvoiceIssued, InvoiceWrittenOff,
    PaymentReceived, UnappliedCashApplied,
};
use receivables_domain::ids::{CreditNoteNumber, DisputeId, PersonName};
use receivables_domain::payment::PaymentMethod;
use receivables_domain::terms::ScheduleRow;
use receivables_domain::testing::EnvelopeBuilder;
use receivables_domain::{
    Currency, CustomerId, Event, EventEnvelope, InvoiceNumber, Money, Position, SubsidiaryId,
};
use receivables_eventlog::jetstream::JetStreamConfig;
use receivables_eventlog::sqlite::SqliteLog;
use receivables_eventlog::{Appended, EventLog, codec};

/// Appends (publishes) in flight while writing the history.
pub const WRITE_IN_FLIGHT: usize = 512;

/// Every customer's history repeats a cycle of this many events: invoices, then one payment.
pub const CYCLE_EVENTS: usize = 5;

/// The life-cycle mix's cycle: the ledger's five events (invoices 0-3, the payment 4), then a
/// credit note of 100.00 against invoice 0 (5), a write-off of 100.00 of invoice 1 (6), a
/// dispute of 100.00 of invoice 2 that is never resolved (7), a credit note of 100.00 on
/// account (8) and its application to invoice 2 (9).
pub const LIFE_CYCLE_EVENTS: usize = 10;

/// What each of the life-cycle mix's credit notes, write-offs, disputes and applications moves,
/// in minor units.
pub const ADJUSTMENT_MINOR: i128 = 10_000;
const ADJUSTMENT_AMOUNT: &str = "100";

/// Which events the history holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HistoryMix {
    /// Invoices and payments (four to one).
    Ledger,
    /// Invoices and payments, credit notes against invoices and on account, write-offs,
    /// disputes and applications (see [`LIFE_CYCLE_EVENTS`]).
    LifeCycle,
    /// The ledger's cycle with payment terms and a second currency: invoice 1 of each cycle
    /// due in three rows (300.00 on its issue date, 500.00 in 60 days, 200.00 in 90), invoice
    /// 2 in USD (see [`SECOND_CURRENCY`]); the payment still pays invoice 3.
    Terms,
}

/// The currency of the terms mix's invoice 2 of each cycle.
pub const SECOND_CURRENCY: &str = "USD";

/// The currency of every amount of the history.
pub const CURRENCY: &str = "CNY";

/// The subsidiary of every event of the history.
pub const SUBSIDIARY: &str = "SUB-1";

/// The amount of each invoice in minor units (fen: CNY has two decimals).
pub const INVOICE_MINOR: i128 = 100_000;

/// The amount of each payment (allocated to the invoice just before it) in minor units.
pub const PAYMENT_MINOR: i128 = 40_000;

/// The same amounts as the events write them.
const INVOICE_AMOUNT: &str = "1000";
const PAYMENT_AMOUNT: &str = "400";

/// Business dates cycle over this many days from [`FIRST_DAY`]: the last is 2026-05-15.
const DAYS: usize = 500;

/// Payment terms of every invoice.
const TERMS_DAYS: u32 = 30;

/// The business date of a customer's first event.
fn first_day() -> anyhow::Result<NaiveDate> {
    NaiveDate::from_ymd_opt(2025, 1, 1).context("date")
}

/// A business date after every date of the history (the last due date is 2026-06-14): a report
/// as of it sees every invoice and every payment, all of them overdue.
pub fn report_as_of() -> anyhow::Result<NaiveDate> {
    NaiveDate::from_ymd_opt(2026, 6, 30).context("date")
}

/// The shape of a history: `events` spread over `customers` in rounds (event `i` is the
/// `i / customers`-th of customer `i % customers`).
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub events: usize,
    pub customers: usize,
    pub mix: HistoryMix,
}

impl Shape {
    /// Refuses shapes in which a customer would have no payment.
    pub fn new(events: usize, customers: usize) -> anyhow::Result<Shape> {
        Shape::of_mix(events, customers, HistoryMix::Ledger)
    }

    /// Refuses shapes in which a customer would not go through its mix's cycle once.
    pub fn of_mix(events: usize, customers: usize, mix: HistoryMix) -> anyhow::Result<Shape> {
        let cycle = match mix {
            HistoryMix::Ledger | HistoryMix::Terms => CYCLE_EVENTS,
            HistoryMix::LifeCycle => LIFE_CYCLE_EVENTS,
        };
        if customers == 0 || events < customers * cycle {
            bail!("need at least {cycle} events per customer");
        }
        Ok(Shape {
            events,
            customers,
            mix,
        })
    }

    /// How many events customer `customer` has.
    fn events_of(&self, customer: usize) -> usize {
        self.events / self.customers + usize::from(customer < self.events % self.customers)
    }
}

/// What a whole-group aging report over the history must say, in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub invoices: u64,
    pub payments: u64,
    pub open_minor: i128,
    /// The part of `open_minor` under a dispute (none in the ledger mix).
    pub disputed_minor: i128,
    /// What is open in [`SECOND_CURRENCY`] (the terms mix's; `open_minor` is then the
    /// [`CURRENCY`] part).
    pub second_open_minor: i128,
}

impl Totals {
    /// Worked out from the generator, not from the log: a customer with `k` events has
    /// `p = k / 5` payments (its events 4, 9, 14, ... counting from 0) and `k - p` invoices;
    /// each payment takes 400.00 off the 1000.00 invoice just before it and is wholly allocated,
    /// so nothing is unapplied, no invoice is paid off, and
    ///
    /// `open = 1000.00 × Σ (k − p) − 400.00 × Σ p` over the customers.
    ///
    /// Customers `0 .. events % customers` have `events / customers + 1` events, the others
    /// `events / customers`.
    ///
    /// In the life-cycle mix a customer with `k` events goes through `c = k / 10` whole cycles
    /// and `r = k % 10` events of one more: `min(r, 4)` invoices, a payment when `r >= 5`, a
    /// credit note against an invoice when `r >= 6`, a write-off when `r >= 7` (the dispute and
    /// the credit note on account move no open amount; an application needs `r = 10`), so
    ///
    /// `open = 1000.00 × invoices − 400.00 × payments − 100.00 × (credit notes against
    /// invoices + write-offs + applications)`,
    ///
    /// with `4c + min(r, 4)` invoices, `c + [r >= 5]` payments, `c + [r >= 6]` credit notes,
    /// `c + [r >= 7]` write-offs and `c` applications; the disputed part is 100.00 for each of
    /// the `c + [r >= 8]` disputes (each of an invoice that owes at least 800.00).
    ///
    /// The terms mix is the ledger's with its events 2, 7, 12, ... (`k / 5 + [k % 5 > 2]` of
    /// them) invoices in [`SECOND_CURRENCY`], wholly open: 1000.00 each of the second
    /// currency, the rest as in the ledger mix (a schedule moves no open amount).
    pub fn expected(shape: Shape) -> Totals {
        let (mut invoices, mut payments, mut adjustments, mut disputes) = (0u64, 0u64, 0u64, 0u64);
        let mut second = 0u64;
        for customer in 0..shape.customers {
            let events = shape.events_of(customer) as u64;
            match shape.mix {
                HistoryMix::Ledger => {
                    let paid = events / CYCLE_EVENTS as u64;
                    invoices += events - paid;
                    payments += paid;
                }
                HistoryMix::Terms => {
                    let paid = events / CYCLE_EVENTS as u64;
                    let in_second = paid + u64::from(events % CYCLE_EVENTS as u64 > 2);
                    invoices += events - paid - in_second;
                    second += in_second;
                    payments += paid;
                }
                HistoryMix::LifeCycle => {
                    let cycles = events / LIFE_CYCLE_EVENTS as u64;
                    let rest = events % LIFE_CYCLE_EVENTS as u64;
                    invoices += 4 * cycles + rest.min(4);
                    payments += cycles + u64::from(rest >= 5);
                    adjustments += 3 * cycles + u64::from(rest >= 6) + u64::from(rest >= 7);
                    disputes += cycles + u64::from(rest >= 8);
                }
            }
        }
        Totals {
            invoices,
            payments,
            open_minor: INVOICE_MINOR * i128::from(invoices)
                - PAYMENT_MINOR * i128::from(payments)
                - ADJUSTMENT_MINOR * i128::from(adjustments),
            disputed_minor: ADJUSTMENT_MINOR * i128::from(disputes),
            second_open_minor: INVOICE_MINOR * i128::from(second),
        }
    }
}

/// The last link of each customer's chain while generating: events of one customer are
/// generated in order, so each new event continues from here.
#[derive(Debug)]
pub struct Chains {
    tips: Vec<(u64, EventHash)>,
    mix: HistoryMix,
}

impl Chains {
    pub fn new(customers: usize) -> Chains {
        Chains::of_mix(customers, HistoryMix::Ledger)
    }

    pub fn of_mix(customers: usize, mix: HistoryMix) -> Chains {
        Chains {
            tips: vec![(0, EventHash::GENESIS); customers],
            mix,
        }
    }

    /// The `n`-th event (from 0) of `customer`, sealed onto its chain. Must be called for each
    /// customer with `n` = 0, 1, 2, ... in turn.
    pub fn next(&mut self, customer: usize, n: usize) -> anyhow::Result<EventEnvelope> {
        let tip = self
            .tips
            .get_mut(customer)
            .context("customer out of range")?;
        let (sequence, prev_hash) = *tip;
        if sequence != n as u64 {
            bail!(
                "event {n} of customer {customer} generated out of order (its chain is at {sequence})"
            );
        }
        let mut envelope = match self.mix {
            HistoryMix::Ledger => event(customer, n)?,
            HistoryMix::LifeCycle => life_cycle_event(customer, n)?,
            HistoryMix::Terms => terms_event(customer, n)?,
        };
        envelope.sequence = sequence + 1;
        envelope.prev_hash = prev_hash;
        chain::seal(&mut envelope)?;
        *tip = (envelope.sequence, envelope.hash);
        Ok(envelope)
    }
}

/// The id of the history's customer number `customer`.
pub fn customer_id(customer: usize) -> anyhow::Result<CustomerId> {
    Ok(CustomerId::parse(&format!("CUST-{customer:06}"))?)
}

/// An envelope around `event`, not yet on its chain (`sequence`, `prev_hash` and `hash` are set
/// by [`Chains::next`]).
fn envelope(customer: &CustomerId, day: NaiveDate, event: Event) -> anyhow::Result<EventEnvelope> {
    Ok(EnvelopeBuilder::new(customer.clone(), event)
        .recorded_at(Utc::now())
        .effective_date(day)
        .unsealed())
}

/// The `n`-th event of a customer, unsealed.
fn event(customer: usize, n: usize) -> anyhow::Result<EventEnvelope> {
    let currency = Currency::parse(CURRENCY)?;
    let customer_id = customer_id(customer)?;
    let day = first_day()?
        .checked_add_days(Days::new((n % DAYS) as u64))
        .context("date")?;
    let subsidiary = SubsidiaryId::parse(SUBSIDIARY)?;
    let invoice = |k: usize| InvoiceNumber::parse(&format!("INV-{customer:06}-{k:07}"));
    if n % CYCLE_EVENTS == CYCLE_EVENTS - 1 {
        let allocated = Money::positive(PAYMENT_AMOUNT, currency)?;
        return envelope(
            &customer_id,
            day,
            Event::PaymentReceived(PaymentReceived {
                subsidiary_id: subsidiary.clone(),
                amount: allocated,
                received_date: day,
                method: PaymentMethod::BankTransfer,
                reference: format!("BANK-{n}"),
                allocation_rule: AllocationRule::Explicit,
                allocations: vec![Allocation {
                    invoice: InvoiceKey {
                        subsidiary_id: subsidiary,
                        invoice_number: invoice(n - 1)?,
                    },
                    amount: allocated,
                }],
                unapplied: Money::zero(currency),
            }),
        );
    }
    envelope(
        &customer_id,
        day,
        Event::InvoiceIssued(InvoiceIssued {
            subsidiary_id: subsidiary,
            invoice_number: invoice(n)?,
            amount: Money::positive(INVOICE_AMOUNT, currency)?,
            issue_date: day,
            due_date: day
                .checked_add_days(Days::new(u64::from(TERMS_DAYS)))
                .context("date")?,
            terms_days: Some(TERMS_DAYS),
            payment_terms: None,
            schedule: Vec::new(),
            discount: None,
            over_limit: false,
            credit_check: None,
            consumes: None,
        }),
    )
}

/// The `n`-th event of a customer in the terms mix, unsealed: the ledger's, with invoice 1 of
/// each cycle due in three rows and invoice 2 in [`SECOND_CURRENCY`].
fn terms_event(customer: usize, n: usize) -> anyhow::Result<EventEnvelope> {
    let mut envelope = event(customer, n)?;
    if let Event::InvoiceIssued(invoice) = &mut envelope.event {
        match n % CYCLE_EVENTS {
            1 => {
                let currency = invoice.amount.currency();
                let day = invoice.issue_date;
                let row = |days: u64, amount: &str| -> anyhow::Result<ScheduleRow> {
                    Ok(ScheduleRow {
                        due_date: day.checked_add_days(Days::new(days)).context("date")?,
                        amount: Money::positive(amount, currency)?,
                    })
                };
                invoice.schedule = vec![row(0, "300")?, row(60, "500")?, row(90, "200")?];
                invoice.due_date = day.checked_add_days(Days::new(90)).context("date")?;
                invoice.terms_days = None;
            }
            2 => {
                invoice.amount =
                    Money::positive(INVOICE_AMOUNT, Currency::parse(SECOND_CURRENCY)?)?;
            }
            _ => {}
        }
    }
    Ok(envelope)
}

/// The `n`-th event of a customer in the life-cycle mix, unsealed: the ledger's event for the
/// first five of each cycle, then the others of [`LIFE_CYCLE_EVENTS`].
fn life_cycle_event(customer: usize, n: usize) -> anyhow::Result<EventEnvelope> {
    let index = n % LIFE_CYCLE_EVENTS;
    let start = n - index;
    // The ledger's generator numbers its cycles of five; this cycle's first five events are
    // its events `start / 2 ..`: map them to the ledger's own numbering, so that their invoice
    // numbers and the payment's allocation stay its own.
    if index < CYCLE_EVENTS {
        let ledger_n = start / LIFE_CYCLE_EVENTS * CYCLE_EVENTS + index;
        let mut envelope = event(customer, ledger_n)?;
        let day = life_cycle_day(n)?;
        retime(&mut envelope.event, day);
        envelope.effective_date = day;
        return Ok(envelope);
    }
    let currency = Currency::parse(CURRENCY)?;
    let customer_id = customer_id(customer)?;
    let day = life_cycle_day(n)?;
    let subsidiary = SubsidiaryId::parse(SUBSIDIARY)?;
    let ledger_start = start / LIFE_CYCLE_EVENTS * CYCLE_EVENTS;
    let invoice = |i: usize| -> anyhow::Result<InvoiceKey> {
        Ok(InvoiceKey {
            subsidiary_id: subsidiary.clone(),
            invoice_number: InvoiceNumber::parse(&format!(
                "INV-{customer:06}-{:07}",
                ledger_start + i
            ))?,
        })
    };
    let amount = Money::positive(ADJUSTMENT_AMOUNT, currency)?;
    let number = CreditNoteNumber::parse(&format!("CN-{customer:06}-{n:07}"))?;
    let event = match index {
        5 => Event::CreditNoteIssued(CreditNoteIssued {
            subsidiary_id: subsidiary.clone(),
            credit_note_number: number,
            amount,
            issue_date: day,
            reason: "returned goods".to_owned(),
            invoice: Some(invoice(0)?),
        }),
        6 => Event::InvoiceWrittenOff(InvoiceWrittenOff {
            invoice: invoice(1)?,
            amount,
            write_off_date: day,
            reason: "customer insolvent".to_owned(),
            approved_by: PersonName::parse("Zhang Wei")?,
        }),
        7 => Event::DisputeOpened(DisputeOpened {
            dispute_id: DisputeId::from_uuid(uuid::Uuid::new_v4())?,
            invoice: invoice(2)?,
            amount,
            reason: DisputeReason::Quality,
            note: String::new(),
            opened_on: day,
            expires_on: None,
        }),
        8 => Event::CreditNoteIssued(CreditNoteIssued {
            subsidiary_id: subsidiary.clone(),
            credit_note_number: number,
            amount,
            issue_date: day,
            reason: "volume rebate".to_owned(),
            invoice: None,
        }),
        _ => Event::UnappliedCashApplied(UnappliedCashApplied {
            subsidiary_id: subsidiary.clone(),
            source: UnappliedSource::Credit,
            amount,
            application_date: day,
            allocation_rule: AllocationRule::Explicit,
            allocations: vec![Allocation {
                invoice: invoice(2)?,
                amount,
            }],
        }),
    };
    envelope(&customer_id, day, event)
}

/// The business date of a life-cycle event: one day per event, as in the ledger mix.
fn life_cycle_day(n: usize) -> anyhow::Result<NaiveDate> {
    first_day()?
        .checked_add_days(Days::new((n % DAYS) as u64))
        .context("date")
}

/// Moves a ledger event (an invoice or a payment) to `day`.
fn retime(event: &mut Event, day: NaiveDate) {
    match event {
        Event::InvoiceIssued(invoice) => {
            invoice.issue_date = day;
            if let Some(due) = day.checked_add_days(Days::new(u64::from(TERMS_DAYS))) {
                invoice.due_date = due;
            }
        }
        Event::PaymentReceived(payment) => payment.received_date = day,
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// Writing the history (not measured)
// ---------------------------------------------------------------------------------------------

/// The fast way into a fresh log, bypassing the command service.
pub trait HistoryLog {
    /// Writes one event to its customer's history, whose last position is `expected`; returns
    /// the event's position.
    fn write(
        &self,
        envelope: EventEnvelope,
        expected: Position,
    ) -> impl Future<Output = anyhow::Result<Position>>;
}

/// Plain publishes to the customer's subject: the stream is fresh and only the benchmark writes
/// it, so neither a message id nor an expected sequence is needed.
pub struct JetStreamHistory {
    pub context: jetstream::Context,
    pub subject_prefix: String,
}

impl HistoryLog for JetStreamHistory {
    async fn write(&self, envelope: EventEnvelope, _: Position) -> anyhow::Result<Position> {
        let payload = codec::encode(&envelope)?;
        let subject = format!("{}.{}", self.subject_prefix, envelope.customer_id);
        let ack = self.context.publish(subject, payload.into()).await?.await?;
        Ok(Position::new(ack.sequence))
    }
}

/// Appends through the embedded log (the writer task commits them in groups).
impl HistoryLog for SqliteLog {
    async fn write(&self, envelope: EventEnvelope, expected: Position) -> anyhow::Result<Position> {
        match self.append(&envelope, expected).await? {
            Appended::New(position) => Ok(position),
            Appended::Duplicate(position) => {
                bail!("a fresh command id was taken as a duplicate of position {position}")
            }
        }
    }
}

/// The names of a benchmark run's own stream and buckets on the NATS server.
pub fn stream_config(run: &str) -> JetStreamConfig {
    JetStreamConfig {
        stream: format!("{run}_EVENTS"),
        subject_prefix: format!("bench.{run}.events"),
        invoice_numbers_bucket: format!("{run}_NUMBERS"),
        snapshots_bucket: format!("{run}_SNAPSHOTS"),
        ..JetStreamConfig::default()
    }
}

/// Deletes a run's stream and buckets; a failure is reported, not fatal (the figures are in).
pub async fn delete_streams(context: &jetstream::Context, config: &JetStreamConfig) {
    for name in std::iter::once(config.stream.clone()).chain(config.bucket_streams()) {
        if let Err(error) = context.delete_stream(&name).await {
            eprintln!("could not delete stream {name}: {error}");
        }
    }
}

/// Writes the history, round after round, with up to [`WRITE_IN_FLIGHT`] in flight. A round is
/// written completely before the next begins, so that each customer's events go in order and
/// each append knows its customer's last position.
pub async fn write_history<H: HistoryLog>(log: &H, shape: Shape) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut chains = Chains::of_mix(shape.customers, shape.mix);
    let mut last = vec![Position::ZERO; shape.customers];
    let mut pending = FuturesUnordered::new();
    for i in 0..shape.events {
        let (customer, n) = (i % shape.customers, i / shape.customers);
        if customer == 0 {
            while let Some(written) = pending.next().await {
                let (customer, position): (usize, Position) = written?;
                last[customer] = position;
            }
        }
        let envelope = chains.next(customer, n)?;
        let expected = last[customer];
        pending.push(async move { anyhow::Ok((customer, log.write(envelope, expected).await?)) });
        if pending.len() >= WRITE_IN_FLIGHT
            && let Some(written) = pending.next().await
        {
            let (customer, position) = written?;
            last[customer] = position;
        }
    }
    while let Some(written) = pending.next().await {
        written?;
    }
    println!(
        "history written: {} events in {:.1} s (not measured)",
        shape.events,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Checks that the log holds the whole history; returns its last position.
pub async fn check_written<L: EventLog>(log: &L, events: usize) -> anyhow::Result<Position> {
    let last = log.last_position().await?;
    if last != Position::new(events as u64) {
        bail!("the log holds {last} events, expected {events}");
    }
    Ok(last)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use receivables_domain::chain::ChainVerifier;

    #[test]
    fn the_history_is_one_unbroken_chain_per_customer() {
        let shape = Shape::new(60, 4).unwrap();
        let mut chains = Chains::of_mix(shape.customers, shape.mix);
        let mut verifier = ChainVerifier::whole_log();
        for i in 0..shape.events {
            let envelope = chains
                .next(i % shape.customers, i / shape.customers)
                .unwrap();
            verifier
                .check(Position::new(i as u64 + 1), &envelope)
                .unwrap();
        }
        assert_eq!(verifier.checked(), 60);
    }

    #[test]
    fn events_out_of_order_are_refused() {
        let mut chains = Chains::new(2);
        chains.next(0, 0).unwrap();
        assert!(chains.next(0, 2).is_err());
    }

    #[test]
    fn totals_count_every_fifth_event_of_each_customer_as_a_payment() {
        // 23 events over 4 customers: 6, 6, 6 and 5 events, one payment each.
        let totals = Totals::expected(Shape::new(23, 4).unwrap());
        assert_eq!((totals.invoices, totals.payments), (19, 4));
        assert_eq!(totals.open_minor, 19 * 100_000 - 4 * 40_000);
    }

    #[test]
    fn the_terms_mix_counts_every_cycles_third_invoice_in_the_second_currency() {
        // 23 events over 4 customers: 6, 6, 6 and 5 events; each has events 0-4 (invoice 2 in
        // USD, the payment 4) and the first three a sixth, an invoice in CNY: 4 USD invoices,
        // 15 CNY, 4 payments.
        let totals = Totals::expected(Shape::of_mix(23, 4, HistoryMix::Terms).unwrap());
        assert_eq!((totals.invoices, totals.payments), (15, 4));
        assert_eq!(totals.open_minor, 15 * 100_000 - 4 * 40_000);
        assert_eq!(totals.second_open_minor, 4 * 100_000);
        // And the generator writes what the totals count.
        let mut chains = Chains::of_mix(1, HistoryMix::Terms);
        let events: Vec<Event> = (0..5).map(|n| chains.next(0, n).unwrap().event).collect();
        let Event::InvoiceIssued(scheduled) = &events[1] else {
            panic!("an invoice")
        };
        assert_eq!(scheduled.schedule.len(), 3);
        let Event::InvoiceIssued(usd) = &events[2] else {
            panic!("an invoice")
        };
        assert_eq!(usd.amount.currency().code(), "USD");
    }
}
