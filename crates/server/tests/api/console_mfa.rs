//! The console's two-step sign-in over plain HTTP (no browser), on both databases: the second
//! step with an app code or a recovery code, wrong codes and a dead step, the set-up of an
//! authenticator app, a session the MFA policy holds back, the step-up prompt sending the
//! refused form again, passkeys through the console's JSON routes with a software
//! authenticator, and the cross-site protection of every new route. Browser tests
//! (tests/browser/two_step.rs) drive the same pages through Chromium.

use roster_testkit_webauthn::SoftAuthenticator;
use serde_json::{Value, json};

use crate::console::{Browser, Page};
use crate::helpers::{AppOptions, Db, PASSWORD, TestApp, spawn_app, spawn_app_with, unique_email};
use crate::mfa::{Enrolled, code, enrolled_account};
use crate::on_both_databases;

on_both_databases!(
    the_second_step_takes_an_app_code_and_its_cookie_lives_five_minutes,
    the_second_step_takes_a_recovery_code_once,
    a_wrong_code_is_said_beside_the_field_and_a_dead_step_sends_back_to_sign_in,
    a_session_held_back_reaches_only_the_set_up_its_profile_and_sign_out,
    the_step_up_prompt_sends_the_refused_form_again,
    changing_factors_needs_a_recent_second_factor_or_sign_in,
    passkeys_are_added_and_sign_in_through_the_consoles_json_routes,
    every_new_route_refuses_cross_site_requests,
    an_app_set_up_met_by_a_step_up_is_not_sent_again,
);

/// A code no authenticator shows now (nor a step either side).
fn wrong_code(secret: &str) -> String {
    let shown: Vec<String> = (-1..=1).map(|steps| code(secret, steps)).collect();
    ["111111", "222222", "333333", "444444"]
        .into_iter()
        .find(|candidate| !shown.iter().any(|code| code == candidate))
        .unwrap()
        .to_owned()
}

/// `&amp;`-style references back to text (askama escapes `&<>"'`).
fn unescape(text: &str) -> String {
    text.replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The text of the element whose `id` is `id` (its first text, up to the next tag).
fn text_of(page: &Page, id: &str) -> String {
    let marker = format!(r#"id="{id}""#);
    let start = page
        .body
        .find(&marker)
        .unwrap_or_else(|| panic!("no #{id} in {}", page.body));
    let start = start + page.body[start..].find('>').unwrap() + 1;
    let end = start + page.body[start..].find('<').unwrap();
    unescape(&page.body[start..end])
}

/// Every hidden field of the page's last form posting to `action` (the header's sign-out
/// form comes before the page's own), in order.
fn hidden_fields(page: &Page, action: &str) -> Vec<(String, String)> {
    let start = page
        .body
        .rfind(&format!(r#"action="{action}""#))
        .unwrap_or_else(|| panic!("no form to {action} in {}", page.body));
    let form = &page.body[start..start + page.body[start..].find("</form>").unwrap()];
    form.split("<input ")
        .skip(1)
        .filter(|input| input.starts_with(r#"type="hidden""#))
        .map(|input| {
            let attribute = |name: &str| {
                let marker = format!(r#"{name}=""#);
                let from = input.find(&marker).unwrap() + marker.len();
                unescape(&input[from..from + input[from..].find('"').unwrap()])
            };
            (attribute("name"), attribute("value"))
        })
        .collect()
}

/// The recovery codes a page shows (`<ol id="recovery-codes">`).
fn recovery_codes(page: &Page) -> Vec<String> {
    let start = page.body.find(r#"id="recovery-codes""#).expect("the codes");
    let list = &page.body[start..start + page.body[start..].find("</ol>").unwrap()];
    list.split("<code>")
        .skip(1)
        .map(|item| item[..item.find("</code>").unwrap()].to_owned())
        .collect()
}

/// Signs in with the password; asserts the second step is asked for and returns its page.
async fn password_step(browser: &mut Browser<'_>, email: &str, methods: &str) -> Page {
    let signed_in = browser.sign_in(email, PASSWORD).await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.body);
    assert_eq!(
        signed_in.location(),
        format!("/console/login/second-step?methods={methods}")
    );
    assert!(signed_in.set_cookie("roster_session").is_none());
    let page = browser.get(signed_in.location()).await;
    assert_eq!(page.status, 200);
    page
}

/// Sends the second step's code form.
async fn send_code(browser: &mut Browser<'_>, page: &Page, code: &str) -> Page {
    let mut fields = hidden_fields(page, "/console/login/second-step");
    fields.push(("code".to_owned(), code.to_owned()));
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    browser.post("/console/login/second-step", &fields).await
}

async fn the_second_step_takes_an_app_code_and_its_cookie_lives_five_minutes(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let ada = enrolled_account(&app, "ada").await;
    let mut browser = Browser::new(&app);
    let signed_in = browser.sign_in(&ada.email, PASSWORD).await;
    let cookie = signed_in
        .set_cookie("roster_mfa")
        .expect("the second step's cookie");
    for part in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/console",
        "Max-Age=300",
    ] {
        assert!(
            cookie.split("; ").any(|p| p == part),
            "{cookie} lacks {part}"
        );
    }
    assert!(
        !signed_in.location().contains("rmf_"),
        "the token stays out of the address"
    );
    let page = browser.get(signed_in.location()).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("<h1>Two-step sign-in</h1>"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("rmf_"),
        "the token stays out of the page"
    );
    // One field for an app's code or a recovery code; no passkey without one.
    for part in [
        r#"name="code""#,
        r#"autocomplete="one-time-code""#,
        r#"inputmode="text""#,
    ] {
        assert!(page.body.contains(part), "{part}: {}", page.body);
    }
    assert!(!page.body.contains("data-passkey="), "{}", page.body);

    let done = send_code(&mut browser, &page, &code(&ada.secret, 1)).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location(), "/console/account");
    assert!(done.set_cookie("roster_session").is_some());
    assert!(
        !browser.has_cookie("roster_mfa"),
        "the step's cookie is removed"
    );
    let account = browser.get("/console/account").await;
    assert_eq!(account.status, 200);
    assert!(account.body.contains(&ada.email));
    assert_eq!(
        app.session_auth_methods(&browser.session_token()).await,
        json!(["pwd", "otp"])
    );
}

async fn the_second_step_takes_a_recovery_code_once(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let ada = enrolled_account(&app, "ada").await;
    let recovery = ada.recovery_codes[0].clone();
    let mut browser = Browser::new(&app);
    let page = password_step(&mut browser, &ada.email, "otp,recovery").await;
    let done = send_code(&mut browser, &page, &recovery).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        app.session_auth_methods(&browser.session_token()).await,
        json!(["pwd", "recovery"])
    );

    // Used once, it is refused next time, beside the field.
    let mut other = Browser::new(&app);
    let page = password_step(&mut other, &ada.email, "otp,recovery").await;
    let refused = send_code(&mut other, &page, &recovery).await;
    assert_eq!(refused.status, 401);
    assert_eq!(
        text_of(&refused, "code-error"),
        "That recovery code is not right, or it was used already. Each recovery code works once."
    );
    assert!(refused.body.contains(r#"aria-invalid="true""#));
    assert!(!other.has_cookie("roster_session"));
    // The step is still alive: another recovery code finishes it.
    let done = send_code(&mut other, &refused, &ada.recovery_codes[1]).await;
    assert_eq!(done.status, 303, "{}", done.body);
}

async fn a_wrong_code_is_said_beside_the_field_and_a_dead_step_sends_back_to_sign_in(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let Enrolled { email, secret, .. } = enrolled_account(&app, "ada").await;
    let mut browser = Browser::new(&app);
    // No step in this browser yet: sign in first.
    let none = browser.get("/console/login/second-step").await;
    assert_eq!(
        (none.status, none.location()),
        (303, "/console/login?done=sign-in-expired")
    );

    let mut page = password_step(&mut browser, &email, "otp,recovery").await;
    let wrong = wrong_code(&secret);
    for _ in 0..5 {
        page = send_code(&mut browser, &page, &wrong).await;
        assert_eq!(page.status, 401, "{}", page.body);
        assert_eq!(
            text_of(&page, "code-error"),
            "That code is not right, or it was used already. Type the code your authenticator \
             app shows now."
        );
        assert!(
            page.body
                .contains(r#"aria-describedby="code-hint code-error""#)
        );
        assert!(!browser.has_cookie("roster_session"));
    }
    // Five wrong codes ended the step: even the right code now leads back to sign-in, told
    // why, and the step's cookie is gone.
    let dead = send_code(&mut browser, &page, &code(&secret, 1)).await;
    assert_eq!(
        (dead.status, dead.location()),
        (303, "/console/login?done=sign-in-expired")
    );
    assert!(!browser.has_cookie("roster_mfa"));
    assert!(!browser.has_cookie("roster_session"));
    let login = browser.get(dead.location()).await;
    assert!(
        login
            .body
            .contains("That sign-in took too long, or had too many wrong codes."),
        "{}",
        login.body
    );
    // The failures counted toward the account's throttle, as at the API: the same words as
    // a throttled sign-in.
    let throttled = browser.sign_in(&email, PASSWORD).await;
    assert_eq!(throttled.status, 429);
    assert!(
        throttled
            .body
            .contains("Too many failed sign-ins for this account."),
        "{}",
        throttled.body
    );
}

/// A super admin created on the server, with its email (the policy covers super admins).
async fn superadmin(app: &TestApp) -> String {
    let email = unique_email("root");
    app.components(&[])
        .roster
        .create_superadmin(roster_app::RegistrationForm::new(
            email.clone(),
            PASSWORD.to_owned().into(),
            None,
        ))
        .await
        .unwrap();
    email
}

/// Sets up an authenticator app through the console's pages (as `browser`): returns its
/// secret and the recovery codes shown once.
async fn set_up_app(browser: &mut Browser<'_>) -> (String, Vec<String>) {
    let page = browser.get("/console/account/two-step").await;
    assert_eq!(page.status, 200);
    let setup = browser
        .post(
            "/console/account/two-step/app",
            &[("csrf_token", &page.csrf_token())],
        )
        .await;
    assert_eq!(setup.status, 200, "{}", setup.body);
    // The QR code is drawn on the page: SVG shapes, no style.
    let svg = &setup.body[setup.body.find("<svg ").expect("a QR code")..];
    let svg = &svg[..svg.find("</svg>").unwrap()];
    assert!(
        svg.contains(r#"role="img""#) && !svg.contains("style"),
        "{svg}"
    );
    let secret: String = text_of(&setup, "totp-secret")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    assert_eq!(secret.len(), 32, "{secret}");
    let mut fields = hidden_fields(&setup, "/console/account/two-step/app/confirm");
    // A wrong first code shows the same QR code and key again, with the problem beside the
    // field.
    fields.push(("code".to_owned(), wrong_code(&secret)));
    let again = post_pairs(browser, "/console/account/two-step/app/confirm", &fields).await;
    assert_eq!(again.status, 401, "{}", again.body);
    assert!(again.body.contains(r#"id="code-error""#));
    let shown_again: String = text_of(&again, "totp-secret")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    assert_eq!(shown_again, secret);
    fields.pop();
    fields.push(("code".to_owned(), code(&secret, 0)));
    let codes_page = post_pairs(browser, "/console/account/two-step/app/confirm", &fields).await;
    assert_eq!(codes_page.status, 200, "{}", codes_page.body);
    assert!(
        codes_page
            .body
            .contains("Your authenticator app is set up.")
    );
    let codes = recovery_codes(&codes_page);
    assert_eq!(codes.len(), 10, "{}", codes_page.body);
    // The download link is a text file of the same codes.
    let marker = r#"href="data:text/plain;charset=utf-8,"#;
    let start = codes_page.body.find(marker).expect("a download link") + marker.len();
    let encoded = &codes_page.body[start..start + codes_page.body[start..].find('"').unwrap()];
    let file: Vec<(String, String)> =
        serde_urlencoded::from_str(&format!("file={}", unescape(encoded))).unwrap();
    assert!(
        codes.iter().all(|code| file[0].1.contains(code)),
        "{file:?}"
    );
    assert!(
        codes_page
            .body
            .contains(r#"download="roster-recovery-codes.txt""#)
    );
    (secret, codes)
}

async fn a_session_held_back_reaches_only_the_set_up_its_profile_and_sign_out(db: Db) {
    let Some(app) = spawn_app_with(
        db,
        AppOptions {
            env: vec![(
                "ROSTER__MFA__REQUIRED_FOR_SUPERADMINS".into(),
                "true".into(),
            )],
            ..AppOptions::default()
        },
    )
    .await
    else {
        return;
    };
    let root = superadmin(&app).await;
    let mut browser = Browser::new(&app);
    // Signing in lands on the set-up, whatever page was asked for.
    let token = browser.get("/console/login").await.csrf_token();
    let signed_in = browser
        .post(
            "/console/login",
            &[
                ("csrf_token", &token),
                ("email", &root),
                ("password", PASSWORD),
                ("next", "/console/admin/roles"),
            ],
        )
        .await;
    assert_eq!(
        (signed_in.status, signed_in.location()),
        (303, "/console/account/two-step")
    );
    let setup = browser.get("/console/account/two-step").await;
    assert_eq!(setup.status, 200);
    assert!(
        setup.body.contains(r#"id="enrolment-required""#)
            && setup.body.contains("Set up two-step sign-in to continue."),
        "{}",
        setup.body
    );
    // The menu offers only My account.
    assert!(!setup.body.contains(r#"href="/console/admin/accounts""#));
    // Everything else sends it back here, pages and forms alike.
    for path in [
        "/console/admin/accounts",
        "/console/admin/roles",
        "/console/admin/audit",
    ] {
        let page = browser.get(path).await;
        assert_eq!(
            (page.status, page.location()),
            (303, "/console/account/two-step"),
            "{path}"
        );
    }
    let csrf = setup.csrf_token();
    let refused = browser
        .post(
            "/console/admin/api-keys",
            &[("csrf_token", &csrf), ("name", "ci"), ("expires_in", "30d")],
        )
        .await;
    assert_eq!(
        (refused.status, refused.location()),
        (303, "/console/account/two-step")
    );
    // My account shows its profile, not its sessions.
    let account = browser.get("/console/account").await;
    assert_eq!(account.status, 200);
    assert!(account.body.contains(&root));
    assert!(
        !account.body.contains("sessions-heading"),
        "{}",
        account.body
    );
    // Signing out works for it (another browser of the same account).
    let mut other = Browser::new(&app);
    other.sign_in(&root, PASSWORD).await;
    let page = other.get("/console/account/two-step").await;
    let out = other
        .post("/console/logout", &[("csrf_token", &page.csrf_token())])
        .await;
    assert_eq!(
        (out.status, out.location()),
        (303, "/console/login?done=signed-out")
    );
    assert!(!other.has_cookie("roster_session"));

    // Setting up the app frees the session at once.
    set_up_app(&mut browser).await;
    let accounts = browser.get("/console/admin/accounts").await;
    assert_eq!(accounts.status, 200);
    let setup = browser.get("/console/account/two-step").await;
    assert!(!setup.body.contains("enrolment-required"));
    assert!(setup.body.contains("10 of 10"), "{}", setup.body);
}

async fn the_step_up_prompt_sends_the_refused_form_again(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let root = superadmin(&app).await;
    let victim = app.new_account("victim").await;
    let mut browser = Browser::new(&app);
    browser.sign_in(&root, PASSWORD).await;
    // The app is set up on this password session: its second factor is not recent.
    let (secret, _) = set_up_app(&mut browser).await;
    let keys = browser.get("/console/admin/api-keys").await;
    let csrf = keys.csrf_token();
    let prompt = browser
        .post(
            "/console/admin/api-keys",
            &[
                ("csrf_token", &csrf),
                ("name", "ci-deploy"),
                ("expires_in", "30d"),
                ("role", ""),
                ("scope", ""),
            ],
        )
        .await;
    assert_eq!(prompt.status, 403, "{}", prompt.body);
    assert!(prompt.body.contains("<h1>Confirm it is you</h1>"));
    assert!(prompt.body.contains("To create this API key, confirm"));
    assert!(prompt.body.contains(r#"autocomplete="one-time-code""#));
    let listed = browser.get("/console/admin/api-keys").await;
    assert!(
        listed.body.contains("No API keys yet."),
        "nothing created yet"
    );
    // What was typed waits in the prompt's form.
    let waiting = hidden_fields(&prompt, "/console/step-up");
    for field in [
        ("step_up_action", "/console/admin/api-keys"),
        ("name", "ci-deploy"),
        ("expires_in", "30d"),
    ] {
        assert!(
            waiting.contains(&(field.0.to_owned(), field.1.to_owned())),
            "{field:?} in {waiting:?}"
        );
    }
    // A wrong code: said beside the field, the form still waiting.
    let mut sent = waiting.clone();
    sent.push(("code".to_owned(), wrong_code(&secret)));
    let refused = post_pairs(&mut browser, "/console/step-up", &sent).await;
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert!(refused.body.contains(r#"id="code-error""#));
    assert_eq!(hidden_fields(&refused, "/console/step-up"), waiting);
    // The right code: the browser is sent to post the same form again (307 keeps the
    // method and the body), and that creates the key.
    let mut sent = waiting.clone();
    sent.push(("code".to_owned(), code(&secret, 1)));
    let confirmed = post_pairs(&mut browser, "/console/step-up", &sent).await;
    assert_eq!(
        (confirmed.status, confirmed.location()),
        (307, "/console/admin/api-keys")
    );
    let created = post_pairs(&mut browser, confirmed.location(), &sent).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert!(created.body.contains(r#"id="api-key-secret""#));
    assert!(created.body.contains("ci-deploy"));

    // A form with a password: the prompt never writes it into the page, and asks for it
    // again instead. (Another super admin, whose session's second factor is not recent:
    // the first one's was just refreshed.)
    let typed = "a brand new horse battery staple";
    let mut stale = Browser::new(&app);
    let other_root = superadmin(&app).await;
    stale.sign_in(&other_root, PASSWORD).await;
    let (other_secret, _) = set_up_app(&mut stale).await;
    let account_page = stale
        .get(&format!("/console/admin/accounts/{}", victim.id))
        .await;
    let path = format!("/console/admin/accounts/{}/password", victim.id);
    let prompt = stale
        .post(
            &path,
            &[
                ("csrf_token", &account_page.csrf_token()),
                ("new_password", typed),
            ],
        )
        .await;
    assert_eq!(prompt.status, 403, "{}", prompt.body);
    assert!(prompt.body.contains("To reset this password, confirm"));
    assert!(
        !prompt.body.contains(typed),
        "the password is not shown back"
    );
    assert!(
        prompt
            .body
            .contains(r#"name="new_password" type="password""#)
    );
    let mut sent = hidden_fields(&prompt, "/console/step-up");
    assert!(!sent.iter().any(|(name, _)| name == "new_password"));
    sent.push(("new_password".to_owned(), typed.to_owned()));
    sent.push(("code".to_owned(), code(&other_secret, 1)));
    let confirmed = post_pairs(&mut stale, "/console/step-up", &sent).await;
    assert_eq!(
        (confirmed.status, confirmed.location()),
        (307, path.as_str())
    );
    let done = post_pairs(&mut stale, &path, &sent).await;
    assert_eq!(
        (done.status, done.location()),
        (
            303,
            format!("/console/admin/accounts/{}?done=password-reset", victim.id).as_str()
        )
    );
    assert_eq!(app.login(&victim.email, typed).await.status(), 200);
    // Giving a held role the power to grant is granting it to every holder: the role's
    // page asks too, and its rules (repeated fields, in order) are sent again as typed.
    let mut roles = Browser::new(&app);
    let third_root = superadmin(&app).await;
    roles.sign_in(&third_root, PASSWORD).await;
    let page = roles.get("/console/admin/roles").await;
    let created = roles
        .post(
            "/console/admin/roles",
            &[
                ("csrf_token", &page.csrf_token()),
                ("name", "helper"),
                ("description", ""),
                ("action", "account-read"),
                ("effect", "allow"),
            ],
        )
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
    let account_page = roles
        .get(&format!("/console/admin/accounts/{}", victim.id))
        .await;
    let granted = roles
        .post(
            &format!("/console/admin/accounts/{}/grants", victim.id),
            &[
                ("csrf_token", &account_page.csrf_token()),
                ("role", "helper"),
                ("scope", "acme"),
            ],
        )
        .await;
    assert_eq!(granted.status, 303, "{}", granted.body);
    let (roles_secret, _) = set_up_app(&mut roles).await;
    let page = roles.get("/console/admin/roles/helper").await;
    let widen = [
        ("csrf_token", page.csrf_token()),
        ("description", "Helps.".to_owned()),
        ("action", "account-read".to_owned()),
        ("effect", "allow".to_owned()),
        ("action", "grant-manage".to_owned()),
        ("effect", "allow".to_owned()),
    ]
    .map(|(name, value)| (name.to_owned(), value));
    let prompt = post_pairs(&mut roles, "/console/admin/roles/helper", &widen).await;
    assert_eq!(prompt.status, 403, "{}", prompt.body);
    assert!(prompt.body.contains("To save this role, confirm it is you"));
    let mut sent = hidden_fields(&prompt, "/console/step-up");
    let actions: Vec<&str> = sent
        .iter()
        .filter(|(name, _)| name == "action")
        .map(|(_, value)| value.as_str())
        .collect();
    assert_eq!(actions, ["account-read", "grant-manage"]);
    sent.push(("code".to_owned(), code(&roles_secret, 1)));
    let confirmed = post_pairs(&mut roles, "/console/step-up", &sent).await;
    assert_eq!(confirmed.status, 307);
    let saved = post_pairs(&mut roles, confirmed.location(), &sent).await;
    assert_eq!(
        (saved.status, saved.location()),
        (303, "/console/admin/roles/helper?done=role-updated")
    );

    // The first super admin's refreshed session disables at once, without a prompt.
    let account_page = browser
        .get(&format!("/console/admin/accounts/{}", victim.id))
        .await;
    let disabled = browser
        .post(
            &format!("/console/admin/accounts/{}/disable", victim.id),
            &[("csrf_token", &account_page.csrf_token())],
        )
        .await;
    assert_eq!(disabled.status, 303, "{}", disabled.body);
}

async fn changing_factors_needs_a_recent_second_factor_or_sign_in(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let ada = app.new_account("ada").await;
    let mut browser = Browser::new(&app);
    browser.sign_in(&ada.email, PASSWORD).await;
    let (secret, _) = set_up_app(&mut browser).await;

    // New recovery codes on this session, whose second factor is not recent: the prompt
    // asks for the password again (never shown back) and the code, then sends the form.
    let page = browser.get("/console/account/two-step").await;
    let prompt = browser
        .post(
            "/console/account/two-step/recovery-codes",
            &[("csrf_token", &page.csrf_token()), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(prompt.status, 403, "{}", prompt.body);
    assert!(
        prompt
            .body
            .contains("To get new recovery codes, confirm it is you")
    );
    assert!(prompt.body.contains("Your password, again"));
    assert!(!prompt.body.contains(PASSWORD));
    let mut sent = hidden_fields(&prompt, "/console/step-up");
    sent.push(("password".to_owned(), PASSWORD.to_owned()));
    sent.push(("code".to_owned(), code(&secret, 1)));
    let confirmed = post_pairs(&mut browser, "/console/step-up", &sent).await;
    assert_eq!(
        (confirmed.status, confirmed.location()),
        (307, "/console/account/two-step/recovery-codes")
    );
    let renewed = post_pairs(&mut browser, confirmed.location(), &sent).await;
    assert_eq!(renewed.status, 200, "{}", renewed.body);
    assert_eq!(recovery_codes(&renewed).len(), 10);

    // A passkey ceremony that meets the step-up is sent to the prompt with no form waiting;
    // confirming leads back with a notice.
    let mut other = Browser::new(&app);
    let page = password_step(&mut other, &ada.email, "otp,recovery").await;
    let signed_in = send_code(&mut other, &page, &recovery_codes(&renewed)[0]).await;
    assert_eq!(signed_in.status, 303);
    // This session's second factor is recent: it starts a passkey at once.
    let page = other.get("/console/account/two-step").await;
    let started = other
        .post_json(
            "/console/account/two-step/passkeys/start",
            Some(&meta_token(&page)),
            &json!({}),
        )
        .await;
    assert_eq!(started.status, 200, "{}", started.body);
    // The first browser's step-up was recent too; a session that never stepped up is not.
    let mut third = Browser::new(&app);
    let page = password_step(&mut third, &ada.email, "otp,recovery").await;
    send_code(&mut third, &page, &recovery_codes(&renewed)[1]).await;
    app.age_sessions(std::time::Duration::from_mins(20));
    let page = third.get("/console/account/two-step").await;
    let csrf = meta_token(&page);
    let refused = third
        .post_json(
            "/console/account/two-step/passkeys/start",
            Some(&csrf),
            &json!({}),
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(
        refused.json()["location"],
        "/console/step-up?back=%2Fconsole%2Faccount%2Ftwo-step"
    );
    let prompt = third
        .get("/console/step-up?back=%2Fconsole%2Faccount%2Ftwo-step")
        .await;
    assert_eq!(prompt.status, 200);
    assert!(
        prompt
            .body
            .contains("To change your two-step sign-in, confirm it is you")
    );
    let mut sent = hidden_fields(&prompt, "/console/step-up");
    assert!(sent.contains(&("step_up_action".to_owned(), String::new())));
    sent.push(("code".to_owned(), recovery_codes(&renewed)[2].clone()));
    let back = post_pairs(&mut third, "/console/step-up", &sent).await;
    assert_eq!(
        (back.status, back.location()),
        (303, "/console/account/two-step?done=stepped-up")
    );
    let started = third
        .post_json(
            "/console/account/two-step/passkeys/start",
            Some(&csrf),
            &json!({}),
        )
        .await;
    assert_eq!(started.status, 200, "{}", started.body);

    // An account without a second factor whose sign-in is old is asked to sign in again,
    // and comes back to the page afterwards.
    let bob = app.new_account("bob").await;
    let mut stale = Browser::new(&app);
    stale.sign_in(&bob.email, PASSWORD).await;
    app.age_sessions(std::time::Duration::from_mins(20));
    let page = stale.get("/console/account/two-step").await;
    let refused = stale
        .post(
            "/console/account/two-step/app",
            &[("csrf_token", &page.csrf_token())],
        )
        .await;
    assert_eq!(
        (refused.status, refused.location()),
        (
            303,
            "/console/sign-in-again?next=%2Fconsole%2Faccount%2Ftwo-step"
        )
    );
    let again = stale.get(refused.location()).await;
    assert_eq!(again.status, 403);
    assert!(again.body.contains("<h1>Sign in again</h1>"));
    let mut sent = hidden_fields(&again, "/console/logout");
    assert!(sent.contains(&("next".to_owned(), "/console/account/two-step".to_owned())));
    sent.retain(|(name, _)| name != "csrf_token");
    sent.push(("csrf_token".to_owned(), again.csrf_token()));
    let out = post_pairs(&mut stale, "/console/logout", &sent).await;
    assert_eq!(
        out.location(),
        "/console/login?done=sign-in-again&next=%2Fconsole%2Faccount%2Ftwo-step"
    );
    assert!(!stale.has_cookie("roster_session"));
    let login = stale.get(out.location()).await;
    assert!(
        login.body.contains("Sign in again to carry on"),
        "{}",
        login.body
    );
    let token = login.csrf_token();
    let signed_in = stale
        .post(
            "/console/login",
            &[
                ("csrf_token", token.as_str()),
                ("email", &bob.email),
                ("password", PASSWORD),
                ("next", "/console/account/two-step"),
            ],
        )
        .await;
    assert_eq!(signed_in.location(), "/console/account/two-step");
    let page = stale.get("/console/account/two-step").await;
    let setup = stale
        .post(
            "/console/account/two-step/app",
            &[("csrf_token", &page.csrf_token())],
        )
        .await;
    assert_eq!(setup.status, 200, "{}", setup.body);
}

/// POSTs `fields` to `path`.
async fn post_pairs(browser: &mut Browser<'_>, path: &str, fields: &[(String, String)]) -> Page {
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    browser.post(path, &fields).await
}

/// The relying party's origin for the passkey test: what `server.public_url` says, what the
/// software authenticator signs, and the `Origin` the browser sends.
const ORIGIN: &str = "http://localhost:8080";

/// The page's token, as the console's script reads it from `<meta name="csrf-token">`.
fn meta_token(page: &Page) -> String {
    let marker = r#"<meta name="csrf-token" content=""#;
    let start = page.body.find(marker).expect("the token's meta") + marker.len();
    page.body[start..start + page.body[start..].find('"').unwrap()].to_owned()
}

async fn passkeys_are_added_and_sign_in_through_the_consoles_json_routes(db: Db) {
    let Some(app) = spawn_app_with(
        db,
        AppOptions {
            env: vec![("ROSTER__SERVER__PUBLIC_URL".into(), ORIGIN.into())],
            ..AppOptions::default()
        },
    )
    .await
    else {
        return;
    };
    let ada = app.new_account("ada").await;
    let mut phone = SoftAuthenticator::new(ORIGIN);
    let mut browser = Browser::new(&app);
    browser.origin = Some(ORIGIN.to_owned());
    browser.sign_in(&ada.email, PASSWORD).await;
    let page = browser.get("/console/account/two-step").await;
    assert!(page.body.contains(r#"data-passkey="create""#));
    let csrf = meta_token(&page);
    let start = browser
        .post_json(
            "/console/account/two-step/passkeys/start",
            Some(&csrf),
            &json!({}),
        )
        .await;
    assert_eq!(start.status, 200, "{}", start.body);
    let credential = phone.register(&start.json());
    // A blank name is said beside the name field.
    let blank = browser
        .post_json(
            "/console/account/two-step/passkeys/finish",
            Some(&csrf),
            &json!({"name": " ", "credential": credential}),
        )
        .await;
    assert_eq!(blank.status, 422, "{}", blank.body);
    assert_eq!(blank.json()["field"], "name");
    let start = browser
        .post_json(
            "/console/account/two-step/passkeys/start",
            Some(&csrf),
            &json!({}),
        )
        .await;
    let credential = phone.register(&start.json());
    let added = browser
        .post_json(
            "/console/account/two-step/passkeys/finish",
            Some(&csrf),
            &json!({"name": "Phone", "credential": credential}),
        )
        .await;
    assert_eq!(added.status, 201, "{}", added.body);
    assert_eq!(
        added.json()["location"],
        "/console/account/two-step?done=passkey-added"
    );
    let listed = browser
        .get("/console/account/two-step?done=passkey-added")
        .await;
    assert!(
        listed.body.contains("<td data-label=\"Name\">Phone</td>"),
        "{}",
        listed.body
    );
    assert!(listed.body.contains("Passkey added."));

    // Passwordless: the sign-in page's passkey button.
    let mut other = Browser::new(&app);
    other.origin = Some(ORIGIN.to_owned());
    let login = other.get("/console/login").await;
    assert!(login.body.contains("Sign in with a passkey"));
    let csrf = meta_token(&login);
    let start = other
        .post_json("/console/login/passkey/start", Some(&csrf), &json!({}))
        .await;
    assert_eq!(start.status, 200, "{}", start.body);
    let assertion = phone.assert(&start.json());
    let finished = other
        .post_json(
            "/console/login/passkey/finish",
            Some(&csrf),
            &json!({"credential": assertion, "next": "/console/account/two-step"}),
        )
        .await;
    assert_eq!(finished.status, 200, "{}", finished.body);
    assert_eq!(finished.json()["location"], "/console/account/two-step");
    assert!(other.has_cookie("roster_session"));
    assert_eq!(
        app.session_auth_methods(&other.session_token()).await,
        json!(["passkey"])
    );
    // The same answer again is refused (the ceremony is used up).
    let mut third = Browser::new(&app);
    third.origin = Some(ORIGIN.to_owned());
    let csrf = meta_token(&third.get("/console/login").await);
    let replayed = third
        .post_json(
            "/console/login/passkey/finish",
            Some(&csrf),
            &json!({"credential": assertion}),
        )
        .await;
    assert_eq!(replayed.status, 400, "{}", replayed.body);
    assert!(
        replayed.json()["message"]
            .as_str()
            .unwrap()
            .contains("did not sign you in")
    );
    assert!(!third.has_cookie("roster_session"));

    // The passkey as the second step after the password (no app, so no code field).
    let page = password_step(&mut third, &ada.email, "passkey").await;
    assert!(!page.body.contains(r#"name="code""#), "{}", page.body);
    assert!(page.body.contains(r#"data-passkey="get""#));
    let csrf = meta_token(&page);
    let start = third
        .post_json(
            "/console/login/second-step/passkey/start",
            Some(&csrf),
            &json!({}),
        )
        .await;
    assert_eq!(start.status, 200, "{}", start.body);
    let assertion = phone.assert(&start.json());
    let finished = third
        .post_json(
            "/console/login/second-step/passkey/finish",
            Some(&csrf),
            &json!({"credential": assertion}),
        )
        .await;
    assert_eq!(finished.status, 200, "{}", finished.body);
    assert_eq!(finished.json()["location"], "/console/account");
    assert!(third.has_cookie("roster_session"));
    assert!(!third.has_cookie("roster_mfa"));
    assert_eq!(
        app.session_auth_methods(&third.session_token()).await,
        json!(["pwd", "passkey"])
    );
}

/// Every new route, with what a forged request of it carries.
const FORM_ROUTES: [&str; 6] = [
    "/console/login/second-step",
    "/console/step-up",
    "/console/account/two-step/app",
    "/console/account/two-step/app/confirm",
    "/console/account/two-step/app/remove",
    "/console/account/two-step/recovery-codes",
];
const JSON_ROUTES: [&str; 8] = [
    "/console/login/passkey/start",
    "/console/login/passkey/finish",
    "/console/login/second-step/passkey/start",
    "/console/login/second-step/passkey/finish",
    "/console/step-up/passkey/start",
    "/console/step-up/passkey/finish",
    "/console/account/two-step/passkeys/start",
    "/console/account/two-step/passkeys/finish",
];

async fn every_new_route_refuses_cross_site_requests(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let member = app.new_account("ada").await;
    let mut browser = Browser::new(&app);
    browser.sign_in(&member.email, PASSWORD).await;
    let page = browser.get("/console/account/two-step").await;
    let csrf = page.csrf_token();
    let passkey_id = uuid::Uuid::now_v7();
    let remove_passkey = format!("/console/account/two-step/passkeys/{passkey_id}/remove");
    let forms = FORM_ROUTES.iter().copied().chain([remove_passkey.as_str()]);
    let refused = |page: &Page, what: &str| {
        assert_eq!(page.status, 403, "{what}: {}", page.body);
        assert!(
            page.body.contains("Request refused"),
            "{what}: {}",
            page.body
        );
    };
    for path in forms {
        // No token; a token of another browser; the right token from another origin.
        let forged = browser
            .post(path, &[("code", "123456"), ("password", PASSWORD)])
            .await;
        refused(&forged, path);
        let foreign = browser
            .post(path, &[("csrf_token", "not-this-browsers")])
            .await;
        refused(&foreign, path);
        browser.origin = Some("http://evil.example".to_owned());
        let cross = browser.post(path, &[("csrf_token", &csrf)]).await;
        browser.origin = Some(app.address.clone());
        refused(&cross, path);
    }
    for path in JSON_ROUTES {
        let forged = browser.post_json(path, None, &json!({})).await;
        refused(&forged, path);
        let foreign = browser
            .post_json(path, Some("not-this-browsers"), &json!({}))
            .await;
        refused(&foreign, path);
        browser.origin = Some("http://evil.example".to_owned());
        let cross = browser.post_json(path, Some(&csrf), &json!({})).await;
        browser.origin = Some(app.address.clone());
        refused(&cross, path);
        // A form-encoded body (what another site's form could send) is no JSON request,
        // even with the right token in the form.
        let as_form = browser.post(path, &[("csrf_token", &csrf)]).await;
        assert_eq!(as_form.status, 400, "{path}: {}", as_form.body);
    }
    // The same requests with the token and from the console's origin pass the checks (the
    // refusals above are the checks', not the routes').
    let started = browser
        .post_json(
            "/console/account/two-step/passkeys/start",
            Some(&csrf),
            &json!({}),
        )
        .await;
    assert_eq!(started.status, 200, "{}", started.body);
    assert!(started.json()["publicKey"]["challenge"].is_string());
    let began = browser
        .post("/console/account/two-step/app", &[("csrf_token", &csrf)])
        .await;
    assert_eq!(began.status, 200, "{}", began.body);
}

/// An app set-up whose confirmation meets the step-up (a passkey was added meanwhile, from
/// another session) is not carried through the prompt: the form holds the secret, which no
/// other page may show. The person confirms it is them and starts the set-up again.
async fn an_app_set_up_met_by_a_step_up_is_not_sent_again(db: Db) {
    let Some(app) = spawn_app_with(
        db,
        AppOptions {
            env: vec![("ROSTER__SERVER__PUBLIC_URL".into(), ORIGIN.into())],
            ..AppOptions::default()
        },
    )
    .await
    else {
        return;
    };
    let ada = app.new_account("ada").await;
    let mut browser = Browser::new(&app);
    browser.origin = Some(ORIGIN.to_owned());
    browser.sign_in(&ada.email, PASSWORD).await;
    let page = browser.get("/console/account/two-step").await;
    let setup = browser
        .post(
            "/console/account/two-step/app",
            &[("csrf_token", &page.csrf_token())],
        )
        .await;
    assert_eq!(setup.status, 200, "{}", setup.body);
    let secret: String = text_of(&setup, "totp-secret")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    // Meanwhile a passkey is added over the API: the account has a second factor now, and
    // the console session presented none.
    let mut phone = SoftAuthenticator::new(ORIGIN);
    let options: Value = app
        .post_as("/v1/account/me/passkeys/register/start", &ada.token)
        .await
        .json()
        .await
        .unwrap();
    let credential = phone.register(&options);
    let added = app
        .post_json(
            "/v1/account/me/passkeys/register/finish",
            &json!({"name": "Phone", "credential": credential}),
            Some(&ada.token),
        )
        .await;
    assert_eq!(added.status(), 201);
    let mut fields = hidden_fields(&setup, "/console/account/two-step/app/confirm");
    fields.push(("code".to_owned(), code(&secret, 0)));
    let refused = post_pairs(
        &mut browser,
        "/console/account/two-step/app/confirm",
        &fields,
    )
    .await;
    assert_eq!(
        (refused.status, refused.location()),
        (303, "/console/step-up?back=%2Fconsole%2Faccount%2Ftwo-step"),
        "{}",
        refused.body
    );
    let prompt = browser.get(refused.location()).await;
    assert_eq!(prompt.status, 200);
    assert!(
        !prompt.body.contains(&secret),
        "the secret reached the prompt"
    );
    assert!(!prompt.body.contains("otpauth://"));
}
