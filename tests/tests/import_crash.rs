//! The all-in-one process (`receivables serve`, embedded backends) killed with SIGKILL in the
//! middle of a CSV import (`receivables import invoices`), then restarted on the same data
//! directory: every command it acknowledged is still there, and running the import again
//! finishes it without posting any row twice.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use receivables_api::pb;
use receivables_api::pb::command_service_client::CommandServiceClient;
use receivables_tests::*;
use tokio::process::{Child, Command};
use tonic::transport::Channel;

/// Rows in the imported file: enough that the import is still running when the service dies.
const ROWS: usize = 3_000;
const CUSTOMERS: usize = 200;

/// Events in the log before the service is killed.
const KILL_AFTER_EVENTS: u64 = 600;

/// Starts `receivables serve` on the data directory and waits until it serves.
async fn serve(data_dir: &Path) -> (Child, String) {
    let port = free_port();
    let child = Command::new(receivables_binary())
        .args([
            "serve",
            "--insecure",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("RECEIVABLES_NATS_URL")
        .env_remove("RECEIVABLES_DATABASE_URL")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..500 {
        if let Ok(channel) = Channel::from_shared(url.clone()).unwrap().connect().await {
            let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
            let serving = health
                .check(tonic_health::pb::HealthCheckRequest {
                    service: String::new(),
                })
                .await
                .is_ok_and(|reply| reply.into_inner().status == 1);
            if serving {
                return (child, url);
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("receivables serve did not start on {url}");
}

/// The invoices file: row `k` is invoice `IMP-<k>` of customer `IMP-<k % CUSTOMERS>` for
/// `100.00 + k` CNY, issued 2026-06-01, due 2026-07-01.
fn write_file(path: &Path) -> rust_decimal::Decimal {
    let mut text = String::from("subsidiary,customer,number,currency,amount,issue_date,due_date\n");
    let mut total = rust_decimal::Decimal::ZERO;
    for k in 0..ROWS {
        let amount = rust_decimal::Decimal::new(10_000 + 100 * k as i64, 2);
        total += amount;
        text.push_str(&format!(
            "SUB-IMP,IMP-{:03},IMP-{k:05},CNY,{amount},2026-06-01,2026-07-01\n",
            k % CUSTOMERS
        ));
    }
    std::fs::write(path, text).unwrap();
    total
}

fn import(url: &str, file: &Path) -> Command {
    let mut command = Command::new(receivables_binary());
    command
        .args([
            "import", "invoices", "--quiet", "--format", "json", "--server", url,
        ])
        .arg(file)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}

/// The witness's invoice `k`: 1.00 CNY each, one at a time, so at most one is in flight.
fn witness_invoice(k: usize, command_id: &str) -> pb::IssueInvoiceRequest {
    let mut request = invoice(
        "WITNESS",
        "SUB-WIT",
        &format!("WIT-{k:05}"),
        "1.00",
        "2026-06-01",
        "2026-07-01",
    );
    request.command_id = command_id.to_owned();
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_import_survives_a_killed_service_and_finishes_without_duplicates() {
    let directory = tempfile::tempdir().unwrap();
    let data_dir = directory.path().join("data");
    let file = directory.path().join("invoices.csv");
    let file_total = write_file(&file);

    let (mut service, url) = serve(&data_dir).await;
    let mut importing = import(&url, &file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    // The witness posts its own invoices while the import runs, and notes every acknowledged
    // one; it stops at the first failure (the service is gone).
    let (seen_tx, mut seen) = tokio::sync::watch::channel(0_u64);
    let witness = {
        let url = url.clone();
        tokio::spawn(async move {
            let mut client = CommandServiceClient::connect(url).await.unwrap();
            let mut acknowledged: Vec<(String, u64)> = Vec::new();
            for k in 0.. {
                let command_id = command_id();
                match client.issue_invoice(witness_invoice(k, &command_id)).await {
                    Ok(reply) => {
                        let position = reply.into_inner().receipt.unwrap().position;
                        seen_tx.send_replace(position);
                        acknowledged.push((command_id, position));
                    }
                    // The one in flight when the service died: it may or may not be in.
                    Err(_) => return (acknowledged, command_id),
                }
            }
            unreachable!()
        })
    };

    // Kill the service once the log holds enough events (the witness's positions are log
    // positions), with the import still running.
    tokio::time::timeout(
        Duration::from_secs(120),
        seen.wait_for(|position| *position >= KILL_AFTER_EVENTS),
    )
    .await
    .expect("the log grows")
    .unwrap();
    assert!(
        importing.try_wait().unwrap().is_none(),
        "the import finished before the service could be killed: raise ROWS"
    );
    service.start_kill().unwrap();
    service.wait().await.unwrap();

    let stopped = tokio::time::timeout(Duration::from_secs(60), importing.wait())
        .await
        .expect("the import stops when the service is gone")
        .unwrap();
    assert_eq!(
        stopped.code(),
        Some(3),
        "an import cut off by an outage exits 3"
    );
    let (acknowledged, in_flight) = witness.await.unwrap();
    assert!(!acknowledged.is_empty());

    // Restarted on the same directory: every acknowledged command is there, at its position.
    let (_service, url) = serve(&data_dir).await;
    let mut client = CommandServiceClient::connect(url.clone()).await.unwrap();
    for (k, (command_id, position)) in acknowledged.iter().enumerate() {
        let again = client
            .issue_invoice(witness_invoice(k, command_id))
            .await
            .unwrap()
            .into_inner()
            .receipt
            .unwrap();
        assert!(again.replayed, "acknowledged invoice {k} was lost");
        assert_eq!(again.position, *position, "acknowledged invoice {k} moved");
    }
    // The one in flight is completed (or found) by its retry.
    client
        .issue_invoice(witness_invoice(acknowledged.len(), &in_flight))
        .await
        .unwrap();
    let witnessed = acknowledged.len() + 1;

    // The import run again finishes: every row is either new now or was posted before.
    let output = import(&url, &file).output().await.unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let count = |key: &str| {
        summary[key]
            .as_u64()
            .unwrap_or_else(|| panic!("{key}: {summary}"))
    };
    assert_eq!(count("rows"), ROWS as u64, "{summary}");
    assert_eq!(count("refused"), 0, "{summary}");
    assert_eq!(
        count("accepted") + count("already_posted"),
        ROWS as u64,
        "{summary}"
    );
    assert!(
        count("already_posted") > 0,
        "the first run had posted rows: {summary}"
    );

    // No row twice: the log holds exactly one event per row and per witness invoice, so a
    // last probe lands right after them.
    let probe = client
        .issue_invoice(invoice(
            "PROBE",
            "SUB-PRB",
            "PRB-1",
            "1.00",
            "2026-06-01",
            "2026-07-01",
        ))
        .await
        .unwrap()
        .into_inner()
        .receipt
        .unwrap();
    assert_eq!(probe.position, (ROWS + witnessed + 1) as u64);

    // And the read model agrees: the import's subsidiary holds exactly the file's total.
    let mut queries = pb::query_service_client::QueryServiceClient::connect(url.clone())
        .await
        .unwrap();
    let aging = queries
        .get_aging_report(pb::GetAgingReportRequest {
            scope: Some(pb::AgingScope {
                as_of: "2026-06-15".to_owned(),
                subsidiary_id: "SUB-IMP".to_owned(),
                ..Default::default()
            }),
            group_by: pb::AgingGroupBy::Group.into(),
            min_position: probe.position,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(aging.lines.len(), 1);
    assert_eq!(
        aging.lines[0].open_total.as_ref().unwrap().amount,
        file_total.to_string()
    );
}
