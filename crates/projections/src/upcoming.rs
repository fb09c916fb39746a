//! What falls due soon (还款提醒): every invoice, or row of a schedule or instalment plan, due
//! from the as-of date through `within_days` after it with something collectible, the list a
//! collector sends reminders from before the due date. Of one customer, one subsidiary or one
//! collector, or of the whole group.
//!
//! Each item is a row as `open_amounts::open_rows` defines it (an invoice without rows is its
//! own row): its open amount as of the date and its disputed part, listed only while the open
//! amount exceeds the disputed part (a disputed amount is not chased). Its collector is the one
//! assigned to the customer, else the default collector of the subsidiary the row is owed to
//! (the customers projection; today's assignments, whatever the as-of date), so that a
//! collector's list holds exactly the rows that collector chases.
//!
//! Items come in due order (then customer, subsidiary, invoice number, row), and pages continue
//! after the last item of the previous page (keyset paging, `paging.rs`).

use chrono::{Days, NaiveDate};
use receivables_domain::ids::PersonName;
use receivables_domain::{CustomerId, Money, SubsidiaryId};

use crate::customers;
use crate::database::{ReadPool, on_engine};
use crate::error::ProjectionError;
use crate::minor_units::from_minor;
use crate::open_amounts::{FIRST_FREE_PARAMETER, any_rows, open_items, open_rows};
use crate::paging::{
    PAGE_SIZE_DEFAULT, PageRequestError, Paged, check_page_size, decode_token, encode_token,
};
use crate::stored;

/// The most days ahead the list looks: a quarter, which covers every reminder cycle.
pub const UPCOMING_DAYS_MAX: u32 = 92;

const TOKEN_KIND: &str = "upcoming";

/// Why an upcoming list was refused before it was read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("within_days must be 0 to {UPCOMING_DAYS_MAX}, got {0}")]
pub struct WindowError(pub u32);

/// A validated request for a page of what falls due soon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpcomingQuery {
    as_of: NaiveDate,
    within_days: u32,
    pub customer: Option<CustomerId>,
    pub subsidiary: Option<SubsidiaryId>,
    pub collector: Option<PersonName>,
    page_size: u32,
    after: Option<ItemKey>,
}

/// An item's place in the listing's order.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ItemKey {
    due_date: NaiveDate,
    customer: String,
    subsidiary: String,
    invoice_number: String,
    /// The row's index; -1 for an invoice that is its own row.
    row: i64,
}

impl UpcomingQuery {
    /// What falls due from `as_of` through `within_days` after it (0: that day only).
    pub fn new(as_of: NaiveDate, within_days: u32) -> Result<Self, WindowError> {
        if within_days > UPCOMING_DAYS_MAX {
            return Err(WindowError(within_days));
        }
        Ok(UpcomingQuery {
            as_of,
            within_days,
            customer: None,
            subsidiary: None,
            collector: None,
            page_size: PAGE_SIZE_DEFAULT,
            after: None,
        })
    }

    pub fn as_of(&self) -> NaiveDate {
        self.as_of
    }

    /// The window's last day.
    pub fn until(&self) -> NaiveDate {
        self.as_of
            .checked_add_days(Days::new(u64::from(self.within_days)))
            .unwrap_or(NaiveDate::MAX)
    }
}

impl Paged for UpcomingQuery {
    fn with_page_size(mut self, page_size: u32) -> Result<Self, PageRequestError> {
        self.page_size = check_page_size(page_size)?;
        Ok(self)
    }

    fn with_page_token(mut self, token: &str) -> Result<Self, PageRequestError> {
        let fields = decode_token(token, TOKEN_KIND, self.as_of, 5)?;
        let malformed = PageRequestError::MalformedToken("not an item of this listing");
        let [due_date, customer, subsidiary, invoice_number, row] = fields.as_slice() else {
            return Err(malformed);
        };
        self.after = Some(ItemKey {
            due_date: due_date.parse().map_err(|_| malformed.clone())?,
            customer: customer.clone(),
            subsidiary: subsidiary.clone(),
            invoice_number: invoice_number.clone(),
            row: row.parse().map_err(|_| malformed)?,
        });
        Ok(self)
    }
}

/// A row falling due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpcomingItem {
    pub customer: CustomerId,
    /// The customer's name, once registered.
    pub customer_name: Option<String>,
    pub subsidiary: SubsidiaryId,
    pub invoice_number: String,
    /// The row of the invoice's schedule or instalment plan; none for an invoice due whole.
    pub row_index: Option<u32>,
    pub due_date: NaiveDate,
    /// Days from the as-of date to the due date (0: due that day).
    pub days_until_due: u32,
    /// What the row owes as of the date, and the part of it a dispute holds back.
    pub open: Money,
    pub disputed: Money,
    /// The customer's collector, else the subsidiary's default; none when neither is assigned.
    pub collector: Option<PersonName>,
}

/// A page of what falls due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpcomingPage {
    pub items: Vec<UpcomingItem>,
    /// Present when more items follow: pass it to [`Paged::with_page_token`].
    pub next_page_token: Option<String>,
}

type Row = (
    NaiveDate,
    String,
    String,
    String,
    i64,
    String,
    i64,
    i64,
    Option<String>,
);

/// The page of what falls due that `query` asks for.
pub async fn list_upcoming(
    pool: &ReadPool,
    query: &UpcomingQuery,
) -> Result<UpcomingPage, ProjectionError> {
    // Rows exist only where some invoice is due in several (see `open_amounts::any_rows`).
    let (rows, source, row) = if any_rows(pool).await? {
        (open_rows(), "open_rows", "COALESCE(o.row_index, -1)")
    } else {
        (String::new(), "open_items", "-1")
    };
    let p = FIRST_FREE_PARAMETER;
    let sql = format!(
        "WITH {open_items}{rows},
         due AS (
             SELECT o.due_date, o.customer_id, o.subsidiary_id, o.invoice_number,
                    CAST({row} AS BIGINT) AS row_no, o.currency,
                    CAST(o.open_minor AS BIGINT) AS open_minor,
                    CAST(o.disputed_minor AS BIGINT) AS disputed_minor,
                    COALESCE(NULLIF(cc.collector, ''), NULLIF(dc.collector, '')) AS collector
             FROM {source} o
             LEFT JOIN customer_collectors cc ON cc.customer_id = o.customer_id
             LEFT JOIN default_collectors dc ON dc.subsidiary_id = o.subsidiary_id
             WHERE o.due_date >= $1 AND o.due_date <= ${p}
               AND o.open_minor > o.disputed_minor)
         SELECT due_date, customer_id, subsidiary_id, invoice_number, row_no, currency,
                open_minor, disputed_minor, collector
         FROM due
         WHERE (${c} IS NULL OR collector = ${c})
           AND (${k} IS NULL
                OR (due_date, customer_id, subsidiary_id, invoice_number, row_no)
                   > (${k}, ${k1}, ${k2}, ${k3}, ${k4}))
         ORDER BY due_date, customer_id, subsidiary_id, invoice_number, row_no
         LIMIT ${l}",
        open_items = open_items(query.customer.is_some()),
        c = p + 1,
        k = p + 2,
        k1 = p + 3,
        k2 = p + 4,
        k3 = p + 5,
        k4 = p + 6,
        l = p + 7,
    );
    let after = query.after.as_ref();
    let limit = i64::from(query.page_size) + 1;
    // Not a prepared statement kept for reuse: from its sixth execution PostgreSQL would plan
    // it once for any parameters, and that generic plan of this query took 29 s where each
    // execution's own plan takes 50 ms (a page over 160,000 open items, BENCHMARKS.md).
    let mut found: Vec<Row> = on_engine!(pool, pool => sqlx::query_as(&sql)
        .persistent(false)
        .bind(query.as_of)
        .bind(query.subsidiary.as_ref().map(SubsidiaryId::as_str))
        .bind(query.customer.as_ref().map(CustomerId::as_str))
        .bind(None::<&str>)
        .bind(query.until())
        .bind(query.collector.as_ref().map(PersonName::as_str))
        .bind(after.map(|a| a.due_date))
        .bind(after.map(|a| a.customer.as_str()))
        .bind(after.map(|a| a.subsidiary.as_str()))
        .bind(after.map(|a| a.invoice_number.as_str()))
        .bind(after.map(|a| a.row))
        .bind(limit)
        .fetch_all(pool).await)?;
    let more = found.len() > query.page_size as usize;
    found.truncate(query.page_size as usize);
    let next_page_token = match (more, found.last()) {
        (true, Some((due_date, customer, subsidiary, invoice_number, row, ..))) => {
            Some(encode_token(
                TOKEN_KIND,
                query.as_of,
                &[
                    &due_date.to_string(),
                    customer,
                    subsidiary,
                    invoice_number,
                    &row.to_string(),
                ],
            ))
        }
        _ => None,
    };
    let mut items = found
        .into_iter()
        .map(
            |(
                due_date,
                customer,
                subsidiary,
                invoice_number,
                row,
                code,
                open,
                disputed,
                collector,
            )| {
                let currency = stored::currency(&code)?;
                Ok(UpcomingItem {
                    customer: stored::customer(&customer)?,
                    customer_name: None,
                    subsidiary: stored::subsidiary(&subsidiary)?,
                    invoice_number,
                    row_index: u32::try_from(row).ok(),
                    due_date,
                    days_until_due: u32::try_from((due_date - query.as_of).num_days())
                        .unwrap_or_default(),
                    open: from_minor(open, currency),
                    disputed: from_minor(disputed, currency),
                    collector: collector.as_deref().map(stored::person).transpose()?,
                })
            },
        )
        .collect::<Result<Vec<_>, ProjectionError>>()?;
    let customers: Vec<&CustomerId> = items.iter().map(|item| &item.customer).collect();
    let names = customers::names(pool, &customers).await?;
    for item in &mut items {
        item.customer_name = names.get(item.customer.as_str()).cloned();
    }
    Ok(UpcomingPage {
        items,
        next_page_token,
    })
}
