//! Multi-factor sign-in through the real app on both databases: TOTP enrolment and the
//! two-step login, clock drift and replay, recovery codes, removal, the throttle counting
//! second-factor failures, the enrolment policy, step-up, the operator's reset, and that no
//! secret reaches the logs, the audit trail or the database in clear.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use totp_rs::{Algorithm, Secret, TOTP};

use crate::helpers::{
    AppOptions, Db, PASSWORD, TestApp, assert_problem, captured_logs, spawn_app, spawn_app_with,
    unique_email,
};
use crate::on_both_databases;

on_both_databases!(
    totp_enrolment_makes_login_two_steps,
    codes_one_step_either_side_pass_and_a_used_code_is_refused,
    recovery_codes_work_once_and_renewing_kills_the_old_set,
    removing_totp_needs_the_password_and_makes_login_one_step_again,
    wrong_codes_count_toward_the_throttle_and_kill_the_second_step,
    the_policy_holds_an_uncovered_session_to_enrolment,
    the_policy_covers_holders_of_listed_actions,
    dangerous_actions_need_a_recent_second_factor,
    the_operator_reset_removes_every_factor_and_is_audited,
    secrets_never_reach_logs_audit_or_the_database_in_clear,
    changing_factors_needs_a_recent_sign_in_or_second_factor,
    giving_a_held_role_the_power_to_grant_needs_a_step_up,
    start_up_warns_while_super_admins_lack_a_second_factor,
);

/// The code an authenticator app shows for `secret` (base32) `steps` steps from now.
pub fn code(secret: &str, steps: i64) -> String {
    let bytes = Secret::Encoded(secret.to_owned()).to_bytes().unwrap();
    let totp = TOTP::new_unchecked(Algorithm::SHA1, 6, 0, 30, bytes, None, String::new());
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let at = i64::try_from(now).unwrap() + steps * 30;
    totp.generate(u64::try_from(at).unwrap())
}

/// An account with a confirmed TOTP: its email, its password session (opened before
/// enrolling), the TOTP secret and its recovery codes. The confirming code was of the
/// current step, so the next login must use a later one.
pub struct Enrolled {
    pub id: String,
    pub email: String,
    pub token: String,
    pub secret: String,
    pub recovery_codes: Vec<String>,
}

pub async fn enrol_totp(app: &TestApp, token: &str) -> (String, Vec<String>) {
    let response = app.post_as("/v1/account/me/mfa/totp", token).await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    let secret = body["secret"].as_str().unwrap().to_owned();
    let uri = body["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/Roster:"), "{uri}");
    assert!(uri.contains(&format!("secret={secret}")), "{uri}");
    let response = app
        .post_json(
            "/v1/account/me/mfa/totp/confirm",
            &json!({"code": code(&secret, 0)}),
            Some(token),
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let codes: Vec<String> = body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|code| code.as_str().unwrap().to_owned())
        .collect();
    (secret, codes)
}

pub async fn enrolled_account(app: &TestApp, prefix: &str) -> Enrolled {
    let member = app.new_account(prefix).await;
    let (secret, recovery_codes) = enrol_totp(app, &member.token).await;
    Enrolled {
        id: member.id,
        email: member.email,
        token: member.token,
        secret,
        recovery_codes,
    }
}

/// The password step: asserts it asks for a second factor; returns the `mfa_token`.
pub async fn first_step(app: &TestApp, email: &str) -> String {
    let response = app.login(email, PASSWORD).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["mfa_required"], true, "{body}");
    assert!(
        body.get("token").is_none(),
        "no session before the second step: {body}"
    );
    let token = body["mfa_token"].as_str().unwrap();
    assert!(token.starts_with("rmf_"));
    token.to_owned()
}

pub async fn second_step(app: &TestApp, mfa_token: &str, code: &str) -> reqwest::Response {
    app.post_json(
        "/v1/auth/login/mfa",
        &json!({"mfa_token": mfa_token, "code": code}),
        None,
    )
    .await
}

async fn mfa_status(app: &TestApp, token: &str) -> Value {
    let response = app.get_as("/v1/account/me/mfa", token).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn audit_actions(app: &TestApp, admin: &str) -> Vec<String> {
    let response = app.get_as("/v1/admin/audit-events?limit=200", admin).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["action"].as_str().unwrap().to_owned())
        .collect()
}

async fn totp_enrolment_makes_login_two_steps(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let member = app.new_account("ada").await;
    assert_eq!(
        mfa_status(&app, &member.token).await,
        json!({"totp": false, "recovery_codes_left": 0, "passkeys": []})
    );
    let response = app.post_as("/v1/account/me/mfa/totp", &member.token).await;
    let secret = response.json::<Value>().await.unwrap()["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(secret.len(), 32, "160 bits in base32");
    // A wrong first code confirms nothing.
    let wrong = app
        .post_json(
            "/v1/account/me/mfa/totp/confirm",
            &json!({"code": "000000"}),
            Some(&member.token),
        )
        .await;
    if code(&secret, 0) != "000000" {
        assert_problem(wrong, 401, "invalid_mfa_code").await;
    }
    assert_eq!(mfa_status(&app, &member.token).await["totp"], false);
    // Starting again replaces the pending secret; the new one confirms.
    let (secret, codes) = enrol_totp(&app, &member.token).await;
    assert_eq!(codes.len(), 10);
    assert!(codes.iter().all(|code| code.len() == 19), "{codes:?}");
    assert_eq!(
        mfa_status(&app, &member.token).await,
        json!({"totp": true, "recovery_codes_left": 10, "passkeys": []})
    );
    // Enrolled: a second enrolment is refused until the first is removed.
    assert_problem(
        app.post_as("/v1/account/me/mfa/totp", &member.token).await,
        409,
        "mfa_already_enrolled",
    )
    .await;

    let response = app.login(&member.email, PASSWORD).await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["methods"], json!(["otp", "recovery"]));
    assert!(body["expires_at"].is_string());
    let mfa_token = body["mfa_token"].as_str().unwrap();
    let response = second_step(&app, mfa_token, &code(&secret, 1)).await;
    assert_eq!(response.status(), 200);
    let session: Value = response.json().await.unwrap();
    assert!(session["token"].as_str().unwrap().starts_with("rst_"));
    assert_eq!(session["account"]["email"], member.email.as_str());
    let token = session["token"].as_str().unwrap();
    assert_eq!(app.session_auth_methods(token).await, json!(["pwd", "otp"]));
    // The second step's token opened its session; it does not open another.
    assert_problem(
        second_step(&app, mfa_token, &code(&secret, 1)).await,
        401,
        "invalid_mfa_token",
    )
    .await;
    assert_problem(
        second_step(&app, "rmf_not-a-real-token", "123456").await,
        401,
        "invalid_mfa_token",
    )
    .await;
}

async fn codes_one_step_either_side_pass_and_a_used_code_is_refused(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let ada = enrolled_account(&app, "ada").await;
    // Two steps away is outside the window.
    let far = code(&ada.secret, 3);
    let near = [code(&ada.secret, 1), code(&ada.secret, 2)];
    if !near.contains(&far) {
        let mfa_token = first_step(&app, &ada.email).await;
        assert_problem(
            second_step(&app, &mfa_token, &far).await,
            401,
            "invalid_mfa_code",
        )
        .await;
    }
    // One step ahead (a phone whose clock runs fast) passes...
    let mfa_token = first_step(&app, &ada.email).await;
    let ahead = code(&ada.secret, 1);
    assert_eq!(second_step(&app, &mfa_token, &ahead).await.status(), 200);
    // ...once: the same code again is a replay.
    let mfa_token = first_step(&app, &ada.email).await;
    assert_problem(
        second_step(&app, &mfa_token, &ahead).await,
        401,
        "invalid_mfa_code",
    )
    .await;
    // And a code older than the last accepted one is refused too (the current step's, which
    // confirmed the enrolment).
    assert_problem(
        second_step(&app, &mfa_token, &code(&ada.secret, 0)).await,
        401,
        "invalid_mfa_code",
    )
    .await;
}

async fn recovery_codes_work_once_and_renewing_kills_the_old_set(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let ada = enrolled_account(&app, "ada").await;
    let first = ada.recovery_codes[0].clone();
    let mfa_token = first_step(&app, &ada.email).await;
    // Typed in capitals with spaces instead of dashes, as read off paper.
    let typed = first.replace('-', " ").to_uppercase();
    let response = second_step(&app, &mfa_token, &typed).await;
    assert_eq!(response.status(), 200);
    let token = response.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(mfa_status(&app, &token).await["recovery_codes_left"], 9);
    let mfa_token = first_step(&app, &ada.email).await;
    assert_problem(
        second_step(&app, &mfa_token, &first).await,
        401,
        "invalid_mfa_code",
    )
    .await;

    // Renewing needs the password.
    let wrong = app
        .post_json(
            "/v1/account/me/mfa/recovery-codes",
            &json!({"password": "not the password at all"}),
            Some(&token),
        )
        .await;
    assert_problem(wrong, 401, "invalid_credentials").await;
    let response = app
        .post_json(
            "/v1/account/me/mfa/recovery-codes",
            &json!({"password": PASSWORD}),
            Some(&token),
        )
        .await;
    assert_eq!(response.status(), 200);
    let renewed: Vec<String> = response.json::<Value>().await.unwrap()["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|code| code.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(renewed.len(), 10);
    assert_eq!(mfa_status(&app, &token).await["recovery_codes_left"], 10);
    // An old, unused code died with its set; a new one works.
    let mfa_token = first_step(&app, &ada.email).await;
    assert_problem(
        second_step(&app, &mfa_token, &ada.recovery_codes[1]).await,
        401,
        "invalid_mfa_code",
    )
    .await;
    assert_eq!(
        second_step(&app, &mfa_token, &renewed[0]).await.status(),
        200
    );
}

async fn removing_totp_needs_the_password_and_makes_login_one_step_again(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let ada = enrolled_account(&app, "ada").await;
    let delete = |password: &'static str| {
        let app = &app;
        let token = ada.token.clone();
        async move {
            app.client
                .delete(app.url("/v1/account/me/mfa/totp"))
                .bearer_auth(token)
                .json(&json!({"password": password}))
                .send()
                .await
                .unwrap()
        }
    };
    // The session that enrolled presented no second factor since: a stolen one could not
    // strip the factor with the password alone.
    assert_problem(delete(PASSWORD).await, 403, "mfa_step_up_required").await;
    let response = app
        .post_json(
            "/v1/auth/step-up",
            &json!({"code": code(&ada.secret, 1)}),
            Some(&ada.token),
        )
        .await;
    assert_eq!(response.status(), 204);
    assert_problem(
        delete("a wrong password here").await,
        401,
        "invalid_credentials",
    )
    .await;
    assert_eq!(delete(PASSWORD).await.status(), 204);
    assert_eq!(
        mfa_status(&app, &ada.token).await,
        json!({"totp": false, "recovery_codes_left": 0, "passkeys": []})
    );
    let response = app.login(&ada.email, PASSWORD).await;
    let body: Value = response.json().await.unwrap();
    assert!(body["token"].is_string(), "one step again: {body}");
    assert_problem(delete(PASSWORD).await, 404, "not_found").await;
}

async fn wrong_codes_count_toward_the_throttle_and_kill_the_second_step(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let ada = enrolled_account(&app, "ada").await;
    let right = code(&ada.secret, 1);
    let wrong = if right == "111111" {
        "222222"
    } else {
        "111111"
    };
    let mfa_token = first_step(&app, &ada.email).await;
    for _ in 0..4 {
        assert_problem(
            second_step(&app, &mfa_token, wrong).await,
            401,
            "invalid_mfa_code",
        )
        .await;
    }
    // The fifth failure reaches the throttle's free failures: the account is locked, and the
    // right code waits like a password would.
    assert_problem(
        second_step(&app, &mfa_token, wrong).await,
        401,
        "invalid_mfa_code",
    )
    .await;
    let locked = app.login(&ada.email, PASSWORD).await;
    assert_problem(locked, 429, "too_many_attempts").await;
    // Five failures also ended this second step for good.
    assert_problem(
        second_step(&app, &mfa_token, &right).await,
        401,
        "invalid_mfa_token",
    )
    .await;
}

/// An app with `mfa.*` settings.
async fn spawn_with_mfa(db: Db, settings: &[(&str, &str)]) -> Option<TestApp> {
    spawn_app_with(
        db,
        AppOptions {
            env: settings
                .iter()
                .map(|(key, value)| {
                    (
                        format!("ROSTER__MFA__{}", key.to_uppercase()),
                        (*value).to_owned(),
                    )
                })
                .collect(),
            ..AppOptions::default()
        },
    )
    .await
}

async fn the_policy_holds_an_uncovered_session_to_enrolment(db: Db) {
    let Some(app) = spawn_with_mfa(db, &[("required_for_superadmins", "true")]).await else {
        return;
    };
    let root = app.superadmin_token().await;
    let me: Value = app
        .get_as("/v1/account/me", &root)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["mfa_enrolment_required"], true);
    for path in [
        "/v1/admin/accounts",
        "/v1/account/me/sessions",
        "/v1/admin/roles",
    ] {
        assert_problem(app.get_as(path, &root).await, 403, "mfa_enrolment_required").await;
    }
    // A member the policy does not cover is not held back.
    let member = app.new_account("bob").await;
    let me: Value = app
        .get_as("/v1/account/me", &member.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["mfa_enrolment_required"], false);
    assert_eq!(
        app.get_as("/v1/account/me/sessions", &member.token)
            .await
            .status(),
        200
    );
    // Enrolling is open to the held-back session, and frees it at once.
    enrol_totp(&app, &root).await;
    let me: Value = app
        .get_as("/v1/account/me", &root)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["mfa_enrolment_required"], false);
    assert_eq!(app.get_as("/v1/admin/accounts", &root).await.status(), 200);
    // Logging out is open to a held-back session too.
    let policy_app = &app;
    let other_root = policy_app.superadmin_token().await;
    assert_eq!(
        policy_app
            .post_as("/v1/auth/logout", &other_root)
            .await
            .status(),
        204
    );
}

async fn the_policy_covers_holders_of_listed_actions(db: Db) {
    let Some(app) = spawn_with_mfa(db, &[("required_for_actions", "role-manage")]).await else {
        return;
    };
    let root = app.superadmin_token().await;
    // Super admins are not listed here: only holders of an allow rule for role-manage.
    assert_eq!(app.get_as("/v1/admin/roles", &root).await.status(), 200);
    app.create_role(&root, "role-admin", &[("role-*", "allow")])
        .await;
    app.create_role(&root, "viewer", &[("account-read", "allow")])
        .await;
    let bob = app.new_account("bob").await;
    let carol = app.new_account("carol").await;
    app.grant_ok(&root, &bob.id, "role-admin", "*").await;
    app.grant_ok(&root, &carol.id, "viewer", "*").await;
    assert_problem(
        app.get_as("/v1/admin/roles", &bob.token).await,
        403,
        "mfa_enrolment_required",
    )
    .await;
    assert_eq!(
        app.get_as("/v1/admin/accounts", &carol.token)
            .await
            .status(),
        200
    );
}

async fn dangerous_actions_need_a_recent_second_factor(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    // The super admin enrols on a password session: that session has no second factor yet.
    let (secret, _) = enrol_totp(&app, &root).await;
    let key = json!({"name": "ci"});
    assert_problem(
        app.post_json("/v1/admin/api-keys", &key, Some(&root)).await,
        403,
        "mfa_step_up_required",
    )
    .await;
    let victim = app.new_account("victim").await;
    assert_problem(
        app.post_as(&format!("/v1/admin/accounts/{}/disable", victim.id), &root)
            .await,
        403,
        "mfa_step_up_required",
    )
    .await;
    assert_problem(
        app.put_json(
            &format!("/v1/admin/accounts/{}/password", victim.id),
            &json!({"new_password": "another horse battery staple"}),
            &root,
        )
        .await,
        403,
        "mfa_step_up_required",
    )
    .await;
    app.create_role(&root, "granter", &[("grant-manage", "allow")])
        .await;
    app.create_role(&root, "viewer", &[("account-read", "allow")])
        .await;
    assert_problem(
        app.grant(&root, &victim.id, "granter", "acme").await,
        403,
        "mfa_step_up_required",
    )
    .await;
    // A harmless role needs no step-up.
    assert_eq!(
        app.grant(&root, &victim.id, "viewer", "acme")
            .await
            .status(),
        201
    );
    // A wrong code refreshes nothing; the right one does.
    assert_problem(
        app.post_json("/v1/auth/step-up", &json!({"code": "12345"}), Some(&root))
            .await,
        401,
        "invalid_mfa_code",
    )
    .await;
    let response = app
        .post_json(
            "/v1/auth/step-up",
            &json!({"code": code(&secret, 1)}),
            Some(&root),
        )
        .await;
    assert_eq!(response.status(), 204);
    let response = app.post_json("/v1/admin/api-keys", &key, Some(&root)).await;
    assert_eq!(response.status(), 201);
    let api_key = response.json::<Value>().await.unwrap()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.grant(&root, &victim.id, "granter", "acme")
            .await
            .status(),
        201
    );
    assert_eq!(app.session_auth_methods(&root).await, json!(["pwd", "otp"]));
    // An account without a second factor is never asked to step up.
    app.grant_ok(&root, &victim.id, "granter", "*").await;
    let viewer_holder = app.new_account("holder").await;
    assert_eq!(
        app.grant(&victim.token, &viewer_holder.id, "viewer", "acme.x")
            .await
            .status(),
        201
    );
    // API keys are machine credentials: exempt (the key holds no rights, so it is refused
    // for its grants, never for a step-up).
    let response = app
        .post_json("/v1/admin/api-keys", &key, Some(&api_key))
        .await;
    assert_problem(response, 403, "forbidden").await;
    let actions = audit_actions(&app, &root).await;
    assert!(actions.contains(&"mfa.step_up".to_owned()), "{actions:?}");
    assert!(
        actions.contains(&"mfa.totp_enrolled".to_owned()),
        "{actions:?}"
    );
}

async fn the_operator_reset_removes_every_factor_and_is_audited(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let ada = enrolled_account(&app, "ada").await;
    let components = app.components(&[]);
    let refused = components
        .roster
        .reset_second_factors(&ada.email, "  ")
        .await;
    assert!(refused.is_err(), "a reason is required");
    components
        .roster
        .reset_second_factors(&ada.email, "ticket 42, identity checked by video call")
        .await
        .unwrap();
    // Its sessions ended with the factors.
    assert_eq!(app.get_as("/v1/account/me", &ada.token).await.status(), 401);
    let response = app.login(&ada.email, PASSWORD).await;
    let body: Value = response.json().await.unwrap();
    let token = body["token"].as_str().expect("one-step login again");
    assert_eq!(
        mfa_status(&app, token).await,
        json!({"totp": false, "recovery_codes_left": 0, "passkeys": []})
    );
    let root = app.superadmin_token().await;
    let response = app
        .get_as("/v1/admin/audit-events?action=mfa.reset", &root)
        .await;
    let events: Value = response.json().await.unwrap();
    let event = &events["items"][0];
    assert_eq!(event["target"], format!("account:{}", ada.id));
    assert!(
        event["detail"]
            .as_str()
            .unwrap()
            .contains("ticket 42, identity checked by video call")
    );
}

async fn secrets_never_reach_logs_audit_or_the_database_in_clear(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let ada = enrolled_account(&app, "ada").await;
    let mfa_token = first_step(&app, &ada.email).await;
    assert_eq!(
        second_step(&app, &mfa_token, &ada.recovery_codes[0])
            .await
            .status(),
        200
    );
    let root = app.superadmin_token().await;
    let audit = app
        .get_as("/v1/admin/audit-events?limit=200", &root)
        .await
        .text()
        .await
        .unwrap();
    let logs = captured_logs();
    let database = app.dump_tables(&[
        "mfa_totp",
        "mfa_recovery_codes",
        "mfa_challenges",
        "audit_events",
        "sessions",
    ]);
    assert!(
        database.contains(&ada.id),
        "the dump holds the account's rows"
    );
    let mut secrets = vec![ada.secret.clone(), mfa_token.clone()];
    secrets.extend(ada.recovery_codes.iter().cloned());
    secrets.extend(ada.recovery_codes.iter().map(|code| code.replace('-', "")));
    for secret in &secrets {
        assert!(!logs.contains(secret.as_str()), "a secret in the logs");
        assert!(
            !audit.contains(secret.as_str()),
            "a secret in the audit trail"
        );
        assert!(
            !database.contains(secret.as_str()),
            "a secret in the database"
        );
    }
    let _ = unique_email("unused");
}

async fn changing_factors_needs_a_recent_sign_in_or_second_factor(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    // Without a factor: a session signed in longer than the step-up window ago cannot plant
    // one (it would step itself up with it, and a passkey would outlive a password reset).
    let stale = app.new_account("stale").await;
    app.age_sessions(std::time::Duration::from_mins(20));
    assert_problem(
        app.post_as("/v1/account/me/mfa/totp", &stale.token).await,
        403,
        "recent_sign_in_required",
    )
    .await;
    assert_problem(
        app.post_as("/v1/account/me/passkeys/register/start", &stale.token)
            .await,
        403,
        "recent_sign_in_required",
    )
    .await;
    // With a factor: a password session without a recent second factor cannot change them.
    let ada = enrolled_account(&app, "ada").await;
    for response in [
        app.post_as("/v1/account/me/passkeys/register/start", &ada.token)
            .await,
        app.post_json(
            "/v1/account/me/mfa/recovery-codes",
            &json!({"password": PASSWORD}),
            Some(&ada.token),
        )
        .await,
    ] {
        assert_problem(response, 403, "mfa_step_up_required").await;
    }
    let response = app
        .post_json(
            "/v1/auth/step-up",
            &json!({"code": code(&ada.secret, 1)}),
            Some(&ada.token),
        )
        .await;
    assert_eq!(response.status(), 204);
    assert_eq!(
        app.post_as("/v1/account/me/passkeys/register/start", &ada.token)
            .await
            .status(),
        200
    );
}

async fn giving_a_held_role_the_power_to_grant_needs_a_step_up(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = app.superadmin_token().await;
    let (secret, _) = enrol_totp(&app, &root).await;
    app.create_role(&root, "helper", &[("account-read", "allow")])
        .await;
    let widen = json!({"name": "helper", "permissions": [{"action": "all", "effect": "allow"}]});
    assert_problem(
        app.put_json("/v1/admin/roles/helper", &widen, &root).await,
        403,
        "mfa_step_up_required",
    )
    .await;
    // Narrowing or keeping it harmless needs none.
    let narrow =
        json!({"name": "helper", "permissions": [{"action": "audit-read", "effect": "allow"}]});
    assert_eq!(
        app.put_json("/v1/admin/roles/helper", &narrow, &root)
            .await
            .status(),
        200
    );
    let response = app
        .post_json(
            "/v1/auth/step-up",
            &json!({"code": code(&secret, 1)}),
            Some(&root),
        )
        .await;
    assert_eq!(response.status(), 204);
    assert_eq!(
        app.put_json("/v1/admin/roles/helper", &widen, &root)
            .await
            .status(),
        200
    );
}

async fn start_up_warns_while_super_admins_lack_a_second_factor(db: Db) {
    const WARNING: &str = "super admins without a second factor exist";
    let Some(app) = spawn_app(db).await else {
        return;
    };
    app.superadmin_token().await;
    // The log is the whole test process's: count this start-up's addition (a broken warning
    // adds none anywhere).
    let before = captured_logs().matches(WARNING).count();
    // A restart on the same database (a node started next to it) sees the super admin.
    app.start_sibling(&[]).await;
    assert!(
        captured_logs().matches(WARNING).count() > before,
        "no warning at start-up"
    );
}
