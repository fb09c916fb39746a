//! The contract as a client meets it, for every service of every listener: the RPCs come from
//! the contract's own descriptors, so a service or an RPC added later is covered without a line
//! here.
//!
//! - every RPC refuses a request over the message limit before reading it (`OUT_OF_RANGE`);
//! - health answers `SERVING` for every service a listener serves (and for the server);
//! - reflection lists every service in `grpc.reflection.v1` and in `v1alpha`;
//! - a request with several bad fields hears of all of them in one reply, and queries say
//!   `INVALID_QUERY`, commands `INVALID_COMMAND`.
//!
//! On the embedded all-in-one, on the all-in-one over NATS and PostgreSQL, and on the split
//! deployment (`serve-commands`, `serve-queries`).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::str::FromStr;

use bytes::{Buf, BufMut};
use prost::Message;
use receivables::limits::{GRPC_MESSAGE_BYTES_MAX, STATEMENT_MESSAGE_BYTES_MAX};
use receivables_api::pb;
use receivables_tests::{
    Backends, NatsServer, TestAllInOne, TestData, TestDatabase, TestQueryService, TestService,
    channel_to, cny, command_id, on_both_backends,
};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::Channel;
use tonic::{Code, Status};
use tonic_types::StatusExt;

/// An RPC of the contract.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Rpc {
    /// `receivables.v1.CommandService`.
    service: String,
    method: String,
    server_streaming: bool,
}

/// Every RPC of every service of the contract, read from its file descriptor set.
fn contract() -> Vec<Rpc> {
    let set = prost_types::FileDescriptorSet::decode(pb::FILE_DESCRIPTOR_SET)
        .expect("the contract's descriptors");
    let mut rpcs = Vec::new();
    for file in set.file {
        let package = file.package().to_owned();
        for service in &file.service {
            for method in &service.method {
                rpcs.push(Rpc {
                    service: format!("{package}.{}", service.name()),
                    method: method.name().to_owned(),
                    server_streaming: method.server_streaming(),
                });
            }
        }
    }
    rpcs.sort();
    assert!(
        rpcs.len() >= 20,
        "the contract has at least 20 RPCs: {rpcs:?}"
    );
    rpcs
}

fn services_of(rpcs: &[Rpc]) -> BTreeSet<String> {
    rpcs.iter().map(|rpc| rpc.service.clone()).collect()
}

/// Sends and receives protobuf bytes as they are, to send any RPC a message of any size.
#[derive(Debug, Clone, Copy, Default)]
struct RawCodec;

#[derive(Debug, Clone, Copy, Default)]
struct RawEncoder;

#[derive(Debug, Clone, Copy, Default)]
struct RawDecoder;

impl Encoder for RawEncoder {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawDecoder {
    type Item = Vec<u8>;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        let bytes = src.copy_to_bytes(src.remaining());
        Ok(Some(bytes.to_vec()))
    }
}

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawEncoder;
    type Decoder = RawDecoder;

    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }

    fn decoder(&mut self) -> RawDecoder {
        RawDecoder
    }
}

/// A protobuf message of `bytes` bytes: one field that no message of the contract has (number
/// 1000, length-delimited). A service that read it would skip it; the limit comes first.
fn message_of(bytes: usize) -> Vec<u8> {
    let varint = |mut value: usize| {
        let mut encoded = Vec::new();
        while value >= 0x80 {
            encoded.push((value & 0x7f) as u8 | 0x80);
            value >>= 7;
        }
        encoded.push(value as u8);
        encoded
    };
    let mut message = Vec::with_capacity(bytes);
    // The key of field 1000, wire type 2: (1000 << 3) | 2 = 8002, as a varint.
    message.extend_from_slice(&[0xc2, 0x3e]);
    // The length's own size depends on the length: the one that adds up to `bytes`.
    let length = (1..=5)
        .map(|size| bytes - 2 - size)
        .find(|length| varint(*length).len() + length + 2 == bytes)
        .expect("a length that fits");
    message.extend_from_slice(&varint(length));
    message.resize(bytes, b'x');
    message
}

/// Calls `rpc` with `message` as it is; the status it answers (`Ok` if it accepted it).
async fn call_raw(channel: &Channel, rpc: &Rpc, message: Vec<u8>) -> Result<(), Status> {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready()
        .await
        .map_err(|e| Status::unavailable(e.to_string()))?;
    let path = http::uri::PathAndQuery::from_str(&format!("/{}/{}", rpc.service, rpc.method))
        .expect("a path");
    if rpc.server_streaming {
        let mut stream = grpc
            .server_streaming(tonic::Request::new(message), path, RawCodec)
            .await?
            .into_inner();
        while stream.message().await?.is_some() {}
        Ok(())
    } else {
        grpc.unary(tonic::Request::new(message), path, RawCodec)
            .await
            .map(drop)
    }
}

/// Every RPC of `services` refuses a request one byte over its service's limit, before reading
/// it: `ReceiptService`'s is a statement file's, every other service's the general one.
async fn every_rpc_refuses_an_oversized_request(channel: &Channel, services: &BTreeSet<String>) {
    let oversized = message_of(GRPC_MESSAGE_BYTES_MAX + 1);
    let statement_oversized = message_of(STATEMENT_MESSAGE_BYTES_MAX + 1);
    let mut checked = 0;
    for rpc in contract()
        .into_iter()
        .filter(|rpc| services.contains(&rpc.service))
    {
        let message = if rpc.service == "receivables.v1.ReceiptService" {
            statement_oversized.clone()
        } else {
            oversized.clone()
        };
        let status = call_raw(channel, &rpc, message)
            .await
            .expect_err("an oversized request is refused");
        assert_eq!(
            status.code(),
            Code::OutOfRange,
            "{}/{}: {status:?}",
            rpc.service,
            rpc.method
        );
        checked += 1;
    }
    assert!(checked > 0, "no RPC of {services:?}");
}

/// Health answers `SERVING` for every service in `services`, and for the server as a whole.
async fn health_serves_every_service(channel: &Channel, services: &BTreeSet<String>) {
    use tonic_health::pb::health_check_response::ServingStatus;
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    for service in services.iter().map(String::as_str).chain([""]) {
        let answer = health
            .check(tonic_health::pb::HealthCheckRequest {
                service: service.to_owned(),
            })
            .await
            .unwrap_or_else(|status| panic!("health of {service:?}: {status:?}"))
            .into_inner();
        assert_eq!(answer.status(), ServingStatus::Serving, "{service:?}");
    }
}

/// The services reflection lists, in `v1` and in `v1alpha`; both must list `services`.
async fn reflection_lists_every_service(channel: &Channel, services: &BTreeSet<String>) {
    use tonic_reflection::pb::{v1, v1alpha};
    let mut listed_v1 = v1::server_reflection_client::ServerReflectionClient::new(channel.clone())
        .server_reflection_info(futures::stream::iter([v1::ServerReflectionRequest {
            host: String::new(),
            message_request: Some(v1::server_reflection_request::MessageRequest::ListServices(
                String::new(),
            )),
        }]))
        .await
        .expect("reflection v1")
        .into_inner();
    let answer = listed_v1.message().await.unwrap().unwrap();
    let Some(v1::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        answer.message_response
    else {
        panic!("unexpected v1 answer {answer:?}");
    };
    let names_v1: BTreeSet<String> = list.service.into_iter().map(|s| s.name).collect();

    let mut listed_alpha =
        v1alpha::server_reflection_client::ServerReflectionClient::new(channel.clone())
            .server_reflection_info(futures::stream::iter([v1alpha::ServerReflectionRequest {
                host: String::new(),
                message_request: Some(
                    v1alpha::server_reflection_request::MessageRequest::ListServices(String::new()),
                ),
            }]))
            .await
            .expect("reflection v1alpha")
            .into_inner();
    let answer = listed_alpha.message().await.unwrap().unwrap();
    let Some(v1alpha::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        answer.message_response
    else {
        panic!("unexpected v1alpha answer {answer:?}");
    };
    let names_alpha: BTreeSet<String> = list.service.into_iter().map(|s| s.name).collect();
    for service in services.iter().chain([&"grpc.health.v1.Health".to_owned()]) {
        assert!(
            names_v1.contains(service),
            "v1 misses {service}: {names_v1:?}"
        );
        assert!(
            names_alpha.contains(service),
            "v1alpha misses {service}: {names_alpha:?}"
        );
    }
}

/// The field paths and reason of a refusal.
fn refusal(status: &Status) -> (Code, String, Vec<String>) {
    let details = status.get_error_details();
    let reason = details
        .error_info()
        .map(|info| info.reason.clone())
        .unwrap_or_default();
    let fields = details
        .bad_request()
        .map(|bad| {
            bad.field_violations
                .iter()
                .map(|v| v.field.clone())
                .collect()
        })
        .unwrap_or_default();
    (status.code(), reason, fields)
}

/// A command with several bad fields hears of every one in one reply, the rules that need
/// several fields included; a query says `INVALID_QUERY`, naming every bad field.
async fn every_bad_field_is_named_at_once(channel: &Channel) {
    let mut commands = pb::command_service_client::CommandServiceClient::new(channel.clone());
    // No reason and no approver: two missing fields, one reply.
    let status = commands
        .change_credit_limit(pb::ChangeCreditLimitRequest {
            command_id: command_id(),
            customer_id: "C-1".to_owned(),
            limit: cny("1000"),
            policy: pb::CreditPolicy::Block.into(),
            grade: pb::CreditGrade::A.into(),
            ..pb::ChangeCreditLimitRequest::default()
        })
        .await
        .expect_err("refused");
    assert_eq!(
        refusal(&status),
        (
            Code::InvalidArgument,
            "INVALID_COMMAND".to_owned(),
            vec!["approved_by".to_owned(), "reason".to_owned()]
        )
    );
    // No collector, no subsidiary, a promised date before the day it was made and a note
    // with a control character: four problems, one reply.
    let status = commands
        .record_promise_to_pay(pb::RecordPromiseToPayRequest {
            command_id: command_id(),
            customer_id: "C-1".to_owned(),
            amount: cny("10"),
            made_on: "2026-03-10".to_owned(),
            promised_date: "2026-03-01".to_owned(),
            note: "call\u{7}back".to_owned(),
            ..pb::RecordPromiseToPayRequest::default()
        })
        .await
        .expect_err("refused");
    assert_eq!(
        refusal(&status),
        (
            Code::InvalidArgument,
            "INVALID_COMMAND".to_owned(),
            vec![
                "subsidiary_id".to_owned(),
                "collector".to_owned(),
                "promised_date".to_owned(),
                "note".to_owned()
            ]
        )
    );
    let mut queries = pb::query_service_client::QueryServiceClient::new(channel.clone());
    let status = queries
        .list_exposures(pb::ListExposuresRequest {
            as_of: "2026-02-30".to_owned(),
            sort: 9,
            min_utilisation: "-1".to_owned(),
            currency: "XYZ".to_owned(),
            page_size: 1001,
            ..pb::ListExposuresRequest::default()
        })
        .await
        .expect_err("refused");
    assert_eq!(
        refusal(&status),
        (
            Code::InvalidArgument,
            "INVALID_QUERY".to_owned(),
            vec![
                "as_of".to_owned(),
                "sort".to_owned(),
                "min_utilisation".to_owned(),
                "currency".to_owned(),
                "page_size".to_owned()
            ]
        )
    );
    let status = queries
        .get_work_queue(pb::GetWorkQueueRequest {
            as_of: "tomorrow".to_owned(),
            collector: "\u{1}".to_owned(),
            weights: Some(pb::WorkQueueWeights {
                amount: "-0.1".to_owned(),
                days: "x".to_owned(),
                broken_promise: String::new(),
                since_contact: "ten".to_owned(),
            }),
            ..pb::GetWorkQueueRequest::default()
        })
        .await
        .expect_err("refused");
    assert_eq!(
        refusal(&status),
        (
            Code::InvalidArgument,
            "INVALID_QUERY".to_owned(),
            vec![
                "as_of".to_owned(),
                "collector".to_owned(),
                "weights.amount".to_owned(),
                "weights.days".to_owned(),
                "weights.since_contact".to_owned()
            ]
        )
    );
    // The page size of the open items is named with the scope's faults, not after them.
    let status = queries
        .list_open_items(pb::ListOpenItemsRequest {
            scope: Some(pb::AgingScope {
                as_of: "2026-13-01".to_owned(),
                currency: "cny".to_owned(),
                ..pb::AgingScope::default()
            }),
            page_size: 1001,
            ..pb::ListOpenItemsRequest::default()
        })
        .await
        .expect_err("refused");
    assert_eq!(
        refusal(&status),
        (
            Code::InvalidArgument,
            "INVALID_QUERY".to_owned(),
            vec![
                "scope.as_of".to_owned(),
                "scope.currency".to_owned(),
                "page_size".to_owned()
            ]
        )
    );
}

async fn the_all_in_one_meets_the_contract(backends: Backends) {
    let Some(data) = TestData::create(backends).await else {
        return;
    };
    let service = TestAllInOne::start(&data).await;
    let channel = service.channel().await;
    let every = services_of(&contract());
    assert_eq!(every.len(), 6, "{every:?}");
    health_serves_every_service(&channel, &every).await;
    reflection_lists_every_service(&channel, &every).await;
    every_rpc_refuses_an_oversized_request(&channel, &every).await;
    every_bad_field_is_named_at_once(&channel).await;
    service.stop().await;
    data.remove().await;
}

on_both_backends!(the_all_in_one_meets_the_contract);

/// The split deployment: the command listener serves `CommandService`, the query listener the
/// four read-side services; each meets the contract for what it serves. `ReceiptService`,
/// which appends as well as reads, is served by a query service only when asked
/// (`--serve-receipts`): a second one here, serving the five.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_split_deployment_meets_the_contract() {
    let Some(nats) = NatsServer::start_default().await else {
        return;
    };
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let commands = TestService::start(&nats.url()).await;
    let queries = TestQueryService::start(&nats.url(), &database).await;
    let mut with_receipts = receivables::config::QueryServiceArgs::new(
        "127.0.0.1:0".parse().expect("address"),
        nats.url(),
        database.url(),
    );
    with_receipts.serve_receipts = true;
    let cash_application = TestQueryService::start_with(with_receipts).await;
    let command_channel = channel_to(&format!("http://{}", commands.address)).await;
    let query_channel = channel_to(&format!("http://{}", queries.address)).await;
    let cash_channel = channel_to(&format!("http://{}", cash_application.address)).await;
    let every = services_of(&contract());
    let on_commands: BTreeSet<String> = ["receivables.v1.CommandService".to_owned()].into();
    let receipts: BTreeSet<String> = ["receivables.v1.ReceiptService".to_owned()].into();
    let on_queries: BTreeSet<String> = every
        .difference(&on_commands)
        .filter(|service| !receipts.contains(*service))
        .cloned()
        .collect();
    assert_eq!(on_queries.len(), 4, "{on_queries:?}");
    let on_cash_application: BTreeSet<String> = on_queries.union(&receipts).cloned().collect();
    for (channel, services) in [
        (&command_channel, &on_commands),
        (&query_channel, &on_queries),
        (&cash_channel, &on_cash_application),
    ] {
        health_serves_every_service(channel, services).await;
        reflection_lists_every_service(channel, services).await;
        every_rpc_refuses_an_oversized_request(channel, services).await;
    }
    cash_application.stop().await;
    queries.stop().await;
    commands.stop().await;
    database.drop_database().await;
}

#[test]
fn an_oversized_message_is_as_long_as_asked() {
    for bytes in [100, GRPC_MESSAGE_BYTES_MAX + 1] {
        let message = message_of(bytes);
        assert_eq!(message.len(), bytes);
        // It decodes as a message with one unknown field: an empty request of any type.
        assert_eq!(
            pb::GetAccountRequest::decode(message.as_slice()).expect("decodes"),
            pb::GetAccountRequest::default()
        );
    }
}

/// A test database is dropped when its guard goes, also when the test panics before it could
/// drop it itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_database_is_dropped_by_its_guard() {
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let url = database.url();
    let path = url.rsplit('/').next().expect("a path");
    let name = path.split('?').next().expect("a name").to_owned();
    let exists = |name: String| async move {
        let url = std::env::var("RECEIVABLES_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let pool = sqlx::PgPool::connect(&url).await.expect("server");
        let (count,): (i64,) =
            sqlx::query_as("SELECT count(*) FROM pg_database WHERE datname = $1")
                .bind(&name)
                .fetch_one(&pool)
                .await
                .expect("count");
        pool.close().await;
        count == 1
    };
    assert!(exists(name.clone()).await, "{name} was created");
    let panicked = tokio::task::spawn(async move {
        let _guard = database;
        panic!("a test that fails before it cleans up");
    })
    .await;
    assert!(panicked.is_err());
    assert!(!exists(name.clone()).await, "{name} is left behind");
}
