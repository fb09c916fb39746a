//! `post invoice|payment|credit-limit|promise|credit-note|write-off|reversal|application|refund|
//! dispute|dispute-resolution|...|credit-reservation|credit-release|collection-activity`: one command to the command
//! service, with a flag for every field of its request, and its reply printed.
//!
//! Every command carries an id: a fresh UUID v7 unless `--command-id` gives one. To retry a
//! command whose reply was lost (a timeout, a dropped connection), post it again with the same
//! id and the same flags: the service answers with the first reply and records nothing new.

use receivables_api::pb;
use uuid::Uuid;

use crate::cmd::{self, Output, receipts};
use crate::connection::{Connection, Service};
use crate::error::{CliError, StatusClass};
use crate::tables;
use crate::values::{self, AllocationSpec, ContactChannel, ContactOutcome, InvoiceSpec, Method};

/// Post a command to the command service.
#[derive(Debug, clap::Subcommand)]
pub enum PostCommand {
    /// A subsidiary issues an invoice to a customer.
    Invoice(InvoiceArgs),
    /// A subsidiary received a payment (allocated as given by --allocate, or oldest due first).
    Payment(PaymentArgs),
    /// The credit department sets a customer's group-wide limit, policy and grade.
    CreditLimit(CreditLimitArgs),
    /// A collector records a customer's promise to pay.
    Promise(PromiseArgs),
    /// A subsidiary credits a customer, against one invoice (--invoice) or on account.
    CreditNote(CreditNoteArgs),
    /// Credit control writes off part or all of an invoice as bad debt.
    WriteOff(WriteOffArgs),
    /// The receiving subsidiary reverses a payment that bounced or was returned.
    Reversal(ReversalArgs),
    /// A subsidiary applies unapplied cash or credit to open invoices (--allocate, or oldest due
    /// first).
    Application(ApplicationArgs),
    /// A subsidiary pays unapplied cash or credit back to the customer.
    Refund(RefundArgs),
    /// The invoicing subsidiary records that the customer disputes (part of) an invoice.
    Dispute(DisputeArgs),
    /// The invoicing subsidiary records how the dispute on an invoice ended.
    DisputeResolution(DisputeResolutionArgs),
    /// The group lets one subsidiary's tokens move money against another's documents (or, with
    /// --disable, stops it). Admin role.
    CollectionOnBehalf(CollectionOnBehalfArgs),
    /// The customer confirmed what it owes the group at the end of a day (credit or treasury
    /// role); the reply shows the account's balance and the difference.
    BalanceConfirmation(BalanceConfirmationArgs),
    /// Registers a customer's record: names, tax id, country, contacts (credit role).
    Customer(CustomerArgs),
    /// Replaces a registered customer's record with the one given (credit role): options left
    /// out are cleared.
    CustomerUpdate(CustomerArgs),
    /// Assigns a customer's collector, or with --default-for a subsidiary's default collector;
    /// with --remove, removes the assignment (credit role).
    Collector(CollectorArgs),
    /// Publishes the exchange rates of a date to the group's currency (treasury role).
    ExchangeRates(ExchangeRatesArgs),
    /// Defines a named payment-terms template of the group, or replaces it (credit role).
    PaymentTerms(PaymentTermsArgs),
    /// A collector reschedules what an overdue invoice owes in instalments.
    InstalmentPlan(InstalmentPlanArgs),
    /// Cancels the instalment plan holding on an invoice.
    InstalmentPlanCancellation(InstalmentPlanCancellationArgs),
    /// Takes an early-payment discount off an invoice for a payment received within its terms'
    /// window.
    Discount(DiscountArgs),
    /// A subsidiary reserves part of a customer's group-wide limit for a sales order before
    /// it ships (checked like an invoice).
    CreditReservation(CreditReservationArgs),
    /// The subsidiary releases all (without --amount) or part of the credit reserved for an
    /// order.
    CreditRelease(CreditReleaseArgs),
    /// A collector records a contact with the customer: channel, outcome, and the next
    /// action's date, until which the work queue leaves the customer out.
    CollectionActivity(CollectionActivityArgs),
    /// Sets the alert thresholds of the group, or with --subsidiary of one subsidiary's own
    /// metrics, replacing that scope's earlier ones; a threshold left out is not watched there
    /// (credit role).
    AlertThresholds(AlertThresholdsArgs),
    /// Registers one of the group's bank accounts, whose statements `import statement` reads
    /// (treasury role).
    BankAccount(receipts::BankAccountArgs),
    /// Matches a statement line waiting for review: accepts a candidate, splits the line
    /// across customers, or posts it on account (--part per customer); each part becomes the
    /// customer's payment.
    ReceiptMatch(receipts::ReceiptMatchArgs),
    /// Marks a statement line waiting for review as not a receivable (interest, a supplier's
    /// refund, a transfer between the group's accounts).
    ReceiptExclusion(receipts::ReceiptExclusionArgs),
}

/// The id of the command.
#[derive(Debug, Clone, clap::Args)]
pub struct CommandIdArg {
    /// The command's id (a UUID); default: a fresh UUID v7. Give the id printed by an earlier
    /// attempt to retry it: a command already accepted is answered with its first reply.
    #[arg(long, value_name = "UUID")]
    pub command_id: Option<Uuid>,
}

impl CommandIdArg {
    fn resolve(&self) -> String {
        self.command_id.unwrap_or_else(Uuid::now_v7).to_string()
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct InvoiceArgs {
    #[command(flatten)]
    pub id: CommandIdArg,
    /// The customer invoiced.
    #[arg(long)]
    pub customer: String,
    /// The issuing subsidiary.
    #[arg(long)]
    pub subsidiary: String,
    /// The invoice number, unique per subsidiary.
    #[arg(long)]
    pub number: String,
    /// The amount, a decimal such as 1200.00.
    #[arg(long, value_parser = values::decimal, allow_hyphen_values = true)]
    pub amount: String,
    /// ISO 4217 currency code, such as CNY.
    #[arg(long)]
    pub currency: String,
    /// The issue date, YYYY-MM-DD.
    #[arg(long, value_parser = values::date)]
    pub issue_date: String,
    #[command(flatten)]
    pub due: DueArgs,
    /// The subsidiary's sales order whose credit reservation the invoice consumes.
    #[arg(long, value_name = "ORDER_NUMBER")]
    pub order: Option<String>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct CreditReservationArgs {
    #[command(flatten)]
    pub id: CommandIdArg,
    /// The customer who ordered.
    #[arg(long)]
    pub customer: String,
    /// The subsidiary that accepted the order.
    #[arg(long)]
    pub subsidiary: String,
    /// The order number, unique per subsidiary.
    #[arg(long)]
    pub order: String,
    /// The amount reserved, a decimal such as 1200.00.
    #[arg(long, value_parser = values::decimal, allow_hyphen_values = true)]
    pub amount: String,
    /// ISO 4217 currency code, such as CNY.
    #[arg(long)]
    pub currency: String,
    /// The day the order was accepted, YYYY-MM-DD.
    #[arg(long, value_parser = values::date)]
    pub reserved_on: String,
    /// The last day the reservation counts, YYYY-MM-DD (at most 366 days later).
    #[arg(long, value_parser = values::date)]
    pub expires_on: String,
}

impl CreditReservationArgs {
    pub fn request(&self, command_id: String) -> pb::ReserveCreditRequest {
        pb::ReserveCreditRequest {
            command_id,
            customer_id: self.customer.clone(),
            subsidiary_id: self.subsidiary.clone(),
            order_number: self.order.clone(),
            amount: money(&self.amount, &self.currency),
            reserved_on: self.reserved_on.clone(),
            expires_on: self.expires_on.clone(),
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct CreditReleaseArgs {
    #[command(flatten)]
    pub id: CommandIdArg,
    /// The customer.
    #[arg(long)]
    pub customer: String,
    /// The subsidiary whose order it is.
    #[arg(long)]
    pub subsidiary: String,
    /// The order number.
    #[arg(long)]
    pub order: String,
    /// What to release, a decimal such as 200.00; default: everything it holds.
    #[arg(long, value_parser = values::decimal, requires = "currency")]
    pub amount: Option<String>,
    /// ISO 4217 currency code of --amount.
    #[arg(long)]
    pub currency: Option<String>,
    /// The day it is released, YYYY-MM-DD.
    #[arg(long, value_parser = values::date)]
    pub released_on: String,
    /// Why (order cancelled, shrunk...).
    #[arg(long)]
    pub reason: String,
}

impl CreditReleaseArgs {
    pub fn request(&self, command_id: String) -> pb::ReleaseCreditRequest {
        pb::ReleaseCreditRequest {
            command_id,
            customer_id: self.customer.clone(),
            subsidiary_id: self.subsidiary.clone(),
            order_number: self.order.clone(),
            amount: self
                .amount
                .as_ref()
                .and_then(|amount| money(amount, self.currency.as_deref().unwrap_or_default())),
            released_on: self.released_on.clone(),
            reason: self.reason.clone(),
        }
    }
}

/// When the invoice falls due: a date, terms in days after the issue date, one of the group's
/// payment-terms templates, or a schedule of instalments.
#[derive(Debug, Clone, clap::Args)]
#[group(required = true, multiple = false)]
pub struct DueArgs {
    /// The due date, YYYY-MM-DD.
    #[arg(long, value_parser = values::date)]
    pub due_date: Option<String>,
    /// Payment terms in days after the issue date.
    #[arg(long, value_name = "DAYS")]
    pub terms_days: Option<u32>,
    /// The code of one of the group's payment-terms templates, such as 30-50-20.
    #[arg(long, value_name = "CODE")]
    pub payment_terms: Option<String>,
    /// A row of an explicit schedule as DATE=AMOUNT; repeat for each row, in due order.
    #[arg(long = "instalment", value_name = "DATE=AMOUNT", value_parser = values::schedule_row)]
    pub schedule: Vec<(String, String)>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct PaymentTermsArgs {
    #[command(flatten)]
    pub id: CommandIdArg,
    /// The template's code, such as NET30 or 30-50-20.
    #[arg(long)]
    pub code: String,
    /// What the terms say, for people.
    #[arg(long, default_value = "")]
    pub description: String,
    /// A line as PORTION/RULE: 30/net0 (30 % on the issue date), 50/net60 (in 60 days),
    /// 100/eom30 (30 days after the month's end), 100/day10 (the 10th of the next month);
    /// repeat for each line, the portions adding up to 100.
    #[arg(long = "line", required = true, value_parser = values::terms_line)]
    pub lines: Vec<pb::TermsLine>,
    /// An early-payment discount as PERCENT/DAYS, such as 2/10.
    #[arg(long, value_parser = values::discount)]
    pub discount: Option<pb::EarlyPaymentDiscount>,
}

impl PaymentTermsArgs {
    pub fn request(&self, command_id: String) -> pb::DefinePaymentTermsRequest {
        pb::DefinePaymentTermsRequest {
            command_id,
            code: self.code.clone(),
            description: self.description.clone(),
            lines: self.lines.clone(),
            discount: self.discount.clone(),
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct InstalmentPlanArgs {
    #[command(flatten)]
    pub id: CommandIdArg,
    /// The customer.
    #[arg(long)]
    pub customer: String,
    /// The overdue invoice, SUBSIDIARY:NUMBER.
    #[arg(long, value_name = "SUBSIDIARY:NUMBER")]
    pub invoice: InvoiceSpec,
    /// ISO 4217 currency code of the instalments (the invoice's), such as CNY.
    #[arg(long)]
    pub currency: String,
    /// The day the plan was agreed, YYYY-MM-DD.
    #[arg(long, value_parser = values::date)]
    pub agreed_on: String,
    /// An instalment as DATE=AMOUNT; repeat for each, in due order, adding up to what the
    /// invoice owes on the agreement date.
    #[arg(long = "instalment", required = true, value_name = "DATE=AMOUNT", value_parser = values::schedule_row)]
    pub rows: Vec<(String, String)>,
    /// The collector who agreed it.
    #[arg(long)]
    pub collector: String,
    /// A note.
    #[arg(long, default_value = "")]
    pub note: String,
}

impl InstalmentPlanArgs {
    pub fn request(&self, command_id: String) -> pb::AgreeInstalmentPlanRequest {
        pb::AgreeInstalmentPlanRequest {
            command_id,
            customer_id: self.customer.clone(),
            invoice: Some(self.invoice.to_ref("")),
            agreed_on: self.agreed_on.clone(),
            rows: values::schedule(&self.rows, &self.currency),
            collector: self.collector.clone(),
            note: self.note.clone(),
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct InstalmentPlanCancellationArgs {
    #[command(flatten)]
    pub id: CommandIdArg,
    /// The customer.
    #[arg(long)]
    pub customer: String,
    /// The invoice, SUBSIDIARY:NUMBER.
    #[arg(long, value_name = "SUBSIDIARY:NUMBER")]
    pub invoice: InvoiceSpec,
    /// From this day the invoice is due by its own schedule again, YYYY-MM-DD.
    #[arg(long, value_parser = values::date)]
    pub cancelled_on: String,
    /// Why.
    #[arg(long)]
    pub reason: String,
}

impl InstalmentPlanCancellationArgs {
    pub fn request(&self, command_id: String) -> pb::CancelInstalmentPlanRequest {
        pb::CancelInstalmentPlanRequest {
            command_id,
            customer_id: self.customer.clone(),
            invoice: Some(self.invoice.to_ref("")),
            cancelled_on: self.cancelled_on.clone(),
            reason: self.reason.clone(),
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct DiscountArgs {
    #[command(flatten)]
    pub id: CommandIdArg,
    /// The customer.
    #[arg(long)]
    pub customer: String,
    /// The invoice, SUBSIDIARY:NUMBER.
    #[arg(long, value_name = "SUBSIDIARY:NUMBER")]
    pub invoice: InvoiceSpec,
    /// The command id of the payment that earned the discount.
    #[arg(long, value_name = "UUID")]
    pub payment: Uuid,
    /// The discount, a decimal such as 20.00.
    #[arg(long, value_parser = values::decimal, allow_hyphen_values = true)]
    pub amount: String,
    /// ISO 4217 currency code, such as CNY.
    #[arg(long)]
    pub currency: String,
    /// A note.
    #[arg(long, default_value = "")]
    pub note: String,
}

impl DiscountArgs {
    pub fn request(&self, command_id: String) -> pb::AllowDiscountRequest {
        pb::AllowDiscountRequest {
            command_id,
            customer_id: self.customer.clone(),
            invoice: Some(self.invoice.to_ref("")),
            payment_id: self.payment.to_string(),
            amount: money(&self.amount, &self.currency),
            note: self.note.clone(),
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct PaymentArgs {
    #[command(flatten)]
    pub id: CommandIdArg,
    /// The paying customer.
    #[arg(long)]
    pub customer: String,
    /// The receiving subsidiary.
    #[arg(long)]
    pub subsidiary: String,
    /// The amount received, a decimal such as 1200.00.
    #[arg(long, value_parser = values::decimal, allow_hyphen_values = true)]
    pub amount: String,
    /// ISO 4217 currency code, such as CNY.
    #[arg(long)]
    pub currency: String,
    /// The date received, YYYY-MM-DD.
    #[arg(long, value_parser = values::date)]
    pub received_date: String,
    /// How it was paid.
    #[arg(long, value_enum, ignore_case = true)]
    pub method: Method,
    /// Bank reference, Alipay trade number, cheque number...
    #[arg(long, default_value = "")]
    pub reference: String,
    /// Allocate to an open invoice: [SUBSIDIARY:]NUMBER:AMOUNT (the subsidiary defaults to the
    /// receiving one); repeat for several. Without any, the receiving subsidiary's open
    /// invoices are paid oldest due first and the rest stays unapplied cash.
    #[arg(long = "allocate", value_name = "[SUBSIDIARY:]NUMBER:AMOUNT")]
    pub allocations: Vec<AllocationSpec>,
    /// Allocate nothing, even when invoices are open: the whole payment stays unapplied cash
    /// until it is applied (`post application`).
    #[arg(long, conflicts_with = "allocations")]
    pub on_account: bool,
}

#[derive(Debug, Clone, clap::Args)]
pub struct CreditNoteArgs {
    #[command(flatten)]
    pub id: CommandIdArg,
    /// The customer credited.
    #[arg(long)]
    pub customer: String,
    /// The issuing subsidiary.
    #[arg(long)]
    pub subsidiary: String,
    /// The credit-note number, unique per subsidiary.
    #[arg(long)]
    pub number: String,
    /// The amount, a decimal such as 1200.00.
    #[arg(long, value_parser = values::decimal, allow_hyphen_values = true)]
    pub amount: String,
    /// ISO 4217 currency code, such as CNY.
    #[arg(long)]
    pub currency: String,
    /// The issue date, YYYY-MM-DD.
    #[arg(long, value_parser = values::date)]
    pub issue_date: String,
    /// Why the customer is credited.
    #[arg(long)]
    pub reason: String,
    /// The invoice credited, [SUBSIDIARY:]NUMBER; without it the note goes on account as
    /// unapplied credit.
    #[arg(long, value_name = "[SUBSIDIARY:]NUMBER")]
    pub invoice: Option<InvoiceSpec>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct WriteOffArgs {
    #[command(flatten)]
    pub id: CommandIdArg,
    /// The customer who owes the invoice.
    #[arg(long)]
    pub customer: String,
    /// The invoice written off, SUBSIDIARY:NUMBER.
    #[arg(long, value_name = "SUBSIDIARY:NUMBER")]
    pub invoice: InvoiceSpec,
    /// The amount written off, a decimal such as 1200.00.
    #[arg(long, value_parser = values::decimal, allow_hyphen_values = true)]
    pub amount: String,
    /// ISO 4217 currency code, such as CNY.
    #[arg(long)]
    pub currency: String,
    /// The write-off date, YYYY-MM-DD.
    #[arg(long, value_parser = values::date)]
    pub write_off_date: String,
    /// Why the debt is bad.
    #[arg(long)]
    pub reason: String,
    /// Who approved the write-off.
    #[arg(long)]
    pub approved_by: String,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ReversalArgs {
    #[command(flatten)]
    pub id: CommandIdArg,
    /// The customer who paid.
    #[arg(long)]
    pub customer: String,
    /// The subsidiary that received the payment.
    #[arg(long)]
    pub subsidiary: String,
    /// The command id of the payment (as printed when it was posted).
    #[arg(long, value_name = "UUID")]
    pub payment: Uuid,
    /// The reversal date, YYYY-MM-DD.
    #[arg(long, value_parser = values::date)]
    pub reversal_date: String,
    /// Why the payment was reversed.
    #[arg(long, value_enum, ignore_case = true)]
    pub reason: values::ReversalReason,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ApplicationArgs {
    #[command(flatten)]
    pub id: CommandIdArg,
    /// The customer whose unapplied money is applied.
    #[arg(long)]
    pub customer: String,
    /// The applying subsidiary.
    #[arg(long)]
    pub subsidiary: String,
    /// Unapplied cash or unapplied credit.
    #[arg(long, value_enum, ignore_case = true)]
    pub source: values::Source,
    /// How much to apply: the allocations' total, or at most this much oldest due first.
    #[arg(long, value_parser = values::decimal, allow_hyphen_values = true)]
    pub amount: String,
    /// ISO 4217 currency code, such as CNY.
    #[arg(long)]
    pub currency: String,
    /// The application date, YYYY-MM-DD.
    #[arg(long, value_parser = values::date)]
    pub application_date: String,
    /// Apply to an open invoice: [SUBSIDIARY:]NUMBER:AMOUNT; repeat for several; none means
    /// oldest due first among the subsidiary's open invoices.
    #[arg(long = "allocate", value_name = "[SUBSIDIARY:]NUMBER:AMOUNT")]
    pub allocations: Vec<AllocationSpec>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct DisputeArgs {
    #[command(flatten)]
    pub id: CommandIdArg,
    /// The customer who disputes.
    #[arg(long)]
    pub customer: String,
    /// The disputed invoice, SUBSIDIARY:NUMBER.
    #[arg(long, value_name = "SUBSIDIARY:NUMBER")]
    pub invoice: InvoiceSpec,
    /// The amount disputed, a decimal such as 1200.00.
    #[arg(long, value_parser = values::decimal, allow_hyphen_values = true)]
    pub amount: String,
    /// ISO 4217 currency code, such as CNY.
    #[arg(long)]
    pub currency: String,
    /// What the customer contests.
    #[arg(long, value_enum, ignore_case = true)]
    pub reason: values::DisputeReason,
    /// The day the dispute was opened, YYYY-MM-DD.
    #[arg(long, value_parser = values::date)]
    pub opened_on: String,
    /// The last day it holds unless resolved first, YYYY-MM-DD; default: until resolved.
    #[arg(long, value_parser = values::date)]
    pub expires_on: Option<String>,
    /// A note.
    #[arg(long, default_value = "")]
    pub note: String,
}

#[derive(Debug, Clone, clap::Args)]
pub struct DisputeResolutionArgs {
    #[command(flatten)]
    pub id: CommandIdArg,
    /// The customer who disputed.
    #[arg(long)]
    pub customer: String,
    /// The invoice whose dispute ended, SUBSIDIARY:NUMBER.
    #[arg(long, value_name = "SUBSIDIARY:NUMBER")]
    pub invoice: InvoiceSpec,
    /// The day it ended, YYYY-MM-DD.
    #[arg(long, value_parser = values::date)]
    pub resolved_on: String,
    /// withdrawn: collectible again; upheld: the customer was credited (--credit-note).
    #[arg(long, value_enum, ignore_case = true)]
    pub outcome: values::DisputeOutcome,
    /// The credit note that upheld it.
    #[arg(long, value_name = "NUMBER")]
    pub credit_note: Option<String>,
    /// A note.
    #[arg(long, default_value = "")]
    pub note: String,
}

#[derive(Debug, Clone, clap::Args)]
pub struct RefundArgs {
    #[command(flatten)]
    pub id: CommandIdArg,
    /// The customer refunded.
    #[arg(long)]
    pub customer: String,
    /// The refunding subsidiary.
    #[arg(long)]
    pub subsidiary: String,
    /// Unapplied cash or unapplied credit.
    #[arg(long, value_enum, ignore_case = true)]
    pub source: values::Source,
    /// The amount refunded, a decimal such as 1200.00.
    #[arg(long, value_parser = values::decimal, allow_hyphen_values = true)]
    pub amount: String,
    /// ISO 4217 currency code, such as CNY.
    #[arg(long)]
    pub currency: String,
    /// The refund date, YYYY-MM-DD.
    #[arg(long, value_parser = values::date)]
    pub refund_date: String,
    /// How it was paid back.
    #[arg(long, value_enum, ignore_case = true)]
    pub method: Method,
    /// Bank reference of the refund.
    #[arg(long, default_value = "")]
    pub reference: String,
}

#[derive(Debug, Clone, clap::Args)]
pub struct CreditLimitArgs {
    #[command(flatten)]
    pub id: CommandIdArg,
    /// The customer whose group-wide limit changes.
    #[arg(long)]
    pub customer: String,
    /// The new limit (0 means no credit at all).
    #[arg(long, value_parser = values::decimal)]
    pub limit: String,
    /// ISO 4217 currency code of the limit.
    #[arg(long)]
    pub currency: String,
    /// block refuses an invoice that would go over the limit; warn accepts and flags it.
    #[arg(long, value_enum, ignore_case = true)]
    pub policy: Policy,
    /// The customer's credit grade.
    #[arg(long, value_enum, ignore_case = true)]
    pub grade: Grade,
    /// Why the limit changes.
    #[arg(long)]
    pub reason: String,
    /// Who approved the change.
    #[arg(long)]
    pub approved_by: String,
    /// The date the limit takes effect, YYYY-MM-DD; default: the day it is recorded.
    #[arg(long, value_parser = values::date)]
    pub effective_date: Option<String>,
    /// An overdue hold: refuse new invoices and reservations while the customer owes anything
    /// more than this many days overdue.
    #[arg(long, value_name = "DAYS")]
    pub overdue_hold_days: Option<u32>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct BalanceConfirmationArgs {
    #[command(flatten)]
    pub id: CommandIdArg,
    /// The customer who confirmed.
    #[arg(long)]
    pub customer: String,
    /// The day whose closing balance was confirmed, YYYY-MM-DD.
    #[arg(long, value_parser = values::date)]
    pub as_of: String,
    /// What the customer says it owes (negative: what the group owes it).
    #[arg(long, allow_hyphen_values = true)]
    pub amount: String,
    /// ISO 4217 currency code.
    #[arg(long)]
    pub currency: String,
    /// Who confirmed it at the customer.
    #[arg(long)]
    pub confirmed_by: String,
    #[arg(long, default_value = "")]
    pub note: String,
}

impl BalanceConfirmationArgs {
    pub fn request(&self, command_id: String) -> pb::ConfirmBalanceRequest {
        pb::ConfirmBalanceRequest {
            command_id,
            customer_id: self.customer.clone(),
            as_of: self.as_of.clone(),
            confirmed: money(&self.amount, &self.currency),
            confirmed_by: self.confirmed_by.clone(),
            note: self.note.clone(),
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct CustomerArgs {
    #[command(flatten)]
    pub id: CommandIdArg,
    /// The customer's id.
    #[arg(long)]
    pub customer: String,
    /// The name people use.
    #[arg(long)]
    pub name: String,
    /// The registered legal name.
    #[arg(long, default_value = "")]
    pub legal_name: String,
    /// Tax or company registration id.
    #[arg(long, default_value = "")]
    pub tax_id: String,
    /// ISO 3166-1 alpha-2 country code, such as CN.
    #[arg(long, default_value = "")]
    pub country: String,
    #[arg(long, default_value = "")]
    pub industry: String,
    #[arg(long, default_value = "")]
    pub notes: String,
    /// A contact as "name;email;phone;role" (leave a part empty when unknown); repeat for more.
    #[arg(long = "contact", value_parser = values::contact)]
    pub contacts: Vec<pb::Contact>,
}

impl CustomerArgs {
    fn profile(&self) -> pb::CustomerProfile {
        pb::CustomerProfile {
            name: self.name.clone(),
            legal_name: self.legal_name.clone(),
            tax_id: self.tax_id.clone(),
            country: self.country.clone(),
            contacts: self.contacts.clone(),
            industry: self.industry.clone(),
            notes: self.notes.clone(),
        }
    }

    pub fn registration(&self, command_id: String) -> pb::RegisterCustomerRequest {
        pb::RegisterCustomerRequest {
            command_id,
            customer_id: self.customer.clone(),
            profile: Some(self.profile()),
        }
    }

    pub fn update(&self, command_id: String) -> pb::UpdateCustomerRequest {
        pb::UpdateCustomerRequest {
            command_id,
            customer_id: self.customer.clone(),
            profile: Some(self.profile()),
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
#[command(group = clap::ArgGroup::new("whose").required(true).args(["customer", "default_for"]))]
#[command(group = clap::ArgGroup::new("who").required(true).args(["collector", "remove"]))]
pub struct CollectorArgs {
    #[command(flatten)]
    pub id: CommandIdArg,
    /// The customer whose collector this is.
    #[arg(long)]
    pub customer: Option<String>,
    /// The subsidiary whose default collector this is, for its customers without their own.
    #[arg(long, value_name = "SUBSIDIARY")]
    pub default_for: Option<String>,
    /// The collector's name.
    #[arg(long)]
    pub collector: Option<String>,
    /// Remove the assignment instead.
    #[arg(long)]
    pub remove: bool,
}

impl CollectorArgs {
    pub fn request(&self, command_id: String) -> pb::AssignCollectorRequest {
        pb::AssignCollectorRequest {
            command_id,
            customer_id: self.customer.clone().unwrap_or_default(),
            default_for_subsidiary_id: self.default_for.clone().unwrap_or_default(),
            collector: self.collector.clone().unwrap_or_default(),
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct ExchangeRatesArgs {
    #[command(flatten)]
    pub id: CommandIdArg,
    /// The group's currency (ISO 4217), such as CNY.
    #[arg(long)]
    pub base: String,
    /// The day the rates apply from, YYYY-MM-DD.
    #[arg(long, value_parser = values::date)]
    pub date: String,
    /// A rate as CURRENCY=RATE (units of the base per unit of the currency), such as
    /// USD=7.1234; repeat for more.
    #[arg(long = "rate", required = true, value_parser = values::rate)]
    pub rates: Vec<pb::ExchangeRateEntry>,
    /// Where the rates come from.
    #[arg(long, default_value = "")]
    pub source: String,
}

impl ExchangeRatesArgs {
    pub fn request(&self, command_id: String) -> pb::PublishExchangeRatesRequest {
        pb::PublishExchangeRatesRequest {
            command_id,
            base: self.base.clone(),
            rate_date: self.date.clone(),
            rates: self.rates.clone(),
            source: self.source.clone(),
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct CollectionOnBehalfArgs {
    #[command(flatten)]
    pub id: CommandIdArg,
    /// The subsidiary whose tokens may then allocate, apply, credit and reverse against the
    /// other's documents.
    #[arg(long)]
    pub collector: String,
    /// The subsidiary whose documents it may move money against.
    #[arg(long)]
    pub on_behalf_of: String,
    /// Stop the collection on behalf instead of enabling it.
    #[arg(long)]
    pub disable: bool,
    /// Why, kept for the auditors.
    #[arg(long)]
    pub reason: String,
    /// Who approved it.
    #[arg(long)]
    pub approved_by: String,
}

#[derive(Debug, Clone, clap::Args)]
pub struct AlertThresholdsArgs {
    #[command(flatten)]
    pub id: CommandIdArg,
    /// The subsidiary whose own overdue rate and DSO these watch; the group's when left out.
    #[arg(long)]
    pub subsidiary: Option<String>,
    /// Overdue open amount / total open amount above this percentage (such as 30).
    #[arg(long, value_parser = values::decimal)]
    pub overdue_rate_percent: Option<String>,
    /// Simple DSO over the last 90 days above this many days.
    #[arg(long)]
    pub dso_days: Option<u32>,
    /// A customer's exposure above this percentage of its limit (100: the limit breached).
    #[arg(long, value_parser = values::decimal)]
    pub utilisation_percent: Option<String>,
    /// A customer's oldest collectible debt more days past due than this.
    #[arg(long)]
    pub days_past_due: Option<u32>,
    /// Unapplied cash above this amount (with --unapplied-currency and --unapplied-days).
    #[arg(long, value_parser = values::decimal, requires_all = ["unapplied_currency", "unapplied_days"])]
    pub unapplied_amount: Option<String>,
    /// The currency of --unapplied-amount; other currencies are converted at the day's rates.
    #[arg(long, requires = "unapplied_amount")]
    pub unapplied_currency: Option<String>,
    /// ... for more than this many days.
    #[arg(long, requires = "unapplied_amount")]
    pub unapplied_days: Option<u32>,
    /// Warn of a dispute this many days before its expiry date.
    #[arg(long)]
    pub dispute_expiry_days: Option<u32>,
    /// Why, kept for the auditors.
    #[arg(long)]
    pub reason: String,
    /// Who approved it.
    #[arg(long)]
    pub approved_by: String,
}

impl AlertThresholdsArgs {
    pub fn request(&self, command_id: String) -> pb::SetAlertThresholdsRequest {
        pb::SetAlertThresholdsRequest {
            command_id,
            subsidiary_id: self.subsidiary.clone().unwrap_or_default(),
            thresholds: Some(pb::AlertThresholds {
                overdue_rate_percent: self.overdue_rate_percent.clone().unwrap_or_default(),
                dso_days: self.dso_days,
                utilisation_percent: self.utilisation_percent.clone().unwrap_or_default(),
                days_past_due: self.days_past_due,
                unapplied_cash: self.unapplied_amount.as_ref().map(|amount| pb::Money {
                    amount: amount.clone(),
                    currency: self.unapplied_currency.clone().unwrap_or_default(),
                }),
                unapplied_cash_days: self.unapplied_days,
                dispute_expiry_days: self.dispute_expiry_days,
            }),
            reason: self.reason.clone(),
            approved_by: self.approved_by.clone(),
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct PromiseArgs {
    #[command(flatten)]
    pub id: CommandIdArg,
    /// The customer who promised.
    #[arg(long)]
    pub customer: String,
    /// The subsidiary whose collector recorded the promise.
    #[arg(long)]
    pub subsidiary: String,
    /// The amount promised, a decimal such as 1200.00.
    #[arg(long, value_parser = values::decimal, allow_hyphen_values = true)]
    pub amount: String,
    /// ISO 4217 currency code, such as CNY.
    #[arg(long)]
    pub currency: String,
    /// The date the promise was made, YYYY-MM-DD.
    #[arg(long, value_parser = values::date)]
    pub made_on: String,
    /// The date by which the customer promised to pay, YYYY-MM-DD.
    #[arg(long, value_parser = values::date)]
    pub promised_date: String,
    /// An invoice the promise covers, [SUBSIDIARY:]NUMBER; repeat for several; none means the
    /// account as a whole.
    #[arg(long = "invoice", value_name = "[SUBSIDIARY:]NUMBER")]
    pub invoices: Vec<InvoiceSpec>,
    /// The collector who recorded it.
    #[arg(long)]
    pub collector: String,
    /// A note.
    #[arg(long, default_value = "")]
    pub note: String,
}

#[derive(Debug, Clone, clap::Args)]
pub struct CollectionActivityArgs {
    #[command(flatten)]
    pub id: CommandIdArg,
    /// The customer contacted.
    #[arg(long)]
    pub customer: String,
    /// The subsidiary the collector chased for.
    #[arg(long)]
    pub subsidiary: String,
    /// How the collector reached out.
    #[arg(long, value_enum)]
    pub channel: ContactChannel,
    /// What the contact came to.
    #[arg(long, value_enum)]
    pub outcome: ContactOutcome,
    /// The date of the contact, YYYY-MM-DD.
    #[arg(long, value_parser = values::date)]
    pub occurred_on: String,
    /// The collector who made it.
    #[arg(long)]
    pub collector: String,
    /// Whom the collector contacted (a name, a number, an address).
    #[arg(long, default_value = "")]
    pub contact: String,
    /// A note.
    #[arg(long, default_value = "")]
    pub note: String,
    /// When the collector acts next, YYYY-MM-DD: the work queue leaves the customer out until
    /// then.
    #[arg(long, value_parser = values::date)]
    pub next_action_on: Option<String>,
    /// An invoice the contact was about, [SUBSIDIARY:]NUMBER; repeat for several; none means
    /// the account as a whole.
    #[arg(long = "invoice", value_name = "[SUBSIDIARY:]NUMBER")]
    pub invoices: Vec<InvoiceSpec>,
}

impl CollectionActivityArgs {
    pub fn request(&self, command_id: String) -> pb::RecordCollectionActivityRequest {
        pb::RecordCollectionActivityRequest {
            command_id,
            customer_id: self.customer.clone(),
            subsidiary_id: self.subsidiary.clone(),
            channel: self.channel.to_pb().into(),
            outcome: self.outcome.to_pb().into(),
            occurred_on: self.occurred_on.clone(),
            collector: self.collector.clone(),
            contact: self.contact.clone(),
            note: self.note.clone(),
            next_action_on: self.next_action_on.clone().unwrap_or_default(),
            invoices: self
                .invoices
                .iter()
                .map(|i| i.to_ref(&self.subsidiary))
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Policy {
    Block,
    Warn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Grade {
    A,
    B,
    C,
    D,
}

fn money(amount: &str, currency: &str) -> Option<pb::Money> {
    Some(pb::Money {
        amount: amount.to_owned(),
        currency: currency.to_owned(),
    })
}

impl InvoiceArgs {
    pub fn request(&self, command_id: String) -> pb::IssueInvoiceRequest {
        use pb::issue_invoice_request::Due;
        let due = match (
            &self.due.due_date,
            self.due.terms_days,
            &self.due.payment_terms,
        ) {
            (Some(date), _, _) => Some(Due::DueDate(date.clone())),
            (None, Some(days), _) => Some(Due::TermsDays(days)),
            (None, None, Some(code)) => Some(Due::PaymentTerms(code.clone())),
            (None, None, None) => None,
        };
        pb::IssueInvoiceRequest {
            command_id,
            customer_id: self.customer.clone(),
            subsidiary_id: self.subsidiary.clone(),
            invoice_number: self.number.clone(),
            amount: money(&self.amount, &self.currency),
            issue_date: self.issue_date.clone(),
            due,
            schedule: values::schedule(&self.due.schedule, &self.currency),
            order_number: self.order.clone().unwrap_or_default(),
        }
    }
}

impl PaymentArgs {
    pub fn request(&self, command_id: String) -> pb::RecordPaymentRequest {
        pb::RecordPaymentRequest {
            command_id,
            customer_id: self.customer.clone(),
            subsidiary_id: self.subsidiary.clone(),
            amount: money(&self.amount, &self.currency),
            received_date: self.received_date.clone(),
            method: self.method.to_pb().into(),
            reference: self.reference.clone(),
            allocations: self
                .allocations
                .iter()
                .map(|a| a.to_allocation(&self.subsidiary, &self.currency))
                .collect(),
            allocation_rule: if self.on_account {
                pb::AllocationRule::OnAccount
            } else {
                pb::AllocationRule::Unspecified
            }
            .into(),
        }
    }
}

impl CreditNoteArgs {
    pub fn request(&self, command_id: String) -> pb::IssueCreditNoteRequest {
        pb::IssueCreditNoteRequest {
            command_id,
            customer_id: self.customer.clone(),
            subsidiary_id: self.subsidiary.clone(),
            credit_note_number: self.number.clone(),
            amount: money(&self.amount, &self.currency),
            issue_date: self.issue_date.clone(),
            reason: self.reason.clone(),
            invoice: self.invoice.as_ref().map(|i| i.to_ref(&self.subsidiary)),
        }
    }
}

impl WriteOffArgs {
    pub fn request(&self, command_id: String) -> pb::WriteOffInvoiceRequest {
        pb::WriteOffInvoiceRequest {
            command_id,
            customer_id: self.customer.clone(),
            // A write-off names its invoice in full: there is no posting subsidiary to default to.
            invoice: Some(self.invoice.to_ref("")),
            amount: money(&self.amount, &self.currency),
            write_off_date: self.write_off_date.clone(),
            reason: self.reason.clone(),
            approved_by: self.approved_by.clone(),
        }
    }
}

impl ReversalArgs {
    pub fn request(&self, command_id: String) -> pb::ReversePaymentRequest {
        pb::ReversePaymentRequest {
            command_id,
            customer_id: self.customer.clone(),
            subsidiary_id: self.subsidiary.clone(),
            payment_command_id: self.payment.to_string(),
            reversal_date: self.reversal_date.clone(),
            reason: self.reason.to_pb().into(),
        }
    }
}

impl ApplicationArgs {
    pub fn request(&self, command_id: String) -> pb::ApplyUnappliedCashRequest {
        pb::ApplyUnappliedCashRequest {
            command_id,
            customer_id: self.customer.clone(),
            subsidiary_id: self.subsidiary.clone(),
            source: self.source.to_pb().into(),
            amount: money(&self.amount, &self.currency),
            application_date: self.application_date.clone(),
            allocations: self
                .allocations
                .iter()
                .map(|a| a.to_allocation(&self.subsidiary, &self.currency))
                .collect(),
        }
    }
}

impl RefundArgs {
    pub fn request(&self, command_id: String) -> pb::IssueRefundRequest {
        pb::IssueRefundRequest {
            command_id,
            customer_id: self.customer.clone(),
            subsidiary_id: self.subsidiary.clone(),
            source: self.source.to_pb().into(),
            amount: money(&self.amount, &self.currency),
            refund_date: self.refund_date.clone(),
            method: self.method.to_pb().into(),
            reference: self.reference.clone(),
        }
    }
}

impl DisputeArgs {
    pub fn request(&self, command_id: String) -> pb::OpenDisputeRequest {
        pb::OpenDisputeRequest {
            command_id,
            customer_id: self.customer.clone(),
            invoice: Some(self.invoice.to_ref("")),
            amount: money(&self.amount, &self.currency),
            reason: self.reason.to_pb().into(),
            note: self.note.clone(),
            opened_on: self.opened_on.clone(),
            expires_on: self.expires_on.clone().unwrap_or_default(),
        }
    }
}

impl DisputeResolutionArgs {
    pub fn request(&self, command_id: String) -> pb::ResolveDisputeRequest {
        pb::ResolveDisputeRequest {
            command_id,
            customer_id: self.customer.clone(),
            invoice: Some(self.invoice.to_ref("")),
            resolved_on: self.resolved_on.clone(),
            outcome: self.outcome.to_pb().into(),
            credit_note_number: self.credit_note.clone().unwrap_or_default(),
            note: self.note.clone(),
        }
    }
}

impl CreditLimitArgs {
    pub fn request(&self, command_id: String) -> pb::ChangeCreditLimitRequest {
        pb::ChangeCreditLimitRequest {
            command_id,
            customer_id: self.customer.clone(),
            limit: money(&self.limit, &self.currency),
            policy: match self.policy {
                Policy::Block => pb::CreditPolicy::Block,
                Policy::Warn => pb::CreditPolicy::Warn,
            }
            .into(),
            grade: match self.grade {
                Grade::A => pb::CreditGrade::A,
                Grade::B => pb::CreditGrade::B,
                Grade::C => pb::CreditGrade::C,
                Grade::D => pb::CreditGrade::D,
            }
            .into(),
            reason: self.reason.clone(),
            approved_by: self.approved_by.clone(),
            effective_date: self.effective_date.clone().unwrap_or_default(),
            overdue_hold_days: self.overdue_hold_days,
        }
    }
}

impl CollectionOnBehalfArgs {
    pub fn request(&self, command_id: String) -> pb::SetCollectionOnBehalfRequest {
        pb::SetCollectionOnBehalfRequest {
            command_id,
            collector_id: self.collector.clone(),
            on_behalf_of_id: self.on_behalf_of.clone(),
            enabled: !self.disable,
            reason: self.reason.clone(),
            approved_by: self.approved_by.clone(),
        }
    }
}

impl PromiseArgs {
    pub fn request(&self, command_id: String) -> pb::RecordPromiseToPayRequest {
        pb::RecordPromiseToPayRequest {
            command_id,
            customer_id: self.customer.clone(),
            subsidiary_id: self.subsidiary.clone(),
            amount: money(&self.amount, &self.currency),
            made_on: self.made_on.clone(),
            promised_date: self.promised_date.clone(),
            invoices: self
                .invoices
                .iter()
                .map(|i| i.to_ref(&self.subsidiary))
                .collect(),
            collector: self.collector.clone(),
            note: self.note.clone(),
        }
    }
}

/// Posts the command and prints its reply.
pub async fn run(
    connection: &Connection,
    command: PostCommand,
    out: &mut Output<'_>,
) -> Result<(), CliError> {
    // The bank account's commands go to the receipt service.
    let command = match command {
        PostCommand::BankAccount(args) => {
            return cmd::emit(out, &receipts::register(connection, &args).await?);
        }
        PostCommand::ReceiptMatch(args) => {
            return cmd::emit(out, &receipts::resolve_match(connection, &args).await?);
        }
        PostCommand::ReceiptExclusion(args) => {
            return cmd::emit(out, &receipts::resolve_exclusion(connection, &args).await?);
        }
        command => command,
    };
    let commands = connection.commands().await?;
    let mut client = commands.client.clone();
    let format = connection.format;
    let text = match command {
        PostCommand::Invoice(args) => {
            let id = args.id.resolve();
            let call = client.issue_invoice(commands.request(args.request(id.clone())));
            tables::invoice_reply(&id, &sent(&commands, &id, call).await?, format)?
        }
        PostCommand::Payment(args) => {
            let id = args.id.resolve();
            let call = client.record_payment(commands.request(args.request(id.clone())));
            tables::payment_reply(&id, &sent(&commands, &id, call).await?, format)?
        }
        PostCommand::CreditLimit(args) => {
            let id = args.id.resolve();
            let call = client.change_credit_limit(commands.request(args.request(id.clone())));
            tables::credit_limit_reply(&id, &sent(&commands, &id, call).await?, format)?
        }
        PostCommand::Promise(args) => {
            let id = args.id.resolve();
            let call = client.record_promise_to_pay(commands.request(args.request(id.clone())));
            tables::promise_reply(&id, &sent(&commands, &id, call).await?, format)?
        }
        PostCommand::CreditNote(args) => {
            let id = args.id.resolve();
            let call = client.issue_credit_note(commands.request(args.request(id.clone())));
            tables::credit_note_reply(&id, &sent(&commands, &id, call).await?, format)?
        }
        PostCommand::WriteOff(args) => {
            let id = args.id.resolve();
            let call = client.write_off_invoice(commands.request(args.request(id.clone())));
            tables::write_off_reply(&id, &sent(&commands, &id, call).await?, format)?
        }
        PostCommand::Reversal(args) => {
            let id = args.id.resolve();
            let call = client.reverse_payment(commands.request(args.request(id.clone())));
            tables::reversal_reply(&id, &sent(&commands, &id, call).await?, format)?
        }
        PostCommand::Application(args) => {
            let id = args.id.resolve();
            let call = client.apply_unapplied_cash(commands.request(args.request(id.clone())));
            tables::application_reply(&id, &sent(&commands, &id, call).await?, format)?
        }
        PostCommand::Refund(args) => {
            let id = args.id.resolve();
            let call = client.issue_refund(commands.request(args.request(id.clone())));
            tables::refund_reply(&id, &sent(&commands, &id, call).await?, format)?
        }
        PostCommand::Dispute(args) => {
            let id = args.id.resolve();
            let call = client.open_dispute(commands.request(args.request(id.clone())));
            let reply = sent(&commands, &id, call).await?;
            tables::dispute_reply(&id, reply.receipt.as_ref(), &reply.dispute_id, format)?
        }
        PostCommand::DisputeResolution(args) => {
            let id = args.id.resolve();
            let call = client.resolve_dispute(commands.request(args.request(id.clone())));
            let reply = sent(&commands, &id, call).await?;
            tables::dispute_reply(&id, reply.receipt.as_ref(), &reply.dispute_id, format)?
        }
        PostCommand::CollectionOnBehalf(args) => {
            let id = args.id.resolve();
            let call = client.set_collection_on_behalf(commands.request(args.request(id.clone())));
            let reply = sent(&commands, &id, call).await?;
            tables::receipt_reply(&id, reply.receipt.as_ref(), format)?
        }
        PostCommand::AlertThresholds(args) => {
            let id = args.id.resolve();
            let call = client.set_alert_thresholds(commands.request(args.request(id.clone())));
            let reply = sent(&commands, &id, call).await?;
            tables::receipt_reply(&id, reply.receipt.as_ref(), format)?
        }
        PostCommand::BalanceConfirmation(args) => {
            let id = args.id.resolve();
            let call = client.confirm_balance(commands.request(args.request(id.clone())));
            tables::balance_confirmation_reply(&id, &sent(&commands, &id, call).await?, format)?
        }
        PostCommand::Customer(args) => {
            let id = args.id.resolve();
            let call = client.register_customer(commands.request(args.registration(id.clone())));
            let reply = sent(&commands, &id, call).await?;
            tables::receipt_reply(&id, reply.receipt.as_ref(), format)?
        }
        PostCommand::CustomerUpdate(args) => {
            let id = args.id.resolve();
            let call = client.update_customer(commands.request(args.update(id.clone())));
            let reply = sent(&commands, &id, call).await?;
            tables::receipt_reply(&id, reply.receipt.as_ref(), format)?
        }
        PostCommand::ExchangeRates(args) => {
            let id = args.id.resolve();
            let call = client.publish_exchange_rates(commands.request(args.request(id.clone())));
            let reply = sent(&commands, &id, call).await?;
            tables::receipt_reply(&id, reply.receipt.as_ref(), format)?
        }
        PostCommand::PaymentTerms(args) => {
            let id = args.id.resolve();
            let call = client.define_payment_terms(commands.request(args.request(id.clone())));
            let reply = sent(&commands, &id, call).await?;
            tables::receipt_reply(&id, reply.receipt.as_ref(), format)?
        }
        PostCommand::InstalmentPlan(args) => {
            let id = args.id.resolve();
            let call = client.agree_instalment_plan(commands.request(args.request(id.clone())));
            tables::instalment_plan_reply(&id, &sent(&commands, &id, call).await?, format)?
        }
        PostCommand::InstalmentPlanCancellation(args) => {
            let id = args.id.resolve();
            let call = client.cancel_instalment_plan(commands.request(args.request(id.clone())));
            let reply = sent(&commands, &id, call).await?;
            tables::receipt_reply(&id, reply.receipt.as_ref(), format)?
        }
        PostCommand::Discount(args) => {
            let id = args.id.resolve();
            let call = client.allow_discount(commands.request(args.request(id.clone())));
            tables::discount_reply(&id, &sent(&commands, &id, call).await?, format)?
        }
        PostCommand::Collector(args) => {
            let id = args.id.resolve();
            let call = client.assign_collector(commands.request(args.request(id.clone())));
            let reply = sent(&commands, &id, call).await?;
            tables::receipt_reply(&id, reply.receipt.as_ref(), format)?
        }
        PostCommand::CreditReservation(args) => {
            let id = args.id.resolve();
            let call = client.reserve_credit(commands.request(args.request(id.clone())));
            tables::reservation_reply(&id, &sent(&commands, &id, call).await?, format)?
        }
        PostCommand::CreditRelease(args) => {
            let id = args.id.resolve();
            let call = client.release_credit(commands.request(args.request(id.clone())));
            tables::release_reply(&id, &sent(&commands, &id, call).await?, format)?
        }
        PostCommand::CollectionActivity(args) => {
            let id = args.id.resolve();
            let call =
                client.record_collection_activity(commands.request(args.request(id.clone())));
            let reply = sent(&commands, &id, call).await?;
            tables::receipt_reply(&id, reply.receipt.as_ref(), format)?
        }
        PostCommand::BankAccount(_)
        | PostCommand::ReceiptMatch(_)
        | PostCommand::ReceiptExclusion(_) => {
            unreachable!("posted to the receipt service above")
        }
    };
    cmd::emit(out, &text)
}

/// The reply to the command posted with `id`. A failure that may pass (unavailable, timed out,
/// contended) leaves the command's fate unknown: the hint names the id that makes a retry safe.
async fn sent<C: Clone, R>(
    commands: &Service<C>,
    id: &str,
    call: impl Future<Output = Result<tonic::Response<R>, tonic::Status>>,
) -> Result<R, CliError> {
    match call.await {
        Ok(reply) => Ok(reply.into_inner()),
        Err(status) => {
            let error = commands.error(&status);
            Err(match error.service_status().map(|s| s.class()) {
                Some(StatusClass::Transient) => {
                    error.with_hint(format!("retry with --command-id {id}"))
                }
                _ => error,
            })
        }
    }
}
