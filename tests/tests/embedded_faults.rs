//! The embedded default when its disk fills up: `receivables serve` on a data directory in a
//! small filesystem the test mounts (a tmpfs with a size limit), under a load of clients that
//! record every command acknowledged to them and resend the others with the same command id.
//! The filesystem fills; the service answers `UNAVAILABLE` and stays up; the filesystem is
//! grown; the clients' commands go in. Then every acknowledged command is in the log once, the
//! chains verify, and the read model, caught up, shows every invoice.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use futures::StreamExt;
use receivables::config::EVENT_LOG_FILE;
use receivables_api::pb;
use receivables_api::pb::command_service_client::CommandServiceClient;
use receivables_api::pb::query_service_client::QueryServiceClient;
use receivables_domain::Position;
use receivables_domain::chain::ChainVerifier;
use receivables_eventlog::EventLog;
use receivables_eventlog::sqlite::SqliteLog;
use receivables_tests::*;
use tonic::Code;
use tonic::transport::Channel;

/// The filesystem's size at first: the service starts in it and fills it within seconds.
const SMALL: &str = "3m";

/// Its size once grown.
const GROWN: &str = "256m";

/// Clients posting at once.
const CLIENTS: usize = 4;

/// How long a client keeps resending one command before the test fails.
const COMMAND_GIVE_UP: Duration = Duration::from_secs(120);

/// A tmpfs mounted for the test, unmounted when dropped.
struct SmallFilesystem {
    path: PathBuf,
}

impl SmallFilesystem {
    /// Mounts one at `path`; `None` (said loudly; a failure under CI) without the right to.
    fn mount(path: &Path) -> Option<SmallFilesystem> {
        std::fs::create_dir_all(path).unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={SMALL}"), "tmpfs"])
            .arg(path)
            .status();
        match mounted {
            Ok(status) if status.success() => Some(SmallFilesystem {
                path: path.to_owned(),
            }),
            other if servers_required() => {
                panic!("cannot mount a tmpfs for the disk-full test (needs root): {other:?}")
            }
            other => {
                skipped(&format!("cannot mount a tmpfs (needs root): {other:?}"));
                None
            }
        }
    }

    fn grow(&self) {
        let status = std::process::Command::new("mount")
            .args(["-o", &format!("remount,size={GROWN}")])
            .arg(&self.path)
            .status()
            .unwrap();
        assert!(status.success(), "the tmpfs grows");
    }
}

impl Drop for SmallFilesystem {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.path)
            .status();
    }
}

/// Sends an invoice until it is acknowledged, resending the same request on `UNAVAILABLE`,
/// `ABORTED` and `DEADLINE_EXCEEDED` (and saying so on `filled`); its position, and how many
/// times it was answered so.
async fn send(
    client: &mut CommandServiceClient<Channel>,
    request: &pb::IssueInvoiceRequest,
    filled: &tokio::sync::watch::Sender<bool>,
) -> (u64, usize) {
    let started = Instant::now();
    let mut unavailable = 0;
    loop {
        assert!(
            started.elapsed() < COMMAND_GIVE_UP,
            "a command went unacknowledged for {COMMAND_GIVE_UP:?}"
        );
        match client.issue_invoice(request.clone()).await {
            Ok(reply) => return (reply.into_inner().receipt.unwrap().position, unavailable),
            Err(status)
                if matches!(
                    status.code(),
                    Code::Unavailable | Code::Aborted | Code::DeadlineExceeded
                ) =>
            {
                unavailable += 1;
                filled.send_replace(true);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(status) => panic!("a command was refused: {status:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_embedded_disk_filling_up_loses_nothing_and_the_service_carries_on() {
    init_logging();
    let directory = tempfile::tempdir().unwrap();
    let Some(filesystem) = SmallFilesystem::mount(&directory.path().join("small")) else {
        return;
    };
    let data = filesystem.path.join("data");
    let port = free_port();
    let mut service = tokio::process::Command::new(receivables_binary())
        .args([
            "serve",
            "--insecure",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .arg("--data-dir")
        .arg(&data)
        .stdout(Stdio::null())
        // Beside the small filesystem, not in it: the log of a failed run to read.
        .stderr(std::fs::File::create(directory.path().join("serve.log")).unwrap())
        .kill_on_drop(true)
        .spawn()
        .expect("receivables serve");
    let url = format!("http://127.0.0.1:{port}");
    let channel = channel_to_within(&url, Duration::from_secs(30)).await;
    let mut commands = CommandServiceClient::new(channel.clone());
    commands
        .change_credit_limit(credit_limit("ACME", "1000000000", pb::CreditPolicy::Warn))
        .await
        .unwrap();

    // Given clients posting invoices, each resending a command until it is acknowledged,
    let (filled_tx, mut filled) = tokio::sync::watch::channel(false);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let channel = channel.clone();
            let filled_tx = filled_tx.clone();
            let stopped = stopped.clone();
            tokio::spawn(async move {
                let mut commands = CommandServiceClient::new(channel);
                let mut acknowledged = Vec::new();
                let mut refused_while_full = 0;
                let mut n = 0;
                while !*stopped.borrow() {
                    n += 1;
                    let number = format!("C{client}-{n:06}");
                    let request = invoice(
                        "ACME",
                        "SUB-A",
                        &number,
                        "10.00",
                        "2026-05-01",
                        "2026-05-31",
                    );
                    let (position, unavailable) = send(&mut commands, &request, &filled_tx).await;
                    acknowledged.push((request.command_id.clone(), position));
                    refused_while_full += unavailable;
                }
                (acknowledged, refused_while_full)
            })
        })
        .collect();
    // when the filesystem fills up (a client hears UNAVAILABLE),
    tokio::time::timeout(Duration::from_secs(120), filled.wait_for(|full| *full))
        .await
        .expect("the filesystem filled within two minutes")
        .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    // the service is still up,
    assert!(
        service.try_wait().unwrap().is_none(),
        "the service stayed up on a full disk"
    );
    // and once the filesystem has grown, every client's commands go in.
    filesystem.grow();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let _ = stop.send(true);
    let mut acknowledged = HashMap::new();
    let mut refused_while_full = 0;
    for client in clients {
        let (commands, refused) = client.await.expect("a client");
        refused_while_full += refused;
        for (id, position) in commands {
            assert!(
                acknowledged.insert(id, position).is_none(),
                "ids are unique"
            );
        }
    }
    assert!(refused_while_full > 0);
    let last = acknowledged.values().copied().max().unwrap();

    // Then the read model catches up and shows every invoice: 10.00 each,
    let mut queries = QueryServiceClient::new(channel);
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
        .expect("the read model caught up")
        .into_inner();
    let expected = format!("{}.00", acknowledged.len() * 10);
    let total: Vec<String> = report
        .lines
        .iter()
        .filter_map(|line| line.open_total.as_ref().map(|m| m.amount.clone()))
        .collect();
    assert_eq!(total, [expected]);
    // and, the service stopped, the log holds each acknowledged command once, chains whole.
    service.start_kill().unwrap();
    service.wait().await.unwrap();
    let log = SqliteLog::open(&data.join(EVENT_LOG_FILE)).await.unwrap();
    let end = log.last_position().await.unwrap();
    let mut feed = log.follow(Position::ZERO).await.unwrap();
    let mut verifier = ChainVerifier::whole_log();
    let mut per_id: HashMap<String, usize> = HashMap::new();
    while let Some(event) = feed.next().await {
        let event = event.unwrap();
        verifier.check(event.position, &event.envelope).unwrap();
        *per_id
            .entry(event.envelope.command_id.to_string())
            .or_default() += 1;
        if event.position == end {
            break;
        }
    }
    drop(feed);
    log.close().await.unwrap();
    for id in acknowledged.keys() {
        assert_eq!(per_id.get(id), Some(&1), "command {id} once in the log");
    }
    assert!(per_id.values().all(|n| *n == 1));
    println!(
        "RELIABILITY embedded data directory's disk full, then grown: {} invoices acknowledged, 0 missing, {} events (with the credit limit) for {} unique command ids (1.000 each), chains verified, {refused_while_full} answers UNAVAILABLE while full",
        acknowledged.len(),
        per_id.len(),
        per_id.len()
    );
    drop(filesystem);
}

/// A channel to `url` once it accepts connections, within `limit`.
async fn channel_to_within(url: &str, limit: Duration) -> Channel {
    let started = Instant::now();
    while started.elapsed() < limit {
        if let Ok(channel) = Channel::from_shared(url.to_owned())
            .unwrap()
            .connect()
            .await
        {
            return channel;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the service did not come up at {url}");
}
