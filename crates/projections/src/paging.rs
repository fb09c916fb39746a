//! Paging of every listing: the page-size rule, page tokens, and keyset pages cut in memory.
//!
//! A page token is opaque to clients: hex of `v1|<listing>|<as-of date>|<field>|...`, the
//! listing's kind and date first so that a token is refused by any other listing or date, then
//! the sort key of the page's last line. The next page starts strictly after that key, so a
//! line is never listed twice across pages.

use std::cmp::Ordering;
use std::str::FromStr;

use chrono::NaiveDate;
use receivables_domain::{Currency, CustomerId};
use rust_decimal::Decimal;

/// Most lines (or items) one page may carry.
pub const PAGE_SIZE_MAX: u32 = 1_000;

/// Lines per page when the caller does not say.
pub const PAGE_SIZE_DEFAULT: u32 = 100;

/// Longest page token accepted, in characters (the tokens this module writes are far shorter).
pub const PAGE_TOKEN_LENGTH_MAX: usize = 512;

/// The version written first in every page token.
const PAGE_TOKEN_VERSION: &str = "v1";

/// What separates the fields of a token (no field this service writes contains it: ids,
/// currencies, dates and decimals are checked to an alphabet without it).
const SEPARATOR: char = '|';

/// Why a page size or a page token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageRequestError {
    #[error("page size must be between 1 and {PAGE_SIZE_MAX}, got {0}")]
    PageSize(u32),
    #[error("page token is malformed: {0}")]
    MalformedToken(&'static str),
    #[error("page token was issued for another query: {0}")]
    ForeignToken(&'static str),
}

impl PageRequestError {
    /// The request's field at fault.
    pub fn field(&self) -> &'static str {
        match self {
            PageRequestError::PageSize(_) => "page_size",
            PageRequestError::MalformedToken(_) | PageRequestError::ForeignToken(_) => "page_token",
        }
    }
}

/// A listing read a page at a time. Every paged query takes its page size and the token of the
/// page before the same way, so the wire reads them the same way for all of them.
pub trait Paged: Sized {
    /// Sets the page size: 1..=[`PAGE_SIZE_MAX`].
    fn with_page_size(self, page_size: u32) -> Result<Self, PageRequestError>;

    /// Continues after the page that returned `token`, which must come from a query of the same
    /// listing, date and order.
    fn with_page_token(self, token: &str) -> Result<Self, PageRequestError>;
}

/// Checks a page size: 1..=[`PAGE_SIZE_MAX`].
pub fn check_page_size(page_size: u32) -> Result<u32, PageRequestError> {
    if page_size == 0 || page_size > PAGE_SIZE_MAX {
        return Err(PageRequestError::PageSize(page_size));
    }
    Ok(page_size)
}

/// A token for the page after the line whose sort key is `fields`, in listing `kind` as of
/// `as_of`.
pub(crate) fn encode_token(kind: &str, as_of: NaiveDate, fields: &[&str]) -> String {
    let mut text = format!("{PAGE_TOKEN_VERSION}{SEPARATOR}{kind}{SEPARATOR}{as_of}");
    for field in fields {
        text.push(SEPARATOR);
        text.push_str(field);
    }
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

/// The date the tokens of a listing without an as-of date of its own carry (balance
/// confirmations, the customer search).
pub(crate) fn undated() -> NaiveDate {
    NaiveDate::default()
}

/// The sort key of a token written by [`encode_token`] for the same listing and date, with
/// exactly `count` fields.
pub(crate) fn decode_token(
    token: &str,
    kind: &str,
    as_of: NaiveDate,
    count: usize,
) -> Result<Vec<String>, PageRequestError> {
    use PageRequestError::{ForeignToken, MalformedToken};
    if token.is_empty() {
        return Err(MalformedToken("empty"));
    }
    if token.len() > PAGE_TOKEN_LENGTH_MAX {
        return Err(MalformedToken("too long"));
    }
    if !token.len().is_multiple_of(2) || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(MalformedToken("not a token of this service"));
    }
    let bytes = (0..token.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&token[i..i + 2], 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| MalformedToken("not a token of this service"))?;
    let text = String::from_utf8(bytes).map_err(|_| MalformedToken("not UTF-8"))?;
    let mut fields = text.split(SEPARATOR);
    let (Some(version), Some(token_kind), Some(token_as_of)) =
        (fields.next(), fields.next(), fields.next())
    else {
        return Err(MalformedToken("wrong number of fields"));
    };
    if version != PAGE_TOKEN_VERSION {
        return Err(MalformedToken("unknown version"));
    }
    if token_kind != kind {
        return Err(ForeignToken("another listing or sort order"));
    }
    let token_as_of = NaiveDate::parse_from_str(token_as_of, "%Y-%m-%d")
        .map_err(|_| MalformedToken("bad date"))?;
    if token_as_of != as_of {
        return Err(ForeignToken("another as-of date"));
    }
    let key: Vec<String> = fields.map(str::to_owned).collect();
    if key.len() != count {
        return Err(MalformedToken("wrong number of fields"));
    }
    Ok(key)
}

/// Where a page of a per-customer listing ends: the sort key of its last line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cursor {
    /// The sort value; `None` sorts after every value.
    pub value: Option<Decimal>,
    pub customer: CustomerId,
    pub currency: Currency,
}

impl Cursor {
    /// The token of the page after this cursor.
    pub(crate) fn token(&self, kind: &str, as_of: NaiveDate) -> String {
        let value = self.value.map_or_else(|| "-".to_owned(), |v| v.to_string());
        encode_token(
            kind,
            as_of,
            &[&value, self.customer.as_str(), self.currency.code()],
        )
    }

    /// The cursor of a token written by [`Cursor::token`] for the same listing and date.
    pub(crate) fn from_token(
        token: &str,
        kind: &str,
        as_of: NaiveDate,
    ) -> Result<Cursor, PageRequestError> {
        use PageRequestError::MalformedToken;
        let fields = decode_token(token, kind, as_of, 3)?;
        let value = match fields[0].as_str() {
            "-" => None,
            text => Some(Decimal::from_str(text).map_err(|_| MalformedToken("bad sort value"))?),
        };
        Ok(Cursor {
            value,
            customer: CustomerId::parse(&fields[1]).map_err(|_| MalformedToken("bad customer"))?,
            currency: Currency::parse(&fields[2]).map_err(|_| MalformedToken("bad currency"))?,
        })
    }
}

/// The listing order: value descending (none last), then customer id, then currency code.
pub(crate) fn compare(a: &Cursor, b: &Cursor) -> Ordering {
    // `Option`'s order puts `None` first, so descending puts it last.
    b.value
        .cmp(&a.value)
        .then_with(|| a.customer.cmp(&b.customer))
        .then_with(|| a.currency.code().cmp(b.currency.code()))
}

/// Sorts `items` in the listing order and cuts the page after `after`; the cursor of the page's
/// last item when more items follow.
pub(crate) fn page<T>(
    items: Vec<T>,
    key: impl Fn(&T) -> Cursor,
    after: Option<&Cursor>,
    page_size: u32,
) -> (Vec<T>, Option<Cursor>) {
    // Each item's key made once, not twice per comparison (a key holds a customer id: over
    // ten thousand items the sort would allocate hundreds of thousands of them).
    let mut keyed: Vec<(Cursor, T)> = items.into_iter().map(|item| (key(&item), item)).collect();
    keyed.sort_by(|a, b| compare(&a.0, &b.0));
    let start = after.map_or(0, |after| {
        keyed.partition_point(|(key, _)| compare(key, after) != Ordering::Greater)
    });
    let size = usize::try_from(page_size).unwrap_or(usize::MAX);
    let mut rest = keyed.split_off(start);
    let more = rest.len() > size;
    rest.truncate(size);
    let next = if more {
        rest.last().map(|(key, _)| key.clone())
    } else {
        None
    };
    (rest.into_iter().map(|(_, item)| item).collect(), next)
}

#[cfg(test)]
mod tests {
    use super::*;
    use receivables_domain::testing::date;

    fn cursor(value: Option<&str>, customer: &str, currency: &str) -> Cursor {
        Cursor {
            value: value.map(|v| Decimal::from_str(v).unwrap()),
            customer: CustomerId::parse(customer).unwrap(),
            currency: Currency::parse(currency).unwrap(),
        }
    }

    #[test]
    fn page_sizes_are_bounded() {
        assert_eq!(check_page_size(0), Err(PageRequestError::PageSize(0)));
        assert_eq!(check_page_size(1), Ok(1));
        assert_eq!(check_page_size(PAGE_SIZE_MAX), Ok(PAGE_SIZE_MAX));
        assert_eq!(
            check_page_size(PAGE_SIZE_MAX + 1),
            Err(PageRequestError::PageSize(PAGE_SIZE_MAX + 1))
        );
        assert_eq!(PageRequestError::PageSize(0).field(), "page_size");
        assert_eq!(PageRequestError::MalformedToken("x").field(), "page_token");
    }

    #[test]
    fn the_order_is_value_descending_none_last_then_customer_then_currency() {
        let mut keys = [
            cursor(None, "A", "CNY"),
            cursor(Some("0.5"), "B", "CNY"),
            cursor(Some("0.50"), "A", "USD"),
            cursor(Some("0.50"), "A", "CNY"),
            cursor(Some("1.2"), "Z", "CNY"),
            cursor(Some("-3"), "A", "CNY"),
        ];
        keys.sort_by(compare);
        let order: Vec<(Option<String>, &str, &str)> = keys
            .iter()
            .map(|k| {
                (
                    k.value.map(|v| v.normalize().to_string()),
                    k.customer.as_str(),
                    k.currency.code(),
                )
            })
            .collect();
        assert_eq!(
            order,
            vec![
                (Some("1.2".to_owned()), "Z", "CNY"),
                (Some("0.5".to_owned()), "A", "CNY"),
                (Some("0.5".to_owned()), "A", "USD"),
                (Some("0.5".to_owned()), "B", "CNY"),
                (Some("-3".to_owned()), "A", "CNY"),
                (None, "A", "CNY"),
            ]
        );
    }

    #[test]
    fn pages_continue_after_the_cursor_and_end_without_one() {
        let items: Vec<Cursor> = ["E", "D", "C", "B", "A"]
            .iter()
            .map(|c| cursor(Some("1"), c, "CNY"))
            .collect();
        let (first, next) = page(items.clone(), Cursor::clone, None, 2);
        let names = |page: &[Cursor]| -> Vec<String> {
            page.iter().map(|c| c.customer.to_string()).collect()
        };
        assert_eq!(names(&first), ["A", "B"]);
        let (second, next) = page(items.clone(), Cursor::clone, next.as_ref(), 2);
        assert_eq!(names(&second), ["C", "D"]);
        let (third, next) = page(items.clone(), Cursor::clone, next.as_ref(), 2);
        assert_eq!(names(&third), ["E"]);
        assert_eq!(next, None);
        // Exactly a page left: no token for an empty page after it.
        let (all, next) = page(items, Cursor::clone, None, 5);
        assert_eq!(all.len(), 5);
        assert_eq!(next, None);
    }

    #[test]
    fn cursor_tokens_round_trip_and_refuse_other_queries() {
        let as_of = date("2026-06-30");
        for key in [
            cursor(Some("1.0600"), "C-1", "CNY"),
            cursor(None, "x_y", "USD"),
        ] {
            let token = key.token("k", as_of);
            assert_eq!(Cursor::from_token(&token, "k", as_of), Ok(key));
        }
        let token = cursor(Some("1"), "C-1", "CNY").token("k", as_of);
        assert!(matches!(
            Cursor::from_token(&token, "other", as_of),
            Err(PageRequestError::ForeignToken(_))
        ));
        assert!(matches!(
            Cursor::from_token(&token, "k", date("2026-07-01")),
            Err(PageRequestError::ForeignToken(_))
        ));
        let hex = |text: &str| -> String { text.bytes().map(|b| format!("{b:02x}")).collect() };
        for bad in [
            String::new(),
            "zz".to_owned(),
            "abc".to_owned(),
            "00".repeat(PAGE_TOKEN_LENGTH_MAX),
            hex("v1|k|2026-06-30|1|C-1"),
            hex("v1|k|2026-06-30|1|C-1|CNY|extra"),
            hex("v2|k|2026-06-30|1|C-1|CNY"),
            hex("v1|k|2026-06-30|one|C-1|CNY"),
            hex("v1|k|2026-06-30|1|a.b|CNY"),
        ] {
            assert!(
                matches!(
                    Cursor::from_token(&bad, "k", as_of),
                    Err(PageRequestError::MalformedToken(_))
                ),
                "{bad:?} was accepted"
            );
        }
    }

    #[test]
    fn tokens_of_any_key_round_trip() {
        let as_of = date("2026-01-31");
        let token = encode_token("open-items", as_of, &["2026-01-31", "SUB-1", "INV/7.1"]);
        assert_eq!(
            decode_token(&token, "open-items", as_of, 3).unwrap(),
            ["2026-01-31", "SUB-1", "INV/7.1"]
        );
        assert!(decode_token(&token, "open-items", as_of, 2).is_err());
    }
}
