//! The commands of a data set as they go on the wire, who posts them, and counts of them by
//! kind.

use receivables_api::commands::{self, Addressed};
use receivables_api::pb;
use receivables_domain::access::Role;
use receivables_domain::{Refusal, SubsidiaryId};

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
    IssueCreditNote(pb::IssueCreditNoteRequest),
    WriteOffInvoice(pb::WriteOffInvoiceRequest),
    ReversePayment(pb::ReversePaymentRequest),
    ApplyUnappliedCash(pb::ApplyUnappliedCashRequest),
    IssueRefund(pb::IssueRefundRequest),
    OpenDispute(pb::OpenDisputeRequest),
    ResolveDispute(pb::ResolveDisputeRequest),
    /// A customer's record: its names, tax id, country and accounts-payable contact.
    RegisterCustomer(pb::RegisterCustomerRequest),
    /// A subsidiary's default collector, in the group's own account.
    AssignCollector(pb::AssignCollectorRequest),
    /// A month's exchange rates to the group's currency, in the group's own account.
    PublishExchangeRates(pb::PublishExchangeRatesRequest),
}

/// The customer id the loader and the tests file the group's settings under: the group's own
/// account.
pub(crate) const GROUP_ACCOUNT: &str = "_group";

/// The kinds of command, one per RPC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CommandKind {
    CreditLimit,
    Invoice,
    Payment,
    Promise,
    CreditNote,
    WriteOff,
    Reversal,
    Application,
    Refund,
    Dispute,
    DisputeResolution,
    CustomerRecord,
    Collector,
    ExchangeRates,
}

impl CommandKind {
    /// Every kind, in the order of the fields of [`KindCounts`].
    pub const ALL: [CommandKind; 14] = [
        CommandKind::CreditLimit,
        CommandKind::Invoice,
        CommandKind::Payment,
        CommandKind::Promise,
        CommandKind::CreditNote,
        CommandKind::WriteOff,
        CommandKind::Reversal,
        CommandKind::Application,
        CommandKind::Refund,
        CommandKind::Dispute,
        CommandKind::DisputeResolution,
        CommandKind::CustomerRecord,
        CommandKind::Collector,
        CommandKind::ExchangeRates,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CommandKind::CreditLimit => "credit limit",
            CommandKind::Invoice => "invoice",
            CommandKind::Payment => "payment",
            CommandKind::Promise => "promise to pay",
            CommandKind::CreditNote => "credit note",
            CommandKind::WriteOff => "write-off",
            CommandKind::Reversal => "payment reversal",
            CommandKind::Application => "application of unapplied money",
            CommandKind::Refund => "refund",
            CommandKind::Dispute => "dispute",
            CommandKind::DisputeResolution => "dispute resolution",
            CommandKind::CustomerRecord => "customer record",
            CommandKind::Collector => "collector assignment",
            CommandKind::ExchangeRates => "exchange rates",
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
            DemoCommand::IssueCreditNote(_) => CommandKind::CreditNote,
            DemoCommand::WriteOffInvoice(_) => CommandKind::WriteOff,
            DemoCommand::ReversePayment(_) => CommandKind::Reversal,
            DemoCommand::ApplyUnappliedCash(_) => CommandKind::Application,
            DemoCommand::IssueRefund(_) => CommandKind::Refund,
            DemoCommand::OpenDispute(_) => CommandKind::Dispute,
            DemoCommand::ResolveDispute(_) => CommandKind::DisputeResolution,
            DemoCommand::RegisterCustomer(_) => CommandKind::CustomerRecord,
            DemoCommand::AssignCollector(_) => CommandKind::Collector,
            DemoCommand::PublishExchangeRates(_) => CommandKind::ExchangeRates,
        }
    }

    pub fn customer_id(&self) -> &str {
        match self {
            DemoCommand::ChangeCreditLimit(r) => &r.customer_id,
            DemoCommand::IssueInvoice(r) | DemoCommand::IssueInvoiceOverLimit(r) => &r.customer_id,
            DemoCommand::RecordPayment(r) => &r.customer_id,
            DemoCommand::RecordPromiseToPay(r) => &r.customer_id,
            DemoCommand::IssueCreditNote(r) => &r.customer_id,
            DemoCommand::WriteOffInvoice(r) => &r.customer_id,
            DemoCommand::ReversePayment(r) => &r.customer_id,
            DemoCommand::ApplyUnappliedCash(r) => &r.customer_id,
            DemoCommand::IssueRefund(r) => &r.customer_id,
            DemoCommand::OpenDispute(r) => &r.customer_id,
            DemoCommand::ResolveDispute(r) => &r.customer_id,
            DemoCommand::RegisterCustomer(r) => &r.customer_id,
            DemoCommand::AssignCollector(r) if !r.customer_id.is_empty() => &r.customer_id,
            DemoCommand::AssignCollector(_) | DemoCommand::PublishExchangeRates(_) => GROUP_ACCOUNT,
        }
    }

    pub fn command_id(&self) -> &str {
        match self {
            DemoCommand::ChangeCreditLimit(r) => &r.command_id,
            DemoCommand::IssueInvoice(r) | DemoCommand::IssueInvoiceOverLimit(r) => &r.command_id,
            DemoCommand::RecordPayment(r) => &r.command_id,
            DemoCommand::RecordPromiseToPay(r) => &r.command_id,
            DemoCommand::IssueCreditNote(r) => &r.command_id,
            DemoCommand::WriteOffInvoice(r) => &r.command_id,
            DemoCommand::ReversePayment(r) => &r.command_id,
            DemoCommand::ApplyUnappliedCash(r) => &r.command_id,
            DemoCommand::IssueRefund(r) => &r.command_id,
            DemoCommand::OpenDispute(r) => &r.command_id,
            DemoCommand::ResolveDispute(r) => &r.command_id,
            DemoCommand::RegisterCustomer(r) => &r.command_id,
            DemoCommand::AssignCollector(r) => &r.command_id,
            DemoCommand::PublishExchangeRates(r) => &r.command_id,
        }
    }

    /// The business date the fact takes effect (`YYYY-MM-DD`): issue, received, made-on,
    /// effective, write-off, reversal, application, refund, opening, resolution or rate date;
    /// none for a customer's record and a collector's assignment, which have no business date.
    pub fn business_date(&self) -> Option<&str> {
        Some(match self {
            DemoCommand::ChangeCreditLimit(r) => &r.effective_date,
            DemoCommand::IssueInvoice(r) | DemoCommand::IssueInvoiceOverLimit(r) => &r.issue_date,
            DemoCommand::RecordPayment(r) => &r.received_date,
            DemoCommand::RecordPromiseToPay(r) => &r.made_on,
            DemoCommand::IssueCreditNote(r) => &r.issue_date,
            DemoCommand::WriteOffInvoice(r) => &r.write_off_date,
            DemoCommand::ReversePayment(r) => &r.reversal_date,
            DemoCommand::ApplyUnappliedCash(r) => &r.application_date,
            DemoCommand::IssueRefund(r) => &r.refund_date,
            DemoCommand::OpenDispute(r) => &r.opened_on,
            DemoCommand::ResolveDispute(r) => &r.resolved_on,
            DemoCommand::PublishExchangeRates(r) => &r.rate_date,
            DemoCommand::RegisterCustomer(_) | DemoCommand::AssignCollector(_) => return None,
        })
    }

    /// Whether this is a planted invoice that the service must refuse.
    pub fn is_planted_over_limit(&self) -> bool {
        matches!(self, DemoCommand::IssueInvoiceOverLimit(_))
    }

    /// The role that posts this command in the group, and so the role of the token to send it
    /// with on a service that asks for tokens: credit control changes limits and writes off bad
    /// debts; every other command is posted by the subsidiary it names (for a dispute, the
    /// invoice's), and moves money only against that subsidiary's own documents; credit control
    /// keeps the customers' records and assigns collectors, treasury publishes the rates.
    /// `None` only for a subsidiary id that does not parse, which the data set never has.
    pub fn role(&self) -> Option<Role> {
        let subsidiary = |id: &str| SubsidiaryId::parse(id).ok().map(Role::Subsidiary);
        let invoice_subsidiary =
            |invoice: &Option<pb::InvoiceRef>| subsidiary(&invoice.as_ref()?.subsidiary_id);
        match self {
            DemoCommand::ChangeCreditLimit(_)
            | DemoCommand::WriteOffInvoice(_)
            | DemoCommand::RegisterCustomer(_)
            | DemoCommand::AssignCollector(_) => Some(Role::Credit),
            DemoCommand::PublishExchangeRates(_) => Some(Role::Treasury),
            DemoCommand::IssueInvoice(r) | DemoCommand::IssueInvoiceOverLimit(r) => {
                subsidiary(&r.subsidiary_id)
            }
            DemoCommand::RecordPayment(r) => subsidiary(&r.subsidiary_id),
            DemoCommand::RecordPromiseToPay(r) => subsidiary(&r.subsidiary_id),
            DemoCommand::IssueCreditNote(r) => subsidiary(&r.subsidiary_id),
            DemoCommand::ReversePayment(r) => subsidiary(&r.subsidiary_id),
            DemoCommand::ApplyUnappliedCash(r) => subsidiary(&r.subsidiary_id),
            DemoCommand::IssueRefund(r) => subsidiary(&r.subsidiary_id),
            DemoCommand::OpenDispute(r) => invoice_subsidiary(&r.invoice),
            DemoCommand::ResolveDispute(r) => invoice_subsidiary(&r.invoice),
        }
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
            DemoCommand::IssueCreditNote(r) => commands::credit_note::read(r),
            DemoCommand::WriteOffInvoice(r) => commands::write_off::read(r),
            DemoCommand::ReversePayment(r) => commands::reversal::read(r),
            DemoCommand::ApplyUnappliedCash(r) => commands::application::read(r),
            DemoCommand::IssueRefund(r) => commands::refund::read(r),
            DemoCommand::OpenDispute(r) => commands::dispute::read_open(r),
            DemoCommand::ResolveDispute(r) => commands::dispute::read_resolve(r),
            DemoCommand::RegisterCustomer(r) => commands::customer::read_registration(r),
            DemoCommand::AssignCollector(r) => commands::collector::read(r),
            DemoCommand::PublishExchangeRates(r) => commands::exchange_rates::read(r),
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
            DemoCommand::IssueCreditNote(r) => r.command_id = id,
            DemoCommand::WriteOffInvoice(r) => r.command_id = id,
            DemoCommand::ReversePayment(r) => r.command_id = id,
            DemoCommand::ApplyUnappliedCash(r) => r.command_id = id,
            DemoCommand::IssueRefund(r) => r.command_id = id,
            DemoCommand::OpenDispute(r) => r.command_id = id,
            DemoCommand::ResolveDispute(r) => r.command_id = id,
            DemoCommand::RegisterCustomer(r) => r.command_id = id,
            DemoCommand::AssignCollector(r) => r.command_id = id,
            DemoCommand::PublishExchangeRates(r) => r.command_id = id,
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
    pub credit_notes: usize,
    pub write_offs: usize,
    pub reversals: usize,
    pub applications: usize,
    pub refunds: usize,
    pub disputes: usize,
    pub dispute_resolutions: usize,
    pub customer_records: usize,
    pub collectors: usize,
    pub exchange_rates: usize,
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
            CommandKind::CreditNote => self.credit_notes,
            CommandKind::WriteOff => self.write_offs,
            CommandKind::Reversal => self.reversals,
            CommandKind::Application => self.applications,
            CommandKind::Refund => self.refunds,
            CommandKind::Dispute => self.disputes,
            CommandKind::DisputeResolution => self.dispute_resolutions,
            CommandKind::CustomerRecord => self.customer_records,
            CommandKind::Collector => self.collectors,
            CommandKind::ExchangeRates => self.exchange_rates,
        }
    }

    pub fn total(&self) -> usize {
        CommandKind::ALL.iter().map(|kind| self.get(*kind)).sum()
    }

    pub(crate) fn add(&mut self, kind: CommandKind, count: usize) {
        let slot = match kind {
            CommandKind::CreditLimit => &mut self.credit_limits,
            CommandKind::Invoice => &mut self.invoices,
            CommandKind::Payment => &mut self.payments,
            CommandKind::Promise => &mut self.promises,
            CommandKind::CreditNote => &mut self.credit_notes,
            CommandKind::WriteOff => &mut self.write_offs,
            CommandKind::Reversal => &mut self.reversals,
            CommandKind::Application => &mut self.applications,
            CommandKind::Refund => &mut self.refunds,
            CommandKind::Dispute => &mut self.disputes,
            CommandKind::DisputeResolution => &mut self.dispute_resolutions,
            CommandKind::CustomerRecord => &mut self.customer_records,
            CommandKind::Collector => &mut self.collectors,
            CommandKind::ExchangeRates => &mut self.exchange_rates,
        };
        *slot += count;
    }

    pub(crate) fn merge(&mut self, other: &KindCounts) {
        for kind in CommandKind::ALL {
            self.add(kind, other.get(kind));
        }
    }
}
