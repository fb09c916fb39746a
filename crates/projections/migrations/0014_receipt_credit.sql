-- A receipt paid "less a credit note" (`projections/src/receipts.rs`, `ledger.rs`): the part of
-- a matched line names the unapplied credit to apply to its invoices after its payment, and the
-- command id of that application, derived from the line; every movement of unapplied money
-- names the command that made it, so that an application missing from the ledger (a poster
-- stopped between the payment and the credit) is found and made. Rows projected before these
-- columns existed read '[]' and '' until the read model is rebuilt (RebuildReadModel); no
-- match before them applied credit.

ALTER TABLE receipt_parts ADD COLUMN credit_applications TEXT NOT NULL DEFAULT '[]';
ALTER TABLE receipt_parts ADD COLUMN credit_id TEXT NOT NULL DEFAULT '';
ALTER TABLE unapplied_movements ADD COLUMN command_id TEXT NOT NULL DEFAULT '';
CREATE INDEX unapplied_movements_command ON unapplied_movements (command_id);
