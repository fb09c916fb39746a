//! Deciding a customer's queued commands in one run and appending their events together.
//!
//! Each command is decided against the account as the commands before it in the run left it
//! (`receivables_domain::Run`), exactly as if they had come one after another; the events are
//! then appended with one call (`EventLog::append_run`: one transaction on the embedded log).
//! Numbers the events reserve are reserved together before the append.
//!
//! Anything out of the ordinary ends the run early and leaves the rest to the one-at-a-time
//! path, which knows how to handle it: a number another command holds, a conflict (another
//! instance appended for the customer), a duplicate command id, a log that failed. The events
//! the log took before that are answered; the account is loaded again, so that it never holds
//! an event the log does not.

use std::time::Instant;

use futures::future::join_all;
use receivables_domain::ids::NumberKey;
use receivables_domain::{CustomerId, Run};
use receivables_eventlog::{AppendedRun, Claim, EventLog, LogError, Reservation, RunStop};
use tracing::{Instrument, debug, info, info_span, warn};

use super::queue::Queued;
use super::{Decided, Executed, ExecutionError, Executor, Inconsistency, release, taken};
use crate::observability::series;

/// Most commands decided in one run. Bounds how long one run holds the customer's lock and
/// how many answers wait for its append; the embedded log commits a run in one transaction.
pub const COMMANDS_PER_RUN_MAX: usize = 256;

/// Numbers reserved for the run's events: the place of the event in the run, the number, the
/// claim.
type Held = Vec<(usize, NumberKey, Claim)>;

/// What deciding a queued command came to before the append.
enum Plan {
    /// Answered already: refused, denied, or accepted before the run (read back from the log).
    /// Boxed: most commands of a run append.
    Answered(Box<Result<Executed, ExecutionError>>),
    /// Its event is the run's event at this place.
    Appends(usize),
    /// Accepted earlier in this very run (the same command sent twice): answered with that
    /// event.
    SameAs(usize),
}

impl<L: EventLog> Executor<L> {
    /// Decides `queued` (commands of `customer`, in arrival order) and answers each. The
    /// caller holds the customer's lock.
    pub(super) async fn run(&self, customer: &CustomerId, queued: Vec<Queued>) {
        if queued.len() <= 1 {
            return self.one_by_one(queued).await;
        }
        let span = info_span!("run", customer_id = %customer, commands = queued.len());
        self.run_together(customer, queued).instrument(span).await;
    }

    /// [`Executor::run`] of more than one command.
    async fn run_together(&self, customer: &CustomerId, queued: Vec<Queued>) {
        let account = match self.accounts.take(customer).await {
            Ok(account) => account,
            Err(error) => {
                warn!(%error, "account not loaded; the commands go one by one");
                return self.one_by_one(queued).await;
            }
        };
        let mut run = Run::new(account);
        let mut plans = Vec::with_capacity(queued.len());
        for command in &queued {
            plans.push(self.plan(&mut run, command).await);
        }
        let (cut, held) = self.reserve(&run, &queued, &mut plans).await;
        let expected = run.expected();
        metrics::histogram!(series::RUN_COMMANDS).record(queued.len() as f64);
        let appended = if cut > 0 {
            let started = Instant::now();
            let appended = self
                .accounts
                .log()
                .append_run(&run.envelopes()[..cut], expected)
                .await;
            metrics::histogram!(series::LOG_APPEND_SECONDS, "kind" => "run")
                .record(started.elapsed().as_secs_f64());
            appended
        } else {
            AppendedRun {
                positions: Vec::new(),
                stopped: None,
            }
        };
        let complete = cut == run.len() && appended.stopped.is_none();
        let events = if complete {
            match run.settle(&appended.positions) {
                Ok((account, events)) => {
                    self.accounts.put(account);
                    events
                }
                Err(violation) => {
                    // The log answered positions that contradict the run: nothing is trusted.
                    warn!(%violation, "run settled with impossible positions");
                    for command in queued {
                        command.answer(Err(ExecutionError::Inconsistent(
                            Inconsistency::Invariant(violation.clone()),
                        )));
                    }
                    return;
                }
            }
        } else {
            // The account holds events the log does not: it is loaded again by whoever needs
            // it next.
            run.abandon(&appended.positions)
        };
        // The events after the last one the log certainly did not take; an event whose append
        // failed may be in the log, and so may, on the embedded log, every event of its run.
        let unsent = match &appended.stopped {
            None => Some(cut),
            Some(RunStop::Duplicate(_)) => Some(events.len() + 1),
            Some(RunStop::Failed(LogError::Conflict { .. })) => {
                metrics::counter!(series::CONFLICTS).increment(1);
                Some(events.len())
            }
            Some(RunStop::Failed(_)) => None,
        };
        if let Some(unsent) = unsent {
            self.release_unsent(held, unsent).await;
        }
        if let Some(stop) = &appended.stopped {
            debug!(appended = events.len(), ?stop, "run stopped early");
        }
        if let (Some(first), Some(last)) = (events.first(), events.last()) {
            info!(
                appended = events.len(),
                first_position = first.position.get(),
                last_position = last.position.get(),
                "run appended"
            );
        }
        let mut rest = Vec::new();
        for (command, plan) in queued.into_iter().zip(plans) {
            let (index, replayed) = match plan {
                Plan::Answered(result) => {
                    command.answer(*result);
                    continue;
                }
                Plan::Appends(index) => (index, false),
                Plan::SameAs(index) => (index, true),
            };
            match events.get(index) {
                Some(event) => {
                    info!(
                        command_id = %command.addressed.command.id,
                        position = event.position.get(),
                        event_type = event.envelope.event.type_name(),
                        replayed,
                        "appended in the run"
                    );
                    command.answer(Ok(Executed {
                        event: event.clone(),
                        replayed,
                    }))
                }
                None => rest.push(command),
            }
        }
        self.one_by_one(rest).await;
    }

    /// Executes commands one at a time, in order.
    async fn one_by_one(&self, queued: Vec<Queued>) {
        for command in queued {
            let result = self
                .execute_alone(
                    &command.addressed,
                    &command.principal,
                    command.role.as_ref(),
                )
                .await;
            command.answer(result);
        }
    }

    /// Decides one command against the run so far; an event it decides joins the run.
    async fn plan(&self, run: &mut Run, queued: &Queued) -> Plan {
        match self.decide_into(run, queued).await {
            Ok(plan) => plan,
            Err(error) => Plan::Answered(Box::new(Err(error))),
        }
    }

    async fn decide_into(&self, run: &mut Run, queued: &Queued) -> Result<Plan, ExecutionError> {
        let addressed = &queued.addressed;
        match self
            .decide(
                run.account(),
                addressed,
                &queued.principal,
                queued.role.as_ref(),
            )
            .await?
        {
            Decided::Before(position) => match run.index_of(position) {
                Some(index) => Ok(Plan::SameAs(index)),
                None => Ok(Plan::Answered(Box::new(
                    self.accepted_before(&addressed.customer_id, position).await,
                ))),
            },
            Decided::Sealed(envelope) => {
                let index = run.len();
                run.push(envelope)
                    .map_err(|violation| ExecutionError::Inconsistent(violation.into()))?;
                Ok(Plan::Appends(index))
            }
        }
    }

    /// Reserves, all at once, the numbers the run's events take. The run is cut at the first
    /// event whose number another command holds (refused, as one at a time) or could not be
    /// reserved (answered with the log's error): the events after it were decided on a state
    /// that included it. Answers how many of the run's events can be appended, and the numbers
    /// held, by the place of their event in the run.
    async fn reserve(&self, run: &Run, queued: &[Queued], plans: &mut [Plan]) -> (usize, Held) {
        let log = self.accounts.log();
        let wanted: Vec<(usize, usize, _, Claim)> = plans
            .iter()
            .enumerate()
            .filter_map(|(at, plan)| match plan {
                Plan::Appends(index) => {
                    let command = &queued[at].addressed;
                    let key = command.command.body.rules().reserves()?;
                    let claim = Claim {
                        command_id: command.command.id,
                        customer_id: command.customer_id.clone(),
                    };
                    Some((at, *index, key, claim))
                }
                _ => None,
            })
            .collect();
        if wanted.is_empty() {
            return (run.len(), Vec::new());
        }
        let outcomes = join_all(
            wanted
                .iter()
                .map(|(_, _, key, claim)| log.reserve_number(key, claim)),
        )
        .await;
        let mut held = Vec::with_capacity(wanted.len());
        let mut cut = run.len();
        for ((at, index, key, claim), outcome) in wanted.into_iter().zip(outcomes) {
            let answer = match outcome {
                Ok(Reservation::Held) => {
                    held.push((index, key, claim));
                    continue;
                }
                Ok(Reservation::TakenBy(holder)) => Err(taken(&key, &holder).into()),
                Err(error) => Err(error.into()),
            };
            if index < cut {
                plans[at] = Plan::Answered(Box::new(answer));
                cut = index;
            }
        }
        (cut, held)
    }

    /// Gives back the numbers held for events of the run that are certainly not in the log
    /// (from `unsent` on): their commands go one at a time and reserve them again if they get
    /// that far, and one refused there would otherwise keep its number from everybody.
    async fn release_unsent(&self, held: Held, unsent: usize) {
        for (index, key, claim) in held {
            if index >= unsent {
                release(self.accounts.log(), &Some((key, claim))).await;
            }
        }
    }
}
