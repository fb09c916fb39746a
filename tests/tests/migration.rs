//! A history moved between the embedded log and a JetStream stream, and through a backup file,
//! with the real binary: every event as it was written and in its order, the registry of
//! document numbers and the tokens with it; the service carries on from the copy; an
//! interrupted copy is resumed; a target that is not empty, a backup that is damaged or not
//! whole are refused with nothing copied.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Output;

use futures::StreamExt;
use receivables::config::EVENT_LOG_FILE;
use receivables_api::pb;
use receivables_domain::{EventEnvelope, Position};
use receivables_eventlog::EventLog;
use receivables_eventlog::jetstream::{JetStreamConfig, JetStreamLog};
use receivables_eventlog::sqlite::SqliteLog;
use receivables_eventlog::transfer::{self, CopyInto, TransferError};
use receivables_tests::refusals::error_metadata;
use receivables_tests::*;
use tonic::Code;

const SUB: &str = "SUB-A";

/// The history every test copies, posted over gRPC to an embedded service in `data`:
///
/// - ACME: a limit; invoices INV-1 (1,000.00) and INV-2 (500.00); a payment of 300.00; credit
///   note CN-1 of 100.00 against INV-2; 200.00 reserved for order SO-1: 6 events;
/// - BETA: a limit; invoice INV-3 (700.00): 2 events.
///
/// 8 events, 2 customers, 4 numbers (INV-1, INV-2, INV-3, CN-1) and an order number (SO-1).
const EVENTS: u64 = 8;
const NUMBERS: u64 = 5;

async fn post_history(data: &Path) {
    let service = TestAllInOne::start_with(&receivables::config::ServeArgs::embedded(
        "127.0.0.1:0".parse().unwrap(),
        data,
    ))
    .await;
    let mut commands = service.commands().await;
    for customer in ["ACME", "BETA"] {
        commands
            .change_credit_limit(credit_limit(customer, "100000", pb::CreditPolicy::Warn))
            .await
            .unwrap();
    }
    commands
        .issue_invoice(invoice(
            "ACME",
            SUB,
            "INV-1",
            "1000.00",
            "2026-05-01",
            "2026-05-31",
        ))
        .await
        .unwrap();
    commands
        .issue_invoice(invoice(
            "BETA",
            SUB,
            "INV-3",
            "700.00",
            "2026-05-02",
            "2026-06-01",
        ))
        .await
        .unwrap();
    commands
        .issue_invoice(invoice(
            "ACME",
            SUB,
            "INV-2",
            "500.00",
            "2026-05-03",
            "2026-06-02",
        ))
        .await
        .unwrap();
    commands
        .record_payment(payment("ACME", SUB, "300.00", "2026-05-20"))
        .await
        .unwrap();
    commands
        .issue_credit_note(credit_note("ACME", "CN-1", "INV-2"))
        .await
        .unwrap();
    commands
        .reserve_credit(reserve("ACME", "SO-1"))
        .await
        .unwrap();
    service.stop().await;
}

fn credit_note(customer: &str, number: &str, invoice: &str) -> pb::IssueCreditNoteRequest {
    pb::IssueCreditNoteRequest {
        command_id: command_id(),
        customer_id: customer.to_owned(),
        subsidiary_id: SUB.to_owned(),
        credit_note_number: number.to_owned(),
        amount: cny("100.00"),
        issue_date: "2026-05-21".to_owned(),
        reason: "price corrected".to_owned(),
        invoice: invoice_ref(SUB, invoice),
    }
}

fn reserve(customer: &str, order: &str) -> pb::ReserveCreditRequest {
    pb::ReserveCreditRequest {
        command_id: command_id(),
        customer_id: customer.to_owned(),
        subsidiary_id: SUB.to_owned(),
        order_number: order.to_owned(),
        amount: cny("200.00"),
        reserved_on: "2026-05-22".to_owned(),
        expires_on: "2026-06-30".to_owned(),
    }
}

/// Every event of `log`, in order, with its position: read with the log's own feed.
async fn events_of(log: &impl EventLog) -> Vec<(Position, EventEnvelope)> {
    let last = log.last_position().await.unwrap();
    if last == Position::ZERO {
        return Vec::new();
    }
    let mut feed = log.follow(Position::ZERO).await.unwrap();
    let mut events = Vec::new();
    while let Some(event) = feed.next().await {
        let event = event.unwrap();
        let done = event.position == last;
        events.push((event.position, event.envelope));
        if done {
            break;
        }
    }
    events
}

fn envelopes(events: &[(Position, EventEnvelope)]) -> Vec<EventEnvelope> {
    events
        .iter()
        .map(|(_, envelope)| envelope.clone())
        .collect()
}

async fn embedded_events(data: &Path) -> Vec<(Position, EventEnvelope)> {
    let log = SqliteLog::open(&data.join(EVENT_LOG_FILE)).await.unwrap();
    let events = events_of(&log).await;
    log.close().await.unwrap();
    events
}

async fn stream_events(nats: &NatsServer) -> Vec<(Position, EventEnvelope)> {
    let client = async_nats::connect(nats.url()).await.unwrap();
    let log = JetStreamLog::attach(client, JetStreamConfig::default())
        .await
        .unwrap();
    events_of(&log).await
}

async fn run(args: &[&str], data: &Path, nats: Option<&NatsServer>) -> Output {
    let mut command = tokio::process::Command::new(receivables_binary());
    command.args(args).arg("--data-dir").arg(data);
    if let Some(nats) = nats {
        command.args(["--nats-url", &nats.url()]);
    }
    command.output().await.expect("the receivables binary runs")
}

fn stdout(output: &Output) -> String {
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    assert!(!output.status.success(), "{output:?}");
    String::from_utf8(output.stderr.clone()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_history_moves_to_jetstream_and_back_event_for_event_and_the_service_carries_on() {
    init_logging();
    let Some(nats) = NatsServer::start_default().await else {
        return;
    };
    let directory = tempfile::tempdir().unwrap();
    let data = directory.path().join("embedded");
    post_history(&data).await;
    let created = run(
        &[
            "tokens",
            "create",
            "--role",
            "reporting",
            "--label",
            "board pack",
        ],
        &data,
        None,
    )
    .await;
    let token = stdout(&created);
    let (token_id, _) = receivables_access::parse_bearer(token.trim()).unwrap();
    let source = embedded_events(&data).await;
    assert_eq!(source.len() as u64, EVENTS);

    // When the history is migrated to the stream,
    let migrated = run(&["migrate", "--to", "jetstream"], &data, Some(&nats)).await;
    let report = stdout(&migrated);
    assert!(
        report.contains(&format!(
            "copied {EVENTS} events (0 there already), reserved {NUMBERS} document numbers"
        )),
        "{report}"
    );
    assert!(
        report.contains(&format!("verified: {EVENTS} events of 2 customers")),
        "{report}"
    );
    assert!(
        report.contains("tokens: 1 copied, 0 there already"),
        "{report}"
    );

    // then the stream holds every event as written, in the same order, at positions 1, 2, 3...
    let copied = stream_events(&nats).await;
    assert_eq!(envelopes(&copied), envelopes(&source));
    let positions: Vec<u64> = copied.iter().map(|(position, _)| position.get()).collect();
    assert_eq!(positions, (1..=EVENTS).collect::<Vec<_>>());
    // and the token is there.
    let listed = stdout(&run(&["tokens", "list"], &data, Some(&nats)).await);
    assert!(listed.contains(token_id.as_str()), "{listed}");

    // The command service on the stream knows the numbers the documents took, for any customer,
    let service = TestService::start(&nats.url()).await;
    let mut commands = service.client().await;
    let duplicate = commands
        .issue_invoice(invoice(
            "BETA",
            SUB,
            "INV-1",
            "10.00",
            "2026-06-01",
            "2026-06-30",
        ))
        .await
        .unwrap_err();
    error_metadata(&duplicate, Code::AlreadyExists, "DUPLICATE_INVOICE_NUMBER");
    let duplicate = commands
        .issue_credit_note(credit_note("BETA", "CN-1", "INV-3"))
        .await
        .unwrap_err();
    error_metadata(
        &duplicate,
        Code::AlreadyExists,
        "DUPLICATE_CREDIT_NOTE_NUMBER",
    );
    let duplicate = commands
        .reserve_credit(reserve("BETA", "SO-1"))
        .await
        .unwrap_err();
    error_metadata(&duplicate, Code::AlreadyExists, "DUPLICATE_ORDER_NUMBER");
    // and carries ACME's history on: its next event is its seventh, chained to its sixth.
    commands
        .issue_invoice(invoice(
            "ACME",
            SUB,
            "INV-4",
            "50.00",
            "2026-06-01",
            "2026-06-30",
        ))
        .await
        .unwrap();
    service.stop().await;
    let on_stream = stream_events(&nats).await;
    assert_eq!(on_stream.len() as u64, EVENTS + 1);
    let (_, newest) = on_stream.last().unwrap();
    let (_, acme_sixth) = source
        .iter()
        .rfind(|(_, envelope)| envelope.customer_id.as_str() == "ACME")
        .unwrap();
    assert_eq!(newest.sequence, 7);
    assert_eq!(newest.prev_hash, acme_sixth.hash);

    // Back to a new data directory: the stream's nine events, as they are there.
    let back = directory.path().join("back");
    let report = stdout(&run(&["migrate", "--to", "embedded"], &back, Some(&nats)).await);
    assert!(
        report.contains("copied 9 events (0 there already)"),
        "{report}"
    );
    assert!(report.contains("tokens: 1 copied"), "{report}");
    assert_eq!(
        envelopes(&embedded_events(&back).await),
        envelopes(&on_stream)
    );

    // A second migration into the same directory is refused, and adds nothing.
    let again = stderr(&run(&["migrate", "--to", "embedded"], &back, Some(&nats)).await);
    assert!(again.contains("not empty"), "{again}");
    assert_eq!(embedded_events(&back).await.len(), 9);
    // With --resume it finds everything there already.
    let report = stdout(
        &run(
            &["migrate", "--to", "embedded", "--resume"],
            &back,
            Some(&nats),
        )
        .await,
    );
    assert!(
        report.contains("copied 0 events (9 there already)"),
        "{report}"
    );
    assert!(
        report.contains("tokens: 0 copied, 1 there already"),
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_interrupted_copy_is_resumed_and_a_different_target_is_refused() {
    init_logging();
    let Some(nats) = NatsServer::start_default().await else {
        return;
    };
    let directory = tempfile::tempdir().unwrap();
    let data = directory.path().join("embedded");
    post_history(&data).await;
    let source = SqliteLog::open(&data.join(EVENT_LOG_FILE)).await.unwrap();
    let client = async_nats::connect(nats.url()).await.unwrap();
    let target = JetStreamLog::open(client, JetStreamConfig::default())
        .await
        .unwrap();

    // Given a copy whose source went away after its fifth event,
    let interrupted = transfer::history(&source)
        .await
        .unwrap()
        .take(5)
        .map(|event| event.map_err(TransferError::from))
        .chain(futures::stream::once(async {
            Err(TransferError::Io(std::io::Error::other(
                "the source went away",
            )))
        }));
    let error = transfer::copy(interrupted, &target, CopyInto::Empty, |_| {})
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("the source went away"),
        "{error}"
    );
    assert_eq!(target.last_position().await.unwrap(), Position::new(5));

    // a copy into the same target is refused unless resumed,
    let refused = transfer::copy(
        transfer::source(&source).await.unwrap(),
        &target,
        CopyInto::Empty,
        |_| {},
    )
    .await
    .unwrap_err();
    assert!(
        matches!(refused, TransferError::TargetNotEmpty { .. }),
        "{refused}"
    );
    assert_eq!(target.last_position().await.unwrap(), Position::new(5));

    // and resumed, it appends the three others after the five.
    let copied = transfer::copy(
        transfer::source(&source).await.unwrap(),
        &target,
        CopyInto::Resume,
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(copied.progress.read, EVENTS);
    assert_eq!(copied.progress.already_there, 5);
    assert_eq!(copied.progress.appended, 3);
    transfer::verify(&target, &copied.source).await.unwrap();
    assert_eq!(
        envelopes(&events_of(&target).await),
        envelopes(&events_of(&source).await)
    );

    // Another history is not resumed into it: ACME's first event differs (its own command id
    // and hash), and nothing is appended.
    let other = directory.path().join("other");
    post_history(&other).await;
    let other_log = SqliteLog::open(&other.join(EVENT_LOG_FILE)).await.unwrap();
    let diverged = transfer::copy(
        transfer::source(&other_log).await.unwrap(),
        &target,
        CopyInto::Resume,
        |_| {},
    )
    .await
    .unwrap_err();
    assert!(
        matches!(diverged, TransferError::Diverged { .. }),
        "{diverged}"
    );
    assert_eq!(target.last_position().await.unwrap(), Position::new(EVENTS));
    other_log.close().await.unwrap();
    source.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_restores_into_an_empty_directory_or_stream_and_a_damaged_one_restores_nothing() {
    init_logging();
    let Some(nats) = NatsServer::start_default().await else {
        return;
    };
    let directory = tempfile::tempdir().unwrap();
    let data = directory.path().join("embedded");
    post_history(&data).await;
    let source = embedded_events(&data).await;
    let file = directory.path().join("ledger.jsonl");
    let file_arg = file.to_str().unwrap();

    let report = stdout(&run(&["backup", file_arg], &data, None).await);
    assert!(
        report.contains(&format!("backed up {EVENTS} events of 2 customers")),
        "{report}"
    );
    // One header, one line per event, one last line.
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text.lines().count() as u64, EVENTS + 2);
    // A backup never overwrites a file.
    let again = stderr(&run(&["backup", file_arg], &data, None).await);
    assert!(again.contains("exists already"), "{again}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);

    // Restored into a new directory and into a stream: the same events in the same order.
    let restored = directory.path().join("restored");
    let report = stdout(&run(&["restore", file_arg], &restored, None).await);
    assert!(
        report.contains(&format!("copied {EVENTS} events")),
        "{report}"
    );
    assert_eq!(
        envelopes(&embedded_events(&restored).await),
        envelopes(&source)
    );
    let unused = directory.path().join("unused");
    let report = stdout(&run(&["restore", file_arg], &unused, Some(&nats)).await);
    assert!(
        report.contains(&format!("reserved {NUMBERS} document numbers")),
        "{report}"
    );
    assert_eq!(envelopes(&stream_events(&nats).await), envelopes(&source));

    // Damaged copies of the file restore nothing:
    let lines: Vec<&str> = text.lines().collect();
    let damaged = |name: &str, lines: Vec<String>| {
        let path = directory.path().join(name);
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        path
    };
    let owned = |lines: &[&str]| {
        lines
            .iter()
            .map(|line| (*line).to_owned())
            .collect::<Vec<_>>()
    };
    // an amount changed after the event was written (its hash no longer matches),
    let mut changed = owned(&lines);
    assert!(changed[3].contains("\"1000.00\""), "{}", changed[3]);
    changed[3] = changed[3].replace("\"1000.00\"", "\"1001.00\"");
    // an event left out (the chain breaks),
    let mut missing = owned(&lines);
    missing.remove(3);
    // the last line lost (the file is not whole),
    let truncated = owned(&lines[..lines.len() - 1]);
    // a line that is not JSON.
    let mut garbled = owned(&lines);
    garbled[2] = "{\"position\":2,\"event\":".to_owned();
    for (name, lines, expected) in [
        ("changed.jsonl", changed, "HASH_MISMATCH"),
        ("missing.jsonl", missing, "PREVIOUS_HASH_MISMATCH"),
        ("truncated.jsonl", truncated, "not whole"),
        ("garbled.jsonl", garbled, "line 3"),
    ] {
        let path = damaged(name, lines);
        let target = directory.path().join(name.replace(".jsonl", ""));
        let refused = stderr(&run(&["restore", path.to_str().unwrap()], &target, None).await);
        assert!(refused.contains(expected), "{name}: {refused}");
        assert!(
            !target.join(EVENT_LOG_FILE).exists(),
            "{name}: nothing is opened, let alone restored"
        );
    }
}
