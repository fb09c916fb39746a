//! `deploy/local/cluster.sh`, the production topology on one machine: started, used through
//! each of its two command services and two query services, and stopped, leaving nothing
//! running.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use receivables_api::pb;
use receivables_api::pb::command_service_client::CommandServiceClient;
use receivables_api::pb::query_service_client::QueryServiceClient;
use receivables_tests::*;
use tonic::transport::Channel;

/// A base for the script's ports (base+51 to base+424) where all of them are free now.
fn free_port_base() -> u16 {
    let offsets = [
        51, 52, 61, 62, 91, 92, 93, 94, 222, 223, 224, 322, 323, 324, 422, 423, 424,
    ];
    for _ in 0..50 {
        let base = 20_000 + (free_port() % 40_000).min(39_000);
        if offsets
            .iter()
            .all(|offset| std::net::TcpListener::bind(("127.0.0.1", base + offset)).is_ok())
        {
            return base;
        }
    }
    panic!("no free range of ports for the local topology");
}

async fn script(action: &str, base: u16, directory: &Path, database_url: &str, nats: &Path) {
    let repository = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let output = tokio::process::Command::new("bash")
        .arg(repository.join("deploy/local/cluster.sh"))
        .arg(action)
        .env("RECEIVABLES_BIN", receivables_binary())
        .env("NATS_SERVER", nats)
        .env("RECEIVABLES_DATABASE_URL", database_url)
        .env("RECEIVABLES_LOCAL_DIR", directory)
        .env("RECEIVABLES_LOCAL_PORT_BASE", base.to_string())
        .output()
        .await
        .expect("bash runs the script");
    assert!(
        output.status.success(),
        "cluster.sh {action}: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Runs the script's `down` when dropped, so that a failed test leaves nothing running.
struct Down<'a> {
    base: u16,
    directory: &'a Path,
    database_url: String,
    nats: PathBuf,
    done: bool,
}

impl Drop for Down<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let repository = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let _ = std::process::Command::new("bash")
            .arg(repository.join("deploy/local/cluster.sh"))
            .arg("down")
            .env("RECEIVABLES_BIN", receivables_binary())
            .env("NATS_SERVER", &self.nats)
            .env("RECEIVABLES_DATABASE_URL", &self.database_url)
            .env("RECEIVABLES_LOCAL_DIR", self.directory)
            .env("RECEIVABLES_LOCAL_PORT_BASE", self.base.to_string())
            .status();
    }
}

async fn channel(port: u16) -> Channel {
    channel_to(&format!("http://127.0.0.1:{port}")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_local_topology_starts_serves_on_every_instance_and_stops() {
    init_logging();
    let Some(nats) = current_nats_server_binary() else {
        return;
    };
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let directory = tempfile::tempdir().unwrap();
    let base = free_port_base();
    let mut down = Down {
        base,
        directory: directory.path(),
        database_url: database.url(),
        nats: nats.path.clone(),
        done: false,
    };
    script("up", base, directory.path(), &database.url(), &nats.path).await;

    // Each command service takes an invoice, for a customer of its own,
    let mut last = 0;
    for (n, customer) in [(51, "ACME"), (52, "BETA")] {
        let mut commands = CommandServiceClient::new(channel(base + n).await);
        commands
            .change_credit_limit(credit_limit(customer, "100000", pb::CreditPolicy::Warn))
            .await
            .unwrap();
        let reply = commands
            .issue_invoice(invoice(
                customer,
                "SUB-A",
                &format!("{customer}-1"),
                "250.00",
                "2026-05-01",
                "2026-05-31",
            ))
            .await
            .unwrap()
            .into_inner();
        last = last.max(reply.receipt.unwrap().position);
    }
    // and each query service has both once it has applied the last: 500.00 in the group.
    assert_eq!(last, 4);
    for n in [61, 62] {
        let mut queries = QueryServiceClient::new(channel(base + n).await);
        let report = queries
            .get_aging_report(pb::GetAgingReportRequest {
                scope: Some(pb::AgingScope {
                    as_of: "2026-05-15".to_owned(),
                    ..Default::default()
                }),
                group_by: pb::AgingGroupBy::Group.into(),
                min_position: last,
            })
            .await
            .unwrap()
            .into_inner();
        let total: Vec<String> = report
            .lines
            .iter()
            .map(|line| {
                line.open_total
                    .as_ref()
                    .map(|m| m.amount.clone())
                    .unwrap_or_default()
            })
            .collect();
        assert_eq!(total, ["500.00"], "query service on port {}", base + n);
    }

    script("down", base, directory.path(), &database.url(), &nats.path).await;
    down.done = true;
    // Nothing it started still listens.
    tokio::time::sleep(Duration::from_millis(200)).await;
    for offset in [51, 52, 61, 62, 222, 223, 224] {
        assert!(
            std::net::TcpStream::connect(("127.0.0.1", base + offset)).is_err(),
            "port {} still answers",
            base + offset
        );
    }
    assert_eq!(
        std::fs::read_dir(directory.path().join("pids"))
            .unwrap()
            .count(),
        0,
        "pid files left"
    );
    database.drop_database().await;
}
