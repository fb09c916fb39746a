//! `import invoices`, `payments`, `credit-notes` and `reversals` end to end: a real
//! `nats-server`, the command service in-process, CSV files on disk, and the client run as the
//! binary runs it. Every expected count and amount is worked out by hand in the comments.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;

use receivables_api::pb;
use receivables_cli::CliError;
use receivables_cli::error::{EXIT_REFUSED, EXIT_UNAVAILABLE};
use support::{World, parse_csv, write_file};

/// Ten rows, line numbers as in the file (the header is line 1):
/// - 2  SUB-SH C-ONE  SH-1  1000.00, good.
/// - 3  SUB-SH C-ONE  SH-2   250.50, good.
/// - 4  SUB-SH C-TWO  SH-3  issue date 2026-02-30 does not exist: INVALID_ROW (client).
/// - 5  SUB-SH C-TWO  SH-4  currency XYZ: INVALID_COMMAND (service).
/// - 6  SUB-SH C-TWO  SH-5  due 2026-02-01 before issue 2026-03-01: INVALID_COMMAND (service).
/// - 7  SUB-SH C-TWO  SH-2  the number of line 3 again: DUPLICATE_IN_FILE (client).
/// - 8  SUB-BJ C-BLOCK BJ-1  800.00 under a BLOCK limit of 1000: exposure 800, good.
/// - 9  SUB-BJ C-BLOCK BJ-2  300.00: 800 + 300 = 1100 > 1000: CREDIT_LIMIT_EXCEEDED (service).
/// - 10 SUB-BJ C-BLOCK BJ-3  200.00: 800 + 200 = 1000, not above the limit: good.
/// - 11 SUB-GZ C-THREE GZ-1 amount "1,000.00" has a thousands separator: INVALID_ROW (client).
///
/// Good: lines 2, 3, 8, 10 = 4. Refused: 4, 5, 6, 7, 9, 11 = 6 (INVALID_ROW 2, INVALID_COMMAND
/// 2, DUPLICATE_IN_FILE 1, CREDIT_LIMIT_EXCEEDED 1).
const INVOICES: &str = "\
subsidiary,customer,number,currency,amount,issue_date,due_date
SUB-SH,C-ONE,SH-1,CNY,1000.00,2026-01-10,2026-02-09
SUB-SH,C-ONE,SH-2,CNY,250.50,2026-02-01,2026-03-03
SUB-SH,C-TWO,SH-3,CNY,400.00,2026-02-30,2026-03-31
SUB-SH,C-TWO,SH-4,XYZ,400.00,2026-02-01,2026-03-03
SUB-SH,C-TWO,SH-5,CNY,400.00,2026-03-01,2026-02-01
SUB-SH,C-TWO,SH-2,CNY,99.00,2026-02-01,2026-03-03
SUB-BJ,C-BLOCK,BJ-1,CNY,800.00,2026-01-15,2026-02-14
SUB-BJ,C-BLOCK,BJ-2,CNY,300.00,2026-02-15,2026-03-17
SUB-BJ,C-BLOCK,BJ-3,CNY,200.00,2026-03-01,2026-03-31
SUB-GZ,C-THREE,GZ-1,CNY,\"1,000.00\",2026-03-01,2026-03-31
";

const GOOD_ROWS: u64 = 4;

/// Sets C-BLOCK's limit: 1000 CNY, BLOCK (one event).
async fn block_limit(world: &World) {
    world
        .ok(&[
            "post",
            "credit-limit",
            "--customer",
            "C-BLOCK",
            "--limit",
            "1000.00",
            "--currency",
            "CNY",
            "--policy",
            "block",
            "--grade",
            "b",
            "--reason",
            "new customer",
            "--approved-by",
            "Li Wei",
        ])
        .await;
}

/// Imports `file` with `--format json`: the error (if any) and the parsed summary.
async fn import(
    world: &World,
    what: &str,
    file: &str,
) -> (Result<(), CliError>, serde_json::Value) {
    let (result, output) = world
        .cli(&["import", what, file, "--quiet", "--format", "json"])
        .await;
    let summary = serde_json::from_str(&output)
        .unwrap_or_else(|e| panic!("the summary is not JSON ({e}): {output}"));
    (result, summary)
}

fn counts(summary: &serde_json::Value) -> (u64, u64, u64, u64) {
    let n = |key: &str| {
        summary[key]
            .as_u64()
            .unwrap_or_else(|| panic!("{key}: {summary}"))
    };
    (
        n("rows_read"),
        n("accepted"),
        n("already_posted"),
        n("refused"),
    )
}

fn by_reason(summary: &serde_json::Value) -> BTreeMap<String, u64> {
    summary["refused_by_reason"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect()
}

/// (line, reason code, message) of every row of a refused-rows file, checking its header.
fn refused_rows(path: &str, header: &[&str]) -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let rows = parse_csv(&text);
    let first_line = text.lines().next().unwrap();
    let mut expected_header: Vec<&str> = header.to_vec();
    expected_header.extend(["line", "reason"]);
    assert_eq!(first_line, expected_header.join(","));
    rows.iter()
        .map(|row| {
            let (code, message) = row["reason"].split_once(": ").unwrap();
            (row["line"].clone(), code.to_owned(), message.to_owned())
        })
        .collect()
}

const INVOICE_HEADER: &[&str] = &[
    "subsidiary",
    "customer",
    "number",
    "currency",
    "amount",
    "issue_date",
    "due_date",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_invoice_import_posts_the_good_rows_and_lists_the_bad_ones() {
    let Some(world) = World::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "invoices.csv", INVOICES);
    block_limit(&world).await;
    let before = world.last_sequence().await;
    assert_eq!(before, 1, "the credit limit is the only event");

    let (result, summary) = import(&world, "invoices", &file).await;

    let error = result.expect_err("refused rows make the import fail");
    assert_eq!(error.exit_code(), EXIT_REFUSED);
    let refused_file = format!("{file}.refused.csv");
    assert_eq!(
        error.to_string(),
        format!("6 of 10 rows refused; they are listed in {refused_file}")
    );
    assert_eq!(counts(&summary), (10, GOOD_ROWS, 0, 6), "{summary}");
    assert_eq!(summary["over_limit"], 0);
    assert_eq!(summary["complete"], true);
    assert_eq!(summary["refused_file"], refused_file.as_str());
    assert_eq!(
        by_reason(&summary),
        BTreeMap::from([
            ("CREDIT_LIMIT_EXCEEDED".to_owned(), 1),
            ("DUPLICATE_IN_FILE".to_owned(), 1),
            ("INVALID_COMMAND".to_owned(), 2),
            ("INVALID_ROW".to_owned(), 2),
        ])
    );
    assert_eq!(
        world.last_sequence().await,
        before + GOOD_ROWS,
        "one event per good row"
    );

    let refused = refused_rows(&refused_file, INVOICE_HEADER);
    let lines: Vec<(&str, &str)> = refused
        .iter()
        .map(|(line, code, _)| (line.as_str(), code.as_str()))
        .collect();
    assert_eq!(
        lines,
        vec![
            ("4", "INVALID_ROW"),
            ("5", "INVALID_COMMAND"),
            ("6", "INVALID_COMMAND"),
            ("7", "DUPLICATE_IN_FILE"),
            ("9", "CREDIT_LIMIT_EXCEEDED"),
            ("11", "INVALID_ROW"),
        ]
    );
    let message = |line: &str| {
        refused
            .iter()
            .find(|(l, _, _)| l == line)
            .map(|(_, _, m)| m.clone())
            .unwrap()
    };
    assert!(message("4").starts_with("issue_date: "), "{}", message("4"));
    assert!(message("5").contains("currency"), "{}", message("5"));
    assert!(message("6").contains("due_date"), "{}", message("6"));
    assert_eq!(message("7"), "invoice/SUB-SH/SH-2 is on line 3 already");
    assert!(message("9").contains("limit"), "{}", message("9"));
    assert!(message("11").starts_with("amount: "), "{}", message("11"));
    // The refused rows keep their original values.
    let text = std::fs::read_to_string(&refused_file).unwrap();
    assert!(
        text.contains("SUB-GZ,C-THREE,GZ-1,CNY,\"1,000.00\",2026-03-01,2026-03-31,11,"),
        "{text}"
    );
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn importing_a_file_again_posts_nothing_new() {
    let Some(world) = World::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    block_limit(&world).await;

    // An import stopped after its first five rows: lines 2-6, of which 2 and 3 are good.
    let first_part: String = INVOICES.lines().take(6).map(|l| format!("{l}\n")).collect();
    let part = write_file(dir.path(), "part.csv", &first_part);
    let (_, summary) = import(&world, "invoices", &part).await;
    assert_eq!(counts(&summary), (5, 2, 0, 3), "{summary}");
    assert_eq!(world.last_sequence().await, 1 + 2);

    // Running the whole file finishes it: the two rows posted before are recognised, the two
    // others (lines 8 and 10) are posted now, the same six rows are refused.
    let file = write_file(dir.path(), "invoices.csv", INVOICES);
    let (result, summary) = import(&world, "invoices", &file).await;
    assert_eq!(result.unwrap_err().exit_code(), EXIT_REFUSED);
    assert_eq!(counts(&summary), (10, 2, 2, 6), "{summary}");
    let after_first = world.last_sequence().await;
    assert_eq!(after_first, 1 + GOOD_ROWS);
    let codes = |path: &str| -> Vec<(String, String)> {
        refused_rows(path, INVOICE_HEADER)
            .into_iter()
            .map(|(line, code, _)| (line, code))
            .collect()
    };
    let refused_file = format!("{file}.refused.csv");
    let refused_first = codes(&refused_file);
    assert_eq!(refused_first.len(), 6);

    // And again: nothing new is appended; every good row is found posted before.
    let (result, summary) = import(&world, "invoices", &file).await;
    assert_eq!(result.unwrap_err().exit_code(), EXIT_REFUSED);
    assert_eq!(counts(&summary), (10, 0, GOOD_ROWS, 6), "{summary}");
    assert_eq!(world.last_sequence().await, after_first, "nothing appended");
    // The same lines for the same reasons (the credit refusal of line 9 now reads exposure
    // 1000, BJ-1 800 + BJ-3 200, where the first run read 800: line 10 was posted after it).
    assert_eq!(codes(&refused_file), refused_first);
    let credit = refused_rows(&refused_file, INVOICE_HEADER)
        .into_iter()
        .find(|(line, _, _)| line == "9")
        .unwrap();
    assert!(
        credit.2.contains("from 1000.00 CNY to 1300.00 CNY"),
        "{credit:?}"
    );

    // The good rows alone import cleanly (exit 0) and leave no refused-rows file behind.
    let good: String = INVOICES
        .lines()
        .enumerate()
        .filter(|(i, _)| [0, 1, 2, 7, 9].contains(i))
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    let good_file = write_file(dir.path(), "good.csv", &good);
    std::fs::write(format!("{good_file}.refused.csv"), "stale").unwrap();
    let (result, summary) = import(&world, "invoices", &good_file).await;
    result.unwrap();
    assert_eq!(counts(&summary), (4, 0, 4, 0), "{summary}");
    assert!(!std::path::Path::new(&format!("{good_file}.refused.csv")).exists());
    assert_eq!(world.last_sequence().await, after_first);
    world.stop().await;
}

/// Invoices (issue / due, amount):
/// - P1, SUB-SH: SH-10 01-05/02-04 1000; SH-11 01-20/02-19 500; SH-12 02-10/03-12 700.
/// - P1, SUB-BJ: BJ-10 01-10/02-09 300.
/// - P2, SUB-SH: SH-20 01-15/02-14 400; SH-21 02-01/03-03 600.
const PAYMENT_INVOICES: &str = "\
Subsidiary, Customer, Number, Currency, Amount, Issue Date, Due Date
SUB-SH,P1,SH-10,CNY,1000.00,2026-01-05,2026-02-04
SUB-SH,P1,SH-11,CNY,500.00,2026-01-20,2026-02-19
SUB-SH,P1,SH-12,CNY,700.00,2026-02-10,2026-03-12
SUB-BJ,P1,BJ-10,CNY,300.00,2026-01-10,2026-02-09
SUB-SH,P2,SH-20,CNY,400.00,2026-01-15,2026-02-14
SUB-SH,P2,SH-21,CNY,600.00,2026-02-01,2026-03-03
";

/// Payments, one customer's rows in file order:
/// - 2 P1 BANK-1 600 explicit SH-12:600 -> SH-12 700 - 600 = 100 open.
/// - 3 P1 ALI-2 1200 oldest due first among SUB-SH's open invoices: SH-10 (due 02-04) 1000 -> 0,
///   SH-11 (due 02-19) 200 -> 300 open; nothing left. BJ-10 (SUB-BJ) is not touched.
/// - 4 P1 WX-3 150 received by SUB-BJ, explicit SUB-SH:SH-11:100 -> SH-11 300 - 100 = 200;
///   50 unapplied.
/// - 5 P2 CHQ-4 1500 oldest due first: SH-20 400, SH-21 600 -> both 0; 500 unapplied.
/// - 6 P2 CHQ-5 10 explicit SH-20:10, but SH-20 is paid: ALLOCATION_EXCEEDS_OPEN_AMOUNT.
/// - 7 P1 BANK-1 again (same subsidiary and reference as line 2): DUPLICATE_IN_FILE.
/// - 8 P1 BANK-7 method "barter": INVALID_ROW.
///
/// Accepted 4 (lines 2-5), refused 3. P1 then owes BJ-10 300 + SH-11 200 + SH-12 100 = 600
/// with 50 unapplied; P2 owes nothing and has 500 unapplied.
const PAYMENTS: &str = "\
subsidiary,customer,reference,currency,amount,received_date,method,allocations
SUB-SH,P1,BANK-1,CNY,600.00,2026-03-01,bank_transfer,SH-12:600.00
SUB-SH,P1,ALI-2,CNY,1200.00,2026-03-05,Alipay,
SUB-BJ,P1,WX-3,CNY,150.00,2026-03-06,wechat pay,SUB-SH:SH-11:100.00
SUB-SH,P2,CHQ-4,CNY,1500.00,2026-03-10,cheque,
SUB-SH,P2,CHQ-5,CNY,10.00,2026-03-11,cheque,SH-20:10.00
SUB-SH,P1,BANK-1,CNY,5.00,2026-03-12,cash,
SUB-SH,P1,BANK-7,CNY,5.00,2026-03-12,barter,
";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_payment_import_allocates_explicitly_and_oldest_due_first() {
    let Some(world) = World::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let invoices = write_file(dir.path(), "invoices.csv", PAYMENT_INVOICES);
    let (result, summary) = import(&world, "invoices", &invoices).await;
    result.unwrap();
    assert_eq!(counts(&summary), (6, 6, 0, 0), "{summary}");

    let payments = write_file(dir.path(), "payments.csv", PAYMENTS);
    let refused_file = dir.path().join("bad-payments.csv");
    let (result, output) = world
        .cli(&[
            "import",
            "payments",
            &payments,
            "--quiet",
            "--in-flight",
            "4",
            "--refused",
            refused_file.to_str().unwrap(),
            "--format",
            "json",
        ])
        .await;
    assert_eq!(result.unwrap_err().exit_code(), EXIT_REFUSED);
    let summary: serde_json::Value = serde_json::from_str(&output).unwrap();
    assert_eq!(counts(&summary), (7, 4, 0, 3), "{summary}");
    assert!(summary.get("over_limit").is_none(), "{summary}");
    assert_eq!(world.last_sequence().await, 6 + 4);
    let refused = refused_rows(
        refused_file.to_str().unwrap(),
        &[
            "subsidiary",
            "customer",
            "reference",
            "currency",
            "amount",
            "received_date",
            "method",
            "allocations",
        ],
    );
    let lines: Vec<(&str, &str)> = refused
        .iter()
        .map(|(line, code, _)| (line.as_str(), code.as_str()))
        .collect();
    assert_eq!(
        lines,
        vec![
            ("6", "ALLOCATION_EXCEEDS_OPEN_AMOUNT"),
            ("7", "DUPLICATE_IN_FILE"),
            ("8", "INVALID_ROW"),
        ]
    );
    assert!(
        refused[2]
            .2
            .starts_with("method: \"barter\" is not one of bank_transfer")
    );

    // The accounts, from the command service.
    let mut client = world.commands.client().await;
    let account = |customer: &str| pb::GetAccountRequest {
        customer_id: customer.to_owned(),
    };
    let p1 = client
        .get_account(account("P1"))
        .await
        .unwrap()
        .into_inner();
    let open: Vec<(String, String)> = p1
        .open_invoices
        .iter()
        .filter(|i| i.open_amount.as_ref().unwrap().amount != "0.00")
        .map(|i| {
            (
                i.invoice.as_ref().unwrap().invoice_number.clone(),
                i.open_amount.as_ref().unwrap().amount.clone(),
            )
        })
        .collect();
    // Oldest due first: BJ-10 (02-09), SH-11 (02-19), SH-12 (03-12).
    assert_eq!(
        open,
        vec![
            ("BJ-10".to_owned(), "300.00".to_owned()),
            ("SH-11".to_owned(), "200.00".to_owned()),
            ("SH-12".to_owned(), "100.00".to_owned()),
        ]
    );
    let balance = |account: &pb::GetAccountResponse| {
        let b = &account.balances[0];
        (
            b.open_invoices.as_ref().unwrap().amount.clone(),
            b.unapplied.as_ref().unwrap().amount.clone(),
        )
    };
    assert_eq!(balance(&p1), ("600.00".to_owned(), "50.00".to_owned()));
    let p2 = client
        .get_account(account("P2"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(balance(&p2), ("0.00".to_owned(), "500.00".to_owned()));

    // The events carry the rule the command service applied, and each payment's command id is
    // UUID v5 of its identity in the import namespace (fixed forever: a changed namespace would
    // post every imported payment again).
    let namespace = uuid::Uuid::parse_str("0a5bc31c-f758-4e3f-a1a9-c33a1ac51e6e").unwrap();
    let payments_recorded: BTreeMap<String, (String, String, String)> =
        receivables_tests::raw_events(&world.nats.url())
            .await
            .iter()
            .skip(6)
            .map(|event| {
                let data = &event.json["data"];
                (
                    data["reference"].as_str().unwrap().to_owned(),
                    (
                        data["allocation_rule"].as_str().unwrap().to_owned(),
                        data["unapplied"]["amount"].as_str().unwrap().to_owned(),
                        event.json["command_id"].as_str().unwrap().to_owned(),
                    ),
                )
            })
            .collect();
    let expected = |rule: &str, unapplied: &str, identity: &str| {
        (
            rule.to_owned(),
            unapplied.to_owned(),
            uuid::Uuid::new_v5(&namespace, identity.as_bytes()).to_string(),
        )
    };
    assert_eq!(
        payments_recorded,
        BTreeMap::from([
            (
                "ALI-2".to_owned(),
                expected("OLDEST_DUE_FIRST", "0.00", "payment/SUB-SH/ALI-2")
            ),
            (
                "BANK-1".to_owned(),
                expected("EXPLICIT", "0.00", "payment/SUB-SH/BANK-1")
            ),
            (
                "CHQ-4".to_owned(),
                expected("OLDEST_DUE_FIRST", "500.00", "payment/SUB-SH/CHQ-4")
            ),
            (
                "WX-3".to_owned(),
                expected("EXPLICIT", "50.00", "payment/SUB-BJ/WX-3")
            ),
        ])
    );

    // Again: nothing new.
    let (result, summary) = import(&world, "payments", &payments).await;
    assert_eq!(result.unwrap_err().exit_code(), EXIT_REFUSED);
    assert_eq!(counts(&summary), (7, 0, 4, 3), "{summary}");
    assert_eq!(world.last_sequence().await, 6 + 4);
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_import_stopped_by_an_outage_is_finished_by_running_it_again() {
    let Some(mut world) = World::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "invoices.csv", PAYMENT_INVOICES);
    world.nats.kill().await;

    let (result, summary) = import(&world, "invoices", &file).await;
    let error = result.expect_err("the event log is down");
    assert_eq!(error.exit_code(), EXIT_UNAVAILABLE, "{error}");
    let text = error.to_string();
    assert!(
        text.starts_with("import stopped after 0 of 6 rows (run it again to post the rest): "),
        "{text}"
    );
    assert!(!text.contains('\n'), "{text}");
    assert_eq!(summary["complete"], false);

    world.nats.restart().await;
    // The service reconnects to the restarted server on its own; give it a moment.
    let mut last = None;
    for _ in 0..50 {
        let (result, summary) = import(&world, "invoices", &file).await;
        match result {
            Ok(()) => {
                last = Some(summary);
                break;
            }
            Err(error) => {
                assert_eq!(error.exit_code(), EXIT_UNAVAILABLE, "{error}");
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        }
    }
    let summary = last.expect("the import never completed after the restart");
    // A run that failed half-way during the reconnection may have posted some rows: together
    // the last run accepted or found posted all six, and nothing twice.
    let (read, accepted, posted_before, refused) = counts(&summary);
    assert_eq!(
        (read, accepted + posted_before, refused),
        (6, 6, 0),
        "{summary}"
    );
    assert_eq!(world.last_sequence().await, 6);
    world.stop().await;
}

/// A customer's account, from the command service.
async fn account(world: &World, customer: &str) -> pb::GetAccountResponse {
    world
        .commands
        .client()
        .await
        .get_account(pb::GetAccountRequest {
            customer_id: customer.to_owned(),
        })
        .await
        .unwrap()
        .into_inner()
}

/// The invoices that still owe something, with what they owe, oldest due first.
fn open_amounts(account: &pb::GetAccountResponse) -> Vec<(String, String)> {
    account
        .open_invoices
        .iter()
        .filter(|i| i.open_amount.as_ref().unwrap().amount != "0.00")
        .map(|i| {
            (
                i.invoice.as_ref().unwrap().invoice_number.clone(),
                i.open_amount.as_ref().unwrap().amount.clone(),
            )
        })
        .collect()
}

/// The account's one balance: open invoices, unapplied cash, unapplied credit, exposure.
fn balance(account: &pb::GetAccountResponse) -> [String; 4] {
    assert_eq!(account.balances.len(), 1, "{account:?}");
    let b = &account.balances[0];
    let amount = |m: &Option<pb::Money>| m.as_ref().unwrap().amount.clone();
    [
        amount(&b.open_invoices),
        amount(&b.unapplied),
        amount(&b.unapplied_credit),
        amount(&b.exposure),
    ]
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

/// Invoices of the reversals: R1 (SUB-SH) RS-1 1000 due 02-04, RS-2 500 due 02-19; R2 (SUB-SH)
/// RS-3 800 due 02-09.
const REVERSAL_INVOICES: &str = "\
subsidiary,customer,number,currency,amount,issue_date,due_date
SUB-SH,R1,RS-1,CNY,1000.00,2026-01-05,2026-02-04
SUB-SH,R1,RS-2,CNY,500.00,2026-01-20,2026-02-19
SUB-SH,R2,RS-3,CNY,800.00,2026-01-10,2026-02-09
";

/// Payments, all accepted:
/// - BNK-1 R1 600 explicit RS-1:600 -> RS-1 400 open.
/// - CHQ-2 R1 700 oldest due first: RS-1 400 -> 0, RS-2 300 -> 200 open; nothing unapplied.
/// - CHQ-3 R2 1000 oldest due first: RS-3 800 -> 0; 200 unapplied.
/// - BNK-4 R2 100 oldest due first, nothing open: 100 unapplied.
///
/// R1 then owes RS-2 200; R2 owes nothing and has 300 unapplied.
const REVERSAL_PAYMENTS: &str = "\
subsidiary,customer,reference,currency,amount,received_date,method,allocations
SUB-SH,R1,BNK-1,CNY,600.00,2026-03-01,bank_transfer,RS-1:600.00
SUB-SH,R1,CHQ-2,CNY,700.00,2026-03-02,cheque,
SUB-SH,R2,CHQ-3,CNY,1000.00,2026-03-03,cheque,
SUB-SH,R2,BNK-4,CNY,100.00,2026-03-04,bank_transfer,
";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reversal_import_names_payments_by_reference_or_by_command_id() {
    let Some(world) = World::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let invoices = write_file(dir.path(), "invoices.csv", REVERSAL_INVOICES);
    let (result, _) = import(&world, "invoices", &invoices).await;
    result.unwrap();
    let payments = write_file(dir.path(), "payments.csv", REVERSAL_PAYMENTS);
    let (result, summary) = import(&world, "payments", &payments).await;
    result.unwrap();
    assert_eq!(counts(&summary), (4, 4, 0, 0), "{summary}");
    assert_eq!(world.last_sequence().await, 3 + 4);

    // The command ids of R1's CHQ-2 and R2's BNK-4 as the account shows them (BNK-4 is the one
    // received 2026-03-04), the way a payment posted otherwise would be known.
    let payment_id = |account: &pb::GetAccountResponse, received: &str| {
        account
            .payments
            .iter()
            .find(|p| p.received_date == received)
            .unwrap()
            .payment_command_id
            .clone()
    };
    let chq_2 = payment_id(&account(&world, "R1").await, "2026-03-02");
    let bnk_4 = payment_id(&account(&world, "R2").await, "2026-03-04");

    // Reversals, line by line:
    // - 2 R1 CHQ-2 by reference, 03-10: RS-1 400 and RS-2 300 owed again.
    // - 3 R2 CHQ-3 by reference, 03-11: RS-3 800 owed again, its 200 unapplied gone.
    // - 4 R2 BNK-4 by command id (in capitals, as a spreadsheet may have it), 03-12: its 100
    //   unapplied gone.
    // - 5 R1 both a reference and a command id: INVALID_ROW naming both columns.
    // - 6 R1 neither, a date 2026-3-13 and a reason "bounced": INVALID_ROW naming all three.
    // - 7 R1 CHQ-2 again, by its command id: DUPLICATE_IN_FILE (the reversal of line 2).
    // - 8 R1 a reference no payment of SUB-SH has: PAYMENT_NOT_FOUND (service).
    //
    // Accepted 3, refused 4. R1 owes RS-1 400 + RS-2 500 = 900, nothing unapplied; R2 owes
    // RS-3 800, nothing unapplied.
    let reversals = format!(
        "\
Subsidiary,Customer,Reversal Date,Reason,Payment Reference,Payment Command ID
SUB-SH,R1,2026-03-10,insufficient_funds,CHQ-2,
SUB-SH,R2,2026-03-11,Returned By Bank,CHQ-3,
SUB-SH,R2,2026-03-12,fraud,,{bnk_4_upper}
SUB-SH,R1,2026-03-13,fraud,BNK-1,{bnk_4}
SUB-SH,R1,2026-3-13,bounced,,
SUB-SH,R1,2026-03-14,entered_in_error,,{chq_2}
SUB-SH,R1,2026-03-14,entered_in_error,NOPE-9,
",
        bnk_4_upper = bnk_4.to_uppercase(),
    );
    let file = write_file(dir.path(), "reversals.csv", &reversals);
    let (result, summary) = import(&world, "reversals", &file).await;
    assert_eq!(result.unwrap_err().exit_code(), EXIT_REFUSED);
    assert_eq!(summary["kind"], "reversals");
    assert_eq!(counts(&summary), (7, 3, 0, 4), "{summary}");
    assert_eq!(
        by_reason(&summary),
        BTreeMap::from([
            ("DUPLICATE_IN_FILE".to_owned(), 1),
            ("INVALID_ROW".to_owned(), 2),
            ("PAYMENT_NOT_FOUND".to_owned(), 1),
        ])
    );
    assert_eq!(
        world.last_sequence().await,
        3 + 4 + 3,
        "one event per good row"
    );

    let refused = refused_rows(
        &format!("{file}.refused.csv"),
        &[
            "Subsidiary",
            "Customer",
            "Reversal Date",
            "Reason",
            "Payment Reference",
            "Payment Command ID",
        ],
    );
    let lines: Vec<(&str, &str)> = refused
        .iter()
        .map(|(line, code, _)| (line.as_str(), code.as_str()))
        .collect();
    assert_eq!(
        lines,
        vec![
            ("5", "INVALID_ROW"),
            ("6", "INVALID_ROW"),
            ("7", "DUPLICATE_IN_FILE"),
            ("8", "PAYMENT_NOT_FOUND"),
        ]
    );
    assert_eq!(
        refused[0].2,
        "payment_reference, payment_command_id: both are given (exactly one names the payment)"
    );
    let problems: Vec<&str> = refused[1]
        .2
        .split("; ")
        .map(|p| p.split_once(": ").unwrap().0)
        .collect();
    assert_eq!(
        problems,
        vec![
            "reversal_date",
            "reason",
            "payment_reference, payment_command_id"
        ],
        "{}",
        refused[1].2
    );
    assert_eq!(
        refused[2].2,
        format!("reversal/SUB-SH/{chq_2} is on line 2 already")
    );

    // The accounts: the reversed payments carry their dates, the others stand.
    let reversed_on = |account: &pb::GetAccountResponse| {
        let mut list: Vec<(String, String, String)> = account
            .payments
            .iter()
            .map(|p| {
                (
                    p.received_date.clone(),
                    p.amount.as_ref().unwrap().amount.clone(),
                    p.reversed_on.clone(),
                )
            })
            .collect();
        list.sort();
        list
    };
    let triple = |a: &str, b: &str, c: &str| (a.to_owned(), b.to_owned(), c.to_owned());
    let r1 = account(&world, "R1").await;
    assert_eq!(
        reversed_on(&r1),
        vec![
            triple("2026-03-01", "600.00", ""),
            triple("2026-03-02", "700.00", "2026-03-10"),
        ]
    );
    assert_eq!(
        open_amounts(&r1),
        owned(&[("RS-1", "400.00"), ("RS-2", "500.00")])
    );
    assert_eq!(balance(&r1), ["900.00", "0.00", "0.00", "900.00"]);
    let r2 = account(&world, "R2").await;
    assert_eq!(
        reversed_on(&r2),
        vec![
            triple("2026-03-03", "1000.00", "2026-03-11"),
            triple("2026-03-04", "100.00", "2026-03-12"),
        ]
    );
    assert_eq!(open_amounts(&r2), owned(&[("RS-3", "800.00")]));
    assert_eq!(balance(&r2), ["800.00", "0.00", "0.00", "800.00"]);

    // Again: the three reversals are found posted before, nothing is appended.
    let (result, summary) = import(&world, "reversals", &file).await;
    assert_eq!(result.unwrap_err().exit_code(), EXIT_REFUSED);
    assert_eq!(counts(&summary), (7, 0, 3, 4), "{summary}");
    assert_eq!(world.last_sequence().await, 3 + 4 + 3, "nothing appended");
    world.stop().await;
}

/// Invoices of the credit notes: N1 SUB-SH SH-30 1000, SUB-BJ BJ-30 400.
const CREDIT_NOTE_INVOICES: &str = "\
subsidiary,customer,number,currency,amount,issue_date,due_date
SUB-SH,N1,SH-30,CNY,1000.00,2026-01-05,2026-02-04
SUB-BJ,N1,BJ-30,CNY,400.00,2026-01-10,2026-02-09
";

/// Credit notes, line by line (one customer: posted in file order):
/// - 2 SUB-SH CN-1 300 against SH-30: SH-30 1000 - 300 = 700 open.
/// - 3 SUB-SH CN-2 150, no invoice: on account, 150 unapplied credit.
/// - 4 SUB-SH CN-3 amount "1,000.00", issue date 2026-13-01, no reason: INVALID_ROW naming the
///   three.
/// - 5 SUB-SH CN-1 again (another amount): DUPLICATE_IN_FILE.
/// - 6 SUB-BJ CN-4 500 against BJ-30, which owes 400: CREDIT_NOTE_EXCEEDS_OPEN_AMOUNT.
/// - 7 SUB-BJ CN-5 100 against SUB-BJ:BJ-30: BJ-30 400 - 100 = 300 open.
///
/// Accepted 3 (lines 2, 3, 7), refused 3. N1 then owes SH-30 700 + BJ-30 300 = 1000, has no
/// unapplied cash and 150 unapplied credit: exposure 1000 - 150 = 850.
const CREDIT_NOTES: &str = "\
subsidiary,customer,number,invoice,currency,amount,issue_date,reason
SUB-SH,N1,CN-1,SH-30,CNY,300.00,2026-02-01,price adjustment
SUB-SH,N1,CN-2,,CNY,150.00,2026-02-02,goodwill
SUB-SH,N1,CN-3,SH-30,CNY,\"1,000.00\",2026-13-01,
SUB-SH,N1,CN-1,SH-30,CNY,30.00,2026-02-03,price adjustment
SUB-BJ,N1,CN-4,BJ-30,CNY,500.00,2026-02-04,returned goods
SUB-BJ,N1,CN-5,SUB-BJ:BJ-30,CNY,100.00,2026-02-05,returned goods
";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_credit_note_import_credits_invoices_or_the_account() {
    let Some(world) = World::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let invoices = write_file(dir.path(), "invoices.csv", CREDIT_NOTE_INVOICES);
    let (result, _) = import(&world, "invoices", &invoices).await;
    result.unwrap();

    let file = write_file(dir.path(), "credit-notes.csv", CREDIT_NOTES);
    let (result, summary) = import(&world, "credit-notes", &file).await;
    let error = result.expect_err("refused rows make the import fail");
    assert_eq!(error.exit_code(), EXIT_REFUSED);
    let refused_file = format!("{file}.refused.csv");
    assert_eq!(
        error.to_string(),
        format!("3 of 6 rows refused; they are listed in {refused_file}")
    );
    assert_eq!(summary["kind"], "credit-notes");
    assert_eq!(summary["complete"], true);
    assert_eq!(counts(&summary), (6, 3, 0, 3), "{summary}");
    assert_eq!(
        by_reason(&summary),
        BTreeMap::from([
            ("CREDIT_NOTE_EXCEEDS_OPEN_AMOUNT".to_owned(), 1),
            ("DUPLICATE_IN_FILE".to_owned(), 1),
            ("INVALID_ROW".to_owned(), 1),
        ])
    );
    assert_eq!(world.last_sequence().await, 2 + 3, "one event per good row");

    // The refused rows: the file's own `reason` column, then `line` and the refusal's.
    let header = [
        "subsidiary",
        "customer",
        "number",
        "invoice",
        "currency",
        "amount",
        "issue_date",
        "reason",
    ];
    let refused = refused_rows(&refused_file, &header);
    let lines: Vec<(&str, &str)> = refused
        .iter()
        .map(|(line, code, _)| (line.as_str(), code.as_str()))
        .collect();
    assert_eq!(
        lines,
        vec![
            ("4", "INVALID_ROW"),
            ("5", "DUPLICATE_IN_FILE"),
            ("6", "CREDIT_NOTE_EXCEEDS_OPEN_AMOUNT"),
        ]
    );
    let problems: Vec<&str> = refused[0]
        .2
        .split("; ")
        .map(|p| p.split_once(": ").unwrap().0)
        .collect();
    assert_eq!(
        problems,
        vec!["amount", "issue_date", "reason"],
        "{}",
        refused[0].2
    );
    assert_eq!(refused[1].2, "credit-note/SUB-SH/CN-1 is on line 2 already");
    let text = std::fs::read_to_string(&refused_file).unwrap();
    assert!(
        text.contains(
            "SUB-BJ,N1,CN-4,BJ-30,CNY,500.00,2026-02-04,returned goods,6,\
             CREDIT_NOTE_EXCEEDS_OPEN_AMOUNT: "
        ),
        "{text}"
    );

    // The account, from the command service.
    let n1 = account(&world, "N1").await;
    let mut notes: Vec<(String, String, String, String)> = n1
        .credit_notes
        .iter()
        .map(|n| {
            (
                format!("{}/{}", n.subsidiary_id, n.credit_note_number),
                n.amount.as_ref().unwrap().amount.clone(),
                n.invoice
                    .as_ref()
                    .map(|i| format!("{}/{}", i.subsidiary_id, i.invoice_number))
                    .unwrap_or_default(),
                n.reason.clone(),
            )
        })
        .collect();
    notes.sort();
    let note = |key: &str, amount: &str, invoice: &str, reason: &str| {
        (
            key.to_owned(),
            amount.to_owned(),
            invoice.to_owned(),
            reason.to_owned(),
        )
    };
    assert_eq!(
        notes,
        vec![
            note("SUB-BJ/CN-5", "100.00", "SUB-BJ/BJ-30", "returned goods"),
            note("SUB-SH/CN-1", "300.00", "SUB-SH/SH-30", "price adjustment"),
            note("SUB-SH/CN-2", "150.00", "", "goodwill"),
        ]
    );
    assert_eq!(
        open_amounts(&n1),
        owned(&[("SH-30", "700.00"), ("BJ-30", "300.00")])
    );
    assert_eq!(balance(&n1), ["1000.00", "0.00", "150.00", "850.00"]);

    // Again: nothing new.
    let (result, summary) = import(&world, "credit-notes", &file).await;
    assert_eq!(result.unwrap_err().exit_code(), EXIT_REFUSED);
    assert_eq!(counts(&summary), (6, 0, 3, 3), "{summary}");
    assert_eq!(world.last_sequence().await, 2 + 3, "nothing appended");
    world.stop().await;
}

/// Five rows (the header is line 1):
/// - 2 C-ONE  Hongda Trading, one contact: registered.
/// - 3 C-TWO  an empty name: INVALID_ROW (client).
/// - 4 C-THREE country UK (the code is GB): INVALID_COMMAND (service).
/// - 5 C-ONE  again: DUPLICATE_IN_FILE (client).
/// - 6 C-FOUR two contacts, separated by `|`: registered.
const CUSTOMERS: &str = "\
customer,name,legal_name,tax_id,country,industry,notes,contacts
C-ONE,Hongda Trading,\"Shanghai Hongda Trading Co., Ltd.\",91310000MA1FL0XX1X,CN,wholesale,,Wang Fang;ap@hongda.example.cn;+86 21 5888 1234;accounts payable
C-TWO,,,,CN,,,
C-THREE,Three Ltd,,,UK,,,
C-ONE,Hongda again,,,CN,,,
C-FOUR,Four,,,DE,machinery,key account,Li Na;li@four.example.de;;buyer | Wu Hao;;+49 30 1234567;
";

/// The same file with C-ONE's legal name changed and the bad rows left out.
const CUSTOMERS_CHANGED: &str = "\
customer,name,legal_name,tax_id,country,industry,notes,contacts
C-ONE,Hongda Trading,Hongda Trading Group,91310000MA1FL0XX1X,CN,wholesale,,Wang Fang;ap@hongda.example.cn;+86 21 5888 1234;accounts payable
C-FOUR,Four,,,DE,machinery,key account,Li Na;li@four.example.de;;buyer | Wu Hao;;+49 30 1234567;
";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_customer_import_registers_new_customers_and_updates_known_ones() {
    let Some(world) = World::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "customers.csv", CUSTOMERS);

    let (result, summary) = import(&world, "customers", &file).await;
    assert_eq!(result.expect_err("refused rows").exit_code(), EXIT_REFUSED);
    assert_eq!(summary["kind"], "customers");
    assert_eq!(counts(&summary), (5, 2, 0, 3), "{summary}");
    assert_eq!(
        by_reason(&summary),
        BTreeMap::from([
            ("DUPLICATE_IN_FILE".to_owned(), 1),
            ("INVALID_COMMAND".to_owned(), 1),
            ("INVALID_ROW".to_owned(), 1),
        ])
    );
    assert_eq!(world.last_sequence().await, 2, "one event per good row");
    let one = account(&world, "C-ONE").await.customer.unwrap();
    assert_eq!(one.legal_name, "Shanghai Hongda Trading Co., Ltd.");
    assert_eq!(one.contacts[0].phone, "+86 21 5888 1234");
    let four = account(&world, "C-FOUR").await.customer.unwrap();
    let contacts: Vec<[&str; 4]> = four
        .contacts
        .iter()
        .map(|c| [&*c.name, &*c.email, &*c.phone, &*c.role])
        .collect();
    assert_eq!(
        contacts,
        [
            ["Li Na", "li@four.example.de", "", "buyer"],
            ["Wu Hao", "", "+49 30 1234567", ""],
        ]
    );

    // The same file again posts nothing new.
    let (_, summary) = import(&world, "customers", &file).await;
    assert_eq!(counts(&summary), (5, 0, 2, 3), "{summary}");
    assert_eq!(world.last_sequence().await, 2);

    // A changed row updates the record; an unchanged one posts nothing.
    let changed = write_file(dir.path(), "changed.csv", CUSTOMERS_CHANGED);
    let (result, summary) = import(&world, "customers", &changed).await;
    result.unwrap();
    assert_eq!(counts(&summary), (2, 1, 1, 0), "{summary}");
    assert_eq!(world.last_sequence().await, 3);
    let one = account(&world, "C-ONE").await.customer.unwrap();
    assert_eq!(one.legal_name, "Hongda Trading Group");
    // And again: nothing.
    let (_, summary) = import(&world, "customers", &changed).await;
    assert_eq!(counts(&summary), (2, 0, 2, 0), "{summary}");
    assert_eq!(world.last_sequence().await, 3);
}

/// Four rows (the header is line 1):
/// - 2 2026-03-01 USD 7.1: published.
/// - 3 2026-03-01 EUR 7.8: published.
/// - 4 2026-03-01 JPY 0: a rate of zero, INVALID_COMMAND (service).
/// - 5 2026-03-01 USD again: DUPLICATE_IN_FILE (client).
const RATES: &str = "\
base,date,currency,rate,source
CNY,2026-03-01,USD,7.1,PBOC central parity
CNY,2026-03-01,EUR,7.8,PBOC central parity
CNY,2026-03-01,JPY,0,PBOC central parity
CNY,2026-03-01,USD,7.2,PBOC central parity
";

/// USD corrected to 7.11; EUR as before.
const RATES_CORRECTED: &str = "\
base,date,currency,rate,source
CNY,2026-03-01,USD,7.11,PBOC central parity
CNY,2026-03-01,EUR,7.8,PBOC central parity
";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_exchange_rate_import_publishes_each_rate_and_republishes_a_corrected_one() {
    let Some(world) = World::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "rates.csv", RATES);

    let (result, summary) = import(&world, "exchange-rates", &file).await;
    assert_eq!(result.expect_err("refused rows").exit_code(), EXIT_REFUSED);
    assert_eq!(summary["kind"], "exchange-rates");
    assert_eq!(counts(&summary), (4, 2, 0, 2), "{summary}");
    assert_eq!(
        by_reason(&summary),
        BTreeMap::from([
            ("DUPLICATE_IN_FILE".to_owned(), 1),
            ("INVALID_COMMAND".to_owned(), 1),
        ])
    );
    assert_eq!(world.last_sequence().await, 2);
    let (_, summary) = import(&world, "exchange-rates", &file).await;
    assert_eq!(counts(&summary), (4, 0, 2, 2), "{summary}");

    let corrected = write_file(dir.path(), "corrected.csv", RATES_CORRECTED);
    let (result, summary) = import(&world, "exchange-rates", &corrected).await;
    result.unwrap();
    assert_eq!(counts(&summary), (2, 1, 1, 0), "{summary}");
    assert_eq!(world.last_sequence().await, 3);
}

/// Invoices on the group's payment terms, and the template posted from the command line:
/// - 2 T-1 on 30-50-20, good; 3 T-2 with a due date, good;
/// - 4 T-3 with both a due date and terms: INVALID_ROW (client);
/// - 5 T-4 on NET45, which the group never defined: PAYMENT_TERMS_UNKNOWN (service);
/// - 6 T-5 with neither: INVALID_ROW (client).
const INVOICES_ON_TERMS: &str = "\
subsidiary,customer,number,currency,amount,issue_date,due_date,payment_terms
SUB-SH,C-ONE,T-1,CNY,1000.00,2026-01-31,,30-50-20
SUB-SH,C-ONE,T-2,CNY,500.00,2026-02-01,2026-03-03,
SUB-SH,C-ONE,T-3,CNY,500.00,2026-02-01,2026-03-03,30-50-20
SUB-SH,C-ONE,T-4,CNY,500.00,2026-02-01,,NET45
SUB-SH,C-ONE,T-5,CNY,500.00,2026-02-01,,
";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn invoices_import_on_the_groups_payment_terms() {
    let Some(world) = World::start().await else {
        return;
    };
    world
        .ok(&[
            "post",
            "payment-terms",
            "--code",
            "30-50-20",
            "--line",
            "30/net0",
            "--line",
            "50/net60",
            "--line",
            "20/net90",
            "--discount",
            "2/10",
        ])
        .await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(dir.path(), "invoices.csv", INVOICES_ON_TERMS);

    let (result, summary) = import(&world, "invoices", &file).await;

    assert_eq!(result.unwrap_err().exit_code(), EXIT_REFUSED);
    assert_eq!(counts(&summary), (5, 2, 0, 3), "{summary}");
    assert_eq!(
        by_reason(&summary),
        BTreeMap::from([
            ("INVALID_ROW".to_owned(), 2),
            ("PAYMENT_TERMS_UNKNOWN".to_owned(), 1),
        ])
    );
    // The template, the two good rows.
    assert_eq!(world.last_sequence().await, 3);
    // One more on the template from the command line: its reply lists the rows (1,000.00 on
    // 2026-01-31: 300.00 then; 500.00 on 04-01, 01-31 + 60; 200.00 on 05-01) and the discount.
    let reply = world
        .json(&[
            "post",
            "invoice",
            "--customer",
            "C-ONE",
            "--subsidiary",
            "SUB-SH",
            "--number",
            "T-6",
            "--amount",
            "1000.00",
            "--currency",
            "CNY",
            "--issue-date",
            "2026-01-31",
            "--payment-terms",
            "30-50-20",
        ])
        .await;
    assert_eq!(
        reply["schedule"],
        "2026-01-31 300.00; 2026-04-01 500.00; 2026-05-01 200.00"
    );
    assert_eq!(reply["due_date"], "2026-05-01");
    assert_eq!(reply["discount"], "2 % within 10 days");
    world.stop().await;
}
