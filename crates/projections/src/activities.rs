//! Collection activities (催收记录): the contacts collectors recorded with customers, listed
//! newest first by customer, collector and period, and each customer's last contact as of a
//! date, which the work queue shows and snoozes by.
//!
//! A customer's last contact as of a date is its activity with the latest day of contact on or
//! before the date, the later recorded among those of one day. Its next action, when it
//! planned one after the date, leaves the customer out of the work queue until that day: a
//! later contact replaces the plan, as a collector's latest word on an account does.

use std::collections::HashMap;

use chrono::NaiveDate;
use receivables_domain::account::collection_activity::{Channel, Outcome};
use receivables_domain::ids::PersonName;
use receivables_domain::{CustomerId, SubsidiaryId};

use crate::database::{ReadPool, on_engine};
use crate::error::ProjectionError;
use crate::paging::{
    PAGE_SIZE_DEFAULT, PageRequestError, Paged, check_page_size, decode_token, encode_token,
};
use crate::stored;

const TOKEN_KIND: &str = "activities";

/// Every customer's last contact as of `as_of`, by customer id.
pub async fn last_contacts(
    pool: &ReadPool,
    as_of: NaiveDate,
) -> Result<HashMap<String, Activity>, ProjectionError> {
    let rows: Vec<ActivityRow> = on_engine!(pool, pool => sqlx::query_as(
        "SELECT position, customer_id, subsidiary_id, channel, outcome, occurred_on, collector,
                contact, note, invoices, next_action_on
         FROM (SELECT a.*, n.next_action_on,
                      ROW_NUMBER() OVER (PARTITION BY a.customer_id
                                         ORDER BY a.occurred_on DESC, a.position DESC) AS latest
               FROM collection_activities a
               LEFT JOIN collection_next_actions n ON n.position = a.position
               WHERE a.occurred_on <= $1) ranked
         WHERE latest = 1",
    )
    .bind(as_of)
    .fetch_all(pool).await)?;
    rows.into_iter()
        .map(|row| {
            let activity = activity(row)?;
            Ok((activity.customer.as_str().to_owned(), activity))
        })
        .collect()
}

/// Why a listing of activities was refused before it was read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the period's first day {from} is after its last day {to}")]
pub struct PeriodError {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// A validated request for a page of activities: those of `from` through `to`, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivitiesQuery {
    from: NaiveDate,
    to: NaiveDate,
    pub customer: Option<CustomerId>,
    pub collector: Option<PersonName>,
    page_size: u32,
    /// The day and position of the last activity of the page before.
    after: Option<(NaiveDate, i64)>,
}

impl ActivitiesQuery {
    /// The first page of [`PAGE_SIZE_DEFAULT`] activities of `from` through `to`.
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Self, PeriodError> {
        if from > to {
            return Err(PeriodError { from, to });
        }
        Ok(ActivitiesQuery {
            from,
            to,
            customer: None,
            collector: None,
            page_size: PAGE_SIZE_DEFAULT,
            after: None,
        })
    }
}

impl Paged for ActivitiesQuery {
    fn with_page_size(mut self, page_size: u32) -> Result<Self, PageRequestError> {
        self.page_size = check_page_size(page_size)?;
        Ok(self)
    }

    /// Continues after the page that returned `token` (an activities token for the same last
    /// day).
    fn with_page_token(mut self, token: &str) -> Result<Self, PageRequestError> {
        let fields = decode_token(token, TOKEN_KIND, self.to, 2)?;
        let malformed = PageRequestError::MalformedToken("not an activity of this listing");
        let [day, position] = fields.as_slice() else {
            return Err(malformed);
        };
        self.after = Some((
            day.parse().map_err(|_| malformed.clone())?,
            position.parse().map_err(|_| malformed)?,
        ));
        Ok(self)
    }
}

/// One contact with a customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    /// The log position of the event that recorded it.
    pub position: u64,
    pub customer: CustomerId,
    pub subsidiary: SubsidiaryId,
    pub channel: Channel,
    pub outcome: Outcome,
    pub occurred_on: NaiveDate,
    pub collector: PersonName,
    pub contact: String,
    pub note: String,
    pub next_action_on: Option<NaiveDate>,
    /// The invoices it was about, as SUBSIDIARY/NUMBER; empty: the account as a whole.
    pub invoices: Vec<String>,
}

impl Activity {
    /// The first day the customer is back in the work queue, when this contact, as its last,
    /// snoozes it as of `as_of`: a next action after `as_of`.
    pub fn snoozes_until(&self, as_of: NaiveDate) -> Option<NaiveDate> {
        self.next_action_on.filter(|next| *next > as_of)
    }
}

/// A page of activities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivitiesPage {
    pub activities: Vec<Activity>,
    /// Present when more activities follow: pass it to [`Paged::with_page_token`].
    pub next_page_token: Option<String>,
}

type ActivityRow = (
    i64,
    String,
    String,
    String,
    String,
    NaiveDate,
    String,
    String,
    String,
    String,
    Option<NaiveDate>,
);

/// A page of activities as `query` asks.
pub async fn list_activities(
    pool: &ReadPool,
    query: &ActivitiesQuery,
) -> Result<ActivitiesPage, ProjectionError> {
    let after = query.after;
    let limit = i64::from(query.page_size) + 1;
    let rows: Vec<ActivityRow> = on_engine!(pool, pool => sqlx::query_as(
        "SELECT a.position, a.customer_id, a.subsidiary_id, a.channel, a.outcome, a.occurred_on,
                a.collector, a.contact, a.note, a.invoices, n.next_action_on
         FROM collection_activities a
         LEFT JOIN collection_next_actions n ON n.position = a.position
         WHERE a.occurred_on BETWEEN $1 AND $2
           AND ($3 IS NULL OR a.customer_id = $3)
           AND ($4 IS NULL OR a.collector = $4)
           AND ($5 IS NULL OR a.occurred_on < $5 OR (a.occurred_on = $5 AND a.position < $6))
         ORDER BY a.occurred_on DESC, a.position DESC
         LIMIT $7",
    )
    .persistent(false)
    .bind(query.from)
    .bind(query.to)
    .bind(query.customer.as_ref().map(CustomerId::as_str))
    .bind(query.collector.as_ref().map(PersonName::as_str))
    .bind(after.map(|(day, _)| day))
    .bind(after.map(|(_, position)| position))
    .bind(limit)
    .fetch_all(pool).await)?;
    let mut activities = rows
        .into_iter()
        .map(activity)
        .collect::<Result<Vec<_>, ProjectionError>>()?;
    let more = activities.len() > query.page_size as usize;
    activities.truncate(query.page_size as usize);
    let next_page_token = match activities.last() {
        Some(last) if more => Some(encode_token(
            TOKEN_KIND,
            query.to,
            &[&last.occurred_on.to_string(), &last.position.to_string()],
        )),
        _ => None,
    };
    Ok(ActivitiesPage {
        activities,
        next_page_token,
    })
}

fn activity(
    (
        position,
        customer,
        subsidiary,
        channel,
        outcome,
        occurred_on,
        collector,
        contact,
        note,
        invoices,
        next_action_on,
    ): ActivityRow,
) -> Result<Activity, ProjectionError> {
    Ok(Activity {
        position: u64::try_from(position)
            .map_err(|_| ProjectionError::Stored(format!("activity position {position}")))?,
        customer: stored::customer(&customer)?,
        subsidiary: stored::subsidiary(&subsidiary)?,
        channel: stored::name("channel", &channel)?,
        outcome: stored::name("outcome", &outcome)?,
        occurred_on,
        collector: stored::person(&collector)?,
        contact,
        note,
        next_action_on,
        invoices: invoices
            .split(',')
            .filter(|key| !key.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}
