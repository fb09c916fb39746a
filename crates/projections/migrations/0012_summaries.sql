-- Today's summaries (`projections/src/summaries/`): the open rows and the balances as of one
-- business date, kept by the projector in the batch's own transaction, so that the work queue,
-- the exposure and the aging of that date read a row per customer, subsidiary and currency
-- instead of summing every movement. Queries of any other date keep the exact computation.

-- The date the summaries are as of, and the ledger's checkpoint they cover (one row; none
-- before the first summary).
CREATE TABLE summary_state (
    id       INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    as_of    DATE    NOT NULL,
    position BIGINT  NOT NULL CHECK (position >= 0)
);

-- Each row an invoice is due in with something open as of `as_of` (`open_amounts::open_rows`):
-- `row_index` -1 for an invoice that is its own row; `due_date` the row's, `invoice_due_date`
-- the invoice's own.
CREATE TABLE summary_rows (
    subsidiary_id    TEXT    NOT NULL,
    invoice_number   TEXT    NOT NULL,
    row_index        INTEGER NOT NULL CHECK (row_index >= -1),
    customer_id      TEXT    NOT NULL,
    currency         TEXT    NOT NULL,
    issue_date       DATE    NOT NULL,
    invoice_due_date DATE    NOT NULL,
    due_date         DATE    NOT NULL,
    open_minor       BIGINT  NOT NULL CHECK (open_minor > 0),
    disputed_minor   BIGINT  NOT NULL CHECK (disputed_minor >= 0 AND disputed_minor <= open_minor),
    PRIMARY KEY (subsidiary_id, invoice_number, row_index)
);
CREATE INDEX summary_rows_balance ON summary_rows (customer_id, subsidiary_id, currency, due_date);

-- Per customer, subsidiary and currency with an invoice issued on or before `as_of`: the
-- aggregates of its rows. `overdue`: rows due before `as_of`; `collectible`: their part no
-- dispute holds back. The buckets are the aging's default ones (current, 1-30, 31-60, 61-90,
-- 91-120, over 120 days), by the invoice's due date (`due_`), its issue date (`issued_`) and
-- each row's due date (`terms_`).
CREATE TABLE summary_balances (
    customer_id               TEXT   NOT NULL,
    subsidiary_id             TEXT   NOT NULL,
    currency                  TEXT   NOT NULL,
    open_minor                BIGINT NOT NULL CHECK (open_minor >= 0),
    disputed_minor            BIGINT NOT NULL CHECK (disputed_minor >= 0),
    overdue_minor             BIGINT NOT NULL CHECK (overdue_minor >= 0),
    oldest_overdue_due        DATE,
    collectible_overdue_minor BIGINT NOT NULL CHECK (collectible_overdue_minor >= 0),
    oldest_collectible_due    DATE,
    due_0 BIGINT NOT NULL, due_1 BIGINT NOT NULL, due_2 BIGINT NOT NULL,
    due_3 BIGINT NOT NULL, due_4 BIGINT NOT NULL, due_5 BIGINT NOT NULL,
    issued_0 BIGINT NOT NULL, issued_1 BIGINT NOT NULL, issued_2 BIGINT NOT NULL,
    issued_3 BIGINT NOT NULL, issued_4 BIGINT NOT NULL, issued_5 BIGINT NOT NULL,
    terms_0 BIGINT NOT NULL, terms_1 BIGINT NOT NULL, terms_2 BIGINT NOT NULL,
    terms_3 BIGINT NOT NULL, terms_4 BIGINT NOT NULL, terms_5 BIGINT NOT NULL,
    PRIMARY KEY (customer_id, subsidiary_id, currency)
);

-- Unapplied cash and credit as of `as_of` per customer, subsidiary and currency, where not
-- zero (`open_amounts::UNAPPLIED_MOVES`).
CREATE TABLE summary_unapplied (
    customer_id     TEXT   NOT NULL,
    subsidiary_id   TEXT   NOT NULL,
    currency        TEXT   NOT NULL,
    unapplied_minor BIGINT NOT NULL,
    PRIMARY KEY (customer_id, subsidiary_id, currency)
);

-- What a batch changed, while its transaction lasts (empty between batches): the invoices
-- whose rows are worked out again, and the balances summed again.
CREATE TABLE summary_dirty_invoices (
    subsidiary_id  TEXT NOT NULL,
    invoice_number TEXT NOT NULL,
    PRIMARY KEY (subsidiary_id, invoice_number)
);
CREATE TABLE summary_dirty_balances (
    customer_id   TEXT NOT NULL,
    subsidiary_id TEXT NOT NULL,
    currency      TEXT NOT NULL,
    PRIMARY KEY (customer_id, subsidiary_id, currency)
);

-- The movements of a batch are found by the positions that recorded them.
CREATE INDEX invoices_position ON invoices (position);
CREATE INDEX disputes_position ON disputes (position);
CREATE INDEX dispute_resolutions_position ON dispute_resolutions (position);
CREATE INDEX instalment_plans_position ON instalment_plans (position);
CREATE INDEX instalment_plan_cancellations_position ON instalment_plan_cancellations (position);
