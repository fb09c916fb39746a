-- Early-warning alerts (`projections/src/alerts.rs`). The alerts themselves are kept beside
-- the control table, outside any generation, so that a rebuild neither loses nor repeats them;
-- what a generation holds is what they are evaluated from.

-- The group's alert thresholds (scope `_group`) and each subsidiary's (scope: its id), as last
-- set; `thresholds` is the event's thresholds as JSON text.
CREATE TABLE alert_thresholds (
    scope      TEXT   NOT NULL PRIMARY KEY,
    thresholds TEXT   NOT NULL,
    position   BIGINT NOT NULL
);

-- The invoices accepted over the limit, by the position that recorded them: the alerts follow
-- them from the last position they evaluated.
CREATE INDEX invoices_over_limit ON invoices (position) WHERE over_limit;
