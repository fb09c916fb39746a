-- Read models of the receivables log. Amounts are integer minor units of their currency (fen,
-- cents), which every SQL engine adds exactly; date boundaries are computed by the service and
-- passed in as parameters.

-- The last log position each projection has applied, written in the same transaction as the
-- rows it produced: the read model and its checkpoint never disagree.
CREATE TABLE projection_checkpoints (
    projection TEXT PRIMARY KEY,
    position   BIGINT NOT NULL CHECK (position >= 0),
    updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE invoices (
    subsidiary_id  TEXT    NOT NULL,
    invoice_number TEXT    NOT NULL,
    customer_id    TEXT    NOT NULL,
    currency       TEXT    NOT NULL,
    amount_minor   BIGINT  NOT NULL CHECK (amount_minor > 0),
    issue_date     DATE    NOT NULL,
    due_date       DATE    NOT NULL CHECK (due_date >= issue_date),
    over_limit     BOOLEAN NOT NULL,
    position       BIGINT  NOT NULL,
    PRIMARY KEY (subsidiary_id, invoice_number)
);
CREATE INDEX invoices_customer ON invoices (customer_id);
CREATE INDEX invoices_due ON invoices (due_date);

-- A payment as received: the part not applied to any invoice is unapplied cash.
CREATE TABLE payments (
    position        BIGINT PRIMARY KEY,
    customer_id     TEXT   NOT NULL,
    subsidiary_id   TEXT   NOT NULL,
    currency        TEXT   NOT NULL,
    amount_minor    BIGINT NOT NULL CHECK (amount_minor > 0),
    unapplied_minor BIGINT NOT NULL CHECK (unapplied_minor >= 0 AND unapplied_minor <= amount_minor),
    received_date   DATE   NOT NULL
);
CREATE INDEX payments_customer ON payments (customer_id, received_date);

-- What a payment applied to an invoice, effective on the payment's received date, so that the
-- open amount can be computed as of any date.
CREATE TABLE allocations (
    position       BIGINT NOT NULL,
    line           INTEGER NOT NULL,
    subsidiary_id  TEXT   NOT NULL,
    invoice_number TEXT   NOT NULL,
    amount_minor   BIGINT NOT NULL CHECK (amount_minor > 0),
    received_date  DATE   NOT NULL,
    PRIMARY KEY (position, line),
    FOREIGN KEY (subsidiary_id, invoice_number) REFERENCES invoices (subsidiary_id, invoice_number)
);
CREATE INDEX allocations_invoice ON allocations (subsidiary_id, invoice_number, received_date);

CREATE TABLE credit_terms (
    customer_id    TEXT PRIMARY KEY,
    currency       TEXT   NOT NULL,
    limit_minor    BIGINT NOT NULL CHECK (limit_minor >= 0),
    policy         TEXT   NOT NULL,
    grade          TEXT   NOT NULL,
    effective_date DATE   NOT NULL,
    position       BIGINT NOT NULL
);

CREATE TABLE promises (
    promise_id    TEXT PRIMARY KEY,
    customer_id   TEXT   NOT NULL,
    subsidiary_id TEXT   NOT NULL,
    currency      TEXT   NOT NULL,
    amount_minor  BIGINT NOT NULL CHECK (amount_minor > 0),
    made_on       DATE   NOT NULL,
    promised_date DATE   NOT NULL,
    collector     TEXT   NOT NULL,
    position      BIGINT NOT NULL
);
CREATE INDEX promises_customer ON promises (customer_id);
