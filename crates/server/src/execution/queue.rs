//! The commands waiting for their customer's lock, by customer, so that whoever holds the lock
//! decides all of them in one run (`run.rs`) instead of each waiting its turn.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use receivables_api::commands::Addressed;
use receivables_domain::access::Role;
use receivables_domain::{CustomerId, Principal};
use tokio::sync::oneshot;

use super::{Executed, ExecutionError};

/// A command waiting to be decided, and where its answer goes.
pub(super) struct Queued {
    pub ticket: u64,
    pub addressed: Addressed,
    pub principal: Principal,
    pub role: Option<Role>,
    pub reply: oneshot::Sender<Result<Executed, ExecutionError>>,
}

impl Queued {
    /// Answers the command's caller; one that stopped waiting does not need the answer.
    pub fn answer(self, result: Result<Executed, ExecutionError>) {
        let _ = self.reply.send(result);
    }
}

/// The queues of all customers. Held for a push or a take only, never across an await.
#[derive(Default)]
pub(super) struct Queues {
    waiting: Mutex<HashMap<CustomerId, VecDeque<Queued>>>,
    tickets: AtomicU64,
}

impl Queues {
    /// Queues a command; the answer arrives on the receiver. Dropping the ticket takes the
    /// command out again if nobody has taken it yet: a command whose caller went away before
    /// its turn is not executed.
    pub fn push(
        &self,
        addressed: &Addressed,
        principal: &Principal,
        role: Option<&Role>,
    ) -> (
        Ticket<'_>,
        oneshot::Receiver<Result<Executed, ExecutionError>>,
    ) {
        let (reply, answer) = oneshot::channel();
        let ticket = self.tickets.fetch_add(1, Ordering::Relaxed);
        let customer = addressed.customer_id.clone();
        let queued = Queued {
            ticket,
            addressed: addressed.clone(),
            principal: principal.clone(),
            role: role.cloned(),
            reply,
        };
        self.with(|waiting| {
            waiting
                .entry(customer.clone())
                .or_default()
                .push_back(queued)
        });
        let ticket = Ticket {
            queues: self,
            customer,
            number: ticket,
        };
        (ticket, answer)
    }

    /// Takes up to `most` of the customer's waiting commands, oldest first.
    pub fn take(&self, customer: &CustomerId, most: usize) -> Vec<Queued> {
        self.with(|waiting| {
            let Some(queue) = waiting.get_mut(customer) else {
                return Vec::new();
            };
            let taken: Vec<Queued> = queue.drain(..most.min(queue.len())).collect();
            if queue.is_empty() {
                waiting.remove(customer);
            }
            taken
        })
    }

    fn holds(&self, customer: &CustomerId, ticket: u64) -> bool {
        self.with(|waiting| {
            waiting
                .get(customer)
                .is_some_and(|queue| queue.iter().any(|queued| queued.ticket == ticket))
        })
    }

    fn remove(&self, customer: &CustomerId, ticket: u64) {
        self.with(|waiting| {
            if let Some(queue) = waiting.get_mut(customer) {
                queue.retain(|queued| queued.ticket != ticket);
                if queue.is_empty() {
                    waiting.remove(customer);
                }
            }
        });
    }

    fn with<T>(&self, work: impl FnOnce(&mut HashMap<CustomerId, VecDeque<Queued>>) -> T) -> T {
        // The map is consistent after any panic inside `work` (each change is one call on
        // it), so a poisoned lock is taken over rather than failing every later command.
        let mut waiting = self
            .waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        work(&mut waiting)
    }
}

/// A command's place in its customer's queue, for as long as its caller waits.
pub(super) struct Ticket<'a> {
    queues: &'a Queues,
    customer: CustomerId,
    number: u64,
}

impl Ticket<'_> {
    /// Whether the command is still waiting to be taken.
    pub fn waiting(&self) -> bool {
        self.queues.holds(&self.customer, self.number)
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        self.queues.remove(&self.customer, self.number);
    }
}
