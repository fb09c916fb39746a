//! Refusals: why a command was not accepted, in a form that maps one-to-one onto a gRPC status
//! with `google.rpc` details (the mapping lives in the `api` crate).

use std::fmt;

/// The class of a refusal; each maps to one gRPC status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalCode {
    /// The command is wrong whatever the account holds (`INVALID_ARGUMENT`).
    InvalidArgument,
    /// The command is well formed but the account's state does not allow it
    /// (`FAILED_PRECONDITION`).
    FailedPrecondition,
    /// Something the command would create exists already: an invoice number, or the command id
    /// with other content (`ALREADY_EXISTS`).
    AlreadyExists,
}

/// A stable, machine-readable reason, sent as `google.rpc.ErrorInfo.reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    InvalidCommand,
    /// A query (a report, a listing, a replay) with bad fields: the reason that tells a client
    /// its request, not a command, was refused.
    InvalidQuery,
    CreditLimitExceeded,
    CreditLimitCurrencyMismatch,
    DuplicateInvoiceNumber,
    CommandIdReused,
    InvoiceNotFound,
    CurrencyMismatch,
    AllocationExceedsOpenAmount,
    AllocationBeforeInvoiceDate,
    PromiseExceedsBalance,
    NothingOwed,
    DuplicateCreditNoteNumber,
    CreditNoteBeforeInvoiceDate,
    CreditNoteExceedsOpenAmount,
    WriteOffBeforeInvoiceDate,
    WriteOffExceedsOpenAmount,
    PaymentNotFound,
    PaymentAlreadyReversed,
    ReversalBeforePayment,
    UnappliedAlreadyUsed,
    ExceedsUnapplied,
    DisputeBeforeInvoiceDate,
    DisputeExceedsOpenAmount,
    DisputeAlreadyOpen,
    DisputeNotOpen,
    CreditNoteNotFound,
    CollectionOnBehalfUnchanged,
    CustomerAlreadyRegistered,
    CustomerNotRegistered,
    CustomerUnchanged,
    CollectorUnchanged,
    BaseCurrencyMismatch,
    ExchangeRateMissing,
    PaymentTermsUnknown,
    PaymentTermsUnchanged,
    InvoiceNotOverdue,
    PlanAmountMismatch,
    PlanAlreadyInForce,
    NoPlanInForce,
    PlanBeforeAgreement,
    NoDiscountTerms,
    DiscountWindowClosed,
    DiscountExceedsTerms,
    PaymentNotOnInvoice,
    DuplicateOrderNumber,
    ReservationNotFound,
    ReservationNotOpen,
    ReleaseExceedsReservation,
    CustomerOverdue,
    BankAccountAlreadyRegistered,
    BankAccountNotRegistered,
    BankAccountMismatch,
    StatementLineKnown,
    StatementLineConflict,
    StatementLineNotFound,
    StatementLineSettled,
    ReceiptAmountMismatch,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::InvalidCommand => "INVALID_COMMAND",
            Reason::InvalidQuery => "INVALID_QUERY",
            Reason::CreditLimitExceeded => "CREDIT_LIMIT_EXCEEDED",
            Reason::CreditLimitCurrencyMismatch => "CREDIT_LIMIT_CURRENCY_MISMATCH",
            Reason::DuplicateInvoiceNumber => "DUPLICATE_INVOICE_NUMBER",
            Reason::CommandIdReused => "COMMAND_ID_REUSED",
            Reason::InvoiceNotFound => "INVOICE_NOT_FOUND",
            Reason::CurrencyMismatch => "CURRENCY_MISMATCH",
            Reason::AllocationExceedsOpenAmount => "ALLOCATION_EXCEEDS_OPEN_AMOUNT",
            Reason::AllocationBeforeInvoiceDate => "ALLOCATION_BEFORE_INVOICE_DATE",
            Reason::PromiseExceedsBalance => "PROMISE_EXCEEDS_BALANCE",
            Reason::NothingOwed => "NOTHING_OWED",
            Reason::DuplicateCreditNoteNumber => "DUPLICATE_CREDIT_NOTE_NUMBER",
            Reason::CreditNoteBeforeInvoiceDate => "CREDIT_NOTE_BEFORE_INVOICE_DATE",
            Reason::CreditNoteExceedsOpenAmount => "CREDIT_NOTE_EXCEEDS_OPEN_AMOUNT",
            Reason::WriteOffBeforeInvoiceDate => "WRITE_OFF_BEFORE_INVOICE_DATE",
            Reason::WriteOffExceedsOpenAmount => "WRITE_OFF_EXCEEDS_OPEN_AMOUNT",
            Reason::PaymentNotFound => "PAYMENT_NOT_FOUND",
            Reason::PaymentAlreadyReversed => "PAYMENT_ALREADY_REVERSED",
            Reason::ReversalBeforePayment => "REVERSAL_BEFORE_PAYMENT",
            Reason::UnappliedAlreadyUsed => "UNAPPLIED_ALREADY_USED",
            Reason::ExceedsUnapplied => "EXCEEDS_UNAPPLIED",
            Reason::DisputeBeforeInvoiceDate => "DISPUTE_BEFORE_INVOICE_DATE",
            Reason::DisputeExceedsOpenAmount => "DISPUTE_EXCEEDS_OPEN_AMOUNT",
            Reason::DisputeAlreadyOpen => "DISPUTE_ALREADY_OPEN",
            Reason::DisputeNotOpen => "DISPUTE_NOT_OPEN",
            Reason::CreditNoteNotFound => "CREDIT_NOTE_NOT_FOUND",
            Reason::CollectionOnBehalfUnchanged => "COLLECTION_ON_BEHALF_UNCHANGED",
            Reason::CustomerAlreadyRegistered => "CUSTOMER_ALREADY_REGISTERED",
            Reason::CustomerNotRegistered => "CUSTOMER_NOT_REGISTERED",
            Reason::CustomerUnchanged => "CUSTOMER_UNCHANGED",
            Reason::CollectorUnchanged => "COLLECTOR_UNCHANGED",
            Reason::BaseCurrencyMismatch => "BASE_CURRENCY_MISMATCH",
            Reason::ExchangeRateMissing => "EXCHANGE_RATE_MISSING",
            Reason::PaymentTermsUnknown => "PAYMENT_TERMS_UNKNOWN",
            Reason::PaymentTermsUnchanged => "PAYMENT_TERMS_UNCHANGED",
            Reason::InvoiceNotOverdue => "INVOICE_NOT_OVERDUE",
            Reason::PlanAmountMismatch => "PLAN_AMOUNT_MISMATCH",
            Reason::PlanAlreadyInForce => "PLAN_ALREADY_IN_FORCE",
            Reason::NoPlanInForce => "NO_PLAN_IN_FORCE",
            Reason::PlanBeforeAgreement => "PLAN_BEFORE_AGREEMENT",
            Reason::NoDiscountTerms => "NO_DISCOUNT_TERMS",
            Reason::DiscountWindowClosed => "DISCOUNT_WINDOW_CLOSED",
            Reason::DiscountExceedsTerms => "DISCOUNT_EXCEEDS_TERMS",
            Reason::PaymentNotOnInvoice => "PAYMENT_NOT_ON_INVOICE",
            Reason::DuplicateOrderNumber => "DUPLICATE_ORDER_NUMBER",
            Reason::ReservationNotFound => "RESERVATION_NOT_FOUND",
            Reason::ReservationNotOpen => "RESERVATION_NOT_OPEN",
            Reason::ReleaseExceedsReservation => "RELEASE_EXCEEDS_RESERVATION",
            Reason::CustomerOverdue => "CUSTOMER_OVERDUE",
            Reason::BankAccountAlreadyRegistered => "BANK_ACCOUNT_ALREADY_REGISTERED",
            Reason::BankAccountNotRegistered => "BANK_ACCOUNT_NOT_REGISTERED",
            Reason::BankAccountMismatch => "BANK_ACCOUNT_MISMATCH",
            Reason::StatementLineKnown => "STATEMENT_LINE_KNOWN",
            Reason::StatementLineConflict => "STATEMENT_LINE_CONFLICT",
            Reason::StatementLineNotFound => "STATEMENT_LINE_NOT_FOUND",
            Reason::StatementLineSettled => "STATEMENT_LINE_SETTLED",
            Reason::ReceiptAmountMismatch => "RECEIPT_AMOUNT_MISMATCH",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One bad field of a request (`google.rpc.BadRequest.FieldViolation`). `field` is the
/// request's field path in the wire contract's names, such as `allocations[1].amount`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, description: impl fmt::Display) -> Self {
        FieldViolation {
            field: field.into(),
            description: description.to_string(),
        }
    }
}

/// One failed precondition (`google.rpc.PreconditionFailure.Violation`): `kind` is a stable
/// reason, `subject` what it concerns (`invoices/SUB-1/INV-7`, `customers/C-1/credit_limit`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreconditionViolation {
    pub kind: Reason,
    pub subject: String,
    pub description: String,
}

/// A refused command. Nothing was appended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: RefusalCode,
    pub reason: Reason,
    pub message: String,
    pub field_violations: Vec<FieldViolation>,
    pub precondition_violations: Vec<PreconditionViolation>,
    /// Machine-readable figures (`limit`, `exposure`, `shortfall`...), sent as
    /// `google.rpc.ErrorInfo.metadata`.
    pub metadata: Vec<(String, String)>,
}

impl Refusal {
    /// A command refused for its content alone: at least one field violation, or the refusal
    /// would say nothing a client could fix.
    pub fn invalid(violations: Vec<FieldViolation>) -> Self {
        assert!(
            !violations.is_empty(),
            "a refusal of a command's content names at least one field"
        );
        let message = violations
            .iter()
            .map(|v| format!("{}: {}", v.field, v.description))
            .collect::<Vec<_>>()
            .join("; ");
        Refusal {
            code: RefusalCode::InvalidArgument,
            reason: Reason::InvalidCommand,
            message,
            field_violations: violations,
            precondition_violations: Vec::new(),
            metadata: Vec::new(),
        }
    }

    /// A query refused for its fields (at least one). Nothing was read.
    pub fn invalid_query(violations: Vec<FieldViolation>) -> Self {
        Refusal {
            reason: Reason::InvalidQuery,
            ..Refusal::invalid(violations)
        }
    }

    /// A command refused because of the account's state.
    pub fn precondition(reason: Reason, violations: Vec<PreconditionViolation>) -> Self {
        let message = violations
            .iter()
            .map(|v| format!("{}: {}", v.subject, v.description))
            .collect::<Vec<_>>()
            .join("; ");
        Refusal {
            code: RefusalCode::FailedPrecondition,
            reason,
            message,
            field_violations: Vec::new(),
            precondition_violations: violations,
            metadata: Vec::new(),
        }
    }

    /// A command that would create something that exists already.
    pub fn already_exists(reason: Reason, message: impl Into<String>) -> Self {
        Refusal {
            code: RefusalCode::AlreadyExists,
            reason,
            message: message.into(),
            field_violations: Vec::new(),
            precondition_violations: Vec::new(),
            metadata: Vec::new(),
        }
    }

    pub fn with_metadata(mut self, key: &str, value: impl fmt::Display) -> Self {
        self.metadata.push((key.to_owned(), value.to_string()));
        self
    }

    pub fn metadata(&self, key: &str) -> Option<&str> {
        self.metadata
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.reason, self.message)
    }
}

impl std::error::Error for Refusal {}
