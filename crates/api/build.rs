//! Generates the gRPC code from `proto/` with a pure-Rust protobuf compiler (no system protoc),
//! and writes the file descriptor set that server reflection serves.

use std::path::PathBuf;

use prost::Message;

const PROTO_ROOT: &str = "../../proto";
const PROTOS: &[&str] = &[
    "receivables/v1/types.proto",
    "receivables/v1/commands.proto",
    "receivables/v1/queries.proto",
    "receivables/v1/admin.proto",
    "receivables/v1/audit.proto",
    "receivables/v1/metrics.proto",
    "receivables/v1/receipts.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Each file by name: editing any of them generates the code again.
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={PROTO_ROOT}/{proto}");
    }
    let descriptors = protox::compile(PROTOS, [PROTO_ROOT])?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out_dir.join("receivables_descriptor.bin"),
        descriptors.encode_to_vec(),
    )?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(descriptors)?;
    Ok(())
}
