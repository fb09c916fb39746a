//! The latencies of a benchmark's timed calls, kept in a histogram.

use std::future::Future;
use std::time::Instant;

use hdrhistogram::Histogram;

/// Latencies are recorded in microseconds, up to ten minutes.
const LATENCY_MICROS_MAX: u64 = 600_000_000;

/// The latencies of one call's timed runs (a query, a request).
pub struct Timings(Histogram<u64>);

impl Timings {
    pub fn new() -> anyhow::Result<Self> {
        Ok(Timings(Histogram::new_with_bounds(
            1,
            LATENCY_MICROS_MAX,
            3,
        )?))
    }

    /// Runs `run`, records how long it took, and hands its result back.
    pub async fn time<T>(
        &mut self,
        run: impl Future<Output = anyhow::Result<T>>,
    ) -> anyhow::Result<T> {
        let begin = Instant::now();
        let result = run.await?;
        self.0.record(begin.elapsed().as_micros() as u64)?;
        Ok(result)
    }

    /// Records a latency measured by the caller.
    pub fn record(&mut self, elapsed: std::time::Duration) -> anyhow::Result<()> {
        self.0.record(elapsed.as_micros() as u64)?;
        Ok(())
    }

    /// The median, in milliseconds.
    pub fn p50_ms(&self) -> f64 {
        self.0.value_at_quantile(0.5) as f64 / 1000.0
    }

    /// The 99th percentile, in milliseconds.
    pub fn p99_ms(&self) -> f64 {
        self.0.value_at_quantile(0.99) as f64 / 1000.0
    }

    /// How many runs were timed.
    pub fn runs(&self) -> u64 {
        self.0.len()
    }

    /// `<what>: p50 .. ms, p99 .. ms (<runs> runs)`.
    pub fn print(&self, what: &str) {
        println!(
            "{what}: p50 {:.1} ms, p99 {:.1} ms ({} runs)",
            self.p50_ms(),
            self.p99_ms(),
            self.runs()
        );
    }
}
