//! The operators' metrics with the real binary: `receivables serve --metrics-listen` answers
//! `GET /metrics` in Prometheus' text format, and its series move as commands are accepted and
//! refused, queries answered, accounts loaded, events appended and projected. Every expected
//! count is worked out from the calls the test makes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use receivables_api::pb;
use receivables_api::pb::command_service_client::CommandServiceClient;
use receivables_api::pb::query_service_client::QueryServiceClient;
use receivables_tests::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::Code;
use tonic::transport::Channel;

/// A sample line: its metric name, its labels and its value.
type Sample = (String, Vec<(String, String)>, f64);

/// One scrape: its text and every sample in it.
struct Scrape {
    text: String,
    samples: Vec<Sample>,
}

impl Scrape {
    fn parse(text: String) -> Scrape {
        let mut samples = Vec::new();
        for line in text.lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let (series, value) = line.rsplit_once(' ').expect("a sample and its value");
            let value: f64 = value.parse().expect("a number");
            let (name, labels) = match series.split_once('{') {
                Some((name, labels)) => {
                    let labels = labels.trim_end_matches('}');
                    let labels = labels
                        .split("\",")
                        .filter(|pair| !pair.is_empty())
                        .map(|pair| {
                            let (key, value) = pair.split_once("=\"").expect("key=\"value\"");
                            (key.to_owned(), value.trim_end_matches('"').to_owned())
                        })
                        .collect();
                    (name.to_owned(), labels)
                }
                None => (series.to_owned(), Vec::new()),
            };
            samples.push((name, labels, value));
        }
        Scrape { text, samples }
    }

    /// The sum of the samples of `name` carrying every one of `labels` (0 when none does).
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.samples
            .iter()
            .filter(|(sample, have, _)| {
                sample == name
                    && labels
                        .iter()
                        .all(|(k, v)| have.iter().any(|(hk, hv)| hk == k && hv == v))
            })
            .map(|(_, _, value)| value)
            .sum()
    }
}

async fn scrape(port: u16) -> Scrape {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("the metrics endpoint");
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("a response");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    Scrape::parse(body.to_owned())
}

/// The metric's counter after `then` minus before `now`.
fn moved(before: &Scrape, after: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    after.value(name, labels) - before.value(name, labels)
}

/// `receivables serve` on a data directory of its own with `extra` arguments and its metrics
/// endpoint: the directory, the process (killed on drop), a channel to it, the metrics port.
async fn serve(extra: &[&str]) -> (tempfile::TempDir, tokio::process::Child, Channel, u16) {
    let directory = tempfile::tempdir().unwrap();
    let (port, metrics_port) = (free_port(), free_port());
    let service = tokio::process::Command::new(receivables_binary())
        .args([
            "serve",
            "--insecure",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .args(["--metrics-listen", &format!("127.0.0.1:{metrics_port}")])
        .args(extra)
        .arg("--data-dir")
        .arg(directory.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("receivables serve");
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..300 {
        if let Ok(channel) = Channel::from_shared(url.clone()).unwrap().connect().await {
            return (directory, service, channel, metrics_port);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the service did not come up on port {port}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_series_move_as_commands_queries_and_the_projector_go() {
    init_logging();
    let (_directory, mut service, channel, metrics_port) = serve(&[]).await;
    let mut commands = CommandServiceClient::new(channel.clone());
    let mut queries = QueryServiceClient::new(channel);
    let before = scrape(metrics_port).await;

    // Given a credit limit and three invoices accepted for ACME,
    commands
        .change_credit_limit(credit_limit("ACME", "100000", pb::CreditPolicy::Warn))
        .await
        .unwrap();
    let mut last = 0;
    for number in ["INV-1", "INV-2", "INV-3"] {
        let reply = commands
            .issue_invoice(invoice(
                "ACME",
                "SUB-A",
                number,
                "100.00",
                "2026-05-01",
                "2026-05-31",
            ))
            .await
            .unwrap()
            .into_inner();
        last = reply.receipt.unwrap().position;
    }
    // one refused (INV-1 again, for BETA) and one invalid (no customer),
    let refused = commands
        .issue_invoice(invoice(
            "BETA",
            "SUB-A",
            "INV-1",
            "100.00",
            "2026-05-01",
            "2026-05-31",
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::AlreadyExists);
    let invalid = commands
        .issue_invoice(invoice(
            "",
            "SUB-A",
            "INV-9",
            "100.00",
            "2026-05-01",
            "2026-05-31",
        ))
        .await
        .unwrap_err();
    assert_eq!(invalid.code(), Code::InvalidArgument);
    // and an aging report once the read model has the four events,
    assert_eq!(last, 4);
    queries
        .get_aging_report(pb::GetAgingReportRequest {
            scope: Some(pb::AgingScope {
                as_of: "2026-06-30".to_owned(),
                ..Default::default()
            }),
            group_by: pb::AgingGroupBy::Group.into(),
            min_position: last,
        })
        .await
        .unwrap();

    // the log's position is sampled every second: wait for it.
    let mut after = scrape(metrics_port).await;
    for _ in 0..50 {
        if after.value("receivables_log_position", &[]) == 4.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        after = scrape(metrics_port).await;
    }
    let counted = |name: &str, labels: &[(&str, &str)]| moved(&before, &after, name, labels);

    // Then the commands are counted by outcome, the refusals by reason,
    let issue = ("command", "IssueInvoice");
    assert_eq!(
        counted(
            "receivables_commands_total",
            &[issue, ("outcome", "accepted")]
        ),
        3.0
    );
    assert_eq!(
        counted(
            "receivables_commands_total",
            &[issue, ("outcome", "refused")]
        ),
        1.0
    );
    assert_eq!(
        counted(
            "receivables_commands_total",
            &[issue, ("outcome", "invalid")]
        ),
        1.0
    );
    assert_eq!(
        counted(
            "receivables_commands_total",
            &[("command", "ChangeCreditLimit"), ("outcome", "accepted")]
        ),
        1.0
    );
    assert_eq!(
        counted(
            "receivables_refusals_total",
            &[issue, ("reason", "DUPLICATE_INVOICE_NUMBER")]
        ),
        1.0
    );
    assert_eq!(
        counted(
            "receivables_refusals_total",
            &[issue, ("reason", "INVALID_COMMAND")]
        ),
        1.0
    );
    // every call is timed by service, method and status code,
    let rpc = |method: &str, code: &str| {
        let service = if method == "GetAgingReport" {
            "QueryService"
        } else {
            "CommandService"
        };
        counted(
            "receivables_rpc_seconds_count",
            &[("service", service), ("method", method), ("code", code)],
        )
    };
    assert_eq!(rpc("IssueInvoice", "OK"), 3.0);
    assert_eq!(rpc("IssueInvoice", "ALREADY_EXISTS"), 1.0);
    assert_eq!(rpc("IssueInvoice", "INVALID_ARGUMENT"), 1.0);
    assert_eq!(rpc("ChangeCreditLimit", "OK"), 1.0);
    assert_eq!(rpc("GetAgingReport", "OK"), 1.0);
    // as histograms with buckets, the slowest bucket counting every call,
    assert_eq!(
        counted(
            "receivables_rpc_seconds_bucket",
            &[("method", "IssueInvoice"), ("code", "OK"), ("le", "+Inf")]
        ),
        3.0
    );
    // the four events appended one at a time, the accounts taken for the five commands that
    // reached one (ACME's first from its empty history, the next three from the cache, BETA's
    // from its empty history),
    assert_eq!(
        counted("receivables_log_append_seconds_count", &[("kind", "one")]),
        4.0
    );
    assert_eq!(
        counted("receivables_accounts_total", &[("source", "events")]),
        2.0
    );
    assert_eq!(
        counted("receivables_accounts_total", &[("source", "cache")]),
        3.0
    );
    // and the projector at the log's last position, nothing behind.
    assert_eq!(counted("receivables_projector_events_total", &[]), 4.0);
    assert_eq!(after.value("receivables_projector_position", &[]), 4.0);
    assert_eq!(after.value("receivables_log_position", &[]), 4.0);
    assert_eq!(after.value("receivables_projector_lag_positions", &[]), 0.0);
    for series in [
        "receivables_rpc_seconds",
        "receivables_commands_total",
        "receivables_projector_lag_positions",
    ] {
        assert!(
            after.text.contains(&format!("# HELP {series} ")),
            "{series}"
        );
    }
    service.kill().await.unwrap();
}

/// The bound in bytes of the account cache in the next test: about six of its accounts.
const CACHE_BYTES: u64 = 1_000_000;

/// Customers, and invoices each, in the next test: each account about 160 KB (about 800 bytes
/// an invoice), 1.6 MB together.
const CACHE_CUSTOMERS: usize = 10;
const CACHE_INVOICES: usize = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_account_cache_stays_within_its_bytes_and_loads_again_what_it_evicted() {
    init_logging();
    // Given a service whose account cache holds at most 1 MB of accounts,
    let bytes = CACHE_BYTES.to_string();
    let (_directory, _service, channel, metrics_port) =
        serve(&["--account-cache-bytes", &bytes]).await;
    let mut commands = CommandServiceClient::new(channel);
    let customer = |n: usize| format!("CACHE-{n:02}");
    // when ten customers get 200 invoices of 10.00 each, a customer at a time,
    for n in 0..CACHE_CUSTOMERS {
        for i in 0..CACHE_INVOICES {
            commands
                .issue_invoice(invoice(
                    &customer(n),
                    "SUB-A",
                    &format!("C{n:02}-{i:04}"),
                    "10.00",
                    "2026-05-01",
                    "2026-05-31",
                ))
                .await
                .unwrap();
        }
    }
    let written = scrape(metrics_port).await;
    // then the accounts the cache holds are estimated within its bound,
    let held = written.value("receivables_account_cache_bytes", &[]);
    assert!(
        held > 0.0 && held <= CACHE_BYTES as f64,
        "the cache holds {held} bytes of accounts, bound {CACHE_BYTES}"
    );
    // and asked for again, each account is whole (200 invoices, 2,000.00 open), some of them
    // loaded again because the cache let them go.
    for n in 0..CACHE_CUSTOMERS {
        let account = commands
            .get_account(pb::GetAccountRequest {
                customer_id: customer(n),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            account.open_invoices.len(),
            CACHE_INVOICES,
            "{}",
            customer(n)
        );
        assert_eq!(
            account.event_count,
            CACHE_INVOICES as u64,
            "{}",
            customer(n)
        );
        let open = &account.balances[0];
        assert_eq!(
            open.open_invoices.as_ref().map(|m| m.amount.as_str()),
            Some("2000.00"),
            "{}",
            customer(n)
        );
    }
    let read = scrape(metrics_port).await;
    let loaded = moved(
        &written,
        &read,
        "receivables_accounts_total",
        &[("source", "events")],
    ) + moved(
        &written,
        &read,
        "receivables_accounts_total",
        &[("source", "snapshot")],
    );
    let cached = moved(
        &written,
        &read,
        "receivables_accounts_total",
        &[("source", "cache")],
    );
    println!(
        "account cache: {held} bytes held after writing, bound {CACHE_BYTES}; asked again, {cached} accounts from the cache, {loaded} loaded again"
    );
    assert_eq!(
        loaded + cached,
        CACHE_CUSTOMERS as f64,
        "one take per account"
    );
    assert!(
        loaded >= 1.0,
        "1.6 MB of accounts in a cache of 1 MB: some were evicted and loaded again"
    );
    assert!(
        read.value("receivables_account_cache_bytes", &[]) <= CACHE_BYTES as f64,
        "still within the bound"
    );
}
