//! Bank receipts end to end (`ReceiptService` over real gRPC, on the embedded backends and on
//! NATS with PostgreSQL): real statement files written for the tests from the published
//! formats (`tests/files/receipts/`), imported into a registered bank account, matched,
//! posted, reviewed; importing again adds nothing, and an overlapping statement only its new
//! line; two importers at once post each payment once; hostile files import nothing.
//!
//! The history (worked out by hand): SUB-SH invoiced ACME ("Shanghai Acme Trading Co., Ltd.")
//! SHT-INV-2026-000123 1,000.00, -000124 2,500.00 and -000125 700.00, and BETA ("Hangzhou Beta
//! Electronics Co., Ltd.") SHT-INV-2026-000200 1,200.00, all in January 2026. The statement of
//! 2026-03-04 (`icbc-2026-03-04.camt053.xml`) holds:
//!
//! | bank id | amount | payer | reference | expected |
//! | --- | --- | --- | --- | --- |
//! | ICBC0304000001 | 1,000.00 | SHANGHAI ACME TRADING CO LTD | INV 2026 123 | automatic: ACME, -000123 (number without its prefix and zeros, the amount it owes, the payer's name the customer's) |
//! | ICBC0304000002 | 3,200.00 | Shanghai Acme Trading Co., Ltd. | SHT-INV-2026-000124 SHT-INV-2026-000125 | automatic: ACME, 2,500.00 + 700.00 (both named exactly, their sum) |
//! | ICBC0304000003 | 1,200.00 | Hangzhou Beta Electronics | goods payment | waits: only the amount, BETA's -000200, and the name (no number named) |
//! | ICBC0304000004 | 35.00 debit | | ACCOUNT MAINTENANCE FEE | reported, not imported |
//! | ICBC0304000005 | 88.16 | | INTEREST Q1 2026 | waits: nothing points anywhere |
#![allow(clippy::unwrap_used, clippy::expect_used)]

use receivables_api::pb;
use receivables_api::pb::receipt_service_client::ReceiptServiceClient;
use receivables_tests::*;
use tonic::transport::Channel;

const SUB: &str = "SUB-SH";
const ACCOUNT: &str = "ICBC-SH-001";
const CAMT: &[u8] = include_bytes!("../files/receipts/icbc-2026-03-04.camt053.xml");

struct World {
    data: TestData,
    service: TestAllInOne,
    receipts: ReceiptServiceClient<Channel>,
}

impl World {
    async fn start(backends: Backends) -> Option<World> {
        init_logging();
        let data = TestData::create(backends).await?;
        let service = TestAllInOne::start(&data).await;
        let receipts = ReceiptServiceClient::new(service.channel().await)
            .max_encoding_message_size(64 * 1024 * 1024);
        let mut world = World {
            data,
            service,
            receipts,
        };
        world.post_history().await;
        Some(world)
    }

    async fn post_history(&mut self) {
        let mut commands = self.service.commands().await;
        for (customer, name) in [
            ("ACME", "Shanghai Acme Trading Co., Ltd."),
            ("BETA", "Hangzhou Beta Electronics Co., Ltd."),
        ] {
            commands
                .register_customer(pb::RegisterCustomerRequest {
                    command_id: command_id(),
                    customer_id: customer.to_owned(),
                    profile: Some(pb::CustomerProfile {
                        name: name.to_owned(),
                        ..pb::CustomerProfile::default()
                    }),
                })
                .await
                .expect("the customer");
        }
        for (customer, number, amount, issued) in [
            ("ACME", "SHT-INV-2026-000123", "1000", "2026-01-05"),
            ("ACME", "SHT-INV-2026-000124", "2500", "2026-01-12"),
            ("ACME", "SHT-INV-2026-000125", "700", "2026-01-19"),
            ("BETA", "SHT-INV-2026-000200", "1200", "2026-01-20"),
        ] {
            commands
                .issue_invoice(invoice(customer, SUB, number, amount, issued, "2026-02-28"))
                .await
                .expect("the invoice");
        }
        self.receipts
            .register_bank_account(pb::RegisterBankAccountRequest {
                command_id: command_id(),
                bank_account_id: ACCOUNT.to_owned(),
                subsidiary_id: SUB.to_owned(),
                currency: "CNY".to_owned(),
                number: "6222021001001234567".to_owned(),
                bank: "ICBC Shanghai Pudong".to_owned(),
                name: "SUB-SH collections".to_owned(),
            })
            .await
            .expect("the bank account");
    }

    async fn import(
        &mut self,
        content: &[u8],
    ) -> Result<pb::ImportStatementResponse, tonic::Status> {
        self.receipts
            .import_statement(pb::ImportStatementRequest {
                bank_account_id: ACCOUNT.to_owned(),
                format: pb::StatementFormat::Camt053.into(),
                content: content.to_vec(),
                ..pb::ImportStatementRequest::default()
            })
            .await
            .map(tonic::Response::into_inner)
    }

    async fn account(&self, customer: &str) -> pb::GetAccountResponse {
        self.service
            .commands()
            .await
            .get_account(pb::GetAccountRequest {
                customer_id: customer.to_owned(),
            })
            .await
            .expect("the account")
            .into_inner()
    }

    /// The open invoices of `customer` as `(number, open amount)`.
    async fn open(&self, customer: &str) -> Vec<(String, String)> {
        self.account(customer)
            .await
            .open_invoices
            .iter()
            .map(|i| {
                (
                    i.invoice.as_ref().unwrap().invoice_number.clone(),
                    i.open_amount.as_ref().unwrap().amount.clone(),
                )
            })
            .collect()
    }

    async fn queue(&mut self, min_position: u64) -> Vec<pb::UnmatchedReceipt> {
        self.receipts
            .list_unmatched_receipts(pb::ListUnmatchedReceiptsRequest {
                bank_account_id: ACCOUNT.to_owned(),
                min_position,
                ..pb::ListUnmatchedReceiptsRequest::default()
            })
            .await
            .expect("the review queue")
            .into_inner()
            .receipts
    }

    async fn stop(self) {
        self.service.stop().await;
        self.data.remove().await;
    }
}

fn outcomes(
    reply: &pb::ImportStatementResponse,
) -> Vec<(String, pb::LineOutcome, pb::MatchOutcome)> {
    reply
        .lines
        .iter()
        .map(|l| {
            (
                l.line_id.clone(),
                pb::LineOutcome::try_from(l.outcome).unwrap(),
                pb::MatchOutcome::try_from(l.r#match).unwrap(),
            )
        })
        .collect()
}

async fn a_statement_is_imported_matched_posted_and_reviewed(backends: Backends) {
    let Some(mut world) = World::start(backends).await else {
        return;
    };
    // When the statement is imported
    let reply = world.import(CAMT).await.expect("the import");

    // Then four credits are imported, the fee reported, two lines matched and posted
    use pb::LineOutcome::{Debit, Imported};
    use pb::MatchOutcome::{Automatic, Unspecified, Waiting};
    assert_eq!(
        outcomes(&reply),
        vec![
            ("ICBC0304000001".to_owned(), Imported, Automatic),
            ("ICBC0304000002".to_owned(), Imported, Automatic),
            ("ICBC0304000003".to_owned(), Imported, Waiting),
            ("ICBC0304000004".to_owned(), Debit, Unspecified),
            ("ICBC0304000005".to_owned(), Imported, Waiting),
        ]
    );
    assert_eq!(
        (reply.imported, reply.known, reply.debits, reply.refused),
        (4, 0, 1, 0)
    );
    assert_eq!((reply.matched_automatically, reply.waiting), (2, 2));
    assert_eq!(reply.statement_id, "ICBC-STMT-2026-03-04");
    // ACME's three invoices are paid: 1,000.00; then 2,500.00 + 700.00 = 3,200.00.
    assert_eq!(world.open("ACME").await, Vec::<(String, String)>::new());
    let payments = world.account("ACME").await.payments;
    let mut paid: Vec<(String, String, String)> = payments
        .iter()
        .map(|p| {
            (
                p.amount.as_ref().unwrap().amount.clone(),
                p.received_date.clone(),
                p.unapplied.as_ref().unwrap().amount.clone(),
            )
        })
        .collect();
    paid.sort();
    assert_eq!(
        paid,
        vec![
            (
                "1000.00".to_owned(),
                "2026-03-04".to_owned(),
                "0.00".to_owned()
            ),
            (
                "3200.00".to_owned(),
                "2026-03-04".to_owned(),
                "0.00".to_owned()
            ),
        ]
    );
    assert_eq!(
        world.open("BETA").await,
        vec![("SHT-INV-2026-000200".to_owned(), "1200.00".to_owned())]
    );

    // When the same statement is imported again
    let again = world.import(CAMT).await.expect("the import again");

    // Then nothing is added: every credit is known, nothing more is matched or posted
    assert_eq!(
        (again.imported, again.known, again.debits, again.refused),
        (0, 4, 1, 0)
    );
    assert_eq!(again.matched_automatically, 0);
    assert_eq!(world.account("ACME").await.payments.len(), 2);

    // And the review queue holds the two waiting lines, BETA first for the 1,200.00
    let queue = world.queue(reply.position.max(again.position)).await;
    let waiting: Vec<&str> = queue.iter().map(|r| r.line_id.as_str()).collect();
    assert_eq!(waiting, vec!["ICBC0304000003", "ICBC0304000005"]);
    let best = &queue[0].candidates[0];
    assert_eq!(best.customer_id, "BETA");
    assert_eq!(best.customer_name, "Hangzhou Beta Electronics Co., Ltd.");
    assert_eq!(
        best.allocations
            .iter()
            .map(|a| (
                a.invoice.as_ref().unwrap().invoice_number.clone(),
                a.amount.as_ref().unwrap().amount.clone()
            ))
            .collect::<Vec<_>>(),
        vec![("SHT-INV-2026-000200".to_owned(), "1200.00".to_owned())]
    );
    assert!(best.confidence < 90, "{best:?}");
    assert!(
        best.reason_codes.contains(&"AMOUNT_EQUALS_OPEN".to_owned()),
        "{best:?}"
    );
    assert!(queue[1].candidates.is_empty(), "{:?}", queue[1]);

    // When a person accepts BETA's candidate, and excludes the interest
    let accepted = world
        .receipts
        .resolve_receipt(pb::ResolveReceiptRequest {
            command_id: command_id(),
            bank_account_id: ACCOUNT.to_owned(),
            line_id: "ICBC0304000003".to_owned(),
            parts: vec![pb::ReceiptPart {
                customer_id: "BETA".to_owned(),
                amount: cny("1200.00"),
                allocations: best.allocations.clone(),
                on_account: false,
                credit_applications: Vec::new(),
            }],
            ..pb::ResolveReceiptRequest::default()
        })
        .await
        .expect("the acceptance")
        .into_inner();
    let excluded = world
        .receipts
        .resolve_receipt(pb::ResolveReceiptRequest {
            command_id: command_id(),
            bank_account_id: ACCOUNT.to_owned(),
            line_id: "ICBC0304000005".to_owned(),
            exclusion_reason: pb::ExclusionReason::Interest.into(),
            note: "first quarter's interest".to_owned(),
            ..pb::ResolveReceiptRequest::default()
        })
        .await
        .expect("the exclusion")
        .into_inner();

    // Then BETA's invoice is paid by a payment named after the line, and the queue is empty
    assert_eq!(accepted.payments.len(), 1);
    assert!(!accepted.payments[0].posted_on_account);
    assert_eq!(world.open("BETA").await, Vec::<(String, String)>::new());
    let beta_payments = world.account("BETA").await.payments;
    assert_eq!(beta_payments.len(), 1);
    assert_eq!(
        beta_payments[0].payment_command_id,
        accepted.payments[0].payment_id
    );
    let last = excluded
        .receipt
        .unwrap()
        .position
        .max(accepted.payments[0].position);
    assert!(world.queue(last).await.is_empty());

    // And a line settled once cannot be settled again
    let again = world
        .receipts
        .resolve_receipt(pb::ResolveReceiptRequest {
            command_id: command_id(),
            bank_account_id: ACCOUNT.to_owned(),
            line_id: "ICBC0304000005".to_owned(),
            exclusion_reason: pb::ExclusionReason::Other.into(),
            note: "a second look".to_owned(),
            ..pb::ResolveReceiptRequest::default()
        })
        .await
        .expect_err("a settled line settled again");
    assert_eq!(again.code(), tonic::Code::FailedPrecondition);
    assert!(
        again
            .message()
            .contains("excluded as not a receivable already"),
        "{again:?}"
    );
    world.stop().await;
}

#[tokio::test]
async fn a_statement_is_imported_matched_posted_and_reviewed_embedded() {
    a_statement_is_imported_matched_posted_and_reviewed(Backends::Embedded).await;
}

#[tokio::test]
async fn a_statement_is_imported_matched_posted_and_reviewed_on_servers() {
    a_statement_is_imported_matched_posted_and_reviewed(Backends::Servers).await;
}

#[tokio::test]
async fn two_importers_of_one_statement_at_once_import_each_line_and_post_each_payment_once() {
    let Some(mut world) = World::start(Backends::Embedded).await else {
        return;
    };
    let mut second = world.receipts.clone();
    let request = pb::ImportStatementRequest {
        bank_account_id: ACCOUNT.to_owned(),
        format: pb::StatementFormat::Camt053.into(),
        content: CAMT.to_vec(),
        ..pb::ImportStatementRequest::default()
    };
    let (one, two) = tokio::join!(
        world.receipts.import_statement(request.clone()),
        second.import_statement(request)
    );
    let (one, two) = (
        one.expect("the first").into_inner(),
        two.expect("the second").into_inner(),
    );
    // Each credit imported by exactly one of the two, known to the other.
    assert_eq!(one.imported + two.imported, 4, "{one:?} {two:?}");
    assert_eq!(one.known + two.known, 4);
    // ACME paid twice, not four times; its invoices all paid.
    assert_eq!(world.account("ACME").await.payments.len(), 2);
    assert_eq!(world.open("ACME").await, Vec::<(String, String)>::new());
    world.stop().await;
}

#[tokio::test]
async fn a_statement_of_another_account_or_with_a_bad_line_imports_nothing() {
    let Some(mut world) = World::start(Backends::Embedded).await else {
        return;
    };
    let before = world.account("ACME").await.position;
    // Another account's statement: the same file with another account number.
    let other = String::from_utf8(CAMT.to_vec())
        .unwrap()
        .replace("6222 0210 0100 1234 567", "6222 0210 0100 7654 321");
    let status = world
        .import(other.as_bytes())
        .await
        .expect_err("another account's statement");
    assert_eq!(status.code(), tonic::Code::FailedPrecondition);
    assert!(
        status.message().contains("6222 0210 0100 7654 321"),
        "{status:?}"
    );
    // A negative amount and an unknown currency in two entries: both named, nothing imported.
    let bad = String::from_utf8(CAMT.to_vec())
        .unwrap()
        .replacen(
            "<Amt Ccy=\"CNY\">1000.00</Amt>",
            "<Amt Ccy=\"CNY\">-1000.00</Amt>",
            1,
        )
        .replacen(
            "<Amt Ccy=\"CNY\">3200.00</Amt>",
            "<Amt Ccy=\"XYZ\">3200.00</Amt>",
            1,
        );
    let status = world.import(bad.as_bytes()).await.expect_err("bad lines");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    let fields = bad_fields(&status);
    assert_eq!(fields.len(), 2, "{fields:?}");
    assert!(
        fields.iter().all(|f| f.starts_with("content.line[")),
        "{fields:?}"
    );
    // Nothing was imported or posted.
    let queue = world.queue(0).await;
    assert!(queue.is_empty(), "{queue:?}");
    assert_eq!(world.account("ACME").await.position, before);
    world.stop().await;
}

#[tokio::test]
async fn a_known_bank_id_with_other_content_is_refused_and_reported() {
    let Some(mut world) = World::start(Backends::Embedded).await else {
        return;
    };
    world.import(CAMT).await.expect("the first import");
    // The bank sends line ICBC0304000005 again with another amount.
    let changed = String::from_utf8(CAMT.to_vec()).unwrap().replace(
        "<Amt Ccy=\"CNY\">88.16</Amt>",
        "<Amt Ccy=\"CNY\">98.16</Amt>",
    );
    let reply = world
        .import(changed.as_bytes())
        .await
        .expect("the second import");
    assert_eq!(
        (reply.imported, reply.known, reply.debits, reply.refused),
        (0, 3, 1, 1)
    );
    let refused = reply
        .lines
        .iter()
        .find(|l| l.outcome == i32::from(pb::LineOutcome::Refused))
        .unwrap();
    assert_eq!(refused.line_id, "ICBC0304000005");
    assert!(refused.problem.contains("88.16 CNY"), "{}", refused.problem);
    assert!(refused.problem.contains("98.16 CNY"), "{}", refused.problem);
    world.stop().await;
}

/// An intraday statement (`icbc-2026-03-05-intraday.camt053.xml`) overlaps the day's: it
/// repeats ICBC0304000003 and ICBC0304000005 exactly and adds ICBC0305000001, 450.00 from a
/// supplier that names no document of ours.
const INTRADAY: &[u8] = include_bytes!("../files/receipts/icbc-2026-03-05-intraday.camt053.xml");

#[tokio::test]
async fn an_overlapping_statement_imports_only_its_new_line() {
    let Some(mut world) = World::start(Backends::Embedded).await else {
        return;
    };
    // Given the day's statement imported (two lines posted, two waiting)
    let first = world.import(CAMT).await.expect("the day's statement");
    assert_eq!((first.imported, first.matched_automatically), (4, 2));
    let payments_before = world.account("ACME").await.payments.len();

    // When the overlapping statement is imported
    let reply = world
        .import(INTRADAY)
        .await
        .expect("the intraday statement");

    // Then the two repeated lines are known, only the new one is imported, nothing is posted
    let problems: Vec<&str> = reply.lines.iter().map(|l| l.problem.as_str()).collect();
    assert_eq!(
        (reply.imported, reply.known, reply.debits, reply.refused),
        (1, 2, 0, 0),
        "{problems:?}"
    );
    let mut imported: Vec<(String, pb::LineOutcome)> = outcomes(&reply)
        .into_iter()
        .map(|(line, outcome, _)| (line, outcome))
        .collect();
    imported.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        imported,
        vec![
            ("ICBC0304000003".to_owned(), pb::LineOutcome::Known),
            ("ICBC0304000005".to_owned(), pb::LineOutcome::Known),
            ("ICBC0305000001".to_owned(), pb::LineOutcome::Imported),
        ]
    );
    assert_eq!(reply.matched_automatically, 0);
    assert_eq!(world.account("ACME").await.payments.len(), payments_before);

    // And the review queue holds each waiting line once: the two of the day and the new one
    let queue = world.queue(first.position.max(reply.position)).await;
    let mut waiting: Vec<&str> = queue.iter().map(|r| r.line_id.as_str()).collect();
    waiting.sort_unstable();
    assert_eq!(
        waiting,
        vec!["ICBC0304000003", "ICBC0304000005", "ICBC0305000001"]
    );
    world.stop().await;
}

/// A credit note of SUB-SH to `customer`: on account, or against `invoice`.
fn credit_note(
    customer: &str,
    number: &str,
    amount: &str,
    issued: &str,
    invoice: Option<&str>,
) -> pb::IssueCreditNoteRequest {
    pb::IssueCreditNoteRequest {
        command_id: command_id(),
        customer_id: customer.to_owned(),
        subsidiary_id: SUB.to_owned(),
        credit_note_number: number.to_owned(),
        amount: cny(amount),
        issue_date: issued.to_owned(),
        reason: "price difference".to_owned(),
        invoice: invoice.and_then(|number| invoice_ref(SUB, number)),
    }
}

/// The customer's unapplied credit in CNY, as its account holds it.
async fn unapplied_credit(world: &World, customer: &str) -> String {
    let account = world.account(customer).await;
    account
        .balances
        .iter()
        .find(|b| b.currency == "CNY")
        .and_then(|b| b.unapplied_credit.as_ref())
        .map_or_else(|| "0.00".to_owned(), |m| m.amount.clone())
}

/// Payments "less a credit note" (`icbc-2026-03-04-credit-notes.camt053.xml`), worked out by
/// hand. Besides the world's invoices, SUB-SH issued ACME SHT-CN-2026-000007 (300.00 on
/// account, 10 February) and SHT-CN-2026-000008 (100.00 against SHT-INV-2026-000125, which then
/// owes 600.00, 12 February), and BETA SHT-CN-2026-000009 (100.00 on account, 6 March, after
/// the statement's day) and SHT-CN-2026-000010 (200.00 on account, 15 February).
///
/// | bank id | amount | reference | expected |
/// | --- | --- | --- | --- |
/// | ICBC0304000101 | 2,200.00 | SHT-INV-2026-000124 less CN SHT-CN-2026-000007 | automatic: 2,500.00 less the note's 300.00; payment 2,200.00 and credit 300.00 to -000124, which is paid |
/// | ICBC0304000102 | 600.00 | SHT-INV-2026-000125 SHT-CN-2026-000008 | automatic: what -000125 owes net of the note against it; no credit applied |
/// | ICBC0304000103 | 1,150.00 | SHT-INV-2026-000200 less SHT-CN-2026-000009 | waits: the note was issued after the value date, so 1,150.00 pays BETA's 1,200.00 in part |
/// | ICBC0304000104 | 1,000.00 | GOODS | waits: only ACME's -000123 owes the amount; a person then gives it to BETA less SHT-CN-2026-000010 |
///
/// The last line also shows a poster stopped between a part's payment and its credit: BETA's
/// payment of the line is in the ledger before the person decides (as an earlier attempt left
/// it), and deciding posts only the credit.
async fn a_payment_less_a_credit_note_settles_the_invoice_with_the_credit(backends: Backends) {
    let Some(mut world) = World::start(backends).await else {
        return;
    };
    // Given the credit notes
    let mut commands = world.service.commands().await;
    for request in [
        credit_note("ACME", "SHT-CN-2026-000007", "300.00", "2026-02-10", None),
        credit_note(
            "ACME",
            "SHT-CN-2026-000008",
            "100.00",
            "2026-02-12",
            Some("SHT-INV-2026-000125"),
        ),
        credit_note("BETA", "SHT-CN-2026-000009", "100.00", "2026-03-06", None),
        credit_note("BETA", "SHT-CN-2026-000010", "200.00", "2026-02-15", None),
    ] {
        commands
            .issue_credit_note(request)
            .await
            .expect("the credit note");
    }

    // When the statement is imported
    let reply = world
        .import(include_bytes!(
            "../files/receipts/icbc-2026-03-04-credit-notes.camt053.xml"
        ))
        .await
        .expect("the import");

    // Then ACME's two lines are posted, -000124 with its credit, and only -000123 stays open
    use pb::LineOutcome::Imported;
    use pb::MatchOutcome::{Automatic, Waiting};
    assert_eq!(
        outcomes(&reply),
        vec![
            ("ICBC0304000101".to_owned(), Imported, Automatic),
            ("ICBC0304000102".to_owned(), Imported, Automatic),
            ("ICBC0304000103".to_owned(), Imported, Waiting),
            ("ICBC0304000104".to_owned(), Imported, Waiting),
        ]
    );
    assert_eq!(
        world.open("ACME").await,
        vec![("SHT-INV-2026-000123".to_owned(), "1000.00".to_owned())]
    );
    assert_eq!(unapplied_credit(&world, "ACME").await, "0.00");
    let mut paid: Vec<String> = world
        .account("ACME")
        .await
        .payments
        .iter()
        .map(|p| p.amount.as_ref().unwrap().amount.clone())
        .collect();
    paid.sort();
    assert_eq!(paid, vec!["2200.00".to_owned(), "600.00".to_owned()]);

    // And BETA's line naming a note issued after its value date waits as a partial payment
    let queue = world.queue(reply.position).await;
    let waiting = |line: &str| {
        queue
            .iter()
            .find(|r| r.line_id == line)
            .unwrap_or_else(|| panic!("{line} waits"))
            .clone()
    };
    let beta = waiting("ICBC0304000103");
    let best = &beta.candidates[0];
    assert_eq!(best.customer_id, "BETA");
    assert_eq!(
        best.allocations,
        vec![allocation(SUB, "SHT-INV-2026-000200", "1150.00")]
    );
    assert!(best.credit_applications.is_empty(), "{best:?}");
    assert!(
        best.reason_codes.contains(&"PARTIAL_PAYMENT".to_owned()),
        "{best:?}"
    );

    // When an earlier attempt had posted BETA's part of the last line as its payment, and a
    // person then gives the line to BETA less SHT-CN-2026-000010
    let stream = receivables_domain::CustomerId::bank_account(
        &receivables_domain::ids::BankAccountId::parse(ACCOUNT).unwrap(),
    );
    let line = receivables_domain::ids::BankLineId::parse("ICBC0304000104").unwrap();
    let payment_id =
        receivables_domain::account::receipt::receipt_payment_id(&stream, &line, 0).to_string();
    commands
        .record_payment(pb::RecordPaymentRequest {
            command_id: payment_id.clone(),
            allocations: vec![allocation(SUB, "SHT-INV-2026-000200", "1000.00")],
            ..payment("BETA", SUB, "1000.00", "2026-03-04")
        })
        .await
        .expect("the earlier attempt's payment");
    let decided = world
        .receipts
        .resolve_receipt(pb::ResolveReceiptRequest {
            command_id: command_id(),
            bank_account_id: ACCOUNT.to_owned(),
            line_id: "ICBC0304000104".to_owned(),
            parts: vec![pb::ReceiptPart {
                customer_id: "BETA".to_owned(),
                amount: cny("1000.00"),
                allocations: vec![allocation(SUB, "SHT-INV-2026-000200", "1000.00")],
                on_account: false,
                credit_applications: vec![allocation(SUB, "SHT-INV-2026-000200", "200.00")],
            }],
            ..pb::ResolveReceiptRequest::default()
        })
        .await
        .expect("the decision")
        .into_inner();

    // Then only the credit is posted: BETA has the one payment, no open invoice, and its
    // 100.00 of SHT-CN-2026-000009 is all the credit it has left
    assert_eq!(decided.payments.len(), 1);
    assert_eq!(decided.payments[0].payment_id, payment_id);
    assert_eq!(decided.payments[0].credit_applied, cny("200.00"));
    assert_eq!(decided.payments[0].credit_problem, "");
    assert_eq!(world.open("BETA").await, Vec::<(String, String)>::new());
    assert_eq!(world.account("BETA").await.payments.len(), 1);
    assert_eq!(unapplied_credit(&world, "BETA").await, "100.00");
    world.stop().await;
}

#[tokio::test]
async fn a_payment_less_a_credit_note_settles_the_invoice_with_the_credit_embedded() {
    a_payment_less_a_credit_note_settles_the_invoice_with_the_credit(Backends::Embedded).await;
}

#[tokio::test]
async fn a_payment_less_a_credit_note_settles_the_invoice_with_the_credit_on_servers() {
    a_payment_less_a_credit_note_settles_the_invoice_with_the_credit(Backends::Servers).await;
}

/// Two lines of one statement naming one credit note on account
/// (`icbc-2026-03-05-one-credit-twice.camt053.xml`): ACME's SHT-CN-2026-000007 holds 300.00,
/// and each line pays an invoice less it: 2,200.00 for -000124 (2,500.00) and 400.00 for
/// -000125 (700.00). Both are ranked before either is posted, so both find the note held; only
/// one may spend it. Worked out by hand: one line is posted with the credit (its invoice paid,
/// the credit gone), the other waits; matching it again finds no credit left, so it stays a
/// partial payment for a person.
#[tokio::test]
async fn two_lines_naming_one_credit_note_spend_it_once() {
    let Some(mut world) = World::start(Backends::Embedded).await else {
        return;
    };
    // Given ACME's credit note on account
    let mut commands = world.service.commands().await;
    commands
        .issue_credit_note(credit_note(
            "ACME",
            "SHT-CN-2026-000007",
            "300.00",
            "2026-02-10",
            None,
        ))
        .await
        .expect("the credit note");

    // When the statement is imported
    let reply = world
        .import(include_bytes!(
            "../files/receipts/icbc-2026-03-05-one-credit-twice.camt053.xml"
        ))
        .await
        .expect("the import");

    // Then one line is posted with the credit and the other waits
    assert_eq!((reply.matched_automatically, reply.waiting), (1, 1));
    assert_eq!(unapplied_credit(&world, "ACME").await, "0.00");
    let open = world.open("ACME").await;
    let inv = |number: &str, amount: &str| (number.to_owned(), amount.to_owned());
    let (paid, waiting) = if open.contains(&inv("SHT-INV-2026-000125", "700.00")) {
        ("SHT-INV-2026-000124", "ICBC0305000202")
    } else {
        ("SHT-INV-2026-000125", "ICBC0305000201")
    };
    let mut expected = vec![inv("SHT-INV-2026-000123", "1000.00")];
    expected.push(if paid == "SHT-INV-2026-000124" {
        inv("SHT-INV-2026-000125", "700.00")
    } else {
        inv("SHT-INV-2026-000124", "2500.00")
    });
    assert_eq!(open, expected);

    // When the waiting line is matched again
    let again = world
        .receipts
        .match_receipts(pb::MatchReceiptsRequest {
            bank_account_id: ACCOUNT.to_owned(),
        })
        .await
        .expect("the second pass")
        .into_inner();

    // Then it still waits, as a partial payment with no credit to apply
    assert_eq!((again.matched_automatically, again.waiting), (0, 1));
    let queue = world.queue(again.position.max(reply.position)).await;
    let line = queue
        .iter()
        .find(|r| r.line_id == waiting)
        .expect("the line waits");
    let best = &line.candidates[0];
    assert_eq!(best.customer_id, "ACME");
    assert!(best.credit_applications.is_empty(), "{best:?}");
    assert!(
        best.reason_codes.contains(&"PARTIAL_PAYMENT".to_owned()),
        "{best:?}"
    );
    world.stop().await;
}

/// Credit applications a part cannot make: credit without allocations beside it, and credit
/// applied to one invoice twice, each named at once, and nothing recorded.
#[tokio::test]
async fn credit_applications_without_allocations_or_twice_on_an_invoice_are_refused_by_name() {
    let Some(mut world) = World::start(Backends::Embedded).await else {
        return;
    };
    let reply = world.import(CAMT).await.expect("the import");
    let refused = world
        .receipts
        .resolve_receipt(pb::ResolveReceiptRequest {
            command_id: command_id(),
            bank_account_id: ACCOUNT.to_owned(),
            line_id: "ICBC0304000003".to_owned(),
            parts: vec![
                pb::ReceiptPart {
                    customer_id: "BETA".to_owned(),
                    amount: cny("700.00"),
                    credit_applications: vec![allocation(SUB, "SHT-INV-2026-000200", "50.00")],
                    ..pb::ReceiptPart::default()
                },
                pb::ReceiptPart {
                    customer_id: "ACME".to_owned(),
                    amount: cny("500.00"),
                    allocations: vec![allocation(SUB, "SHT-INV-2026-000200", "500.00")],
                    credit_applications: vec![
                        allocation(SUB, "SHT-INV-2026-000200", "5.00"),
                        allocation(SUB, "SHT-INV-2026-000200", "6.00"),
                    ],
                    ..pb::ReceiptPart::default()
                },
            ],
            ..pb::ResolveReceiptRequest::default()
        })
        .await
        .expect_err("refused");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    let mut fields: Vec<String> = receivables_tests::refusals::field_violations(&refused)
        .into_iter()
        .map(|v| v.field)
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "parts[0].credit_applications".to_owned(),
            "parts[1].credit_applications[1].invoice".to_owned(),
        ]
    );
    // Nothing recorded: the line still waits.
    let queue = world.queue(reply.position).await;
    assert!(queue.iter().any(|r| r.line_id == "ICBC0304000003"));
    world.stop().await;
}

/// One credit of 1,200.00 from BETA's usual payer name with no document named, on `value_date`.
fn goods_payment(value_date: &str, bank_id: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"><BkToCstmrStmt>
<GrpHdr><MsgId>{bank_id}</MsgId><CreDtTm>{value_date}T18:00:00</CreDtTm></GrpHdr>
<Stmt><Id>{bank_id}</Id><CreDtTm>{value_date}T18:00:00</CreDtTm>
<Acct><Id><Othr><Id>6222021001001234567</Id></Othr></Id><Ccy>CNY</Ccy></Acct>
<Ntry><Amt Ccy=\"CNY\">1200.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
<BookgDt><Dt>{value_date}</Dt></BookgDt><ValDt><Dt>{value_date}</Dt></ValDt>
<AcctSvcrRef>{bank_id}</AcctSvcrRef>
<NtryDtls><TxDtls><RmtInf><Ustrd>goods payment</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
</Stmt></BkToCstmrStmt></Document>
"
    )
}

/// BETA's paying pattern, from its history: three invoices of late 2025 each paid ten days
/// after its due date (median 10, three payments). A receipt of what SHT-INV-2026-000200
/// (due 2026-02-28) owes, arriving ten days after that date, fits the pattern, and the
/// candidate says so; one arriving four days after (six days off the usual, more than the
/// five tolerated) does not. Neither is posted without a person: the pattern adds to the
/// amount, and no reference names a document.
#[tokio::test]
async fn a_customers_usual_paying_pattern_is_a_reason() {
    let Some(mut world) = World::start(Backends::Embedded).await else {
        return;
    };
    // Given BETA's three invoices each paid ten days after due
    let mut commands = world.service.commands().await;
    let mut last = 0;
    for (number, issued, due, paid) in [
        (
            "SHT-INV-2025-000901",
            "2025-10-01",
            "2025-10-31",
            "2025-11-10",
        ),
        (
            "SHT-INV-2025-000902",
            "2025-11-01",
            "2025-11-30",
            "2025-12-10",
        ),
        (
            "SHT-INV-2025-000903",
            "2025-12-01",
            "2025-12-31",
            "2026-01-10",
        ),
    ] {
        commands
            .issue_invoice(invoice("BETA", SUB, number, "500", issued, due))
            .await
            .expect("the invoice");
        let reply = commands
            .record_payment(pb::RecordPaymentRequest {
                allocations: vec![allocation(SUB, number, "500.00")],
                ..payment("BETA", SUB, "500.00", paid)
            })
            .await
            .expect("the payment")
            .into_inner();
        last = reply.receipt.map_or(last, |r| r.position);
    }

    // When a line ten days after SHT-INV-2026-000200's due date and one four days after are
    // imported
    let on_time = world
        .import(goods_payment("2026-03-10", "ICBC0310000001").as_bytes())
        .await
        .expect("the import");
    let early = world
        .import(goods_payment("2026-03-04", "ICBC0304000099").as_bytes())
        .await
        .expect("the import");
    assert_eq!((on_time.imported, early.imported), (1, 1));
    assert_eq!(
        (on_time.matched_automatically, early.matched_automatically),
        (0, 0)
    );

    // Then BETA is the best candidate of both, and only the first fits its usual pattern
    let queue = world
        .queue(last.max(on_time.position).max(early.position))
        .await;
    let reasons = |line: &str| -> Vec<String> {
        let receipt = queue.iter().find(|r| r.line_id == line).expect("waiting");
        let best = &receipt.candidates[0];
        assert_eq!(best.customer_id, "BETA");
        best.reason_codes.clone()
    };
    let fits = reasons("ICBC0310000001");
    assert!(fits.contains(&"USUAL_PATTERN".to_owned()), "{fits:?}");
    assert!(fits.contains(&"AMOUNT_EQUALS_OPEN".to_owned()), "{fits:?}");
    let off = reasons("ICBC0304000099");
    assert!(!off.contains(&"USUAL_PATTERN".to_owned()), "{off:?}");
    world.stop().await;
}

/// The split deployment: a command service, and a query service asked to serve cash
/// application (`--serve-receipts`), on NATS and PostgreSQL. The statement goes to the query
/// service, which matches on its read model and appends through an executor of its own; the
/// command service then holds the payments in the customers' accounts, as worked out for the
/// all-in-one service above.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_split_deployment_serves_cash_application_from_a_query_service() {
    let Some(nats) = NatsServer::start_default().await else {
        return;
    };
    let Some(database) = TestDatabase::create().await else {
        return;
    };
    let commands_service = TestService::start(&nats.url()).await;
    let mut args = receivables::config::QueryServiceArgs::new(
        "127.0.0.1:0".parse().expect("address"),
        nats.url(),
        database.url(),
    );
    args.serve_receipts = true;
    let queries = TestQueryService::start_with(args).await;
    let mut commands = commands_service.client().await;
    commands
        .register_customer(pb::RegisterCustomerRequest {
            command_id: command_id(),
            customer_id: "ACME".to_owned(),
            profile: Some(pb::CustomerProfile {
                name: "Shanghai Acme Trading Co., Ltd.".to_owned(),
                ..pb::CustomerProfile::default()
            }),
        })
        .await
        .expect("the customer");
    for (customer, number, amount, issued) in [
        ("ACME", "SHT-INV-2026-000123", "1000", "2026-01-05"),
        ("ACME", "SHT-INV-2026-000124", "2500", "2026-01-12"),
        ("ACME", "SHT-INV-2026-000125", "700", "2026-01-19"),
    ] {
        commands
            .issue_invoice(invoice(customer, SUB, number, amount, issued, "2026-02-28"))
            .await
            .expect("the invoice");
    }
    let mut receipts =
        ReceiptServiceClient::new(channel_to(&format!("http://{}", queries.address)).await);
    receipts
        .register_bank_account(pb::RegisterBankAccountRequest {
            command_id: command_id(),
            bank_account_id: ACCOUNT.to_owned(),
            subsidiary_id: SUB.to_owned(),
            currency: "CNY".to_owned(),
            number: "6222021001001234567".to_owned(),
            bank: "ICBC Shanghai Pudong".to_owned(),
            name: "SUB-SH collections".to_owned(),
        })
        .await
        .expect("the bank account, through the query service");

    // When the day's statement is imported through the query service
    let reply = receipts
        .import_statement(pb::ImportStatementRequest {
            bank_account_id: ACCOUNT.to_owned(),
            format: pb::StatementFormat::Camt053.into(),
            content: CAMT.to_vec(),
            ..pb::ImportStatementRequest::default()
        })
        .await
        .expect("the import")
        .into_inner();

    // Then the lines naming ACME's invoices are posted, as the command service sees them:
    // -000123 by the first line (1,000.00), -000124 and -000125 by the second (3,200.00)
    assert_eq!((reply.imported, reply.matched_automatically), (4, 2));
    let account = commands
        .get_account(pb::GetAccountRequest {
            customer_id: "ACME".to_owned(),
        })
        .await
        .expect("ACME's account")
        .into_inner();
    let mut paid: Vec<String> = account
        .payments
        .iter()
        .map(|p| p.amount.as_ref().unwrap().amount.clone())
        .collect();
    paid.sort();
    assert_eq!(paid, ["1000.00", "3200.00"]);
    assert!(
        account.open_invoices.is_empty(),
        "{:?}",
        account.open_invoices
    );
    queries.stop().await;
    commands_service.stop().await;
    database.drop_database().await;
}
