//! `aging`, `exposure`, `queue`, `promises`, `account`, `statement`, `confirmations`,
//! `activities`, `metrics` and `allowance` end to end: a small history posted with
//! `post`, read back through the query service in CSV and JSON, every figure worked out by hand.
//!
//! The history (CNY; day numbers of 2026: 01-31 = 31, 03-31 = 90, 04-30 = 120, 06-30 = 181):
//! - R1: limit 10000 BLOCK, grade A. SH-1 04-01/04-30 4000; payment 05-10 1000 oldest due first
//!   -> SH-1 (3000 open); SH-2 06-01 with 29 days' terms -> due 06-30, 3000. Promise 06-20 of
//!   1000 for 07-10 (collector Wang Fang).
//! - R2: limit 2000 WARN, grade C. BJ-1 03-01/03-31 2500: over the limit, accepted and flagged.
//! - R3: no limit. GZ-1 01-01/01-31 500.
//!
//! As of 2026-06-30 (day 181):
//! - R1: SH-1 3000, 181 - 120 = 61 days -> 61-90; SH-2 3000 due on the date -> current.
//! - R2: BJ-1 2500, 181 - 90 = 91 days -> 91-120.
//! - R3: GZ-1 500, 181 - 31 = 150 days -> over 120.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::HashMap;

use serde_json::Value;
use support::World;

const AS_OF: &str = "2026-06-30";

/// Posts the history; returns the position of its last event.
async fn post_history(world: &World) -> u64 {
    let limit = |customer: &'static str, limit: &'static str, policy: &'static str, grade| {
        vec![
            "post",
            "credit-limit",
            "--customer",
            customer,
            "--limit",
            limit,
            "--currency",
            "CNY",
            "--policy",
            policy,
            "--grade",
            grade,
            "--reason",
            "annual review",
            "--approved-by",
            "Li Wei",
            // In force before the history's first day, for reports as of any day of it.
            "--effective-date",
            "2026-01-01",
        ]
    };
    world.json(&limit("R1", "10000", "block", "a")).await;
    world.json(&limit("R2", "2000", "warn", "c")).await;
    let invoice = |customer, subsidiary, number, amount, issued, due| {
        vec![
            "post",
            "invoice",
            "--customer",
            customer,
            "--subsidiary",
            subsidiary,
            "--number",
            number,
            "--amount",
            amount,
            "--currency",
            "CNY",
            "--issue-date",
            issued,
            "--due-date",
            due,
        ]
    };
    world
        .json(&invoice(
            "R3",
            "SUB-GZ",
            "GZ-1",
            "500",
            "2026-01-01",
            "2026-01-31",
        ))
        .await;
    let over = world
        .json(&invoice(
            "R2",
            "SUB-BJ",
            "BJ-1",
            "2500",
            "2026-03-01",
            "2026-03-31",
        ))
        .await;
    // 2500 above the WARN limit of 2000: accepted, flagged.
    assert_eq!(over["over_limit"], true, "{over}");
    assert_eq!(over["policy"], "warn");
    assert_eq!(over["exposure_after"], "2500.00");
    world
        .json(&invoice(
            "R1",
            "SUB-SH",
            "SH-1",
            "4000",
            "2026-04-01",
            "2026-04-30",
        ))
        .await;
    let paid = world
        .json(&[
            "post",
            "payment",
            "--customer",
            "R1",
            "--subsidiary",
            "SUB-SH",
            "--amount",
            "1000",
            "--currency",
            "CNY",
            "--received-date",
            "2026-05-10",
            "--method",
            "bank-transfer",
            "--reference",
            "TT-1",
        ])
        .await;
    assert_eq!(paid["allocation_rule"], "oldest_due_first", "{paid}");
    assert_eq!(
        paid["allocations"],
        serde_json::json!([
            {"subsidiary_id": "SUB-SH", "invoice_number": "SH-1", "amount": "1000.00"}
        ])
    );
    assert_eq!(paid["unapplied"], "0.00");
    let terms = world
        .json(&[
            "post",
            "invoice",
            "--customer",
            "R1",
            "--subsidiary",
            "SUB-SH",
            "--number",
            "SH-2",
            "--amount",
            "3000",
            "--currency",
            "CNY",
            "--issue-date",
            "2026-06-01",
            "--terms-days",
            "29",
        ])
        .await;
    // 06-01 + 29 days = 06-30.
    assert_eq!(terms["due_date"], "2026-06-30");
    let promise = world
        .json(&[
            "post",
            "promise",
            "--customer",
            "R1",
            "--subsidiary",
            "SUB-SH",
            "--amount",
            "1000",
            "--currency",
            "CNY",
            "--made-on",
            "2026-06-20",
            "--promised-date",
            "2026-07-10",
            "--invoice",
            "SH-2",
            "--collector",
            "Wang Fang",
        ])
        .await;
    assert!(!promise["promise_id"].as_str().unwrap().is_empty());
    world
        .json(&[
            "post",
            "customer",
            "--customer",
            "R1",
            "--name",
            "Ruixin Trading",
            "--legal-name",
            "Shanghai Ruixin Trading Co., Ltd.",
            "--country",
            "CN",
            "--contact",
            "Wang Fang;ap@ruixin.example.cn;+86 21 5888 1234;accounts payable",
        ])
        .await;
    world
        .json(&[
            "post",
            "collector",
            "--customer",
            "R1",
            "--collector",
            "Zhou Min",
        ])
        .await;
    let assigned = world
        .json(&[
            "post",
            "collector",
            "--default-for",
            "SUB-BJ",
            "--collector",
            "Sun Li",
        ])
        .await;
    // The group's currency is CNY: its lines are worth as much in it, at 1.
    let rates = world
        .json(&[
            "post",
            "exchange-rates",
            "--base",
            "CNY",
            "--date",
            "2026-01-01",
            "--rate",
            "USD=7.1",
        ])
        .await;
    assert_eq!(
        assigned["position"].as_u64().unwrap() + 1,
        rates["position"]
    );
    // Two limits, four invoices, one payment, one promise, a registration, two assignments,
    // one publication of rates.
    let position = rates["position"].as_u64().unwrap();
    assert_eq!(position, 12);
    position
}

/// A query's arguments as of [`AS_OF`], once the read side has applied `min_position`.
fn query<'a>(args: &[&'a str], min_position: &'a str) -> Vec<&'a str> {
    let mut all = args.to_vec();
    all.extend(["--as-of", AS_OF, "--min-position", min_position]);
    all
}

fn row<'a>(
    rows: &'a [HashMap<String, String>],
    key: &str,
    value: &str,
) -> &'a HashMap<String, String> {
    rows.iter()
        .find(|r| r[key] == value)
        .unwrap_or_else(|| panic!("no row with {key} = {value}: {rows:?}"))
}

fn pick(row: &HashMap<String, String>, keys: &[&str]) -> Vec<String> {
    keys.iter().map(|k| row[*k].clone()).collect()
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| (*v).to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reports_in_csv_and_json_match_the_figures_worked_out_by_hand() {
    let Some(world) = World::start_with_queries().await else {
        return;
    };
    let position = post_history(&world).await;
    let min = position.to_string();

    // Aging by customer, CSV.
    let args = query(&["aging"], &min);
    let aging = world.csv(&args).await;
    let columns = [
        "group",
        "name",
        "currency",
        "current",
        "1-30",
        "31-60",
        "61-90",
        "91-120",
        "over 120",
        "open_total",
        "unapplied",
    ];
    let lines: Vec<Vec<String>> = aging.iter().map(|r| pick(r, &columns)).collect();
    assert_eq!(
        lines,
        vec![
            strings(&[
                "R1",
                "Ruixin Trading",
                "CNY",
                "3000.00",
                "0.00",
                "0.00",
                "3000.00",
                "0.00",
                "0.00",
                "6000.00",
                "0.00"
            ]),
            strings(&[
                "R2", "", "CNY", "0.00", "0.00", "0.00", "0.00", "2500.00", "0.00", "2500.00",
                "0.00"
            ]),
            strings(&[
                "R3", "", "CNY", "0.00", "0.00", "0.00", "0.00", "0.00", "500.00", "500.00", "0.00"
            ]),
        ]
    );

    // The whole group, JSON: the customer lines added up column by column.
    // current 3000; 61-90 3000; 91-120 2500; over 120 500; total 9000.
    let args = query(&["aging", "--group-by", "group"], &min);
    let group = world.json(&args).await;
    assert_eq!(group["as_of"], AS_OF);
    assert!(group["position"].as_u64().unwrap() >= position);
    assert_eq!(
        group["lines"],
        serde_json::json!([{
            "group": "GROUP", "name": null, "currency": "CNY",
            "current": "3000.00", "1-30": "0.00", "31-60": "0.00", "61-90": "3000.00",
            "91-120": "2500.00", "over 120": "500.00",
            "open_total": "9000.00", "unapplied": "0.00", "disputed": "0.00",
            "open_total_group": "9000.00", "group_rate": "1"
        }])
    );

    // Other edges (60, 120): current, 1-60, 61-120, over 120. R1's 61 days and R2's 91 days
    // both fall in 61-120: 3000 + 2500 = 5500.
    let args = query(&["aging", "--group-by", "group", "--edges", "60,120"], &min);
    let edges = world.csv(&args).await;
    assert_eq!(
        pick(
            &edges[0],
            &["current", "1-60", "61-120", "over 120", "open_total"]
        ),
        strings(&["3000.00", "0.00", "5500.00", "500.00", "9000.00"])
    );

    // Exposure list by utilisation, CSV.
    // R2: 2500 / 2000 = 1.2500, over, available -500, overdue 2500, oldest 91.
    // R1: 6000 / 10000 = 0.6000, available 4000, overdue SH-1's 3000 (SH-2 is due on the date),
    //     oldest 61, last payment 05-10.
    // R3: no limit, exposure 500, overdue 500, oldest 150.
    let args = query(&["exposure"], &min);
    let exposures = world.csv(&args).await;
    let columns = [
        "customer_id",
        "customer_name",
        "limit",
        "policy",
        "grade",
        "exposure",
        "overdue",
        "available",
        "utilisation",
        "over_limit",
        "oldest_days_past_due",
        "last_payment_date",
    ];
    let lines: Vec<Vec<String>> = exposures.iter().map(|r| pick(r, &columns)).collect();
    assert_eq!(
        lines,
        vec![
            strings(&[
                "R2", "", "2000.00", "warn", "C", "2500.00", "2500.00", "-500.00", "1.2500",
                "true", "91", ""
            ]),
            strings(&[
                "R1",
                "Ruixin Trading",
                "10000.00",
                "block",
                "A",
                "6000.00",
                "3000.00",
                "4000.00",
                "0.6000",
                "false",
                "61",
                "2026-05-10"
            ]),
            strings(&[
                "R3", "", "", "", "", "500.00", "500.00", "", "", "false", "150", ""
            ]),
        ]
    );

    // Only the customers over their limit, JSON: R2 alone.
    let args = query(&["exposure", "--over-limit"], &min);
    let over = world.json(&args).await;
    let customers: Vec<&str> = over["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["customer_id"].as_str().unwrap())
        .collect();
    assert_eq!(customers, ["R2"]);
    assert_eq!(over["lines"][0]["over_limit"], true);
    assert_eq!(over["lines"][0]["oldest_days_past_due"], 91);

    // The two most utilised, following pages of one line at a time is the service's business;
    // the client stops at --limit.
    let args = query(&["exposure", "--limit", "2"], &min);
    let top: Vec<String> = world
        .csv(&args)
        .await
        .iter()
        .map(|r| r["customer_id"].clone())
        .collect();
    assert_eq!(top, ["R2", "R1"]);

    // One customer, JSON.
    let args = query(&["exposure", "--customer", "R1"], &min);
    let r1 = world.json(&args).await;
    assert_eq!(r1["lines"].as_array().unwrap().len(), 1);
    assert_eq!(r1["lines"][0]["exposure"], "6000.00");
    assert_eq!(r1["lines"][0]["available"], "4000.00");

    // The work queue: score = 0.001 x overdue + days + 25 x broken or partially kept promises
    // (the column `broken_promises`).
    // R3: 0.5 + 150 = 150.5, over 90 days -> legal_or_agency.
    // R2: 2.5 + 91 = 93.5 -> legal_or_agency.
    // R1: 3 + 61 = 64, 61-90 days -> stop_supply, but snoozed by its open promise for 07-10
    //     until 07-11: only with --include-snoozed.
    let args = query(&["queue"], &min);
    let queue = world.csv(&args).await;
    let columns = [
        "rank",
        "customer_id",
        "overdue",
        "oldest_due_date",
        "days_past_due",
        "broken_promises",
        "escalation",
        "score",
        "snoozed_until",
    ];
    let lines: Vec<Vec<String>> = queue.iter().map(|r| pick(r, &columns)).collect();
    assert_eq!(
        lines,
        vec![
            strings(&[
                "1",
                "R3",
                "500.00",
                "2026-01-31",
                "150",
                "0",
                "legal_or_agency",
                "150.5",
                ""
            ]),
            strings(&[
                "2",
                "R2",
                "2500.00",
                "2026-03-31",
                "91",
                "0",
                "legal_or_agency",
                "93.5",
                ""
            ]),
        ]
    );
    assert!(!row(&queue, "customer_id", "R3")["rule"].is_empty());

    let args = query(&["queue", "--include-snoozed"], &min);
    let queue = world.json(&args).await;
    let items: Vec<(String, String, String, String, String)> = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let s = |k: &str| i[k].as_str().unwrap_or("").to_owned();
            (
                s("customer_id"),
                s("score"),
                s("escalation"),
                s("snoozed_until"),
                s("collector"),
            )
        })
        .collect();
    let item = |c: &str, score: &str, level: &str, snoozed: &str, collector: &str| {
        (
            c.to_owned(),
            score.to_owned(),
            level.to_owned(),
            snoozed.to_owned(),
            collector.to_owned(),
        )
    };
    assert_eq!(
        items,
        vec![
            // R1's own collector; R2's from SUB-BJ's default; SUB-GZ has none for R3. The
            // promise's collector (Wang Fang) does not decide.
            item("R3", "150.5", "legal_or_agency", "", ""),
            item("R2", "93.5", "legal_or_agency", "", "Sun Li"),
            item("R1", "64", "stop_supply", "2026-07-11", "Zhou Min"),
        ]
    );

    // A collector's queue: exactly that collector's customers.
    let args = query(
        &["queue", "--include-snoozed", "--collector", "Sun Li"],
        &min,
    );
    let sun_li: Vec<String> = world
        .csv(&args)
        .await
        .iter()
        .map(|r| format!("{} {}", r["customer_id"], r["collector_default_of"]))
        .collect();
    assert_eq!(sun_li, ["R2 SUB-BJ"]);

    // The customer search, CSV: the record as registered, contacts in one cell.
    let customers = world
        .csv(&["customers", "ruixin", "--min-position", &min])
        .await;
    assert_eq!(customers.len(), 1);
    assert_eq!(
        pick(
            &customers[0],
            &[
                "customer_id",
                "name",
                "legal_name",
                "country",
                "collector",
                "contacts"
            ]
        ),
        strings(&[
            "R1",
            "Ruixin Trading",
            "Shanghai Ruixin Trading Co., Ltd.",
            "CN",
            "Zhou Min",
            "Wang Fang;ap@ruixin.example.cn;+86 21 5888 1234;accounts payable"
        ])
    );

    let args = query(&["queue", "--include-snoozed", "--limit", "1"], &min);
    let first = world.csv(&args).await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0]["customer_id"], "R3");

    // R1's promise as of 06-30: window 06-20 to 07-10 + 3 = 07-13, nothing paid yet -> open.
    let args = query(&["promises", "--customer", "R1"], &min);
    let promises = world.json(&args).await;
    let promise = &promises["promises"][0];
    assert_eq!(promises["promises"].as_array().unwrap().len(), 1);
    assert_eq!(
        (
            &promise["amount"],
            &promise["paid"],
            &promise["window_end"],
            &promise["status"],
            &promise["collector"],
        ),
        (
            &Value::from("1000.00"),
            &Value::from("0.00"),
            &Value::from("2026-07-13"),
            &Value::from("open"),
            &Value::from("Wang Fang"),
        )
    );

    // R1's account: its exposure line, SH-1 (3000 open, 61 days) and SH-2 (3000, 0 days), and
    // the promise.
    let args = query(&["account", "--customer", "R1"], &min);
    let account = world.json(&args).await;
    assert_eq!(account["customer_id"], "R1");
    assert_eq!(account["exposure"][0]["exposure"], "6000.00");
    let mut open: Vec<(String, String, i64)> = account["open_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["invoice_number"].as_str().unwrap().to_owned(),
                i["open_amount"].as_str().unwrap().to_owned(),
                i["days"].as_i64().unwrap(),
            )
        })
        .collect();
    open.sort();
    assert_eq!(
        open,
        vec![
            ("SH-1".to_owned(), "3000.00".to_owned(), 61),
            ("SH-2".to_owned(), "3000.00".to_owned(), 0),
        ]
    );
    assert_eq!(account["promises"][0]["status"], "open");

    // The account in CSV: three blocks, each after its name.
    let args = query(&["account", "--customer", "R1"], &min);
    let csv = world.ok(&[&args[..], &["--format", "csv"]].concat()).await;
    let blocks: Vec<&str> = csv.split("\n\n").collect();
    assert_eq!(blocks.len(), 3, "{csv}");
    assert!(blocks[0].starts_with("# exposure\ncustomer_id,"), "{csv}");
    assert!(
        blocks[1].starts_with("# open_items\nsubsidiary_id,"),
        "{csv}"
    );
    assert!(blocks[2].starts_with("# promises\npromise_id,"), "{csv}");

    // And as a table for people: the caption, amounts right-aligned under their header.
    let args = query(&["aging"], &min);
    let table = world.ok(&args).await;
    assert!(
        table.starts_with(&format!("Aging as of {AS_OF} (log position ")),
        "{table}"
    );
    let r3 = table.lines().find(|l| l.contains("R3")).unwrap();
    assert!(r3.contains("   500.00 ┆"), "{table}");

    // R1's statement for April to June, JSON: nothing before April (a limit moves nothing), so
    // it opens at 0; SH-1 4,000 (debit); TT-1 1,000 kept nothing on account and went to SH-1
    // (credit on its allocation row); SH-2 3,000. Closing 0 + 7,000 - 1,000 = 6,000, R1's open
    // total in the aging above.
    let statement = world
        .json(&[
            "statement",
            "--customer",
            "R1",
            "--from",
            "2026-04-01",
            "--to",
            AS_OF,
            "--min-position",
            &min,
        ])
        .await;
    let rows: Vec<Vec<String>> = statement["movements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            [
                "date", "kind", "document", "invoice", "debit", "credit", "balance",
            ]
            .iter()
            // An empty cell (no debit, no document) is null in JSON.
            .map(|k| m[*k].as_str().unwrap_or_default().to_owned())
            .collect()
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            strings(&["2026-04-01", "opening", "", "", "", "", "0.00"]),
            strings(&[
                "2026-04-01",
                "invoice",
                "SH-1",
                "SUB-SH/SH-1",
                "4000.00",
                "",
                "4000.00"
            ]),
            strings(&["2026-05-10", "payment", "TT-1", "", "", "", "4000.00"]),
            strings(&[
                "2026-05-10",
                "allocation",
                "TT-1",
                "SUB-SH/SH-1",
                "",
                "1000.00",
                "3000.00"
            ]),
            strings(&[
                "2026-06-01",
                "invoice",
                "SH-2",
                "SUB-SH/SH-2",
                "3000.00",
                "",
                "6000.00"
            ]),
            strings(&["2026-06-30", "closing", "", "", "", "", "6000.00"]),
        ]
    );
    assert_eq!(statement["aging"][0]["open_total"], "6000.00");
    assert_eq!(
        statement["customer"]["legal_name"],
        "Shanghai Ruixin Trading Co., Ltd."
    );
    // As CSV, two blocks; as a table, its caption.
    let args = [
        "statement",
        "--customer",
        "R1",
        "--from",
        "2026-04-01",
        "--to",
        AS_OF,
    ];
    let csv = world.ok(&[&args[..], &["--format", "csv"]].concat()).await;
    assert!(csv.starts_with("# movements\ncurrency,date,kind,"), "{csv}");
    assert!(csv.contains("\n# aging\ngroup,"), "{csv}");
    let table = world.ok(&args).await;
    assert!(
        // Addressed to the customer's legal name once it is registered.
        table.starts_with(
            "Statement of R1 Shanghai Ruixin Trading Co., Ltd. from 2026-04-01 to 2026-06-30 \
             (log position "
        ),
        "{table}"
    );

    // R1 confirms 5,500.00 where the statement closes at 6,000.00: -500.00 to investigate.
    let confirmed = world
        .json(&[
            "post",
            "balance-confirmation",
            "--customer",
            "R1",
            "--as-of",
            AS_OF,
            "--amount",
            "5500",
            "--currency",
            "CNY",
            "--confirmed-by",
            "Li Na",
        ])
        .await;
    assert_eq!(confirmed["balance"], "6000.00", "{confirmed}");
    assert_eq!(confirmed["difference"], "-500.00", "{confirmed}");
    let after = confirmed["position"].as_u64().unwrap().to_string();
    let differences = world
        .json(&["confirmations", "--differences", "--min-position", &after])
        .await;
    assert_eq!(
        differences["confirmations"],
        serde_json::json!([{
            "customer_id": "R1", "as_of": AS_OF, "currency": "CNY",
            "confirmed": "5500.00", "balance": "6000.00", "difference": "-500.00",
            "confirmed_by": "Li Na", "note": null, "position": confirmed["position"],
        }])
    );

    // Li Na called R2 on 06-30 and looks again on 07-03: the queue shows the contact, and
    // leaves R2 out until then.
    let called = world
        .json(&[
            "post",
            "collection-activity",
            "--customer",
            "R2",
            "--subsidiary",
            "SUB-BJ",
            "--channel",
            "call",
            "--outcome",
            "reached",
            "--occurred-on",
            AS_OF,
            "--collector",
            "Li Na",
            "--next-action-on",
            "2026-07-03",
            "--invoice",
            "BJ-1",
        ])
        .await;
    let after = called["position"].as_u64().unwrap().to_string();
    let activities = world
        .csv(&[
            "activities",
            "--from",
            "2026-06-01",
            "--to",
            AS_OF,
            "--min-position",
            &after,
        ])
        .await;
    let columns = [
        "occurred_on",
        "customer_id",
        "channel",
        "outcome",
        "collector",
    ];
    assert_eq!(
        activities
            .iter()
            .map(|r| pick(r, &columns))
            .collect::<Vec<_>>(),
        vec![strings(&[AS_OF, "R2", "call", "reached", "Li Na"])]
    );
    assert_eq!(activities[0]["next_action_on"], "2026-07-03");
    assert_eq!(activities[0]["invoices"], "SUB-BJ/BJ-1");
    let queue = world
        .csv(&query(&["queue", "--include-snoozed"], &after))
        .await;
    let r2 = row(&queue, "customer_id", "R2");
    assert_eq!(
        pick(
            r2,
            &["snoozed_until", "last_contact", "last_contact_outcome"]
        ),
        strings(&["2026-07-03", AS_OF, "reached"])
    );

    // June's metrics: open 9,000.00 on 06-30 (SH-1 3,000 and BJ-1 2,500 and GZ-1 500 overdue,
    // SH-2 3,000 due that day), June's credit sales SH-2's 3,000, 30 days: overdue rate 6,000 /
    // 9,000 = 66.67 %, DSO 9,000 / 3,000 × 30 = 90.00.
    let figures = world
        .csv(&["metrics", "--month", "2026-06", "--min-position", &after])
        .await;
    let cny: Vec<&HashMap<String, String>> =
        figures.iter().filter(|r| r["currency"] == "CNY").collect();
    let value = |metric: &str| {
        cny.iter()
            .find(|r| r["metric"] == metric)
            .map(|r| r["value"].parse::<f64>().unwrap())
    };
    assert_eq!(value("overdue_rate"), Some(66.67));
    assert_eq!(value("dso_simple"), Some(90.0));
    let collectors = world
        .csv(&[
            "metrics",
            "--month",
            "2026-06",
            "--collectors",
            "--min-position",
            &after,
        ])
        .await;
    assert_eq!(row(&collectors, "collector", "Li Na")["activities"], "1");

    // The allowance at 0, 10, 20, 30, 40 and 50 %: 3,000 × 30 % + 2,500 × 40 % + 500 × 50 % =
    // 900 + 1,000 + 250 = 2,150.00 required, charged from nothing; net 9,000 − 2,150.
    let allowance = world
        .csv(&query(
            &["allowance", "--rates", "0,10,20,30,40,50"],
            &after,
        ))
        .await;
    let provision = |bucket: &str| row(&allowance, "bucket", bucket)["provision"].clone();
    assert_eq!(provision("61-90"), "900.00");
    assert_eq!(provision("required allowance"), "2150.00");
    assert_eq!(provision("adjustment (charge)"), "2150.00");
    assert_eq!(
        row(&allowance, "bucket", "net receivables")["balance"],
        "6850.00"
    );
    world.stop().await;
}
