-- What else moves an invoice's open amount, and the customer's unapplied money, besides
-- payments: credit notes, write-offs, reversed payments and applications of unapplied money
-- (settlements), and credit notes on account, applications, refunds and reversed unapplied cash
-- (unapplied movements). Each row takes effect on its business date, so that the open amount
-- and the unapplied money can be computed as of any date.

-- A movement of one invoice's open amount. amount_minor is what it takes off the invoice:
-- positive for a credit note, a write-off or an application, negative for a reversed payment's
-- allocation (the invoice owes it again).
CREATE TABLE settlements (
    position       BIGINT  NOT NULL,
    line           INTEGER NOT NULL,
    customer_id    TEXT    NOT NULL,
    subsidiary_id  TEXT    NOT NULL,
    invoice_number TEXT    NOT NULL,
    currency       TEXT    NOT NULL,
    kind           TEXT    NOT NULL CHECK (kind IN ('credit_note', 'write_off', 'reversal', 'application')),
    amount_minor   BIGINT  NOT NULL CHECK (amount_minor <> 0),
    effective_date DATE    NOT NULL,
    -- The credit-note number, the reversed payment's command id, or the write-off's reason.
    document       TEXT    NOT NULL,
    PRIMARY KEY (position, line),
    FOREIGN KEY (subsidiary_id, invoice_number) REFERENCES invoices (subsidiary_id, invoice_number)
);
CREATE INDEX settlements_invoice ON settlements (subsidiary_id, invoice_number, effective_date);
CREATE INDEX settlements_customer ON settlements (customer_id, kind, effective_date);

-- A movement of the customer's unapplied money other than a payment's unapplied part (which the
-- payments table holds). amount_minor is signed: positive adds to it (a credit note on account),
-- negative takes out of it (an application, a refund, a reversed payment's unapplied part).
CREATE TABLE unapplied_movements (
    position       BIGINT  NOT NULL PRIMARY KEY,
    customer_id    TEXT    NOT NULL,
    subsidiary_id  TEXT    NOT NULL,
    currency       TEXT    NOT NULL,
    source         TEXT    NOT NULL CHECK (source IN ('cash', 'credit')),
    kind           TEXT    NOT NULL CHECK (kind IN ('credit_note', 'application', 'refund', 'reversal')),
    amount_minor   BIGINT  NOT NULL CHECK (amount_minor <> 0),
    effective_date DATE    NOT NULL,
    document       TEXT    NOT NULL
);
CREATE INDEX unapplied_movements_customer ON unapplied_movements (customer_id, effective_date);

-- The command that recorded a payment: what a reversal names. Rows projected before this
-- column existed read '' until the read model is rebuilt (RebuildReadModel): until then a
-- reversal of such a payment does not take it out of the exposure's last payment date.
ALTER TABLE payments ADD COLUMN command_id TEXT NOT NULL DEFAULT '';

-- A reversed payment, with the day it had been received: reports of promises leave it out from
-- its reversal date on.
CREATE TABLE payment_reversals (
    position           BIGINT NOT NULL PRIMARY KEY,
    customer_id        TEXT   NOT NULL,
    subsidiary_id      TEXT   NOT NULL,
    payment_command_id TEXT   NOT NULL,
    currency           TEXT   NOT NULL,
    amount_minor       BIGINT NOT NULL CHECK (amount_minor > 0),
    received_date      DATE   NOT NULL,
    reversal_date      DATE   NOT NULL CHECK (reversal_date >= received_date),
    reason             TEXT   NOT NULL
);
CREATE INDEX payment_reversals_customer ON payment_reversals (customer_id, received_date);
CREATE INDEX payment_reversals_payment ON payment_reversals (payment_command_id);

-- A dispute of (part of) an invoice. holds_until is the last day it holds its amount back
-- unless resolved first: its expiry date, or the last business date the service accepts
-- (2199-12-31) when it has none.
CREATE TABLE disputes (
    dispute_id     TEXT   NOT NULL PRIMARY KEY,
    customer_id    TEXT   NOT NULL,
    subsidiary_id  TEXT   NOT NULL,
    invoice_number TEXT   NOT NULL,
    currency       TEXT   NOT NULL,
    amount_minor   BIGINT NOT NULL CHECK (amount_minor > 0),
    reason         TEXT   NOT NULL,
    opened_on      DATE   NOT NULL,
    holds_until    DATE   NOT NULL CHECK (holds_until >= opened_on),
    position       BIGINT NOT NULL,
    FOREIGN KEY (subsidiary_id, invoice_number) REFERENCES invoices (subsidiary_id, invoice_number)
);
CREATE INDEX disputes_invoice ON disputes (subsidiary_id, invoice_number);

-- How a dispute ended: from resolved_on its amount is collectible again. credit_note_number is
-- empty unless it was upheld.
CREATE TABLE dispute_resolutions (
    dispute_id         TEXT   NOT NULL PRIMARY KEY,
    resolved_on        DATE   NOT NULL,
    outcome            TEXT   NOT NULL CHECK (outcome IN ('withdrawn', 'upheld')),
    credit_note_number TEXT   NOT NULL,
    position           BIGINT NOT NULL
);
