ALTER TABLE sessions DROP COLUMN source_ip;
ALTER TABLE sessions DROP COLUMN user_agent;
