//! The one hand-maintained schema both migration trees satisfy.

diesel::table! {
    accounts (id) {
        id -> Text,
        email -> Text,
        email_canonical -> Text,
        name -> Nullable<Text>,
        password_hash -> Text,
        status -> Text,
        is_superadmin -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        grants_version -> BigInt,
        email_verified -> Bool,
        has_second_factor -> Bool,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        account_id -> Text,
        token_digest -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        user_agent -> Nullable<Text>,
        source_ip -> Nullable<Text>,
        auth_methods -> Text,
        second_factor_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    roles (name) {
        name -> Text,
        description -> Text,
        permissions -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    account_grants (id) {
        id -> Text,
        account_id -> Text,
        role_name -> Text,
        scope -> Text,
        created_at -> Timestamp,
        created_by -> Nullable<Text>,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        name -> Text,
        key_digest -> Text,
        created_at -> Timestamp,
        created_by -> Nullable<Text>,
        expires_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        grants_version -> BigInt,
    }
}

diesel::table! {
    api_key_grants (id) {
        id -> Text,
        api_key_id -> Text,
        role_name -> Text,
        scope -> Text,
        created_at -> Timestamp,
        created_by -> Nullable<Text>,
    }
}

diesel::table! {
    login_throttle (email_canonical) {
        email_canonical -> Text,
        failures -> Integer,
        last_failure_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        at -> Timestamp,
        actor -> Nullable<Text>,
        action -> Text,
        target -> Nullable<Text>,
        source_ip -> Nullable<Text>,
        detail -> Nullable<Text>,
    }
}

diesel::table! {
    mail_outbox (id) {
        id -> Text,
        kind -> Text,
        recipient -> Text,
        sealed -> Text,
        created_at -> Timestamp,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        claimed_by -> Nullable<Text>,
        claimed_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        sent_at -> Nullable<Timestamp>,
        gave_up_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    email_tokens (token_digest) {
        token_digest -> Text,
        purpose -> Text,
        account_id -> Nullable<Text>,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    invitations (id) {
        id -> Text,
        email -> Text,
        email_canonical -> Text,
        name -> Nullable<Text>,
        token_digest -> Text,
        pending_key -> Nullable<Text>,
        created_at -> Timestamp,
        created_by -> Nullable<Text>,
        expires_at -> Timestamp,
        accepted_at -> Nullable<Timestamp>,
        account_id -> Nullable<Text>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    invitation_grants (id) {
        id -> Text,
        invitation_id -> Text,
        role_name -> Text,
        scope -> Text,
    }
}

diesel::joinable!(invitation_grants -> invitations (invitation_id));

diesel::table! {
    email_request_counters (email_digest, purpose) {
        email_digest -> Text,
        purpose -> Text,
        window_started_at -> Timestamp,
        requests -> Integer,
    }
}

diesel::table! {
    mfa_totp (account_id) {
        account_id -> Text,
        sealed_secret -> Text,
        created_at -> Timestamp,
        confirmed_at -> Nullable<Timestamp>,
        last_used_step -> Nullable<BigInt>,
    }
}

diesel::table! {
    mfa_recovery_codes (code_digest) {
        code_digest -> Text,
        account_id -> Text,
        created_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    mfa_challenges (id) {
        id -> Text,
        token_digest -> Text,
        account_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        failures -> Integer,
    }
}

diesel::table! {
    passkeys (id) {
        id -> Text,
        account_id -> Text,
        name -> Text,
        credential_id -> Text,
        credential -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webauthn_ceremonies (challenge) {
        challenge -> Text,
        purpose -> Text,
        account_id -> Nullable<Text>,
        session_id -> Nullable<Text>,
        mfa_challenge_id -> Nullable<Text>,
        state -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::joinable!(email_tokens -> accounts (account_id));
diesel::joinable!(sessions -> accounts (account_id));
diesel::joinable!(mfa_totp -> accounts (account_id));
diesel::joinable!(mfa_recovery_codes -> accounts (account_id));
diesel::joinable!(mfa_challenges -> accounts (account_id));
diesel::joinable!(passkeys -> accounts (account_id));
diesel::joinable!(api_key_grants -> api_keys (api_key_id));
diesel::joinable!(api_key_grants -> roles (role_name));
diesel::joinable!(account_grants -> accounts (account_id));
diesel::joinable!(account_grants -> roles (role_name));
diesel::allow_tables_to_appear_in_same_query!(
    accounts,
    sessions,
    roles,
    account_grants,
    api_keys,
    api_key_grants,
    login_throttle,
    audit_events,
    mail_outbox,
    email_tokens,
    invitations,
    invitation_grants,
    email_request_counters,
    mfa_totp,
    mfa_recovery_codes,
    mfa_challenges,
    passkeys,
    webauthn_ceremonies,
);
