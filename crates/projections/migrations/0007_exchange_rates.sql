-- The exchange rates the group published: one row per currency of each publication. The rate
-- of a currency on a date is the row with the latest rate_date on or before it, the later
-- recorded (higher position) among rows of the same date; the base's rate is 1. `rate` is the
-- decimal as published (text, exact).
CREATE TABLE exchange_rates (
    position  BIGINT  NOT NULL,
    line      INTEGER NOT NULL,
    base      TEXT    NOT NULL,
    currency  TEXT    NOT NULL,
    rate_date DATE    NOT NULL,
    rate      TEXT    NOT NULL,
    source    TEXT    NOT NULL,
    PRIMARY KEY (position, line)
);
CREATE INDEX exchange_rates_currency ON exchange_rates (currency, rate_date, position);
