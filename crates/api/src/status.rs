//! Refusals to gRPC statuses, with `google.rpc` details that clients can act on:
//! `ErrorInfo` (stable reason and figures), `BadRequest` (field violations) and
//! `PreconditionFailure`.

use std::collections::HashMap;

use receivables_domain::{Refusal, RefusalCode};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::ERROR_DOMAIN;

pub fn refusal(refusal: &Refusal) -> Status {
    let code = match refusal.code {
        RefusalCode::InvalidArgument => Code::InvalidArgument,
        RefusalCode::FailedPrecondition => Code::FailedPrecondition,
        RefusalCode::AlreadyExists => Code::AlreadyExists,
    };
    let mut details = ErrorDetails::new();
    let metadata: HashMap<String, String> = refusal.metadata.iter().cloned().collect();
    details.set_error_info(refusal.reason.as_str(), ERROR_DOMAIN, metadata);
    for violation in &refusal.field_violations {
        details.add_bad_request_violation(&violation.field, &violation.description);
    }
    for violation in &refusal.precondition_violations {
        details.add_precondition_failure_violation(
            violation.kind.as_str(),
            &violation.subject,
            &violation.description,
        );
    }
    Status::with_error_details(code, refusal.message.clone(), details)
}

/// A status with only a stable reason (for errors that are not refusals of a command: the log
/// unavailable, a conflict that did not settle, an inconsistent account).
pub fn with_reason(code: Code, reason: &str, message: impl Into<String>) -> Status {
    let mut details = ErrorDetails::new();
    details.set_error_info(reason, ERROR_DOMAIN, HashMap::new());
    Status::with_error_details(code, message, details)
}

/// The canonical name of a status code, as in the gRPC specification.
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}
