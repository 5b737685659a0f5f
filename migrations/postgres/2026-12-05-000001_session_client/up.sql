-- Where each session was opened from, for its owner's list of sessions ("my sessions" in the
-- console, GET /v1/account/me/sessions): the client's User-Agent as sent at login (control
-- and invisible characters removed, at most 200 characters) and its address (the TCP peer).
-- Nullable: sessions opened before this migration, and clients that send no User-Agent,
-- have none.
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
ALTER TABLE sessions ADD COLUMN source_ip TEXT;
