-- The scheduled cancellation of unpaid orders (orders_cancel_overdue) scans only pending
-- orders, earliest deadline first.
CREATE INDEX orders_pending_by_deadline ON orders (pay_by) WHERE status = 'pending';
