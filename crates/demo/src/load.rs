//! Loading a data set through `CommandService`: many customers at once, each customer's commands
//! in order, retries where they are safe, and a summary of what the service answered.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use receivables_api::pb;
use receivables_api::pb::command_service_client::CommandServiceClient;
use rust_decimal::Decimal;
use tonic::Code;
use tonic::transport::Channel;
use tonic_types::StatusExt;

use crate::commands::{DemoCommand, KindCounts};

/// Customers whose commands are posted at the same time. Each customer's commands go one after
/// the other, so this is also the number of commands in flight: enough to keep the service and
/// the event log busy, few enough not to queue up behind its per-customer locks.
pub const CUSTOMERS_IN_FLIGHT_MAX: usize = 32;

/// Attempts per command when the service answers UNAVAILABLE, ABORTED, RESOURCE_EXHAUSTED or
/// DEADLINE_EXCEEDED. Retrying is safe because a command keeps its id: the service either
/// records it once or answers with its first reply.
pub const ATTEMPTS_PER_COMMAND_MAX: u32 = 4;

/// Pause before the first retry; doubled for every further one.
const RETRY_BACKOFF_INITIAL: Duration = Duration::from_millis(100);

/// Deadline of one command call (sent as `grpc-timeout`).
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

/// The refusal reason of a planted over-limit invoice.
pub const REASON_CREDIT_LIMIT_EXCEEDED: &str = "CREDIT_LIMIT_EXCEEDED";

/// Money totals of one currency, as the service accepted it, to check the reports against.
/// Every movement is counted so that what is open and what is unapplied (cash and credit) come
/// out as the accounts hold them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CurrencyTotals {
    /// Sum of the accepted invoices, less what credit notes took off them and what was written
    /// off.
    pub invoiced: Decimal,
    /// Money put on the customers' accounts: the accepted payments and the credit notes issued
    /// on account, less the payments reversed and the refunds.
    pub paid: Decimal,
    /// What of that money went onto invoices, as the service reported it: the allocations of
    /// payments and of applications, less what reversals re-opened.
    pub allocated: Decimal,
}

impl CurrencyTotals {
    /// What is still open on the invoices: invoiced minus allocated.
    pub fn open(&self) -> Decimal {
        self.invoiced - self.allocated
    }

    /// Cash and credit on account not applied to any invoice: paid minus allocated.
    pub fn unapplied(&self) -> Decimal {
        self.paid - self.allocated
    }
}

/// What a load did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadSummary {
    /// Accepted commands per kind (replayed ones included).
    pub accepted: KindCounts,
    /// Accepted commands the service had accepted before (a second load): nothing new recorded.
    pub replayed: usize,
    /// Refused commands by `google.rpc.ErrorInfo.reason` (the status code's name when the
    /// service sent none).
    pub refused: BTreeMap<String, usize>,
    /// Planted over-limit invoices refused with `CREDIT_LIMIT_EXCEEDED`, as intended.
    pub planted_refused: usize,
    /// Commands whose outcome was not the intended one: a planted invoice accepted or refused
    /// for another reason, or any other command refused. Zero when the service and the
    /// generator agree on the rules.
    pub unexpected: usize,
    /// Invoices accepted under policy WARN although they took exposure above the limit.
    pub over_limit_accepted: usize,
    /// The highest position (stream sequence) the service returned: pass it as `min_position`
    /// to the queries to read everything this load wrote.
    pub last_position: u64,
    /// Totals per currency code.
    pub totals: BTreeMap<String, CurrencyTotals>,
}

impl LoadSummary {
    /// All refused commands, whatever the reason.
    pub fn refused_total(&self) -> usize {
        self.refused.values().sum()
    }

    pub(crate) fn merge(&mut self, other: LoadSummary) {
        self.accepted.merge(&other.accepted);
        self.replayed += other.replayed;
        for (reason, count) in other.refused {
            *self.refused.entry(reason).or_default() += count;
        }
        self.planted_refused += other.planted_refused;
        self.unexpected += other.unexpected;
        self.over_limit_accepted += other.over_limit_accepted;
        self.last_position = self.last_position.max(other.last_position);
        for (currency, totals) in other.totals {
            let entry = self.totals.entry(currency).or_default();
            entry.invoiced += totals.invoiced;
            entry.paid += totals.paid;
            entry.allocated += totals.allocated;
        }
    }
}

/// Posts `commands` through `CommandService` on `channel`: up to [`CUSTOMERS_IN_FLIGHT_MAX`]
/// customers at once, each customer's commands strictly in the given order. A refusal is
/// counted (the planted over-limit invoices are meant to be refused); an error of the
/// transport or the service stops the load, after [`ATTEMPTS_PER_COMMAND_MAX`] attempts where
/// a retry may help. With `progress`, a progress bar is drawn on stderr.
pub async fn load(
    channel: Channel,
    commands: Vec<DemoCommand>,
    progress: bool,
) -> anyhow::Result<LoadSummary> {
    let bar = progress_bar(commands.len(), progress);
    let client = CommandServiceClient::new(channel);
    let mut customers = futures::stream::iter(by_customer(commands))
        .map(|sequence| post_customer(client.clone(), sequence, bar.clone()))
        .buffer_unordered(CUSTOMERS_IN_FLIGHT_MAX);
    let mut summary = LoadSummary::default();
    while let Some(part) = customers.next().await {
        match part {
            Ok(part) => summary.merge(part),
            Err(error) => {
                bar.abandon();
                return Err(error);
            }
        }
    }
    bar.finish_and_clear();
    Ok(summary)
}

fn progress_bar(total: usize, visible: bool) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(
        Some(u64::try_from(total).unwrap_or(u64::MAX)),
        ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = ProgressStyle::with_template(
        "loading demo data {bar:40} {pos}/{len} commands ({per_sec}, {eta} left)",
    ) {
        bar.set_style(style);
    }
    bar
}

/// Each customer's commands in their order, customers in the order they first appear.
pub(crate) fn by_customer(commands: Vec<DemoCommand>) -> Vec<Vec<DemoCommand>> {
    let mut slots: HashMap<String, usize> = HashMap::new();
    let mut sequences: Vec<Vec<DemoCommand>> = Vec::new();
    for command in commands {
        let slot = *slots
            .entry(command.customer_id().to_owned())
            .or_insert_with(|| {
                sequences.push(Vec::new());
                sequences.len() - 1
            });
        if let Some(sequence) = sequences.get_mut(slot) {
            sequence.push(command);
        }
    }
    sequences
}

async fn post_customer(
    mut client: CommandServiceClient<Channel>,
    sequence: Vec<DemoCommand>,
    bar: ProgressBar,
) -> anyhow::Result<LoadSummary> {
    let mut summary = LoadSummary::default();
    for command in &sequence {
        let answer = post(&mut client, command).await?;
        summary.record(command, answer)?;
        bar.inc(1);
    }
    Ok(summary)
}

enum Reply {
    CreditLimit(pb::ChangeCreditLimitResponse),
    Invoice(pb::IssueInvoiceResponse),
    Payment(pb::RecordPaymentResponse),
    Promise(pb::RecordPromiseToPayResponse),
    CreditNote(pb::IssueCreditNoteResponse),
    WriteOff(pb::WriteOffInvoiceResponse),
    Reversal(pb::ReversePaymentResponse),
    Application(pb::ApplyUnappliedCashResponse),
    Refund(pb::IssueRefundResponse),
    Dispute(pb::OpenDisputeResponse),
    Resolution(pb::ResolveDisputeResponse),
    Customer(pb::RegisterCustomerResponse),
    Collector(pb::AssignCollectorResponse),
    Rates(pb::PublishExchangeRatesResponse),
}

impl Reply {
    fn receipt(&self) -> Option<&pb::CommandReceipt> {
        match self {
            Reply::CreditLimit(r) => r.receipt.as_ref(),
            Reply::Invoice(r) => r.receipt.as_ref(),
            Reply::Payment(r) => r.receipt.as_ref(),
            Reply::Promise(r) => r.receipt.as_ref(),
            Reply::CreditNote(r) => r.receipt.as_ref(),
            Reply::WriteOff(r) => r.receipt.as_ref(),
            Reply::Reversal(r) => r.receipt.as_ref(),
            Reply::Application(r) => r.receipt.as_ref(),
            Reply::Refund(r) => r.receipt.as_ref(),
            Reply::Dispute(r) => r.receipt.as_ref(),
            Reply::Resolution(r) => r.receipt.as_ref(),
            Reply::Customer(r) => r.receipt.as_ref(),
            Reply::Collector(r) => r.receipt.as_ref(),
            Reply::Rates(r) => r.receipt.as_ref(),
        }
    }
}

enum Answer {
    /// Boxed: an invoice's reply (its schedule rows, its discount) is much larger than a
    /// refusal.
    Accepted(Box<Reply>),
    Refused {
        reason: String,
    },
}

fn request<T: Clone>(message: &T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message.clone());
    request.set_timeout(COMMAND_TIMEOUT);
    request
}

async fn send(
    client: &mut CommandServiceClient<Channel>,
    command: &DemoCommand,
) -> Result<Reply, tonic::Status> {
    Ok(match command {
        DemoCommand::ChangeCreditLimit(r) => {
            Reply::CreditLimit(client.change_credit_limit(request(r)).await?.into_inner())
        }
        DemoCommand::IssueInvoice(r) | DemoCommand::IssueInvoiceOverLimit(r) => {
            Reply::Invoice(client.issue_invoice(request(r)).await?.into_inner())
        }
        DemoCommand::RecordPayment(r) => {
            Reply::Payment(client.record_payment(request(r)).await?.into_inner())
        }
        DemoCommand::RecordPromiseToPay(r) => {
            Reply::Promise(client.record_promise_to_pay(request(r)).await?.into_inner())
        }
        DemoCommand::IssueCreditNote(r) => {
            Reply::CreditNote(client.issue_credit_note(request(r)).await?.into_inner())
        }
        DemoCommand::WriteOffInvoice(r) => {
            Reply::WriteOff(client.write_off_invoice(request(r)).await?.into_inner())
        }
        DemoCommand::ReversePayment(r) => {
            Reply::Reversal(client.reverse_payment(request(r)).await?.into_inner())
        }
        DemoCommand::ApplyUnappliedCash(r) => {
            Reply::Application(client.apply_unapplied_cash(request(r)).await?.into_inner())
        }
        DemoCommand::IssueRefund(r) => {
            Reply::Refund(client.issue_refund(request(r)).await?.into_inner())
        }
        DemoCommand::OpenDispute(r) => {
            Reply::Dispute(client.open_dispute(request(r)).await?.into_inner())
        }
        DemoCommand::ResolveDispute(r) => {
            Reply::Resolution(client.resolve_dispute(request(r)).await?.into_inner())
        }
        DemoCommand::RegisterCustomer(r) => {
            Reply::Customer(client.register_customer(request(r)).await?.into_inner())
        }
        DemoCommand::AssignCollector(r) => {
            Reply::Collector(client.assign_collector(request(r)).await?.into_inner())
        }
        DemoCommand::PublishExchangeRates(r) => Reply::Rates(
            client
                .publish_exchange_rates(request(r))
                .await?
                .into_inner(),
        ),
    })
}

/// The stable reason of a refusal: `ErrorInfo.reason`, else the status code's name.
fn refusal_reason(status: &tonic::Status) -> String {
    status
        .get_error_details()
        .error_info()
        .map(|info| info.reason.clone())
        .unwrap_or_else(|| format!("{:?}", status.code()).to_uppercase())
}

async fn post(
    client: &mut CommandServiceClient<Channel>,
    command: &DemoCommand,
) -> anyhow::Result<Answer> {
    let mut backoff = RETRY_BACKOFF_INITIAL;
    let mut attempt = 1;
    loop {
        let status = match send(client, command).await {
            Ok(reply) => return Ok(Answer::Accepted(Box::new(reply))),
            Err(status) => status,
        };
        match status.code() {
            Code::InvalidArgument | Code::FailedPrecondition | Code::AlreadyExists => {
                return Ok(Answer::Refused {
                    reason: refusal_reason(&status),
                });
            }
            Code::Unavailable
            | Code::Aborted
            | Code::ResourceExhausted
            | Code::DeadlineExceeded
                if attempt < ATTEMPTS_PER_COMMAND_MAX =>
            {
                tokio::time::sleep(backoff).await;
                backoff = backoff.saturating_mul(2);
                attempt += 1;
            }
            code => bail!(
                "{} {} of customer {} failed after {attempt} attempt(s): {code:?}: {}",
                command.kind(),
                command.command_id(),
                command.customer_id(),
                status.message()
            ),
        }
    }
}

fn amount_of(money: Option<&pb::Money>, what: &str) -> anyhow::Result<(String, Decimal)> {
    let money = money.ok_or_else(|| anyhow!("{what} has no amount"))?;
    let amount = Decimal::from_str(&money.amount)
        .with_context(|| format!("{what} has a malformed amount {:?}", money.amount))?;
    Ok((money.currency.clone(), amount))
}

/// The total of allocations a reply reports for money in `currency`.
fn allocated(
    allocations: &[pb::Allocation],
    currency: &str,
    what: &str,
) -> anyhow::Result<Decimal> {
    let mut total = Decimal::ZERO;
    for allocation in allocations {
        let (allocation_currency, part) = amount_of(allocation.amount.as_ref(), what)?;
        if allocation_currency != currency {
            bail!("the reply to {what} allocates {allocation_currency} to money in {currency}");
        }
        total += part;
    }
    Ok(total)
}

impl LoadSummary {
    fn record(&mut self, command: &DemoCommand, answer: Answer) -> anyhow::Result<()> {
        let reply = match answer {
            Answer::Refused { reason } => {
                if command.is_planted_over_limit() && reason == REASON_CREDIT_LIMIT_EXCEEDED {
                    self.planted_refused += 1;
                } else {
                    self.unexpected += 1;
                }
                *self.refused.entry(reason).or_default() += 1;
                return Ok(());
            }
            Answer::Accepted(reply) => *reply,
        };
        let receipt = reply.receipt().ok_or_else(|| {
            anyhow!(
                "the service accepted {} {} without a receipt",
                command.kind(),
                command.command_id()
            )
        })?;
        self.accepted.add(command.kind(), 1);
        self.replayed += usize::from(receipt.replayed);
        self.last_position = self.last_position.max(receipt.position);
        if command.is_planted_over_limit() {
            self.unexpected += 1;
        }
        match (command, &reply) {
            (
                DemoCommand::IssueInvoice(request) | DemoCommand::IssueInvoiceOverLimit(request),
                Reply::Invoice(reply),
            ) => {
                let (currency, amount) = amount_of(request.amount.as_ref(), "an invoice")?;
                self.totals.entry(currency).or_default().invoiced += amount;
                self.over_limit_accepted += usize::from(reply.over_limit);
            }
            (DemoCommand::RecordPayment(request), Reply::Payment(reply)) => {
                let what = format!("payment {}", request.command_id);
                let (currency, amount) = amount_of(request.amount.as_ref(), &what)?;
                let allocated = allocated(&reply.allocations, &currency, &what)?;
                let (_, unapplied) = amount_of(reply.unapplied.as_ref(), &what)?;
                // The ledger's invariant, checked again where it is read.
                if allocated + unapplied != amount {
                    bail!(
                        "the reply to {what} does not add up: allocated {allocated} + unapplied {unapplied} != {amount}"
                    );
                }
                let totals = self.totals.entry(currency).or_default();
                totals.paid += amount;
                totals.allocated += allocated;
            }
            (DemoCommand::IssueCreditNote(request), Reply::CreditNote(reply)) => {
                let what = format!("credit note {}", request.command_id);
                let (currency, amount) = amount_of(request.amount.as_ref(), &what)?;
                let (_, on_account) = amount_of(reply.unapplied_credit.as_ref(), &what)?;
                let totals = self.totals.entry(currency).or_default();
                totals.invoiced -= amount - on_account;
                totals.paid += on_account;
            }
            (DemoCommand::WriteOffInvoice(request), Reply::WriteOff(_)) => {
                let what = format!("write-off {}", request.command_id);
                let (currency, amount) = amount_of(request.amount.as_ref(), &what)?;
                self.totals.entry(currency).or_default().invoiced -= amount;
            }
            (DemoCommand::ReversePayment(request), Reply::Reversal(reply)) => {
                let what = format!("reversal {}", request.command_id);
                let (currency, removed) = amount_of(reply.unapplied_removed.as_ref(), &what)?;
                let reopened = allocated(&reply.reopened, &currency, &what)?;
                let totals = self.totals.entry(currency).or_default();
                totals.paid -= reopened + removed;
                totals.allocated -= reopened;
            }
            (DemoCommand::ApplyUnappliedCash(request), Reply::Application(reply)) => {
                let what = format!("application {}", request.command_id);
                let (currency, applied) = amount_of(reply.applied.as_ref(), &what)?;
                // The ledger's invariant, checked again where it is read.
                if allocated(&reply.allocations, &currency, &what)? != applied {
                    bail!("the reply to {what} does not add up to the {applied} applied");
                }
                self.totals.entry(currency).or_default().allocated += applied;
            }
            (DemoCommand::IssueRefund(request), Reply::Refund(_)) => {
                let what = format!("refund {}", request.command_id);
                let (currency, amount) = amount_of(request.amount.as_ref(), &what)?;
                self.totals.entry(currency).or_default().paid -= amount;
            }
            _ => {}
        }
        Ok(())
    }
}
