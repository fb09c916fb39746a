//! Reading a refusal back from its gRPC status: the code, `ErrorInfo` (reason, domain,
//! metadata), `BadRequest` field violations and `PreconditionFailure` violations, each asserted
//! as the contract says; and the dates relative to the real day that the rules about the
//! service's own date need. Shared by the bad-input tests of every command.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use receivables_api::pb;
use receivables_api::pb::command_service_client::CommandServiceClient;
use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_types::{FieldViolation, PreconditionViolation, StatusExt};

/// The `ErrorInfo.domain` of every refusal.
pub const ERROR_DOMAIN: &str = "receivables.v1";

/// The UTC date `days` after today, `YYYY-MM-DD`, worked out from the clock without the code
/// under test (Howard Hinnant's civil_from_days).
pub fn date_from_today(days: i64) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970");
    let z = i64::try_from(now.as_secs()).expect("seconds fit in i64") / 86_400 + days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// Asserts an `INVALID_ARGUMENT` / `INVALID_COMMAND` refusal and returns its field violations.
pub fn field_violations(status: &Status) -> Vec<FieldViolation> {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let details = status.get_error_details();
    let info = details.error_info().expect("ErrorInfo");
    assert_eq!(info.reason, "INVALID_COMMAND", "{status:?}");
    assert_eq!(info.domain, ERROR_DOMAIN);
    // Bad fields carry no figures: every figure of the refusal is in its violations.
    assert!(info.metadata.is_empty(), "{:?}", info.metadata);
    assert!(details.precondition_failure().is_none(), "{status:?}");
    let violations = details
        .bad_request()
        .expect("BadRequest")
        .field_violations
        .clone();
    assert!(!violations.is_empty(), "{status:?}");
    violations
}

/// Asserts an `INVALID_ARGUMENT` refusal with exactly one field violation, and returns it.
pub fn single_field_violation(status: &Status) -> FieldViolation {
    let mut violations = field_violations(status);
    assert_eq!(violations.len(), 1, "{violations:?}");
    violations.remove(0)
}

/// Asserts a refusal with `code` and `ErrorInfo.reason`, and returns the metadata.
pub fn error_metadata(status: &Status, code: Code, reason: &str) -> HashMap<String, String> {
    assert_eq!(status.code(), code, "{status:?}");
    let details = status.get_error_details();
    let info = details.error_info().expect("ErrorInfo");
    assert_eq!(info.reason, reason, "{status:?}");
    assert_eq!(info.domain, ERROR_DOMAIN);
    assert!(details.bad_request().is_none(), "{status:?}");
    info.metadata.clone()
}

/// Asserts a `FAILED_PRECONDITION` refusal with `reason` and exactly one violation of that
/// type; returns the violation and the metadata.
pub fn single_precondition_violation(
    status: &Status,
    reason: &str,
) -> (PreconditionViolation, HashMap<String, String>) {
    let metadata = error_metadata(status, Code::FailedPrecondition, reason);
    let details = status.get_error_details();
    let failure = details.precondition_failure().expect("PreconditionFailure");
    assert_eq!(failure.violations.len(), 1, "{:?}", failure.violations);
    let violation = failure.violations[0].clone();
    assert_eq!(violation.r#type, reason);
    (violation, metadata)
}

/// [`single_precondition_violation`], about `subject`.
pub fn precondition_refused(
    status: &Status,
    reason: &str,
    subject: &str,
) -> (PreconditionViolation, HashMap<String, String>) {
    let (violation, metadata) = single_precondition_violation(status, reason);
    assert_eq!(violation.subject, subject, "{violation:?}");
    (violation, metadata)
}

/// Asserts that the receipt `again` is the first receipt `first` replayed: same event, same
/// position, same time.
pub fn assert_replayed(first: Option<&pb::CommandReceipt>, again: Option<&pb::CommandReceipt>) {
    let first = first.expect("a receipt");
    let again = again.expect("a receipt");
    assert!(!first.replayed, "{first:?}");
    assert!(again.replayed, "{again:?}");
    assert_eq!(again.event_id, first.event_id);
    assert_eq!(again.position, first.position);
    assert_eq!(again.recorded_at, first.recorded_at);
}

/// A command service on a JetStream server of its own, for the bad-input tests of a command:
/// each sends one request that must be refused and checks that nothing was appended.
pub struct RefusalWorld {
    pub client: CommandServiceClient<Channel>,
    _service: crate::TestService,
    nats: crate::NatsServer,
}

impl RefusalWorld {
    /// Starts a server and a service; `None` (loudly) when no `nats-server` is available
    /// outside CI.
    pub async fn start() -> Option<RefusalWorld> {
        crate::init_logging();
        let nats = crate::NatsServer::start_default().await?;
        let service = crate::TestService::start(&nats.url()).await;
        let client = service.client().await;
        Some(RefusalWorld {
            client,
            _service: service,
            nats,
        })
    }

    /// The stream's last position.
    pub async fn position(&self) -> u64 {
        crate::last_sequence(&self.nats.url()).await
    }

    /// Awaits `call` (made with a clone of [`RefusalWorld::client`]), which must be refused,
    /// and checks that the stream did not grow.
    pub async fn refused<T: std::fmt::Debug>(
        &self,
        call: impl Future<Output = Result<tonic::Response<T>, Status>>,
    ) -> Status {
        let before = self.position().await;
        let status = call.await.expect_err("a bad command was accepted");
        assert_eq!(self.position().await, before, "a refused command appended");
        status
    }
}
