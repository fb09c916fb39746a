//! `import invoices FILE`, `import payments FILE`, `import credit-notes FILE`,
//! `import reversals FILE`, `import customers FILE` and `import exchange-rates FILE`: every row of a CSV export (as a subsidiary's ERP would produce it)
//! becomes one command to the command service.
//!
//! # Formats
//!
//! A header row names the columns, in any order (case, spaces and a byte-order mark are
//! ignored; columns not listed here are ignored; of a name given twice, the first column
//! counts). Dates are `YYYY-MM-DD`, amounts plain decimals (`1234.50`, no thousands
//! separators), currencies ISO 4217 codes.
//!
//! Invoices: `subsidiary, customer, number, currency, amount, issue_date` and, each row filling
//! exactly one, `due_date` or `payment_terms` (the code of one of the group's templates).
//!
//! Payments: `subsidiary, customer, reference, currency, amount, received_date, method` and
//! optionally `allocations`. `method` is one of `bank_transfer, alipay, wechat_pay, union_pay,
//! card, cash, cheque, other`. `allocations` lists `NUMBER:AMOUNT` separated by `;`
//! (`INV-1:100.00;INV-2:50.00`), against invoices of the receiving subsidiary (or
//! `SUBSIDIARY:NUMBER:AMOUNT` for another subsidiary's invoice); empty means oldest due first
//! among the receiving subsidiary's open invoices, the rest staying unapplied cash.
//!
//! Credit notes: `subsidiary, customer, number, currency, amount, issue_date, reason` and
//! optionally `invoice`. `subsidiary` issues the note and `number` is its credit-note number;
//! `reason` is free text. `invoice` is the invoice credited: `NUMBER` of the issuing subsidiary,
//! or `SUBSIDIARY:NUMBER`; empty (or no such column) puts the note on account, as unapplied
//! credit.
//!
//! Reversals: `subsidiary, customer, reversal_date, reason` and the payment reversed, named by
//! `payment_reference` or by `payment_command_id` (the file has either column or both; each row
//! fills exactly one). `subsidiary` is the one that received the payment; `reason` is one of
//! `insufficient_funds, returned_by_bank, fraud, entered_in_error`. `payment_reference` is the
//! `reference` of a payment imported from a payments file: the reversal names the command id
//! that import derived (UUID v5 of `payment/<subsidiary>/<reference>`), so an ERP's list of
//! bounced payments can be imported with the references it knows. `payment_command_id` is the
//! UUID of the `RecordPayment` command, for payments posted otherwise (`post payment` prints
//! it).
//!
//! Customers: `customer, name` and optionally `legal_name, tax_id, country, industry, notes,
//! contacts`. `country` is an ISO 3166-1 alpha-2 code; `contacts` lists contacts as
//! `name;email;phone;role` separated by `|`. A customer not registered yet is registered; a
//! registered one gets the row as its whole record (`UpdateCustomer`), and a record that
//! already reads as the row counts as posted before. The command ids derive from the customer
//! and the row's content (`customer/<customer>/register/<row>` and `.../update/<row>`), so a
//! changed row is a new update and the same row posts nothing.
//!
//! Exchange rates: `base, date, currency, rate` and optionally `source`. Each row publishes one
//! rate of its date to the group's account; its command id derives from the row's content
//! (`rate/<date>/<currency>/...`), so a corrected rate is published again and the same row
//! posts nothing. A file's rates go in file order.
//!
//! # Running it again is safe
//!
//! Each row's command id is derived from the row's identity (UUID v5 of
//! `invoice/<subsidiary>/<number>`, `payment/<subsidiary>/<reference>`,
//! `credit-note/<subsidiary>/<number>` or `reversal/<subsidiary>/<payment command id>`), so the
//! service answers a row it has recorded before with its first reply and records nothing new:
//! importing a file twice posts nothing the second time, and an import stopped half-way
//! (killed, or the service unavailable) is finished by running it again. A second row with the
//! identity of an earlier row of the same file is refused (`DUPLICATE_IN_FILE`; a payment
//! reversed by its reference in one row and by its command id in another is the same
//! reversal), as is a row whose identity was imported before with other content
//! (`COMMAND_ID_REUSED`, from the service).
//!
//! # Outcome
//!
//! A summary: rows read, accepted (recorded now), already posted before, refused by reason.
//! Refused rows (not well formed: `INVALID_ROW` with what is wrong; duplicates; or refused by
//! the service with its reason and message) go to `<FILE>.refused.csv` (or `--refused`): the
//! original columns plus `line` and `reason`. (Credit notes and reversals have a `reason` of
//! their own, which stays the first `reason` column, the one a corrected file is imported
//! with.) The exit code is non-zero when any row was refused. When the service cannot be
//! reached or fails, the import stops with that error; the rows not yet posted are posted by
//! the next run.

pub mod posting;
pub mod rows;
pub mod summary;

use std::collections::HashMap;
use std::fs::File;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use futures::future::try_join_all;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::connection::Connection;
use crate::error::CliError;
use crate::sheet::Output;
use posting::Queued;
use rows::{DUPLICATE_IN_FILE, Header, INVALID_ROW, Kind};
use summary::{RefusedRow, Tally};

/// Rows in flight unless `--in-flight` says otherwise (one per lane; see `posting`).
pub const IN_FLIGHT_DEFAULT: u16 = 32;

/// The most rows `--in-flight` allows at once: more would not post faster, only contend.
pub const IN_FLIGHT_MAX: u16 = 256;

/// Post every row of a CSV file.
#[derive(Debug, clap::Subcommand)]
pub enum ImportCommand {
    /// Post every invoice of a CSV file (safe to run again).
    ///
    /// The header row names the columns, in any order (case and spaces ignored, other columns
    /// ignored):
    ///
    ///   subsidiary, customer, number, currency, amount, issue_date, and due_date or
    ///   payment_terms (a template's code; each row fills exactly one)
    ///
    /// Dates are YYYY-MM-DD, amounts plain decimals (1234.50), currencies ISO 4217 codes.
    /// Each row's command id is derived from invoice/<subsidiary>/<number>: a row posted before
    /// is not posted again, so an interrupted import is finished by running it again.
    /// Refused rows are written to <FILE>.refused.csv with their line and reason.
    #[command(verbatim_doc_comment)]
    Invoices(ImportArgs),
    /// Post every payment of a CSV file (safe to run again).
    ///
    /// The header row names the columns, in any order (case and spaces ignored, other columns
    /// ignored):
    ///
    ///   subsidiary, customer, reference, currency, amount, received_date, method
    ///   [, allocations]
    ///
    /// method: bank_transfer, alipay, wechat_pay, union_pay, card, cash, cheque or other.
    /// allocations: NUMBER:AMOUNT;NUMBER:AMOUNT... against the receiving subsidiary's invoices
    /// (SUBSIDIARY:NUMBER:AMOUNT for another's); empty: oldest due first, the rest unapplied.
    /// Dates are YYYY-MM-DD, amounts plain decimals (1234.50), currencies ISO 4217 codes.
    /// Each row's command id is derived from payment/<subsidiary>/<reference>: a row posted
    /// before is not posted again, so an interrupted import is finished by running it again.
    /// One customer's rows are posted in file order; import the invoices first.
    /// Refused rows are written to <FILE>.refused.csv with their line and reason.
    #[command(verbatim_doc_comment)]
    Payments(ImportArgs),
    /// Post every credit note of a CSV file (safe to run again).
    ///
    /// The header row names the columns, in any order (case and spaces ignored, other columns
    /// ignored):
    ///
    ///   subsidiary, customer, number, currency, amount, issue_date, reason [, invoice]
    ///
    /// subsidiary issues the note, number is its credit-note number, reason is free text.
    /// invoice: the invoice credited, NUMBER of the issuing subsidiary or SUBSIDIARY:NUMBER;
    /// empty: the note goes on account as unapplied credit.
    /// Dates are YYYY-MM-DD, amounts plain decimals (1234.50), currencies ISO 4217 codes.
    /// Each row's command id is derived from credit-note/<subsidiary>/<number>: a row posted
    /// before is not posted again, so an interrupted import is finished by running it again.
    /// One customer's rows are posted in file order; import the invoices first.
    /// Refused rows are written to <FILE>.refused.csv with their line and reason.
    #[command(verbatim_doc_comment)]
    CreditNotes(ImportArgs),
    /// Reverse every payment of a CSV file (safe to run again).
    ///
    /// The header row names the columns, in any order (case and spaces ignored, other columns
    /// ignored):
    ///
    ///   subsidiary, customer, reversal_date, reason
    ///   and payment_reference or payment_command_id (either column or both; one per row)
    ///
    /// subsidiary: the one that received the payment.
    /// reason: insufficient_funds, returned_by_bank, fraud or entered_in_error.
    /// payment_reference: the reference of a payment imported from a payments file (its
    /// command id is derived from payment/<subsidiary>/<reference>, as that import did).
    /// payment_command_id: the UUID of the command that recorded the payment, for payments
    /// posted otherwise.
    /// Dates are YYYY-MM-DD.
    /// Each row's command id is derived from reversal/<subsidiary>/<payment command id>: a row
    /// posted before is not posted again, so an interrupted import is finished by running it
    /// again. Import the payments first.
    /// Refused rows are written to <FILE>.refused.csv with their line and reason.
    #[command(verbatim_doc_comment)]
    Reversals(ImportArgs),
    /// Register or update every customer of a CSV file (safe to run again).
    ///
    /// The header row names the columns, in any order (case and spaces ignored, other columns
    /// ignored):
    ///
    ///   customer, name [, legal_name, tax_id, country, industry, notes, contacts]
    ///
    /// country: ISO 3166-1 alpha-2 (CN). contacts: name;email;phone;role, several separated
    /// by |. A customer not registered yet is registered; one registered already gets the
    /// row as its whole record (empty columns clear the field); a record that already reads
    /// as the row posts nothing.
    /// Refused rows are written to <FILE>.refused.csv with their line and reason.
    #[command(verbatim_doc_comment)]
    Customers(ImportArgs),
    /// Publish every exchange rate of a CSV file (safe to run again; treasury role).
    ///
    /// The header row names the columns, in any order (case and spaces ignored, other columns
    /// ignored):
    ///
    ///   base, date, currency, rate [, source]
    ///
    /// base: the group's currency; rate: units of the base per unit of the currency (7.1234).
    /// Each row publishes one rate for its date; a row changed since it was imported publishes
    /// the corrected rate, the same row posts nothing. Dates are YYYY-MM-DD.
    /// Refused rows are written to <FILE>.refused.csv with their line and reason.
    #[command(verbatim_doc_comment)]
    ExchangeRates(ImportArgs),
    /// Import a bank statement into a registered bank account, then match its lines (safe to
    /// run again: lines imported before are reported as known).
    ///
    /// Formats: camt053 (ISO 20022 XML), mt940 (SWIFT), csv with --preset (alipay,
    /// wechat-pay, cn-bank; GBK or UTF-8) or --layout (a JSON file naming the columns).
    /// Debits are reported, not imported. A credit the matcher is sure of is posted as the
    /// customer's payment; the rest wait in `receipts list`.
    #[command(verbatim_doc_comment)]
    Statement(crate::cmd::receipts::StatementImportArgs),
}

#[derive(Debug, Clone, clap::Args)]
pub struct ImportArgs {
    /// The CSV file, header row first.
    pub file: PathBuf,
    /// Where to write the refused rows (default: <FILE>.refused.csv).
    #[arg(long, value_name = "PATH")]
    pub refused: Option<PathBuf>,
    /// No progress bar (it is never shown when stderr is not a terminal).
    #[arg(long, short)]
    pub quiet: bool,
    /// Rows posted at once; one customer's rows are always posted one after another, in file
    /// order.
    #[arg(long, value_name = "N", default_value_t = IN_FLIGHT_DEFAULT,
          value_parser = clap::value_parser!(u16).range(1..=i64::from(IN_FLIGHT_MAX)))]
    pub in_flight: u16,
}

impl ImportArgs {
    /// The file refused rows go to.
    pub fn refused_path(&self) -> PathBuf {
        self.refused.clone().unwrap_or_else(|| {
            let mut path = self.file.as_os_str().to_owned();
            path.push(".refused.csv");
            PathBuf::from(path)
        })
    }
}

/// Imports the file and prints the summary.
pub async fn run(
    connection: &Connection,
    command: ImportCommand,
    out: &mut Output<'_>,
) -> Result<(), CliError> {
    let (kind, args) = match command {
        ImportCommand::Statement(args) => return args.run(connection, out).await,
        ImportCommand::Invoices(args) => (Kind::Invoices, args),
        ImportCommand::Payments(args) => (Kind::Payments, args),
        ImportCommand::CreditNotes(args) => (Kind::CreditNotes, args),
        ImportCommand::Reversals(args) => (Kind::Reversals, args),
        ImportCommand::Customers(args) => (Kind::Customers, args),
        ImportCommand::ExchangeRates(args) => (Kind::ExchangeRates, args),
    };
    let refused_path = args.refused_path();
    if refused_path == args.file {
        return Err(CliError::Usage(format!(
            "--refused {} is the file being imported",
            refused_path.display()
        )));
    }
    // The whole file is checked to be readable (and counted) before anything is posted.
    let (header, total) = count_rows(kind, &args.file)?;
    let commands = connection.commands().await?;
    let progress = progress_bar(total, args.quiet, kind);
    let tally = Mutex::new(Tally::default());
    let (lanes, queues) = posting::lanes(usize::from(args.in_flight));
    let reader = open(&args.file)?;
    let read = read_rows(kind, &args.file, &header, reader, lanes, &tally, &progress);
    let post = try_join_all(
        queues
            .into_iter()
            .map(|queue| posting::lane(queue, &commands, &tally, &progress)),
    );
    let result = tokio::try_join!(read, post).map(|_| ());
    progress.finish_and_clear();
    let tally = tally
        .into_inner()
        .map_err(|_| CliError::Output("the import's tally was poisoned".to_owned()))?;

    let refused_file = if !tally.refused.is_empty() {
        tally.write_refused(&header.names, &refused_path)?;
        Some(refused_path.as_path())
    } else {
        // A complete run without refusals leaves no list of refusals from an earlier run.
        if result.is_ok() && refused_path.is_file() {
            std::fs::remove_file(&refused_path).map_err(|e| {
                CliError::Output(format!("cannot remove {}: {e}", refused_path.display()))
            })?;
        }
        None
    };
    let summary = tally.summary(kind, &args.file, refused_file, total, result.is_ok());
    crate::sheet::emit(out, &summary.render(connection.format)?)?;
    match result {
        Err(cause) => Err(CliError::ImportStopped {
            rows_done: tally.done(),
            rows: total,
            cause: Box::new(cause),
        }),
        Ok(()) if !tally.refused.is_empty() => Err(CliError::RowsRefused {
            refused: tally.refused_count(),
            rows: tally.rows,
            refused_file: refused_path.display().to_string(),
        }),
        Ok(()) => Ok(()),
    }
}

fn unreadable(file: &Path, error: &dyn std::fmt::Display) -> CliError {
    CliError::Usage(format!("cannot read {}: {error}", file.display()))
}

fn open(file: &Path) -> Result<csv::Reader<File>, CliError> {
    let handle = File::open(file).map_err(|e| unreadable(file, &e))?;
    Ok(csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(handle))
}

/// Reads the header and counts the rows (for the progress bar, and to find an unreadable file
/// before anything is posted).
fn count_rows(kind: Kind, file: &Path) -> Result<(Header, u64), CliError> {
    let mut reader = open(file)?;
    let header = Header::read(kind, reader.headers().map_err(|e| unreadable(file, &e))?)
        .map_err(|e| unreadable(file, &e))?;
    let mut record = csv::ByteRecord::new();
    let mut rows = 0;
    while reader
        .read_byte_record(&mut record)
        .map_err(|e| unreadable(file, &e))?
    {
        rows += 1;
    }
    Ok((header, rows))
}

/// Reads the rows in order: refuses those that are not well formed or repeat an earlier row's
/// identity, and sends the others to their customer's lane. Closing the lanes at the end lets
/// them finish.
async fn read_rows(
    kind: Kind,
    file: &Path,
    header: &Header,
    mut reader: csv::Reader<File>,
    lanes: posting::Lanes,
    tally: &Mutex<Tally>,
    progress: &ProgressBar,
) -> Result<(), CliError> {
    // The first line of each identity; the memory it takes is the price of refusing a
    // duplicate however far apart the two rows are.
    let mut first_lines: HashMap<String, u64> = HashMap::new();
    let mut bytes = csv::ByteRecord::new();
    let refuse = |line: u64, fields: Vec<String>, reason: &str, message: String| {
        let mut tally = tally
            .lock()
            .map_err(|_| CliError::Output("the import's tally was poisoned".to_owned()))?;
        tally.refused.push(RefusedRow {
            line,
            fields,
            reason: reason.to_owned(),
            message,
        });
        progress.inc(1);
        Ok::<(), CliError>(())
    };
    while reader
        .read_byte_record(&mut bytes)
        .map_err(|e| unreadable(file, &e))?
    {
        let line = bytes.position().map_or(0, csv::Position::line);
        tally
            .lock()
            .map_err(|_| CliError::Output("the import's tally was poisoned".to_owned()))?
            .rows += 1;
        let record = match csv::StringRecord::from_byte_record(bytes.clone()) {
            Ok(record) => record,
            Err(error) => {
                let fields = bytes
                    .iter()
                    .map(|field| String::from_utf8_lossy(field).into_owned())
                    .collect();
                refuse(
                    line,
                    fields,
                    INVALID_ROW,
                    format!("not UTF-8 text: {error}"),
                )?;
                continue;
            }
        };
        let fields: Vec<String> = record.iter().map(str::to_owned).collect();
        let posting = match rows::parse(kind, header, line, &record) {
            Ok(posting) => posting,
            Err(problem) => {
                refuse(line, fields, INVALID_ROW, problem)?;
                continue;
            }
        };
        if let Some(first) = first_lines.get(&posting.identity) {
            let message = format!("{} is on line {first} already", posting.identity);
            refuse(line, fields, DUPLICATE_IN_FILE, message)?;
            continue;
        }
        first_lines.insert(posting.identity.clone(), line);
        if !lanes.send(Queued { posting, fields }).await {
            // The lanes stopped on an error, which the import reports.
            break;
        }
    }
    Ok(())
}

/// A progress bar on stderr, hidden with `--quiet` or when stderr is not a terminal.
fn progress_bar(total: u64, quiet: bool, kind: Kind) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} rows, {per_sec}, eta {eta}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(format!("importing {}", kind.noun()));
    bar
}
