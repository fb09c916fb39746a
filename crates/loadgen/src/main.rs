//! Load generator for the command service.
//!
//! In one run, against one NATS server, it measures:
//! 1. the baseline: raw acknowledged JetStream publishes of the same payload size as an encoded
//!    event, with the same headers (`Nats-Msg-Id`, `Nats-Expected-Last-Subject-Sequence`), from
//!    the same number of concurrent clients over the same number of subjects;
//! 2. the command service (started in this process on its own stream) driven over gRPC by that
//!    many concurrent clients over that many customers;
//!
//! and prints rates and p50/p99/p99.9 latencies, their ratio, and a check of the stream after the
//! run: exactly one event per accepted command, none lost, none duplicated.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use async_nats::jetstream;
use async_nats::jetstream::message::PublishMessage;
use chrono::Utc;
use clap::{Parser, ValueEnum};
use futures::StreamExt;
use hdrhistogram::Histogram;
use receivables::app::{Application, connect_nats};
use receivables::config::CommandServiceArgs;
use receivables::execution::Executor;
use receivables_api::pb;
use receivables_api::pb::command_service_client::CommandServiceClient;
use receivables_api::requests;
use receivables_domain::command::CommandDigest;
use receivables_domain::event::{InvoiceIssued, SCHEMA_VERSION};
use receivables_domain::{
    CommandId, Currency, CustomerId, Event, EventEnvelope, EventId, InvoiceNumber, Money,
    Principal, SubsidiaryId,
};
use receivables_eventlog::codec;
use receivables_eventlog::jetstream::{JetStreamConfig, JetStreamLog};
use tonic::transport::Channel;
use uuid::Uuid;

#[derive(Debug, Parser)]
#[command(about = "Drive the command service and compare it with raw JetStream publishes")]
struct Args {
    /// NATS server to run against.
    #[arg(
        long,
        env = "RECEIVABLES_NATS_URL",
        default_value = "nats://127.0.0.1:4222"
    )]
    nats_url: String,
    /// Concurrent clients (each with one request in flight).
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// gRPC connections the clients share (HTTP/2 multiplexes their requests).
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Customers (subjects) the load is spread over.
    #[arg(long, default_value_t = 1_000)]
    customers: usize,
    /// Measured commands (and raw publishes).
    #[arg(long, default_value_t = 20_000)]
    commands: usize,
    /// What the commands are.
    #[arg(long, value_enum, default_value_t = Mix::Ledger)]
    mix: Mix,
    /// Keep the benchmark's streams afterwards.
    #[arg(long)]
    keep: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Mix {
    /// Per customer, in turn: invoice, payment, ... (five invoices, four payments oldest due
    /// first) and one promise to pay in every ten commands.
    Ledger,
    /// Only invoices (each also reserves its number: two JetStream writes per command).
    Invoices,
}

/// Latencies are recorded in microseconds, up to a minute.
fn histogram() -> anyhow::Result<Histogram<u64>> {
    Ok(Histogram::new_with_bounds(1, 60_000_000, 3)?)
}

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

/// A typical encoded event, to give raw publishes the same size.
fn sample_payload() -> anyhow::Result<Vec<u8>> {
    let cny = Currency::parse("CNY")?;
    let envelope = EventEnvelope {
        event_id: EventId::from_uuid(Uuid::now_v7())?,
        schema_version: SCHEMA_VERSION,
        customer_id: CustomerId::parse("CUST-000123")?,
        subsidiary_id: Some(SubsidiaryId::parse("SUB-1")?),
        command_id: CommandId::from_uuid(Uuid::new_v4())?,
        command_digest: CommandDigest::try_from("ab".repeat(32))?,
        principal: Principal::anonymous(),
        recorded_at: Utc::now(),
        effective_date: chrono::NaiveDate::from_ymd_opt(2026, 5, 1).context("date")?,
        sequence: 1,
        prev_hash: receivables_domain::EventHash::GENESIS,
        hash: receivables_domain::EventHash::GENESIS,
        event: Event::InvoiceIssued(InvoiceIssued {
            subsidiary_id: SubsidiaryId::parse("SUB-1")?,
            invoice_number: InvoiceNumber::parse("INV-0001-000123")?,
            amount: Money::positive("1000", cny)?,
            issue_date: chrono::NaiveDate::from_ymd_opt(2026, 5, 1).context("date")?,
            due_date: chrono::NaiveDate::from_ymd_opt(2026, 5, 31).context("date")?,
            terms_days: None,
            over_limit: false,
            credit_check: None,
        }),
    };
    Ok(codec::encode(&envelope)?)
}

/// Which customers a client works on: client `c` owns customers `c, c + clients, ...`, so that
/// no two clients write to one customer at once (in the raw baseline, each client tracks the
/// expected sequence of its own subjects).
fn owned(client: usize, clients: usize, customers: usize) -> Vec<usize> {
    (client..customers).step_by(clients).collect()
}

fn share(total: usize, clients: usize, client: usize) -> usize {
    total / clients + usize::from(client < total % clients)
}

async fn raw_baseline(
    context: &jetstream::Context,
    config: &JetStreamConfig,
    args: &Args,
    payload: bytes::Bytes,
) -> anyhow::Result<Measured> {
    context
        .create_stream(config.stream_config())
        .await
        .context("creating the raw stream")?;
    let mut tasks = Vec::new();
    let started = Instant::now();
    for client in 0..args.clients {
        let context = context.clone();
        let payload = payload.clone();
        let prefix = config.subject_prefix.clone();
        let mine = owned(client, args.clients, args.customers);
        let count = share(args.commands, args.clients, client);
        tasks.push(tokio::spawn(async move {
            let mut latency = histogram()?;
            let mut last = vec![0u64; mine.len()];
            let mut failures = 0;
            for n in 0..count {
                let slot = n % mine.len();
                let subject = format!("{prefix}.CUST-{:06}", mine[slot]);
                let publish = PublishMessage::build()
                    .payload(payload.clone())
                    .message_id(Uuid::new_v4().to_string())
                    .expected_last_subject_sequence(last[slot]);
                let begin = Instant::now();
                let ack = async { context.send_publish(subject, publish).await?.await }.await;
                match ack {
                    Ok(ack) => {
                        last[slot] = ack.sequence;
                        latency.record(begin.elapsed().as_micros() as u64)?;
                    }
                    Err(_) => failures += 1,
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
        label: "raw JetStream publish (baseline)",
        operations: args.commands - failures,
        elapsed: started.elapsed(),
        latency,
        failures,
    })
}

fn money(amount: &str) -> Option<pb::Money> {
    Some(pb::Money {
        amount: amount.into(),
        currency: "CNY".into(),
    })
}

/// The `k`-th command for a customer under the mix.
fn next_command(mix: Mix, run: &str, customer: usize, k: usize) -> Command {
    let customer_id = format!("CUST-{customer:06}");
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
        })
    };
    match (mix, k % 10) {
        (Mix::Invoices, _) | (Mix::Ledger, 0 | 2 | 4 | 6 | 8) => invoice(k),
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
        }),
    }
}

enum Command {
    Invoice(pb::IssueInvoiceRequest),
    Payment(pb::RecordPaymentRequest),
    Promise(pb::RecordPromiseToPayRequest),
}

/// Where commands go: the service over gRPC, or its executor called in-process (the same
/// decision, reservation and append, without the gRPC layer), to show what each costs.
#[derive(Clone)]
enum Target {
    Grpc(CommandServiceClient<Channel>),
    InProcess(Arc<Executor<JetStreamLog>>),
}

impl Target {
    async fn send(&mut self, command: Command) -> Result<(), String> {
        match self {
            Target::Grpc(client) => match command {
                Command::Invoice(r) => client.issue_invoice(r).await.map(drop),
                Command::Payment(r) => client.record_payment(r).await.map(drop),
                Command::Promise(r) => client.record_promise_to_pay(r).await.map(drop),
            }
            .map_err(|status| format!("{} {}", status.code(), status.message())),
            Target::InProcess(executor) => {
                let addressed = match &command {
                    Command::Invoice(r) => requests::issue_invoice(r),
                    Command::Payment(r) => requests::record_payment(r),
                    Command::Promise(r) => requests::record_promise_to_pay(r),
                }
                .map_err(|refusal| refusal.to_string())?;
                executor
                    .execute(&addressed, &Principal::anonymous())
                    .await
                    .map(drop)
                    .map_err(|error| error.to_string())
            }
        }
    }
}

/// Sends `count` commands, round robin over the client's customers, continuing each customer's
/// sequence from `next`; returns latencies, failures and where each customer's sequence is.
async fn drive(
    mut target: Target,
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
                if failures <= 3 {
                    eprintln!("command failed: {error}");
                }
            }
        }
    }
    Ok((latency, failures, next))
}

/// Warms up (one command per customer: first contact loads the empty account, not measured),
/// then measures `args.commands` commands. Returns the measurement and the warm-up count.
async fn measure(
    label: &'static str,
    args: &Args,
    run: &str,
    target_for: impl Fn(usize) -> Target,
) -> anyhow::Result<(Measured, usize)> {
    let run: Arc<str> = Arc::from(run);
    let mut tasks = Vec::new();
    for client in 0..args.clients {
        let mine = owned(client, args.clients, args.customers);
        let count = mine.len();
        let start = vec![0; count];
        tasks.push(tokio::spawn(drive(
            target_for(client),
            args.mix,
            Arc::clone(&run),
            mine,
            start,
            count,
        )));
    }
    let mut warm = 0;
    let mut state = Vec::new();
    for task in tasks {
        let (_, failures, next) = task.await??;
        warm += next.len() - failures;
        state.push(next);
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (client, next) in state.into_iter().enumerate() {
        let mine = owned(client, args.clients, args.customers);
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

/// The command service started in this process, driven over gRPC.
async fn grpc_run(
    args: &Args,
    service: &CommandServiceArgs,
    run: &str,
) -> anyhow::Result<(Measured, usize)> {
    let app = Application::build(service).await?;
    let endpoint = format!("http://{}", app.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    let mut channels = Vec::new();
    for _ in 0..args.connections.max(1) {
        let channel = Channel::from_shared(endpoint.clone())?
            .tcp_nodelay(true)
            .connect()
            .await?;
        channels.push(channel);
    }
    let result = measure("command service over gRPC", args, run, |client| {
        Target::Grpc(CommandServiceClient::new(
            channels[client % channels.len()].clone(),
        ))
    })
    .await;
    let _ = stop.send(());
    server.await??;
    result
}

/// The service's executor called in-process on its own stream.
async fn in_process_run(
    args: &Args,
    service: &CommandServiceArgs,
    run: &str,
) -> anyhow::Result<(Measured, usize)> {
    let client = connect_nats(&service.nats_url, "receivables-loadgen-executor").await?;
    let log = JetStreamLog::open(client, service.jetstream()).await?;
    let executor = Arc::new(Executor::new(
        Arc::new(log),
        service.account_cache_customers,
    ));
    measure("executor in-process (no gRPC)", args, run, |_| {
        Target::InProcess(Arc::clone(&executor))
    })
    .await
}

/// Checks that the stream holds exactly one event per accepted command.
async fn check_stream(
    context: &jetstream::Context,
    name: &str,
    accepted: usize,
) -> anyhow::Result<bool> {
    let (messages, distinct) = count_stream(context, name).await?;
    let good = messages == accepted && distinct == messages;
    println!(
        "  stream {name}: {messages} events, {distinct} distinct command ids, {accepted} accepted commands: {}",
        if good {
            "none lost, none duplicated"
        } else {
            "MISMATCH"
        }
    );
    Ok(good)
}

fn service_args(args: &Args, run: &str, tag: &str) -> anyhow::Result<CommandServiceArgs> {
    let mut service = CommandServiceArgs::new("127.0.0.1:0".parse()?, args.nats_url.clone());
    service.stream = format!("{run}_{tag}_EVENTS");
    service.subject_prefix = format!("bench.{run}.{}", tag.to_lowercase());
    service.invoice_numbers_bucket = format!("{run}_{tag}_NUMBERS");
    Ok(service)
}

/// Reads the whole stream: (messages, distinct message ids).
async fn count_stream(context: &jetstream::Context, name: &str) -> anyhow::Result<(usize, usize)> {
    let mut stream = context.get_stream(name).await?;
    let total = stream.info().await?.state.messages;
    if total == 0 {
        return Ok((0, 0));
    }
    let consumer = stream
        .create_consumer(jetstream::consumer::pull::OrderedConfig::default())
        .await?;
    let mut messages = consumer.messages().await?;
    let mut ids = HashSet::new();
    let mut seen = 0;
    while let Some(message) = messages.next().await {
        let message = message?;
        let id = message
            .headers
            .as_ref()
            .and_then(|h| h.get("Nats-Msg-Id"))
            .map(|v| v.to_string())
            .unwrap_or_default();
        ids.insert(id);
        seen += 1;
        if message.info().map_err(|e| anyhow::anyhow!("{e}"))?.pending == 0 {
            break;
        }
    }
    Ok((seen, ids.len()))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.clients == 0 || args.customers < args.clients || args.commands == 0 {
        bail!("need clients > 0, customers >= clients and commands > 0");
    }
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .init();
    }
    let run = format!("B{}", Utc::now().format("%Y%m%d%H%M%S"));
    let client = connect_nats(&args.nats_url, "receivables-loadgen").await?;
    let context = jetstream::new(client);
    let payload = bytes::Bytes::from(sample_payload()?);
    println!(
        "receivables-loadgen: {} clients on {} connections, {} customers, {} commands, mix {:?}, payload {} bytes, run {run}",
        args.clients,
        args.connections,
        args.customers,
        args.commands,
        args.mix,
        payload.len()
    );

    let raw_config = JetStreamConfig {
        stream: format!("{run}_RAW"),
        subject_prefix: format!("bench.{run}.raw"),
        ..JetStreamConfig::default()
    };
    let raw = raw_baseline(&context, &raw_config, &args, payload).await?;
    raw.print();

    let grpc = service_args(&args, &run, "GRPC")?;
    let (commands, grpc_warm) = grpc_run(&args, &grpc, &run).await?;
    commands.print();
    let direct = service_args(&args, &run, "DIRECT")?;
    let (executed, direct_warm) = in_process_run(&args, &direct, &run).await?;
    executed.print();
    println!(
        "ratio to raw: gRPC {:.2}, in-process {:.2}",
        commands.rate() / raw.rate(),
        executed.rate() / raw.rate()
    );
    let mut good = true;
    good &= check_stream(&context, &grpc.stream, grpc_warm + commands.operations).await?;
    good &= check_stream(&context, &direct.stream, direct_warm + executed.operations).await?;

    if !args.keep {
        let mut streams = vec![raw_config.stream];
        for service in [&grpc, &direct] {
            streams.push(service.stream.clone());
            streams.push(format!("KV_{}", service.invoice_numbers_bucket));
        }
        for name in streams {
            if let Err(error) = context.delete_stream(&name).await {
                eprintln!("could not delete stream {name}: {error}");
            }
        }
    }
    if !good {
        bail!("a stream does not hold exactly one event per accepted command");
    }
    Ok(())
}
