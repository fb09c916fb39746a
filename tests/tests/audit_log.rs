//! The auditors' log calls end to end: `ReplayEvents` filters and bounds, `VerifyLog` on a clean
//! log and on a log tampered with behind the service's back (straight into JetStream), and
//! `audit export` followed by `audit verify --file` run as the real binary, on an intact file and
//! on files changed by hand.
//!
//! Expected positions are worked out by hand from the history below; expected hashes are
//! computed here with sha2 and serde_json, not with the domain's functions, the way an auditor
//! with other tools would.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Stdio;

use futures::StreamExt;
use receivables_api::pb;
use receivables_api::pb::audit_service_client::AuditServiceClient;
use receivables_tests::*;
use serde_json::Value;
use sha2::Digest as _;
use tokio::process::Command;
use tonic::Code;
use tonic::transport::Channel;
use tonic_types::StatusExt;

/// The history every test posts; positions in the log:
///
/// | position | customer | subsidiary | type |
/// | --- | --- | --- | --- |
/// | 1 | ACME | SUB-SH | InvoiceIssued SH-001 1000.00 |
/// | 2 | BETA | SUB-BJ | InvoiceIssued BJ-001 500.00 |
/// | 3 | ACME | (none) | CreditLimitChanged 5000.00 |
/// | 4 | ACME | SUB-SH | PaymentReceived 400.00 |
/// | 5 | ACME | SUB-BJ | InvoiceIssued BJ-002 200.00 |
/// | 6 | BETA | SUB-BJ | PromiseToPay 100.00 |
async fn post_history(service: &TestAllInOne) {
    let mut commands = service.commands().await;
    let position = |receipt: Option<pb::CommandReceipt>| receipt.unwrap().position;
    let r = commands
        .issue_invoice(invoice(
            "ACME",
            "SUB-SH",
            "SH-001",
            "1000",
            "2026-01-10",
            "2026-02-09",
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(position(r.receipt), 1);
    let r = commands
        .issue_invoice(invoice(
            "BETA",
            "SUB-BJ",
            "BJ-001",
            "500",
            "2026-01-12",
            "2026-02-11",
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(position(r.receipt), 2);
    let r = commands
        .change_credit_limit(credit_limit("ACME", "5000", pb::CreditPolicy::Block))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(position(r.receipt), 3);
    // Apart in time, so that a cut-off at position 3's recorded_at leaves position 4 out.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let r = commands
        .record_payment(payment("ACME", "SUB-SH", "400", "2026-02-20"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(position(r.receipt), 4);
    let r = commands
        .issue_invoice(invoice(
            "ACME",
            "SUB-BJ",
            "BJ-002",
            "200",
            "2026-02-01",
            "2026-03-03",
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(position(r.receipt), 5);
    let r = commands
        .record_promise_to_pay(promise("BETA", "SUB-BJ", "100", "2026-02-01", "2026-02-15"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(position(r.receipt), 6);
}

async fn audit_client(service: &TestAllInOne) -> AuditServiceClient<Channel> {
    AuditServiceClient::connect(service.url()).await.unwrap()
}

/// A replay's events and progress messages.
async fn replay(
    client: &mut AuditServiceClient<Channel>,
    request: pb::ReplayEventsRequest,
) -> (Vec<pb::AuditedEvent>, Vec<pb::ReplayProgress>) {
    let mut stream = client.replay_events(request).await.unwrap().into_inner();
    let mut events = Vec::new();
    let mut progress = Vec::new();
    while let Some(item) = stream.next().await {
        match item.unwrap().item.unwrap() {
            pb::replay_events_response::Item::Event(event) => events.push(event),
            pb::replay_events_response::Item::Progress(p) => progress.push(p),
        }
    }
    let last = progress.last().expect("a last progress message");
    assert!(last.done, "the last message says the replay is complete");
    assert_eq!(last.events_sent, events.len() as u64);
    (events, progress)
}

fn positions(events: &[pb::AuditedEvent]) -> Vec<u64> {
    events.iter().map(|e| e.position).collect()
}

/// SHA-256 of a JSON document without its `hash` member, keys sorted and nothing spaced
/// (serde_json's own map is sorted and its output compact).
fn independent_hash(json: &Value) -> String {
    let mut content = json.clone();
    content.as_object_mut().unwrap().remove("hash");
    content.as_object_mut().unwrap().remove("position");
    hex::encode(sha2::Sha256::digest(serde_json::to_vec(&content).unwrap()))
}

fn request() -> pb::ReplayEventsRequest {
    pb::ReplayEventsRequest::default()
}

async fn replay_filters_and_bounds(backends: Backends) {
    init_logging();
    let Some(data) = TestData::create(backends).await else {
        return;
    };
    let service = TestAllInOne::start(&data).await;
    post_history(&service).await;
    let mut client = audit_client(&service).await;

    // Everything, with a progress message every two events read.
    let (all, progress) = replay(
        &mut client,
        pb::ReplayEventsRequest {
            progress_every: 2,
            ..request()
        },
    )
    .await;
    assert_eq!(positions(&all), [1, 2, 3, 4, 5, 6]);
    let types: Vec<_> = all.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        [
            "InvoiceIssued",
            "InvoiceIssued",
            "CreditLimitChanged",
            "PaymentReceived",
            "InvoiceIssued",
            "PromiseToPay"
        ]
    );
    let read: Vec<_> = progress.iter().map(|p| (p.events_read, p.done)).collect();
    assert_eq!(read, [(2, false), (4, false), (6, false), (6, true)]);
    assert!(progress.iter().all(|p| p.last_position == 6));
    // Each event's fields agree with its canonical JSON, and the JSON hashes to `hash`.
    for event in &all {
        let json: Value = serde_json::from_str(&event.envelope_json).unwrap();
        assert_eq!(json["hash"], event.hash.as_str());
        assert_eq!(json["prev_hash"], event.prev_hash.as_str());
        assert_eq!(json["customer_id"], event.customer_id.as_str());
        assert_eq!(json["sequence"], event.sequence);
        assert_eq!(json["type"], event.event_type.as_str());
        assert_eq!(independent_hash(&json), event.hash);
        assert_eq!(
            serde_json::to_string(&json).unwrap(),
            event.envelope_json,
            "canonical: sorted, no whitespace"
        );
    }
    let subsidiaries: Vec<_> = all.iter().map(|e| e.subsidiary_id.as_str()).collect();
    assert_eq!(
        subsidiaries,
        ["SUB-SH", "SUB-BJ", "", "SUB-SH", "SUB-BJ", "SUB-BJ"]
    );
    let sequences: Vec<_> = all
        .iter()
        .map(|e| (e.customer_id.as_str(), e.sequence))
        .collect();
    assert_eq!(
        sequences,
        [
            ("ACME", 1),
            ("BETA", 1),
            ("ACME", 2),
            ("ACME", 3),
            ("ACME", 4),
            ("BETA", 2)
        ]
    );

    let cases: Vec<(&str, pb::ReplayEventsRequest, Vec<u64>)> = vec![
        (
            "from 2 to 4",
            pb::ReplayEventsRequest {
                from_position: 2,
                to_position: 4,
                ..request()
            },
            vec![2, 3, 4],
        ),
        (
            "to beyond the end stops at the end",
            pb::ReplayEventsRequest {
                to_position: 100,
                ..request()
            },
            vec![1, 2, 3, 4, 5, 6],
        ),
        (
            "one position",
            pb::ReplayEventsRequest {
                from_position: 6,
                to_position: 6,
                ..request()
            },
            vec![6],
        ),
        (
            "customer ACME",
            pb::ReplayEventsRequest {
                customer_id: "ACME".into(),
                ..request()
            },
            vec![1, 3, 4, 5],
        ),
        (
            "customer ACME from 4",
            pb::ReplayEventsRequest {
                customer_id: "ACME".into(),
                from_position: 4,
                ..request()
            },
            vec![4, 5],
        ),
        (
            "customer ACME up to 3",
            pb::ReplayEventsRequest {
                customer_id: "ACME".into(),
                to_position: 3,
                ..request()
            },
            vec![1, 3],
        ),
        (
            "a customer without events",
            pb::ReplayEventsRequest {
                customer_id: "NOBODY".into(),
                ..request()
            },
            vec![],
        ),
        (
            "subsidiary SUB-BJ",
            pb::ReplayEventsRequest {
                subsidiary_id: "SUB-BJ".into(),
                ..request()
            },
            vec![2, 5, 6],
        ),
        (
            "payments and promises",
            pb::ReplayEventsRequest {
                event_types: vec!["PaymentReceived".into(), "PromiseToPay".into()],
                ..request()
            },
            vec![4, 6],
        ),
        (
            "BETA's invoices",
            pb::ReplayEventsRequest {
                customer_id: "BETA".into(),
                event_types: vec!["InvoiceIssued".into()],
                ..request()
            },
            vec![2],
        ),
        (
            "recorded until position 3 was recorded",
            pb::ReplayEventsRequest {
                recorded_until: all[2].recorded_at,
                ..request()
            },
            vec![1, 2, 3],
        ),
    ];
    for (name, request, expected) in cases {
        let (events, _) = replay(&mut client, request).await;
        assert_eq!(positions(&events), expected, "{name}");
    }

    // Bad requests are refused with every bad field named.
    let status = client
        .replay_events(pb::ReplayEventsRequest {
            from_position: 5,
            to_position: 2,
            customer_id: "AC ME".into(),
            subsidiary_id: "SUB*".into(),
            event_types: vec!["InvoiceIssued".into(), "InvoiceVoided".into()],
            ..request()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields: Vec<_> = status
        .get_error_details()
        .bad_request()
        .unwrap()
        .field_violations
        .iter()
        .map(|v| v.field.clone())
        .collect();
    assert_eq!(
        fields,
        [
            "from_position",
            "customer_id",
            "subsidiary_id",
            "event_types[1]"
        ]
    );
    let status = client
        .verify_log(pb::VerifyLogRequest {
            customer_id: "a.b".into(),
            progress_every: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);

    service.stop().await;
    data.remove().await;
}

async fn verify_a_clean_log(backends: Backends) {
    init_logging();
    let Some(data) = TestData::create(backends).await else {
        return;
    };
    let service = TestAllInOne::start(&data).await;
    let mut client = audit_client(&service).await;

    // An empty log: nothing checked, nothing broken.
    let empty = verify_log(&mut client, "").await;
    assert_eq!(
        (
            empty.events_checked,
            empty.last_position,
            empty.first_broken
        ),
        (0, 0, None)
    );

    post_history(&service).await;
    let (all, _) = replay(&mut client, request()).await;
    let hash_at = |position: usize| {
        independent_hash(&serde_json::from_str(&all[position - 1].envelope_json).unwrap())
    };

    let whole = verify_log(&mut client, "").await;
    assert_eq!(whole.events_checked, 6);
    assert_eq!(whole.last_position, 6);
    assert_eq!(whole.last_hash, hash_at(6));
    assert_eq!(whole.first_broken, None);

    let acme = verify_log(&mut client, "ACME").await;
    assert_eq!(acme.events_checked, 4, "positions 1, 3, 4 and 5");
    assert_eq!(acme.last_position, 5);
    assert_eq!(acme.last_hash, hash_at(5));
    assert_eq!(acme.first_broken, None);

    service.stop().await;
    data.remove().await;
}

on_both_backends!(replay_filters_and_bounds, verify_a_clean_log);

/// Publishes a message straight on a customer's subject, as someone with access to NATS but
/// not through the service would.
async fn forge(nats_url: &str, customer: &str, json: &Value) -> u64 {
    let client = async_nats::connect(nats_url).await.unwrap();
    let jetstream = async_nats::jetstream::new(client);
    let ack = jetstream
        .publish(
            format!("ar.events.{customer}"),
            serde_json::to_vec(json).unwrap().into(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    ack.sequence
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tampering_in_jetstream_is_found_where_it_is() {
    init_logging();
    let Some(data) = TestData::create(Backends::Servers).await else {
        return;
    };
    let nats_url = data.nats.as_ref().unwrap().url();
    let service = TestAllInOne::start(&data).await;
    post_history(&service).await;
    let mut client = audit_client(&service).await;
    let raw = raw_events(&nats_url).await;
    assert_eq!(raw.len(), 6);

    // ACME's first invoice again, its amount changed, its hash kept: position 7.
    let mut changed = raw[0].json.clone();
    assert_eq!(changed["data"]["amount"]["amount"], "1000.00");
    changed["data"]["amount"]["amount"] = "9000.00".into();
    assert_eq!(forge(&nats_url, "ACME", &changed).await, 7);

    let whole = verify_log(&mut client, "").await;
    let broken = whole.first_broken.unwrap();
    assert_eq!(broken.position, 7);
    assert_eq!(broken.kind(), pb::ChainBreak::HashMismatch);
    assert_eq!(broken.customer_id, "ACME");
    assert_eq!(
        broken.found,
        format!("hash {}", raw[0].json["hash"].as_str().unwrap())
    );
    assert_eq!(whole.events_checked, 6);
    assert_eq!(whole.last_position, 6);
    assert_eq!(whole.last_hash, raw[5].json["hash"].as_str().unwrap());

    // A well-formed event for BETA (its hash right for its content) whose prev_hash is not
    // BETA's last hash: position 8. Checked before the sequence, so named first.
    let mut inserted = raw[5].json.clone();
    inserted["event_id"] = uuid::Uuid::new_v4().to_string().into();
    inserted["command_id"] = uuid::Uuid::new_v4().to_string().into();
    inserted["sequence"] = 3.into();
    inserted["prev_hash"] = "ab".repeat(32).into();
    inserted["data"]["amount"]["amount"] = "50.00".into();
    let hash = independent_hash(&inserted);
    inserted["hash"] = hash.into();
    assert_eq!(forge(&nats_url, "BETA", &inserted).await, 8);

    let beta = verify_log(&mut client, "BETA").await;
    let broken = beta.first_broken.unwrap();
    assert_eq!(broken.position, 8);
    assert_eq!(broken.kind(), pb::ChainBreak::PreviousHashMismatch);
    assert_eq!(
        broken.expected,
        format!("prev_hash {}", raw[5].json["hash"].as_str().unwrap())
    );
    assert_eq!(broken.found, format!("prev_hash {}", "ab".repeat(32)));
    assert_eq!(beta.events_checked, 2, "positions 2 and 6");
    // The whole log still names the first break.
    let whole = verify_log(&mut client, "").await;
    assert_eq!(whole.first_broken.unwrap().position, 7);
    // ACME's chain alone also breaks at 7.
    let acme = verify_log(&mut client, "ACME").await;
    assert_eq!(acme.first_broken.unwrap().position, 7);

    // Something that is not an event at all, on a customer of its own: UNDECODABLE there.
    let client_nats = async_nats::connect(&nats_url).await.unwrap();
    let jetstream = async_nats::jetstream::new(client_nats);
    let ack = jetstream
        .publish("ar.events.GAMMA", "not an event".into())
        .await
        .unwrap()
        .await
        .unwrap();
    assert_eq!(ack.sequence, 9);
    let gamma = verify_log(&mut client, "GAMMA").await;
    let broken = gamma.first_broken.unwrap();
    assert_eq!(
        (broken.position, broken.kind()),
        (9, pb::ChainBreak::Undecodable)
    );
    assert_eq!(gamma.events_checked, 0);

    // The projector may well refuse the forged events; the service is not stopped gracefully.
    drop(service);
    data.remove().await;
}

/// Appends `json` to the log as the next event of `customer`, from outside the service: on
/// JetStream published on the customer's subject, on the embedded log inserted into its file
/// (as someone with access to the server or to the file could). Returns its position.
async fn append_from_outside(data: &TestData, customer: &str, json: &Value) -> u64 {
    match &data.nats {
        Some(nats) => forge(&nats.url(), customer, json).await,
        None => {
            use sqlx::ConnectOptions as _;
            let path = data
                .directory
                .path()
                .join(receivables::config::EVENT_LOG_FILE);
            let mut file = sqlx::sqlite::SqliteConnectOptions::new()
                .filename(path)
                .connect()
                .await
                .unwrap();
            let (last,): (i64,) = sqlx::query_as("SELECT MAX(position) FROM events")
                .fetch_one(&mut file)
                .await
                .unwrap();
            sqlx::query(
                "INSERT INTO events (position, customer_id, command_id, payload, appended_at)
                 VALUES (?1, ?2, ?3, ?4, '2026-12-07T00:00:00Z')",
            )
            .bind(last + 1)
            .bind(customer)
            .bind(json["command_id"].as_str().unwrap())
            .bind(serde_json::to_vec(json).unwrap())
            .execute(&mut file)
            .await
            .unwrap();
            u64::try_from(last + 1).unwrap()
        }
    }
}

/// A member that no type of the service reads, added to an event after its hash was taken: the
/// event reads back as it was, but the bytes the log holds are not the bytes that were hashed.
/// `VerifyLog` hashes what is stored, as the offline check of an export does, and finds it.
async fn a_member_added_to_a_stored_event_is_found(backends: Backends) {
    init_logging();
    let Some(data) = TestData::create(backends).await else {
        return;
    };
    let service = TestAllInOne::start(&data).await;
    post_history(&service).await;
    let mut client = audit_client(&service).await;
    let (all, _) = replay(&mut client, request()).await;
    assert_eq!(all.len(), 6);

    // ACME's next event, chained on its last one (position 5) with a hash right for its
    // content, then a member added to its payload.
    let last: Value = serde_json::from_str(&all[4].envelope_json).unwrap();
    assert_eq!(last["customer_id"], "ACME");
    let mut next = last.clone();
    next["event_id"] = uuid::Uuid::new_v4().to_string().into();
    next["command_id"] = uuid::Uuid::new_v4().to_string().into();
    next["sequence"] = (last["sequence"].as_u64().unwrap() + 1).into();
    next["prev_hash"] = last["hash"].clone();
    let hash = independent_hash(&next);
    next["hash"] = hash.clone().into();
    next["data"]["note"] = "settled in cash, do not chase".into();
    assert_eq!(append_from_outside(&data, "ACME", &next).await, 7);

    let whole = verify_log(&mut client, "").await;
    let broken = whole.first_broken.expect("the added member is found");
    assert_eq!(
        (broken.position, broken.kind(), broken.customer_id.as_str()),
        (7, pb::ChainBreak::HashMismatch, "ACME")
    );
    assert_eq!(broken.found, format!("hash {hash}"));
    assert_eq!(
        broken.expected,
        format!("hash {} of the content", independent_hash(&next))
    );
    assert_eq!((whole.events_checked, whole.last_position), (6, 6));
    // ACME's chain alone, read by customer, finds it too.
    let acme = verify_log(&mut client, "ACME").await;
    let broken = acme.first_broken.expect("the added member is found");
    assert_eq!(
        (broken.position, broken.kind()),
        (7, pb::ChainBreak::HashMismatch)
    );
    assert_eq!(acme.events_checked, 4);

    // BETA's next event, chained and hashed right, with a negative amount: the chain holds,
    // the ledger's rules do not. VerifyLog checks the chain; a replay reads the event and
    // fails on it, naming its position.
    let last: Value = serde_json::from_str(&all[5].envelope_json).unwrap();
    assert_eq!(last["customer_id"], "BETA");
    let mut negative = last.clone();
    negative["event_id"] = uuid::Uuid::new_v4().to_string().into();
    negative["command_id"] = uuid::Uuid::new_v4().to_string().into();
    negative["sequence"] = (last["sequence"].as_u64().unwrap() + 1).into();
    negative["prev_hash"] = last["hash"].clone();
    negative["data"]["amount"]["amount"] = "-50.00".into();
    negative["hash"] = independent_hash(&negative).into();
    assert_eq!(append_from_outside(&data, "BETA", &negative).await, 8);
    let beta = verify_log(&mut client, "BETA").await;
    assert_eq!(beta.first_broken, None);
    assert_eq!((beta.events_checked, beta.last_position), (3, 8));
    let replayed = client
        .replay_events(pb::ReplayEventsRequest {
            from_position: 8,
            ..request()
        })
        .await
        .unwrap()
        .into_inner()
        .collect::<Vec<_>>()
        .await;
    let failed = replayed
        .into_iter()
        .find_map(Result::err)
        .expect("the replay fails on the event");
    assert_eq!(failed.code(), Code::Internal);
    assert!(
        failed.message().contains("position 8"),
        "{}",
        failed.message()
    );

    // An event of ACME filed under BETA (its subject, its row): BETA's chain names it.
    let mut misfiled = next.clone();
    misfiled["data"].as_object_mut().unwrap().remove("note");
    misfiled["command_id"] = uuid::Uuid::new_v4().to_string().into();
    assert_eq!(append_from_outside(&data, "BETA", &misfiled).await, 9);
    let beta = verify_log(&mut client, "BETA").await;
    let broken = beta.first_broken.expect("the misfiled event is found");
    assert_eq!(
        (broken.position, broken.kind()),
        (9, pb::ChainBreak::Undecodable)
    );
    assert!(broken.found.contains("BETA"), "{}", broken.found);
    assert_eq!(beta.events_checked, 3);

    // The projector may well refuse the forged event; the service is not stopped gracefully.
    drop(service);
    data.remove().await;
}

on_both_backends!(a_member_added_to_a_stored_event_is_found);

/// Runs the real binary as a client; its exit code, stdout and stderr.
async fn cli(url: &str, args: &[&str]) -> (i32, String, String) {
    let output = Command::new(receivables_binary())
        .args(["--server", url])
        .args(args)
        .env_remove("RECEIVABLES_SERVER")
        .env_remove("RECEIVABLES_QUERY_SERVER")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

/// `audit verify --file` in JSON; its exit code and result.
async fn verify_file(file: &Path) -> (i32, Value, String) {
    // No service runs at this address: the offline check must not need one.
    let (code, stdout, stderr) = cli(
        "http://127.0.0.1:9",
        &[
            "--format",
            "json",
            "audit",
            "verify",
            "--file",
            file.to_str().unwrap(),
        ],
    )
    .await;
    (code, serde_json::from_str(&stdout).unwrap(), stderr)
}

fn read_lines(file: &Path) -> Vec<String> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn write_lines(file: &Path, lines: &[String]) {
    std::fs::write(file, lines.join("\n") + "\n").unwrap();
}

async fn export_then_verify_offline(backends: Backends) {
    init_logging();
    let Some(data) = TestData::create(backends).await else {
        return;
    };
    let service = TestAllInOne::start(&data).await;
    post_history(&service).await;
    let url = service.url();
    let directory = tempfile::tempdir().unwrap();
    let export = directory.path().join("export.jsonl");

    let (code, _, stderr) = cli(
        &url,
        &[
            "audit",
            "export",
            "--quiet",
            "--output",
            export.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    let lines = read_lines(&export);
    assert_eq!(lines.len(), 7, "six events and the last line");
    for (index, line) in lines[..6].iter().enumerate() {
        let json: Value = serde_json::from_str(line).unwrap();
        assert_eq!(json["position"], index as u64 + 1);
        assert_eq!(&serde_json::to_string(&json).unwrap(), line, "canonical");
        assert_eq!(json["hash"], independent_hash(&json).as_str());
    }
    let last_hash = serde_json::from_str::<Value>(&lines[5]).unwrap()["hash"].clone();
    let final_line: Value = serde_json::from_str(&lines[6]).unwrap();
    assert_eq!(
        final_line,
        serde_json::json!({
            "complete_chains": true,
            "count": 6,
            "last_hash": last_hash,
            "last_position": 6,
            "whole_log": true,
        })
    );
    assert_eq!(&serde_json::to_string(&final_line).unwrap(), &lines[6]);

    // The same export on standard output.
    let (code, stdout, _) = cli(&url, &["audit", "export"]).await;
    assert_eq!(code, 0);
    assert_eq!(stdout.lines().collect::<Vec<_>>(), lines);

    // Intact.
    let (code, result, stderr) = verify_file(&export).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(result["result"], "INTACT");
    assert_eq!(result["events_checked"], 6);
    assert_eq!(result["last_position"], 6);
    assert_eq!(result["last_hash"], last_hash);
    assert_eq!(result["links_checked"], true);

    // One payload changed (the payment at line 4): HASH_MISMATCH there.
    let mut changed = lines.clone();
    changed[3] = changed[3].replace("\"400.00\"", "\"40.00\"");
    assert_ne!(changed[3], lines[3]);
    let tampered = directory.path().join("changed.jsonl");
    write_lines(&tampered, &changed);
    let (code, result, stderr) = verify_file(&tampered).await;
    assert_eq!(code, 1);
    assert_eq!(result["broken_kind"], "HASH_MISMATCH");
    assert_eq!(result["broken_line"], 4);
    assert_eq!(result["broken_position"], 4);
    assert_eq!(result["broken_customer_id"], "ACME");
    assert_eq!(result["events_checked"], 3);
    assert!(
        stderr.contains("HASH_MISMATCH at position 4 (line 4)"),
        "{stderr}"
    );

    // The payment made negative and sealed again with a correct hash: its hash holds, but a
    // negative payment breaks the ledger's rules, so the line is not believed.
    let mut resealed = lines.clone();
    let mut json: Value =
        serde_json::from_str(&resealed[3].replace("\"400.00\"", "\"-400.00\"")).unwrap();
    json["hash"] = Value::from(independent_hash(&json));
    resealed[3] = serde_json::to_string(&json).unwrap();
    write_lines(&tampered, &resealed);
    let (code, result, _) = verify_file(&tampered).await;
    assert_eq!(code, 1);
    assert_eq!(
        (&result["broken_kind"], &result["broken_line"]),
        (&Value::from("UNDECODABLE"), &Value::from(4))
    );

    // A member added to a line is a change too, though the envelope does not know it.
    let mut added = lines.clone();
    added[1] = added[1].replacen('{', "{\"approved\":true,", 1);
    write_lines(&tampered, &added);
    let (code, result, _) = verify_file(&tampered).await;
    assert_eq!(code, 1);
    assert_eq!(
        (&result["broken_kind"], &result["broken_line"]),
        (&Value::from("HASH_MISMATCH"), &Value::from(2))
    );

    // A line deleted (position 3): the next event is named, at the line where it now is.
    let mut deleted = lines.clone();
    deleted.remove(2);
    write_lines(&tampered, &deleted);
    let (code, result, stderr) = verify_file(&tampered).await;
    assert_eq!(code, 1);
    assert_eq!(result["broken_kind"], "POSITION_GAP");
    assert_eq!(result["broken_line"], 3);
    assert_eq!(result["broken_position"], 4);
    assert!(stderr.contains("POSITION_GAP at position 4"), "{stderr}");

    // Two lines swapped: the first out of place is named.
    let mut swapped = lines.clone();
    swapped.swap(1, 2);
    write_lines(&tampered, &swapped);
    let (_, result, _) = verify_file(&tampered).await;
    assert_eq!(result["broken_kind"], "POSITION_GAP");
    assert_eq!(result["broken_line"], 2);
    assert_eq!(result["broken_position"], 3);

    // The last event removed along with nothing else: the final line no longer agrees.
    let mut cut = lines.clone();
    cut.remove(5);
    write_lines(&tampered, &cut);
    let (code, result, _) = verify_file(&tampered).await;
    assert_eq!(code, 1);
    assert_eq!(result["broken_kind"], "FINAL_LINE_MISMATCH");
    assert_eq!(result["broken_line"], 6);

    // The final line missing.
    write_lines(&tampered, &lines[..6]);
    let (code, result, _) = verify_file(&tampered).await;
    assert_eq!(code, 1);
    assert_eq!(result["broken_kind"], "FINAL_LINE_MISSING");

    // A line that is not JSON: UNDECODABLE at that line.
    let mut garbled = lines.clone();
    garbled[4] = "{\"position\":5,".to_owned();
    write_lines(&tampered, &garbled);
    let (_, result, _) = verify_file(&tampered).await;
    assert_eq!(result["broken_kind"], "UNDECODABLE");
    assert_eq!(result["broken_line"], 5);

    // One customer's export holds its whole chain: links checked.
    let acme = directory.path().join("acme.jsonl");
    let (code, _, stderr) = cli(
        &url,
        &[
            "audit",
            "export",
            "--customer",
            "ACME",
            "--output",
            acme.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(code, 0, "{stderr}");
    let acme_lines = read_lines(&acme);
    assert_eq!(acme_lines.len(), 5);
    let (code, result, stderr) = verify_file(&acme).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(result["events_checked"], 4);
    assert_eq!(result["links_checked"], true);
    // ACME's line of position 3 deleted: position 4 no longer links to its predecessor.
    let mut acme_deleted = acme_lines.clone();
    acme_deleted.remove(1);
    write_lines(&tampered, &acme_deleted);
    let (_, result, _) = verify_file(&tampered).await;
    assert_eq!(result["broken_kind"], "PREVIOUS_HASH_MISMATCH");
    assert_eq!(result["broken_position"], 4);

    // A subsidiary's export has chains with holes: each event is checked on its own.
    let sub = directory.path().join("sub.jsonl");
    let (code, _, _) = cli(
        &url,
        &[
            "audit",
            "export",
            "--subsidiary",
            "SUB-BJ",
            "--output",
            sub.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(code, 0);
    let (code, result, stderr) = verify_file(&sub).await;
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(result["events_checked"], 3);
    assert_eq!(result["links_checked"], false);

    // The service's own verification through the CLI.
    let (code, stdout, stderr) = cli(&url, &["--format", "json", "audit", "verify"]).await;
    assert_eq!(code, 0, "{stderr}");
    let result: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(result["events_checked"], 6);
    assert_eq!(result["last_hash"], last_hash);
    let (code, stdout, _) = cli(
        &url,
        &["--format", "csv", "audit", "verify", "--customer", "BETA"],
    )
    .await;
    assert_eq!(code, 0);
    assert!(
        stdout.starts_with("source,result,events_checked"),
        "{stdout}"
    );

    service.stop().await;
    data.remove().await;
}

on_both_backends!(export_then_verify_offline);
