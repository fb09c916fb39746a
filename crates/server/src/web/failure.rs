//! A call that did not answer, as an HTTP answer: the gRPC status of the service underneath
//! turned into the HTTP status a browser or a spreadsheet tool understands, with the same
//! machine-readable details (the reason, and every offending field at once).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use receivables_api::status::code_name;
use serde_json::json;
use tonic::Code;
use tonic_types::StatusExt as _;

/// One offending field: its path in the request (the protobuf field path, as the gRPC answer
/// names it) and, where it came from a query parameter, that parameter's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: String,
    pub parameter: String,
    pub description: String,
}

/// Why a request got no answer.
#[derive(Debug, Clone)]
pub struct Failure {
    pub status: StatusCode,
    /// The gRPC code's name (`INVALID_ARGUMENT`), the same for both interfaces.
    pub code: &'static str,
    /// The `ErrorInfo` reason (`INVALID_QUERY`, `TOKEN_REVOKED`, ...), when there is one.
    pub reason: Option<String>,
    pub message: String,
    pub fields: Vec<FieldProblem>,
}

impl Failure {
    /// Bad query parameters, found before any service saw the request.
    pub fn bad_parameters(fields: Vec<FieldProblem>) -> Failure {
        let names: Vec<&str> = fields.iter().map(|f| f.parameter.as_str()).collect();
        Failure {
            status: StatusCode::BAD_REQUEST,
            code: "INVALID_ARGUMENT",
            reason: Some("INVALID_QUERY".to_owned()),
            message: format!("bad parameters: {}", names.join(", ")),
            fields,
        }
    }

    /// No session and no token.
    pub fn unauthenticated(reason: &str, message: impl Into<String>) -> Failure {
        Failure {
            status: StatusCode::UNAUTHORIZED,
            code: "UNAUTHENTICATED",
            reason: Some(reason.to_owned()),
            message: message.into(),
            fields: Vec::new(),
        }
    }

    /// The request could not be served for a fault of our own.
    pub fn internal(message: impl Into<String>) -> Failure {
        Failure {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "INTERNAL",
            reason: None,
            message: message.into(),
            fields: Vec::new(),
        }
    }

    /// Not found.
    pub fn not_found(message: impl Into<String>) -> Failure {
        Failure {
            status: StatusCode::NOT_FOUND,
            code: "NOT_FOUND",
            reason: None,
            message: message.into(),
            fields: Vec::new(),
        }
    }

    /// The answer's body: `{"code", "reason", "message", "fieldViolations": [...]}`.
    pub fn body(&self) -> serde_json::Value {
        json!({
            "code": self.code,
            "reason": self.reason,
            "message": self.message,
            "fieldViolations": self.fields.iter().map(|f| json!({
                "field": f.field,
                "parameter": f.parameter,
                "description": f.description,
            })).collect::<Vec<_>>(),
        })
    }
}

impl From<tonic::Status> for Failure {
    fn from(status: tonic::Status) -> Failure {
        let details = status.get_error_details();
        let fields = details
            .bad_request()
            .map(|bad| {
                bad.field_violations
                    .iter()
                    .map(|v| FieldProblem {
                        field: v.field.clone(),
                        parameter: json_path(&v.field),
                        description: v.description.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Failure {
            status: http_status(status.code()),
            code: code_name(status.code()),
            reason: details.error_info().map(|info| info.reason.clone()),
            message: status.message().to_owned(),
            fields,
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}

/// The HTTP status of a gRPC code, as Google's HTTP mapping of `google.rpc.Code` has it.
fn http_status(code: Code) -> StatusCode {
    match code {
        Code::Ok => StatusCode::OK,
        Code::InvalidArgument | Code::OutOfRange | Code::FailedPrecondition => {
            StatusCode::BAD_REQUEST
        }
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        Code::Cancelled => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Code::Unknown | Code::Internal | Code::DataLoss => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// A protobuf field path (`scope.as_of`, `lines[2].amount`) in the JSON names the API's
/// parameters use (`scope.asOf`): each name in lower camel case, as the JSON mapping writes it.
pub fn json_path(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut upper = false;
    for c in field.chars() {
        match c {
            '_' => upper = true,
            c if upper => {
                out.extend(c.to_uppercase());
                upper = false;
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::json_path;

    #[test]
    fn field_paths_read_in_the_json_names() {
        assert_eq!(json_path("scope.as_of"), "scope.asOf");
        assert_eq!(json_path("bucket_edges_days[1]"), "bucketEdgesDays[1]");
        assert_eq!(json_path("page_size"), "pageSize");
        assert_eq!(json_path("customer"), "customer");
    }
}
