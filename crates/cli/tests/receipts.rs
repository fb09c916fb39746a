//! Bank receipts from the command line, end to end against the all-in-one service (embedded):
//! `post bank-account`, `import statement` of an MT940 file written for the test
//! (`tests/files/receipts/icbc-2026-03-05.mt940`), `receipts list`, a line split across two
//! customers by `post receipt-match`, and the statement imported again adding nothing.
//!
//! The history, worked out by hand: SUB-SH invoiced ACME SHT-INV-2026-000301 500.00, -000302
//! 700.00 and -000303 500.00; BETA -000400 3,000.00; GAMMA (BETA's sister company) -000500
//! 1,500.00. The statement of 2026-03-05: 4,500.00 from HANGZHOU BETA ELECTRONICS for "group
//! orders" (no number: BETA's 3,000.00 and GAMMA's 1,500.00 together, which a person splits);
//! 1,700.00 from ACME naming its three invoices (500 + 700 + 500: posted automatically); a fee
//! of 120.00 (a debit, reported).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use receivables_api::pb;
use receivables_tests::{Backends, TestAllInOne, TestData, init_logging, invoice};
use support::{cli, parse_csv};

const MT940: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/files/receipts/icbc-2026-03-05.mt940"
);

async fn run(service: &TestAllInOne, args: &[&str]) -> String {
    let mut all = vec!["--server".to_owned(), service.url()];
    all.extend(args.iter().map(|a| (*a).to_owned()));
    let (result, output) = cli(&all).await;
    if let Err(error) = result {
        panic!("receivables {args:?} failed: {error}\n{output}");
    }
    output
}

async fn open_invoices(service: &TestAllInOne, customer: &str) -> Vec<String> {
    service
        .commands()
        .await
        .get_account(pb::GetAccountRequest {
            customer_id: customer.to_owned(),
        })
        .await
        .unwrap()
        .into_inner()
        .open_invoices
        .iter()
        .map(|i| i.invoice.as_ref().unwrap().invoice_number.clone())
        .collect()
}

#[tokio::test]
async fn a_statement_imported_from_the_command_line_is_matched_split_and_not_imported_twice() {
    init_logging();
    let Some(data) = TestData::create(Backends::Embedded).await else {
        return;
    };
    let service = TestAllInOne::start(&data).await;
    let mut commands = service.commands().await;
    for (customer, number, amount) in [
        ("ACME", "SHT-INV-2026-000301", "500"),
        ("ACME", "SHT-INV-2026-000302", "700"),
        ("ACME", "SHT-INV-2026-000303", "500"),
        ("BETA", "SHT-INV-2026-000400", "3000"),
        ("GAMMA", "SHT-INV-2026-000500", "1500"),
    ] {
        commands
            .issue_invoice(invoice(
                customer,
                "SUB-SH",
                number,
                amount,
                "2026-02-01",
                "2026-03-03",
            ))
            .await
            .unwrap();
    }
    run(
        &service,
        &[
            "post",
            "bank-account",
            "--bank-account",
            "ICBC-SH-001",
            "--subsidiary",
            "SUB-SH",
            "--currency",
            "CNY",
            "--number",
            "6222 0210 0100 1234 567",
            "--bank",
            "ICBC",
            "--name",
            "SUB-SH collections",
        ],
    )
    .await;

    // When the statement is imported
    let imported = parse_csv(
        &run(
            &service,
            &[
                "--format",
                "csv",
                "import",
                "statement",
                MT940,
                "--bank-account",
                "ICBC-SH-001",
                "--file-format",
                "mt940",
            ],
        )
        .await,
    );

    // Then the two credits are imported, ACME's posted, the fee reported
    let rows: Vec<(&str, &str, &str, &str)> = imported
        .iter()
        .map(|r| {
            (
                r["line_id"].as_str(),
                r["outcome"].as_str(),
                r["match"].as_str(),
                r["amount"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("ICBC0305000001", "IMPORTED", "WAITING", "4500.00"),
            ("ICBC0305000002", "IMPORTED", "AUTOMATIC", "1700.00"),
            ("ICBC0305000003", "DEBIT", "", "120.00"),
        ]
    );
    assert_eq!(open_invoices(&service, "ACME").await, Vec::<String>::new());

    // And the review queue holds BETA's 4,500.00
    let queue = parse_csv(&run(&service, &["--format", "csv", "receipts", "list"]).await);
    assert_eq!(queue[0]["line_id"], "ICBC0305000001");
    assert_eq!(queue[0]["payer_name"], "HANGZHOU BETA ELECTRONICS");

    // When a person splits it: 3,000.00 to BETA's invoice, 1,500.00 to GAMMA oldest due first
    let resolved = run(
        &service,
        &[
            "post",
            "receipt-match",
            "--bank-account",
            "ICBC-SH-001",
            "--line",
            "ICBC0305000001",
            "--currency",
            "CNY",
            "--part",
            "BETA=3000.00@SUB-SH/SHT-INV-2026-000400:3000.00",
            "--part",
            "GAMMA=1500.00",
        ],
    )
    .await;

    // Then both are paid, by payments named after the line, and the queue is empty
    assert!(resolved.contains("BETA 3000.00 CNY payment"), "{resolved}");
    assert!(resolved.contains("GAMMA 1500.00 CNY payment"), "{resolved}");
    assert_eq!(open_invoices(&service, "BETA").await, Vec::<String>::new());
    assert_eq!(open_invoices(&service, "GAMMA").await, Vec::<String>::new());
    let queue = parse_csv(&run(&service, &["--format", "csv", "receipts", "list"]).await);
    assert!(queue.is_empty(), "{queue:?}");

    // And the statement imported again adds nothing
    let again = parse_csv(
        &run(
            &service,
            &[
                "--format",
                "csv",
                "import",
                "statement",
                MT940,
                "--bank-account",
                "ICBC-SH-001",
                "--file-format",
                "mt940",
            ],
        )
        .await,
    );
    let outcomes: Vec<(&str, &str)> = again
        .iter()
        .map(|r| (r["outcome"].as_str(), r["match"].as_str()))
        .collect();
    assert_eq!(
        outcomes,
        vec![("KNOWN", "SETTLED"), ("KNOWN", "SETTLED"), ("DEBIT", "")]
    );
    let beta = service
        .commands()
        .await
        .get_account(pb::GetAccountRequest {
            customer_id: "BETA".to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(beta.payments.len(), 1);
    service.stop().await;
    data.remove().await;
}
