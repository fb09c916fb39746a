//! NATS stopped in the middle of a run: commands fail with UNAVAILABLE and nothing is
//! half-written; once NATS is back, the same service (not restarted) accepts commands again, and
//! resending the failed ones records each exactly once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use receivables_tests::*;
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_types::StatusExt;

type Health = tonic_health::pb::health_client::HealthClient<tonic::transport::Channel>;

async fn health_client(service: &TestService) -> Health {
    let channel = tonic::transport::Channel::from_shared(format!("http://{}", service.address))
        .unwrap()
        .connect()
        .await
        .unwrap();
    tonic_health::pb::health_client::HealthClient::new(channel)
}

async fn serving_status(health: &mut Health) -> ServingStatus {
    health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "receivables.v1.CommandService".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .status()
}

/// Polls the health service for up to ten seconds.
async fn wait_for_status(health: &mut Health, wanted: ServingStatus) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if serving_status(health).await == wanted {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn commands_fail_unavailable_while_nats_is_down_and_succeed_after_it_returns() {
    init_logging();
    let Some(mut nats) = NatsServer::start_default().await else {
        return;
    };
    let service = TestService::start(&nats.url()).await;
    let mut client = service.client().await;
    let first = invoice("C-1", "SUB-A", "INV-0", "100", "2026-05-01", "2026-05-31");
    client.issue_invoice(first.clone()).await.unwrap();

    let mut health = health_client(&service).await;
    assert_eq!(serving_status(&mut health).await, ServingStatus::Serving);

    nats.kill().await;
    let mut failed = Vec::new();
    for index in 1..=5 {
        let request = invoice(
            "C-1",
            "SUB-A",
            &format!("INV-{index}"),
            "100",
            "2026-05-01",
            "2026-05-31",
        );
        let status = client.issue_invoice(request.clone()).await.unwrap_err();
        assert_eq!(status.code(), Code::Unavailable, "{status:?}");
        assert_eq!(
            status.get_error_details().error_info().unwrap().reason,
            "EVENT_LOG_UNAVAILABLE"
        );
        failed.push(request);
    }

    assert!(
        wait_for_status(&mut health, ServingStatus::NotServing).await,
        "health did not report NOT_SERVING while NATS was down"
    );

    nats.restart().await;
    assert!(
        wait_for_status(&mut health, ServingStatus::Serving).await,
        "health did not report SERVING after NATS returned"
    );
    // The service reconnects by itself; resend the failed commands with their ids until accepted.
    let deadline = Instant::now() + Duration::from_secs(20);
    for request in &failed {
        loop {
            match client.issue_invoice(request.clone()).await {
                Ok(_) => break,
                Err(status) if status.code() == Code::Unavailable && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(status) => panic!("after NATS returned: {status:?}"),
            }
        }
    }

    let events = raw_events(&nats.url()).await;
    let ids: Vec<String> = events
        .iter()
        .map(|e| e.json["command_id"].as_str().unwrap().to_owned())
        .collect();
    let distinct: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(ids.len(), 6, "one event per command: {ids:?}");
    assert_eq!(distinct.len(), 6);
    assert!(ids.contains(&first.command_id));
    for request in &failed {
        assert!(ids.contains(&request.command_id));
    }
    service.stop().await;
}
