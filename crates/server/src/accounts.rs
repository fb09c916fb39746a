//! The command service's working set of customer accounts: a cache of recently used
//! aggregates with their last position, bounded in customers and in bytes, and a lock per
//! customer so that one instance never has two appends in flight for the same customer.
//!
//! An account keeps every document of its history, so its memory grows with it (about 1 KB
//! per invoice): a cache bounded only in customers is not bounded in memory. Each account
//! therefore weighs what it is estimated to hold (`CustomerAccount::estimated_bytes`), and at
//! least its share of the bytes (the bound in bytes over the bound in customers), so that the
//! cache never holds more of either. An account evicted is loaded again from its snapshot.
//!
//! The lock is not only a courtesy: NATS servers before 2.9.21 could accept two concurrent
//! publishes with the same expected subject sequence (nats-server issue 4320), so the expected
//! sequence alone does not serialise the appends of one instance on such a server.
//!
//! An account not in the cache is restored from its newest snapshot, checked against the log's
//! event it names, and the events after it; without a usable snapshot, from all its events. An
//! account that took [`SNAPSHOT_EVERY_EVENTS`] events (or as configured) since its last
//! snapshot is snapshotted when it is put back, and the snapshot saved in the background:
//! loading a customer with a long history then reads one record and at most that many events.

use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use moka::sync::Cache;
use receivables_domain::{AccountSnapshot, CustomerAccount, CustomerId, Position};
use receivables_eventlog::{EventLog, LogError};
use tokio::sync::{Mutex, MutexGuard, OwnedSemaphorePermit, Semaphore};
use tracing::{Instrument, debug, info_span, warn};

use crate::observability::series;

/// Number of customer locks. Customers are spread over them by hash; two customers sharing a
/// lock only wait for each other, they never see each other's state.
pub const CUSTOMER_LOCK_STRIPES: usize = 4_096;

/// Events an account takes between two snapshots of it, unless configured otherwise
/// (`--snapshot-every-events`). A cold load reads at most this many events after the snapshot;
/// each snapshot costs the command that triggers it the encoding of the account (about 1.1 ms
/// per 1,000 events of history, BENCHMARKS.md), so a snapshot every 1,000 events costs about
/// 1.1 microseconds per event and per thousand events of history.
pub const SNAPSHOT_EVERY_EVENTS: u64 = 1_000;

/// Bytes of accounts the cache holds at most, unless configured otherwise
/// (`--account-cache-bytes`): with the default 10,000 customers, a share of about 200 KB each
/// (an account of about 200 invoices); longer accounts take more shares, and fewer are held.
pub const ACCOUNT_CACHE_BYTES_DEFAULT: u64 = 2 << 30;

/// An account is weighed again once its events grew by this many in a hundred since it was
/// last weighed (and by at least [`REWEIGH_EVENTS_MIN`]): weighing walks every document, so it
/// is not done for every command, and a weight is at most this far behind.
pub const REWEIGH_GROWTH_PERCENT: u64 = 10;

/// The fewest new events after which an account is weighed again.
pub const REWEIGH_EVENTS_MIN: u64 = 64;

/// Snapshots being saved at once. An account due for one while they all are being saved is
/// snapshotted when it is next put back: saving never queues up behind the log.
pub const SNAPSHOT_SAVES_IN_FLIGHT_MAX: usize = 2;

/// Why an account could not be brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Log(#[from] LogError),
    #[error(transparent)]
    Inconsistent(#[from] receivables_domain::InvariantViolation),
}

/// A cached account and the event count of its last snapshot. The slot is only touched under
/// its customer's lock; the account is moved out and back in, never cloned.
#[derive(Default)]
struct Cached {
    account: Option<CustomerAccount>,
    /// How many events the newest snapshot saved (or restored) covers: 0 for none.
    snapshotted: u64,
    /// How many events the account had when it was last weighed: 0 for never.
    weighed: u64,
}

/// A cache entry: the account and its weight in bytes, which the cache reads when the entry is
/// inserted (again).
#[derive(Default)]
struct Entry {
    cached: std::sync::Mutex<Cached>,
    bytes: AtomicU32,
}

type Slot = Arc<Entry>;

/// How much the cache of accounts holds at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheBounds {
    /// Accounts.
    pub customers: u64,
    /// Bytes the accounts are estimated to hold.
    pub bytes: u64,
}

impl CacheBounds {
    /// At most `customers` accounts, and [`ACCOUNT_CACHE_BYTES_DEFAULT`].
    pub fn customers(customers: u64) -> Self {
        CacheBounds {
            customers,
            bytes: ACCOUNT_CACHE_BYTES_DEFAULT,
        }
    }

    /// The cache: each entry weighs its account's estimated bytes, and at least the bytes over
    /// the customers, so that neither bound is passed.
    fn cache(self) -> Cache<CustomerId, Slot> {
        let share = u32::try_from(self.bytes / self.customers.max(1))
            .unwrap_or(u32::MAX)
            .max(1);
        Cache::builder()
            .max_capacity(self.bytes)
            .weigher(move |_, entry: &Slot| entry.bytes.load(Ordering::Relaxed).max(share))
            .build()
    }
}

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
    /// `None`: accounts are never snapshotted (they are still restored from snapshots saved).
    snapshot_every: Option<u64>,
    snapshot_saves: Arc<Semaphore>,
}

impl<L: EventLog> Accounts<L> {
    /// The cache holds at most `bounds`.
    pub fn new(log: Arc<L>, bounds: CacheBounds) -> Self {
        Accounts {
            log,
            cache: bounds.cache(),
            locks: (0..CUSTOMER_LOCK_STRIPES).map(|_| Mutex::new(())).collect(),
            group_lock: Mutex::new(()),
            hasher: RandomState::new(),
            snapshot_every: Some(SNAPSHOT_EVERY_EVENTS),
            snapshot_saves: Arc::new(Semaphore::new(SNAPSHOT_SAVES_IN_FLIGHT_MAX)),
        }
    }

    /// Snapshots an account every `events` events (0: never).
    pub fn snapshot_every(mut self, events: u64) -> Self {
        self.snapshot_every = (events > 0).then_some(events);
        self
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

    /// Takes the customer's account out of the cache, or loads it (from its snapshot and the
    /// events after it, or from its events). The caller holds the customer's lock and puts the
    /// account back with [`Accounts::put`].
    pub async fn take(&self, customer: &CustomerId) -> Result<CustomerAccount, AccountError> {
        // A slot a panicking thread left poisoned is not trusted: the account is loaded again.
        if let Some(account) = self
            .cache
            .get(customer)
            .and_then(|slot| slot.cached.lock().ok()?.account.take())
        {
            taken("cache");
            return Ok(account);
        }
        let (account, snapshotted) = match self.restore(customer).await? {
            Some(mut account) => {
                let snapshotted = account.event_count();
                let events = self.apply_after(&mut account).await?;
                debug!(%customer, snapshotted, events, "account restored from its snapshot");
                taken("snapshot");
                (account, snapshotted)
            }
            None => {
                let events = self.log.load(customer, Position::ZERO).await?;
                debug!(%customer, events = events.len(), "account loaded from the log");
                taken("events");
                (CustomerAccount::from_history(customer.clone(), &events)?, 0)
            }
        };
        if account.event_count() > 0 {
            let slot = self.cache.get_with_by_ref(customer, Slot::default);
            if let Ok(mut held) = slot.cached.lock() {
                held.snapshotted = snapshotted;
            }
        }
        Ok(account)
    }

    /// The account as its newest snapshot holds it, checked against the log's event it names;
    /// `None` (with a warning for anything but no snapshot at all) when there is none to trust,
    /// and the account is then loaded from its events. Only the log being unavailable is an
    /// error: the snapshot's own store failing is the cache failing.
    async fn restore(&self, customer: &CustomerId) -> Result<Option<CustomerAccount>, LogError> {
        let bytes = match self.log.load_snapshot(customer).await {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Ok(None),
            Err(error) => {
                warn!(%customer, %error, "snapshot not read; loading the account from its events");
                return Ok(None);
            }
        };
        // Reading a snapshot of a long history is milliseconds of work: off the runtime's
        // threads.
        let decoded = tokio::task::spawn_blocking(move || AccountSnapshot::decode(&bytes))
            .await
            .map_err(|e| LogError::Unavailable(format!("decoding a snapshot: {e}").into()))?;
        let snapshot = match decoded {
            Ok(snapshot) => snapshot,
            Err(error) => {
                warn!(%customer, %error, "snapshot not restored; loading the account from its events");
                return Ok(None);
            }
        };
        let anchor = match self.log.event_at(customer, snapshot.head().position).await {
            Ok(anchor) => anchor,
            Err(error @ LogError::Unavailable(_)) => return Err(error),
            Err(error) => {
                warn!(%customer, %error, "snapshot names no event of the log; loading the account from its events");
                return Ok(None);
            }
        };
        match CustomerAccount::restore(customer, snapshot, &anchor) {
            Ok(account) => Ok(Some(account)),
            Err(error) => {
                warn!(%customer, %error, "snapshot not restored; loading the account from its events");
                Ok(None)
            }
        }
    }

    /// Applies the events appended after the account's position (by another instance). Asks
    /// for the customer's last position first: an account already caught up (the common case
    /// of one instance) costs one lookup, not a read of its history.
    pub async fn catch_up(&self, account: &mut CustomerAccount) -> Result<usize, AccountError> {
        let last = self.log.last_position_of(account.customer_id()).await?;
        if last <= account.position() {
            return Ok(0);
        }
        self.apply_after(account).await
    }

    /// Reads the customer's events after the account's position and applies them; returns how
    /// many there were.
    async fn apply_after(&self, account: &mut CustomerAccount) -> Result<usize, AccountError> {
        let events = self
            .log
            .load(account.customer_id(), account.position())
            .await?;
        for event in &events {
            account.apply(event)?;
        }
        Ok(events.len())
    }

    /// Puts an up-to-date account back into the cache, and snapshots it if it took the
    /// configured number of events ([`SNAPSHOT_EVERY_EVENTS`]) since its last snapshot. An
    /// account that grew by [`REWEIGH_GROWTH_PERCENT`] since it was weighed is weighed again,
    /// which may evict others (or this one) to keep the cache within its bounds.
    pub fn put(&self, account: CustomerAccount) {
        let slot = self
            .cache
            .get_with_by_ref(account.customer_id(), Slot::default);
        if let Some(customer) = self.fill(&slot, account) {
            // Inserted again, the entry is weighed again, and whatever passes the bounds now
            // is evicted before the gauge reads the total (rare: an account is weighed again
            // only once it grew by a tenth).
            self.cache.insert(customer, slot);
            self.cache.run_pending_tasks();
            metrics::gauge!(series::ACCOUNT_CACHE_BYTES).set(self.cache.weighted_size() as f64);
        }
    }

    /// Puts `account` into `slot`; the customer's id when it was weighed again.
    fn fill(&self, slot: &Entry, account: CustomerAccount) -> Option<CustomerId> {
        let Ok(mut held) = slot.cached.lock() else {
            return None;
        };
        let due = self
            .snapshot_every
            .is_some_and(|every| account.event_count() >= held.snapshotted.saturating_add(every));
        if due && let Ok(permit) = Arc::clone(&self.snapshot_saves).try_acquire_owned() {
            held.snapshotted = account.event_count();
            self.save_snapshot(&account, permit);
        }
        let events = account.event_count();
        let grown = events.saturating_sub(held.weighed);
        let reweigh = held.weighed == 0
            || grown >= REWEIGH_EVENTS_MIN.max(held.weighed * REWEIGH_GROWTH_PERCENT / 100);
        let weighed = reweigh.then(|| {
            let bytes = u32::try_from(account.estimated_bytes()).unwrap_or(u32::MAX);
            slot.bytes.store(bytes, Ordering::Relaxed);
            held.weighed = events;
            account.customer_id().clone()
        });
        held.account = Some(account);
        weighed
    }

    /// Encodes the account's snapshot here (the account is about to be used again) and saves
    /// it in the background, holding `permit` until it is saved. A snapshot that cannot be
    /// saved is only reported: the account loads from its events meanwhile.
    fn save_snapshot(&self, account: &CustomerAccount, permit: OwnedSemaphorePermit) {
        let customer = account.customer_id().clone();
        let position = account.position();
        let bytes = match account.snapshot() {
            Ok(bytes) => bytes,
            Err(error) => {
                warn!(%customer, %error, "the account could not be snapshotted");
                return;
            }
        };
        let log = Arc::clone(&self.log);
        let span =
            info_span!("save_snapshot", %customer, position = position.get(), bytes = bytes.len());
        tokio::spawn(
            async move {
                let _permit = permit;
                match log.save_snapshot(&customer, position, bytes).await {
                    Ok(()) => debug!("snapshot saved"),
                    Err(error) => warn!(%error, "snapshot not saved"),
                }
            }
            .instrument(span),
        );
    }
}

/// Counts an account taken for a command, by where it came from ([`series::ACCOUNTS`]).
fn taken(source: &'static str) {
    metrics::counter!(series::ACCOUNTS, "source" => source).increment(1);
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
        let accounts = Accounts::new(Arc::new(log), CacheBounds::customers(8));
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
