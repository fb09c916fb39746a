//! Customers and collectors end to end: records registered and updated, found by id prefix and
//! by name, named in every report; collectors assigned per customer and as subsidiaries'
//! defaults, deciding the work queue's collector and its filter; credit terms in force on a
//! past date. Posted over gRPC to `receivables serve` on both backend pairs (the embedded
//! SQLite log and read model; NATS JetStream and PostgreSQL); every figure worked out by hand.
//!
//! The history (all CNY; every invoice is overdue on 2026-03-01):
//!
//! | customer | registered as | invoices (subsidiary, number, amount, due) |
//! | --- | --- | --- |
//! | HONGDA | Hongda Trading (Shanghai Hongda Trading Co., Ltd.) | SUB-SH H1 3,000.00 due 02-04; SUB-BJ H2 1,000.00 due 02-09 |
//! | HUAXIA | Huaxia Steel (华夏钢铁有限公司) | SUB-BJ X1 5,000.00 due 02-14; SUB-SH X2 2,000.00 due 02-19 |
//! | TIE | Tie Industries | SUB-SH T1 1,000.00 due 02-20; SUB-BJ T2 1,000.00 due 02-20 |
//! | C-9 | (never) | SUB-SH N1 800.00 due 02-01 |
//!
//! Collectors: Zhou Min is HONGDA's own; Sun Li is SUB-BJ's default, Wu Hao SUB-SH's. So on
//! 03-01: HONGDA → Zhou Min (its own, whatever its subsidiaries' defaults); HUAXIA → Sun Li
//! (SUB-BJ is owed 5,000.00 of its 7,000.00); TIE → Sun Li (1,000.00 each: the lower id,
//! SUB-BJ); C-9 → Wu Hao (SUB-SH is owed all of it). With SUB-BJ's default removed, HUAXIA and
//! TIE fall to Wu Hao, SUB-SH's.
//!
//! HONGDA's credit terms, each posted after its invoices under WARN: 10,000.00 effective 01-01,
//! then 3,000.00 effective 02-15, then (recorded last) 8,000.00 effective 01-20. In force on
//! 02-01: the 01-20 change (the latest effective date on or before it), 8,000.00: exposure
//! 4,000.00 (H1 issued 01-05, H2 01-10), utilisation 0.5, available 4,000.00. On 03-01: the
//! 02-15 change, 3,000.00: over the limit by 1,000.00.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use receivables_api::pb;
use receivables_api::pb::command_service_client::CommandServiceClient;
use receivables_api::pb::query_service_client::QueryServiceClient;
use receivables_tests::*;
use tonic::transport::Channel;

type Write = CommandServiceClient<Channel>;
type Read = QueryServiceClient<Channel>;

fn contact(name: &str, email: &str, phone: &str, role: &str) -> pb::Contact {
    pb::Contact {
        name: name.to_owned(),
        email: email.to_owned(),
        phone: phone.to_owned(),
        role: role.to_owned(),
    }
}

fn hongda() -> pb::CustomerProfile {
    pb::CustomerProfile {
        name: "Hongda Trading".to_owned(),
        legal_name: "Shanghai Hongda Trading Co., Ltd.".to_owned(),
        tax_id: "91310000MA1FL0XX1X".to_owned(),
        country: "CN".to_owned(),
        contacts: vec![contact(
            "Wang Fang",
            "ap@hongda.example.cn",
            "+86 21 5888 1234",
            "accounts payable",
        )],
        industry: "wholesale".to_owned(),
        notes: "pays on the 25th".to_owned(),
    }
}

fn named(name: &str, legal_name: &str) -> pb::CustomerProfile {
    pb::CustomerProfile {
        name: name.to_owned(),
        legal_name: legal_name.to_owned(),
        contacts: vec![contact("Li Na", "", "021 6000 2000", "")],
        ..Default::default()
    }
}

fn register(customer: &str, profile: pb::CustomerProfile) -> pb::RegisterCustomerRequest {
    pb::RegisterCustomerRequest {
        command_id: command_id(),
        customer_id: customer.to_owned(),
        profile: Some(profile),
    }
}

fn assign(customer: &str, default_for: &str, collector: &str) -> pb::AssignCollectorRequest {
    pb::AssignCollectorRequest {
        command_id: command_id(),
        customer_id: customer.to_owned(),
        default_for_subsidiary_id: default_for.to_owned(),
        collector: collector.to_owned(),
    }
}

fn limit(amount: &str, effective: &str) -> pb::ChangeCreditLimitRequest {
    pb::ChangeCreditLimitRequest {
        effective_date: effective.to_owned(),
        ..credit_limit("HONGDA", amount, pb::CreditPolicy::Warn)
    }
}

/// Posts the history; the position of the last event.
async fn post_history(write: &mut Write) -> u64 {
    for request in [
        invoice("HONGDA", "SUB-SH", "H1", "3000", "2026-01-05", "2026-02-04"),
        invoice("HONGDA", "SUB-BJ", "H2", "1000", "2026-01-10", "2026-02-09"),
        invoice("HUAXIA", "SUB-BJ", "X1", "5000", "2026-01-15", "2026-02-14"),
        invoice("HUAXIA", "SUB-SH", "X2", "2000", "2026-01-20", "2026-02-19"),
        invoice("TIE", "SUB-SH", "T1", "1000", "2026-01-21", "2026-02-20"),
        invoice("TIE", "SUB-BJ", "T2", "1000", "2026-01-21", "2026-02-20"),
        invoice("C-9", "SUB-SH", "N1", "800", "2026-01-02", "2026-02-01"),
    ] {
        write.issue_invoice(request).await.expect("an invoice");
    }
    // HONGDA registers after its invoices, HUAXIA and TIE before any more of theirs.
    for request in [
        register("HONGDA", hongda()),
        register("HUAXIA", named("Huaxia Steel", "华夏钢铁有限公司")),
        register("TIE", named("Tie Industries", "")),
    ] {
        write
            .register_customer(request)
            .await
            .expect("a registration");
    }
    for request in [
        assign("HONGDA", "", "Zhou Min"),
        assign("", "SUB-BJ", "Sun Li"),
        assign("", "SUB-SH", "Wu Hao"),
    ] {
        write
            .assign_collector(request)
            .await
            .expect("an assignment");
    }
    let mut last = 0;
    for request in [
        limit("10000", "2026-01-01"),
        limit("3000", "2026-02-15"),
        limit("8000", "2026-01-20"),
    ] {
        let reply = write.change_credit_limit(request).await.expect("a limit");
        last = reply.into_inner().receipt.unwrap().position;
    }
    last
}

fn queue_request(min_position: u64, collector: &str) -> pb::GetWorkQueueRequest {
    pb::GetWorkQueueRequest {
        as_of: "2026-03-01".to_owned(),
        collector: collector.to_owned(),
        min_position,
        ..Default::default()
    }
}

/// (customer, name, collector, default of), by customer id.
async fn collectors(read: &mut Read, request: pb::GetWorkQueueRequest) -> Vec<[String; 4]> {
    let queue = read.get_work_queue(request).await.unwrap().into_inner();
    let mut items: Vec<[String; 4]> = queue
        .items
        .into_iter()
        .map(|i| {
            [
                i.customer_id,
                i.customer_name,
                i.collector,
                i.collector_default_of,
            ]
        })
        .collect();
    items.sort();
    items
}

fn row(customer: &str, name: &str, collector: &str, default_of: &str) -> [String; 4] {
    [customer, name, collector, default_of].map(str::to_owned)
}

async fn search(read: &mut Read, text: &str, min_position: u64) -> Vec<String> {
    read.search_customers(pb::SearchCustomersRequest {
        text: text.to_owned(),
        min_position,
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner()
    .customers
    .into_iter()
    .map(|c| c.customer_id)
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_the_embedded_backends() {
    customers_and_collectors_as_worked_out_by_hand(Backends::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_nats_and_postgresql() {
    customers_and_collectors_as_worked_out_by_hand(Backends::Servers).await;
}

async fn customers_and_collectors_as_worked_out_by_hand(backends: Backends) {
    init_logging();
    let Some(data) = TestData::create(backends).await else {
        return;
    };
    let service = TestAllInOne::start(&data).await;
    let mut write = service.commands().await;
    let mut read = service.queries().await;
    let last = post_history(&mut write).await;

    // The work queue's collectors, from the assignments.
    assert_eq!(
        collectors(&mut read, queue_request(last, "")).await,
        [
            row("C-9", "", "Wu Hao", "SUB-SH"),
            row("HONGDA", "Hongda Trading", "Zhou Min", ""),
            row("HUAXIA", "Huaxia Steel", "Sun Li", "SUB-BJ"),
            row("TIE", "Tie Industries", "Sun Li", "SUB-BJ"),
        ]
    );
    // A collector's filter returns exactly that collector's customers.
    assert_eq!(
        collectors(&mut read, queue_request(last, "Sun Li")).await,
        [
            row("HUAXIA", "Huaxia Steel", "Sun Li", "SUB-BJ"),
            row("TIE", "Tie Industries", "Sun Li", "SUB-BJ"),
        ]
    );
    assert_eq!(
        collectors(&mut read, queue_request(last, "Zhou Min")).await,
        [row("HONGDA", "Hongda Trading", "Zhou Min", "")]
    );
    // A promise's collector no longer decides: Zhou Min's filter stays HONGDA alone.
    let promised = write
        .record_promise_to_pay(promise(
            "HUAXIA",
            "SUB-BJ",
            "100",
            "2026-02-20",
            "2026-02-21",
        ))
        .await
        .unwrap()
        .into_inner();
    let at = promised.receipt.unwrap().position;
    assert_eq!(
        collectors(&mut read, queue_request(at, "Wang Fang")).await,
        Vec::<[String; 4]>::new()
    );

    // SUB-BJ's default removed: HUAXIA and TIE fall to SUB-SH's default.
    let removed = write
        .assign_collector(assign("", "SUB-BJ", ""))
        .await
        .unwrap()
        .into_inner();
    let at = removed.receipt.unwrap().position;
    assert_eq!(
        collectors(&mut read, queue_request(at, "Wu Hao")).await,
        [
            row("C-9", "", "Wu Hao", "SUB-SH"),
            row("HUAXIA", "Huaxia Steel", "Wu Hao", "SUB-SH"),
            row("TIE", "Tie Industries", "Wu Hao", "SUB-SH"),
        ]
    );

    // Names in the aging by customer, the exposure and the statement.
    let aging = read
        .get_aging_report(pb::GetAgingReportRequest {
            scope: Some(pb::AgingScope {
                as_of: "2026-03-01".to_owned(),
                ..Default::default()
            }),
            group_by: pb::AgingGroupBy::Customer.into(),
            min_position: at,
        })
        .await
        .unwrap()
        .into_inner();
    let names: Vec<(String, String)> = aging
        .lines
        .iter()
        .map(|l| (l.group.clone(), l.name.clone()))
        .collect();
    assert_eq!(
        names,
        [
            ("C-9", ""),
            ("HONGDA", "Hongda Trading"),
            ("HUAXIA", "Huaxia Steel"),
            ("TIE", "Tie Industries"),
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    let statement = read
        .get_statement(pb::GetStatementRequest {
            customer_id: "HUAXIA".to_owned(),
            from_date: "2026-01-01".to_owned(),
            to_date: "2026-01-31".to_owned(),
            min_position: at,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(statement.customer.unwrap().legal_name, "华夏钢铁有限公司");

    // The credit terms in force on each date.
    let exposure = |as_of: &str| pb::GetExposureRequest {
        customer_id: "HONGDA".to_owned(),
        as_of: as_of.to_owned(),
        min_position: at,
    };
    let february = read
        .get_exposure(exposure("2026-02-01"))
        .await
        .unwrap()
        .into_inner();
    let line = &february.lines[0];
    assert_eq!(line.customer_name, "Hongda Trading");
    assert_eq!(line.limit.as_ref().unwrap().amount, "8000.00");
    assert_eq!(line.exposure.as_ref().unwrap().amount, "4000.00");
    assert_eq!(line.utilisation, "0.5000");
    assert!(!line.over_limit);
    let march = read
        .get_exposure(exposure("2026-03-01"))
        .await
        .unwrap()
        .into_inner();
    let line = &march.lines[0];
    assert_eq!(line.limit.as_ref().unwrap().amount, "3000.00");
    assert_eq!(line.available.as_ref().unwrap().amount, "-1000.00");
    assert!(line.over_limit);
    // On 01-10 only the first change is in force.
    let january = read
        .get_exposure(pb::GetExposureRequest {
            as_of: "2026-01-10".to_owned(),
            ..exposure("")
        })
        .await
        .unwrap()
        .into_inner();
    let line = &january.lines[0];
    assert_eq!(line.limit.as_ref().unwrap().amount, "10000.00");

    // The search: by id prefix (case as written), by name or legal name in any case.
    assert_eq!(search(&mut read, "HU", at).await, ["HUAXIA"]);
    assert_eq!(search(&mut read, "hong", at).await, ["HONGDA"]);
    assert_eq!(search(&mut read, "钢铁", at).await, ["HUAXIA"]);
    assert_eq!(search(&mut read, "co., ltd", at).await, ["HONGDA"]);
    assert_eq!(search(&mut read, "steel", at).await, ["HUAXIA"]);
    // Inside a word, and every customer whose name has a "t" (Trading, Steel, Tie).
    assert_eq!(search(&mut read, "ndustr", at).await, ["TIE"]);
    assert_eq!(
        search(&mut read, "t", at).await,
        ["HONGDA", "HUAXIA", "TIE"]
    );
    // Never registered: not found.
    assert!(search(&mut read, "C-9", at).await.is_empty());
    assert_eq!(search(&mut read, "", at).await, ["HONGDA", "HUAXIA", "TIE"]);
    // A page at a time, by id.
    let first = read
        .search_customers(pb::SearchCustomersRequest {
            page_size: 2,
            min_position: at,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let second = read
        .search_customers(pb::SearchCustomersRequest {
            page_size: 2,
            page_token: first.next_page_token.clone(),
            min_position: at,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let ids = |page: &pb::SearchCustomersResponse| -> Vec<String> {
        page.customers
            .iter()
            .map(|c| c.customer_id.clone())
            .collect()
    };
    assert_eq!(ids(&first), ["HONGDA", "HUAXIA"]);
    assert_eq!(ids(&second), ["TIE"]);
    assert!(second.next_page_token.is_empty());

    // The whole record and the collector come back as registered; an update replaces it.
    let found = read
        .search_customers(pb::SearchCustomersRequest {
            text: "HONGDA".to_owned(),
            min_position: at,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(found.customers[0].profile, Some(hongda()));
    assert_eq!(found.customers[0].collector, "Zhou Min");
    let mut moved = hongda();
    moved.contacts = vec![contact(
        "Zhao Lei",
        "ssc@hongda.example.cn",
        "",
        "shared service centre",
    )];
    moved.notes = String::new();
    let updated = write
        .update_customer(pb::UpdateCustomerRequest {
            command_id: command_id(),
            customer_id: "HONGDA".to_owned(),
            profile: Some(moved.clone()),
        })
        .await
        .unwrap()
        .into_inner();
    let at = updated.receipt.unwrap().position;
    let found = read
        .search_customers(pb::SearchCustomersRequest {
            text: "HONGDA".to_owned(),
            min_position: at,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(found.customers[0].profile, Some(moved));

    service.stop().await;
    data.remove().await;
}
