//! How big a data set is, and the bounds that keep its invoice numbers in order.

/// Most customers a data set can have: ids run from `CUST-0001` to `CUST-9999`.
pub const CUSTOMERS_MAX: usize = 9_999;

/// Most months of history. Together with [`CUSTOMERS_MAX`] and the invoicing rate this keeps
/// every subsidiary's invoice sequence below a million, inside the six digits of its numbers,
/// so that numbers sort in the order they were issued (oldest-due-first breaks ties by number).
pub const MONTHS_MAX: u32 = 24;

/// How big a demo data set is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoSize {
    /// Customers of the group (`CUST-0001`...), at most [`CUSTOMERS_MAX`].
    pub customers: usize,
    /// Months of history ending `today`, 1 to [`MONTHS_MAX`].
    pub months: u32,
    /// Invoices planted to break a BLOCK credit limit, one per customer, at most `customers`:
    /// the service must refuse every one with `CREDIT_LIMIT_EXCEEDED`.
    pub over_limit_invoices: usize,
}

impl DemoSize {
    /// The demo: 300 customers over twelve months, about 5,000 invoices.
    pub const FULL: DemoSize = DemoSize {
        customers: 300,
        months: 12,
        over_limit_invoices: 6,
    };

    /// For tests: 12 customers over three months, about 60 invoices, still every kind of fact.
    pub const SMALL: DemoSize = DemoSize {
        customers: 12,
        months: 3,
        over_limit_invoices: 2,
    };
}
