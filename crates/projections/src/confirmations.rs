//! Customers' confirmations of their balances (对账确认), newest first, of one customer or all,
//! optionally only those that differ from the balance the account held: the differences to
//! investigate.
//!
//! The balance and the difference are the ones recorded with the confirmation (what the account
//! held for that day when it was confirmed), not recomputed: a payment recorded later but dated
//! before the day changes today's statement of that day, not what was agreed or disputed then.
//!
//! Pages follow the log order backwards and continue before the last position of the previous
//! page (keyset paging, `paging.rs`).

use chrono::NaiveDate;
use receivables_domain::{CustomerId, Money};

use crate::database::{ReadPool, on_engine};
use crate::error::ProjectionError;
use crate::minor_units::from_minor;
use crate::paging::{
    PAGE_SIZE_DEFAULT, PageRequestError, Paged, check_page_size, decode_token, encode_token,
    undated,
};
use crate::stored;

const TOKEN_KIND: &str = "balance-confirmations";

/// A validated request for a page of confirmations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmationQuery {
    /// Only this customer's.
    pub customer: Option<CustomerId>,
    /// Only those whose confirmed amount differs from the balance held.
    pub only_differences: bool,
    page_size: u32,
    /// Continue with the confirmations recorded before this position.
    before: Option<i64>,
}

impl Default for ConfirmationQuery {
    fn default() -> Self {
        ConfirmationQuery {
            customer: None,
            only_differences: false,
            page_size: PAGE_SIZE_DEFAULT,
            before: None,
        }
    }
}

impl Paged for ConfirmationQuery {
    fn with_page_size(mut self, page_size: u32) -> Result<Self, PageRequestError> {
        self.page_size = check_page_size(page_size)?;
        Ok(self)
    }

    fn with_page_token(mut self, token: &str) -> Result<Self, PageRequestError> {
        let fields = decode_token(token, TOKEN_KIND, undated(), 1)?;
        let position = fields
            .first()
            .and_then(|text| text.parse::<i64>().ok())
            .ok_or(PageRequestError::MalformedToken("not a position"))?;
        self.before = Some(position);
        Ok(self)
    }
}

/// One confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmationLine {
    pub customer: CustomerId,
    pub as_of: NaiveDate,
    pub confirmed: Money,
    /// What the account held for that day when the confirmation was recorded.
    pub balance: Money,
    /// `confirmed - balance`.
    pub difference: Money,
    pub confirmed_by: String,
    pub note: String,
    pub position: u64,
}

/// A page of confirmations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmationPage {
    pub lines: Vec<ConfirmationLine>,
    /// Present when more lines follow: pass it to [`Paged::with_page_token`].
    pub next_page_token: Option<String>,
}

type Row = (
    i64,
    String,
    String,
    NaiveDate,
    i64,
    i64,
    i64,
    String,
    String,
);

/// The page of confirmations `query` asks for, newest first.
pub async fn list_confirmations(
    pool: &ReadPool,
    query: &ConfirmationQuery,
) -> Result<ConfirmationPage, ProjectionError> {
    let sql = "SELECT position, customer_id, currency, as_of, confirmed_minor, balance_minor,
                      difference_minor, confirmed_by, note
               FROM balance_confirmations
               WHERE ($1 IS NULL OR customer_id = $1)
                 AND ($2 = FALSE OR difference_minor <> 0)
                 AND ($3 IS NULL OR position < $3)
               ORDER BY position DESC
               LIMIT $4";
    let customer = query.customer.as_ref().map(CustomerId::as_str);
    let limit = i64::from(query.page_size) + 1;
    let mut rows: Vec<Row> = on_engine!(pool, pool => sqlx::query_as(sql)
        .bind(customer)
        .bind(query.only_differences)
        .bind(query.before)
        .bind(limit)
        .fetch_all(pool).await)?;
    let more = rows.len() > query.page_size as usize;
    rows.truncate(query.page_size as usize);
    let next_page_token = match (more, rows.last()) {
        (true, Some(last)) => Some(encode_token(TOKEN_KIND, undated(), &[&last.0.to_string()])),
        _ => None,
    };
    let lines = rows
        .into_iter()
        .map(
            |(position, customer, code, as_of, confirmed, balance, difference, by, note)| {
                let currency = stored::currency(&code)?;
                if difference != confirmed - balance {
                    return Err(ProjectionError::Stored(format!(
                        "the confirmation at position {position} does not add up"
                    )));
                }
                Ok(ConfirmationLine {
                    customer: stored::customer(&customer)?,
                    as_of,
                    confirmed: from_minor(confirmed, currency),
                    balance: from_minor(balance, currency),
                    difference: from_minor(difference, currency),
                    confirmed_by: by,
                    note,
                    position: u64::try_from(position).unwrap_or_default(),
                })
            },
        )
        .collect::<Result<_, _>>()?;
    Ok(ConfirmationPage {
        lines,
        next_page_token,
    })
}
