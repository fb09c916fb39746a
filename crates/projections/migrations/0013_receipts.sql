-- Bank receipts (`projections/src/receipts.rs`): the group's bank accounts, the credit lines of
-- their statements, what became of each line, and the keys by which a remittance text finds
-- the documents it names. Every table is appended to (a line's outcome is a row of its own),
-- so that a line's state as known at a position is the rows recorded by then.

-- One of the group's bank accounts as registered.
CREATE TABLE bank_accounts (
    bank_account_id TEXT   NOT NULL PRIMARY KEY,
    subsidiary_id   TEXT   NOT NULL,
    currency        TEXT   NOT NULL,
    number          TEXT   NOT NULL,
    bank            TEXT   NOT NULL,
    name            TEXT   NOT NULL,
    position        BIGINT NOT NULL
);

-- A credit line imported from a statement. Optional text is ''; `payer_name_key` and
-- `payer_account_key` are the payer normalised (`matching::payer_key`), '' when none, by which
-- what was learned of a payer is looked up.
CREATE TABLE statement_lines (
    bank_account_id   TEXT   NOT NULL,
    line_id           TEXT   NOT NULL,
    statement_id      TEXT   NOT NULL,
    subsidiary_id     TEXT   NOT NULL,
    value_date        DATE   NOT NULL,
    currency          TEXT   NOT NULL,
    amount_minor      BIGINT NOT NULL CHECK (amount_minor > 0),
    payer_name        TEXT   NOT NULL,
    payer_account     TEXT   NOT NULL,
    payer_name_key    TEXT   NOT NULL,
    payer_account_key TEXT   NOT NULL,
    reference         TEXT   NOT NULL,
    position          BIGINT NOT NULL,
    PRIMARY KEY (bank_account_id, line_id)
);
CREATE INDEX statement_lines_value_date ON statement_lines (value_date, bank_account_id);
CREATE INDEX statement_lines_payer_account ON statement_lines (payer_account_key);
CREATE INDEX statement_lines_payer_name ON statement_lines (payer_name_key);

-- What became of a line: 'MATCHED' (by 'AUTOMATIC' with the matcher's confidence and reasons
-- as a JSON array, or 'REVIEWED') or 'EXCLUDED' (with the reason and the note). A line without
-- a row here is waiting in the review queue.
CREATE TABLE statement_line_outcomes (
    bank_account_id  TEXT    NOT NULL,
    line_id          TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    method           TEXT    NOT NULL,
    confidence       INTEGER NOT NULL CHECK (confidence BETWEEN 0 AND 100),
    reasons          TEXT    NOT NULL,
    exclusion_reason TEXT    NOT NULL,
    note             TEXT    NOT NULL,
    principal        TEXT    NOT NULL,
    position         BIGINT  NOT NULL,
    PRIMARY KEY (bank_account_id, line_id)
);

-- The parts of a matched line: each a customer's payment, by its command id; `allocations` the
-- invoices it pays as a JSON array of {subsidiary_id, invoice_number, amount}.
CREATE TABLE receipt_parts (
    bank_account_id TEXT    NOT NULL,
    line_id         TEXT    NOT NULL,
    part            INTEGER NOT NULL CHECK (part >= 0),
    customer_id     TEXT    NOT NULL,
    payment_id      TEXT    NOT NULL,
    currency        TEXT    NOT NULL,
    amount_minor    BIGINT  NOT NULL CHECK (amount_minor > 0),
    on_account      BOOLEAN NOT NULL,
    allocations     TEXT    NOT NULL,
    position        BIGINT  NOT NULL,
    PRIMARY KEY (bank_account_id, line_id, part)
);
CREATE INDEX receipt_parts_customer ON receipt_parts (customer_id);

-- The forms each invoice's and credit note's number may take in a remittance text
-- (`matching::document_keys`), strongest kind first (0: every letter and digit, 1: without
-- leading zeros, 2: without the subsidiary's prefix, 3: the digits alone).
CREATE TABLE document_keys (
    key_text      TEXT    NOT NULL,
    key_kind      INTEGER NOT NULL,
    document_kind TEXT    NOT NULL,
    subsidiary_id TEXT    NOT NULL,
    number        TEXT    NOT NULL,
    customer_id   TEXT    NOT NULL,
    position      BIGINT  NOT NULL,
    PRIMARY KEY (key_text, subsidiary_id, document_kind, number)
);

-- Each registered customer's name and legal name normalised as a payer's name is
-- (`matching::payer_key`): a payer whose name is a customer's is a candidate for its receipt.
CREATE TABLE customer_name_keys (
    customer_id    TEXT   NOT NULL PRIMARY KEY,
    name_key       TEXT   NOT NULL,
    legal_name_key TEXT   NOT NULL,
    position       BIGINT NOT NULL
);
CREATE INDEX customer_name_keys_name ON customer_name_keys (name_key);
CREATE INDEX customer_name_keys_legal_name ON customer_name_keys (legal_name_key);

-- The open rows of today's summaries by amount: a receipt's amount finds the invoices (or the
-- rows of invoices due in several) that owe exactly it.
CREATE INDEX summary_rows_amount ON summary_rows (currency, open_minor);

-- A payment by its command id: whether the payment of a matched line's part is in the ledger.
CREATE INDEX payments_command ON payments (command_id);
