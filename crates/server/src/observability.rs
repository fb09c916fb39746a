//! Metrics for operators: every series the services record, named once here, the Prometheus
//! endpoint (`--metrics-listen`) and the layer that times every gRPC call.
//!
//! The services record through the `metrics` facade, which costs next to nothing while no
//! recorder is installed (tests in one process, the CLI); `install` puts in the Prometheus
//! exporter and its own HTTP listener, which answers `GET /metrics` in the text format. The
//! endpoint has neither TLS nor tokens, like Prometheus endpoints generally: bind it to an
//! address only the monitoring network reaches (it shows counts and timings, never an amount,
//! a customer or a token).
//!
//! Labels are bounded: RPCs by the contract's own list of services and methods (a path outside
//! it is `other`), outcomes and refusal reasons by the code's enums, projections by name.
//! Durations are histograms with the buckets below, so that they add up across instances.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::LazyLock;
use std::task::{Context, Poll};
use std::time::Instant;

use anyhow::Context as _;
use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
use prost::Message as _;
use receivables_api::pb;
use tonic::codegen::http::{Request, Response};
use tower::{Layer, Service};

/// Every series, by name.
pub mod series {
    /// Histogram of gRPC calls by `service`, `method` and `code` (the gRPC status, `OK` for a
    /// stream that started): request to response headers.
    pub const RPC_SECONDS: &str = "receivables_rpc_seconds";
    /// Counter of commands by `command` and `outcome` (`accepted`, `replayed`, `refused`,
    /// `invalid`, `denied`, `unavailable`, `contended`, `inconsistent`, `deadline`).
    pub const COMMANDS: &str = "receivables_commands_total";
    /// Counter of refusals by `command` and `reason` (the `ErrorInfo` reason).
    pub const REFUSALS: &str = "receivables_refusals_total";
    /// Counter of appends that found the customer's history moved (another instance
    /// appended): each is decided again.
    pub const CONFLICTS: &str = "receivables_conflicts_total";
    /// Counter of accounts taken for a command by `source`: `cache` (held in memory), `snapshot`
    /// (restored from a snapshot and the events after it) or `events` (loaded from its events).
    pub const ACCOUNTS: &str = "receivables_accounts_total";
    /// Gauge of the account cache's weight in bytes: each account's estimated bytes, or its
    /// share of the bound (the bytes over the customers) when that is more.
    pub const ACCOUNT_CACHE_BYTES: &str = "receivables_account_cache_bytes";
    /// Histogram of appends to the event log by `kind` (`one` event, a `run` of one customer's
    /// events): the command service's wait for the log.
    pub const LOG_APPEND_SECONDS: &str = "receivables_log_append_seconds";
    /// Histogram of the commands decided in one run of a customer's queue.
    pub const RUN_COMMANDS: &str = "receivables_run_commands";
    /// Counter of alerts emitted, by `kind`.
    pub const ALERTS: &str = "receivables_alerts_emitted_total";
    /// Gauge: the log's last position, sampled by the read side.
    pub const LOG_POSITION: &str = "receivables_log_position";
    pub use receivables_projections::runtime::series::{
        PROJECTOR_BATCH_EVENTS, PROJECTOR_BATCH_SECONDS, PROJECTOR_EVENTS, PROJECTOR_LAG_POSITIONS,
        PROJECTOR_LAG_SECONDS, PROJECTOR_POSITION, REBUILD_EVENTS,
    };
}

/// Buckets of every `_seconds` histogram: 100 µs to 60 s.
const SECONDS_BUCKETS: [f64; 16] = [
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
    15.0, 60.0,
];

/// Buckets of the histograms of sizes (events in a batch, commands in a run).
const SIZE_BUCKETS: [f64; 10] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 1024.0];

/// Starts the Prometheus endpoint on `listen` and makes it the recorder of this process. Called
/// once, before the services start.
pub fn install(listen: SocketAddr) -> anyhow::Result<()> {
    PrometheusBuilder::new()
        .with_http_listener(listen)
        .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), &SECONDS_BUCKETS)
        .and_then(|builder| {
            builder.set_buckets_for_metric(Matcher::Suffix("_events".to_owned()), &SIZE_BUCKETS)
        })
        .and_then(|builder| {
            builder.set_buckets_for_metric(Matcher::Suffix("_commands".to_owned()), &SIZE_BUCKETS)
        })
        .context("the metrics' buckets were refused")?
        .install()
        .with_context(|| format!("cannot serve metrics on {listen}"))?;
    describe();
    Ok(())
}

/// The help line and unit of every series.
fn describe() {
    use series::*;
    describe_histogram!(
        RPC_SECONDS,
        Unit::Seconds,
        "gRPC calls by service, method and status code"
    );
    describe_counter!(COMMANDS, "Commands by command and outcome");
    describe_counter!(REFUSALS, "Commands refused, by command and reason");
    describe_counter!(
        CONFLICTS,
        "Appends that found the customer's history moved and were decided again"
    );
    describe_counter!(
        ACCOUNTS,
        "Accounts taken for a command, by where they came from"
    );
    describe_gauge!(
        ACCOUNT_CACHE_BYTES,
        Unit::Bytes,
        "The account cache's weight: each account's estimated bytes, at least its share of the bound"
    );
    describe_histogram!(
        LOG_APPEND_SECONDS,
        Unit::Seconds,
        "Appends to the event log, by kind"
    );
    describe_histogram!(
        RUN_COMMANDS,
        Unit::Count,
        "Commands of one customer decided in one run"
    );
    describe_counter!(ALERTS, "Alerts emitted, by kind");
    describe_gauge!(
        LOG_POSITION,
        "The event log's last position, as the read side last saw it"
    );
    describe_gauge!(
        PROJECTOR_POSITION,
        "The position every projection has applied"
    );
    describe_gauge!(
        PROJECTOR_LAG_POSITIONS,
        "Events in the log the projector has not applied"
    );
    describe_gauge!(
        PROJECTOR_LAG_SECONDS,
        Unit::Seconds,
        "How long ago the newest applied event was recorded, when the projector last applied a batch"
    );
    describe_counter!(PROJECTOR_EVENTS, "Events the projector applied");
    describe_histogram!(
        PROJECTOR_BATCH_EVENTS,
        Unit::Count,
        "Events in one batch the projector applied"
    );
    describe_histogram!(
        PROJECTOR_BATCH_SECONDS,
        Unit::Seconds,
        "Time to apply and commit one batch"
    );
    describe_gauge!(
        REBUILD_EVENTS,
        "Events the running rebuild of the read model has applied"
    );
}

/// A command's outcome, as the `outcome` label says it.
pub fn command_outcome(command: &'static str, outcome: &'static str) {
    metrics::counter!(series::COMMANDS, "command" => command, "outcome" => outcome).increment(1);
}

/// A refusal of `command` for `reason`, and its outcome.
pub fn command_refused(command: &'static str, outcome: &'static str, reason: &'static str) {
    command_outcome(command, outcome);
    metrics::counter!(series::REFUSALS, "command" => command, "reason" => reason).increment(1);
}

// ---------------------------------------------------------------------------------------------
// Every gRPC call, timed
// ---------------------------------------------------------------------------------------------

/// The RPCs of the contract (and of the health service) by path, with their labels: made once
/// and kept for the process's life, so that a call's labels are not allocated again.
static RPCS: LazyLock<HashMap<String, (&'static str, &'static str)>> = LazyLock::new(|| {
    let mut rpcs = HashMap::new();
    let mut add = |package: &str, service: &str, method: &str| {
        rpcs.insert(
            format!("/{package}.{service}/{method}"),
            (
                service.to_owned().leak() as &str,
                method.to_owned().leak() as &str,
            ),
        );
    };
    if let Ok(set) = prost_types::FileDescriptorSet::decode(pb::FILE_DESCRIPTOR_SET) {
        for file in &set.file {
            for service in &file.service {
                for method in &service.method {
                    add(file.package(), service.name(), method.name());
                }
            }
        }
    }
    add("grpc.health.v1", "Health", "Check");
    add("grpc.health.v1", "Health", "Watch");
    rpcs
});

/// The `service` and `method` labels of a call to `path`: `other` for a path outside the
/// contract (reflection, a mistyped or hostile one), so that a client cannot make new series.
fn rpc_labels(path: &str) -> (&'static str, &'static str) {
    RPCS.get(path).copied().unwrap_or(("other", "other"))
}

/// The canonical name of a gRPC status code, as in `grpc-status`.
fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code::*;
    match code {
        Ok => "OK",
        Cancelled => "CANCELLED",
        Unknown => "UNKNOWN",
        InvalidArgument => "INVALID_ARGUMENT",
        DeadlineExceeded => "DEADLINE_EXCEEDED",
        NotFound => "NOT_FOUND",
        AlreadyExists => "ALREADY_EXISTS",
        PermissionDenied => "PERMISSION_DENIED",
        ResourceExhausted => "RESOURCE_EXHAUSTED",
        FailedPrecondition => "FAILED_PRECONDITION",
        Aborted => "ABORTED",
        OutOfRange => "OUT_OF_RANGE",
        Unimplemented => "UNIMPLEMENTED",
        Internal => "INTERNAL",
        Unavailable => "UNAVAILABLE",
        DataLoss => "DATA_LOSS",
        Unauthenticated => "UNAUTHENTICATED",
    }
}

/// The status of a response: in its headers when the call ended at once (every error of a
/// unary call), `OK` otherwise (a unary reply, whose status follows in the trailers, or a
/// stream that started).
fn status_of<B>(response: &Response<B>) -> &'static str {
    let code = response
        .headers()
        .get("grpc-status")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<i32>().ok())
        .map_or(tonic::Code::Ok, tonic::Code::from_i32);
    code_name(code)
}

/// Times every call of the services beneath it ([`series::RPC_SECONDS`]); outermost, so that
/// calls refused by the token gate count too.
#[derive(Debug, Clone, Copy, Default)]
pub struct RpcMetricsLayer;

impl<S> Layer<S> for RpcMetricsLayer {
    type Service = RpcMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RpcMetrics { inner }
    }
}

#[derive(Debug, Clone)]
pub struct RpcMetrics<S> {
    inner: S,
}

impl<S, B, ResBody> Service<Request<B>> for RpcMetrics<S>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future =
        Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send + 'static>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let (service, method) = rpc_labels(request.uri().path());
        let started = Instant::now();
        let call = self.inner.call(request);
        Box::pin(async move {
            let result = call.await;
            let code = match &result {
                Ok(response) => status_of(response),
                Err(_) => "INTERNAL",
            };
            metrics::histogram!(
                series::RPC_SECONDS,
                "service" => service,
                "method" => method,
                "code" => code
            )
            .record(started.elapsed().as_secs_f64());
            result
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contracts_rpcs_are_labelled_and_any_other_path_is_other() {
        assert_eq!(
            rpc_labels("/receivables.v1.CommandService/IssueInvoice"),
            ("CommandService", "IssueInvoice")
        );
        assert_eq!(
            rpc_labels("/receivables.v1.QueryService/GetAgingReport"),
            ("QueryService", "GetAgingReport")
        );
        assert_eq!(
            rpc_labels("/grpc.health.v1.Health/Check"),
            ("Health", "Check")
        );
        for path in [
            "/receivables.v1.CommandService/DropDatabase",
            "/receivables.v1.CommandService/IssueInvoice/x",
            "/",
            "",
        ] {
            assert_eq!(rpc_labels(path), ("other", "other"), "{path}");
        }
    }

    #[test]
    fn a_status_in_the_headers_is_the_calls_code_and_none_is_ok() {
        let ended = Response::builder()
            .header("grpc-status", "6")
            .body(())
            .unwrap_or_default();
        assert_eq!(status_of(&ended), "ALREADY_EXISTS");
        let replied = Response::new(());
        assert_eq!(status_of(&replied), "OK");
    }
}
