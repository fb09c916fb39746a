//! Errors of the event log, as kinds the command service can act on, keeping the error
//! underneath for whoever reports them.

use std::error::Error;

use receivables_domain::Position;
pub use receivables_domain::outage::Outage;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogError {
    /// The customer's history moved on since the caller read it: reload and decide again.
    #[error("the customer's last position is no longer {expected}")]
    Conflict { expected: Position },
    /// The log cannot be reached, or did not confirm in time. An append that ends this way may
    /// or may not have happened: retrying the same command id is always safe.
    #[error("the event log is unavailable: {0}")]
    Unavailable(#[source] Outage),
    /// A message in the log cannot be read as an event (or belongs elsewhere than it says).
    #[error("the event at position {position} is unreadable: {problem}")]
    Corrupt { position: Position, problem: String },
    /// The log refused the request for a reason that retrying will not fix.
    #[error("the event log refused the request: {0}")]
    Refused(String),
}

impl LogError {
    /// The log is unavailable because of `error`, which is kept as the source.
    pub fn unavailable(error: impl Error + Send + Sync + 'static) -> Self {
        LogError::Unavailable(Outage::caused_by(error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_keeps_its_cause() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let error = LogError::unavailable(io);
        assert_eq!(error.to_string(), "the event log is unavailable: refused");
        let outage = error.source().expect("the outage");
        let cause = outage.source().expect("the cause");
        assert!(cause.downcast_ref::<std::io::Error>().is_some());
    }
}
