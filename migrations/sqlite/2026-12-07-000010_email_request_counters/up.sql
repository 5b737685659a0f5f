-- Per-address hourly counters of the public email forms (password reset, verification and
-- account-exists emails). Written on every request, for known and unknown addresses alike, so
-- that the cap covers every address and every path does one comparable write transaction
-- (the answer's timing does not tell a known address from an unknown one). Keyed by the
-- SHA-256 digest of the canonical email, so the table keeps no readable list of what people
-- typed. A fixed window: `requests` counts from `window_started_at` for one hour.
CREATE TABLE email_request_counters (
    email_digest      TEXT NOT NULL,
    purpose           TEXT NOT NULL,             -- password_reset, email_verification
    window_started_at TIMESTAMP NOT NULL,
    requests          INTEGER NOT NULL,
    PRIMARY KEY (email_digest, purpose)
);
CREATE INDEX email_request_counters_window_idx ON email_request_counters (window_started_at);
