//! What the overview worked out about the past (the aging at each past month-end, the last
//! complete month's metrics), kept a short while: working it out again on every view costs
//! about a dozen agings of the whole book.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use receivables_api::pb;

/// How long the overview keeps what it worked out about the past (the aging at each past
/// month-end, the last complete month's metrics) before working it out again. Twelve
/// month-ends exactly cost about twelve agings of the whole book, and a month's metrics a few
/// (a second each at a million open items, BENCHMARKS.md "Dashboard"); the past changes only
/// when an event dated in it arrives, so a minute's staleness there is the price of an
/// overview that opens at once.
pub const PAST_STALE_MAX: Duration = Duration::from_secs(60);
/// Entries kept of each (scopes × month-ends, scopes × months): the group's and every
/// subsidiary's year.
const PAST_ENTRIES_MAX: u64 = 10_000;

/// What the overview worked out about the past, by subsidiary scope ("" for the group) and
/// date (a month-end, or a month's last day).
pub type Past<V> = moka::sync::Cache<(String, NaiveDate), Arc<V>>;

/// The month-end agings and the months' metrics the overview keeps.
pub struct KeptPast {
    pub month_ends: Past<pb::GetAgingReportResponse>,
    pub months: Past<pb::GetMetricsResponse>,
}

impl KeptPast {
    pub fn new() -> KeptPast {
        fn cache<V: Send + Sync + 'static>() -> Past<V> {
            moka::sync::Cache::builder()
                .max_capacity(PAST_ENTRIES_MAX)
                .time_to_live(PAST_STALE_MAX)
                .build()
        }
        KeptPast {
            month_ends: cache(),
            months: cache(),
        }
    }
}

/// The value kept under `key`, or the one `work` works out, then kept.
pub async fn kept<V, F>(
    past: &Past<V>,
    key: (String, NaiveDate),
    work: F,
) -> Result<Arc<V>, tonic::Status>
where
    V: Send + Sync + 'static,
    F: Future<Output = Result<tonic::Response<V>, tonic::Status>>,
{
    if let Some(value) = past.get(&key) {
        return Ok(value);
    }
    let value = Arc::new(work.await?.into_inner());
    past.insert(key, Arc::clone(&value));
    Ok(value)
}
