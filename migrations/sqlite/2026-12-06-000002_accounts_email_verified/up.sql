-- Whether the account's owner has shown they receive mail at its address. Accounts that
-- exist already were made before verification existed: they count as verified (DEFAULT 1),
-- so nobody is locked out by the upgrade. New rows always set it from Rust.
ALTER TABLE accounts ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT 1;
