-- Customers and collectors (life cycle II) and the history of credit terms.
--
-- The customer's record as it now stands: one row per registered customer, replaced by every
-- update. Optional text is '' when unknown; `contacts` is the record's contacts as a JSON array
-- of {name, email, phone, role}; `search_text` is the name and the legal name, lower-cased, for
-- the search by name.
CREATE TABLE customers (
    customer_id TEXT   NOT NULL PRIMARY KEY,
    name        TEXT   NOT NULL,
    legal_name  TEXT   NOT NULL,
    tax_id      TEXT   NOT NULL,
    country     TEXT   NOT NULL,
    industry    TEXT   NOT NULL,
    notes       TEXT   NOT NULL,
    contacts    TEXT   NOT NULL,
    search_text TEXT   NOT NULL,
    position    BIGINT NOT NULL
);

-- The collector assigned to a customer ('' once the assignment is removed).
CREATE TABLE customer_collectors (
    customer_id TEXT   NOT NULL PRIMARY KEY,
    collector   TEXT   NOT NULL,
    position    BIGINT NOT NULL
);

-- The default collector of a subsidiary's customers ('' once removed).
CREATE TABLE default_collectors (
    subsidiary_id TEXT   NOT NULL PRIMARY KEY,
    collector     TEXT   NOT NULL,
    position      BIGINT NOT NULL
);

-- Every credit-terms change with the date it takes effect, so that a past date's exposure uses
-- the terms in force then: the change with the latest effective date on or before it, the
-- later recorded one among changes of the same date. `credit_terms` keeps the latest.
CREATE TABLE credit_terms_history (
    position       BIGINT NOT NULL PRIMARY KEY,
    customer_id    TEXT   NOT NULL,
    currency       TEXT   NOT NULL,
    limit_minor    BIGINT NOT NULL CHECK (limit_minor >= 0),
    policy         TEXT   NOT NULL,
    grade          TEXT   NOT NULL,
    effective_date DATE   NOT NULL
);
CREATE INDEX credit_terms_history_customer
    ON credit_terms_history (customer_id, effective_date, position);
-- A read model built before this migration knew only the latest terms; a rebuild recovers the
-- whole history from the log.
INSERT INTO credit_terms_history
    (position, customer_id, currency, limit_minor, policy, grade, effective_date)
SELECT position, customer_id, currency, limit_minor, policy, grade, effective_date
FROM credit_terms;
