//! `receivables demo`, run as the real binary with the small data set: it loads through gRPC,
//! prints reports whose figures agree with what it loaded, and exits or keeps serving as
//! documented.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::process::Stdio;
use std::str::FromStr;
use std::time::Duration;

use receivables_demo::{CommandKind, DemoSize};
use receivables_tests::receivables_binary;
use rust_decimal::Decimal;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const SEED: u64 = 7;
const TODAY: &str = "2026-11-20";
/// Eight weeks before [`TODAY`]: the backtest's forecast date.
const BACKTEST_FROM: &str = "2026-09-25";

fn demo_command(data_dir: &std::path::Path) -> Command {
    demo_command_of(data_dir, "small")
}

fn demo_command_of(data_dir: &std::path::Path, scale: &str) -> Command {
    let mut command = Command::new(receivables_binary());
    command
        .args([
            "demo",
            "--insecure",
            "--scale",
            scale,
            "--listen",
            "127.0.0.1:0",
            "--http-listen",
            "127.0.0.1:0",
        ])
        .args(["--seed", &SEED.to_string(), "--today", TODAY])
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("RECEIVABLES_NATS_URL")
        .env_remove("RECEIVABLES_DATABASE_URL")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}

fn decimal(text: &str) -> Decimal {
    Decimal::from_str(text.trim()).unwrap_or_else(|e| panic!("{text:?} is not a decimal: {e}"))
}

/// The cells of a table row printed with box-drawing characters.
fn cells(line: &str) -> Vec<String> {
    line.trim_matches(|c| c == '│' || c == ' ')
        .split('┆')
        .map(|cell| cell.trim().to_owned())
        .collect()
}

#[derive(Debug, PartialEq, Eq)]
struct Posted {
    invoiced: Decimal,
    paid: Decimal,
    allocated: Decimal,
    open: Decimal,
    unapplied: Decimal,
}

/// `  CNY: invoiced 1.00, paid 2.00, allocated 3.00, open 4.00, unapplied 5.00`
fn posted_line(line: &str) -> Option<(String, Posted)> {
    let (currency, rest) = line.trim().split_once(": ")?;
    let mut figures = BTreeMap::new();
    for part in rest.split(", ") {
        let (name, value) = part.split_once(' ')?;
        figures.insert(name, decimal(value));
    }
    Some((
        currency.to_owned(),
        Posted {
            invoiced: figures["invoiced"],
            paid: figures["paid"],
            allocated: figures["allocated"],
            open: figures["open"],
            unapplied: figures["unapplied"],
        },
    ))
}

#[tokio::test]
async fn the_demo_loads_prints_reports_that_match_the_data_and_exits() {
    let directory = tempfile::tempdir().unwrap();
    let data_dir = directory.path().join("demo");
    let output = demo_command(&data_dir)
        .arg("--exit-after-load")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "demo failed: {stderr}\n{stdout}");

    // What the generator planned, independently of the service.
    let today = chrono::NaiveDate::parse_from_str(TODAY, "%Y-%m-%d").unwrap();
    let commands = receivables_demo::generate(SEED, &DemoSize::SMALL, today);
    let planted = commands
        .iter()
        .filter(|c| c.is_planted_over_limit())
        .count();
    let invoices = commands
        .iter()
        .filter(|c| c.kind() == CommandKind::Invoice)
        .count();
    assert!(planted > 0, "the small data set plants over-limit invoices");
    assert!(
        stdout.contains(&format!("{} invoices,", invoices - planted)),
        "every invoice but the planted ones is accepted:\n{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "{planted} refused ({planted} CREDIT_LIMIT_EXCEEDED)"
        )),
        "exactly the planted invoices are refused:\n{stdout}"
    );

    // The totals from the command replies.
    let posted: BTreeMap<String, Posted> = stdout
        .lines()
        .skip_while(|line| !line.starts_with("Posted, per currency"))
        .skip(1)
        .map_while(posted_line)
        .collect();
    assert!(
        !posted.is_empty(),
        "the posted totals are printed:\n{stdout}"
    );
    for (currency, totals) in &posted {
        assert_eq!(
            totals.open,
            totals.invoiced - totals.allocated,
            "{currency}"
        );
        assert_eq!(
            totals.unapplied,
            totals.paid - totals.allocated,
            "{currency}"
        );
    }

    // The group aging from the read model: one GROUP line per currency, whose buckets add up
    // to its open total, equal to what the replies say is open and unapplied.
    let aging: BTreeMap<String, Vec<String>> = stdout
        .lines()
        .filter(|line| line.starts_with('│'))
        .map(cells)
        .filter(|row| row.first().is_some_and(|group| group == "GROUP"))
        .map(|row| (row[2].clone(), row))
        .collect();
    // A currency whose invoices are all paid, with nothing on account, has no aging line.
    let outstanding: Vec<&String> = posted
        .iter()
        .filter(|(_, totals)| !totals.open.is_zero() || !totals.unapplied.is_zero())
        .map(|(currency, _)| currency)
        .collect();
    assert_eq!(
        aging.keys().collect::<Vec<_>>(),
        outstanding,
        "one aging line per currency with something open or unapplied:\n{stdout}"
    );
    for (currency, row) in &aging {
        // group, name (none for the group), currency, six buckets, open total, unapplied,
        // disputed, open total in the group's currency (none: the demo publishes no rates)
        assert_eq!(row.len(), 13, "{row:?}");
        assert_eq!(row[1], "", "{row:?}");
        let disputed = decimal(&row[11]);
        assert!(
            disputed >= Decimal::ZERO && disputed <= decimal(&row[9]),
            "{currency}: the disputed part of the open total, {disputed}"
        );
        let buckets: Decimal = row[3..9].iter().map(|b| decimal(b)).sum();
        let open_total = decimal(&row[9]);
        assert_eq!(buckets, open_total, "{currency}: the buckets add up");
        assert_eq!(open_total, posted[currency].open, "{currency}: open");
        assert_eq!(
            decimal(&row[10]),
            posted[currency].unapplied,
            "{currency}: unapplied"
        );
    }
    assert!(stdout.contains("most utilised credit lines"), "{stdout}");
    assert!(
        stdout.contains("Top of the collector work queue"),
        "{stdout}"
    );

    // A second demo on the same, no longer fresh, directory is refused with one clear line.
    let again = demo_command(&data_dir)
        .arg("--exit-after-load")
        .output()
        .await
        .unwrap();
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("needs a fresh data directory"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}

/// A demo of `scale` serving in `directory` once loaded, and the address it serves on; what it
/// prints afterwards is read and dropped.
async fn serving_demo(directory: &std::path::Path, scale: &str) -> (tokio::process::Child, String) {
    let mut child = demo_command_of(&directory.join("demo"), scale)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let address = tokio::time::timeout(Duration::from_secs(600), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.strip_prefix("Receivables is serving on ") {
                return rest.split_whitespace().next().unwrap().to_owned();
            }
        }
        panic!("the demo ended without saying where it serves");
    })
    .await
    .expect("the demo says where it serves");
    // Keep reading what it prints, so that its standard output stays open until it exits (a
    // closed pipe would fail its last lines).
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, address)
}

#[tokio::test]
async fn the_demo_keeps_serving_until_it_is_stopped() {
    let directory = tempfile::tempdir().unwrap();
    let (mut child, address) = serving_demo(directory.path(), "small").await;

    // It answers queries after loading: the open items of the group as of today exist.
    let mut queries = receivables_api::pb::query_service_client::QueryServiceClient::connect(
        format!("http://{address}"),
    )
    .await
    .unwrap();
    let report = queries
        .get_aging_report(receivables_api::pb::GetAgingReportRequest {
            scope: Some(receivables_api::pb::AgingScope {
                as_of: TODAY.to_owned(),
                ..Default::default()
            }),
            group_by: receivables_api::pb::AgingGroupBy::Group.into(),
            min_position: 0,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!report.lines.is_empty());

    // SIGTERM: it stops cleanly.
    let pid = child.id().unwrap();
    let terminated = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .await
        .unwrap();
    assert!(terminated.success());
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .expect("the demo stops after SIGTERM")
        .unwrap();
    assert!(status.success(), "{status}");
}

/// The collections forecast made eight weeks before the full demo's last day beats the naive one
/// ("every row is paid on its due date") against what the customers, each with its own habit,
/// actually paid: in the group's main currency, week by week (mean absolute percentage error)
/// and in total.
#[tokio::test]
async fn the_forecast_beats_the_naive_one_on_the_full_demo() {
    let directory = tempfile::tempdir().unwrap();
    let (mut child, address) = serving_demo(directory.path(), "full").await;
    let mut metrics = receivables_api::pb::metrics_service_client::MetricsServiceClient::connect(
        format!("http://{address}"),
    )
    .await
    .unwrap();
    let backtest = metrics
        .backtest_collections_forecast(receivables_api::pb::BacktestCollectionsForecastRequest {
            as_of: BACKTEST_FROM.to_owned(),
            weeks: 8,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let cny = backtest
        .currencies
        .iter()
        .find(|c| c.currency == "CNY")
        .expect("the demo's customers pay in CNY");
    let errors = [
        &cny.forecast_mape,
        &cny.naive_mape,
        &cny.forecast_total_error,
        &cny.naive_total_error,
    ]
    .map(|e| decimal(e));
    assert!(
        errors[0] < errors[1] && errors[2] < errors[3],
        "forecast mean {} and total {} against naive {} and {}: {cny:?}",
        errors[0],
        errors[2],
        errors[1],
        errors[3]
    );

    child.kill().await.unwrap();
}
