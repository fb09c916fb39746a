//! How every listener is secured: TLS with rustls (optionally requiring client certificates)
//! and the token gate, or, only when asked for with `--insecure`, neither.
//!
//! There is no half-way default: a listener started without `--tls-cert`/`--tls-key` and
//! without `--insecure` does not start, so that nobody serves financial data in plain text by
//! forgetting a flag.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use receivables_access::TokenStore;
use tonic::transport::server::ServerTlsConfig;
use tonic::transport::{Certificate, Server};
use tower::layer::util::{Identity, Stack};
use tower_http::auth::AsyncRequireAuthorizationLayer;
use tracing::{info, warn};

use crate::authentication::Gate;
use crate::config::SecurityArgs;
use crate::limits::CALLS_PER_CONNECTION_MAX;
use crate::observability::RpcMetricsLayer;

/// Printed to standard error and logged when a listener runs with `--insecure`.
pub const INSECURE_WARNING: &str = "WARNING: serving WITHOUT TLS AND WITHOUT TOKENS (--insecure): \
anyone who can reach this port can read every report and post for every subsidiary. Use this \
only for development, tests and demos on one machine.";

/// What every listener puts in front of its services: the call timed, then the token gate.
pub type Layers = Stack<AsyncRequireAuthorizationLayer<Gate>, Stack<RpcMetricsLayer, Identity>>;

/// The TLS settings and the gate of one listener.
#[derive(Clone)]
pub struct Security {
    tls: Option<ServerTlsConfig>,
    gate: Gate,
}

impl Security {
    /// From the flags. `tokens` opens the token store; it is not called with `--insecure`.
    pub async fn from_args<F, Fut>(args: &SecurityArgs, tokens: F) -> anyhow::Result<Security>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = anyhow::Result<Arc<dyn TokenStore>>>,
    {
        if args.insecure {
            eprintln!("{INSECURE_WARNING}");
            warn!("{INSECURE_WARNING}");
            return Ok(Security {
                tls: None,
                gate: Gate::Open,
            });
        }
        let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) else {
            bail!(
                "a listener needs --tls-cert and --tls-key (or --insecure, for development on \
                 one machine only)"
            );
        };
        let mut tls = ServerTlsConfig::new().identity(tonic::transport::Identity::from_pem(
            read_pem(cert, "--tls-cert")?,
            read_pem(key, "--tls-key")?,
        ));
        if let Some(ca) = &args.tls_client_ca {
            tls = tls.client_ca_root(Certificate::from_pem(read_pem(ca, "--tls-client-ca")?));
        }
        let store = tokens().await.context("cannot open the token store")?;
        info!(
            client_certificates = args.tls_client_ca.is_some(),
            "serving over TLS; every call needs a token"
        );
        Ok(Security {
            tls: Some(tls),
            gate: Gate::Tokens(store),
        })
    }

    /// Who may call the listener.
    pub fn gate(&self) -> &Gate {
        &self.gate
    }

    /// The token store, on a listener with tokens.
    pub fn token_store(&self) -> Option<Arc<dyn TokenStore>> {
        match &self.gate {
            Gate::Open => None,
            Gate::Tokens(store) => Some(Arc::clone(store)),
        }
    }

    /// A gRPC server with this TLS and this gate in front of every service added to it, every
    /// call timed ([`RpcMetricsLayer`]), and at most [`CALLS_PER_CONNECTION_MAX`] calls at once
    /// per connection.
    pub fn server(&self) -> anyhow::Result<Server<Layers>> {
        let mut server =
            Server::builder().concurrency_limit_per_connection(CALLS_PER_CONNECTION_MAX);
        if let Some(tls) = &self.tls {
            server = server
                .tls_config(tls.clone())
                .context("the TLS settings were refused")?;
        }
        // Timed outermost, so that calls the gate refuses count too.
        Ok(server.layer(RpcMetricsLayer).layer(self.gate.layer()))
    }
}

fn read_pem(path: &Path, flag: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {flag} {}", path.display()))
}
