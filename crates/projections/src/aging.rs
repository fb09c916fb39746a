//! Aging: open receivables as of a business date, in buckets of days past due (or since the
//! invoice date), grouped by customer, subsidiary or the whole group, per currency, with
//! unapplied cash and credit in a column of their own, and the part of the open amounts under
//! dispute in another (still owed, so in the buckets too).
//!
//! "As of" is a business date: invoices issued after it are left out, and payments, credit
//! notes, write-offs, reversals and applications dated after it do not change the open amounts
//! (`open_amounts.rs`), so the aging of a past month-end is what it was then.
//! The database sums open amounts per group, currency and reference date; the buckets are cut in
//! Rust from the bucket edges, so the SQL is the same for every edge configuration.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use receivables_domain::exchange::{ExchangeRates, Rate, convert_at};
use receivables_domain::{Currency, CustomerId, Money, SubsidiaryId};

use crate::customers;
use crate::database::{ReadPool, on_engine};
use crate::error::ProjectionError;
use crate::minor_units::from_minor;
use crate::open_amounts::{
    UNAPPLIED_MOVES, any_rows, customer_is, open_items as open_items_cte, open_rows,
};
use crate::paging::{PageRequestError, check_page_size, decode_token, encode_token};
use crate::rates::rates_on;
use crate::stored;
use crate::summaries::{self, SUMMARY_BUCKETS, SUMMARY_EDGES_DAYS};

/// Default bucket edges in days: current, 1-30, 31-60, 61-90, 91-120, over 120; the edges
/// today's summaries keep, so that the default report of the business date reads them.
pub const DEFAULT_EDGES_DAYS: [u32; 4] = SUMMARY_EDGES_DAYS;

/// Most bucket edges a report may ask for.
pub const EDGES_MAX: usize = 12;

/// What an item's age is counted from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    DueDate,
    InvoiceDate,
    /// Each row an invoice is due in (its schedule's, or the instalment plan's holding on the
    /// as-of date) by its own due date (`open_amounts::open_rows`).
    PaymentTerms,
}

impl Basis {
    /// The table expression the report reads (`open_items`, or `open_rows` after it) and the
    /// reference date column its ages count from. By payment terms where no invoice is due in
    /// rows, every invoice is its own row: the report by due date.
    async fn source(
        self,
        pool: &ReadPool,
        one_customer: bool,
    ) -> Result<(String, &'static str, &'static str), ProjectionError> {
        let items = open_items_cte(one_customer);
        Ok(match self {
            Basis::DueDate => (items, "open_items", "i.due_date"),
            Basis::InvoiceDate => (items, "open_items", "i.issue_date"),
            Basis::PaymentTerms if !any_rows(pool).await? => (items, "open_items", "i.due_date"),
            Basis::PaymentTerms => (format!("{items}{}", open_rows()), "open_rows", "i.due_date"),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Customer,
    Subsidiary,
    Group,
}

/// Why an aging request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgingRequestError {
    #[error("bucket edges must be strictly increasing positive day counts, got {0:?}")]
    Edges(Vec<u32>),
    #[error("at most {EDGES_MAX} bucket edges, got {0}")]
    TooManyEdges(usize),
}

/// A validated aging request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgingRequest {
    pub as_of: NaiveDate,
    pub basis: Basis,
    edges_days: Vec<u32>,
    pub group_by: GroupBy,
    pub subsidiary: Option<SubsidiaryId>,
    pub customer: Option<CustomerId>,
    pub currency: Option<Currency>,
}

impl AgingRequest {
    /// A request with the default edges, grouped by customer, unfiltered.
    pub fn new(as_of: NaiveDate) -> Self {
        AgingRequest {
            as_of,
            basis: Basis::DueDate,
            edges_days: DEFAULT_EDGES_DAYS.to_vec(),
            group_by: GroupBy::Customer,
            subsidiary: None,
            customer: None,
            currency: None,
        }
    }

    /// Checks bucket edges: at most [`EDGES_MAX`], strictly increasing, positive.
    pub fn check_edges(edges_days: &[u32]) -> Result<(), AgingRequestError> {
        if edges_days.len() > EDGES_MAX {
            return Err(AgingRequestError::TooManyEdges(edges_days.len()));
        }
        let increasing = edges_days.windows(2).all(|pair| pair[0] < pair[1]);
        if edges_days.is_empty() || edges_days[0] == 0 || !increasing {
            return Err(AgingRequestError::Edges(edges_days.to_vec()));
        }
        Ok(())
    }

    /// Sets the bucket edges: strictly increasing, positive.
    pub fn with_edges(mut self, edges_days: Vec<u32>) -> Result<Self, AgingRequestError> {
        AgingRequest::check_edges(&edges_days)?;
        self.edges_days = edges_days;
        Ok(self)
    }

    pub fn edges_days(&self) -> &[u32] {
        &self.edges_days
    }

    /// The bucket of an item `days` old: 0 is current (not yet due), then one per edge, then
    /// "over the last edge".
    pub fn bucket(&self, days: i64) -> usize {
        if days <= 0 {
            return 0;
        }
        self.edges_days
            .iter()
            .position(|edge| days <= i64::from(*edge))
            .map_or(self.edges_days.len() + 1, |index| index + 1)
    }
}

/// One line of the report: a group in a currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgingLine {
    pub group: String,
    pub currency: Currency,
    /// Open amounts per bucket: current, then one per edge, then over the last edge.
    pub buckets: Vec<Money>,
    pub open_total: Money,
    /// Unapplied cash and unapplied credit (`open_amounts.rs`).
    pub unapplied: Money,
    /// The part of `open_total` under a dispute holding on the date (`open_amounts.rs`).
    pub disputed: Money,
    /// The customer's name when the lines are by customer and it is registered.
    pub name: Option<String>,
    /// The line in the group's currency at the as-of date's rate, beside its own; none before
    /// any rate was published or when the line's currency has no rate then.
    pub in_group_currency: Option<AgingInGroupCurrency>,
}

/// An aging line's amounts in the group's currency: each converted at the line currency's
/// rate of the as-of date and rounded on its own (`receivables_domain::exchange`), the open
/// total the sum of the converted buckets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgingInGroupCurrency {
    pub rate: Rate,
    pub buckets: Vec<Money>,
    pub open_total: Money,
    pub unapplied: Money,
    pub disputed: Money,
}

impl AgingInGroupCurrency {
    fn of(line: &AgingLine, rates: &ExchangeRates, as_of: NaiveDate) -> Option<Self> {
        let base = rates.base()?;
        let rate = rates.cross_rate(line.currency, base, as_of).ok()?;
        let convert = |money: &Money| convert_at(money.amount(), rate, base);
        let buckets: Vec<Money> = line.buckets.iter().map(convert).collect();
        let total = buckets.iter().map(Money::amount).sum();
        Some(AgingInGroupCurrency {
            rate,
            open_total: Money::of(total, base),
            buckets,
            unapplied: convert(&line.unapplied),
            disputed: convert(&line.disputed),
        })
    }
}

/// Per group and currency: the buckets, the unapplied money, the disputed part, in minor units.
type Lines = BTreeMap<(String, String), (Vec<i64>, i64, i64)>;

/// The aging report, lines ordered by group and currency.
pub async fn report(
    pool: &ReadPool,
    request: &AgingRequest,
) -> Result<Vec<AgingLine>, ProjectionError> {
    let lines = match summarised_lines(pool, request).await? {
        Some(lines) => lines,
        None => exact_lines(pool, request).await?,
    };
    let names = match request.group_by {
        GroupBy::Customer => {
            let customers = lines
                .keys()
                .map(|(group, _)| stored::customer(group))
                .collect::<Result<Vec<_>, _>>()?;
            customers::names(pool, &customers.iter().collect::<Vec<_>>()).await?
        }
        GroupBy::Subsidiary | GroupBy::Group => HashMap::new(),
    };
    let rates = rates_on(pool, request.as_of).await?;
    lines
        .into_iter()
        .map(|((group, code), (buckets, unapplied, disputed))| {
            let currency = stored::currency(&code)?;
            let mut line = AgingLine {
                in_group_currency: None,
                name: names.get(&group).cloned(),
                group,
                currency,
                open_total: from_minor(buckets.iter().sum(), currency),
                buckets: buckets
                    .into_iter()
                    .map(|b| from_minor(b, currency))
                    .collect(),
                unapplied: from_minor(unapplied, currency),
                disputed: from_minor(disputed, currency),
            };
            line.in_group_currency = AgingInGroupCurrency::of(&line, &rates, request.as_of);
            Ok(line)
        })
        .collect()
}

/// The lines from today's summaries (`summaries`), when they answer for the request's date and
/// it asks for their buckets (the default edges).
async fn summarised_lines(
    pool: &ReadPool,
    request: &AgingRequest,
) -> Result<Option<Lines>, ProjectionError> {
    if request.edges_days != SUMMARY_EDGES_DAYS {
        return Ok(None);
    }
    let Some(state) = summaries::current(pool, request.as_of).await? else {
        return Ok(None);
    };
    let group = match request.group_by {
        GroupBy::Customer => "customer_id",
        GroupBy::Subsidiary => "subsidiary_id",
        GroupBy::Group => "'GROUP'",
    };
    // By payment terms where no invoice is due in rows, every invoice is its own row: the
    // rows' buckets are the invoices'.
    let basis = match request.basis {
        Basis::DueDate => "due",
        Basis::InvoiceDate => "issued",
        Basis::PaymentTerms => "terms",
    };
    let filters = format!(
        "($1 IS NULL OR subsidiary_id = $1) AND {customer} AND ($3 IS NULL OR currency = $3)",
        customer = customer_is(2, request.customer.is_some()),
    );
    let buckets: Vec<String> = (0..SUMMARY_BUCKETS)
        .map(|bucket| format!("CAST(SUM({basis}_{bucket}) AS BIGINT)"))
        .collect();
    let open_sql = format!(
        "SELECT CAST({group} AS TEXT), currency, {buckets}, CAST(SUM(disputed_minor) AS BIGINT)
         FROM summary_balances
         WHERE {filters}
         GROUP BY 1, 2
         HAVING SUM(open_minor) <> 0",
        buckets = buckets.join(", "),
    );
    let unapplied_sql = format!(
        "SELECT CAST({group} AS TEXT), currency, CAST(SUM(unapplied_minor) AS BIGINT)
         FROM summary_unapplied
         WHERE {filters}
         GROUP BY 1, 2
         HAVING SUM(unapplied_minor) <> 0"
    );
    let subsidiary = request.subsidiary.as_ref().map(SubsidiaryId::as_str);
    let customer = request.customer.as_ref().map(CustomerId::as_str);
    let currency = request.currency.map(Currency::code);
    // The row type spells the six buckets out.
    const _: () = assert!(SUMMARY_BUCKETS == 6);
    type OpenRow = (String, String, i64, i64, i64, i64, i64, i64, i64);
    let (open, unapplied): (Vec<OpenRow>, Vec<(String, String, i64)>) = on_engine!(pool, pool => (
        sqlx::query_as(&open_sql)
            .bind(subsidiary)
            .bind(customer)
            .bind(currency)
            .fetch_all(pool)
            .await?,
        sqlx::query_as(&unapplied_sql)
            .bind(subsidiary)
            .bind(customer)
            .bind(currency)
            .fetch_all(pool)
            .await?,
    ));
    if !summaries::unchanged(pool, state).await? {
        return Ok(None);
    }
    let mut lines = Lines::new();
    for (group, currency, b0, b1, b2, b3, b4, b5, disputed) in open {
        lines.insert(
            (group, currency),
            (vec![b0, b1, b2, b3, b4, b5], 0, disputed),
        );
    }
    for (group, currency, unapplied_minor) in unapplied {
        lines
            .entry((group, currency))
            .or_insert_with(|| (vec![0; SUMMARY_BUCKETS], 0, 0))
            .1 += unapplied_minor;
    }
    Ok(Some(lines))
}

/// The lines worked out from the movements (the exact computation, for any date and edges).
async fn exact_lines(pool: &ReadPool, request: &AgingRequest) -> Result<Lines, ProjectionError> {
    // The group column of an invoice, and of a payment (unapplied cash belongs to the customer
    // and to the subsidiary that received it).
    let (invoice_group, payment_group) = match request.group_by {
        GroupBy::Customer => ("i.customer_id", "customer_id"),
        GroupBy::Subsidiary => ("i.subsidiary_id", "subsidiary_id"),
        GroupBy::Group => ("'GROUP'", "'GROUP'"),
    };
    let (with, source, reference) = request
        .basis
        .source(pool, request.customer.is_some())
        .await?;
    let open_sql = format!(
        "WITH {with}
         SELECT CAST({group} AS TEXT), i.currency, {reference}, CAST(SUM(i.open_minor) AS BIGINT),
                CAST(SUM(i.disputed_minor) AS BIGINT)
         FROM {source} i
         GROUP BY 1, 2, 3
         HAVING SUM(i.open_minor) <> 0",
        group = invoice_group,
    );
    let subsidiary = request.subsidiary.as_ref().map(SubsidiaryId::as_str);
    let customer = request.customer.as_ref().map(CustomerId::as_str);
    let currency = request.currency.map(Currency::code);
    let open: Vec<(String, String, NaiveDate, i64, i64)> = on_engine!(pool, pool => sqlx::query_as(&open_sql)
        .bind(request.as_of)
        .bind(subsidiary)
        .bind(customer)
        .bind(currency)
        .fetch_all(pool).await)?;
    let customer_filter = customer_is(3, request.customer.is_some());
    let unapplied_sql = format!(
        "WITH {UNAPPLIED_MOVES}
         SELECT CAST({group} AS TEXT), currency, CAST(SUM(amount_minor) AS BIGINT)
         FROM unapplied_moves
         WHERE moved_on <= $1
           AND ($2 IS NULL OR subsidiary_id = $2)
           AND {customer_filter}
           AND ($4 IS NULL OR currency = $4)
         GROUP BY 1, 2
         HAVING SUM(amount_minor) <> 0",
        group = payment_group,
    );
    let unapplied: Vec<(String, String, i64)> = on_engine!(pool, pool => sqlx::query_as(&unapplied_sql)
        .bind(request.as_of)
        .bind(subsidiary)
        .bind(customer)
        .bind(currency)
        .fetch_all(pool).await)?;

    let bucket_count = request.edges_days.len() + 2;
    let mut lines = Lines::new();
    for (group, currency, reference_date, open_minor, disputed_minor) in open {
        let days = (request.as_of - reference_date).num_days();
        let line = lines
            .entry((group, currency))
            .or_insert_with(|| (vec![0; bucket_count], 0, 0));
        line.0[request.bucket(days)] += open_minor;
        line.2 += disputed_minor;
    }
    for (group, currency, unapplied_minor) in unapplied {
        lines
            .entry((group, currency))
            .or_insert_with(|| (vec![0; bucket_count], 0, 0))
            .1 += unapplied_minor;
    }
    Ok(lines)
}

/// Why a page of open items was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error(transparent)]
    Page(#[from] PageRequestError),
    #[error("bucket {bucket} does not exist; the report has buckets 0 to {last}")]
    Bucket { bucket: usize, last: usize },
}

impl PageError {
    /// The request's field at fault.
    pub fn field(&self) -> &'static str {
        match self {
            PageError::Page(error) => error.field(),
            PageError::Bucket { .. } => "bucket",
        }
    }
}

/// The listing kind written in open-items page tokens.
const OPEN_ITEMS_TOKEN_KIND: &str = "open-items";

/// One open invoice as of the request's date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenItemLine {
    pub subsidiary_id: String,
    pub invoice_number: String,
    pub customer_id: String,
    pub amount: Money,
    pub open: Money,
    pub issue_date: NaiveDate,
    pub due_date: NaiveDate,
    /// Days from the reference date (due or issue) to the as-of date; negative when not due.
    pub days: i64,
    pub over_limit: bool,
}

/// A page of open items and the token of the next one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenItemsPage {
    pub items: Vec<OpenItemLine>,
    pub next_page_token: Option<String>,
}

/// Where a page starts: after this reference date, subsidiary and invoice number.
fn decode_position(
    token: &str,
    as_of: NaiveDate,
) -> Result<(NaiveDate, String, String), PageRequestError> {
    let mut fields = decode_token(token, OPEN_ITEMS_TOKEN_KIND, as_of, 3)?.into_iter();
    let (Some(reference), Some(subsidiary), Some(number)) =
        (fields.next(), fields.next(), fields.next())
    else {
        return Err(PageRequestError::MalformedToken("wrong number of fields"));
    };
    let reference = NaiveDate::parse_from_str(&reference, "%Y-%m-%d")
        .map_err(|_| PageRequestError::MalformedToken("bad date"))?;
    Ok((reference, subsidiary, number))
}

/// The reference dates of a bucket, inclusive, as `(earliest, latest)`; `None` is unbounded.
fn bucket_dates(
    request: &AgingRequest,
    bucket: usize,
) -> Result<(Option<NaiveDate>, Option<NaiveDate>), PageError> {
    let edges = &request.edges_days;
    let last = edges.len() + 1;
    let days_before = |days: u32| request.as_of - chrono::Days::new(u64::from(days));
    match bucket {
        0 => Ok((Some(request.as_of), None)),
        b if b <= edges.len() => {
            let newest = if b == 1 { 1 } else { edges[b - 2] + 1 };
            Ok((Some(days_before(edges[b - 1])), Some(days_before(newest))))
        }
        b if b == last => Ok((None, Some(days_before(edges[edges.len() - 1] + 1)))),
        b => Err(PageError::Bucket { bucket: b, last }),
    }
}

/// The open invoices of the request's scope as of its date, oldest reference date first, a page
/// at a time; `bucket` narrows them to one bucket of the report.
pub async fn open_items(
    pool: &ReadPool,
    request: &AgingRequest,
    bucket: Option<usize>,
    page_size: u32,
    page_token: Option<&str>,
) -> Result<OpenItemsPage, OpenItemsError> {
    // The same page-size rule as every other listing (1..=PAGE_SIZE_MAX).
    let size = check_page_size(page_size).map_err(PageError::from)?;
    let (earliest, latest) = match bucket {
        Some(bucket) => bucket_dates(request, bucket)?,
        None => (None, None),
    };
    let after = page_token
        .map(|token| decode_position(token, request.as_of))
        .transpose()
        .map_err(PageError::from)?;
    let (with, source, reference) = request
        .basis
        .source(pool, request.customer.is_some())
        .await
        .map_err(OpenItemsError::from)?;
    let sql = format!(
        "WITH {with}
         SELECT i.subsidiary_id, i.invoice_number, i.customer_id, i.currency, i.amount_minor,
                CAST(i.open_minor AS BIGINT), i.issue_date, i.due_date, i.over_limit, {reference}
         FROM {source} i
         WHERE i.open_minor <> 0
           AND ($5 IS NULL OR {reference} >= $5)
           AND ($6 IS NULL OR {reference} <= $6)
           AND ($7 IS NULL OR ({reference}, i.subsidiary_id, i.invoice_number) > ($7, $8, $9))
         ORDER BY {reference}, i.subsidiary_id, i.invoice_number
         LIMIT $10",
    );
    type Row = (
        String,
        String,
        String,
        String,
        i64,
        i64,
        NaiveDate,
        NaiveDate,
        bool,
        NaiveDate,
    );
    let rows: Vec<Row> = on_engine!(pool, pool => sqlx::query_as(&sql)
        .bind(request.as_of)
        .bind(request.subsidiary.as_ref().map(SubsidiaryId::as_str))
        .bind(request.customer.as_ref().map(CustomerId::as_str))
        .bind(request.currency.map(Currency::code))
        .bind(earliest)
        .bind(latest)
        .bind(after.as_ref().map(|a| a.0))
        .bind(after.as_ref().map(|a| a.1.clone()))
        .bind(after.as_ref().map(|a| a.2.clone()))
        .bind(i64::from(size) + 1)
        .fetch_all(pool).await)
    .map_err(ProjectionError::from)?;
    let more = rows.len() > size as usize;
    let mut items = Vec::with_capacity(rows.len().min(size as usize));
    let mut next_page_token = None;
    for (index, row) in rows.into_iter().enumerate() {
        let (
            subsidiary_id,
            invoice_number,
            customer_id,
            code,
            amount,
            open,
            issue,
            due,
            over,
            reference,
        ) = row;
        if index == size as usize {
            break;
        }
        if more && index + 1 == size as usize {
            next_page_token = Some(encode_token(
                OPEN_ITEMS_TOKEN_KIND,
                request.as_of,
                &[&reference.to_string(), &subsidiary_id, &invoice_number],
            ));
        }
        let currency = stored::currency(&code)?;
        items.push(OpenItemLine {
            subsidiary_id,
            invoice_number,
            customer_id,
            amount: from_minor(amount, currency),
            open: from_minor(open, currency),
            issue_date: issue,
            due_date: due,
            days: (request.as_of - reference).num_days(),
            over_limit: over,
        });
    }
    Ok(OpenItemsPage {
        items,
        next_page_token,
    })
}

/// Why open items could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum OpenItemsError {
    #[error(transparent)]
    Page(#[from] PageError),
    #[error(transparent)]
    Projection(#[from] ProjectionError),
}

#[cfg(test)]
mod tests {
    use super::*;
    use receivables_domain::testing::date;

    #[test]
    fn the_summaries_bucket_starts_cut_as_the_aging_report_does() {
        // Given the default edges 30, 60, 90, 120 as of 2026-06-30
        let as_of = date("2026-06-30");
        let starts = summaries::bucket_starts(as_of).unwrap();
        // Then each bucket starts that many days back: 06-30, 05-31, 05-01, 04-01, 03-02
        assert_eq!(
            starts,
            [
                date("2026-06-30"),
                date("2026-05-31"),
                date("2026-05-01"),
                date("2026-04-01"),
                date("2026-03-02"),
            ]
        );
        // And a reference date falls in the bucket the report gives its age
        let report = AgingRequest::new(as_of);
        for days in [-3_i64, 0, 1, 29, 30, 31, 60, 61, 90, 91, 120, 121, 400] {
            let reference = as_of - chrono::Duration::days(days);
            let by_starts = starts
                .iter()
                .position(|start| reference >= *start)
                .unwrap_or(SUMMARY_BUCKETS - 1);
            assert_eq!(by_starts, report.bucket(days), "{days} days");
        }
    }

    fn request() -> AgingRequest {
        AgingRequest::new(NaiveDate::from_ymd_opt(2026, 6, 30).unwrap())
    }

    #[test]
    fn buckets_follow_the_edges() {
        let r = request();
        assert_eq!(r.bucket(-5), 0);
        assert_eq!(r.bucket(0), 0);
        assert_eq!(r.bucket(1), 1);
        assert_eq!(r.bucket(30), 1);
        assert_eq!(r.bucket(31), 2);
        assert_eq!(r.bucket(90), 3);
        assert_eq!(r.bucket(120), 4);
        assert_eq!(r.bucket(121), 5);
    }

    #[test]
    fn bucket_dates_match_the_buckets() {
        let r = request(); // as of 2026-06-30, edges 30/60/90/120
        let d = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap();
        assert_eq!(bucket_dates(&r, 0).unwrap(), (Some(d("2026-06-30")), None));
        // 1-30 days: due 2026-05-31 (30 days) to 2026-06-29 (1 day).
        assert_eq!(
            bucket_dates(&r, 1).unwrap(),
            (Some(d("2026-05-31")), Some(d("2026-06-29")))
        );
        // 31-60 days: due 2026-05-01 (60 days) to 2026-05-30 (31 days).
        assert_eq!(
            bucket_dates(&r, 2).unwrap(),
            (Some(d("2026-05-01")), Some(d("2026-05-30")))
        );
        // Over 120 days: due 2026-03-01 (121 days) or earlier.
        assert_eq!(bucket_dates(&r, 5).unwrap(), (None, Some(d("2026-03-01"))));
        assert_eq!(
            bucket_dates(&r, 6),
            Err(PageError::Bucket { bucket: 6, last: 5 })
        );
    }

    #[test]
    fn page_tokens_round_trip_and_garbage_is_refused() {
        let as_of = NaiveDate::from_ymd_opt(2026, 6, 30).unwrap();
        let reference = NaiveDate::from_ymd_opt(2026, 1, 31).unwrap();
        let token = encode_token(
            OPEN_ITEMS_TOKEN_KIND,
            as_of,
            &["2026-01-31", "SUB-1", "INV/7.1"],
        );
        assert_eq!(
            decode_position(&token, as_of).unwrap(),
            (reference, "SUB-1".to_owned(), "INV/7.1".to_owned())
        );
        assert!(decode_position("zz", as_of).is_err());
        assert!(decode_position(&hex::encode("2026-01-31"), as_of).is_err());
        let other_date = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
        assert!(matches!(
            decode_position(&token, other_date),
            Err(PageRequestError::ForeignToken(_))
        ));
    }

    #[test]
    fn edges_must_increase() {
        assert!(request().with_edges(vec![30, 30]).is_err());
        assert!(request().with_edges(vec![60, 30]).is_err());
        assert!(request().with_edges(vec![0, 30]).is_err());
        assert!(request().with_edges(vec![]).is_err());
        assert!(request().with_edges((1..=13).collect()).is_err());
        let r = request().with_edges(vec![15, 45]).unwrap();
        assert_eq!(r.bucket(16), 2);
        assert_eq!(r.bucket(46), 3);
    }
}
