-- The projection that writes invoices, payments, allocations, credit terms and promises is the
-- ledger projection; its checkpoint was stored under the name of its first table.
UPDATE projection_checkpoints SET projection = 'ledger' WHERE projection = 'open_items';
