//! The Receivables service binary's parts: the command service (write side), the read side
//! (projector, queries, rebuild), both in one process on the embedded backends
//! ([`all_in_one`]), and the demo.
//!
//! `main.rs` is thin; everything a test needs to start a service in-process is here: each
//! application binds (port 0 in tests), serves and shuts down gracefully.

pub mod accounts;
pub mod admin_service;
pub mod alerts;
pub mod all_in_one;
pub mod app;
pub mod audit_service;
pub mod authentication;
pub mod authorization;
pub mod command_service;
pub mod config;
pub mod demo;
pub mod execution;
pub mod limits;
pub mod nats;
pub mod observability;
pub mod point_in_time;
pub mod queries;
pub mod read_app;
pub mod read_models;
pub mod receipts;
pub mod replay;
pub mod security;
pub mod serve;
pub mod shutdown;
pub mod telemetry;
pub mod token_admin;
pub mod tokens;
pub mod transfer;
pub mod web;
