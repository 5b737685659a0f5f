-- Audit retention (audit.retention) deletes events older than a cutoff in bounded batches:
-- found by time without scanning the table.
CREATE INDEX audit_events_at_idx ON audit_events (at);
