-- Collection activities: every contact a collector recorded with a customer (`account/
-- collection_activity.rs`), and the next action's date of those that planned one.

-- One row per activity; `invoices` names the invoices it was about as SUBSIDIARY/NUMBER,
-- comma-separated (empty: the account as a whole), for reading, not for joining.
CREATE TABLE collection_activities (
    position      BIGINT NOT NULL PRIMARY KEY,
    customer_id   TEXT   NOT NULL,
    subsidiary_id TEXT   NOT NULL,
    channel       TEXT   NOT NULL,
    outcome       TEXT   NOT NULL,
    occurred_on   DATE   NOT NULL,
    collector     TEXT   NOT NULL,
    contact       TEXT   NOT NULL,
    note          TEXT   NOT NULL,
    invoices      TEXT   NOT NULL
);

-- The customer's latest activity as of a date is the one with the latest occurred_on on or
-- before it, the later recorded among those of one day.
CREATE INDEX collection_activities_by_customer
    ON collection_activities (customer_id, occurred_on, position);

CREATE INDEX collection_activities_by_collector
    ON collection_activities (collector, occurred_on);

-- The next action an activity planned: the customer stays out of the work queue from the
-- activity's day until this day, while the activity is its latest.
CREATE TABLE collection_next_actions (
    position       BIGINT NOT NULL PRIMARY KEY REFERENCES collection_activities (position),
    next_action_on DATE   NOT NULL
);
