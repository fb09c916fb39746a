//! Receipts benchmark: bank statement lines imported and matched against a large book of open
//! invoices.
//!
//! Writes the history of [`receivables_loadgen::history`] straight into a fresh event log (not
//! measured; by default 1,250,000 events: 1,000,000 open invoices over 10,000 customers),
//! starts the all-in-one service on it in this process (embedded: the data directory holding
//! that log; `jetstream-postgres`: that stream and a fresh database), waits until the
//! projector has caught up and today's summaries are worked out, then, with the open invoices
//! of random customers (read back over gRPC, not measured), writes camt.053 statements of
//! `--lines` credits (70 % naming an invoice exactly, 20 % mangled, 10 % with no number; each
//! paying what its invoice owes) and measures, over gRPC:
//!
//! - `ImportStatement` with matching left out: the statements' files, one after another:
//!   lines per second;
//! - ranking one waiting line (the read model's evidence and the engine:
//!   `ListUnmatchedReceipts` of that line), `--samples` lines: p50 and p99;
//! - `MatchReceipts` of the account: every waiting line matched, the sure ones recorded and
//!   their payments posted: lines per second;
//! - the process's peak resident memory over each step (the service runs in it);
//! - the baseline, in the same run and before the rest: `--baseline` other open invoices paid
//!   as plain `RecordPayment` calls, each allocating its invoice, as many at once as the
//!   matcher posts (16): payments per second. A person typing the payments in would post
//!   these; the matcher does them with the ranking and the match record added.
//!
//! The service's business date is the history's report date (it keeps today's summaries for
//! its own date), and the lines' value date is that date.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use chrono::Utc;
use clap::Parser;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use receivables::all_in_one::Serving;
use receivables::config::ServeArgs;
use receivables_api::pb;
use receivables_api::pb::query_service_client::QueryServiceClient;
use receivables_api::pb::receipt_service_client::ReceiptServiceClient;
use receivables_loadgen::history::{self, HistoryMix, Shape};
use receivables_loadgen::memory::PeakSampler;
use receivables_loadgen::served_history::{Backend, ServedHistory};
use receivables_loadgen::timings::Timings;
use receivables_loadgen::value_name;
use receivables_loadgen::{NatsArgs, PostgresArgs};
use receivables_projections::ReadStore;
use receivables_projections::summaries;
use tonic::transport::Channel;

#[derive(Debug, Parser)]
#[command(about = "Time importing and matching bank statement lines against a large book")]
struct Args {
    #[arg(long, value_enum, default_value_t = Backend::JetstreamPostgres)]
    backend: Backend,
    #[command(flatten)]
    nats: NatsArgs,
    #[command(flatten)]
    postgres: PostgresArgs,
    /// Events written to the log.
    #[arg(long, default_value_t = 1_250_000)]
    events: usize,
    /// Customers the events are spread over.
    #[arg(long, default_value_t = 10_000)]
    customers: usize,
    /// Statement lines imported and matched.
    #[arg(long, default_value_t = 100_000)]
    lines: usize,
    /// Lines per statement file (a file stays under the service's size limit).
    #[arg(long, default_value_t = 20_000)]
    lines_per_file: usize,
    /// Open invoices paid as plain `RecordPayment` calls first (the baseline).
    #[arg(long, default_value_t = 5_000)]
    baseline: usize,
    /// Lines whose ranking is timed one by one.
    #[arg(long, default_value_t = 200)]
    samples: usize,
    /// Keep the stream and the database (embedded: the data directory) afterwards.
    #[arg(long)]
    keep: bool,
}

const ACCOUNT: &str = "BENCH-CNY";
const NUMBER: &str = "6222000000000001";
/// How often the benchmark asks whether the projector has caught up.
const CATCH_UP_POLL: Duration = Duration::from_secs(1);
/// How long the projector may take to catch up.
const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(7_200);
/// Baseline payments in flight at once: the matcher's own posting concurrency.
const BASELINE_CONCURRENCY: usize = 16;

/// An open invoice a line pays.
struct Owed {
    customer: String,
    subsidiary: String,
    number: String,
    amount: String,
}

fn statement(lines: &[(String, String, String)], value_date: &str, file: usize) -> String {
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"><BkToCstmrStmt><GrpHdr><MsgId>BENCH-{file}</MsgId><CreDtTm>2026-01-01T00:00:00</CreDtTm></GrpHdr><Stmt><Id>BENCH-{file}</Id><CreDtTm>2026-01-01T00:00:00</CreDtTm><Acct><Id><Othr><Id>{NUMBER}</Id></Othr></Id><Ccy>CNY</Ccy></Acct>"
    );
    for (id, amount, reference) in lines {
        xml.push_str(&format!(
            "<Ntry><Amt Ccy=\"CNY\">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>{value_date}</Dt></BookgDt><ValDt><Dt>{value_date}</Dt></ValDt><AcctSvcrRef>{id}</AcctSvcrRef><NtryDtls><TxDtls><RmtInf><Ustrd>{reference}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
        ));
    }
    xml.push_str("</Stmt></BkToCstmrStmt></Document>\n");
    xml
}

async fn wait_caught_up(grpc: SocketAddr, last: u64, store: &ReadStore) -> anyhow::Result<()> {
    let channel = Channel::from_shared(format!("http://{grpc}"))?
        .connect()
        .await?;
    let mut queries = QueryServiceClient::new(channel);
    let started = Instant::now();
    let as_of = history::report_as_of()?;
    loop {
        let answer = queries
            .get_aging_report(pb::GetAgingReportRequest {
                scope: Some(pb::AgingScope {
                    as_of: as_of.to_string(),
                    ..Default::default()
                }),
                group_by: pb::AgingGroupBy::Group as i32,
                min_position: last,
            })
            .await;
        if answer.is_ok() {
            break;
        }
        if started.elapsed() > CATCH_UP_TIMEOUT {
            bail!("the projector did not catch up within {CATCH_UP_TIMEOUT:?}");
        }
        tokio::time::sleep(CATCH_UP_POLL).await;
    }
    let generation = store.live().await?;
    let pool = store.pool(generation, 1).await?;
    while !summaries::covers(&pool, as_of).await? {
        if started.elapsed() > CATCH_UP_TIMEOUT {
            bail!("today's summaries were not worked out within {CATCH_UP_TIMEOUT:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    pool.close().await;
    println!("caught up in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Open invoices of random customers, `wanted` of them.
async fn owed(
    grpc: SocketAddr,
    args: &Args,
    wanted: usize,
    rng: &mut StdRng,
) -> anyhow::Result<Vec<Owed>> {
    let channel = Channel::from_shared(format!("http://{grpc}"))?
        .connect()
        .await?;
    let mut queries = QueryServiceClient::new(channel);
    let as_of = history::report_as_of()?;
    let mut customers: Vec<usize> = (0..args.customers).collect();
    customers.shuffle(rng);
    let mut owed = Vec::with_capacity(wanted);
    for customer in customers {
        let items = queries
            .list_open_items(pb::ListOpenItemsRequest {
                scope: Some(pb::AgingScope {
                    as_of: as_of.to_string(),
                    customer_id: history::customer_id(customer)?.to_string(),
                    ..Default::default()
                }),
                page_size: 1000,
                ..Default::default()
            })
            .await?
            .into_inner()
            .items;
        for item in items {
            let invoice = item.invoice.context("an open item without its invoice")?;
            owed.push(Owed {
                customer: item.customer_id,
                subsidiary: invoice.subsidiary_id,
                number: invoice.invoice_number,
                amount: item.open_amount.context("an open amount")?.amount,
            });
            if owed.len() == wanted {
                return Ok(owed);
            }
        }
    }
    bail!("only {} open invoices of {wanted} wanted", owed.len())
}

/// The baseline: each of `invoices` paid by a plain `RecordPayment` allocating it, as many at
/// once as the matcher posts.
async fn baseline(grpc: SocketAddr, invoices: &[Owed], received: &str) -> anyhow::Result<()> {
    use futures::StreamExt as _;
    let channel = Channel::from_shared(format!("http://{grpc}"))?
        .connect()
        .await?;
    let commands = pb::command_service_client::CommandServiceClient::new(channel);
    let sampler = PeakSampler::start()?;
    let started = Instant::now();
    let results: Vec<anyhow::Result<()>> = futures::stream::iter(invoices)
        .map(|owed| {
            let mut commands = commands.clone();
            let money = pb::Money {
                amount: owed.amount.clone(),
                currency: "CNY".to_owned(),
            };
            let request = pb::RecordPaymentRequest {
                command_id: uuid::Uuid::now_v7().to_string(),
                customer_id: owed.customer.clone(),
                subsidiary_id: owed.subsidiary.clone(),
                amount: Some(money.clone()),
                received_date: received.to_owned(),
                method: pb::PaymentMethod::BankTransfer.into(),
                reference: owed.number.clone(),
                allocations: vec![pb::Allocation {
                    invoice: Some(pb::InvoiceRef {
                        subsidiary_id: owed.subsidiary.clone(),
                        invoice_number: owed.number.clone(),
                    }),
                    amount: Some(money),
                }],
                ..Default::default()
            };
            async move {
                commands.record_payment(request).await?;
                Ok(())
            }
        })
        .buffer_unordered(BASELINE_CONCURRENCY)
        .collect()
        .await;
    let elapsed = started.elapsed();
    let peak = sampler.stop()?;
    results.into_iter().collect::<anyhow::Result<Vec<()>>>()?;
    println!(
        "baseline: {} RecordPayment in {:.1} s: {:.0} payments/s; {}",
        invoices.len(),
        elapsed.as_secs_f64(),
        invoices.len() as f64 / elapsed.as_secs_f64(),
        peak.describe()
    );
    Ok(())
}

async fn measure(
    grpc: SocketAddr,
    last: u64,
    store: &ReadStore,
    args: &Args,
) -> anyhow::Result<()> {
    wait_caught_up(grpc, last, store).await?;
    let mut rng = StdRng::seed_from_u64(1_207);
    let mut owed = owed(grpc, args, args.lines + args.baseline, &mut rng).await?;
    let paid_plainly = owed.split_off(args.lines);
    let value_date = history::report_as_of()?.to_string();
    baseline(grpc, &paid_plainly, &value_date).await?;
    let subsidiary = owed.first().context("no open invoice")?.subsidiary.clone();
    let channel = Channel::from_shared(format!("http://{grpc}"))?
        .connect()
        .await?;
    let mut receipts = ReceiptServiceClient::new(channel)
        .max_encoding_message_size(64 * 1024 * 1024)
        .max_decoding_message_size(256 * 1024 * 1024);
    receipts
        .register_bank_account(pb::RegisterBankAccountRequest {
            command_id: uuid::Uuid::now_v7().to_string(),
            bank_account_id: ACCOUNT.to_owned(),
            subsidiary_id: subsidiary,
            currency: "CNY".to_owned(),
            number: NUMBER.to_owned(),
            bank: "Bench Bank".to_owned(),
            name: "bench".to_owned(),
        })
        .await?;
    let lines: Vec<(String, String, String)> = owed
        .iter()
        .enumerate()
        .map(|(n, owed)| {
            let reference = match rng.random_range(0..10u32) {
                0..=6 => owed.number.clone(),
                7 | 8 => owed.number.to_lowercase().replace('-', " "),
                _ => "payment".to_owned(),
            };
            (format!("B{n:08}"), owed.amount.clone(), reference)
        })
        .collect();

    let sampler = PeakSampler::start()?;
    let started = Instant::now();
    let mut imported = 0;
    for (file, chunk) in lines.chunks(args.lines_per_file).enumerate() {
        let reply = receipts
            .import_statement(pb::ImportStatementRequest {
                bank_account_id: ACCOUNT.to_owned(),
                format: pb::StatementFormat::Camt053.into(),
                content: statement(chunk, &value_date, file).into_bytes(),
                skip_matching: true,
                ..Default::default()
            })
            .await?
            .into_inner();
        imported += reply.imported;
    }
    let import = started.elapsed();
    let peak = sampler.stop()?;
    println!(
        "import: {imported} lines in {:.1} s: {:.0} lines/s; {}",
        import.as_secs_f64(),
        f64::from(imported) / import.as_secs_f64(),
        peak.describe()
    );

    let mut ranking = Timings::new()?;
    let mut sample: Vec<&(String, String, String)> = lines.iter().collect();
    sample.shuffle(&mut rng);
    for (id, _, _) in sample.into_iter().take(args.samples) {
        ranking
            .time(async {
                Ok(receipts
                    .list_unmatched_receipts(pb::ListUnmatchedReceiptsRequest {
                        bank_account_id: ACCOUNT.to_owned(),
                        line_id: id.clone(),
                        page_size: 1,
                        ..Default::default()
                    })
                    .await?)
            })
            .await?;
    }
    ranking.print("ranking one waiting line (evidence and engine)");

    let sampler = PeakSampler::start()?;
    let started = Instant::now();
    let matched = receipts
        .match_receipts(pb::MatchReceiptsRequest {
            bank_account_id: ACCOUNT.to_owned(),
        })
        .await?
        .into_inner();
    let matching = started.elapsed();
    let peak = sampler.stop()?;
    println!(
        "match: {} lines looked at in {:.1} s: {:.0} lines/s; {} matched automatically, {} \
         waiting, {} payments posted; {}",
        matched.looked_at,
        matching.as_secs_f64(),
        f64::from(matched.looked_at) / matching.as_secs_f64(),
        matched.matched_automatically,
        matched.waiting,
        matched.payments_posted,
        peak.describe()
    );
    Ok(())
}

/// Serves all-in-one and measures; stops it after.
async fn serve_and_measure(
    mut serve: ServeArgs,
    store: &ReadStore,
    last: u64,
    args: &Args,
) -> anyhow::Result<()> {
    serve.alerts.business_date = Some(history::report_as_of()?);
    let serving = Serving::build(&serve).await?;
    let grpc = serving.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(serving.run_until(async move {
        let _ = stopped.await;
    }));
    let measured = measure(grpc, last, store, args).await;
    let _ = stop.send(());
    running.await??;
    measured
}

fn shape(args: &Args) -> anyhow::Result<Shape> {
    Shape::of_mix(args.events, args.customers, HistoryMix::Ledger)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    shape(&args)?;
    let run = format!("R{}", Utc::now().format("%Y%m%d%H%M%S"));
    println!(
        "receipts-bench: backend {}, {} events over {} customers, {} lines, run {run}",
        value_name(&args.backend),
        args.events,
        args.customers,
        args.lines
    );
    let served = ServedHistory::write(
        args.backend,
        &args.nats,
        &args.postgres,
        shape(&args)?,
        args.events,
        &run,
        args.keep,
    )
    .await?;
    let measured = serve_and_measure(served.serve.clone(), &served.store, served.last, &args).await;
    served.finish(args.keep).await?;
    measured
}
