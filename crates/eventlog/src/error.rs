//! Errors of the event log, as kinds the command service can act on.

use receivables_domain::Position;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogError {
    /// The customer's history moved on since the caller read it: reload and decide again.
    #[error("the customer's last position is no longer {expected}")]
    Conflict { expected: Position },
    /// The log cannot be reached, or did not confirm in time. An append that ends this way may
    /// or may not have happened: retrying the same command id is always safe.
    #[error("the event log is unavailable: {0}")]
    Unavailable(String),
    /// A message in the log cannot be read as an event (or belongs elsewhere than it says).
    #[error("the event at position {position} is unreadable: {problem}")]
    Corrupt { position: Position, problem: String },
    /// The log refused the request for a reason that retrying will not fix.
    #[error("the event log refused the request: {0}")]
    Refused(String),
}
