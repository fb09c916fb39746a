//! `--secure`: the service over TLS with a bearer token on every call, as production runs it,
//! so that the benchmark shows what TLS and the per-call token check cost. The run makes its
//! own certificate (for `localhost`) and one subsidiary token per subsidiary the load posts for,
//! in the service's token store.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use chrono::Utc;
use rcgen::{CertificateParams, KeyPair};
use receivables::config::SecurityArgs;
use receivables_access::{TokenLabel, TokenStore, issue};
use receivables_domain::access::Role;
use receivables_domain::{Principal, SubsidiaryId};
use tonic::metadata::{Ascii, MetadataValue};

/// The subsidiaries the load posts for (`SUB-1` to `SUB-<n>`).
pub const SUBSIDIARIES: usize = 3;

/// The `authorization` header of each subsidiary's token.
pub type Headers = Arc<HashMap<String, MetadataValue<Ascii>>>;

/// TLS settings for the service and the certificate a client must trust.
pub struct Tls {
    pub args: SecurityArgs,
    pub certificate_pem: String,
}

/// A self-signed certificate for `localhost` and its key, written into `directory`.
pub fn tls(directory: &Path) -> anyhow::Result<Tls> {
    let key = KeyPair::generate()?;
    let params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?;
    let certificate = params.self_signed(&key)?;
    let cert_path = directory.join("server.pem");
    let key_path = directory.join("server.key");
    std::fs::write(&cert_path, certificate.pem()).context("writing the certificate")?;
    std::fs::write(&key_path, key.serialize_pem()).context("writing the key")?;
    Ok(Tls {
        args: SecurityArgs {
            tls_cert: Some(cert_path),
            tls_key: Some(key_path),
            tls_client_ca: None,
            insecure: false,
        },
        certificate_pem: certificate.pem(),
    })
}

/// Issues one subsidiary token per subsidiary into `store`; returns their headers.
pub async fn tokens(store: &dyn TokenStore) -> anyhow::Result<Headers> {
    let mut headers = HashMap::new();
    for n in 1..=SUBSIDIARIES {
        let subsidiary = format!("SUB-{n}");
        let (bearer, record) = issue(
            Role::Subsidiary(SubsidiaryId::parse(&subsidiary)?),
            TokenLabel::parse("load generator")?,
            None,
            Principal::parse("local-admin")?,
            Utc::now(),
        )?;
        store.insert(&record).await?;
        let header = format!("Bearer {}", bearer.expose()).parse()?;
        headers.insert(subsidiary, header);
    }
    Ok(Arc::new(headers))
}
