-- Sales-order numbers reserved across customers: unique per subsidiary in a key space of their
-- own, taken before the credit reserved for the order is appended.
CREATE TABLE order_number_reservations (
    subsidiary_id TEXT NOT NULL,
    order_number  TEXT NOT NULL,
    command_id    TEXT NOT NULL,
    customer_id   TEXT NOT NULL,
    reserved_at   TEXT NOT NULL,
    PRIMARY KEY (subsidiary_id, order_number)
) STRICT, WITHOUT ROWID;
