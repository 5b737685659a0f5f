DROP TABLE email_request_counters;
