//! Graceful shutdown: commands in flight when the service is told to stop are finished and
//! answered; none is appended without its reply.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use receivables_tests::*;

/// Commands sent at once before the service is stopped.
const COMMANDS: usize = 400;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn commands_in_flight_at_shutdown_are_finished_and_answered() {
    let Some(nats) = NatsServer::start_default().await else {
        return;
    };
    let service = TestService::start(&nats.url()).await;
    // Enough commands that, once the first is in the log, most are still being decided or
    // waiting for their customer's lock when the service is told to stop.
    let mut clients = Vec::new();
    for _ in 0..8 {
        clients.push(service.client().await);
    }
    let mut tasks = Vec::new();
    for index in 0..COMMANDS {
        let mut client = clients[index % clients.len()].clone();
        let request = invoice(
            &format!("C-{}", index % 8),
            "SUB-A",
            &format!("INV-{index}"),
            "100",
            "2026-05-01",
            "2026-05-31",
        );
        tasks.push(tokio::spawn(async move {
            client.issue_invoice(request).await.is_ok()
        }));
    }
    // Stop while the commands are being executed: once the first one is in the log, the others
    // are on their way (a fixed pause could end before any was sent on a busy machine).
    let waited = tokio::time::timeout(Duration::from_secs(10), async {
        while last_sequence(&nats.url()).await == 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "no command reached the log within 10 s");
    let before_stop = last_sequence(&nats.url()).await;
    service.stop().await;
    let mut answered = 0;
    for task in tasks {
        if task.await.unwrap() {
            answered += 1;
        }
    }
    let appended = raw_events(&nats.url()).await.len();
    assert_eq!(
        appended, answered,
        "every appended command was answered, every answered one appended"
    );
    eprintln!("{before_stop} appended when told to stop; answered {answered} of {COMMANDS}");
    assert!(
        answered > usize::try_from(before_stop).unwrap(),
        "some commands were still in flight when the service was told to stop"
    );
}
