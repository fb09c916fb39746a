//! The matcher measured on a labelled set: the demo data set loaded into the all-in-one service
//! (embedded), then a statement of receipts generated from its open invoices, each line
//! labelled with the customer and invoices it pays, in the shapes a treasury sees:
//!
//! - `exact`: the invoice's number as issued, the amount it owes, the customer's name;
//! - `mangled`: the number lower-cased and spaced, without its leading zeros, without its
//!   subsidiary's prefix, or without separators;
//! - `missing`: no number, the amount it owes, the customer's name;
//! - `combined`: two or three of one customer's invoices named, their sum;
//! - `partial`: one invoice named, half of what it owes;
//! - `sister`: the number and the amount, paid by another customer (a sister company);
//! - `net`: the invoice "less" a credit note on account issued for the test (a tenth of what
//!   the invoice owes), both named, the difference paid: right only when the credit is applied
//!   to that invoice as well;
//! - `noise`: interest and transfers that are no customer's.
//!
//! The statement is imported over gRPC; the automatic matches are read back from the bank
//! account's stream (`ReplayEvents`). A wrong automatic posting is worse than none: the
//! precision of the automatic matches must be 100 %. Recall and the review queue's share are
//! printed (and recorded in BENCHMARKS.md), not asserted beyond a floor that shows the matcher
//! works at all.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use receivables_api::pb;
use receivables_api::pb::audit_service_client::AuditServiceClient;
use receivables_api::pb::receipt_service_client::ReceiptServiceClient;
use receivables_demo::DemoSize;
use receivables_tests::*;
use rust_decimal::Decimal;

const ACCOUNT: &str = "BOC-GROUP-CNY";
const NUMBER: &str = "CN-BOC-4567-0001";

/// What a line is labelled with: the customer and the invoices it pays (none for noise), and
/// those its customer's credit is to settle the rest of (a `net` line's invoice).
#[derive(Debug, Clone)]
struct Label {
    shape: &'static str,
    customer: Option<String>,
    invoices: BTreeSet<String>,
    credited: BTreeSet<String>,
}

#[derive(Debug, Clone)]
struct Line {
    id: String,
    amount: Decimal,
    payer: String,
    reference: String,
    label: Label,
}

#[derive(Debug, Clone)]
struct Open {
    customer: String,
    subsidiary: String,
    number: String,
    open: Decimal,
}

/// The number as a payer might mangle it: one of four manglings, by `which`.
fn mangle(number: &str, which: u32) -> String {
    match which % 4 {
        // Lower case, separators as spaces.
        0 => number.to_lowercase().replace(['-', '/'], " "),
        // Leading zeros of the digit runs dropped.
        1 => number
            .split(['-', '/'])
            .map(|part| {
                let trimmed = part.trim_start_matches('0');
                if trimmed.is_empty() { "0" } else { trimmed }
            })
            .collect::<Vec<_>>()
            .join("-"),
        // Without the subsidiary's prefix (the first letters).
        2 => number
            .split_once(['-', '/'])
            .map_or(number.to_owned(), |(_, rest)| rest.to_owned()),
        // Without separators.
        _ => number.replace(['-', '/'], ""),
    }
}

fn camt(lines: &[Line], value_date: &str) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"><BkToCstmrStmt><GrpHdr><MsgId>LABELLED</MsgId><CreDtTm>2026-01-01T00:00:00</CreDtTm></GrpHdr><Stmt><Id>LABELLED-1</Id><CreDtTm>2026-01-01T00:00:00</CreDtTm><Acct><Id><Othr><Id>",
    );
    xml.push_str(NUMBER);
    xml.push_str("</Id></Othr></Id><Ccy>CNY</Ccy></Acct>");
    let escape = |text: &str| {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    for line in lines {
        xml.push_str(&format!(
            "<Ntry><Amt Ccy=\"CNY\">{}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>{value_date}</Dt></BookgDt><ValDt><Dt>{value_date}</Dt></ValDt><AcctSvcrRef>{}</AcctSvcrRef><NtryDtls><TxDtls><RltdPties><Dbtr><Nm>{}</Nm></Dbtr></RltdPties><RmtInf><Ustrd>{}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>",
            line.amount,
            line.id,
            escape(&line.payer),
            escape(&line.reference)
        ));
    }
    xml.push_str("</Stmt></BkToCstmrStmt></Document>\n");
    xml
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn automatic_matches_on_a_labelled_set_from_the_demo_data_are_all_right() {
    init_logging();
    let Some(data) = TestData::create(Backends::Embedded).await else {
        return;
    };
    let service = TestAllInOne::start(&data).await;
    let today = chrono::Utc::now().date_naive();
    let size = DemoSize {
        customers: 80,
        months: 4,
        over_limit_invoices: 0,
    };
    let loaded = receivables_demo::load(
        service.channel().await,
        receivables_demo::generate(19, &size, today),
        false,
    )
    .await
    .expect("the demo data");

    // Given the demo's open CNY invoices and its customers' names
    let mut queries = service.queries().await;
    let mut open = Vec::new();
    let mut first_subsidiary = None;
    let mut token = String::new();
    loop {
        let page = queries
            .list_open_items(pb::ListOpenItemsRequest {
                scope: Some(pb::AgingScope {
                    as_of: today.to_string(),
                    currency: "CNY".to_owned(),
                    ..pb::AgingScope::default()
                }),
                page_size: 1000,
                page_token: token.clone(),
                min_position: loaded.last_position,
                ..pb::ListOpenItemsRequest::default()
            })
            .await
            .expect("the open items")
            .into_inner();
        if first_subsidiary.is_none() {
            first_subsidiary = page
                .items
                .first()
                .map(|item| item.invoice.as_ref().unwrap().subsidiary_id.clone());
        }
        open.extend(page.items.iter().map(|item| Open {
            customer: item.customer_id.clone(),
            subsidiary: item.invoice.as_ref().unwrap().subsidiary_id.clone(),
            number: item.invoice.as_ref().unwrap().invoice_number.clone(),
            open: item.open_amount.as_ref().unwrap().amount.parse().unwrap(),
        }));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert!(open.len() > 100, "{} open CNY invoices", open.len());
    let mut commands = service.commands().await;
    let mut names = BTreeMap::new();
    for customer in open
        .iter()
        .map(|o| o.customer.clone())
        .collect::<BTreeSet<_>>()
    {
        let account = commands
            .get_account(pb::GetAccountRequest {
                customer_id: customer.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        if let Some(profile) = account.customer {
            names.insert(customer, profile.name);
        }
    }
    // The bank account is held by the subsidiary of the first open invoice; the matcher
    // pays any subsidiary's invoices (the service runs without tokens: no role to confine it).
    let subsidiary_id = first_subsidiary.expect("an open invoice");
    let mut receipts = ReceiptServiceClient::new(service.channel().await)
        .max_encoding_message_size(64 * 1024 * 1024);
    receipts
        .register_bank_account(pb::RegisterBankAccountRequest {
            command_id: command_id(),
            bank_account_id: ACCOUNT.to_owned(),
            subsidiary_id,
            currency: "CNY".to_owned(),
            number: NUMBER.to_owned(),
            bank: "Bank of China".to_owned(),
            name: "Group treasury".to_owned(),
        })
        .await
        .expect("the bank account");

    // And a labelled statement made of them, each invoice paid by one line at most
    let mut rng = StdRng::seed_from_u64(20_261_207);
    let mut by_customer: BTreeMap<String, Vec<Open>> = BTreeMap::new();
    for item in open {
        by_customer
            .entry(item.customer.clone())
            .or_default()
            .push(item);
    }
    let customers: Vec<String> = by_customer.keys().cloned().collect();
    let mut lines = Vec::new();
    let mut next_id = 0;
    let mut id = || {
        next_id += 1;
        format!("LBL{next_id:06}")
    };
    let name_of = |customer: &str| names.get(customer).cloned().unwrap_or_default();
    // The credit notes the `net` lines name, issued before the statement is imported.
    let mut credit_notes: Vec<pb::IssueCreditNoteRequest> = Vec::new();
    for customer in &customers {
        let mut items = by_customer[customer].clone();
        items.shuffle(&mut rng);
        while let Some(item) = items.pop() {
            let shape = rng.random_range(0..7u32);
            let single =
                |shape: &'static str, reference: String, amount: Decimal, payer: String| Line {
                    id: String::new(),
                    amount,
                    payer,
                    reference,
                    label: Label {
                        shape,
                        customer: Some(item.customer.clone()),
                        invoices: [item.number.clone()].into(),
                        credited: BTreeSet::new(),
                    },
                };
            let mut line = match shape {
                0 => single("exact", item.number.clone(), item.open, name_of(customer)),
                1 => single(
                    "mangled",
                    format!("payment {}", mangle(&item.number, rng.random_range(0..4))),
                    item.open,
                    name_of(customer),
                ),
                2 => single(
                    "missing",
                    "goods payment".to_owned(),
                    item.open,
                    name_of(customer),
                ),
                3 if items.len() >= 2 => {
                    let count = rng.random_range(1..=2usize);
                    let mut named = vec![item.clone()];
                    named.extend(items.drain(..count));
                    Line {
                        id: String::new(),
                        amount: named.iter().map(|o| o.open).sum(),
                        payer: name_of(customer),
                        reference: named
                            .iter()
                            .map(|o| o.number.clone())
                            .collect::<Vec<_>>()
                            .join(" "),
                        label: Label {
                            shape: "combined",
                            customer: Some(item.customer.clone()),
                            invoices: named.iter().map(|o| o.number.clone()).collect(),
                            credited: BTreeSet::new(),
                        },
                    }
                }
                4 if item.open > Decimal::new(200, 2) => single(
                    "partial",
                    item.number.clone(),
                    (item.open / Decimal::TWO).round_dp(2),
                    name_of(customer),
                ),
                5 => {
                    let sister = customers[rng.random_range(0..customers.len())].clone();
                    single("sister", item.number.clone(), item.open, name_of(&sister))
                }
                6 if item.open >= Decimal::new(1_000, 2) => {
                    let credit = (item.open / Decimal::TEN).round_dp(2);
                    let number = format!("LCN-2026-{:06}", credit_notes.len() + 1);
                    credit_notes.push(pb::IssueCreditNoteRequest {
                        command_id: command_id(),
                        customer_id: item.customer.clone(),
                        subsidiary_id: item.subsidiary.clone(),
                        credit_note_number: number.clone(),
                        amount: cny(&credit.to_string()),
                        issue_date: today.to_string(),
                        reason: "price difference".to_owned(),
                        invoice: None,
                    });
                    let mut line = single(
                        "net",
                        format!("{} less {number}", item.number),
                        item.open - credit,
                        name_of(customer),
                    );
                    line.label.credited = [item.number.clone()].into();
                    line
                }
                _ => continue,
            };
            line.id = id();
            lines.push(line);
        }
    }
    for n in 0..20 {
        lines.push(Line {
            id: id(),
            amount: Decimal::new(1_000 + n * 37, 2),
            payer: if n % 2 == 0 {
                String::new()
            } else {
                "Bank of China".to_owned()
            },
            reference: if n % 2 == 0 {
                "INTEREST".to_owned()
            } else {
                "TRANSFER FROM HK TREASURY".to_owned()
            },
            label: Label {
                shape: "noise",
                customer: None,
                invoices: BTreeSet::new(),
                credited: BTreeSet::new(),
            },
        });
    }
    lines.shuffle(&mut rng);
    for request in credit_notes {
        commands
            .issue_credit_note(request)
            .await
            .expect("a credit note on account");
    }

    // When the statement is imported and matched
    let reply = receipts
        .import_statement(pb::ImportStatementRequest {
            bank_account_id: ACCOUNT.to_owned(),
            format: pb::StatementFormat::Camt053.into(),
            content: camt(&lines, &today.to_string()).into_bytes(),
            ..pb::ImportStatementRequest::default()
        })
        .await
        .expect("the import")
        .into_inner();
    assert_eq!(reply.imported as usize, lines.len(), "{reply:?}");

    // Then every automatic match is the labelled customer and invoices
    let mut audit = AuditServiceClient::new(service.channel().await);
    let mut stream = audit
        .replay_events(pb::ReplayEventsRequest {
            customer_id: format!("_bank-{ACCOUNT}"),
            event_types: vec!["StatementLineMatched".to_owned()],
            ..pb::ReplayEventsRequest::default()
        })
        .await
        .expect("the replay")
        .into_inner();
    let mut matched: BTreeMap<String, (String, BTreeSet<String>, BTreeSet<String>)> =
        BTreeMap::new();
    while let Some(message) = stream.message().await.expect("a replayed message") {
        let Some(pb::replay_events_response::Item::Event(event)) = message.item else {
            continue;
        };
        let envelope: serde_json::Value = serde_json::from_str(&event.envelope_json).unwrap();
        let data = &envelope["data"];
        let parts = data["parts"].as_array().unwrap();
        assert_eq!(parts.len(), 1, "an automatic match is one customer's");
        let part = &parts[0]["part"];
        let numbers = |member: &str| -> BTreeSet<String> {
            part[member]
                .as_array()
                .map(|list| {
                    list.iter()
                        .map(|a| a["invoice"]["invoice_number"].as_str().unwrap().to_owned())
                        .collect()
                })
                .unwrap_or_default()
        };
        matched.insert(
            data["line_id"].as_str().unwrap().to_owned(),
            (
                part["customer_id"].as_str().unwrap().to_owned(),
                numbers("allocations"),
                numbers("credit_applications"),
            ),
        );
    }
    let mut by_shape: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    let mut wrong = Vec::new();
    for line in &lines {
        let entry = by_shape.entry(line.label.shape).or_default();
        entry.0 += 1;
        if let Some((customer, invoices, credited)) = matched.get(&line.id) {
            entry.1 += 1;
            let right = line.label.customer.as_deref() == Some(customer.as_str())
                && *invoices == line.label.invoices
                && *credited == line.label.credited;
            if right {
                entry.2 += 1;
            } else {
                wrong.push((
                    line.clone(),
                    customer.clone(),
                    invoices.clone(),
                    credited.clone(),
                ));
            }
        }
    }
    let automatic = matched.len();
    let labelled = lines.iter().filter(|l| l.label.customer.is_some()).count();
    let correct = automatic - wrong.len();
    eprintln!(
        "labelled set: {} lines ({labelled} of customers, {} noise)",
        lines.len(),
        lines.len() - labelled
    );
    eprintln!("shape: lines / matched automatically / right");
    for (shape, (count, auto, right)) in &by_shape {
        eprintln!("  {shape}: {count} / {auto} / {right}");
    }
    eprintln!(
        "automatic: {automatic}; precision {:.1} %; recall {:.1} %; review queue {:.1} % of lines",
        100.0 * correct as f64 / automatic.max(1) as f64,
        100.0 * correct as f64 / labelled as f64,
        100.0 * reply.waiting as f64 / lines.len() as f64,
    );
    // And of the lines waiting for a person, how often the first candidate is the labelled one
    let mut first_right = 0;
    let mut waiting_labelled = 0;
    let mut token = String::new();
    let labels: BTreeMap<&str, &Label> = lines.iter().map(|l| (l.id.as_str(), &l.label)).collect();
    loop {
        let page = receipts
            .list_unmatched_receipts(pb::ListUnmatchedReceiptsRequest {
                bank_account_id: ACCOUNT.to_owned(),
                page_size: 200,
                page_token: token.clone(),
                min_position: reply.position,
                ..pb::ListUnmatchedReceiptsRequest::default()
            })
            .await
            .expect("the review queue")
            .into_inner();
        for waiting in &page.receipts {
            let label = labels[waiting.line_id.as_str()];
            let Some(customer) = &label.customer else {
                continue;
            };
            waiting_labelled += 1;
            if waiting
                .candidates
                .first()
                .is_some_and(|c| &c.customer_id == customer)
            {
                first_right += 1;
            }
        }
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    eprintln!(
        "review queue: {waiting_labelled} lines of customers, the first candidate the right \
         customer for {first_right} ({:.1} %)",
        100.0 * f64::from(first_right) / f64::from(waiting_labelled.max(1))
    );
    assert!(wrong.is_empty(), "wrong automatic matches: {wrong:#?}");
    // The floor that says the matcher works at all: the exact references are matched.
    let (exact, exact_auto, _) = by_shape["exact"];
    assert!(
        exact_auto * 10 >= exact * 9,
        "{exact_auto} of {exact} exact references"
    );
    assert_eq!(by_shape["noise"].1, 0, "noise matched");
    let (net, net_auto, _) = by_shape["net"];
    assert!(
        net_auto * 10 >= net * 9,
        "{net_auto} of {net} invoices less a credit note"
    );
    // And each `net` line matched automatically leaves its invoice paid: the payment and the
    // credit together settled what it owed
    for line in lines.iter().filter(|l| l.label.shape == "net") {
        if !matched.contains_key(&line.id) {
            continue;
        }
        let customer = line.label.customer.clone().unwrap();
        let account = commands
            .get_account(pb::GetAccountRequest {
                customer_id: customer.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        let still_open: Vec<&pb::OpenInvoice> = account
            .open_invoices
            .iter()
            .filter(|i| {
                line.label
                    .invoices
                    .contains(&i.invoice.as_ref().unwrap().invoice_number)
            })
            .collect();
        assert!(
            still_open.is_empty(),
            "{} of {customer} still open after {line:?}: {still_open:?}",
            line.reference
        );
    }
    service.stop().await;
    data.remove().await;
}
