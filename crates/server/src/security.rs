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
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
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
    /// The same certificate, key and client CA for the dashboard's HTTP listener
    /// (`crate::web`), which serves browsers over HTTP/1.1 as well as HTTP/2.
    http_tls: Option<Arc<rustls::ServerConfig>>,
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
                http_tls: None,
                gate: Gate::Open,
            });
        }
        let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) else {
            bail!(
                "a listener needs --tls-cert and --tls-key (or --insecure, for development on \
                 one machine only)"
            );
        };
        let cert = read_pem(cert, "--tls-cert")?;
        let key = read_pem(key, "--tls-key")?;
        let client_ca = match &args.tls_client_ca {
            Some(ca) => Some(read_pem(ca, "--tls-client-ca")?),
            None => None,
        };
        let http_tls = http_tls(&cert, &key, client_ca.as_deref())?;
        let mut tls =
            ServerTlsConfig::new().identity(tonic::transport::Identity::from_pem(cert, key));
        if let Some(ca) = client_ca {
            tls = tls.client_ca_root(Certificate::from_pem(ca));
        }
        let store = tokens().await.context("cannot open the token store")?;
        info!(
            client_certificates = args.tls_client_ca.is_some(),
            "serving over TLS; every call needs a token"
        );
        Ok(Security {
            tls: Some(tls),
            http_tls: Some(Arc::new(http_tls)),
            gate: Gate::Tokens(store),
        })
    }

    /// Who may call the listener.
    pub fn gate(&self) -> &Gate {
        &self.gate
    }

    /// The TLS settings of the dashboard's listener: `None` only with `--insecure`.
    pub fn http_tls(&self) -> Option<Arc<rustls::ServerConfig>> {
        self.http_tls.clone()
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

/// The rustls settings of the HTTP listener from the gRPC listener's PEM files: the same
/// certificate chain and key, the same client CA when client certificates are required, and
/// ALPN offering HTTP/2 and HTTP/1.1 (browsers and spreadsheet tools speak either).
fn http_tls(
    cert: &[u8],
    key: &[u8],
    client_ca: Option<&[u8]>,
) -> anyhow::Result<rustls::ServerConfig> {
    let chain = CertificateDer::pem_slice_iter(cert)
        .collect::<Result<Vec<_>, _>>()
        .context("--tls-cert holds no readable certificate")?;
    let key = PrivateKeyDer::from_pem_slice(key).context("--tls-key holds no readable key")?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .context("the TLS protocol versions were refused")?;
    let builder = match client_ca {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for certificate in CertificateDer::pem_slice_iter(ca) {
                roots
                    .add(certificate.context("--tls-client-ca holds an unreadable certificate")?)
                    .context("--tls-client-ca holds a certificate that cannot be a root")?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .context("--tls-client-ca cannot verify client certificates")?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .context("the TLS certificate and key were refused")?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

fn read_pem(path: &Path, flag: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {flag} {}", path.display()))
}
