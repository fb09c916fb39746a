-- Reports as known at a past moment from the live read model (`projections/src/known.rs`):
-- every row carries the log position that recorded it, so "as known at position P" is the live
-- query over the rows recorded at or before P. Most tables are appended to and carry it
-- already; these tables keep what the few overwritten ones (one row per key, as last set) held
-- before, and when each event was recorded.

-- Every value each overwritten table held, a row per event that set it: the same columns as
-- the table, keyed by its key and the position.
CREATE TABLE customers_history (
    customer_id TEXT   NOT NULL,
    name        TEXT   NOT NULL,
    legal_name  TEXT   NOT NULL,
    tax_id      TEXT   NOT NULL,
    country     TEXT   NOT NULL,
    industry    TEXT   NOT NULL,
    notes       TEXT   NOT NULL,
    contacts    TEXT   NOT NULL,
    search_text TEXT   NOT NULL,
    position    BIGINT NOT NULL,
    PRIMARY KEY (customer_id, position)
);

CREATE TABLE customer_collectors_history (
    customer_id TEXT   NOT NULL,
    collector   TEXT   NOT NULL,
    position    BIGINT NOT NULL,
    PRIMARY KEY (customer_id, position)
);

CREATE TABLE default_collectors_history (
    subsidiary_id TEXT   NOT NULL,
    collector     TEXT   NOT NULL,
    position      BIGINT NOT NULL,
    PRIMARY KEY (subsidiary_id, position)
);

CREATE TABLE payment_terms_history (
    code        TEXT   NOT NULL,
    description TEXT   NOT NULL,
    terms       TEXT   NOT NULL,
    position    BIGINT NOT NULL,
    PRIMARY KEY (code, position)
);

CREATE TABLE alert_thresholds_history (
    scope      TEXT   NOT NULL,
    thresholds TEXT   NOT NULL,
    position   BIGINT NOT NULL,
    PRIMARY KEY (scope, position)
);

CREATE TABLE customer_name_keys_history (
    customer_id    TEXT   NOT NULL,
    name_key       TEXT   NOT NULL,
    legal_name_key TEXT   NOT NULL,
    position       BIGINT NOT NULL,
    PRIMARY KEY (customer_id, position)
);

CREATE INDEX credit_terms_history_known ON credit_terms_history (customer_id, position);

-- A read model projected before these tables existed knows only the values as they then stood:
-- they are its history's first rows, and a report as known before `position` (the highest
-- checkpoint then) cannot be answered from it until it is rebuilt (RebuildReadModel). 0 for a
-- read model created with them.
CREATE TABLE known_history_since (
    id       INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    position BIGINT  NOT NULL CHECK (position >= 0)
);
INSERT INTO known_history_since (id, position)
SELECT 1, COALESCE(MAX(position), 0) FROM projection_checkpoints;

INSERT INTO customers_history
    (customer_id, name, legal_name, tax_id, country, industry, notes, contacts, search_text,
     position)
SELECT customer_id, name, legal_name, tax_id, country, industry, notes, contacts, search_text,
       position
FROM customers;
INSERT INTO customer_collectors_history (customer_id, collector, position)
SELECT customer_id, collector, position FROM customer_collectors;
INSERT INTO default_collectors_history (subsidiary_id, collector, position)
SELECT subsidiary_id, collector, position FROM default_collectors;
INSERT INTO payment_terms_history (code, description, terms, position)
SELECT code, description, terms, position FROM payment_terms;
INSERT INTO alert_thresholds_history (scope, thresholds, position)
SELECT scope, thresholds, position FROM alert_thresholds;
INSERT INTO customer_name_keys_history (customer_id, name_key, legal_name_key, position)
SELECT customer_id, name_key, legal_name_key, position FROM customer_name_keys;

-- When each event was recorded (its envelope's `recorded_at`, in nanoseconds since 1970 UTC):
-- what turns a moment into the last position known then. Kept by the `moments` projection,
-- which a read model created before it fills from the first event.
CREATE TABLE event_moments (
    position       BIGINT NOT NULL PRIMARY KEY,
    recorded_at_ns BIGINT NOT NULL
);
CREATE INDEX event_moments_recorded ON event_moments (recorded_at_ns, position);
