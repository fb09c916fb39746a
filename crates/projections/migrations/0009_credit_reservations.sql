-- Credit at order time: credit reserved for subsidiaries' sales orders, and what invoices and
-- releases took off it.

-- A reservation counts in the exposure on a date from reserved_on up to and including
-- expires_on, for what it still holds then: amount_minor less its movements dated on or before
-- the date (`open_amounts.rs`).
CREATE TABLE credit_reservations (
    subsidiary_id TEXT    NOT NULL,
    order_number  TEXT    NOT NULL,
    customer_id   TEXT    NOT NULL,
    currency      TEXT    NOT NULL,
    amount_minor  BIGINT  NOT NULL CHECK (amount_minor > 0),
    reserved_on   DATE    NOT NULL,
    expires_on    DATE    NOT NULL CHECK (expires_on >= reserved_on),
    over_limit    BOOLEAN NOT NULL,
    position      BIGINT  NOT NULL,
    PRIMARY KEY (subsidiary_id, order_number)
);

CREATE INDEX credit_reservations_by_customer ON credit_reservations (customer_id);

-- What an invoice consumed of its order's reservation ('invoiced', with the invoice's number and
-- no reason), or a release took off it ('released', with its reason and no invoice number),
-- from moved_on: one per event.
CREATE TABLE credit_reservation_movements (
    position       BIGINT NOT NULL PRIMARY KEY,
    subsidiary_id  TEXT   NOT NULL,
    order_number   TEXT   NOT NULL,
    moved_on       DATE   NOT NULL,
    amount_minor   BIGINT NOT NULL CHECK (amount_minor > 0),
    kind           TEXT   NOT NULL CHECK (kind IN ('invoiced', 'released')),
    invoice_number TEXT   NOT NULL,
    reason         TEXT   NOT NULL,
    FOREIGN KEY (subsidiary_id, order_number)
        REFERENCES credit_reservations (subsidiary_id, order_number)
);

CREATE INDEX credit_reservation_movements_by_order
    ON credit_reservation_movements (subsidiary_id, order_number);
