//! Reports as they were known at a past moment (`AuditService.*AsKnown`), on both backend
//! pairs: the embedded SQLite log and read model, and NATS JetStream + PostgreSQL.
//!
//! The expected answers come from an independent path: the live projector's answers, saved at
//! the moment that is asked about later, before more history (payments that change the aging of
//! older invoices, new invoices, a new customer) is posted. A few figures are also worked out by
//! hand below.
//!
//! The first history (business dates; days past due counted from the due date):
//! - A (SUB-1), limit 5000 WARN: INV-A1 01-05/02-04 1000; INV-A2 02-10/03-12 2000.
//! - B (SUB-2), no limit: INV-B1 01-20/02-19 3000; INV-B2 03-01/03-31 500; a promise made
//!   03-01 of 1000 for 03-10.
//!
//! Aging by customer, buckets current / 1-30 / 31-60 / 61-90 / 91-120 / over 120:
//! - as of 02-15: A1 is 11 days past due (1-30: 1000), A2 not yet due (current: 2000); B1 not
//!   yet due (current: 3000), B2 not issued yet.
//! - as of 04-15: A1 70 days (61-90: 1000), A2 34 days (31-60: 2000); B1 55 days
//!   (31-60: 3000), B2 15 days (1-30: 500).
//!
//! The second history, posted after the moment noted:
//! - A pays 600 received 02-01, oldest due first: all to INV-A1 (400 left), so A's 1-30 bucket
//!   as of 02-15 becomes 400 in the live report, and stays 1000 as known at the moment.
//! - B pays 3000 received 03-05: all to INV-B1 (paid).
//! - A: INV-A3 03-20/04-19 700; C (SUB-1), new: INV-C1 02-01/03-03 1500.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, SystemTime};

use receivables_api::pb;
use receivables_api::pb::audit_service_client::AuditServiceClient;
use receivables_api::pb::command_service_client::CommandServiceClient;
use receivables_api::pb::query_service_client::QueryServiceClient;
use receivables_cli::cmd::aging::{self, AgingArgs};
use receivables_cli::cmd::audit::{AuditCommand, report};
use receivables_cli::cmd::exposure::{self, ExposureArgs};
use receivables_cli::cmd::queue::QueueArgs;
use receivables_cli::cmd::{ClientCommand, ReadArgs};
use receivables_cli::connection::Connection;
use receivables_cli::sheet::Format;
use receivables_cli::tables;
use receivables_tests::*;
use tonic::Code;
use tonic::transport::Channel;
use tonic_types::StatusExt;

type Commands = CommandServiceClient<Channel>;
type Queries = QueryServiceClient<Channel>;
type Audit = AuditServiceClient<Channel>;
type Metrics = receivables_api::pb::metrics_service_client::MetricsServiceClient<Channel>;

/// The two business dates the aging is asked for.
const EARLY: &str = "2026-02-15";
const LATE: &str = "2026-04-15";

/// Time left between the moment noted and the events on either side of it, so that no event
/// is recorded in the same instant as the moment.
const BOUNDARY_GAP: Duration = Duration::from_millis(20);

enum Post {
    Invoice(pb::IssueInvoiceRequest),
    Payment(pb::RecordPaymentRequest),
    Limit(pb::ChangeCreditLimitRequest),
    Promise(pb::RecordPromiseToPayRequest),
}

/// Posts the commands in order; returns the position of the last one.
async fn post(commands: &mut Commands, history: Vec<Post>) -> u64 {
    let mut last = 0;
    for item in history {
        let receipt = match item {
            Post::Invoice(r) => {
                commands
                    .issue_invoice(r)
                    .await
                    .unwrap()
                    .into_inner()
                    .receipt
            }
            Post::Payment(r) => {
                commands
                    .record_payment(r)
                    .await
                    .unwrap()
                    .into_inner()
                    .receipt
            }
            Post::Limit(r) => {
                commands
                    .change_credit_limit(r)
                    .await
                    .unwrap()
                    .into_inner()
                    .receipt
            }
            Post::Promise(r) => {
                commands
                    .record_promise_to_pay(r)
                    .await
                    .unwrap()
                    .into_inner()
                    .receipt
            }
        };
        last = receipt.expect("a receipt").position;
    }
    last
}

fn first_history() -> Vec<Post> {
    vec![
        Post::Limit(credit_limit("A", "5000", pb::CreditPolicy::Warn)),
        Post::Invoice(invoice(
            "A",
            "SUB-1",
            "INV-A1",
            "1000",
            "2026-01-05",
            "2026-02-04",
        )),
        Post::Invoice(invoice(
            "A",
            "SUB-1",
            "INV-A2",
            "2000",
            "2026-02-10",
            "2026-03-12",
        )),
        Post::Invoice(invoice(
            "B",
            "SUB-2",
            "INV-B1",
            "3000",
            "2026-01-20",
            "2026-02-19",
        )),
        Post::Invoice(invoice(
            "B",
            "SUB-2",
            "INV-B2",
            "500",
            "2026-03-01",
            "2026-03-31",
        )),
        Post::Promise(promise("B", "SUB-2", "1000", "2026-03-01", "2026-03-10")),
    ]
}

fn second_history() -> Vec<Post> {
    vec![
        Post::Payment(payment("A", "SUB-1", "600", "2026-02-01")),
        Post::Payment(payment("B", "SUB-2", "3000", "2026-03-05")),
        Post::Invoice(invoice(
            "A",
            "SUB-1",
            "INV-A3",
            "700",
            "2026-03-20",
            "2026-04-19",
        )),
        Post::Invoice(invoice(
            "C",
            "SUB-1",
            "INV-C1",
            "1500",
            "2026-02-01",
            "2026-03-03",
        )),
    ]
}

fn aging_request(as_of: &str, min_position: u64) -> pb::GetAgingReportRequest {
    pb::GetAgingReportRequest {
        scope: Some(pb::AgingScope {
            as_of: as_of.to_owned(),
            ..Default::default()
        }),
        group_by: pb::AgingGroupBy::Customer.into(),
        min_position,
    }
}

fn exposures_request(min_position: u64) -> pb::ListExposuresRequest {
    pb::ListExposuresRequest {
        as_of: LATE.to_owned(),
        min_position,
        ..Default::default()
    }
}

fn work_queue_request(min_position: u64) -> pb::GetWorkQueueRequest {
    pb::GetWorkQueueRequest {
        as_of: LATE.to_owned(),
        include_snoozed: true,
        min_position,
        ..Default::default()
    }
}

/// The metrics of the first quarter, to the late date's month.
fn metrics_request(min_position: u64) -> pb::GetMetricsRequest {
    pb::GetMetricsRequest {
        from: "2026-01-01".to_owned(),
        to: LATE.to_owned(),
        min_position,
        ..Default::default()
    }
}

/// Every report the test compares, as one service answered it.
#[derive(Debug, Clone, PartialEq)]
struct Reports {
    aging_early: pb::GetAgingReportResponse,
    aging_late: pb::GetAgingReportResponse,
    exposures: pb::ListExposuresResponse,
    work_queue: pb::GetWorkQueueResponse,
    metrics: pb::GetMetricsResponse,
}

impl Reports {
    /// The live reports, once the read model has applied `position`.
    async fn live(queries: &mut Queries, metrics: &mut Metrics, position: u64) -> Reports {
        let reports = Reports {
            aging_early: queries
                .get_aging_report(aging_request(EARLY, position))
                .await
                .unwrap()
                .into_inner(),
            aging_late: queries
                .get_aging_report(aging_request(LATE, position))
                .await
                .unwrap()
                .into_inner(),
            exposures: queries
                .list_exposures(exposures_request(position))
                .await
                .unwrap()
                .into_inner(),
            work_queue: queries
                .get_work_queue(work_queue_request(position))
                .await
                .unwrap()
                .into_inner(),
            metrics: metrics
                .get_metrics(metrics_request(position))
                .await
                .unwrap()
                .into_inner(),
        };
        assert!(reports.aging_early.position >= position, "read your writes");
        reports
    }

    /// The reports as known at `known_at`, asked with the same inner requests (their
    /// `min_position`, far ahead of anything, is not used).
    async fn as_known(audit: &mut Audit, known_at: SystemTime) -> Reports {
        let known_at = Some(known_at.into());
        let ahead = u64::MAX;
        Reports {
            aging_early: audit
                .get_aging_report_as_known(pb::GetAgingReportAsKnownRequest {
                    known_at,
                    report: Some(aging_request(EARLY, ahead)),
                })
                .await
                .unwrap()
                .into_inner(),
            aging_late: audit
                .get_aging_report_as_known(pb::GetAgingReportAsKnownRequest {
                    known_at,
                    report: Some(aging_request(LATE, ahead)),
                })
                .await
                .unwrap()
                .into_inner(),
            exposures: audit
                .list_exposures_as_known(pb::ListExposuresAsKnownRequest {
                    known_at,
                    report: Some(exposures_request(ahead)),
                })
                .await
                .unwrap()
                .into_inner(),
            work_queue: audit
                .get_work_queue_as_known(pb::GetWorkQueueAsKnownRequest {
                    known_at,
                    report: Some(work_queue_request(ahead)),
                })
                .await
                .unwrap()
                .into_inner(),
            metrics: audit
                .get_metrics_as_known(pb::GetMetricsAsKnownRequest {
                    known_at,
                    report: Some(metrics_request(ahead)),
                })
                .await
                .unwrap()
                .into_inner(),
        }
    }

    /// The positions of the five answers.
    fn positions(&self) -> [u64; 5] {
        [
            self.aging_early.position,
            self.aging_late.position,
            self.exposures.position,
            self.work_queue.position,
            self.metrics.position,
        ]
    }

    /// The answers without their `position`, which says how far the answering model had read,
    /// not what the report is.
    fn figures(&self) -> Reports {
        let mut figures = self.clone();
        figures.aging_early.position = 0;
        figures.aging_late.position = 0;
        figures.exposures.position = 0;
        figures.work_queue.position = 0;
        figures.metrics.position = 0;
        figures
    }
}

/// An aging report as (group, [current, 1-30, 31-60, 61-90, 91-120, over 120] amounts).
fn buckets(report: &pb::GetAgingReportResponse) -> Vec<(String, Vec<String>)> {
    report
        .lines
        .iter()
        .map(|line| {
            (
                line.group.clone(),
                line.buckets
                    .iter()
                    .map(|b| b.amount.as_ref().unwrap().amount.clone())
                    .collect(),
            )
        })
        .collect()
}

fn line(group: &str, amounts: [&str; 6]) -> (String, Vec<String>) {
    (
        group.to_owned(),
        amounts.iter().map(|a| (*a).to_owned()).collect(),
    )
}

/// Runs `receivables audit report ...` in-process and returns what it prints.
async fn cli(service: &TestAllInOne, report: report::Report) -> String {
    let command = ClientCommand::Audit(AuditCommand::Report(report::ReportArgs { report }));
    let mut out = Vec::new();
    receivables_cli::run(&Connection::to(service.url()), command, &mut out)
        .await
        .unwrap();
    String::from_utf8(out).unwrap()
}

/// `aging --as-of <as_of>` with every other flag at its default.
fn aging_args(as_of: &str) -> AgingArgs {
    AgingArgs {
        as_of: Some(as_of.to_owned()),
        group_by: aging::GroupBy::Customer,
        basis: aging::Basis::DueDate,
        subsidiary: None,
        customer: None,
        currency: None,
        edges: Vec::new(),
        read: ReadArgs { min_position: 0 },
    }
}

/// `exposure --as-of <LATE> [--customer <customer>]`.
fn exposure_args(customer: Option<&str>) -> ExposureArgs {
    ExposureArgs {
        customer: customer.map(str::to_owned),
        as_of: Some(LATE.to_owned()),
        over_limit: false,
        sort: exposure::Sort::Utilisation,
        min_utilisation: None,
        currency: None,
        limit: None,
        read: ReadArgs { min_position: 0 },
    }
}

/// `queue --as-of <LATE> --include-snoozed`.
fn queue_args() -> QueueArgs {
    QueueArgs {
        as_of: Some(LATE.to_owned()),
        collector: None,
        include_snoozed: true,
        grace_days: None,
        weight_amount: None,
        weight_days: None,
        weight_broken_promise: None,
        weight_since_contact: None,
        limit: None,
        read: ReadArgs { min_position: 0 },
    }
}

async fn audit_client(service: &TestAllInOne) -> Audit {
    AuditServiceClient::connect(service.url()).await.unwrap()
}

async fn reports_as_known_at_a_past_moment_are_the_live_reports_of_that_moment(backends: Backends) {
    init_logging();
    let Some(data) = TestData::create(backends).await else {
        return;
    };
    let service = TestAllInOne::start(&data).await;
    let mut commands = service.commands().await;
    let mut queries = service.queries().await;
    let mut metrics = Metrics::new(service.channel().await);
    let mut audit = audit_client(&service).await;

    let first = post(&mut commands, first_history()).await;
    let then = Reports::live(&mut queries, &mut metrics, first).await;
    tokio::time::sleep(BOUNDARY_GAP).await;
    let noted = chrono::Utc::now();
    let known_at = SystemTime::from(noted);
    tokio::time::sleep(BOUNDARY_GAP).await;
    let last = post(&mut commands, second_history()).await;
    let now = Reports::live(&mut queries, &mut metrics, last).await;

    // The figures worked out by hand (module docs), as the live projector saw them then.
    assert_eq!(
        buckets(&then.aging_early),
        vec![
            line("A", ["2000.00", "1000.00", "0.00", "0.00", "0.00", "0.00"]),
            line("B", ["3000.00", "0.00", "0.00", "0.00", "0.00", "0.00"]),
        ]
    );
    assert_eq!(
        buckets(&then.aging_late),
        vec![
            line("A", ["0.00", "0.00", "2000.00", "1000.00", "0.00", "0.00"]),
            line("B", ["0.00", "500.00", "3000.00", "0.00", "0.00", "0.00"]),
        ]
    );
    // The payment received on 02-01 changed the past: as of 02-15, A's INV-A1 is open 400.00.
    assert_eq!(
        buckets(&now.aging_early)[0],
        line("A", ["2000.00", "400.00", "0.00", "0.00", "0.00", "0.00"])
    );
    assert_ne!(
        then.figures(),
        now.figures(),
        "the second history changes every report"
    );
    assert_ne!(then.exposures.lines, now.exposures.lines);
    assert_ne!(then.work_queue.items, now.work_queue.items);
    // A: limit 5000, exposure 3000 then.
    let a = then
        .exposures
        .lines
        .iter()
        .find(|l| l.customer_id == "A")
        .unwrap();
    assert_eq!(a.exposure.as_ref().unwrap().amount, "3000.00");
    assert_eq!(a.limit.as_ref().unwrap().amount, "5000.00");

    // As known at the moment: the saved live answers, every figure; read up to the first
    // history's last event and no further.
    let as_known_then = Reports::as_known(&mut audit, known_at).await;
    assert_eq!(as_known_then.figures(), then.figures());
    assert_eq!(as_known_then.positions(), [first; 5]);

    // As known now: the live answers now.
    let as_known_now = Reports::as_known(&mut audit, SystemTime::from(chrono::Utc::now())).await;
    assert_eq!(as_known_now.figures(), now.figures());
    assert_eq!(as_known_now.positions(), [last; 5]);

    // The command-line client prints the same tables as the live commands printed then.
    let mut then_at_first = then.clone();
    then_at_first.aging_early.position = first;
    assert_eq!(
        cli(
            &service,
            report::Report::Aging {
                known: report::KnownAt { known_at: noted },
                args: aging_args(EARLY),
            }
        )
        .await,
        tables::aging(&then_at_first.aging_early, Format::Table).unwrap()
    );
    let a_then: Vec<pb::Exposure> = then
        .exposures
        .lines
        .iter()
        .filter(|l| l.customer_id == "A")
        .cloned()
        .collect();
    assert_eq!(
        cli(
            &service,
            report::Report::Exposure {
                known: report::KnownAt { known_at: noted },
                args: exposure_args(Some("A")),
            }
        )
        .await,
        tables::exposures(&a_then, Format::Table).unwrap()
    );
    assert_eq!(
        cli(
            &service,
            report::Report::Queue {
                known: report::KnownAt { known_at: noted },
                args: queue_args(),
            }
        )
        .await,
        tables::work_queue(&then.work_queue.items, Format::Table).unwrap()
    );

    // The live read model was not touched: it still answers as before.
    assert_eq!(
        Reports::live(&mut queries, &mut metrics, last)
            .await
            .figures(),
        now.figures()
    );

    service.stop().await;
    data.remove().await;
}

async fn a_moment_before_the_first_event_knows_nothing_and_a_missing_one_is_refused(
    backends: Backends,
) {
    init_logging();
    let Some(data) = TestData::create(backends).await else {
        return;
    };
    let service = TestAllInOne::start(&data).await;
    let mut commands = service.commands().await;
    let mut audit = audit_client(&service).await;

    let before = SystemTime::from(chrono::Utc::now());
    tokio::time::sleep(BOUNDARY_GAP).await;
    post(&mut commands, first_history()).await;

    let empty = Reports::as_known(&mut audit, before).await;
    assert!(empty.aging_early.lines.is_empty(), "{empty:?}");
    assert!(empty.aging_late.lines.is_empty(), "{empty:?}");
    assert!(empty.exposures.lines.is_empty(), "{empty:?}");
    assert!(empty.work_queue.items.is_empty(), "{empty:?}");
    assert!(empty.metrics.currencies.is_empty(), "{empty:?}");
    assert_eq!(empty.positions(), [0; 5], "nothing applied");
    assert_eq!(empty.aging_early.as_of, EARLY);

    // No known_at: refused, the field named.
    let status = audit
        .get_aging_report_as_known(pb::GetAgingReportAsKnownRequest {
            known_at: None,
            report: Some(aging_request(EARLY, 0)),
        })
        .await
        .unwrap_err();
    assert_eq!(fields(&status), ["known_at"]);
    let status = audit
        .list_exposures_as_known(pb::ListExposuresAsKnownRequest {
            known_at: None,
            report: None,
        })
        .await
        .unwrap_err();
    assert_eq!(fields(&status), ["known_at"]);
    // Every bad field at once, the inner request's by their path from the outer one, checked
    // as the live query checks them.
    let status = audit
        .get_work_queue_as_known(pb::GetWorkQueueAsKnownRequest {
            known_at: None,
            report: Some(pb::GetWorkQueueRequest {
                as_of: "2026-02-30".to_owned(),
                ..Default::default()
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(fields(&status), ["known_at", "report.as_of"]);
    let status = audit
        .get_aging_report_as_known(pb::GetAgingReportAsKnownRequest {
            known_at: Some(SystemTime::now().into()),
            report: Some(pb::GetAgingReportRequest {
                scope: Some(pb::AgingScope {
                    bucket_edges_days: vec![60, 30],
                    ..Default::default()
                }),
                ..Default::default()
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(fields(&status), ["report.scope.bucket_edges_days"]);

    service.stop().await;
    data.remove().await;
}

/// Sets where the read model's kept history starts, as the migration that added it sets it on
/// a read model projected before it: every generation of the service's read model.
async fn history_kept_since(data: &TestData, position: u64) {
    let position = i64::try_from(position).unwrap();
    match &data.database {
        Some(database) => {
            let schemas: Vec<(String,)> = sqlx::query_as(
                "SELECT schema_name::TEXT FROM information_schema.schemata
                 WHERE schema_name LIKE 'read_model_%'",
            )
            .fetch_all(&database.pool)
            .await
            .unwrap();
            assert!(!schemas.is_empty(), "a generation's schema");
            for (schema,) in schemas {
                sqlx::query(&format!(
                    "UPDATE {schema}.known_history_since SET position = $1"
                ))
                .bind(position)
                .execute(&database.pool)
                .await
                .unwrap();
            }
        }
        None => {
            let mut files = 0;
            for entry in std::fs::read_dir(data.directory.path()).unwrap() {
                let path = entry.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                if !(name.starts_with("read-model-") && name.ends_with(".sqlite")) {
                    continue;
                }
                let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&path);
                let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
                sqlx::query("UPDATE known_history_since SET position = ?")
                    .bind(position)
                    .execute(&pool)
                    .await
                    .unwrap();
                pool.close().await;
                files += 1;
            }
            assert!(files > 0, "a generation's file");
        }
    }
}

async fn a_moment_before_the_history_a_read_model_keeps_is_refused_until_it_is_rebuilt(
    backends: Backends,
) {
    init_logging();
    let Some(data) = TestData::create(backends).await else {
        return;
    };
    let service = TestAllInOne::start(&data).await;
    let mut commands = service.commands().await;
    let mut audit = audit_client(&service).await;
    let before = SystemTime::from(chrono::Utc::now());
    tokio::time::sleep(BOUNDARY_GAP).await;
    let first = post(&mut commands, first_history()).await;
    tokio::time::sleep(BOUNDARY_GAP).await;
    let between = SystemTime::from(chrono::Utc::now());
    tokio::time::sleep(BOUNDARY_GAP).await;
    let last = post(&mut commands, second_history()).await;

    // Given a read model that kept superseded values only from the second history on (as one
    // projected before it kept them and upgraded there)
    history_kept_since(&data, first + 1).await;

    // When a report is asked as known between the two histories: refused, the position named
    let status = audit
        .get_aging_report_as_known(pb::GetAgingReportAsKnownRequest {
            known_at: Some(between.into()),
            report: Some(aging_request(EARLY, 0)),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    let details = status.get_error_details();
    let info = details.error_info().expect("ErrorInfo");
    assert_eq!(info.reason, "HISTORY_NOT_KEPT");
    assert_eq!(info.metadata["known_position"], first.to_string());
    assert_eq!(info.metadata["history_since"], (first + 1).to_string());
    let violations = &details
        .precondition_failure()
        .expect("PreconditionFailure")
        .violations;
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0].subject, "known_at");

    // Then known now, and known before the first event, it answers
    let now = Reports::as_known(&mut audit, SystemTime::now()).await;
    assert_eq!(now.positions(), [last; 5]);
    let empty = Reports::as_known(&mut audit, before).await;
    assert_eq!(empty.positions(), [0; 5]);

    // And once the read model is rebuilt (keeping every value from the first event), the
    // moment between the histories is answered again, at the first history's last position
    let mut admin = service.admin().await;
    admin
        .rebuild_read_model(pb::RebuildReadModelRequest::default())
        .await
        .unwrap();
    let between = Reports::as_known(&mut audit, between).await;
    assert_eq!(between.positions(), [first; 5]);

    service.stop().await;
    data.remove().await;
}

/// The fields an `INVALID_ARGUMENT` status names.
fn fields(status: &tonic::Status) -> Vec<String> {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    status
        .get_error_details()
        .bad_request()
        .expect("BadRequest")
        .field_violations
        .iter()
        .map(|v| v.field.clone())
        .collect()
}

on_both_backends!(
    reports_as_known_at_a_past_moment_are_the_live_reports_of_that_moment,
    a_moment_before_the_first_event_knows_nothing_and_a_missing_one_is_refused,
    a_moment_before_the_history_a_read_model_keeps_is_refused_until_it_is_rebuilt,
);
