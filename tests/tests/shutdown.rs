//! Graceful shutdown: commands in flight when the service is told to stop are finished and
//! answered; none is appended without its reply.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use receivables_tests::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn commands_in_flight_at_shutdown_are_finished_and_answered() {
    let Some(nats) = NatsServer::start_default().await else {
        return;
    };
    let service = TestService::start(&nats.url()).await;
    let mut clients = Vec::new();
    for _ in 0..40 {
        clients.push(service.client().await);
    }
    let mut tasks = Vec::new();
    for (index, mut client) in clients.into_iter().enumerate() {
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
    // Stop while the commands are being executed.
    tokio::time::sleep(Duration::from_millis(2)).await;
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
    eprintln!("answered {answered} of 40");
    assert!(answered > 0, "some commands were in flight");
}
