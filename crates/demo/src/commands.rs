//! The commands of a data set as they go on the wire, and counts of them by kind.

use receivables_api::commands::{self, Addressed};
use receivables_api::pb;
use receivables_domain::Refusal;

/// One command of the data set, as it goes on the wire (the command id is set).
#[derive(Debug, Clone, PartialEq)]
pub enum DemoCommand {
    ChangeCreditLimit(pb::ChangeCreditLimitRequest),
    IssueInvoice(pb::IssueInvoiceRequest),
    /// An invoice planted to take a BLOCK customer above its limit: the service must refuse it
    /// with `CREDIT_LIMIT_EXCEEDED` (and the demo shows that it did).
    IssueInvoiceOverLimit(pb::IssueInvoiceRequest),
    RecordPayment(pb::RecordPaymentRequest),
    RecordPromiseToPay(pb::RecordPromiseToPayRequest),
}

/// The four kinds of command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CommandKind {
    CreditLimit,
    Invoice,
    Payment,
    Promise,
}

impl CommandKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CommandKind::CreditLimit => "credit limit",
            CommandKind::Invoice => "invoice",
            CommandKind::Payment => "payment",
            CommandKind::Promise => "promise to pay",
        }
    }
}

impl std::fmt::Display for CommandKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl DemoCommand {
    pub fn kind(&self) -> CommandKind {
        match self {
            DemoCommand::ChangeCreditLimit(_) => CommandKind::CreditLimit,
            DemoCommand::IssueInvoice(_) | DemoCommand::IssueInvoiceOverLimit(_) => {
                CommandKind::Invoice
            }
            DemoCommand::RecordPayment(_) => CommandKind::Payment,
            DemoCommand::RecordPromiseToPay(_) => CommandKind::Promise,
        }
    }

    pub fn customer_id(&self) -> &str {
        match self {
            DemoCommand::ChangeCreditLimit(r) => &r.customer_id,
            DemoCommand::IssueInvoice(r) | DemoCommand::IssueInvoiceOverLimit(r) => &r.customer_id,
            DemoCommand::RecordPayment(r) => &r.customer_id,
            DemoCommand::RecordPromiseToPay(r) => &r.customer_id,
        }
    }

    pub fn command_id(&self) -> &str {
        match self {
            DemoCommand::ChangeCreditLimit(r) => &r.command_id,
            DemoCommand::IssueInvoice(r) | DemoCommand::IssueInvoiceOverLimit(r) => &r.command_id,
            DemoCommand::RecordPayment(r) => &r.command_id,
            DemoCommand::RecordPromiseToPay(r) => &r.command_id,
        }
    }

    /// The business date the fact takes effect (`YYYY-MM-DD`): issue, received, made-on or
    /// effective date.
    pub fn business_date(&self) -> &str {
        match self {
            DemoCommand::ChangeCreditLimit(r) => &r.effective_date,
            DemoCommand::IssueInvoice(r) | DemoCommand::IssueInvoiceOverLimit(r) => &r.issue_date,
            DemoCommand::RecordPayment(r) => &r.received_date,
            DemoCommand::RecordPromiseToPay(r) => &r.made_on,
        }
    }

    /// Whether this is a planted invoice that the service must refuse.
    pub fn is_planted_over_limit(&self) -> bool {
        matches!(self, DemoCommand::IssueInvoiceOverLimit(_))
    }

    /// The domain command this request asks for, read by the API's own request parsing, as
    /// the command service reads it.
    pub(crate) fn addressed(&self) -> Result<Addressed, Refusal> {
        match self {
            DemoCommand::ChangeCreditLimit(r) => commands::credit_limit::read(r),
            DemoCommand::IssueInvoice(r) | DemoCommand::IssueInvoiceOverLimit(r) => {
                commands::invoice::read(r)
            }
            DemoCommand::RecordPayment(r) => commands::payment::read(r),
            DemoCommand::RecordPromiseToPay(r) => commands::promise::read(r),
        }
    }

    pub(crate) fn set_command_id(&mut self, id: String) {
        match self {
            DemoCommand::ChangeCreditLimit(r) => r.command_id = id,
            DemoCommand::IssueInvoice(r) | DemoCommand::IssueInvoiceOverLimit(r) => {
                r.command_id = id
            }
            DemoCommand::RecordPayment(r) => r.command_id = id,
            DemoCommand::RecordPromiseToPay(r) => r.command_id = id,
        }
    }
}

/// Counts per kind of command.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KindCounts {
    pub credit_limits: usize,
    pub invoices: usize,
    pub payments: usize,
    pub promises: usize,
}

impl KindCounts {
    /// Counts the commands of a data set by kind.
    pub fn of(commands: &[DemoCommand]) -> KindCounts {
        let mut counts = KindCounts::default();
        for command in commands {
            counts.add(command.kind(), 1);
        }
        counts
    }

    pub fn get(&self, kind: CommandKind) -> usize {
        match kind {
            CommandKind::CreditLimit => self.credit_limits,
            CommandKind::Invoice => self.invoices,
            CommandKind::Payment => self.payments,
            CommandKind::Promise => self.promises,
        }
    }

    pub fn total(&self) -> usize {
        self.credit_limits + self.invoices + self.payments + self.promises
    }

    pub(crate) fn add(&mut self, kind: CommandKind, count: usize) {
        let slot = match kind {
            CommandKind::CreditLimit => &mut self.credit_limits,
            CommandKind::Invoice => &mut self.invoices,
            CommandKind::Payment => &mut self.payments,
            CommandKind::Promise => &mut self.promises,
        };
        *slot += count;
    }

    pub(crate) fn merge(&mut self, other: &KindCounts) {
        for kind in [
            CommandKind::CreditLimit,
            CommandKind::Invoice,
            CommandKind::Payment,
            CommandKind::Promise,
        ] {
            self.add(kind, other.get(kind));
        }
    }
}
