-- A customer's confirmation of its balance at the end of a day (对账确认): the amount it
-- confirmed, and the balance the account held for that day when the confirmation was
-- recorded. difference_minor = confirmed_minor - balance_minor; not zero, it is a difference to
-- investigate.
CREATE TABLE balance_confirmations (
    position         BIGINT NOT NULL PRIMARY KEY,
    customer_id      TEXT   NOT NULL,
    currency         TEXT   NOT NULL,
    as_of            DATE   NOT NULL,
    confirmed_minor  BIGINT NOT NULL,
    balance_minor    BIGINT NOT NULL,
    difference_minor BIGINT NOT NULL CHECK (difference_minor = confirmed_minor - balance_minor),
    confirmed_by     TEXT   NOT NULL,
    note             TEXT   NOT NULL
);
CREATE INDEX balance_confirmations_customer ON balance_confirmations (customer_id, position);
