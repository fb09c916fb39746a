-- The embedded event log (crates/eventlog/src/sqlite.rs): every accepted fact in log order, and
-- the invoice numbers reserved across customers. STRICT tables: SQLite checks the column types.

-- One row per event. Rows are only ever inserted, by one writer at a time, inside a transaction
-- that takes the write lock first (BEGIN IMMEDIATE).
CREATE TABLE events (
    -- The event's position in the log: 1, 2, 3, ... with no gaps (see the trigger below).
    position    INTEGER PRIMARY KEY CHECK (position > 0),
    customer_id TEXT    NOT NULL,
    -- The command that caused the event. Unique for the life of the log: deduplication here is
    -- permanent, not a window as in JetStream.
    command_id  TEXT    NOT NULL UNIQUE,
    -- The event exactly as codec.rs encodes it (JSON, at most codec::EVENT_BYTES_MAX bytes).
    payload     BLOB    NOT NULL,
    -- When the log took the event: the writer's clock, UTC, RFC 3339. The envelope inside the
    -- payload carries the command service's own recorded_at.
    appended_at TEXT    NOT NULL
) STRICT;

-- Loading one customer's history, and its last position for the concurrency check.
CREATE INDEX events_by_customer ON events (customer_id, position);

-- Positions follow on without gaps: the writer assigns them, the database checks them.
CREATE TRIGGER events_positions_follow_on
BEFORE INSERT ON events
WHEN NEW.position IS NOT (SELECT COALESCE(MAX(position), 0) + 1 FROM events)
BEGIN
    SELECT RAISE(ABORT, 'event positions must follow on from the last one without gaps');
END;

-- Events are never edited or deleted; a mistake is corrected by a later event.
CREATE TRIGGER events_never_updated
BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are never edited');
END;

CREATE TRIGGER events_never_deleted
BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are never deleted');
END;

-- Invoice numbers are unique per subsidiary across all customers: the claim of the command that
-- reserved one, taken before its invoice is appended.
CREATE TABLE invoice_number_reservations (
    subsidiary_id  TEXT NOT NULL,
    invoice_number TEXT NOT NULL,
    command_id     TEXT NOT NULL,
    customer_id    TEXT NOT NULL,
    reserved_at    TEXT NOT NULL,
    PRIMARY KEY (subsidiary_id, invoice_number)
) STRICT, WITHOUT ROWID;
