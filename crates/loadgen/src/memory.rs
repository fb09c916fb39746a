//! The benchmark process's resident memory: read once (`resident_bytes`), or sampled while a
//! step runs to find its peak (`PeakSampler`), so that a benchmark can say what a step held at
//! most above what the process held before it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context as _;

/// How often the sampler reads the resident memory: often enough to see a step's peak, which
/// lasts for as long as a batch is in flight (tens of milliseconds).
const SAMPLE_EVERY: Duration = Duration::from_millis(10);

/// The process's resident memory in bytes (`VmRSS` of `/proc/self/status`).
pub fn resident_bytes() -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let kilobytes = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .context("no VmRSS in /proc/self/status")?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse::<u64>()?;
    Ok(kilobytes * 1024)
}

/// Samples the resident memory on a thread of its own until stopped.
pub struct PeakSampler {
    before: u64,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<u64>,
}

/// What a step held: the resident memory before it, and the most while it ran.
#[derive(Debug, Clone, Copy)]
pub struct Peak {
    pub before: u64,
    pub peak: u64,
}

impl Peak {
    /// `"peak RSS +X MB over Y MB before"`.
    pub fn describe(&self) -> String {
        format!(
            "peak RSS +{:.1} MB over {:.1} MB before",
            self.peak.saturating_sub(self.before) as f64 / 1e6,
            self.before as f64 / 1e6
        )
    }
}

impl PeakSampler {
    /// Starts sampling; what the process holds now is the step's "before".
    pub fn start() -> anyhow::Result<PeakSampler> {
        let before = resident_bytes()?;
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::spawn({
            let stop = Arc::clone(&stop);
            move || {
                let mut peak = before;
                while !stop.load(Ordering::Relaxed) {
                    peak = peak.max(resident_bytes().unwrap_or(0));
                    std::thread::sleep(SAMPLE_EVERY);
                }
                peak.max(resident_bytes().unwrap_or(0))
            }
        });
        Ok(PeakSampler {
            before,
            stop,
            thread,
        })
    }

    /// Stops sampling and says what the step held.
    pub fn stop(self) -> anyhow::Result<Peak> {
        self.stop.store(true, Ordering::Relaxed);
        let peak = self
            .thread
            .join()
            .map_err(|_| anyhow::anyhow!("the memory sampler panicked"))?;
        Ok(Peak {
            before: self.before,
            peak,
        })
    }
}
