//! The fuzzing loop: a corpus replayed first, then proptest cases until a time budget is spent.
//!
//! Each target replays every seed of its corpus directory as it is, then runs batches of
//! generated cases (fresh ones and mutations of the seeds) until its budget is spent. A batch is
//! one proptest run with its own random seed; the first batch first replays the failures saved
//! in the target's regressions file. A failing case is shrunk to a small one before it is
//! reported.
//! A failure is saved twice: its seed in the regressions file (replayed while the strategies
//! stay the same) and the shrunk input itself in the corpus (replayed verbatim for ever).

use std::fmt::Debug;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use proptest::strategy::Strategy;
use proptest::test_runner::{
    Config, FailurePersistence, FileFailurePersistence, PersistedSeed, TestCaseResult, TestError,
    TestRunner,
};
use sha2::{Digest, Sha256};

/// The variable that sets each target's budget in seconds.
pub const SECONDS_VARIABLE: &str = "RECEIVABLES_FUZZ_SECONDS";

/// Each target's budget when the variable is not set: short, so that the workspace's tests
/// stay quick; CI sets a longer one.
pub const SECONDS_DEFAULT: u64 = 10;

/// The longest a failing case is shrunk, in milliseconds.
const SHRINK_TIME_MS_MAX: u32 = 120_000;

/// Cases of the first batch; later batches grow while a batch takes less than
/// [`BATCH_DURATION_TARGET`], so that the budget is checked often but batches stay cheap.
const BATCH_CASES_MIN: u32 = 4;
const BATCH_CASES_MAX: u32 = 4_096;
const BATCH_DURATION_TARGET: Duration = Duration::from_millis(500);

/// The regressions file of a target, replayed by the first batch only: later batches would
/// replay the same seeds again for nothing. Every batch saves its failure there.
#[derive(Debug, Clone)]
struct Regressions {
    file: FileFailurePersistence,
    replay: bool,
}

impl FailurePersistence for Regressions {
    fn load_persisted_failures2(&self, source_file: Option<&'static str>) -> Vec<PersistedSeed> {
        if self.replay {
            self.file.load_persisted_failures2(source_file)
        } else {
            Vec::new()
        }
    }

    fn save_persisted_failure2(
        &mut self,
        source_file: Option<&'static str>,
        seed: PersistedSeed,
        shrunken_value: &dyn Debug,
    ) {
        self.file
            .save_persisted_failure2(source_file, seed, shrunken_value);
    }

    fn box_clone(&self) -> Box<dyn FailurePersistence> {
        Box::new(self.clone())
    }

    fn eq(&self, other: &dyn FailurePersistence) -> bool {
        other
            .as_any()
            .downcast_ref::<Self>()
            .is_some_and(|other| other.file == self.file && other.replay == self.replay)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// The budget of one target.
pub fn budget() -> Duration {
    match std::env::var(SECONDS_VARIABLE) {
        Ok(text) => {
            let seconds: u64 = text.trim().parse().unwrap_or_else(|_| {
                panic!("{SECONDS_VARIABLE} must be a whole number of seconds, got {text:?}")
            });
            Duration::from_secs(seconds)
        }
        Err(_) => Duration::from_secs(SECONDS_DEFAULT),
    }
}

/// Where a target keeps its seeds and its proptest failure seeds.
pub struct Target {
    pub name: &'static str,
    /// The directory of seed inputs, committed to the repository.
    pub corpus: PathBuf,
    /// proptest's regressions file, committed to the repository.
    pub regressions: &'static str,
}

impl Target {
    /// The seed files of the corpus, sorted by name.
    pub fn seed_files(&self) -> Vec<PathBuf> {
        let entries = std::fs::read_dir(&self.corpus).unwrap_or_else(|error| {
            panic!("cannot read the corpus {}: {error}", self.corpus.display())
        });
        let mut files: Vec<PathBuf> = entries
            .map(|entry| entry.expect("a corpus entry").path())
            .filter(|path| path.is_file())
            .collect();
        files.sort();
        files
    }

    /// Keeps an input that failed in the corpus, named by its content, so that every later run
    /// replays it first.
    pub fn keep(&self, bytes: &[u8], extension: &str) -> PathBuf {
        let digest = hex::encode(&Sha256::digest(bytes)[..8]);
        let path = self.corpus.join(format!("found-{digest}.{extension}"));
        if let Err(error) = std::fs::write(&path, bytes) {
            say(&format!(
                "cannot keep the failing input in {}: {error}",
                path.display()
            ));
        }
        path
    }
}

/// Writes a line straight to standard error, which the test runner does not capture: the
/// counts show in every run's output.
pub fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// How a target's run went.
pub struct Report {
    pub seeds: usize,
    pub cases: u64,
    pub elapsed: Duration,
}

impl Report {
    pub fn print(&self, target: &str) {
        let seconds = self.elapsed.as_secs_f64();
        let rate = if seconds > 0.0 {
            self.cases as f64 / seconds
        } else {
            0.0
        };
        say(&format!(
            "hostile input, {target}: {} seeds replayed, then {} generated cases in {seconds:.1} s ({rate:.0} cases/s)",
            self.seeds, self.cases
        ));
    }
}

/// Runs `test` on every case `strategy` generates until `budget` is spent. A failure is kept
/// (`keep` writes the shrunk input to the corpus) and then fails the calling test.
pub fn run_for<S>(
    target: &Target,
    budget: Duration,
    seeds: usize,
    strategy: &S,
    test: impl Fn(S::Value) -> TestCaseResult,
    keep: impl Fn(&S::Value) -> PathBuf,
) -> Report
where
    S: Strategy,
    S::Value: Debug,
{
    let started = Instant::now();
    let mut cases: u64 = 0;
    let mut batch = BATCH_CASES_MIN;
    // At least one batch, however small the budget.
    loop {
        let config = Config {
            cases: batch,
            failure_persistence: Some(Box::new(Regressions {
                file: FileFailurePersistence::Direct(target.regressions),
                replay: cases == 0,
            })),
            max_shrink_time: SHRINK_TIME_MS_MAX,
            ..Config::default()
        };
        let mut runner = TestRunner::new(config);
        let batch_started = Instant::now();
        match runner.run(strategy, &test) {
            Ok(()) => {}
            Err(TestError::Abort(reason)) => {
                panic!("{}: the run was aborted: {reason}", target.name)
            }
            Err(TestError::Fail(reason, value)) => {
                let kept = keep(&value);
                panic!(
                    "{}: {reason}\nminimal failing input (kept in {}; its seed in {}):\n{value:#?}",
                    target.name,
                    kept.display(),
                    Path::new(target.regressions).display()
                );
            }
        }
        cases += u64::from(batch);
        if started.elapsed() >= budget {
            break;
        }
        if batch_started.elapsed() < BATCH_DURATION_TARGET {
            batch = (batch * 2).min(BATCH_CASES_MAX);
        }
    }
    Report {
        seeds,
        cases,
        elapsed: started.elapsed(),
    }
}
