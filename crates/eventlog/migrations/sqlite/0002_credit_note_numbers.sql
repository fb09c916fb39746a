-- Credit-note numbers reserved across customers: unique per subsidiary in a key space of their
-- own (a credit note may carry the number of an invoice), taken before the note is appended.
CREATE TABLE credit_note_number_reservations (
    subsidiary_id      TEXT NOT NULL,
    credit_note_number TEXT NOT NULL,
    command_id         TEXT NOT NULL,
    customer_id        TEXT NOT NULL,
    reserved_at        TEXT NOT NULL,
    PRIMARY KEY (subsidiary_id, credit_note_number)
) STRICT, WITHOUT ROWID;
