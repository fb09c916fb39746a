//! Soak: a steady write load on a running deployment for a long while, sampling every minute
//! what must stay flat: the command latency the clients see, each process's resident memory and
//! the projectors' lag. For the local production topology (`just soak`, which starts it with
//! `deploy/local/cluster.sh` and stops it afterwards); not a CI run.
//!
//! Each client posts, for each of the customers of its own in turn, four invoices of 1,000.00
//! then a payment of 4,000.00 that the service allocates to them (oldest due first): a steady
//! state in which nothing stays open, while every account's history grows. One command at a
//! time, resending a command that got `UNAVAILABLE`, `ABORTED` or no answer with the same
//! command id to the next command service; a client sends to one service (`--routing
//! affinity`, the default) or each command to the next (`round-robin`). Besides latency,
//! memory and projection lag, each minute prints the command services' account caches' weight
//! (each account's estimated bytes, at least its share of the bound) and how many accounts
//! they had to load (not found in the cache).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Parser;
use hdrhistogram::Histogram;
use receivables_api::pb;
use receivables_api::pb::command_service_client::CommandServiceClient;
use tonic::transport::Channel;

#[derive(Debug, Parser)]
#[command(
    about = "A steady write load for a long while, sampling latency, memory and projection lag every minute"
)]
struct Args {
    /// The command services, comma-separated URLs.
    #[arg(long, default_value = "http://127.0.0.1:14051,http://127.0.0.1:14052")]
    commands: String,
    /// The metrics endpoints of the query services, comma-separated URLs.
    #[arg(
        long,
        default_value = "http://127.0.0.1:14093/metrics,http://127.0.0.1:14094/metrics"
    )]
    query_metrics: String,
    /// The metrics endpoints of the command services, comma-separated URLs.
    #[arg(
        long,
        default_value = "http://127.0.0.1:14091/metrics,http://127.0.0.1:14092/metrics"
    )]
    command_metrics: String,
    /// The directory of pid files of the processes to sample (deploy/local/cluster.sh's).
    #[arg(long, default_value = "target/local-cluster/pids")]
    pids: PathBuf,
    /// How long to run, in minutes.
    #[arg(long, default_value_t = 30)]
    minutes: u64,
    /// Clients posting at once, each one command at a time.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Customers each client posts for.
    #[arg(long, default_value_t = 50)]
    customers_per_client: usize,
    /// Which command service each command goes to.
    #[arg(long, value_enum, default_value_t = Routing::Affinity)]
    routing: Routing,
}

/// How commands are spread over the command services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Routing {
    /// A client's commands go to one service, and to the next only when it does not answer:
    /// the service holding a customer's account finds it current.
    Affinity,
    /// Each command goes to the service after the one before: a customer's account is behind
    /// the log at every service every time, and each command first reads what the other
    /// appended.
    RoundRobin,
}

/// How often the figures are sampled.
const SAMPLE_EVERY: Duration = Duration::from_secs(60);

/// How long one attempt may take before it is sent again.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// Latencies recorded in microseconds, up to a minute.
fn histogram() -> anyhow::Result<Histogram<u64>> {
    Histogram::new_with_bounds(1, 60_000_000, 3).context("histogram")
}

fn money(amount: &str) -> Option<pb::Money> {
    Some(pb::Money {
        amount: amount.to_owned(),
        currency: "CNY".to_owned(),
    })
}

/// Commands of one customer's turn: four invoices, then the payment of all four.
const TURN: u64 = 5;

fn command(client: usize, n: u64, customers: usize) -> Request {
    let turn = n / TURN;
    let customer = format!("SOAK-{client:03}-{:04}", turn as usize % customers);
    let command_id = uuid::Uuid::new_v4().to_string();
    if n % TURN == TURN - 1 {
        Request::Payment(pb::RecordPaymentRequest {
            command_id,
            customer_id: customer,
            subsidiary_id: "SUB-A".to_owned(),
            amount: money("4000.00"),
            received_date: "2026-06-01".to_owned(),
            method: pb::PaymentMethod::BankTransfer.into(),
            reference: format!("SOAK-{n}"),
            allocations: Vec::new(),
            allocation_rule: pb::AllocationRule::Unspecified.into(),
        })
    } else {
        Request::Invoice(pb::IssueInvoiceRequest {
            command_id,
            customer_id: customer,
            subsidiary_id: "SUB-A".to_owned(),
            invoice_number: format!("SOAK-{client:03}-{n:09}"),
            amount: money("1000.00"),
            issue_date: "2026-05-01".to_owned(),
            due: Some(pb::issue_invoice_request::Due::DueDate(
                "2026-05-31".to_owned(),
            )),
            schedule: Vec::new(),
            order_number: String::new(),
        })
    }
}

enum Request {
    Invoice(pb::IssueInvoiceRequest),
    Payment(pb::RecordPaymentRequest),
}

async fn send(
    client: &mut CommandServiceClient<Channel>,
    request: &Request,
) -> Result<(), tonic::Status> {
    match request {
        Request::Invoice(invoice) => client.issue_invoice(invoice.clone()).await.map(|_| ()),
        Request::Payment(payment) => client.record_payment(payment.clone()).await.map(|_| ()),
    }
}

/// One client: posts until `until`, recording each acknowledged command's latency (first
/// attempt to acknowledgement) in `latencies`.
async fn run_client(
    client: usize,
    channels: Vec<Channel>,
    customers: usize,
    routing: Routing,
    until: Instant,
    latencies: Arc<Mutex<Histogram<u64>>>,
) -> anyhow::Result<u64> {
    let mut n = 0;
    let mut attempt = client;
    while Instant::now() < until {
        let request = command(client, n, customers);
        let started = Instant::now();
        loop {
            let mut service = CommandServiceClient::new(channels[attempt % channels.len()].clone());
            match tokio::time::timeout(ATTEMPT_TIMEOUT, send(&mut service, &request)).await {
                Ok(Ok(())) => {
                    if routing == Routing::RoundRobin {
                        attempt += 1;
                    }
                    break;
                }
                Ok(Err(status))
                    if matches!(
                        status.code(),
                        tonic::Code::Unavailable | tonic::Code::Aborted | tonic::Code::Unknown
                    ) => {}
                Ok(Err(status)) => bail!("a command was refused: {status:?}"),
                Err(_) => {}
            }
            // No answer: the same command to the next service.
            attempt += 1;
        }
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        if let Ok(mut histogram) = latencies.lock() {
            histogram.saturating_record(micros);
        }
        n += 1;
    }
    Ok(n)
}

/// Every process of the pid directory with its resident memory, in MB.
fn resident(pids: &std::path::Path) -> Vec<(String, f64)> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(pids) else {
        return found;
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = std::fs::read_to_string(entry.path())
            .ok()
            .and_then(|text| text.trim().parse::<u32>().ok())
        else {
            continue;
        };
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let kb = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kb| kb.parse::<f64>().ok());
        if let Some(kb) = kb {
            found.push((name, kb / 1024.0));
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

/// The largest value of `series` over the endpoints.
async fn scraped(endpoints: &[String], series: &str) -> Option<f64> {
    let mut largest: Option<f64> = None;
    for text in scrape_all(endpoints).await {
        for line in text.lines().filter(|line| line.starts_with(series)) {
            if let Some(value) = line.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()) {
                largest = Some(largest.map_or(value, |l| l.max(value)));
            }
        }
    }
    largest
}

/// The sum over the endpoints of every sample of `series` whose line holds `holding`.
async fn scraped_sum(endpoints: &[String], series: &str, holding: &str) -> f64 {
    let mut sum = 0.0;
    for text in scrape_all(endpoints).await {
        for line in text
            .lines()
            .filter(|line| line.starts_with(series) && line.contains(holding))
        {
            if let Some(value) = line.rsplit(' ').next().and_then(|v| v.parse::<f64>().ok()) {
                sum += value;
            }
        }
    }
    sum
}

/// Each endpoint's metrics text (plain HTTP GET); an endpoint that does not answer is left out.
async fn scrape_all(endpoints: &[String]) -> Vec<String> {
    let mut texts = Vec::new();
    for endpoint in endpoints {
        let address = endpoint
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        let Ok(mut stream) = tokio::net::TcpStream::connect(&address).await else {
            continue;
        };
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let request =
            format!("GET /metrics HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
        if stream.write_all(request.as_bytes()).await.is_err() {
            continue;
        }
        let mut text = String::new();
        if stream.read_to_string(&mut text).await.is_err() {
            continue;
        }
        texts.push(text);
    }
    texts
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut channels = Vec::new();
    for url in args.commands.split(',') {
        channels.push(
            Channel::from_shared(url.to_owned())?
                .connect()
                .await
                .with_context(|| format!("cannot reach {url}"))?,
        );
    }
    let metrics: Vec<String> = args.query_metrics.split(',').map(str::to_owned).collect();
    let command_metrics: Vec<String> = args.command_metrics.split(',').map(str::to_owned).collect();
    let mut loads_before = 0.0;
    let until = Instant::now() + Duration::from_secs(args.minutes * 60);
    let latencies = Arc::new(Mutex::new(histogram()?));
    println!(
        "soak: {} clients over {} command services ({:?}) for {} minutes, sampling every {} s",
        args.clients,
        channels.len(),
        args.routing,
        args.minutes,
        SAMPLE_EVERY.as_secs()
    );
    let clients: Vec<_> = (0..args.clients)
        .map(|client| {
            tokio::spawn(run_client(
                client,
                channels.clone(),
                args.customers_per_client,
                args.routing,
                until,
                Arc::clone(&latencies),
            ))
        })
        .collect();
    let started = Instant::now();
    let mut minute = 0;
    while Instant::now() < until {
        tokio::time::sleep(SAMPLE_EVERY.min(until.saturating_duration_since(Instant::now()))).await;
        minute += 1;
        let sample = {
            let mut histogram = latencies.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
            let sample = histogram.clone();
            histogram.reset();
            sample
        };
        let memory: Vec<String> = resident(&args.pids)
            .into_iter()
            .map(|(name, mb)| format!("{name} {mb:.0}"))
            .collect();
        let lag_positions = scraped(&metrics, "receivables_projector_lag_positions").await;
        let lag_seconds = scraped(&metrics, "receivables_projector_lag_seconds").await;
        let cache_bytes =
            scraped_sum(&command_metrics, "receivables_account_cache_bytes", "").await;
        let loads = scraped_sum(&command_metrics, "receivables_accounts_total", "snapshot").await
            + scraped_sum(&command_metrics, "receivables_accounts_total", "events").await;
        let loaded = loads - loads_before;
        loads_before = loads;
        println!(
            "minute {minute:>3} ({:>5.0} s): {:>6} commands, {:>5.0}/s, p50 {:>6.2} ms, p99 {:>7.2} ms, max {:>8.2} ms | projector lag {} events, {} s | account caches {:.0} MB, {loaded:.0} accounts loaded | RSS MB: {}",
            started.elapsed().as_secs_f64(),
            sample.len(),
            sample.len() as f64 / SAMPLE_EVERY.as_secs_f64(),
            sample.value_at_quantile(0.5) as f64 / 1000.0,
            sample.value_at_quantile(0.99) as f64 / 1000.0,
            sample.max() as f64 / 1000.0,
            lag_positions.map_or("?".to_owned(), |v| format!("{v:.0}")),
            lag_seconds.map_or("?".to_owned(), |v| format!("{v:.2}")),
            cache_bytes / 1e6,
            memory.join(", ")
        );
    }
    let mut total = 0;
    for client in clients {
        total += client.await??;
    }
    println!(
        "soak: {total} commands acknowledged in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
