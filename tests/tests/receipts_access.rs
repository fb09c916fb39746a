//! Who may do what with bank receipts, end to end: the all-in-one service over TLS with tokens
//! (the dashboard tests' world, `tests/src/dashboard.rs`).
//!
//! Registering a bank account is treasury's; importing into it and matching its lines is moving
//! money for the subsidiary that holds it (that subsidiary's token, or a group role); the
//! review queue is read as a report filtered by subsidiary. A subsidiary's import whose line
//! pays another subsidiary's invoice is matched, but the payment cannot move money against
//! that invoice with this token: it is posted on account (the customer's unapplied cash),
//! never lost and never allocated behind the group's back.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use receivables_api::pb;
use receivables_api::pb::command_service_client::CommandServiceClient;
use receivables_api::pb::receipt_service_client::ReceiptServiceClient;
use receivables_domain::access::Role;
use receivables_tests::command_id;
use receivables_tests::dashboard::{ACME, Dashboard, SUB_1, SUB_2, as_token};
use receivables_tests::invoice;
use tonic::Code;

const ACCOUNT: &str = "SUB1-CNY";

/// SUB-1's statement of one credit: 2,000.00 naming SUB-2's invoice SUB2-INV-2026-0007.
const STATEMENT: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"><BkToCstmrStmt>
<GrpHdr><MsgId>ACCESS-1</MsgId><CreDtTm>2026-03-20T18:00:00</CreDtTm></GrpHdr>
<Stmt><Id>ACCESS-1</Id><CreDtTm>2026-03-20T18:00:00</CreDtTm>
<Acct><Id><Othr><Id>6222000000000101</Id></Othr></Id><Ccy>CNY</Ccy></Acct>
<Ntry><Amt Ccy=\"CNY\">2000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
<BookgDt><Dt>2026-03-20</Dt></BookgDt><ValDt><Dt>2026-03-20</Dt></ValDt>
<AcctSvcrRef>SUB1-0320-0001</AcctSvcrRef>
<NtryDtls><TxDtls><RmtInf><Ustrd>SUB2-INV-2026-0007</Ustrd></RmtInf></TxDtls></NtryDtls>
</Ntry></Stmt></BkToCstmrStmt></Document>
";

fn import() -> pb::ImportStatementRequest {
    pb::ImportStatementRequest {
        bank_account_id: ACCOUNT.to_owned(),
        format: pb::StatementFormat::Camt053.into(),
        content: STATEMENT.as_bytes().to_vec(),
        ..pb::ImportStatementRequest::default()
    }
}

#[tokio::test]
async fn receipts_are_treasurys_to_register_and_the_holding_subsidiarys_to_import() {
    let world = Dashboard::start().await;
    world.post_history().await;
    let treasury = world.token(Role::Treasury).await;
    let sub_1 = world.subsidiary_token(SUB_1).await;
    let sub_2 = world.subsidiary_token(SUB_2).await;
    let mut commands = CommandServiceClient::new(world.channel().await);
    commands
        .issue_invoice(as_token(
            invoice(
                ACME,
                SUB_2,
                "SUB2-INV-2026-0007",
                "2000.00",
                "2026-03-01",
                "2026-03-31",
            ),
            &sub_2,
        ))
        .await
        .expect("SUB-2's invoice");
    let mut receipts = ReceiptServiceClient::new(world.channel().await);
    let registration = pb::RegisterBankAccountRequest {
        command_id: command_id(),
        bank_account_id: ACCOUNT.to_owned(),
        subsidiary_id: SUB_1.to_owned(),
        currency: "CNY".to_owned(),
        number: "6222000000000101".to_owned(),
        bank: "ICBC".to_owned(),
        name: "SUB-1 collections".to_owned(),
    };

    // A subsidiary's token may not register a bank account; treasury's may
    let denied = receipts
        .register_bank_account(as_token(registration.clone(), &sub_1))
        .await
        .expect_err("a subsidiary registered a bank account");
    assert_eq!(denied.code(), Code::PermissionDenied);
    receipts
        .register_bank_account(as_token(registration, &treasury))
        .await
        .expect("treasury registers it");

    // Another subsidiary's token may not import into SUB-1's account
    let denied = receipts
        .import_statement(as_token(import(), &sub_2))
        .await
        .expect_err("SUB-2 imported into SUB-1's account");
    assert_eq!(denied.code(), Code::PermissionDenied);

    // SUB-1's token imports; the line names SUB-2's invoice, so its payment goes on account
    let reply = receipts
        .import_statement(as_token(import(), &sub_1))
        .await
        .expect("SUB-1 imports")
        .into_inner();
    assert_eq!((reply.imported, reply.matched_automatically), (1, 1));
    let account = commands
        .get_account(as_token(
            pb::GetAccountRequest {
                customer_id: ACME.to_owned(),
            },
            &treasury,
        ))
        .await
        .expect("ACME's account")
        .into_inner();
    let still_open: Vec<(String, String)> = account
        .open_invoices
        .iter()
        .map(|i| {
            (
                i.invoice.as_ref().unwrap().invoice_number.clone(),
                i.open_amount.as_ref().unwrap().amount.clone(),
            )
        })
        .filter(|(number, _)| number == "SUB2-INV-2026-0007")
        .collect();
    assert_eq!(
        still_open,
        vec![("SUB2-INV-2026-0007".to_owned(), "2000.00".to_owned())]
    );
    let received: Vec<(String, String, String)> = account
        .payments
        .iter()
        .filter(|p| p.received_date == "2026-03-20")
        .map(|p| {
            (
                p.subsidiary_id.clone(),
                p.amount.as_ref().unwrap().amount.clone(),
                p.unapplied.as_ref().unwrap().amount.clone(),
            )
        })
        .collect();
    assert_eq!(
        received,
        vec![(SUB_1.to_owned(), "2000.00".to_owned(), "2000.00".to_owned())]
    );

    // The review queue is a report: a subsidiary reads its own accounts' lines only
    let denied = receipts
        .list_unmatched_receipts(as_token(
            pb::ListUnmatchedReceiptsRequest::default(),
            &sub_2,
        ))
        .await
        .expect_err("SUB-2 read every account's queue");
    assert_eq!(denied.code(), Code::PermissionDenied);
    let own = receipts
        .list_unmatched_receipts(as_token(
            pb::ListUnmatchedReceiptsRequest {
                subsidiary_id: SUB_2.to_owned(),
                ..pb::ListUnmatchedReceiptsRequest::default()
            },
            &sub_2,
        ))
        .await
        .expect("SUB-2 reads its own")
        .into_inner();
    assert!(own.receipts.is_empty());
}
