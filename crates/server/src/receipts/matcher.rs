//! The matcher: each waiting line of a bank account matched by the engine
//! (`receivables_domain::matching`) against the evidence the read model gathers
//! (`receipt_evidence.rs`), the sure ones recorded as matched in the bank account's stream, and
//! the payments of every matched line posted to the customers' accounts.
//!
//! Recording the match first, then posting its payments from the match as recorded, is what
//! makes a line post once: the stream takes one match per line (a second matcher, or a person,
//! is refused), and each payment's command id is derived from the line, so posting it again
//! (after a crash, from another process) is the same command, answered with its first event.
//! A payment whose invoices can no longer take it (paid meanwhile, or another subsidiary's
//! that the caller may not settle) is posted on account instead, under the same command id:
//! one of the two is ever accepted.

use std::collections::BTreeMap;

use futures::{StreamExt, stream};
use receivables_api::commands::Addressed;
use receivables_domain::access::Role;
use receivables_domain::account::receipt::{
    MatchMethod, MatchStatementLine, ReceiptPart, receipt_credit_application, receipt_payment,
};
use receivables_domain::allocation::AllocationRequest;
use receivables_domain::ids::{BankLineId, InvoiceKey, InvoiceNumber};
use receivables_domain::matching::{self, AutoPolicy, Candidate, Receipt};
use receivables_domain::refusal::Reason;
use receivables_domain::{Command, CommandBody, Currency, CustomerId, Money, Position, Principal};
use receivables_eventlog::EventLog;
use receivables_projections::ReadPool;
use receivables_projections::minor_units::from_minor;
use receivables_projections::paging::Paged;
use receivables_projections::receipt_evidence::{ReceiptLine, credit_held, gather};
use receivables_projections::receipt_queue::{
    PendingPayment, UnmatchedQuery, list_unmatched, pending_payments,
};
use rust_decimal::Decimal;
use tracing::{info, warn};

use super::derived::derived_id;
use super::error::ReceiptError;
use crate::execution::{ExecutionError, Executor};

/// Lines read from the review queue at a time while matching.
const MATCH_PAGE_LINES: u32 = 500;

/// Lines ranked and matched at once: each ranking is a handful of indexed reads, so a few in
/// flight keep the read model's connections busy without queueing behind each other.
const MATCH_CONCURRENCY: usize = 8;

/// Payments posted at once (different customers' go on in parallel).
const POSTING_CONCURRENCY: usize = 16;

/// Most lines one call matches: a statement's worth many times over; a call that finds more
/// waiting leaves the rest for the next.
pub const MATCH_LINES_PER_CALL_MAX: usize = 200_000;

/// What a pass of the matcher did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Matched {
    pub looked_at: u32,
    pub automatic: u32,
    pub waiting: u32,
    /// The highest position the pass wrote.
    pub position: Position,
}

/// Who the matcher acts for: the caller of the RPC that started it.
pub struct Acting<'a> {
    pub principal: &'a Principal,
    pub role: Option<&'a Role>,
}

/// The candidates of `line`, best first.
pub async fn candidates(
    pool: &ReadPool,
    line: &ReceiptLine,
) -> Result<Vec<Candidate>, receivables_projections::ProjectionError> {
    let evidence = gather(pool, line).await?;
    Ok(matching::rank(&receipt_of(line), &evidence))
}

fn receipt_of(line: &ReceiptLine) -> Receipt {
    Receipt {
        amount: line.amount,
        value_date: line.value_date,
        payer_name: line.payer_name.clone(),
        payer_account: line.payer_account.clone(),
        reference: line.reference.clone(),
    }
}

/// Matches the waiting lines of `bank_account` (every account's when `None`) that the engine
/// is sure of, then posts the payments of every matched line not posted yet; the lines of the
/// accounts `may_settle` refuses are left alone.
pub async fn match_waiting<L: EventLog>(
    executor: &Executor<L>,
    pool: &ReadPool,
    bank_account: Option<&str>,
    policy: &AutoPolicy,
    acting: &Acting<'_>,
    may_settle: impl Fn(&str) -> bool,
) -> Result<Matched, ReceiptError> {
    let mut done = Matched::default();
    let claimed = Claimed::default();
    let mut query = UnmatchedQuery::default();
    query.bank_account = bank_account.map(str::to_owned);
    let mut query = query
        .with_page_size(MATCH_PAGE_LINES)
        .map_err(|e| ReceiptError::Stored(e.to_string()))?;
    loop {
        let page = list_unmatched(pool, &query).await?;
        let room = MATCH_LINES_PER_CALL_MAX.saturating_sub(done.looked_at as usize);
        let lines: Vec<ReceiptLine> = page
            .lines
            .into_iter()
            .map(|waiting| waiting.line)
            .filter(|line| may_settle(&line.subsidiary_id))
            .take(room)
            .collect();
        // Lines are ranked (reads) and their matches recorded (one stream, decided in runs)
        // several at once.
        let outcomes: Vec<Result<Option<Position>, ReceiptError>> = stream::iter(lines)
            .map(|line| match_line(executor, pool, policy, acting, &claimed, line))
            .buffered(MATCH_CONCURRENCY)
            .collect()
            .await;
        for outcome in outcomes {
            done.looked_at += 1;
            match outcome? {
                Some(position) => {
                    done.automatic += 1;
                    done.position = done.position.max(position);
                }
                None => done.waiting += 1,
            }
        }
        match page.next_page_token {
            Some(token) if (done.looked_at as usize) < MATCH_LINES_PER_CALL_MAX => {
                query = query
                    .with_page_token(&token)
                    .map_err(|e| ReceiptError::Stored(e.to_string()))?;
            }
            _ => break,
        }
    }
    Ok(done)
}

/// The unapplied credit the sure matches of this pass have claimed, per customer and currency.
///
/// Every line of a pass is ranked on the read model as it was before any of the pass's
/// payments is posted, so two lines naming one credit note (or the same customer's pooled
/// credit) would both find it held. A sure match that applies credit claims it against what
/// the customer holds; a line whose credit the pass's earlier claims leave no room for waits,
/// and the next pass ranks it on what they left (most likely a partial payment, for a person).
#[derive(Default)]
struct Claimed(std::sync::Mutex<BTreeMap<(CustomerId, Currency), Decimal>>);

impl Claimed {
    /// Whether `candidate` may be posted: it applies no credit, or the customer's credit
    /// (`held`: what it holds for the line, before this pass) still has room for it after this
    /// pass's earlier claims, which it then joins.
    fn claim(&self, candidate: &Candidate, held: Option<Money>) -> bool {
        let Some(credit) = credit_of(candidate) else {
            return true;
        };
        let Some(held) = held.filter(|held| held.currency() == credit.currency()) else {
            return false;
        };
        // A poisoned lock only means another line's task panicked; the map is still whole.
        let mut claimed = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let taken = claimed
            .entry((candidate.customer.clone(), credit.currency()))
            .or_default();
        if *taken + credit.amount() > held.amount() {
            return false;
        }
        *taken += credit.amount();
        true
    }
}

/// What a candidate's credit applications apply together, if any.
fn credit_of(candidate: &Candidate) -> Option<Money> {
    let first = candidate.credit_applications.first()?;
    let total: Decimal = candidate
        .credit_applications
        .iter()
        .map(|a| a.amount.amount())
        .sum();
    Some(Money::of(total, first.amount.currency()))
}

/// Ranks `line` and records the engine's match if it is sure of one: the match's position.
async fn match_line<L: EventLog>(
    executor: &Executor<L>,
    pool: &ReadPool,
    policy: &AutoPolicy,
    acting: &Acting<'_>,
    claimed: &Claimed,
    line: ReceiptLine,
) -> Result<Option<Position>, ReceiptError> {
    let ranked = candidates(pool, &line).await?;
    let best = matching::automatic(&ranked, policy);
    let held = match best.and_then(credit_of) {
        Some(credit) => Some(from_minor(
            credit_held(
                pool,
                best.map_or("", |b| b.customer.as_str()),
                credit.currency(),
                line.value_date,
            )
            .await?,
            credit.currency(),
        )),
        None => None,
    };
    match best {
        Some(best) if claimed.claim(best, held) => {
            record_match(executor, &line, best, acting).await
        }
        Some(best) => {
            info!(
                line = %line.line_id,
                customer = %best.customer,
                "other lines of this pass claimed the customer's credit: left for the next pass"
            );
            Ok(None)
        }
        None => Ok(None),
    }
}

/// Records the engine's sure match of `line`; `None` when the line was settled meanwhile (by a
/// person, or another matcher).
async fn record_match<L: EventLog>(
    executor: &Executor<L>,
    line: &ReceiptLine,
    best: &Candidate,
    acting: &Acting<'_>,
) -> Result<Option<Position>, ReceiptError> {
    let (Ok(account), Ok(line_id), Ok(subsidiary)) = (
        receivables_domain::ids::BankAccountId::parse(&line.bank_account_id),
        BankLineId::parse(&line.line_id),
        receivables_domain::SubsidiaryId::parse(&line.subsidiary_id),
    ) else {
        return Err(ReceiptError::Stored(format!(
            "statement line {} of {} does not read back",
            line.line_id, line.bank_account_id
        )));
    };
    let stream = CustomerId::bank_account(&account);
    let requests = |allocations: &[matching::Allocation]| {
        allocations
            .iter()
            .map(|a| {
                Ok(AllocationRequest {
                    invoice: InvoiceKey {
                        subsidiary_id: a.subsidiary.clone(),
                        invoice_number: InvoiceNumber::parse(&a.number)
                            .map_err(|e| ReceiptError::Stored(e.to_string()))?,
                    },
                    amount: a.amount,
                })
            })
            .collect::<Result<Vec<_>, ReceiptError>>()
    };
    let allocations = requests(&best.allocations)?;
    let command = MatchStatementLine {
        subsidiary_id: subsidiary,
        line_id: line_id.clone(),
        parts: vec![ReceiptPart {
            customer_id: best.customer.clone(),
            amount: line.amount,
            on_account: allocations.is_empty(),
            allocations,
            credit_applications: requests(&best.credit_applications)?,
        }],
        method: MatchMethod::Automatic {
            confidence: best.confidence.percent(),
            reasons: best
                .reasons
                .iter()
                .take(receivables_domain::limits::MATCH_REASONS_MAX)
                .map(matching::Reason::describe)
                .collect(),
        },
    };
    let addressed = Addressed {
        command: Command {
            id: derived_id(&stream, "match", line_id.as_str()),
            body: CommandBody::MatchStatementLine(command),
        },
        customer_id: stream,
    };
    match executor
        .execute(&addressed, acting.principal, acting.role)
        .await
    {
        Ok(executed) => {
            info!(
                line = %line_id,
                customer = %best.customer,
                confidence = best.confidence.percent(),
                "statement line matched automatically"
            );
            Ok(Some(executed.event.position))
        }
        Err(ExecutionError::Refused(refusal))
            if matches!(
                refusal.reason,
                Reason::StatementLineSettled | Reason::CommandIdReused
            ) =>
        {
            Ok(None)
        }
        Err(error) => Err(error.into()),
    }
}

/// What posting one pending payment came to.
#[derive(Debug, Clone)]
pub struct Posted {
    pub pending: PendingPayment,
    pub position: Position,
    /// Posted on account because its invoices could not take it: why.
    pub on_account_instead: Option<String>,
    /// What became of the part's credit application, when it applies credit.
    pub credit: Option<CreditPosted>,
}

impl Posted {
    /// The last position this posting wrote: its credit application's, else its payment's.
    pub fn last_position(&self) -> Position {
        match &self.credit {
            Some(CreditPosted::Applied { position, .. }) => self.position.max(*position),
            _ => self.position,
        }
    }
}

/// What applying a part's credit came to.
#[derive(Debug, Clone)]
pub enum CreditPosted {
    /// Applied, now or by an earlier attempt (position 0 when it is not known which).
    Applied { amount: Money, position: Position },
    /// Not applied (the credit was spent, the invoices paid otherwise, or the payment went on
    /// account): why. The credit stays on the customer's account for a person to apply.
    NotApplied { why: String },
}

/// Posts the payments of matched lines (of one bank account, or all) that the ledger does not
/// hold yet (as far as the read model has applied the log).
pub async fn post_pending<L: EventLog>(
    executor: &Executor<L>,
    pool: &ReadPool,
    bank_account: Option<&str>,
    acting: &Acting<'_>,
) -> Result<Vec<Posted>, ReceiptError> {
    let mut posted = Vec::new();
    let mut after = None;
    loop {
        let page = pending_payments(pool, bank_account, after).await?;
        let Some(last) = page.last else {
            break;
        };
        after = Some(last);
        let full = page.full;
        // Different customers' payments go on at once; one customer's wait in its queue.
        let results: Vec<Result<Posted, ExecutionError>> = stream::iter(page.payments)
            .map(|payment| post(executor, payment, acting))
            .buffer_unordered(POSTING_CONCURRENCY)
            .collect()
            .await;
        for result in results {
            posted.push(result?);
        }
        if !full {
            break;
        }
    }
    Ok(posted)
}

/// Posts one part's payment (unless the ledger holds it), then its credit application (when it
/// applies credit and the payment paid its invoices).
async fn post<L: EventLog>(
    executor: &Executor<L>,
    pending: PendingPayment,
    acting: &Acting<'_>,
) -> Result<Posted, ExecutionError> {
    let mut posted = if pending.payment_posted {
        Posted {
            position: Position::new(0),
            pending,
            on_account_instead: None,
            credit: None,
        }
    } else {
        post_payment(executor, pending, acting).await?
    };
    let Some(credit_id) = posted.pending.credit_id else {
        return Ok(posted);
    };
    if let Some(why) = &posted.on_account_instead {
        posted.credit = Some(CreditPosted::NotApplied {
            why: format!("the payment went on account: {why}"),
        });
        return Ok(posted);
    }
    let pending = &posted.pending;
    let Some(application) =
        receipt_credit_application(&pending.subsidiary_id, pending.value_date, &pending.part)
    else {
        return Ok(posted);
    };
    let amount = application.amount;
    let addressed = Addressed {
        customer_id: pending.part.customer_id.clone(),
        command: Command {
            id: credit_id,
            body: CommandBody::ApplyUnappliedCash(application),
        },
    };
    let outcome = match executor
        .execute(&addressed, acting.principal, acting.role)
        .await
    {
        Ok(executed) => CreditPosted::Applied {
            amount,
            position: executed.event.position,
        },
        Err(ExecutionError::Refused(refusal)) if refusal.reason == Reason::CommandIdReused => {
            CreditPosted::Applied {
                amount,
                position: Position::new(0),
            }
        }
        Err(ExecutionError::Refused(refusal)) => CreditPosted::NotApplied {
            why: refusal.to_string(),
        },
        Err(ExecutionError::Denied(denial)) => CreditPosted::NotApplied { why: denial.reason },
        Err(error) => return Err(error),
    };
    if let CreditPosted::NotApplied { why } = &outcome {
        warn!(
            credit = %credit_id,
            customer = %pending.part.customer_id,
            %why,
            "the receipt's credit application was refused; the credit stays on account"
        );
    }
    posted.credit = Some(outcome);
    Ok(posted)
}

/// Posts one part's payment; on account, under the same command id, when its invoices refuse
/// it.
async fn post_payment<L: EventLog>(
    executor: &Executor<L>,
    pending: PendingPayment,
    acting: &Acting<'_>,
) -> Result<Posted, ExecutionError> {
    let command = |part: &ReceiptPart| Addressed {
        customer_id: pending.part.customer_id.clone(),
        command: Command {
            id: pending.payment_id,
            body: CommandBody::RecordPayment(receipt_payment(
                &pending.subsidiary_id,
                &pending.line_id,
                pending.value_date,
                &pending.reference,
                part,
            )),
        },
    };
    let first = executor
        .execute(&command(&pending.part), acting.principal, acting.role)
        .await;
    let why = match first {
        Ok(executed) => {
            return Ok(Posted {
                position: executed.event.position,
                pending,
                on_account_instead: None,
                credit: None,
            });
        }
        // Posted before with other content (on account, by another attempt): it is there.
        Err(ExecutionError::Refused(refusal)) if refusal.reason == Reason::CommandIdReused => {
            return Ok(Posted {
                position: Position::new(0),
                pending,
                on_account_instead: None,
                credit: None,
            });
        }
        Err(ExecutionError::Refused(refusal)) if !pending.part.allocations.is_empty() => {
            refusal.to_string()
        }
        Err(ExecutionError::Denied(denial)) if !pending.part.allocations.is_empty() => {
            denial.reason
        }
        Err(error) => return Err(error),
    };
    warn!(
        payment = %pending.payment_id,
        customer = %pending.part.customer_id,
        %why,
        "the matched invoices refused the receipt's payment; posting it on account"
    );
    let on_account = ReceiptPart {
        allocations: Vec::new(),
        on_account: true,
        ..pending.part.clone()
    };
    match executor
        .execute(&command(&on_account), acting.principal, acting.role)
        .await
    {
        Ok(executed) => Ok(Posted {
            position: executed.event.position,
            pending,
            on_account_instead: Some(why),
            credit: None,
        }),
        // The allocating attempt was accepted after all (by another process): it is there.
        Err(ExecutionError::Refused(refusal)) if refusal.reason == Reason::CommandIdReused => {
            Ok(Posted {
                position: Position::new(0),
                pending,
                on_account_instead: None,
                credit: None,
            })
        }
        Err(error) => Err(error),
    }
}
