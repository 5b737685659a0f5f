-- The audit trail: one row per security-relevant event, written in the same transaction as
-- the change it records. Ids are UUID v7, so id order is time order (newest first = id DESC).

CREATE TABLE audit_events (
    id         TEXT PRIMARY KEY NOT NULL,
    at         TIMESTAMP NOT NULL,
    actor      TEXT,                          -- `account:<id>`, `api_key:<id>`, NULL: anonymous/system
    action     TEXT NOT NULL,                 -- `account.registered`, `grant.created`, ...
    target     TEXT,                          -- `account:<id>`, `role:<name>`, `email:<canonical>`, ...
    source_ip  TEXT,
    detail     TEXT                           -- short and secret-free
);
CREATE INDEX audit_events_actor_idx ON audit_events (actor, id);
CREATE INDEX audit_events_action_idx ON audit_events (action, id);
