//! Where the client connects and how it prints: the global options of every client subcommand,
//! and the gRPC channels made from them.
//!
//! The command and query services may run in one process (the all-in-one server) or apart (the
//! split deployment); `--query-server` names the second when it is elsewhere.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use receivables_api::pb::admin_service_client::AdminServiceClient;
use receivables_api::pb::audit_service_client::AuditServiceClient;
use receivables_api::pb::command_service_client::CommandServiceClient;
use receivables_api::pb::metrics_service_client::MetricsServiceClient;
use receivables_api::pb::query_service_client::QueryServiceClient;
use receivables_api::pb::receipt_service_client::ReceiptServiceClient;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

use crate::error::{CliError, root_cause};
use crate::sheet::Format;

/// The address of a service started with its defaults on this machine.
pub const SERVER_DEFAULT: &str = "http://127.0.0.1:50051";

/// How long to wait for a TCP (and HTTP/2) connection before reporting the service unreachable.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The deadline of each call unless `--timeout` says otherwise. Queries use it as the longest
/// wait for `--min-position`.
pub const REQUEST_TIMEOUT_SECS_DEFAULT: u64 = 10;

/// The longest deadline `--timeout` accepts.
pub const REQUEST_TIMEOUT_SECS_MAX: u64 = 3_600;

/// Where the client connects, and how it prints.
#[derive(Debug, Clone, clap::Args)]
pub struct Connection {
    /// gRPC address of the service (all-in-one, or the command service in the split
    /// deployment).
    #[arg(
        long,
        env = "RECEIVABLES_SERVER",
        default_value = SERVER_DEFAULT,
        global = true,
        value_name = "URL"
    )]
    pub server: String,

    /// gRPC address of the query service when it runs separately (default: --server).
    #[arg(
        long,
        env = "RECEIVABLES_QUERY_SERVER",
        global = true,
        value_name = "URL"
    )]
    pub query_server: Option<String>,

    /// Output format: aligned tables for people, CSV or one JSON document for programs.
    #[arg(long, value_enum, default_value_t = Format::Table, global = true)]
    pub format: Format,

    /// Deadline of each call in seconds (queries wait up to it for --min-position).
    #[arg(
        long = "timeout",
        value_name = "SECONDS",
        default_value_t = REQUEST_TIMEOUT_SECS_DEFAULT,
        global = true,
        value_parser = clap::value_parser!(u64).range(1..=REQUEST_TIMEOUT_SECS_MAX)
    )]
    pub timeout_secs: u64,

    /// Bearer token of the caller (from `receivables tokens create`); sent with every call.
    #[arg(
        long,
        env = "RECEIVABLES_TOKEN",
        hide_env_values = true,
        global = true,
        value_name = "TOKEN"
    )]
    pub token: Option<String>,

    /// PEM certificate of the CA that signed the server's certificate (for `https://` servers
    /// with a private CA; default: the public web roots).
    #[arg(long, env = "RECEIVABLES_CA_CERT", global = true, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,

    /// PEM certificate this client presents, for servers that require client certificates.
    #[arg(
        long,
        env = "RECEIVABLES_CLIENT_CERT",
        global = true,
        value_name = "FILE",
        requires = "client_key"
    )]
    pub client_cert: Option<PathBuf>,

    /// PEM private key of --client-cert.
    #[arg(
        long,
        env = "RECEIVABLES_CLIENT_KEY",
        global = true,
        value_name = "FILE",
        requires = "client_cert"
    )]
    pub client_key: Option<PathBuf>,
}

/// A channel that sends the caller's bearer token with every call.
pub type AuthChannel = InterceptedService<Channel, BearerToken>;

/// Adds `authorization: Bearer <token>` to every call when a token was given.
#[derive(Clone)]
pub struct BearerToken(Option<MetadataValue<Ascii>>);

impl BearerToken {
    fn new(token: Option<&str>) -> Result<BearerToken, CliError> {
        token
            .map(|token| {
                format!("Bearer {}", token.trim())
                    .parse::<MetadataValue<Ascii>>()
                    .map_err(|_| {
                        CliError::Usage("the token holds characters a header cannot carry".into())
                    })
            })
            .transpose()
            .map(BearerToken)
    }
}

impl std::fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the token itself.
        f.write_str(if self.0.is_some() {
            "BearerToken(<redacted>)"
        } else {
            "BearerToken(none)"
        })
    }
}

impl Interceptor for BearerToken {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

impl Connection {
    /// A connection to `server` (both services there) with the default format and timeout.
    pub fn to(server: impl Into<String>) -> Connection {
        Connection {
            server: server.into(),
            query_server: None,
            format: Format::Table,
            timeout_secs: REQUEST_TIMEOUT_SECS_DEFAULT,
            token: None,
            ca_cert: None,
            client_cert: None,
            client_key: None,
        }
    }

    /// The address of the command service.
    pub fn command_address(&self) -> String {
        normalise(&self.server)
    }

    /// The address of the query service.
    pub fn query_address(&self) -> String {
        normalise(self.query_server.as_deref().unwrap_or(&self.server))
    }

    /// The deadline of each call.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }

    /// A connected command-service client.
    pub async fn commands(&self) -> Result<Commands, CliError> {
        let address = self.command_address();
        let channel = self.channel(&address).await?;
        Ok(Commands {
            client: CommandServiceClient::new(channel),
            address,
            timeout: self.timeout(),
        })
    }

    /// A connected receipt-service client (the all-in-one service's, at the command address).
    /// A statement's import and its matching take as long as the file is long: the calls get
    /// the service's own deadline, not `--timeout`.
    pub async fn receipts(&self) -> Result<Receipts, CliError> {
        let address = self.command_address();
        let channel = self.connect(&address, None).await?;
        Ok(Receipts {
            client: ReceiptServiceClient::new(channel)
                .max_encoding_message_size(RECEIPT_MESSAGE_BYTES_MAX),
            address,
            timeout: self.timeout(),
        })
    }

    /// A connected query-service client.
    pub async fn queries(&self) -> Result<Queries, CliError> {
        let address = self.query_address();
        let channel = self.channel(&address).await?;
        Ok(Queries {
            client: QueryServiceClient::new(channel),
            address,
            timeout: self.timeout(),
        })
    }

    /// A connected metrics-service client (the service that answers queries).
    pub async fn metrics(&self) -> Result<Metrics, CliError> {
        let address = self.query_address();
        let channel = self.channel(&address).await?;
        Ok(Metrics {
            client: MetricsServiceClient::new(channel),
            address,
            timeout: self.timeout(),
        })
    }

    /// A connected audit-service client (the service that answers queries). A replay or a walk
    /// of a long log takes as long as it takes, so its calls carry no deadline; the reports
    /// rebuilt as known at a past moment get `--timeout` per call, set by the caller.
    pub async fn audit(&self) -> Result<Audit, CliError> {
        let address = self.query_address();
        let channel = self.connect(&address, None).await?;
        Ok(Audit {
            client: AuditServiceClient::new(channel),
            address,
            timeout: self.timeout(),
        })
    }

    /// A connected admin-service client (the service that answers queries), with the
    /// `--timeout` deadline on every call.
    pub async fn admin(&self) -> Result<AdminServiceClient<AuthChannel>, CliError> {
        let address = self.query_address();
        Ok(AdminServiceClient::new(self.channel(&address).await?))
    }

    async fn channel(&self, address: &str) -> Result<AuthChannel, CliError> {
        self.connect(address, Some(self.timeout())).await
    }

    async fn connect(
        &self,
        address: &str,
        timeout: Option<Duration>,
    ) -> Result<AuthChannel, CliError> {
        let token = BearerToken::new(self.token.as_deref())?;
        let mut endpoint = Endpoint::from_shared(address.to_owned())
            .map_err(|e| CliError::Usage(format!("invalid server address {address:?}: {e}")))?
            .connect_timeout(CONNECT_TIMEOUT);
        if let Some(timeout) = timeout {
            endpoint = endpoint.timeout(timeout);
        }
        if address.starts_with("https://") {
            endpoint = endpoint.tls_config(self.tls()?).map_err(|error| {
                CliError::Usage(format!("cannot set up TLS: {}", root_cause(&error)))
            })?;
        } else if self.ca_cert.is_some() || self.client_cert.is_some() {
            return Err(CliError::Usage(format!(
                "--ca-cert and --client-cert need an https:// server address, not {address}"
            )));
        }
        let channel = endpoint
            .connect()
            .await
            .map_err(|error| CliError::Unreachable {
                address: address.to_owned(),
                cause: root_cause(&error),
            })?;
        Ok(InterceptedService::new(channel, token))
    }

    /// TLS settings from the flags: the private CA if given (else the public web roots), and
    /// the client's own certificate if given.
    fn tls(&self) -> Result<ClientTlsConfig, CliError> {
        let mut tls = ClientTlsConfig::new();
        match &self.ca_cert {
            Some(path) => tls = tls.ca_certificate(Certificate::from_pem(read_pem(path)?)),
            None => tls = tls.with_webpki_roots(),
        }
        if let (Some(cert), Some(key)) = (&self.client_cert, &self.client_key) {
            tls = tls.identity(Identity::from_pem(read_pem(cert)?, read_pem(key)?));
        }
        Ok(tls)
    }
}

fn read_pem(path: &std::path::Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path)
        .map_err(|error| CliError::Usage(format!("cannot read {}: {error}", path.display())))
}

/// `host:port` becomes `http://host:port`; an address with a scheme is kept as given.
fn normalise(address: &str) -> String {
    let address = address.trim();
    if address.contains("://") {
        address.to_owned()
    } else {
        format!("http://{address}")
    }
}

/// A request carrying the call's deadline in `grpc-timeout`, which the query service reads to
/// bound its wait for `min_position`.
fn request<T>(message: T, timeout: Duration) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.set_timeout(timeout);
    request
}

/// A connected client of one service that knows its address (for error messages) and the
/// `--timeout` deadline of its calls.
#[derive(Debug, Clone)]
pub struct Service<C> {
    pub client: C,
    pub address: String,
    timeout: Duration,
}

/// A command-service client.
pub type Commands = Service<CommandServiceClient<AuthChannel>>;

/// A query-service client.
pub type Queries = Service<QueryServiceClient<AuthChannel>>;

/// A receipt-service client.
pub type Receipts = Service<ReceiptServiceClient<AuthChannel>>;

/// The largest request the client sends the receipt service: a statement file the service
/// takes (its limit is checked there, with a precise refusal).
const RECEIPT_MESSAGE_BYTES_MAX: usize = 64 * 1024 * 1024;

/// A metrics-service client.
pub type Metrics = Service<MetricsServiceClient<AuthChannel>>;

/// An audit-service client. A replay or a walk of a long log takes as long as it takes: those
/// calls are made on `client` without the `--timeout` deadline of [`Service::request`].
pub type Audit = Service<AuditServiceClient<AuthChannel>>;

impl<C: Clone> Service<C> {
    /// A request carrying the `--timeout` deadline.
    pub fn request<T>(&self, message: T) -> tonic::Request<T> {
        request(message, self.timeout)
    }

    /// Maps a status of this service.
    pub fn error(&self, status: &tonic::Status) -> CliError {
        CliError::status(&self.address, status)
    }

    /// One call: `call(client, request)` with the `--timeout` deadline; its reply, or its
    /// status as an error of this service.
    pub async fn call<Req, Resp, Fut>(
        &self,
        message: Req,
        call: impl FnOnce(C, tonic::Request<Req>) -> Fut,
    ) -> Result<Resp, CliError>
    where
        Fut: Future<Output = Result<tonic::Response<Resp>, tonic::Status>>,
    {
        call(self.client.clone(), self.request(message))
            .await
            .map(tonic::Response::into_inner)
            .map_err(|status| self.error(&status))
    }

    /// Every page of a listing, up to `limit` rows: `request(page_size, page_token)` asked with
    /// `call`, each reply split by `rows` into its rows and the next page's token.
    pub async fn pages<Req, Resp, T, Fut>(
        &self,
        limit: Option<usize>,
        request: impl Fn(u32, String) -> Req,
        call: impl Fn(C, tonic::Request<Req>) -> Fut,
        rows: impl Fn(Resp) -> (Vec<T>, String),
    ) -> Result<Vec<T>, CliError>
    where
        Fut: Future<Output = Result<tonic::Response<Resp>, tonic::Status>>,
    {
        crate::paging::collect(limit, |size, token| {
            let message = request(size, token);
            let (call, rows) = (&call, &rows);
            async move { self.call(message, call).await.map(rows) }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_without_a_scheme_is_http() {
        assert_eq!(normalise("127.0.0.1:50051"), "http://127.0.0.1:50051");
        assert_eq!(normalise(" http://h:1 "), "http://h:1");
        let connection = Connection::to("h:1");
        assert_eq!(connection.query_address(), "http://h:1");
    }
}
