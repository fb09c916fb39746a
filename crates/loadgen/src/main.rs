//! Load generator for the command service.
//!
//! In one run, on one backend, it measures:
//! 1. the baseline: the event log's own raw acknowledged appends of an event-sized record, from
//!    the same number of concurrent clients over the same customers, each client tracking the
//!    expected last position of its own customers. On `--backend jetstream` (the default) these
//!    are JetStream publishes of an encoded event with the service's headers (`Nats-Msg-Id`,
//!    `Nats-Expected-Last-Subject-Sequence`); on `--backend embedded` they are
//!    `SqliteLog::append` calls with real envelopes, into a fresh file;
//! 2. the service driven over gRPC by that many concurrent clients over that many customers: on
//!    JetStream, the command service started in this process on its own stream; embedded, the
//!    all-in-one service on the embedded backends (what an embedded user runs: its projector
//!    follows the log in the same process and competes for the CPU);
//! 3. the service's executor called in-process on its own log, without gRPC: what the gRPC layer
//!    and its clients cost;
//!
//! and prints rates and p50/p99/p99.9 latencies, their ratios to the baseline, and a check of
//! every log the service wrote: exactly one event per accepted command, none lost, none
//! duplicated. The embedded backends' files live in a temporary directory, removed afterwards
//! unless `--keep` is given.
//!
//! With `--secure` the service of step 2 runs as production does: over TLS, with a bearer token
//! on every command, checked against the token store on every call (see `security.rs`).
//!
//! With `--hot` every client posts to one customer, a group's largest buyer: compare its rates
//! with a run spread over many customers.

mod security;

use std::collections::HashSet;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use async_nats::jetstream;
use async_nats::jetstream::message::PublishMessage;
use chrono::Utc;
use clap::{Parser, ValueEnum};
use futures::StreamExt;
use hdrhistogram::Histogram;
use receivables::accounts::CacheBounds;
use receivables::all_in_one::Serving;
use receivables::app::Application;
use receivables::config::{ACCOUNT_CACHE_CUSTOMERS_DEFAULT, CommandServiceArgs, ServeArgs};
use receivables::config::{EVENT_LOG_FILE, TOKEN_STORE_FILE};
use receivables::execution::Executor;
use receivables::nats::connect as connect_nats;
use receivables_access::{KvTokenConfig, KvTokenStore, SqliteTokenStore};
use receivables_api::commands;
use receivables_api::pb;
use receivables_api::pb::command_service_client::CommandServiceClient;
use receivables_domain::event::InvoiceIssued;
use receivables_domain::testing::EnvelopeBuilder;
use receivables_domain::{
    CommandId, Currency, CustomerId, Event, EventEnvelope, EventId, InvoiceNumber, Money, Position,
    Principal, SubsidiaryId,
};
use receivables_eventlog::jetstream::{JetStreamConfig, JetStreamLog};
use receivables_eventlog::sqlite::SqliteLog;
use receivables_eventlog::{Appended, EventLog, codec};
use receivables_loadgen::NatsArgs;
use receivables_loadgen::scratch::Scratch;
use receivables_loadgen::value_name;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};
use uuid::Uuid;

#[derive(Debug, Parser)]
#[command(about = "Drive the command service and compare it with the event log's raw appends")]
struct Args {
    /// Which backends to run on: JetStream at --nats-url, or the embedded SQLite event log and
    /// read model in a temporary directory (no servers).
    #[arg(long, value_enum, default_value_t = Backend::Jetstream)]
    backend: Backend,
    #[command(flatten)]
    nats: NatsArgs,
    /// Concurrent clients (each with one request in flight).
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// gRPC connections the clients share (HTTP/2 multiplexes their requests).
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Customers (subjects) the load is spread over.
    #[arg(long, default_value_t = 1_000)]
    customers: usize,
    /// Measured commands (and raw appends).
    #[arg(long, default_value_t = 20_000)]
    commands: usize,
    /// Every client posts to one customer (a group's largest buyer) instead of spreading over
    /// --customers: the service decides one customer's commands one at a time. The raw
    /// baseline appends to one subject one at a time too (each append names the last position
    /// it saw). The ledger and invoices mixes only.
    #[arg(long)]
    hot: bool,
    /// What the commands are.
    #[arg(long, value_enum, default_value_t = Mix::Ledger)]
    mix: Mix,
    /// Keep the benchmark's streams (embedded: its temporary directory) afterwards.
    #[arg(long)]
    keep: bool,
    /// Serve over TLS and send a bearer token with every command, as production does (a
    /// certificate and tokens made for the run), to measure what security costs.
    #[arg(long)]
    secure: bool,
    /// Record the operators' metrics, as `--metrics-listen` does (the Prometheus endpoint on a
    /// free port of the loopback), to measure what they cost.
    #[arg(long)]
    metrics: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Backend {
    /// NATS JetStream (the production event log).
    Jetstream,
    /// The embedded SQLite event log (and, for the gRPC run, the embedded read model).
    Embedded,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Mix {
    /// Per customer, in turn: invoice, payment, ... (five invoices, four payments oldest due
    /// first) and one promise to pay in every ten commands.
    Ledger,
    /// Only invoices (each also reserves its number: two log writes per command).
    Invoices,
    /// Per customer, a cycle of twelve commands of the whole life cycle: three invoices, a
    /// payment (oldest due first), a credit note on account (its number reserved), an
    /// application of half of it, a refund of the rest, a dispute and its withdrawal, a
    /// write-off, the payment's reversal and a promise. Not for `--secure` (a write-off needs
    /// the credit role, the run's tokens are subsidiary tokens).
    LifeCycle,
    /// The ledger mix in two currencies under a limit: each customer's first command (in the
    /// warm-up) sets a limit in CNY, and every other invoice is in USD, so that every invoice
    /// after the first USD one counts the customer's exposure in both currencies, the USD part
    /// converted at the group's rate (published once before the run), which the service reads
    /// from the group's own account. Not for `--secure` (limits and rates need group roles).
    Currencies,
    /// The currencies mix with payment terms: every CNY invoice on the group's template
    /// `30-50-20` (30 % on the issue date, 50 % in 60 days, 20 % in 90; 2 % off within 10
    /// days, defined once before the run, read by the service from the group's own account
    /// with the rates), every USD invoice on an explicit schedule of three rows, so that every
    /// payment (oldest due first) competes row by row. Not for `--secure`.
    Terms,
    /// Credit checks (`CheckCredit`), which append nothing: each customer's warm-up sets a
    /// limit under BLOCK with a 90-day overdue hold and issues four invoices (five commands per
    /// customer, not measured); then every measured request asks whether an order of 2,500.00
    /// fits, against the caught-up account. Not for `--secure` (limits need the credit role).
    CheckCredit,
}

impl Mix {
    /// Commands per customer before the measured ones.
    fn warm_up(self) -> usize {
        match self {
            Mix::CheckCredit => CHECK_CREDIT_WARM_UP,
            _ => 1,
        }
    }

    /// Whether every accepted measured request appends one event (a credit check appends
    /// none).
    fn appends(self) -> bool {
        !matches!(self, Mix::CheckCredit)
    }
}

/// The check-credit mix's warm-up per customer: its limit and four invoices.
const CHECK_CREDIT_WARM_UP: usize = 5;

/// The length of the life-cycle mix's cycle (see [`Mix::LifeCycle`]).
const LIFE_CYCLE: usize = 12;

/// Latencies are recorded in microseconds, up to a minute.
fn histogram() -> anyhow::Result<Histogram<u64>> {
    Ok(Histogram::new_with_bounds(1, 60_000_000, 3)?)
}

/// Failures printed per client before the rest are only counted.
const FAILURES_PRINTED_MAX: usize = 3;

/// How long reading a log back for the check may take.
const CHECK_READ_TIMEOUT: Duration = Duration::from_secs(600);

/// Where the services started by this benchmark listen: any free port on the loopback.
const LISTEN: &str = "127.0.0.1:0";

/// The embedded backends' directories inside the temporary directory.
const RAW_DIR: &str = "raw";
const ALL_IN_ONE_DIR: &str = "all-in-one";
const DIRECT_DIR: &str = "direct";

struct Measured {
    label: &'static str,
    operations: usize,
    elapsed: Duration,
    latency: Histogram<u64>,
    failures: usize,
}

impl Measured {
    fn rate(&self) -> f64 {
        self.operations as f64 / self.elapsed.as_secs_f64()
    }

    fn print(&self) {
        println!(
            "{:<34} {:>9.0}/s   p50 {:>7.2} ms   p99 {:>7.2} ms   p99.9 {:>7.2} ms   ({} in {:.2} s, {} failed)",
            self.label,
            self.rate(),
            self.latency.value_at_quantile(0.50) as f64 / 1000.0,
            self.latency.value_at_quantile(0.99) as f64 / 1000.0,
            self.latency.value_at_quantile(0.999) as f64 / 1000.0,
            self.operations,
            self.elapsed.as_secs_f64(),
            self.failures,
        );
    }
}

/// What one run measured: the baseline, the service over gRPC and its executor in-process, and
/// the commands each service run accepted during its warm-up.
struct Figures {
    raw: Measured,
    grpc: Measured,
    grpc_warm: usize,
    in_process: Measured,
    in_process_warm: usize,
}

impl Figures {
    /// The commands the service accepted in all, over gRPC and in-process: each log must hold
    /// that many events (the measured requests of a mix that appends nothing add none).
    fn accepted(&self, mix: Mix) -> [usize; 2] {
        let appended = |measured: &Measured| {
            if mix.appends() {
                measured.operations
            } else {
                0
            }
        };
        [
            self.grpc_warm + appended(&self.grpc),
            self.in_process_warm + appended(&self.in_process),
        ]
    }

    fn print_ratios(&self) {
        println!(
            "ratio to raw: gRPC {:.2}, in-process {:.2}",
            self.grpc.rate() / self.raw.rate(),
            self.in_process.rate() / self.raw.rate()
        );
    }
}

/// A customer's id as the load spells it.
fn customer_name(customer: usize) -> String {
    format!("CUST-{customer:06}")
}

/// A typical event: an invoice of a customer, as the service would append it.
fn sample_envelope() -> anyhow::Result<EventEnvelope> {
    let cny = Currency::parse("CNY")?;
    let event = Event::InvoiceIssued(InvoiceIssued {
        subsidiary_id: SubsidiaryId::parse("SUB-1")?,
        invoice_number: InvoiceNumber::parse("INV-0001-000123")?,
        amount: Money::positive("1000", cny)?,
        issue_date: chrono::NaiveDate::from_ymd_opt(2026, 5, 1).context("date")?,
        due_date: chrono::NaiveDate::from_ymd_opt(2026, 5, 31).context("date")?,
        terms_days: None,
        payment_terms: None,
        schedule: Vec::new(),
        discount: None,
        over_limit: false,
        credit_check: None,
        consumes: None,
    });
    Ok(EnvelopeBuilder::of("CUST-000123", event)
        .recorded_at(Utc::now())
        .unsealed())
}

/// Which customers a client works on: client `c` owns customers `c, c + clients, ...`, so that
/// no two clients write to one customer at once (in the raw baseline, each client tracks the
/// expected last position of its own customers). With `--hot`, every client the first one.
fn owned(client: usize, args: &Args) -> Vec<usize> {
    if args.hot {
        return vec![0];
    }
    (client..args.customers).step_by(args.clients).collect()
}

/// The numbers a hot customer's clients start their commands at, so that their invoice numbers
/// never meet; a multiple of ten, so that each client's commands follow the mix's cycle.
const HOT_NUMBERS_PER_CLIENT: usize = 10_000_000;

/// Where a client's sequence of commands starts for each of its customers.
fn first_numbers(client: usize, customers: usize, args: &Args) -> Vec<usize> {
    if args.hot {
        return vec![client * HOT_NUMBERS_PER_CLIENT];
    }
    vec![0; customers]
}

fn share(total: usize, clients: usize, client: usize) -> usize {
    total / clients + usize::from(client < total % clients)
}

// ---------------------------------------------------------------------------------------------
// The baseline: raw appends to the log
// ---------------------------------------------------------------------------------------------

/// One raw acknowledged append to a customer's history, without the service: the baseline.
trait RawAppend: Send + Sync + 'static {
    /// What one append sends, prepared before its clock starts.
    type Prepared: Send;

    fn prepare(&self, customer: usize) -> anyhow::Result<Self::Prepared>;

    /// Appends if the customer's last position is still `expected`; returns the new one.
    fn append(
        &self,
        prepared: Self::Prepared,
        expected: u64,
    ) -> impl Future<Output = anyhow::Result<u64>> + Send;
}

/// Publishes of an encoded event to a customer's subject, with the service's headers.
struct JetStreamRaw {
    context: jetstream::Context,
    subject_prefix: String,
    payload: bytes::Bytes,
}

impl RawAppend for JetStreamRaw {
    /// The subject and the message id.
    type Prepared = (String, String);

    fn prepare(&self, customer: usize) -> anyhow::Result<Self::Prepared> {
        Ok((
            format!("{}.{}", self.subject_prefix, customer_name(customer)),
            Uuid::new_v4().to_string(),
        ))
    }

    async fn append(&self, (subject, id): Self::Prepared, expected: u64) -> anyhow::Result<u64> {
        let publish = PublishMessage::build()
            .payload(self.payload.clone())
            .message_id(id)
            .expected_last_subject_sequence(expected);
        let ack = self.context.send_publish(subject, publish).await?.await?;
        Ok(ack.sequence)
    }
}

/// Appends of an invoice event (a fresh event id and command id each) to the embedded log.
struct SqliteRaw {
    log: SqliteLog,
    template: EventEnvelope,
}

impl RawAppend for SqliteRaw {
    type Prepared = EventEnvelope;

    fn prepare(&self, customer: usize) -> anyhow::Result<Self::Prepared> {
        let mut envelope = self.template.clone();
        envelope.event_id = EventId::from_uuid(Uuid::now_v7())?;
        envelope.command_id = CommandId::from_uuid(Uuid::new_v4())?;
        envelope.customer_id = CustomerId::parse(&customer_name(customer))?;
        envelope.recorded_at = Utc::now();
        Ok(envelope)
    }

    async fn append(&self, envelope: Self::Prepared, expected: u64) -> anyhow::Result<u64> {
        match self.log.append(&envelope, Position::new(expected)).await? {
            Appended::New(position) => Ok(position.get()),
            Appended::Duplicate(position) => {
                bail!("a fresh command id was taken as a duplicate of position {position}")
            }
        }
    }
}

/// `args.commands` raw appends by `args.clients` clients, each with one append in flight, round
/// robin over its own customers; with `--hot`, one at a time to one customer, in turns (the
/// clock of each starts before it waits for its turn, as a command's waits for the customer).
async fn raw_baseline<A: RawAppend>(
    label: &'static str,
    appender: Arc<A>,
    args: &Args,
) -> anyhow::Result<Measured> {
    let mut tasks = Vec::new();
    // The hot customer's last position, which its clients take turns to append after.
    let hot_last = Arc::new(tokio::sync::Mutex::new(0u64));
    let hot = args.hot;
    let started = Instant::now();
    for client in 0..args.clients {
        let appender = Arc::clone(&appender);
        let hot_last = Arc::clone(&hot_last);
        let mine = owned(client, args);
        let count = share(args.commands, args.clients, client);
        tasks.push(tokio::spawn(async move {
            let mut latency = histogram()?;
            let mut last = vec![0u64; mine.len()];
            let mut failures = 0;
            for n in 0..count {
                let slot = n % mine.len();
                let prepared = appender.prepare(mine[slot])?;
                let begin = Instant::now();
                let mut turn = None;
                if hot {
                    let held = hot_last.lock().await;
                    last[slot] = *held;
                    turn = Some(held);
                }
                match appender.append(prepared, last[slot]).await {
                    Ok(position) => {
                        last[slot] = position;
                        if let Some(mut held) = turn {
                            *held = position;
                        }
                        latency.record(begin.elapsed().as_micros() as u64)?;
                    }
                    Err(error) => {
                        failures += 1;
                        if failures <= FAILURES_PRINTED_MAX {
                            eprintln!("raw append failed: {error:#}");
                        }
                    }
                }
            }
            anyhow::Ok((latency, failures))
        }));
    }
    let mut latency = histogram()?;
    let mut failures = 0;
    for task in tasks {
        let (h, f) = task.await??;
        latency.add(h)?;
        failures += f;
    }
    Ok(Measured {
        label,
        operations: args.commands - failures,
        elapsed: started.elapsed(),
        latency,
        failures,
    })
}

// ---------------------------------------------------------------------------------------------
// The service: commands over gRPC or to the executor in-process
// ---------------------------------------------------------------------------------------------

fn money(amount: &str) -> Option<pb::Money> {
    Some(pb::Money {
        amount: amount.into(),
        currency: "CNY".into(),
    })
}

/// The id of the `k`-th command of a customer in the life-cycle mix: derived, so that a
/// reversal can name the payment it reverses.
fn life_cycle_id(run: &str, customer: usize, k: usize) -> String {
    Uuid::new_v5(
        &Uuid::NAMESPACE_OID,
        format!("{run}/{customer}/{k}").as_bytes(),
    )
    .to_string()
}

/// The `k`-th command of a customer in the life-cycle mix (see [`Mix::LifeCycle`]).
fn life_cycle_command(run: &str, customer: usize, k: usize) -> Command {
    let customer_id = customer_name(customer);
    let command_id = life_cycle_id(run, customer, k);
    let subsidiary = format!("SUB-{}", customer % 3 + 1);
    let number = |k: usize| format!("{run}-{customer:06}-{k:06}");
    let invoice_ref = |k: usize| {
        Some(pb::InvoiceRef {
            subsidiary_id: subsidiary.clone(),
            invoice_number: number(k),
        })
    };
    let cycle_start = k - k % LIFE_CYCLE;
    match k % LIFE_CYCLE {
        0 | 1 | 11 => Command::Invoice(pb::IssueInvoiceRequest {
            command_id,
            customer_id,
            subsidiary_id: subsidiary.clone(),
            invoice_number: number(k),
            amount: money("1000"),
            issue_date: "2026-05-01".into(),
            due: Some(pb::issue_invoice_request::Due::TermsDays(30)),
            schedule: Vec::new(),
            order_number: String::new(),
        }),
        2 => Command::Payment(pb::RecordPaymentRequest {
            command_id,
            customer_id,
            subsidiary_id: subsidiary,
            amount: money("500"),
            received_date: "2026-05-15".into(),
            method: pb::PaymentMethod::BankTransfer.into(),
            reference: format!("BANK-{k}"),
            allocations: Vec::new(),
            allocation_rule: pb::AllocationRule::Unspecified.into(),
        }),
        3 => Command::CreditNote(pb::IssueCreditNoteRequest {
            command_id,
            customer_id,
            subsidiary_id: subsidiary,
            credit_note_number: format!("CN-{}", number(k)),
            amount: money("100"),
            issue_date: "2026-05-02".into(),
            reason: "volume rebate".into(),
            invoice: None,
        }),
        4 => Command::Application(pb::ApplyUnappliedCashRequest {
            command_id,
            customer_id,
            subsidiary_id: subsidiary,
            source: pb::UnappliedSource::Credit.into(),
            amount: money("50"),
            application_date: "2026-05-03".into(),
            allocations: Vec::new(),
        }),
        5 => Command::Refund(pb::IssueRefundRequest {
            command_id,
            customer_id,
            subsidiary_id: subsidiary,
            source: pb::UnappliedSource::Credit.into(),
            amount: money("50"),
            refund_date: "2026-05-04".into(),
            method: pb::PaymentMethod::BankTransfer.into(),
            reference: format!("REFUND-{k}"),
        }),
        6 => Command::OpenDispute(pb::OpenDisputeRequest {
            command_id,
            customer_id,
            invoice: invoice_ref(cycle_start),
            amount: money("100"),
            reason: pb::DisputeReason::Quality.into(),
            note: String::new(),
            opened_on: "2026-05-05".into(),
            expires_on: String::new(),
        }),
        7 => Command::ResolveDispute(pb::ResolveDisputeRequest {
            command_id,
            customer_id,
            invoice: invoice_ref(cycle_start),
            resolved_on: "2026-05-06".into(),
            outcome: pb::DisputeOutcome::Withdrawn.into(),
            credit_note_number: String::new(),
            note: String::new(),
        }),
        8 => Command::WriteOff(pb::WriteOffInvoiceRequest {
            command_id,
            customer_id,
            invoice: invoice_ref(cycle_start + 1),
            amount: money("100"),
            write_off_date: "2026-05-07".into(),
            reason: "customer insolvent".into(),
            approved_by: "Zhang Wei".into(),
        }),
        9 => Command::Reversal(pb::ReversePaymentRequest {
            command_id,
            customer_id,
            subsidiary_id: subsidiary,
            payment_command_id: life_cycle_id(run, customer, cycle_start + 2),
            reversal_date: "2026-05-20".into(),
            reason: pb::ReversalReason::ReturnedByBank.into(),
        }),
        _ => Command::Promise(pb::RecordPromiseToPayRequest {
            command_id,
            customer_id,
            subsidiary_id: subsidiary,
            amount: money("100"),
            made_on: "2026-05-20".into(),
            promised_date: "2026-06-10".into(),
            invoices: Vec::new(),
            collector: "Wang Fang".into(),
            note: String::new(),
        }),
    }
}

/// The group's rates the currencies mix converts with: 1 USD = 7.1 CNY from the first day.
fn currencies_rates() -> Command {
    Command::Rates(pb::PublishExchangeRatesRequest {
        command_id: Uuid::new_v4().to_string(),
        base: "CNY".into(),
        rate_date: "2026-01-01".into(),
        rates: vec![pb::ExchangeRateEntry {
            currency: "USD".into(),
            rate: "7.1".into(),
        }],
        source: "benchmark".into(),
    })
}

/// The template the terms mix issues its CNY invoices on.
fn terms_template() -> Command {
    let line = |portion: &str, days: u32| pb::TermsLine {
        portion: portion.into(),
        due: Some(pb::terms_line::Due::NetDays(days)),
    };
    Command::Terms(pb::DefinePaymentTermsRequest {
        command_id: Uuid::new_v4().to_string(),
        code: "30-50-20".into(),
        description: "benchmark".into(),
        lines: vec![line("30", 0), line("50", 60), line("20", 90)],
        discount: Some(pb::EarlyPaymentDiscount {
            percent: "2".into(),
            within_days: 10,
        }),
    })
}

/// The `k`-th command for a customer under the mix.
fn next_command(mix: Mix, run: &str, customer: usize, k: usize) -> Command {
    if let Mix::LifeCycle = mix {
        return life_cycle_command(run, customer, k);
    }
    let customer_id = customer_name(customer);
    if let Mix::Terms = mix {
        let mut command = next_command(Mix::Currencies, run, customer, k);
        if let Command::Invoice(invoice) = &mut command {
            let usd = invoice
                .amount
                .as_ref()
                .is_some_and(|money| money.currency == "USD");
            if usd {
                invoice.due = None;
                invoice.schedule = ["2026-05-31", "2026-06-30", "2026-07-31"]
                    .into_iter()
                    .map(|due| pb::ScheduleRow {
                        due_date: due.into(),
                        amount: Some(pb::Money {
                            amount: "50".into(),
                            currency: "USD".into(),
                        }),
                    })
                    .collect();
            } else {
                invoice.due = Some(pb::issue_invoice_request::Due::PaymentTerms(
                    "30-50-20".into(),
                ));
            }
        }
        return command;
    }
    if let Mix::CheckCredit = mix {
        return match k {
            0 => Command::CreditLimit(pb::ChangeCreditLimitRequest {
                command_id: Uuid::new_v4().to_string(),
                customer_id,
                limit: money("100000"),
                policy: pb::CreditPolicy::Block.into(),
                grade: pb::CreditGrade::B.into(),
                reason: "benchmark".into(),
                approved_by: "Li Wei".into(),
                effective_date: "2026-01-01".into(),
                overdue_hold_days: Some(90),
            }),
            k if k < CHECK_CREDIT_WARM_UP => next_command(Mix::Invoices, run, customer, k),
            _ => Command::CheckCredit(pb::CheckCreditRequest {
                customer_id,
                amount: money("2500"),
                date: "2026-05-20".into(),
            }),
        };
    }
    if let Mix::Currencies = mix {
        if k == 0 {
            return Command::CreditLimit(pb::ChangeCreditLimitRequest {
                command_id: Uuid::new_v4().to_string(),
                customer_id,
                limit: money("1000000000"),
                policy: pb::CreditPolicy::Warn.into(),
                grade: pb::CreditGrade::B.into(),
                reason: "benchmark".into(),
                approved_by: "Li Wei".into(),
                effective_date: "2026-01-01".into(),
                overdue_hold_days: None,
            });
        }
        // Then the ledger mix, every other invoice in USD.
        let k = k - 1;
        let mut command = next_command(Mix::Ledger, run, customer, k);
        if let Command::Invoice(invoice) = &mut command
            && (k / 2) % 2 == 1
        {
            invoice.amount = Some(pb::Money {
                amount: "150".into(),
                currency: "USD".into(),
            });
        }
        return command;
    }
    let command_id = Uuid::new_v4().to_string();
    let subsidiary = format!("SUB-{}", customer % 3 + 1);
    let invoice = |number: usize| {
        Command::Invoice(pb::IssueInvoiceRequest {
            command_id: command_id.clone(),
            customer_id: customer_id.clone(),
            subsidiary_id: subsidiary.clone(),
            invoice_number: format!("{run}-{customer:06}-{number:06}"),
            amount: money("1000"),
            issue_date: "2026-05-01".into(),
            due: Some(pb::issue_invoice_request::Due::TermsDays(30)),
            schedule: Vec::new(),
            order_number: String::new(),
        })
    };
    match (mix, k % 10) {
        (Mix::Invoices | Mix::LifeCycle | Mix::Currencies | Mix::Terms | Mix::CheckCredit, _)
        | (Mix::Ledger, 0 | 2 | 4 | 6 | 8) => invoice(k),
        (Mix::Ledger, 9) => Command::Promise(pb::RecordPromiseToPayRequest {
            command_id,
            customer_id,
            subsidiary_id: subsidiary,
            amount: money("100"),
            made_on: "2026-05-20".into(),
            promised_date: "2026-06-10".into(),
            invoices: Vec::new(),
            collector: "Wang Fang".into(),
            note: String::new(),
        }),
        (Mix::Ledger, _) => Command::Payment(pb::RecordPaymentRequest {
            command_id,
            customer_id,
            subsidiary_id: subsidiary,
            amount: money("500"),
            received_date: "2026-05-15".into(),
            method: pb::PaymentMethod::BankTransfer.into(),
            reference: format!("BANK-{k}"),
            allocations: Vec::new(),
            allocation_rule: pb::AllocationRule::Unspecified.into(),
        }),
    }
}

enum Command {
    Invoice(pb::IssueInvoiceRequest),
    Payment(pb::RecordPaymentRequest),
    Promise(pb::RecordPromiseToPayRequest),
    CreditNote(pb::IssueCreditNoteRequest),
    Application(pb::ApplyUnappliedCashRequest),
    Refund(pb::IssueRefundRequest),
    OpenDispute(pb::OpenDisputeRequest),
    ResolveDispute(pb::ResolveDisputeRequest),
    WriteOff(pb::WriteOffInvoiceRequest),
    Reversal(pb::ReversePaymentRequest),
    CreditLimit(pb::ChangeCreditLimitRequest),
    Rates(pb::PublishExchangeRatesRequest),
    Terms(pb::DefinePaymentTermsRequest),
    CheckCredit(pb::CheckCreditRequest),
}

/// The subsidiary of the invoice a request names (whose token posts it).
fn invoice_subsidiary(invoice: Option<&pb::InvoiceRef>) -> String {
    invoice.map(|i| i.subsidiary_id.clone()).unwrap_or_default()
}

/// Where commands go: the service over gRPC, or its executor called in-process (the same
/// decision, reservation and append, without the gRPC layer), to show what each costs.
trait Target: Send + 'static {
    fn send(&mut self, command: Command) -> impl Future<Output = Result<(), String>> + Send;
}

/// A gRPC client, with the token of the command's subsidiary when the service wants one.
struct GrpcTarget {
    client: CommandServiceClient<Channel>,
    headers: Option<security::Headers>,
}

impl GrpcTarget {
    fn request<T>(&self, subsidiary: &str, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        if let Some(header) = self.headers.as_ref().and_then(|h| h.get(subsidiary)) {
            request
                .metadata_mut()
                .insert("authorization", header.clone());
        }
        request
    }
}

impl Target for GrpcTarget {
    async fn send(&mut self, command: Command) -> Result<(), String> {
        match command {
            Command::Invoice(r) => {
                let request = self.request(&r.subsidiary_id.clone(), r);
                self.client.issue_invoice(request).await.map(drop)
            }
            Command::Payment(r) => {
                let request = self.request(&r.subsidiary_id.clone(), r);
                self.client.record_payment(request).await.map(drop)
            }
            Command::Promise(r) => {
                let request = self.request(&r.subsidiary_id.clone(), r);
                self.client.record_promise_to_pay(request).await.map(drop)
            }
            Command::CreditNote(r) => {
                let request = self.request(&r.subsidiary_id.clone(), r);
                self.client.issue_credit_note(request).await.map(drop)
            }
            Command::Application(r) => {
                let request = self.request(&r.subsidiary_id.clone(), r);
                self.client.apply_unapplied_cash(request).await.map(drop)
            }
            Command::Refund(r) => {
                let request = self.request(&r.subsidiary_id.clone(), r);
                self.client.issue_refund(request).await.map(drop)
            }
            Command::Reversal(r) => {
                let request = self.request(&r.subsidiary_id.clone(), r);
                self.client.reverse_payment(request).await.map(drop)
            }
            Command::OpenDispute(r) => {
                let subsidiary = invoice_subsidiary(r.invoice.as_ref());
                let request = self.request(&subsidiary, r);
                self.client.open_dispute(request).await.map(drop)
            }
            Command::ResolveDispute(r) => {
                let subsidiary = invoice_subsidiary(r.invoice.as_ref());
                let request = self.request(&subsidiary, r);
                self.client.resolve_dispute(request).await.map(drop)
            }
            Command::WriteOff(r) => {
                let subsidiary = invoice_subsidiary(r.invoice.as_ref());
                let request = self.request(&subsidiary, r);
                self.client.write_off_invoice(request).await.map(drop)
            }
            // Group roles' commands: the mixes that send them do not run with tokens.
            Command::CreditLimit(r) => self
                .client
                .change_credit_limit(tonic::Request::new(r))
                .await
                .map(drop),
            Command::Rates(r) => self
                .client
                .publish_exchange_rates(tonic::Request::new(r))
                .await
                .map(drop),
            Command::Terms(r) => self
                .client
                .define_payment_terms(tonic::Request::new(r))
                .await
                .map(drop),
            Command::CheckCredit(r) => self
                .client
                .check_credit(tonic::Request::new(r))
                .await
                .map(drop),
        }
        .map_err(|status| format!("{} {}", status.code(), status.message()))
    }
}

impl<L: EventLog> Target for Arc<Executor<L>> {
    async fn send(&mut self, command: Command) -> Result<(), String> {
        let addressed = match &command {
            // A question: answered without appending.
            Command::CheckCredit(r) => {
                let question =
                    commands::check_credit::read(r).map_err(|refusal| refusal.to_string())?;
                return self
                    .check_credit(&question.customer_id, question.amount, question.date)
                    .await
                    .map(drop)
                    .map_err(|error| error.to_string());
            }
            Command::Invoice(r) => commands::invoice::read(r),
            Command::Payment(r) => commands::payment::read(r),
            Command::Promise(r) => commands::promise::read(r),
            Command::CreditNote(r) => commands::credit_note::read(r),
            Command::Application(r) => commands::application::read(r),
            Command::Refund(r) => commands::refund::read(r),
            Command::Reversal(r) => commands::reversal::read(r),
            Command::OpenDispute(r) => commands::dispute::read_open(r),
            Command::ResolveDispute(r) => commands::dispute::read_resolve(r),
            Command::WriteOff(r) => commands::write_off::read(r),
            Command::CreditLimit(r) => commands::credit_limit::read(r),
            Command::Rates(r) => commands::exchange_rates::read(r),
            Command::Terms(r) => commands::payment_terms::read(r),
        }
        .map_err(|refusal| refusal.to_string())?;
        self.execute(&addressed, &Principal::anonymous(), None)
            .await
            .map(drop)
            .map_err(|error| error.to_string())
    }
}

/// Sends `count` commands, round robin over the client's customers, continuing each customer's
/// sequence from `next`; returns latencies, failures and where each customer's sequence is.
async fn drive<T: Target>(
    mut target: T,
    mix: Mix,
    run: Arc<str>,
    mine: Vec<usize>,
    mut next: Vec<usize>,
    count: usize,
) -> anyhow::Result<(Histogram<u64>, usize, Vec<usize>)> {
    let mut latency = histogram()?;
    let mut failures = 0;
    for n in 0..count {
        let slot = n % mine.len();
        let command = next_command(mix, &run, mine[slot], next[slot]);
        next[slot] += 1;
        let begin = Instant::now();
        match target.send(command).await {
            Ok(()) => latency.record(begin.elapsed().as_micros() as u64)?,
            Err(error) => {
                failures += 1;
                if failures <= FAILURES_PRINTED_MAX {
                    eprintln!("command failed: {error}");
                }
            }
        }
    }
    Ok((latency, failures, next))
}

/// Warms up (one command per customer: first contact loads the empty account, not measured),
/// then measures `args.commands` commands. Returns the measurement and the warm-up count.
async fn measure<T: Target>(
    label: &'static str,
    args: &Args,
    run: &str,
    target_for: impl Fn(usize) -> T,
) -> anyhow::Result<(Measured, usize)> {
    let run: Arc<str> = Arc::from(run);
    // The rates the currencies mix converts with, published before anything else (counted
    // with the warm-up, so that the log holds one event per accepted command).
    let mut published = 0;
    if let Mix::Currencies | Mix::Terms = args.mix {
        target_for(0)
            .send(currencies_rates())
            .await
            .map_err(|error| anyhow::anyhow!("publishing the rates: {error}"))?;
        published = 1;
    }
    if let Mix::Terms = args.mix {
        target_for(0)
            .send(terms_template())
            .await
            .map_err(|error| anyhow::anyhow!("defining the payment terms: {error}"))?;
        published += 1;
    }
    let mut tasks = Vec::new();
    for client in 0..args.clients {
        let mine = owned(client, args);
        let count = mine.len() * args.mix.warm_up();
        let start = first_numbers(client, mine.len(), args);
        tasks.push(tokio::spawn(drive(
            target_for(client),
            args.mix,
            Arc::clone(&run),
            mine,
            start,
            count,
        )));
    }
    let mut warm = published;
    let mut state = Vec::new();
    for task in tasks {
        let (_, failures, next) = task.await??;
        warm += next.len() * args.mix.warm_up() - failures;
        state.push(next);
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (client, next) in state.into_iter().enumerate() {
        let mine = owned(client, args);
        let count = share(args.commands, args.clients, client);
        tasks.push(tokio::spawn(drive(
            target_for(client),
            args.mix,
            Arc::clone(&run),
            mine,
            next,
            count,
        )));
    }
    let mut latency = histogram()?;
    let mut failures = 0;
    for task in tasks {
        let (h, f, _) = task.await??;
        latency.add(h)?;
        failures += f;
    }
    Ok((
        Measured {
            label,
            operations: args.commands - failures,
            elapsed: started.elapsed(),
            latency,
            failures,
        },
        warm,
    ))
}

/// A gRPC service started in this process, serving until told to stop.
struct Running {
    address: SocketAddr,
    stop: oneshot::Sender<()>,
    server: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// Spawns `run_until(stopped)`: the service's own serve-until-shutdown future.
    fn spawn<F>(address: SocketAddr, run_until: impl FnOnce(oneshot::Receiver<()>) -> F) -> Self
    where
        F: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let (stop, stopped) = oneshot::channel();
        Running {
            address,
            stop,
            server: tokio::spawn(run_until(stopped)),
        }
    }
}

/// Completes when told to stop (or when the sender is gone).
async fn until(stopped: oneshot::Receiver<()>) {
    let _ = stopped.await;
}

/// How a gRPC run is secured: not at all, or TLS with the certificate to trust and tokens.
type Secure = Option<(String, security::Headers)>;

/// A service started in this process, driven over gRPC, then stopped.
async fn grpc_run(
    label: &'static str,
    args: &Args,
    run: &str,
    service: Running,
    secure: Secure,
) -> anyhow::Result<(Measured, usize)> {
    let (endpoint, tls, headers) = match secure {
        None => (format!("http://{}", service.address), None, None),
        Some((certificate, headers)) => (
            format!("https://localhost:{}", service.address.port()),
            Some(ClientTlsConfig::new().ca_certificate(Certificate::from_pem(certificate))),
            Some(headers),
        ),
    };
    let mut channels = Vec::new();
    for _ in 0..args.connections.max(1) {
        let mut channel = Channel::from_shared(endpoint.clone())?.tcp_nodelay(true);
        if let Some(tls) = &tls {
            channel = channel.tls_config(tls.clone())?;
        }
        channels.push(channel.connect().await?);
    }
    let result = measure(label, args, run, |client| GrpcTarget {
        client: CommandServiceClient::new(channels[client % channels.len()].clone()),
        headers: headers.clone(),
    })
    .await;
    let _ = service.stop.send(());
    service.server.await??;
    result
}

/// The service's executor called in-process on its own log.
async fn in_process_run<L: EventLog>(
    args: &Args,
    run: &str,
    log: Arc<L>,
    account_cache_customers: u64,
) -> anyhow::Result<(Measured, usize)> {
    let executor = Arc::new(Executor::new(
        log,
        CacheBounds::customers(account_cache_customers),
    ));
    measure("executor in-process (no gRPC)", args, run, |_| {
        Arc::clone(&executor)
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// The check: one event per accepted command
// ---------------------------------------------------------------------------------------------

/// Checks that a log holds exactly one event per accepted command: as many events as accepted
/// commands, at positions 1, 2, 3, ... with distinct command ids.
async fn check_log<L: EventLog>(log: &L, name: &str, accepted: usize) -> anyhow::Result<bool> {
    let (events, distinct) = tokio::time::timeout(CHECK_READ_TIMEOUT, count_log(log))
        .await
        .with_context(|| format!("reading {name} back took over {CHECK_READ_TIMEOUT:?}"))??;
    let good = events == accepted && distinct == events;
    println!(
        "  log {name}: {events} events, {distinct} distinct command ids, {accepted} accepted commands: {}",
        if good {
            "none lost, none duplicated"
        } else {
            "MISMATCH"
        }
    );
    Ok(good)
}

/// Reads the whole log: (events, distinct command ids).
async fn count_log<L: EventLog>(log: &L) -> anyhow::Result<(usize, usize)> {
    let last = log.last_position().await?;
    let total = usize::try_from(last.get())?;
    let mut events = log.follow(Position::ZERO).await?.take(total);
    let mut ids = HashSet::with_capacity(total);
    let mut seen = 0;
    while let Some(event) = events.next().await {
        let event = event?;
        seen += 1;
        if event.position.get() != seen as u64 {
            bail!("position {} where {seen} was expected", event.position);
        }
        ids.insert(event.envelope.command_id);
    }
    Ok((seen, ids.len()))
}

// ---------------------------------------------------------------------------------------------
// The two backends
// ---------------------------------------------------------------------------------------------

fn service_args(args: &Args, run: &str, tag: &str) -> anyhow::Result<CommandServiceArgs> {
    let mut service = CommandServiceArgs::new(LISTEN.parse()?, args.nats.nats_url.clone());
    service.nats.stream = format!("{run}_{tag}_EVENTS");
    service.nats.subject_prefix = format!("bench.{run}.{}", tag.to_lowercase());
    service.nats.invoice_numbers_bucket = format!("{run}_{tag}_NUMBERS");
    service.nats.snapshots_bucket = format!("{run}_{tag}_SNAPSHOTS");
    Ok(service)
}

/// Raw publishes, the command service and its executor, each on its own stream.
async fn on_jetstream(args: &Args, run: &str) -> anyhow::Result<bool> {
    let client = connect_nats(&args.nats.nats_url, "receivables-loadgen").await?;
    let context = jetstream::new(client.clone());
    let raw_config = JetStreamConfig {
        stream: format!("{run}_RAW"),
        subject_prefix: format!("bench.{run}.raw"),
        ..JetStreamConfig::default()
    };
    context
        .create_stream(raw_config.stream_config())
        .await
        .context("creating the raw stream")?;
    let appender = Arc::new(JetStreamRaw {
        context: context.clone(),
        subject_prefix: raw_config.subject_prefix.clone(),
        payload: codec::encode(&sample_envelope()?)?.into(),
    });
    let raw = raw_baseline("raw JetStream publish (baseline)", appender, args).await?;
    raw.print();

    let mut grpc = service_args(args, run, "GRPC")?;
    let scratch = Scratch::create(run, args.keep)?;
    let secure = if args.secure {
        let tls = security::tls(scratch.path())?;
        grpc.security = tls.args;
        grpc.nats.tokens_bucket = format!("{run}_GRPC_TOKENS");
        let store = KvTokenStore::open(
            client.clone(),
            KvTokenConfig::with_bucket(&grpc.nats.tokens_bucket),
        )
        .await?;
        Some((tls.certificate_pem, security::tokens(&store).await?))
    } else {
        None
    };
    let app = Application::build(&grpc).await?;
    let service = Running::spawn(app.local_addr()?, |stopped| app.run_until(until(stopped)));
    let label = if args.secure {
        "command service over gRPC (TLS + token)"
    } else {
        "command service over gRPC"
    };
    let (commands, grpc_warm) = grpc_run(label, args, run, service, secure).await?;
    commands.print();

    let direct = service_args(args, run, "DIRECT")?;
    let executor_client =
        connect_nats(direct.nats.url_or_default(), "receivables-loadgen-executor").await?;
    let log = JetStreamLog::open(executor_client, direct.nats.jetstream()).await?;
    let (executed, direct_warm) =
        in_process_run(args, run, Arc::new(log), direct.account_cache_customers).await?;
    executed.print();

    let figures = Figures {
        raw,
        grpc: commands,
        grpc_warm,
        in_process: executed,
        in_process_warm: direct_warm,
    };
    figures.print_ratios();
    let mut good = true;
    for (service, accepted) in [&grpc, &direct].into_iter().zip(figures.accepted(args.mix)) {
        let log = JetStreamLog::open(client.clone(), service.nats.jetstream()).await?;
        good &= check_log(&log, &format!("stream {}", service.nats.stream), accepted).await?;
    }

    if !args.keep {
        let mut streams = vec![raw_config.stream];
        for service in [&grpc, &direct] {
            streams.push(service.nats.stream.clone());
            streams.extend(service.nats.jetstream().bucket_streams());
        }
        if args.secure {
            streams.push(format!("KV_{}", grpc.nats.tokens_bucket));
        }
        for name in streams {
            if let Err(error) = context.delete_stream(&name).await {
                eprintln!("could not delete stream {name}: {error}");
            }
        }
    }
    Ok(good)
}

/// Raw appends, the all-in-one service and the executor, each on its own SQLite log in a
/// temporary directory.
async fn on_embedded(args: &Args, run: &str) -> anyhow::Result<bool> {
    let scratch = Scratch::create(run, args.keep)?;
    println!("  embedded backends in {}", scratch.path().display());

    let raw_path = scratch.join(RAW_DIR).join(EVENT_LOG_FILE);
    let appender = Arc::new(SqliteRaw {
        log: SqliteLog::open(&raw_path).await?,
        template: sample_envelope()?,
    });
    let raw = raw_baseline(
        "raw SqliteLog append (baseline)",
        Arc::clone(&appender),
        args,
    )
    .await;
    appender.log.close().await?;
    let raw = raw?;
    raw.print();

    let all_in_one = scratch.join(ALL_IN_ONE_DIR);
    let mut serve_args = ServeArgs::embedded(LISTEN.parse()?, &all_in_one);
    let secure = if args.secure {
        std::fs::create_dir_all(&all_in_one)?;
        let tls = security::tls(scratch.path())?;
        serve_args.security = tls.args;
        let store = SqliteTokenStore::open(&all_in_one.join(TOKEN_STORE_FILE)).await?;
        let headers = security::tokens(&store).await?;
        store.close().await;
        Some((tls.certificate_pem, headers))
    } else {
        None
    };
    let serving = Serving::build(&serve_args).await?;
    let service = Running::spawn(serving.local_addr()?, |stopped| {
        serving.run_until(until(stopped))
    });
    let label = if args.secure {
        "all-in-one over gRPC (+projector, TLS + token)"
    } else {
        "all-in-one over gRPC (+projector)"
    };
    let (commands, grpc_warm) = grpc_run(label, args, run, service, secure).await?;
    commands.print();
    println!(
        "  (the all-in-one service's projector runs in this process and competes for the CPU)"
    );

    let direct_path = scratch.join(DIRECT_DIR).join(EVENT_LOG_FILE);
    let log = Arc::new(SqliteLog::open(&direct_path).await?);
    let executed =
        in_process_run(args, run, Arc::clone(&log), ACCOUNT_CACHE_CUSTOMERS_DEFAULT).await;
    log.close().await?;
    let (executed, direct_warm) = executed?;
    executed.print();

    let figures = Figures {
        raw,
        grpc: commands,
        grpc_warm,
        in_process: executed,
        in_process_warm: direct_warm,
    };
    figures.print_ratios();
    let mut good = true;
    let logs = [all_in_one.join(EVENT_LOG_FILE), direct_path];
    for (path, accepted) in logs.iter().zip(figures.accepted(args.mix)) {
        good &= check_file(path, accepted).await?;
    }
    Ok(good)
}

/// Opens a log file the benchmark wrote and closed, and checks it.
async fn check_file(path: &Path, accepted: usize) -> anyhow::Result<bool> {
    let log = SqliteLog::open(path).await?;
    let name = path
        .strip_prefix(std::env::temp_dir())
        .unwrap_or(path)
        .display()
        .to_string();
    let good = check_log(&log, &name, accepted).await;
    log.close().await?;
    good
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.clients == 0 || args.commands == 0 || (!args.hot && args.customers < args.clients) {
        bail!("need clients > 0, commands > 0 and customers >= clients (unless --hot)");
    }
    if args.hot && !matches!(args.mix, Mix::Ledger | Mix::Invoices) {
        bail!("--hot takes the ledger or the invoices mix");
    }
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .init();
    }
    if args.metrics {
        receivables::observability::install(([127, 0, 0, 1], 0).into())?;
    }
    let run = format!("B{}", Utc::now().format("%Y%m%d%H%M%S"));
    let payload_bytes = codec::encode(&sample_envelope()?)?.len();
    let customers = if args.hot {
        "one hot customer".to_owned()
    } else {
        format!("{} customers", args.customers)
    };
    println!(
        "receivables-loadgen: backend {}, {} clients on {} connections, {customers}, {} commands, mix {}, payload {payload_bytes} bytes, metrics {}, run {run}",
        value_name(&args.backend),
        args.clients,
        args.connections,
        args.commands,
        value_name(&args.mix),
        if args.metrics { "recorded" } else { "off" },
    );
    let good = match args.backend {
        Backend::Jetstream => on_jetstream(&args, &run).await?,
        Backend::Embedded => on_embedded(&args, &run).await?,
    };
    if !good {
        bail!("a log does not hold exactly one event per accepted command");
    }
    Ok(())
}
