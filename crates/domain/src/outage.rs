//! Why a backend (the event log, the token store) could not be reached, keeping the error of
//! the client or the database underneath for whoever reports it. It belongs to no backend, so
//! that each of them says "unavailable" the same way; it is a value like any other here and does
//! no I/O.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// Why a backend could not be reached: what went wrong, and the error of the client or the
/// database underneath (its `source`), when there is one.
#[derive(Debug, Clone)]
pub struct Outage {
    what: String,
    cause: Option<Arc<dyn Error + Send + Sync>>,
}

impl Outage {
    /// An outage caused by `error`.
    pub fn caused_by(error: impl Error + Send + Sync + 'static) -> Self {
        Outage {
            what: error.to_string(),
            cause: Some(Arc::new(error)),
        }
    }

    /// An outage caused by `error` while doing `what` ("cannot open <file>"): said as
    /// `<what>: <error>`, with `error` kept as the source.
    pub fn context(what: impl fmt::Display, error: impl Error + Send + Sync + 'static) -> Self {
        Outage {
            what: format!("{what}: {error}"),
            cause: Some(Arc::new(error)),
        }
    }
}

impl From<Box<dyn Error + Send + Sync>> for Outage {
    fn from(error: Box<dyn Error + Send + Sync>) -> Self {
        Outage {
            what: error.to_string(),
            cause: Some(Arc::from(error)),
        }
    }
}

impl From<String> for Outage {
    fn from(what: String) -> Self {
        Outage { what, cause: None }
    }
}

impl From<&str> for Outage {
    fn from(what: &str) -> Self {
        Outage::from(what.to_owned())
    }
}

impl fmt::Display for Outage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)
    }
}

impl Error for Outage {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.cause
            .as_deref()
            .map(|cause| cause as &(dyn Error + 'static))
    }
}

/// Two outages are the same when they say the same: causes are compared by what they say.
impl PartialEq for Outage {
    fn eq(&self, other: &Self) -> bool {
        self.what == other.what
            && self.cause.as_ref().map(ToString::to_string)
                == other.cause.as_ref().map(ToString::to_string)
    }
}

impl Eq for Outage {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_in_context_says_both_and_keeps_the_cause() {
        let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied");
        let outage = Outage::context("cannot open /x/events.sqlite", io);
        assert_eq!(outage.to_string(), "cannot open /x/events.sqlite: denied");
        let cause = outage.source().expect("the cause");
        assert!(cause.downcast_ref::<std::io::Error>().is_some());
        assert!(Outage::from("closed").source().is_none());
    }
}
