-- What a statement of account shows of a payment: the reference the customer's bank or ERP
-- gave it, by which the customer recognises it when reconciling (对账). Rows projected before
-- this column existed read '' until the read model is rebuilt (RebuildReadModel); a statement
-- shows the command id of such a payment instead.
ALTER TABLE payments ADD COLUMN reference TEXT NOT NULL DEFAULT '';

-- A statement reads one customer's disputes (the other tables it reads have an index by
-- customer already; invoices' is kept to one, since every invoice inserted pays for each).
CREATE INDEX disputes_customer ON disputes (customer_id, opened_on);
