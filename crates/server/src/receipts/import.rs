//! Importing a statement: the file read whole (`receivables-statements`: any bad line refuses
//! the file, every problem named), the statement's own account checked against the registered
//! one, then each credit line sent as a command to the bank account's stream, whose decision
//! says whether it is new, known, or a known id with other content. Debits are reported.
//!
//! Each line's command id is derived from the bank account, the line's id, its content's
//! digest and the statement that carries it: two importers of one file send the same commands,
//! and the second is answered with the first one's events (reported as known), so a line is
//! imported once however many import it at once. Another statement repeating the line (an
//! intraday statement overlapping the day's) sends another command, which the stream refuses
//! as known: the statement is in the command, so one id for both would be one id with two
//! contents.

use std::collections::HashMap;

use futures::{StreamExt, stream};
use receivables_api::commands::Addressed;
use receivables_api::pb;
use receivables_api::receipts::{ImportFormat, ImportRequest, money};
use receivables_domain::account::bank_account::account_number_key;
use receivables_domain::account::receipt::{ImportStatementLine, StatementLine};
use receivables_domain::account::state::BankAccountRecord;
use receivables_domain::ids::BankLineId;
use receivables_domain::refusal::{FieldViolation, PreconditionViolation, Reason};
use receivables_domain::{Command, CommandBody, CustomerId, Position, Refusal};
use receivables_eventlog::EventLog;
use receivables_projections::ReadPool;
use receivables_projections::receipt_queue::outcomes;
use receivables_statements::{CsvLayout, Direction, Format, Statement};

use super::derived::derived_id;
use super::error::ReceiptError;
use super::matcher::Acting;
use crate::execution::{ExecutionError, Executor};

/// Lines of one statement sent to the bank account's stream at once: they wait in its queue
/// and are decided together, a run at a time (`execution/run.rs`).
const IMPORT_CONCURRENCY: usize = 64;

/// The file, read whole, as the format asks; every problem as a bad field of `content`.
fn read(content: &[u8], format: &ImportFormat) -> Result<Statement, ReceiptError> {
    let refused = |violations: Vec<FieldViolation>| {
        ReceiptError::Execution(ExecutionError::Refused(Refusal::invalid(violations)))
    };
    let format = match format {
        ImportFormat::Camt053 => Format::Camt053,
        ImportFormat::Mt940 => Format::Mt940,
        ImportFormat::CsvPreset(name) => match CsvLayout::preset(name) {
            Some(layout) => Format::Csv(layout),
            None => {
                return Err(refused(vec![FieldViolation::new(
                    "csv_preset",
                    format!(
                        "{name:?} is not a preset: one of {}",
                        CsvLayout::PRESETS.join(", ")
                    ),
                )]));
            }
        },
        ImportFormat::CsvLayout(json) => match serde_json::from_str::<CsvLayout>(json) {
            Ok(layout) => Format::Csv(layout),
            Err(error) => {
                return Err(refused(vec![FieldViolation::new(
                    "csv_layout_json",
                    format!("is not a CSV layout: {error}"),
                )]));
            }
        },
    };
    receivables_statements::parse(content, &format).map_err(|error| {
        refused(
            error
                .problems
                .iter()
                .map(|problem| {
                    let field = match problem.line {
                        Some(line) => format!("content.line[{line}].{}", problem.field),
                        None => format!("content.{}", problem.field),
                    };
                    FieldViolation::new(field, &problem.message)
                })
                .collect(),
        )
    })
}

/// Imports the statement's credit lines into `record`'s account; the reply (without the
/// matching's figures) and the highest position written.
pub async fn import<L: EventLog>(
    executor: &Executor<L>,
    asked: &ImportRequest,
    record: &BankAccountRecord,
    content: &[u8],
    acting: &Acting<'_>,
) -> Result<(pb::ImportStatementResponse, Position), ReceiptError> {
    let statement = read(content, &asked.format)?;
    let stream = CustomerId::bank_account(&asked.bank_account);
    if let Some(number) = &statement.account
        && account_number_key(number) != account_number_key(&record.number)
    {
        return Err(ReceiptError::Execution(ExecutionError::Refused(
            Refusal::precondition(
                Reason::BankAccountMismatch,
                vec![PreconditionViolation {
                    kind: Reason::BankAccountMismatch,
                    subject: stream.to_string(),
                    description: format!(
                        "the statement is of account {number}, not of {} ({})",
                        asked.bank_account, record.number
                    ),
                }],
            ),
        )));
    }
    let statement_id = statement.statement_id.clone();
    let results: Vec<Result<pb::StatementLineResult, ReceiptError>> =
        stream::iter(statement.lines.into_iter().map(|line| {
            let stream = stream.clone();
            let statement_id = statement_id.clone();
            async move { import_line(executor, &stream, record, statement_id, line, acting).await }
        }))
        .buffered(IMPORT_CONCURRENCY)
        .collect()
        .await;
    let mut reply = pb::ImportStatementResponse {
        statement_id: statement_id.unwrap_or_default(),
        ..pb::ImportStatementResponse::default()
    };
    let mut position = Position::new(0);
    for result in results {
        let line = result?;
        match pb::LineOutcome::try_from(line.outcome) {
            Ok(pb::LineOutcome::Imported) => reply.imported += 1,
            Ok(pb::LineOutcome::Known) => reply.known += 1,
            Ok(pb::LineOutcome::Debit) => reply.debits += 1,
            _ => reply.refused += 1,
        }
        position = position.max(Position::new(line.position));
        reply.lines.push(line);
    }
    reply.position = position.get();
    Ok((reply, position))
}

async fn import_line<L: EventLog>(
    executor: &Executor<L>,
    stream: &CustomerId,
    record: &BankAccountRecord,
    statement_id: Option<String>,
    line: receivables_statements::StatementLine,
    acting: &Acting<'_>,
) -> Result<pb::StatementLineResult, ReceiptError> {
    let digest = line.content_digest();
    let mut result = pb::StatementLineResult {
        ordinal: u32::try_from(line.ordinal).unwrap_or(u32::MAX),
        source_line: u32::try_from(line.source_line).unwrap_or(u32::MAX),
        line_id: line.bank_transaction_id.clone(),
        line_id_derived: line.id_derived,
        amount: Some(money(line.amount)),
        value_date: receivables_api::responses::date(line.value_date),
        payer_name: line.payer_name.clone().unwrap_or_default(),
        reference: line.reference.clone(),
        ..pb::StatementLineResult::default()
    };
    if line.direction == Direction::Debit {
        result.outcome = pb::LineOutcome::Debit.into();
        return Ok(result);
    }
    let line_id = match BankLineId::parse(&line.bank_transaction_id) {
        Ok(id) => id,
        Err(error) => {
            result.outcome = pb::LineOutcome::Refused.into();
            result.problem = format!("the bank's transaction id: {error}");
            return Ok(result);
        }
    };
    let addressed = Addressed {
        customer_id: stream.clone(),
        command: Command {
            id: derived_id(
                stream,
                "import",
                &format!(
                    "{line_id}\u{1f}{digest}\u{1f}{}",
                    statement_id.as_deref().unwrap_or("")
                ),
            ),
            body: CommandBody::ImportStatementLine(ImportStatementLine {
                subsidiary_id: record.subsidiary_id.clone(),
                line: StatementLine {
                    line_id,
                    statement_id,
                    value_date: line.value_date,
                    booking_date: line.booking_date,
                    amount: line.amount,
                    payer_name: line.payer_name,
                    payer_account: line.payer_account,
                    reference: line.reference,
                    digest,
                },
            }),
        },
    };
    match executor
        .execute(&addressed, acting.principal, acting.role)
        .await
    {
        Ok(executed) if executed.replayed => {
            result.outcome = pb::LineOutcome::Known.into();
        }
        Ok(executed) => {
            result.outcome = pb::LineOutcome::Imported.into();
            result.position = executed.event.position.get();
        }
        Err(ExecutionError::Refused(refusal)) if refusal.reason == Reason::StatementLineKnown => {
            result.outcome = pb::LineOutcome::Known.into();
        }
        Err(ExecutionError::Refused(refusal)) => {
            result.outcome = pb::LineOutcome::Refused.into();
            result.problem = refusal.message;
        }
        Err(error) => return Err(error.into()),
    }
    Ok(result)
}

/// Sets each credit line's match outcome in the reply, as the read model now has it.
pub async fn mark_matches(
    reply: &mut pb::ImportStatementResponse,
    pool: &ReadPool,
    bank_account: &str,
) -> Result<(), ReceiptError> {
    let credits: Vec<&str> = reply
        .lines
        .iter()
        .filter(|l| {
            matches!(
                pb::LineOutcome::try_from(l.outcome),
                Ok(pb::LineOutcome::Imported | pb::LineOutcome::Known)
            )
        })
        .map(|l| l.line_id.as_str())
        .collect();
    let found: HashMap<String, _> = outcomes(pool, bank_account, &credits).await?;
    for line in &mut reply.lines {
        let outcome = pb::LineOutcome::try_from(line.outcome);
        if !matches!(
            outcome,
            Ok(pb::LineOutcome::Imported | pb::LineOutcome::Known)
        ) {
            continue;
        }
        let settled = found.get(&line.line_id);
        line.r#match = match (outcome, settled) {
            (_, None) => pb::MatchOutcome::Waiting,
            (Ok(pb::LineOutcome::Imported), Some(o)) if o.method == "AUTOMATIC" => {
                pb::MatchOutcome::Automatic
            }
            (_, Some(_)) => pb::MatchOutcome::Settled,
        }
        .into();
    }
    Ok(())
}
