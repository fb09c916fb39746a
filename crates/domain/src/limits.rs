//! Every limit of the domain, named in one place.
//!
//! A limit that is not written down is a limit that is discovered in production. These bound what a
//! single command may carry, so that one hostile or buggy client cannot grow an aggregate, an event
//! or a subject without bound.

/// Longest customer or subsidiary id. Ids become NATS subject tokens and database keys.
pub const ID_LENGTH_MAX: usize = 64;

/// Longest id of one of the group's bank accounts: its stream id, `_bank-` and the id, is a
/// customer id and stays within [`ID_LENGTH_MAX`].
pub const BANK_ACCOUNT_ID_LENGTH_MAX: usize = ID_LENGTH_MAX - 6;

/// Longest bank transaction id of a statement line (camt.053's references are at most 35
/// characters, WeChat Pay's order numbers 32; a derived id 40).
pub const BANK_LINE_ID_LENGTH_MAX: usize = 64;

/// Longest bank account number (an IBAN has at most 34 characters; domestic numbers with
/// their spaces fewer than 40).
pub const BANK_ACCOUNT_NUMBER_LENGTH_MAX: usize = 64;

/// Longest payer name or payer account a statement line carries.
pub const PAYER_TEXT_LENGTH_MAX: usize = 200;

/// Longest remittance text of a statement line (camt.053 allows several unstructured lines of
/// 140 characters; more than this is not a reference anyone reads).
pub const STATEMENT_REFERENCE_LENGTH_MAX: usize = 1_000;

/// Most customers one statement line may be split across.
pub const RECEIPT_PARTS_MAX: usize = 20;

/// Most reasons a match records (the engine gives a handful).
pub const MATCH_REASONS_MAX: usize = 16;

/// Longest invoice number a subsidiary may use.
pub const INVOICE_NUMBER_LENGTH_MAX: usize = 64;

/// Longest payment reference (bank reference, Alipay trade number, cheque number...).
pub const REFERENCE_LENGTH_MAX: usize = 128;

/// Longest free-text reason for a credit-limit change.
pub const REASON_LENGTH_MAX: usize = 500;

/// Longest collector's note on a promise to pay.
pub const NOTE_LENGTH_MAX: usize = 1_000;

/// Longest person name (approver, collector, principal).
pub const NAME_LENGTH_MAX: usize = 64;

/// Most explicit allocations one payment may carry.
pub const ALLOCATIONS_PER_PAYMENT_MAX: usize = 100;

/// Most invoices one promise to pay may name.
pub const INVOICES_PER_PROMISE_MAX: usize = 100;

/// Longest payment terms, in days, for an invoice given by terms instead of a due date.
pub const PAYMENT_TERMS_DAYS_MAX: u32 = 3_650;

/// Largest amount of one invoice, payment, promise or credit limit, in major units of its
/// currency. Large enough for any real receivable, small enough that sums over millions of
/// items stay far inside `rust_decimal`'s 96-bit mantissa.
pub const AMOUNT_MAJOR_UNITS_MAX: i64 = 1_000_000_000_000;

/// Earliest business date the service accepts (issue, due, received, promised dates).
pub const BUSINESS_DATE_MIN: (i32, u32, u32) = (1990, 1, 1);

/// Latest business date the service accepts.
pub const BUSINESS_DATE_MAX: (i32, u32, u32) = (2199, 12, 31);

/// How far past the server's own date a payment's received date may lie (time zones of the
/// group's subsidiaries run up to a day ahead of UTC).
pub const RECEIVED_DATE_AHEAD_DAYS_MAX: i64 = 1;

/// How far past the server's own date any movement of money may take effect (a credit note,
/// write-off, reversal, application or refund): the same day of slack as a payment.
pub const MOVEMENT_DATE_AHEAD_DAYS_MAX: i64 = RECEIVED_DATE_AHEAD_DAYS_MAX;

/// Most allocations one application of unapplied cash or credit may carry.
pub const ALLOCATIONS_PER_APPLICATION_MAX: usize = ALLOCATIONS_PER_PAYMENT_MAX;

/// Longest name or legal name of a customer (legal names of groups run long: "Shanghai ...
/// International Trading Co., Ltd.").
pub const CUSTOMER_NAME_LENGTH_MAX: usize = 200;

/// Longest tax id (a Chinese unified social credit code has 18 characters, an EU VAT number up
/// to 14, with room for separators).
pub const TAX_ID_LENGTH_MAX: usize = 32;

/// Longest industry of a customer.
pub const INDUSTRY_LENGTH_MAX: usize = 100;

/// Most contacts one customer record may carry.
pub const CONTACTS_PER_CUSTOMER_MAX: usize = 20;

/// Longest e-mail address (RFC 5321's path limit).
pub const EMAIL_LENGTH_MAX: usize = 254;

/// Longest telephone number as written, with its separators and extension.
pub const PHONE_LENGTH_MAX: usize = 32;

/// Fewest digits a telephone number has (a short internal extension is not a number a
/// collector can call from outside).
pub const PHONE_DIGITS_MIN: usize = 5;

/// Longest role of a contact ("accounts payable", "CFO").
pub const CONTACT_ROLE_LENGTH_MAX: usize = 64;

/// Longest prefix or name fragment a customer search takes.
pub const CUSTOMER_SEARCH_LENGTH_MAX: usize = 100;

/// Largest exchange rate (units of the base per unit of another currency): above any real
/// pair, small enough that a converted sum stays far inside `rust_decimal`'s range.
pub const RATE_MAX: i64 = 1_000_000_000;

/// Most decimal places of an exchange rate, as published and as a cross rate is rounded to.
pub const RATE_DECIMALS_MAX: u32 = 10;

/// Most currencies one publication of exchange rates may carry (ISO 4217 lists about 180).
pub const RATES_PER_PUBLICATION_MAX: usize = 200;

/// Most lines one set of payment terms may have (a schedule of instalments): twelve, a year
/// of monthly instalments.
pub const SCHEDULE_LINES_MAX: usize = 12;

/// Most rows an explicit schedule or an instalment plan may have: five years of monthly
/// instalments.
pub const SCHEDULE_ROWS_MAX: usize = 60;

/// Longest description of a payment-terms template, in characters.
pub const TERMS_DESCRIPTION_LENGTH_MAX: usize = 200;

/// The longest a credit reservation may hold, in days from the day it is made: an order that
/// has not shipped within a year is reserved again rather than left holding credit.
pub const RESERVATION_DAYS_MAX: u32 = 366;

/// The most days overdue an overdue hold may allow before it refuses new invoices and
/// reservations (`credit.rs`).
pub const OVERDUE_HOLD_DAYS_MAX: u32 = 3_650;

/// Most days a collection activity's next action may lie after the contact: a year, beyond
/// which a customer would drop out of the work queue for longer than any collection plan runs.
pub const NEXT_ACTION_DAYS_MAX: u32 = 366;

/// Longest description of whom a collector contacted (a name, a number, an address).
pub const ACTIVITY_CONTACT_LENGTH_MAX: usize = 200;

/// Most invoices a collection activity names.
pub const INVOICES_PER_ACTIVITY_MAX: usize = INVOICES_PER_PROMISE_MAX;
