//! Posting rows concurrently without reordering any customer's rows.
//!
//! Rows go to lanes by customer (a hash of the customer id), each lane posts its rows one at a
//! time in file order, and the lanes run together: up to one row in flight per lane. A
//! payment therefore always reaches the service after the invoices of the same customer that
//! come before it in the file, and the credit checks see the rows in the order the file gives.
//! Each lane's queue is bounded, so a file of any size is read as fast as it is posted, never
//! into memory.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::ProgressBar;
use tokio::sync::mpsc;

use receivables_api::pb;

use crate::connection::Commands;
use crate::error::{CliError, ServiceStatus, StatusClass};
use crate::import::rows::{Posting, RowCommand};
use crate::import::summary::{RefusedRow, Tally};

/// Rows waiting in each lane: enough to keep the lane busy while the reader goes on, small
/// enough that a large file is never held in memory.
pub const LANE_QUEUE_ROWS: usize = 16;

/// Attempts of a row the service answers with `ABORTED` (the account kept changing under the
/// command, because someone else was posting to the same customer).
pub const CONTENDED_ATTEMPTS_MAX: u32 = 3;

/// Wait before the next attempt of a contended row, times the attempt number.
pub const CONTENDED_BACKOFF: Duration = Duration::from_millis(200);

/// A row with its original fields, on its way to a lane.
#[derive(Debug)]
pub struct Queued {
    pub posting: Posting,
    pub fields: Vec<String>,
}

/// Where rows go: one sender per lane.
pub struct Lanes {
    senders: Vec<mpsc::Sender<Queued>>,
}

impl Lanes {
    /// Sends the row to its customer's lane; `false` when the lanes have stopped.
    pub async fn send(&self, row: Queued) -> bool {
        let mut hasher = DefaultHasher::new();
        row.posting.customer.hash(&mut hasher);
        let count = u64::try_from(self.senders.len()).unwrap_or(1).max(1);
        let lane = usize::try_from(hasher.finish() % count).unwrap_or(0);
        match self.senders.get(lane) {
            Some(sender) => sender.send(row).await.is_ok(),
            None => false,
        }
    }
}

/// `lanes` lanes and their receivers (one per lane task).
pub fn lanes(lanes: usize) -> (Lanes, Vec<mpsc::Receiver<Queued>>) {
    let (senders, receivers) = (0..lanes.max(1))
        .map(|_| mpsc::channel(LANE_QUEUE_ROWS))
        .unzip();
    (Lanes { senders }, receivers)
}

/// One lane: posts its rows in order until the queue closes; stops at the first error that is
/// not about the row itself (the service unavailable, too slow or failing).
pub async fn lane(
    mut queue: mpsc::Receiver<Queued>,
    commands: &Commands,
    tally: &Mutex<Tally>,
    progress: &ProgressBar,
) -> Result<(), CliError> {
    while let Some(row) = queue.recv().await {
        let outcome = post(commands, &row.posting).await?;
        {
            let mut tally = tally
                .lock()
                .map_err(|_| CliError::Output("the import's tally was poisoned".to_owned()))?;
            match outcome {
                Outcome::Recorded { over_limit } => {
                    tally.accepted += 1;
                    tally.over_limit += u64::from(over_limit);
                }
                Outcome::PostedBefore => tally.already_posted += 1,
                Outcome::Refused(status) => tally.refused.push(RefusedRow {
                    line: row.posting.line,
                    fields: row.fields,
                    reason: status.reason,
                    message: status.message,
                }),
            }
        }
        progress.inc(1);
    }
    Ok(())
}

/// What became of a row the service answered.
enum Outcome {
    Recorded { over_limit: bool },
    PostedBefore,
    Refused(ServiceStatus),
}

/// A customer's row: registered if it is not, else its record updated to the row; a record
/// that already reads as the row was posted before. Answers as a single call would: whether the
/// reply was a replay, or the status of the refusal.
async fn customer(
    commands: &Commands,
    register: &pb::RegisterCustomerRequest,
    update: &pb::UpdateCustomerRequest,
) -> Result<(bool, bool), tonic::Status> {
    let mut client = commands.client.clone();
    let reason = |status: &tonic::Status| Some(ServiceStatus::from_status(status).reason);
    let status = match client
        .register_customer(commands.request(register.clone()))
        .await
    {
        Ok(reply) => {
            let replayed = reply.into_inner().receipt.is_some_and(|r| r.replayed);
            return Ok((replayed, false));
        }
        Err(status) => status,
    };
    if reason(&status).as_deref() != Some(CUSTOMER_ALREADY_REGISTERED) {
        return Err(status);
    }
    match client
        .update_customer(commands.request(update.clone()))
        .await
    {
        Ok(reply) => Ok((
            reply.into_inner().receipt.is_some_and(|r| r.replayed),
            false,
        )),
        Err(status) if reason(&status).as_deref() == Some(CUSTOMER_UNCHANGED) => Ok((true, false)),
        Err(status) => Err(status),
    }
}

/// The refusal of a registration of a customer registered already: the row updates it.
const CUSTOMER_ALREADY_REGISTERED: &str = "CUSTOMER_ALREADY_REGISTERED";
/// The refusal of an update that changes nothing: the row was posted before.
const CUSTOMER_UNCHANGED: &str = "CUSTOMER_UNCHANGED";

/// Posts one row; a refusal is the row's outcome, a failure of the service is an error.
async fn post(commands: &Commands, posting: &Posting) -> Result<Outcome, CliError> {
    let mut attempt = 1;
    loop {
        let mut client = commands.client.clone();
        let answer = match &posting.command {
            RowCommand::Invoice(request) => client
                .issue_invoice(commands.request(request.clone()))
                .await
                .map(|reply| {
                    let reply = reply.into_inner();
                    let replayed = reply.receipt.as_ref().is_some_and(|r| r.replayed);
                    (replayed, reply.over_limit)
                }),
            RowCommand::Payment(request) => client
                .record_payment(commands.request(request.clone()))
                .await
                .map(|reply| {
                    let reply = reply.into_inner();
                    (reply.receipt.as_ref().is_some_and(|r| r.replayed), false)
                }),
            RowCommand::CreditNote(request) => client
                .issue_credit_note(commands.request(request.clone()))
                .await
                .map(|reply| {
                    let reply = reply.into_inner();
                    (reply.receipt.as_ref().is_some_and(|r| r.replayed), false)
                }),
            RowCommand::Reversal(request) => client
                .reverse_payment(commands.request(request.clone()))
                .await
                .map(|reply| {
                    let reply = reply.into_inner();
                    (reply.receipt.as_ref().is_some_and(|r| r.replayed), false)
                }),
            RowCommand::ExchangeRate(request) => client
                .publish_exchange_rates(commands.request(request.clone()))
                .await
                .map(|reply| {
                    let reply = reply.into_inner();
                    (reply.receipt.as_ref().is_some_and(|r| r.replayed), false)
                }),
            RowCommand::Customer { register, update } => customer(commands, register, update).await,
        };
        let status = match answer {
            Ok((true, _)) => return Ok(Outcome::PostedBefore),
            Ok((false, over_limit)) => return Ok(Outcome::Recorded { over_limit }),
            Err(status) => status,
        };
        let error = commands.error(&status);
        let Some(reported) = error.service_status() else {
            return Err(error);
        };
        match (reported.class(), status.code()) {
            (StatusClass::Refused | StatusClass::NotFound, _) => {
                return Ok(Outcome::Refused(reported.clone()));
            }
            (StatusClass::Transient, tonic::Code::Aborted) if attempt < CONTENDED_ATTEMPTS_MAX => {
                tokio::time::sleep(CONTENDED_BACKOFF * attempt).await;
                attempt += 1;
            }
            // Still contended after the last attempt: the row is reported, and the next run
            // of the import posts it.
            (StatusClass::Transient, tonic::Code::Aborted) => {
                return Ok(Outcome::Refused(reported.clone()));
            }
            _ => return Err(error),
        }
    }
}
