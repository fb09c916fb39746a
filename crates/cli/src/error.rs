//! What can go wrong for the client, each as one line a person can act on, and the exit code a
//! script can act on.
//!
//! gRPC statuses are read once, here: the stable reason comes from `google.rpc.ErrorInfo`, the
//! text from the status message (or, when that is empty, from the `BadRequest` and
//! `PreconditionFailure` details), so that `refused: CREDIT_LIMIT_EXCEEDED: ...` means the same
//! thing whichever subcommand printed it.

use std::collections::BTreeMap;
use std::fmt;

use tonic::{Code, Status};
use tonic_types::StatusExt;

/// The service said no: a refused command or query. Nothing was recorded.
pub const EXIT_REFUSED: u8 = 1;
/// The command line itself was wrong: a bad flag value, an unreadable or malformed file.
/// (clap uses the same code for the usage errors it finds itself.)
pub const EXIT_USAGE: u8 = 2;
/// The service could not be reached or did not answer in time; retrying later may work.
pub const EXIT_UNAVAILABLE: u8 = 3;
/// The service failed (an internal error) or the output could not be written.
pub const EXIT_FAILED: u8 = 4;

/// The longest status message printed; a service that sends more is cut, so that an error
/// stays one readable line.
const MESSAGE_CHARS_MAX: usize = 1_000;

/// A gRPC status as the client reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceStatus {
    pub code: Code,
    /// `ErrorInfo.reason` (`CREDIT_LIMIT_EXCEEDED`), or the status code's name (`NOT_FOUND`)
    /// when the status carries no `ErrorInfo`.
    pub reason: String,
    /// The status message on one line.
    pub message: String,
    /// `ErrorInfo.metadata` (`limit`, `exposure`, `shortfall`...).
    pub metadata: BTreeMap<String, String>,
}

impl ServiceStatus {
    /// Reads the status and its `google.rpc` details.
    pub fn from_status(status: &Status) -> ServiceStatus {
        let details = status.get_error_details();
        let (reason, metadata) = match details.error_info() {
            Some(info) if !info.reason.is_empty() => (
                info.reason.clone(),
                info.metadata
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            _ => (code_name(status.code()).to_owned(), BTreeMap::new()),
        };
        let mut message = status.message().to_owned();
        if message.trim().is_empty() {
            let mut parts = Vec::new();
            if let Some(bad_request) = details.bad_request() {
                parts.extend(
                    bad_request
                        .field_violations
                        .iter()
                        .map(|v| format!("{}: {}", v.field, v.description)),
                );
            }
            if let Some(failure) = details.precondition_failure() {
                parts.extend(
                    failure
                        .violations
                        .iter()
                        .map(|v| format!("{}: {}", v.subject, v.description)),
                );
            }
            message = if parts.is_empty() {
                code_description(status.code()).to_owned()
            } else {
                parts.join("; ")
            };
        }
        ServiceStatus {
            code: status.code(),
            reason,
            message: one_line(&message),
            metadata,
        }
    }

    /// The kind of failure, which decides the word in front and the exit code.
    pub fn class(&self) -> StatusClass {
        match self.code {
            Code::InvalidArgument
            | Code::FailedPrecondition
            | Code::AlreadyExists
            | Code::OutOfRange
            | Code::PermissionDenied
            | Code::Unauthenticated => StatusClass::Refused,
            Code::NotFound => StatusClass::NotFound,
            // A connection lost in the middle of a call comes back from the transport as
            // UNKNOWN or CANCELLED: the outcome is unknown and a retry with the same command id
            // is safe, as after UNAVAILABLE. The service itself never answers UNKNOWN.
            Code::Unavailable
            | Code::DeadlineExceeded
            | Code::Aborted
            | Code::ResourceExhausted
            | Code::Unknown
            | Code::Cancelled => StatusClass::Transient,
            Code::Ok | Code::Unimplemented | Code::Internal | Code::DataLoss => StatusClass::Failed,
        }
    }
}

/// How a status is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusClass {
    /// The request was understood and refused; sending it again changes nothing.
    Refused,
    /// What the request names does not exist.
    NotFound,
    /// The service is unavailable, too slow or contended; the same request may succeed later.
    Transient,
    /// The service failed.
    Failed,
}

/// Why a client command did not complete. `Display` is one line; [`CliError::exit_code`] is
/// what the process should exit with.
#[derive(Debug)]
pub enum CliError {
    /// The command line was wrong (a flag value, a file that cannot be read or has the wrong
    /// columns).
    Usage(String),
    /// No connection could be made to `address`.
    Unreachable { address: String, cause: String },
    /// The service at `address` answered with an error status. `hint` says what to do next
    /// (such as the command id to retry with).
    Service {
        address: String,
        status: Box<ServiceStatus>,
        hint: Option<String>,
    },
    /// An import finished but refused some rows (written to `refused_file`).
    RowsRefused {
        refused: u64,
        rows: u64,
        refused_file: String,
    },
    /// An import stopped before the end of the file; running it again posts the rest.
    ImportStopped {
        rows_done: u64,
        rows: u64,
        cause: Box<CliError>,
    },
    /// The output could not be written.
    Output(String),
    /// `audit verify` found a broken link in the hash chain (`kind` as the contract names it,
    /// without its prefix); `line` when an exported file was checked.
    ChainBroken {
        kind: String,
        position: Option<u64>,
        line: Option<u64>,
    },
}

impl CliError {
    /// Maps a status from the service at `address`. A status that a broken connection produced
    /// (no `ErrorInfo`, `UNAVAILABLE`) is reported as [`CliError::Unreachable`].
    pub fn status(address: &str, status: &Status) -> CliError {
        let reported = ServiceStatus::from_status(status);
        if status.code() == Code::Unavailable && status.get_error_details().error_info().is_none() {
            return CliError::Unreachable {
                address: address.to_owned(),
                cause: reported.message,
            };
        }
        CliError::Service {
            address: address.to_owned(),
            status: Box::new(reported),
            hint: None,
        }
    }

    /// The same error with a hint appended (only to service errors).
    pub fn with_hint(self, text: impl Into<String>) -> CliError {
        match self {
            CliError::Service {
                address, status, ..
            } => CliError::Service {
                address,
                status,
                hint: Some(text.into()),
            },
            other => other,
        }
    }

    /// The process exit code: [`EXIT_REFUSED`], [`EXIT_USAGE`], [`EXIT_UNAVAILABLE`] or
    /// [`EXIT_FAILED`].
    /// Whether trying again later may succeed: the service could not be reached, or said it
    /// was unavailable for now.
    pub fn is_transient(&self) -> bool {
        self.exit_code() == EXIT_UNAVAILABLE
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => EXIT_USAGE,
            CliError::Unreachable { .. } => EXIT_UNAVAILABLE,
            CliError::Service { status, .. } => match status.class() {
                StatusClass::Refused | StatusClass::NotFound => EXIT_REFUSED,
                StatusClass::Transient => EXIT_UNAVAILABLE,
                StatusClass::Failed => EXIT_FAILED,
            },
            CliError::RowsRefused { .. } => EXIT_REFUSED,
            CliError::ImportStopped { cause, .. } => cause.exit_code(),
            CliError::Output(_) => EXIT_FAILED,
            CliError::ChainBroken { .. } => EXIT_REFUSED,
        }
    }

    /// The service's status, when the service answered with one.
    pub fn service_status(&self) -> Option<&ServiceStatus> {
        match self {
            CliError::Service { status, .. } => Some(status),
            CliError::ImportStopped { cause, .. } => cause.service_status(),
            _ => None,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Usage(message) => write!(f, "{}", one_line(message)),
            CliError::Unreachable { address, cause } => {
                write!(f, "cannot connect to {address}: {}", one_line(cause))
            }
            CliError::Service {
                address,
                status,
                hint,
            } => {
                match status.class() {
                    StatusClass::Refused => write!(f, "refused: ")?,
                    StatusClass::NotFound => write!(f, "not found: ")?,
                    StatusClass::Transient if status.code == Code::DeadlineExceeded => {
                        write!(f, "timed out at {address}: ")?
                    }
                    StatusClass::Transient => write!(f, "unavailable at {address}: ")?,
                    StatusClass::Failed => write!(f, "failed at {address}: ")?,
                }
                write!(f, "{}: {}", status.reason, status.message)?;
                if let Some(hint) = hint {
                    write!(f, " ({})", one_line(hint))?;
                }
                Ok(())
            }
            CliError::RowsRefused {
                refused,
                rows,
                refused_file,
            } => write!(
                f,
                "{refused} of {rows} rows refused; they are listed in {refused_file}"
            ),
            CliError::ImportStopped {
                rows_done,
                rows,
                cause,
            } => write!(
                f,
                "import stopped after {rows_done} of {rows} rows (run it again to post the rest): {cause}"
            ),
            CliError::Output(message) => {
                write!(f, "cannot write the output: {}", one_line(message))
            }
            CliError::ChainBroken {
                kind,
                position,
                line,
            } => {
                write!(f, "hash chain broken: {kind}")?;
                if let Some(position) = position {
                    write!(f, " at position {position}")?;
                }
                if let Some(line) = line {
                    write!(f, " (line {line})")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for CliError {}

/// Text on one line: line breaks and tabs become spaces, runs of spaces one space, and the
/// result is cut at [`MESSAGE_CHARS_MAX`] characters.
pub fn one_line(text: &str) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if joined.chars().count() <= MESSAGE_CHARS_MAX {
        joined
    } else {
        let cut: String = joined.chars().take(MESSAGE_CHARS_MAX).collect();
        format!("{cut}...")
    }
}

pub use receivables_api::status::code_name;

fn code_description(code: Code) -> &'static str {
    code.description()
}

/// The most telling cause in an error's source chain: the kind of the innermost I/O error
/// ("connection refused"), else the innermost message.
pub fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut deepest = error.to_string();
    let mut io_kind = None;
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            io_kind = match io.kind() {
                std::io::ErrorKind::Other => None,
                kind => Some(kind.to_string()),
            };
        }
        let text = e.to_string();
        if !text.is_empty() {
            deepest = text;
        }
        current = e.source();
    }
    one_line(&io_kind.unwrap_or(deepest))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::collections::HashMap;

    use tonic_types::ErrorDetails;

    use super::*;

    #[test]
    fn a_refusal_is_one_line_with_its_reason() {
        let mut details = ErrorDetails::new();
        details.set_error_info(
            "CREDIT_LIMIT_EXCEEDED",
            "receivables.v1",
            HashMap::from([("limit".to_owned(), "1000.00".to_owned())]),
        );
        let status = Status::with_error_details(
            Code::FailedPrecondition,
            "customers/C1/credit_limit: above\nthe limit",
            details,
        );
        let error = CliError::status("http://x", &status);
        assert_eq!(
            error.to_string(),
            "refused: CREDIT_LIMIT_EXCEEDED: customers/C1/credit_limit: above the limit"
        );
        assert_eq!(error.exit_code(), EXIT_REFUSED);
        assert_eq!(
            error.service_status().unwrap().metadata["limit"],
            "1000.00".to_owned()
        );
    }

    #[test]
    fn a_status_without_details_is_named_by_its_code() {
        let error = CliError::status("http://x", &Status::new(Code::Internal, ""));
        assert_eq!(
            error.to_string(),
            "failed at http://x: INTERNAL: Internal error"
        );
        assert_eq!(error.exit_code(), EXIT_FAILED);
        let error = CliError::status("http://x", &Status::new(Code::Unavailable, "tcp reset"));
        assert_eq!(error.to_string(), "cannot connect to http://x: tcp reset");
        assert_eq!(error.exit_code(), EXIT_UNAVAILABLE);
    }
}
