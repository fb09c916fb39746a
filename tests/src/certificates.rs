//! A private certificate authority for TLS tests: a CA, a server certificate for `localhost`
//! and `127.0.0.1` signed by it, a client certificate signed by it, and a second CA that signed
//! nothing the server trusts. Written as PEM files to a directory, as an operator would.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// The PEM files of one test PKI.
pub struct TestPki {
    /// The CA that signed the server's and the client's certificates.
    pub ca_cert: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    /// Another CA, which signed only `stranger_cert`.
    pub other_ca_cert: PathBuf,
    /// A client certificate signed by the other CA.
    pub stranger_cert: PathBuf,
    pub stranger_key: PathBuf,
}

fn authority(name: &str) -> (Certificate, KeyPair) {
    let key = KeyPair::generate().expect("CA key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let cert = params.self_signed(&key).expect("CA certificate");
    (cert, key)
}

fn leaf(
    names: &[&str],
    common_name: &str,
    usage: ExtendedKeyUsagePurpose,
    issuer: &(Certificate, KeyPair),
) -> (Certificate, KeyPair) {
    let key = KeyPair::generate().expect("key");
    let mut params =
        CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
            .expect("parameters");
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.extended_key_usages = vec![usage];
    let cert = params
        .signed_by(&key, &issuer.0, &issuer.1)
        .expect("signed certificate");
    (cert, key)
}

impl TestPki {
    /// Generates the PKI and writes its files into `directory`.
    pub fn create(directory: &Path) -> TestPki {
        let ca = authority("Receivables test CA");
        let other = authority("Somebody else's CA");
        let server = leaf(
            &["localhost", "127.0.0.1"],
            "receivables server",
            ExtendedKeyUsagePurpose::ServerAuth,
            &ca,
        );
        let client = leaf(
            &[],
            "reporting client",
            ExtendedKeyUsagePurpose::ClientAuth,
            &ca,
        );
        let stranger = leaf(&[], "stranger", ExtendedKeyUsagePurpose::ClientAuth, &other);
        let write = |name: &str, pem: String| {
            let path = directory.join(name);
            std::fs::write(&path, pem).expect("PEM file");
            path
        };
        TestPki {
            ca_cert: write("ca.pem", ca.0.pem()),
            server_cert: write("server.pem", server.0.pem()),
            server_key: write("server.key", server.1.serialize_pem()),
            client_cert: write("client.pem", client.0.pem()),
            client_key: write("client.key", client.1.serialize_pem()),
            other_ca_cert: write("other-ca.pem", other.0.pem()),
            stranger_cert: write("stranger.pem", stranger.0.pem()),
            stranger_key: write("stranger.key", stranger.1.serialize_pem()),
        }
    }
}
