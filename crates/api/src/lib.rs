//! The public contract of Receivables (`receivables.v1`, generated from `proto/` at build time)
//! and the one place where wire messages meet the domain and the read models: requests become
//! validated commands (`commands`) or read-model queries (`queries`), events and report lines
//! become replies (`commands`, `queries`, with the values of `responses`), refusals become gRPC statuses with `google.rpc`
//! details (`status`).

pub mod commands;
mod fields;
pub mod queries;
pub mod receipts;
pub mod responses;
pub mod status;

/// The generated `receivables.v1` messages, clients and servers.
pub mod pb {
    #![allow(clippy::all, missing_docs)]
    tonic::include_proto!("receivables.v1");

    /// The encoded file descriptor set of the contract, for gRPC server reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/receivables_descriptor.bin"));
}

/// `google.rpc.ErrorInfo.domain` of every error this service returns.
pub const ERROR_DOMAIN: &str = "receivables.v1";
