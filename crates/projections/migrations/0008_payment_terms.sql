-- Payment terms and instalments, early-payment discounts.

-- The group's payment-terms templates, one row per code as last defined. `terms` is the
-- template's lines and discount as the event recorded them (JSON text), for display.
CREATE TABLE payment_terms (
    code        TEXT   NOT NULL PRIMARY KEY,
    description TEXT   NOT NULL,
    terms       TEXT   NOT NULL,
    position    BIGINT NOT NULL
);

-- The rows of an invoice due in more than one (a template's schedule, an explicit one); an
-- invoice without rows here is due whole on its due date. `cumulative_minor` is the sum of
-- the rows up to and including this one: rows are paid in due order, so a row still owes
-- clamp(cumulative_minor - (amount_minor - open_minor), 0, amount_minor) (`open_amounts.rs`).
CREATE TABLE schedule_rows (
    subsidiary_id    TEXT    NOT NULL,
    invoice_number   TEXT    NOT NULL,
    row_index        INTEGER NOT NULL CHECK (row_index >= 0),
    due_date         DATE    NOT NULL,
    amount_minor     BIGINT  NOT NULL CHECK (amount_minor > 0),
    cumulative_minor BIGINT  NOT NULL CHECK (cumulative_minor >= amount_minor),
    PRIMARY KEY (subsidiary_id, invoice_number, row_index),
    FOREIGN KEY (subsidiary_id, invoice_number) REFERENCES invoices (subsidiary_id, invoice_number)
);

-- Instalment plans agreed on overdue invoices: while one holds (from agreed_on, until the day
-- it was cancelled), the invoice is due by its rows instead of its own.
CREATE TABLE instalment_plans (
    plan_id        TEXT    NOT NULL PRIMARY KEY,
    subsidiary_id  TEXT    NOT NULL,
    invoice_number TEXT    NOT NULL,
    customer_id    TEXT    NOT NULL,
    currency       TEXT    NOT NULL,
    agreed_on      DATE    NOT NULL,
    -- What the invoice owed on agreed_on: the rows' total.
    total_minor    BIGINT  NOT NULL CHECK (total_minor > 0),
    overdue_minor  BIGINT  NOT NULL CHECK (overdue_minor > 0),
    collector      TEXT    NOT NULL,
    note           TEXT    NOT NULL,
    position       BIGINT  NOT NULL,
    FOREIGN KEY (subsidiary_id, invoice_number) REFERENCES invoices (subsidiary_id, invoice_number)
);
CREATE INDEX instalment_plans_invoice ON instalment_plans (subsidiary_id, invoice_number, agreed_on);
CREATE INDEX instalment_plans_customer ON instalment_plans (customer_id, agreed_on);

CREATE TABLE instalment_plan_rows (
    plan_id          TEXT    NOT NULL,
    row_index        INTEGER NOT NULL CHECK (row_index >= 0),
    due_date         DATE    NOT NULL,
    amount_minor     BIGINT  NOT NULL CHECK (amount_minor > 0),
    cumulative_minor BIGINT  NOT NULL CHECK (cumulative_minor >= amount_minor),
    PRIMARY KEY (plan_id, row_index),
    FOREIGN KEY (plan_id) REFERENCES instalment_plans (plan_id)
);

CREATE TABLE instalment_plan_cancellations (
    plan_id      TEXT   NOT NULL PRIMARY KEY,
    cancelled_on DATE   NOT NULL,
    reason       TEXT   NOT NULL,
    position     BIGINT NOT NULL,
    FOREIGN KEY (plan_id) REFERENCES instalment_plans (plan_id)
);

-- Settlements gain a kind: an early-payment discount, dated on its payment's received date,
-- whose document is the payment's command id. The table is rebuilt (the same statements on
-- both engines: SQLite cannot change a CHECK constraint in place).
CREATE TABLE settlements_0008 (
    position       BIGINT  NOT NULL,
    line           INTEGER NOT NULL,
    customer_id    TEXT    NOT NULL,
    subsidiary_id  TEXT    NOT NULL,
    invoice_number TEXT    NOT NULL,
    currency       TEXT    NOT NULL,
    kind           TEXT    NOT NULL CHECK (kind IN ('credit_note', 'write_off', 'reversal', 'application', 'discount')),
    amount_minor   BIGINT  NOT NULL CHECK (amount_minor <> 0),
    effective_date DATE    NOT NULL,
    -- The credit-note number, the reversed or discounted payment's command id, or the
    -- write-off's reason.
    document       TEXT    NOT NULL,
    PRIMARY KEY (position, line),
    FOREIGN KEY (subsidiary_id, invoice_number) REFERENCES invoices (subsidiary_id, invoice_number)
);
INSERT INTO settlements_0008
    SELECT position, line, customer_id, subsidiary_id, invoice_number, currency, kind,
           amount_minor, effective_date, document
    FROM settlements;
DROP TABLE settlements;
ALTER TABLE settlements_0008 RENAME TO settlements;
CREATE INDEX settlements_invoice ON settlements (subsidiary_id, invoice_number, effective_date);
CREATE INDEX settlements_customer ON settlements (customer_id, kind, effective_date);
