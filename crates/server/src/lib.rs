//! The Receivables service: the command service (write side) over gRPC on NATS JetStream.
//!
//! `main.rs` is thin; everything a test needs to start the service in-process is here:
//! [`app::Application`] binds (port 0 in tests), serves and shuts down gracefully.

pub mod accounts;
pub mod admin_service;
pub mod app;
pub mod command_service;
pub mod config;
pub mod execution;
pub mod query_service;
pub mod read_app;
pub mod read_models;
pub mod shutdown;
pub mod telemetry;
