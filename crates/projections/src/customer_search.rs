//! The customer search: registered customers whose id starts with the text, or whose name or
//! legal name contains it in any case, with their records and assigned collectors; every
//! registered customer when the text is empty.
//!
//! Customers are listed by id, so that pages continue after the last id of the previous page
//! (keyset paging, `paging.rs`). A customer never registered is not listed: the reports show it
//! by id alone.

use receivables_domain::CustomerId;
use receivables_domain::customer::{Contact, CountryCode, CustomerProfile};
use receivables_domain::ids::PersonName;
use receivables_domain::limits::CUSTOMER_SEARCH_LENGTH_MAX;

use crate::database::{ReadPool, on_engine};
use crate::error::ProjectionError;
use crate::paging::{
    PAGE_SIZE_DEFAULT, PageRequestError, Paged, check_page_size, decode_token, encode_token,
    undated,
};
use crate::stored;

const TOKEN_KIND: &str = "customers";

/// Why a search text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchTextError {
    #[error("at most {CUSTOMER_SEARCH_LENGTH_MAX} characters, got {0}")]
    TooLong(usize),
    #[error("must be one line of printable characters")]
    Control,
}

/// A validated request for a page of the search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerSearch {
    /// Trimmed; empty lists every registered customer.
    text: String,
    page_size: u32,
    after: Option<CustomerId>,
}

impl CustomerSearch {
    /// The first page of [`PAGE_SIZE_DEFAULT`] customers matching `text` (surrounding blanks
    /// ignored).
    pub fn new(text: &str) -> Result<Self, SearchTextError> {
        let text = text.trim();
        let count = text.chars().count();
        if count > CUSTOMER_SEARCH_LENGTH_MAX {
            return Err(SearchTextError::TooLong(count));
        }
        if text.chars().any(char::is_control) {
            return Err(SearchTextError::Control);
        }
        Ok(CustomerSearch {
            text: text.to_owned(),
            page_size: PAGE_SIZE_DEFAULT,
            after: None,
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }
}

impl Paged for CustomerSearch {
    fn with_page_size(mut self, page_size: u32) -> Result<Self, PageRequestError> {
        self.page_size = check_page_size(page_size)?;
        Ok(self)
    }

    fn with_page_token(mut self, token: &str) -> Result<Self, PageRequestError> {
        let fields = decode_token(token, TOKEN_KIND, undated(), 1)?;
        let after = fields
            .first()
            .and_then(|text| CustomerId::parse(text).ok())
            .ok_or(PageRequestError::MalformedToken("bad customer"))?;
        self.after = Some(after);
        Ok(self)
    }
}

/// A registered customer, as the search finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerRecord {
    pub customer: CustomerId,
    pub profile: CustomerProfile,
    /// The collector assigned to the customer itself, if any.
    pub collector: Option<PersonName>,
    /// The log position of the latest change of the record.
    pub position: i64,
}

/// A page of the search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerPage {
    pub customers: Vec<CustomerRecord>,
    /// Present when more customers follow: pass it to [`Paged::with_page_token`].
    pub next_page_token: Option<String>,
}

/// `text` for a `LIKE` pattern matching it anywhere, its wildcards escaped with `\`.
fn contains_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// A customer's record with its assigned collector, as [`Row`].
const SELECT_RECORDS: &str =
    "SELECT c.customer_id, c.name, c.legal_name, c.tax_id, c.country, c.industry, c.notes,
            c.contacts, c.position, a.collector
     FROM customers c
     LEFT JOIN customer_collectors a ON a.customer_id = c.customer_id";

type Row = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<String>,
);

/// A page of the search as `query` asks.
pub async fn search(
    pool: &ReadPool,
    query: &CustomerSearch,
) -> Result<CustomerPage, ProjectionError> {
    let limit = i64::from(query.page_size) + 1;
    let sql = format!(
        "{SELECT_RECORDS}
         WHERE ($1 = '' OR substr(c.customer_id, 1, length($1)) = $1
                OR c.search_text LIKE $2 ESCAPE '\\')
           AND ($3 IS NULL OR c.customer_id > $3)
         ORDER BY c.customer_id
         LIMIT $4"
    );
    let rows: Vec<Row> = on_engine!(pool, pool => sqlx::query_as(&sql)
    .bind(query.text.as_str())
    .bind(contains_pattern(&query.text))
    .bind(query.after.as_ref().map(CustomerId::as_str))
    .bind(limit)
    .fetch_all(pool).await)?;
    let size = usize::try_from(query.page_size).unwrap_or(usize::MAX);
    let more = rows.len() > size;
    let mut customers = Vec::with_capacity(rows.len().min(size));
    for row in rows.into_iter().take(size) {
        customers.push(record(row)?);
    }
    let next_page_token = if more {
        customers
            .last()
            .map(|last| encode_token(TOKEN_KIND, undated(), &[last.customer.as_str()]))
    } else {
        None
    };
    Ok(CustomerPage {
        customers,
        next_page_token,
    })
}

/// The registered customer `customer`, if it is.
pub async fn find(
    pool: &ReadPool,
    customer: &CustomerId,
) -> Result<Option<CustomerRecord>, ProjectionError> {
    let sql = format!("{SELECT_RECORDS} WHERE c.customer_id = $1");
    let row: Option<Row> = on_engine!(pool, pool => sqlx::query_as(&sql)
    .bind(customer.as_str())
    .fetch_optional(pool).await)?;
    row.map(record).transpose()
}

fn record(row: Row) -> Result<CustomerRecord, ProjectionError> {
    let (
        customer,
        name,
        legal_name,
        tax_id,
        country,
        industry,
        notes,
        contacts,
        position,
        collector,
    ) = row;
    let contacts: Vec<Contact> = serde_json::from_str(&contacts)
        .map_err(|e| ProjectionError::Stored(format!("contacts of {customer}: {e}")))?;
    let country = match country.as_str() {
        "" => None,
        code => Some(
            CountryCode::parse(code)
                .map_err(|e| ProjectionError::Stored(format!("country of {customer}: {e}")))?,
        ),
    };
    let collector = match collector.as_deref() {
        None | Some("") => None,
        Some(name) => Some(stored::person(name)?),
    };
    Ok(CustomerRecord {
        customer: stored::customer(&customer)?,
        profile: CustomerProfile {
            name,
            legal_name,
            tax_id,
            country,
            contacts,
            industry,
            notes,
        },
        collector,
        position,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_in_the_text_match_themselves() {
        assert_eq!(contains_pattern("Hongda"), "%hongda%");
        assert_eq!(contains_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }

    #[test]
    fn search_texts_are_bounded() {
        assert_eq!(CustomerSearch::new("  hong ").unwrap().text(), "hong");
        assert!(CustomerSearch::new(&"x".repeat(CUSTOMER_SEARCH_LENGTH_MAX + 1)).is_err());
        assert!(CustomerSearch::new("a\u{7}").is_err());
    }
}
