//! The command service's working set of customer accounts: a bounded cache of recently used
//! aggregates with their last position, and a lock per customer so that one instance never has
//! two appends in flight for the same customer.
//!
//! The lock is not only a courtesy: NATS servers before 2.9.21 could accept two concurrent
//! publishes with the same expected subject sequence (nats-server issue 4320), so the expected
//! sequence alone does not serialise the appends of one instance on such a server.

use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;

use moka::sync::Cache;
use receivables_domain::{CustomerAccount, CustomerId, Position};
use receivables_eventlog::{EventLog, LogError};
use tokio::sync::{Mutex, MutexGuard};

/// Number of customer locks. Customers are spread over them by hash; two customers sharing a
/// lock only wait for each other, they never see each other's state.
pub const CUSTOMER_LOCK_STRIPES: usize = 4_096;

/// Why an account could not be brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Log(#[from] LogError),
    #[error(transparent)]
    Inconsistent(#[from] receivables_domain::InvariantViolation),
}

/// A cached account. The slot is only touched under its customer's lock; the account is moved
/// out and back in, never cloned.
type Slot = Arc<std::sync::Mutex<Option<CustomerAccount>>>;

pub struct Accounts<L> {
    log: Arc<L>,
    cache: Cache<CustomerId, Slot>,
    locks: Vec<Mutex<()>>,
    /// The group's own account has a lock of its own: a customer's decision reads the group's
    /// settings while it holds the customer's lock, so the group's lock must never be a stripe
    /// a customer may share (that customer would wait for itself). The order is always the
    /// customer's lock, then the group's; a decision in the group's account reads no customer.
    group_lock: Mutex<()>,
    hasher: RandomState,
}

impl<L: EventLog> Accounts<L> {
    /// `capacity` is the most customers kept in memory.
    pub fn new(log: Arc<L>, capacity: u64) -> Self {
        Accounts {
            log,
            cache: Cache::new(capacity),
            locks: (0..CUSTOMER_LOCK_STRIPES).map(|_| Mutex::new(())).collect(),
            group_lock: Mutex::new(()),
            hasher: RandomState::new(),
        }
    }

    pub fn log(&self) -> &L {
        &self.log
    }

    /// Waits for the customer's lock. Hold it while deciding and appending.
    pub async fn lock(&self, customer: &CustomerId) -> MutexGuard<'_, ()> {
        self.lock_of(customer).lock().await
    }

    fn lock_of(&self, customer: &CustomerId) -> &Mutex<()> {
        if customer.is_group() {
            return &self.group_lock;
        }
        let stripe = usize::try_from(self.hasher.hash_one(customer) % CUSTOMER_LOCK_STRIPES as u64)
            .unwrap_or(0);
        &self.locks[stripe]
    }

    /// Takes the customer's account out of the cache, or loads it from the log. The caller holds
    /// the customer's lock and puts the account back with [`Accounts::put`].
    pub async fn take(&self, customer: &CustomerId) -> Result<CustomerAccount, AccountError> {
        if let Some(account) = self
            .cache
            .get(customer)
            .and_then(|slot| slot.lock().ok()?.take())
        {
            return Ok(account);
        }
        let events = self.log.load(customer, Position::ZERO).await?;
        tracing::debug!(%customer, events = events.len(), "account loaded from the log");
        Ok(CustomerAccount::from_history(customer.clone(), &events)?)
    }

    /// Applies the events appended after the account's position (by another instance). Asks
    /// for the customer's last position first: an account already caught up (the common case
    /// of one instance) costs one lookup, not a read of its history.
    pub async fn catch_up(&self, account: &mut CustomerAccount) -> Result<usize, AccountError> {
        let last = self.log.last_position_of(account.customer_id()).await?;
        if last <= account.position() {
            return Ok(0);
        }
        let events = self
            .log
            .load(account.customer_id(), account.position())
            .await?;
        for event in &events {
            account.apply(event)?;
        }
        Ok(events.len())
    }

    /// Puts an up-to-date account back into the cache.
    pub fn put(&self, account: CustomerAccount) {
        let slot = self
            .cache
            .get_with_by_ref(account.customer_id(), Slot::default);
        if let Ok(mut held) = slot.lock() {
            *held = Some(account);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use receivables_eventlog::sqlite::SqliteLog;

    /// Found by the hostile-input fuzzing: a customer whose stripe was the group's waited for
    /// itself when its invoice needed the group's exchange rates (one customer in
    /// [`CUSTOMER_LOCK_STRIPES`], a different one in every process).
    #[tokio::test]
    async fn the_group_lock_is_free_while_any_customer_lock_is_held() {
        // Given the working set of a service
        let directory = tempfile::tempdir().expect("a directory");
        let log = SqliteLog::open(&directory.path().join("events.sqlite"))
            .await
            .expect("a log");
        let accounts = Accounts::new(Arc::new(log), 8);
        // and a customer that hashes to the stripe the group's id hashes to
        let group = CustomerId::group();
        let group_stripe = accounts.hasher.hash_one(&group) % CUSTOMER_LOCK_STRIPES as u64;
        let sharing = (0..CUSTOMER_LOCK_STRIPES * 64)
            .map(|n| CustomerId::parse(&format!("C{n}")).expect("a customer id"))
            .find(|customer| {
                accounts.hasher.hash_one(customer) % CUSTOMER_LOCK_STRIPES as u64 == group_stripe
            })
            .expect("a customer on the group's stripe");
        // When that customer's lock is held
        let _held = accounts.lock(&sharing).await;
        // Then the group's lock can still be taken
        assert!(accounts.lock_of(&group).try_lock().is_ok());
    }
}
