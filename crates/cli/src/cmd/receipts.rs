//! Bank receipts from the command line: `import statement FILE` (a statement into a registered
//! bank account, then matched), `receipts list` (the review queue with each line's
//! candidates), `receipts match` (match the waiting lines again), and the `post` subcommands
//! of the bank account's commands: `post bank-account`, `post receipt-match` (accept a
//! candidate, split a line, post it on account) and `post receipt-exclusion` (not a
//! receivable).

use std::path::PathBuf;

use receivables_api::pb;
use uuid::Uuid;

use crate::cmd::{self, Output, ReadArgs};
use crate::connection::Connection;
use crate::error::CliError;
use crate::tables;

/// A statement file's format, as typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatementFormat {
    /// ISO 20022 camt.053 (XML).
    Camt053,
    /// SWIFT MT940.
    Mt940,
    /// CSV: with --preset or --layout.
    Csv,
}

/// `import statement`: a bank statement into a registered bank account.
#[derive(Debug, Clone, clap::Args)]
pub struct StatementImportArgs {
    /// The statement file.
    pub file: PathBuf,
    /// The registered bank account it is a statement of.
    #[arg(long)]
    pub bank_account: String,
    /// The file's format (`--format` is the output's).
    #[arg(long, value_enum)]
    pub file_format: StatementFormat,
    /// For CSV: a named layout (alipay, wechat-pay, cn-bank).
    #[arg(long, conflicts_with = "layout")]
    pub preset: Option<String>,
    /// For CSV: a layout of your own, as a JSON file (which column holds what).
    #[arg(long, value_name = "JSON_FILE")]
    pub layout: Option<PathBuf>,
    /// Import only: leave every line in the review queue.
    #[arg(long)]
    pub skip_matching: bool,
}

impl StatementImportArgs {
    pub async fn run(&self, connection: &Connection, out: &mut Output<'_>) -> Result<(), CliError> {
        let read = |path: &PathBuf| {
            std::fs::read(path).map_err(|error| {
                CliError::Usage(format!("cannot read {}: {error}", path.display()))
            })
        };
        let content = read(&self.file)?;
        let layout = match &self.layout {
            Some(path) => String::from_utf8(read(path)?)
                .map_err(|_| CliError::Usage(format!("{} is not UTF-8 text", path.display())))?,
            None => String::new(),
        };
        let format = match self.file_format {
            StatementFormat::Camt053 => pb::StatementFormat::Camt053,
            StatementFormat::Mt940 => pb::StatementFormat::Mt940,
            StatementFormat::Csv => pb::StatementFormat::Csv,
        };
        let receipts = connection.receipts().await?;
        let reply = receipts
            .call(
                pb::ImportStatementRequest {
                    bank_account_id: self.bank_account.clone(),
                    format: format.into(),
                    csv_preset: self.preset.clone().unwrap_or_default(),
                    csv_layout_json: layout,
                    content,
                    skip_matching: self.skip_matching,
                },
                |mut client, request| async move { client.import_statement(request).await },
            )
            .await?;
        cmd::emit(out, &tables::statement_import(&reply, connection.format)?)
    }
}

/// The review queue and the matcher.
#[derive(Debug, clap::Subcommand)]
pub enum ReceiptsCommand {
    /// The statement lines waiting for a person, oldest import first, each with the matcher's
    /// candidates (customer, confidence, the invoices it would pay, and why).
    List(ListArgs),
    /// Matches the waiting lines again (after invoices were issued or payers learned) and
    /// posts the payments of matched lines not posted yet.
    Match(MatchArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub struct ListArgs {
    /// Only this bank account's lines.
    #[arg(long)]
    pub bank_account: Option<String>,
    /// Only the lines of this subsidiary's accounts (required with a subsidiary's token).
    #[arg(long)]
    pub subsidiary: Option<String>,
    /// Only this line.
    #[arg(long)]
    pub line: Option<String>,
    /// At most this many lines.
    #[arg(long)]
    pub limit: Option<usize>,
    #[command(flatten)]
    pub read: ReadArgs,
}

#[derive(Debug, Clone, clap::Args)]
pub struct MatchArgs {
    /// Only this bank account's lines; default: every account's (a group role).
    #[arg(long)]
    pub bank_account: Option<String>,
}

pub async fn run(
    connection: &Connection,
    command: ReceiptsCommand,
    out: &mut Output<'_>,
) -> Result<(), CliError> {
    let receipts = connection.receipts().await?;
    let text = match command {
        ReceiptsCommand::List(args) => {
            let lines =
                receipts
                    .pages(
                        args.limit,
                        |page_size, page_token| pb::ListUnmatchedReceiptsRequest {
                            bank_account_id: args.bank_account.clone().unwrap_or_default(),
                            subsidiary_id: args.subsidiary.clone().unwrap_or_default(),
                            line_id: args.line.clone().unwrap_or_default(),
                            page_size,
                            page_token,
                            min_position: args.read.min_position,
                        },
                        |mut client, request| async move {
                            client.list_unmatched_receipts(request).await
                        },
                        |reply| (reply.receipts, reply.next_page_token),
                    )
                    .await?;
            tables::unmatched_receipts(&lines, connection.format)?
        }
        ReceiptsCommand::Match(args) => {
            let reply = receipts
                .call(
                    pb::MatchReceiptsRequest {
                        bank_account_id: args.bank_account.clone().unwrap_or_default(),
                    },
                    |mut client, request| async move { client.match_receipts(request).await },
                )
                .await?;
            tables::receipts_matched(&reply, connection.format)?
        }
    };
    cmd::emit(out, &text)
}

/// `post bank-account`.
#[derive(Debug, Clone, clap::Args)]
pub struct BankAccountArgs {
    /// The command's id (a UUID); default: a fresh one.
    #[arg(long, value_name = "UUID")]
    pub command_id: Option<Uuid>,
    /// The group's name for the account (letters, digits, '-' and '_').
    #[arg(long)]
    pub bank_account: String,
    /// The subsidiary that holds it.
    #[arg(long)]
    pub subsidiary: String,
    /// The currency of its statements.
    #[arg(long)]
    pub currency: String,
    /// Its number as its statements name it (IBAN or domestic).
    #[arg(long)]
    pub number: String,
    /// The bank.
    #[arg(long)]
    pub bank: String,
    /// The account's name.
    #[arg(long)]
    pub name: String,
}

/// `post receipt-match`: a person matches a waiting line.
#[derive(Debug, Clone, clap::Args)]
pub struct ReceiptMatchArgs {
    /// The command's id (a UUID); default: a fresh one.
    #[arg(long, value_name = "UUID")]
    pub command_id: Option<Uuid>,
    #[arg(long)]
    pub bank_account: String,
    /// The bank's id of the line.
    #[arg(long)]
    pub line: String,
    /// The currency of the parts (the line's).
    #[arg(long)]
    pub currency: String,
    /// A customer's part, once per customer: CUSTOMER=AMOUNT (oldest due first),
    /// CUSTOMER=AMOUNT@on-account, or CUSTOMER=AMOUNT@SUBSIDIARY/NUMBER:AMOUNT,... (those
    /// invoices), followed by +credit@SUBSIDIARY/NUMBER:AMOUNT,... to apply the customer's
    /// unapplied credit to those invoices after the payment (a payment less a credit note).
    #[arg(long = "part", required = true, value_name = "PART")]
    pub parts: Vec<String>,
}

/// `post receipt-exclusion`: a waiting line is not a receivable.
#[derive(Debug, Clone, clap::Args)]
pub struct ReceiptExclusionArgs {
    /// The command's id (a UUID); default: a fresh one.
    #[arg(long, value_name = "UUID")]
    pub command_id: Option<Uuid>,
    #[arg(long)]
    pub bank_account: String,
    /// The bank's id of the line.
    #[arg(long)]
    pub line: String,
    #[arg(long, value_enum)]
    pub reason: Exclusion,
    /// What the money is (required with --reason other).
    #[arg(long, default_value = "")]
    pub note: String,
}

/// Why a line is not a receivable, as typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Exclusion {
    SupplierRefund,
    Interest,
    InternalTransfer,
    Other,
}

fn command_id(id: Option<Uuid>) -> String {
    id.unwrap_or_else(Uuid::now_v7).to_string()
}

/// One `--part`, as the wire's part.
pub fn part(text: &str, currency: &str) -> Result<pb::ReceiptPart, CliError> {
    let usage = |why: &str| {
        CliError::Usage(format!(
            "--part {text:?}: {why} \
             (CUSTOMER=AMOUNT[@on-account|@SUBSIDIARY/NUMBER:AMOUNT,...[+credit@SUBSIDIARY/NUMBER:AMOUNT,...]])"
        ))
    };
    let (text_part, credit) = match text.split_once("+credit@") {
        Some((part, credit)) => (part, Some(credit)),
        None => (text, None),
    };
    let (customer, rest) = text_part.split_once('=').ok_or_else(|| usage("no '='"))?;
    let (amount, how) = match rest.split_once('@') {
        Some((amount, how)) => (amount, Some(how)),
        None => (rest, None),
    };
    let money = |amount: &str| pb::Money {
        amount: amount.trim().to_owned(),
        currency: currency.to_owned(),
    };
    let mut part = pb::ReceiptPart {
        customer_id: customer.trim().to_owned(),
        amount: Some(money(amount)),
        allocations: Vec::new(),
        on_account: false,
        credit_applications: Vec::new(),
    };
    let allocations = |list: &str| -> Result<Vec<pb::Allocation>, CliError> {
        list.split(',')
            .map(|allocation| {
                let (invoice, amount) = allocation
                    .split_once(':')
                    .ok_or_else(|| usage("an allocation without ':AMOUNT'"))?;
                let (subsidiary, number) = invoice
                    .split_once('/')
                    .ok_or_else(|| usage("an invoice without 'SUBSIDIARY/'"))?;
                Ok(pb::Allocation {
                    invoice: Some(pb::InvoiceRef {
                        subsidiary_id: subsidiary.trim().to_owned(),
                        invoice_number: number.trim().to_owned(),
                    }),
                    amount: Some(money(amount)),
                })
            })
            .collect()
    };
    match how {
        None => {}
        Some("on-account") => part.on_account = true,
        Some(list) => part.allocations = allocations(list)?,
    }
    if let Some(list) = credit {
        part.credit_applications = allocations(list)?;
    }
    Ok(part)
}

/// `post bank-account`.
pub async fn register(connection: &Connection, args: &BankAccountArgs) -> Result<String, CliError> {
    let id = command_id(args.command_id);
    let reply = connection
        .receipts()
        .await?
        .call(
            pb::RegisterBankAccountRequest {
                command_id: id.clone(),
                bank_account_id: args.bank_account.clone(),
                subsidiary_id: args.subsidiary.clone(),
                currency: args.currency.clone(),
                number: args.number.clone(),
                bank: args.bank.clone(),
                name: args.name.clone(),
            },
            |mut client, request| async move { client.register_bank_account(request).await },
        )
        .await?;
    tables::receipt_reply(&id, reply.receipt.as_ref(), connection.format)
}

/// `post receipt-match`.
pub async fn resolve_match(
    connection: &Connection,
    args: &ReceiptMatchArgs,
) -> Result<String, CliError> {
    let parts = args
        .parts
        .iter()
        .map(|text| part(text, &args.currency))
        .collect::<Result<Vec<_>, _>>()?;
    resolve(
        connection,
        pb::ResolveReceiptRequest {
            command_id: command_id(args.command_id),
            bank_account_id: args.bank_account.clone(),
            line_id: args.line.clone(),
            parts,
            ..pb::ResolveReceiptRequest::default()
        },
    )
    .await
}

/// `post receipt-exclusion`.
pub async fn resolve_exclusion(
    connection: &Connection,
    args: &ReceiptExclusionArgs,
) -> Result<String, CliError> {
    let reason = match args.reason {
        Exclusion::SupplierRefund => pb::ExclusionReason::SupplierRefund,
        Exclusion::Interest => pb::ExclusionReason::Interest,
        Exclusion::InternalTransfer => pb::ExclusionReason::InternalTransfer,
        Exclusion::Other => pb::ExclusionReason::Other,
    };
    resolve(
        connection,
        pb::ResolveReceiptRequest {
            command_id: command_id(args.command_id),
            bank_account_id: args.bank_account.clone(),
            line_id: args.line.clone(),
            exclusion_reason: reason.into(),
            note: args.note.clone(),
            ..pb::ResolveReceiptRequest::default()
        },
    )
    .await
}

async fn resolve(
    connection: &Connection,
    request: pb::ResolveReceiptRequest,
) -> Result<String, CliError> {
    let id = request.command_id.clone();
    let reply = connection
        .receipts()
        .await?
        .call(request, |mut client, request| async move {
            client.resolve_receipt(request).await
        })
        .await?;
    tables::receipt_resolution(&id, &reply, connection.format)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_less_a_credit_note_reads_the_credit_to_apply() {
        let read = part(
            "ACME=2200.00@SUB-SH/INV-124:2200.00+credit@SUB-SH/INV-124:300.00",
            "CNY",
        )
        .unwrap();
        assert_eq!(read.amount.as_ref().unwrap().amount, "2200.00");
        let named = |list: &[pb::Allocation]| -> Vec<(String, String)> {
            list.iter()
                .map(|a| {
                    (
                        a.invoice.as_ref().unwrap().invoice_number.clone(),
                        a.amount.as_ref().unwrap().amount.clone(),
                    )
                })
                .collect()
        };
        assert_eq!(
            named(&read.allocations),
            vec![("INV-124".to_owned(), "2200.00".to_owned())]
        );
        assert_eq!(
            named(&read.credit_applications),
            vec![("INV-124".to_owned(), "300.00".to_owned())]
        );
        assert!(part("ACME=10@SUB/INV-1:10+credit@INV-1", "CNY").is_err());
    }

    #[test]
    fn a_part_reads_its_customer_amount_and_invoices() {
        let read = part("ACME=1000.00@SUB-SH/INV-1:600.00,SUB-SH/INV-2:400", "CNY").unwrap();
        assert_eq!(read.customer_id, "ACME");
        assert_eq!(read.amount.as_ref().unwrap().amount, "1000.00");
        let invoices: Vec<(String, String)> = read
            .allocations
            .iter()
            .map(|a| {
                (
                    a.invoice.as_ref().unwrap().invoice_number.clone(),
                    a.amount.as_ref().unwrap().amount.clone(),
                )
            })
            .collect();
        assert_eq!(
            invoices,
            vec![
                ("INV-1".to_owned(), "600.00".to_owned()),
                ("INV-2".to_owned(), "400".to_owned())
            ]
        );
        assert!(part("BETA=5@on-account", "CNY").unwrap().on_account);
        assert!(part("BETA", "CNY").is_err());
        assert!(part("BETA=5@INV-1:5", "CNY").is_err());
    }
}
