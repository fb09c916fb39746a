//! The account's features, listed once: each feature's module, its command, and the event the
//! command becomes. The enums of commands ([`crate::command::CommandBody`]) and of events
//! ([`crate::event::Event`], with the list of event types [`crate::event::EventType`]), the
//! hand-over of each command and event to its feature, and the samples of the tests are made
//! from this list. A feature is added with its module (`account/<feature>.rs`) and its line
//! here; docs/ARCHITECTURE.md ("Add an event") has the rest of the recipe.
//!
//! The order is the order of the enums' variants, of [`crate::event::EventType::all`] and of
//! every listing by type; new features go at the end.

/// Calls `$then!` with every feature as `Command(path) => Event(path),`, each with its doc.
macro_rules! features {
    ($then:ident) => {
        $then! {
            /// Invoices: a subsidiary issues an invoice to the customer, checked against the
            /// customer's group-wide credit limit.
            IssueInvoice(crate::account::invoice::IssueInvoice)
                => InvoiceIssued(crate::account::invoice::InvoiceIssued),
            /// Payments: a subsidiary received money, applied to open invoices as instructed or
            /// oldest due first; the rest stays unapplied cash.
            RecordPayment(crate::account::payment::RecordPayment)
                => PaymentReceived(crate::account::payment::PaymentReceived),
            /// Credit limits: the credit department sets the customer's limit, policy and
            /// grade.
            ChangeCreditLimit(crate::account::credit_limit::ChangeCreditLimit)
                => CreditLimitChanged(crate::account::credit_limit::CreditLimitChanged),
            /// Promises to pay: a collector records the customer's promise.
            RecordPromiseToPay(crate::account::promise::RecordPromiseToPay)
                => PromiseToPay(crate::account::promise::PromiseToPay),
            /// Credit notes: a subsidiary credits the customer against an invoice or on account.
            IssueCreditNote(crate::account::credit_note::IssueCreditNote)
                => CreditNoteIssued(crate::account::credit_note::CreditNoteIssued),
            /// Write-offs: credit control writes off part or all of an invoice as bad debt.
            WriteOffInvoice(crate::account::write_off::WriteOffInvoice)
                => InvoiceWrittenOff(crate::account::write_off::InvoiceWrittenOff),
            /// Payment reversals: a payment bounced or was returned; what it paid is owed again.
            ReversePayment(crate::account::reversal::ReversePayment)
                => PaymentReversed(crate::account::reversal::PaymentReversed),
            /// Applications: unapplied cash or credit is applied to open invoices later.
            ApplyUnappliedCash(crate::account::application::ApplyUnappliedCash)
                => UnappliedCashApplied(crate::account::application::UnappliedCashApplied),
            /// Refunds: unapplied cash or credit is paid back to the customer.
            IssueRefund(crate::account::refund::IssueRefund)
                => RefundIssued(crate::account::refund::RefundIssued),
            /// Disputes: the customer contests (part of) an invoice; dunning pauses for it.
            OpenDispute(crate::account::dispute::OpenDispute)
                => DisputeOpened(crate::account::dispute::DisputeOpened),
            /// Disputes: how a dispute ended (withdrawn, or upheld with a credit note).
            ResolveDispute(crate::account::dispute::ResolveDispute)
                => DisputeResolved(crate::account::dispute::DisputeResolved),
            /// Collection on behalf: the group lets one subsidiary move money against
            /// another's documents (an event of the group's own account).
            SetCollectionOnBehalf(crate::account::collection_on_behalf::SetCollectionOnBehalf)
                => CollectionOnBehalfSet(crate::account::collection_on_behalf::CollectionOnBehalfSet),
            /// Balance confirmations: the customer confirms what it owes at the end of a day.
            ConfirmBalance(crate::account::balance_confirmation::ConfirmBalance)
                => BalanceConfirmed(crate::account::balance_confirmation::BalanceConfirmed),
            /// Customer records: the group registers who the customer is.
            RegisterCustomer(crate::account::customer::RegisterCustomer)
                => CustomerRegistered(crate::account::customer::CustomerRegistered),
            /// Customer records: the record as it now stands.
            UpdateCustomer(crate::account::customer::UpdateCustomer)
                => CustomerUpdated(crate::account::customer::CustomerUpdated),
            /// Collector assignment: who chases the customer, or a subsidiary's customers by
            /// default (an event of the group's own account).
            AssignCollector(crate::account::collector::AssignCollector)
                => CollectorAssigned(crate::account::collector::CollectorAssigned),
            /// Exchange rates: the group's treasury publishes the rates of a date to the group's
            /// currency (an event of the group's own account).
            PublishExchangeRates(crate::account::exchange_rates::PublishExchangeRates)
                => ExchangeRatesPublished(crate::account::exchange_rates::ExchangeRatesPublished),
            /// Payment-terms templates: the group names the terms invoices may be issued on
            /// (an event of the group's own account).
            DefinePaymentTerms(crate::account::payment_terms::DefinePaymentTerms)
                => PaymentTermsDefined(crate::account::payment_terms::PaymentTermsDefined),
            /// Instalment plans: a collector reschedules an overdue invoice's open amount.
            AgreeInstalmentPlan(crate::account::instalment_plan::AgreeInstalmentPlan)
                => InstalmentPlanAgreed(crate::account::instalment_plan::InstalmentPlanAgreed),
            /// Instalment plans: the plan is cancelled; the invoice's own schedule applies again.
            CancelInstalmentPlan(crate::account::instalment_plan::CancelInstalmentPlan)
                => InstalmentPlanCancelled(crate::account::instalment_plan::InstalmentPlanCancelled),
            /// Early-payment discounts: a payment within the terms' window settles the invoice
            /// with the discount taken.
            AllowDiscount(crate::account::discount::AllowDiscount)
                => DiscountAllowed(crate::account::discount::DiscountAllowed),
            /// Credit reservations: a subsidiary reserves part of the customer's limit for a
            /// sales order before it ships.
            ReserveCredit(crate::account::credit_reservation::ReserveCredit)
                => CreditReserved(crate::account::credit_reservation::CreditReserved),
            /// Credit reservations: credit reserved for an order is released (cancelled or
            /// shrunk).
            ReleaseCredit(crate::account::credit_reservation::ReleaseCredit)
                => CreditReleased(crate::account::credit_reservation::CreditReleased),
            /// Collection activities: a collector records a contact with the customer, its
            /// outcome and the next action's date.
            RecordCollectionActivity(crate::account::collection_activity::RecordCollectionActivity)
                => CollectionActivityRecorded(crate::account::collection_activity::CollectionActivityRecorded),
            /// Alert thresholds: the group sets what it wants to be warned of, for the group or
            /// one subsidiary (an event of the group's own account).
            SetAlertThresholds(crate::account::alert_thresholds::SetAlertThresholds)
                => AlertThresholdsSet(crate::account::alert_thresholds::AlertThresholdsSet),
            /// Bank accounts: the group registers one of its bank accounts, whose statements
            /// are imported into a stream of its own.
            RegisterBankAccount(crate::account::bank_account::RegisterBankAccount)
                => BankAccountRegistered(crate::account::bank_account::BankAccountRegistered),
            /// Receipts: a credit line of a bank statement is imported into its account's
            /// stream, once.
            ImportStatementLine(crate::account::receipt::ImportStatementLine)
                => StatementLineImported(crate::account::receipt::StatementLineImported),
            /// Receipts: a statement line is matched to the customers who paid it, each part a
            /// payment whose command id is derived from the line.
            MatchStatementLine(crate::account::receipt::MatchStatementLine)
                => StatementLineMatched(crate::account::receipt::StatementLineMatched),
            /// Receipts: a statement line is not a receivable (interest, a supplier's refund).
            ExcludeStatementLine(crate::account::receipt::ExcludeStatementLine)
                => StatementLineExcluded(crate::account::receipt::StatementLineExcluded),
        }
    };
}

pub(crate) use features;
