//! The web console over plain HTTP (no browser): its cookies, its headers, its protection
//! against cross-site requests, and its flags. Browser tests (tests/browser) drive the same
//! pages through Chromium.

use std::collections::HashMap;
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, COOKIE, HeaderMap, LOCATION, ORIGIN, SET_COOKIE};
use reqwest::redirect::Policy;
use serde_json::Value;

use crate::helpers::{
    AppOptions, Db, PASSWORD, TestApp, eventually, spawn_app, spawn_app_with, unique_email,
};
use crate::on_both_databases;

/// What the test browser says it is.
const BROWSER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36";

/// A browser-like client: keeps the console's cookies, sends its own origin, follows no
/// redirect (the tests look at each one).
pub(crate) struct Browser<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    cookies: HashMap<String, String>,
    /// What `Origin` to send on POSTs; `None` sends none.
    pub(crate) origin: Option<String>,
}

/// A response as the tests read it.
pub(crate) struct Page {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

impl Page {
    pub(crate) fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
    }

    /// The hidden CSRF token of the page's first form.
    pub(crate) fn csrf_token(&self) -> String {
        let marker = r#"name="csrf_token" value=""#;
        let start = self.body.find(marker).expect("a form with a csrf_token") + marker.len();
        let end = start + self.body[start..].find('"').unwrap();
        self.body[start..end].to_owned()
    }

    /// The body as JSON.
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// The `Set-Cookie` header for `name`, whole.
    pub(crate) fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .find(|value| value.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }
}

impl<'a> Browser<'a> {
    pub(crate) fn new(app: &'a TestApp) -> Browser<'a> {
        Browser {
            app,
            client: reqwest::Client::builder()
                .redirect(Policy::none())
                .user_agent(BROWSER_AGENT)
                // A connection per request: a page refused before its form was read (a
                // session sent to sign in or to set up a second factor) may have its
                // connection closed by the server, which a browser would retry quietly.
                .pool_max_idle_per_host(0)
                .build()
                .unwrap(),
            cookies: HashMap::new(),
            origin: Some(app.address.clone()),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn read(&mut self, response: reqwest::Response) -> Page {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        for value in headers.get_all(SET_COOKIE) {
            let text = value.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || text.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let body = response.text().await.unwrap();
        Page {
            status,
            headers,
            body,
        }
    }

    pub(crate) async fn get(&mut self, path: &str) -> Page {
        let response = self
            .client
            .get(self.app.url(path))
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .unwrap();
        self.read(response).await
    }

    pub(crate) async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut request = self
            .client
            .post(self.app.url(path))
            .header(COOKIE, self.cookie_header())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(fields).unwrap());
        if let Some(origin) = &self.origin {
            request = request.header(ORIGIN, origin);
        }
        let response = request.send().await.unwrap();
        self.read(response).await
    }

    /// Signs in through the console's form; returns the response to the POST.
    pub(crate) async fn sign_in(&mut self, email: &str, password: &str) -> Page {
        let token = self.get("/console/login").await.csrf_token();
        self.post(
            "/console/login",
            &[
                ("csrf_token", &token),
                ("email", email),
                ("password", password),
            ],
        )
        .await
    }

    /// The session token in the cookie.
    pub(crate) fn session_token(&self) -> String {
        self.cookies["roster_session"].clone()
    }

    /// Whether the browser holds the cookie `name` now.
    pub(crate) fn has_cookie(&self, name: &str) -> bool {
        self.cookies.contains_key(name)
    }

    /// A POST of `body` as JSON, as the console's script sends it: `csrf` in its header.
    pub(crate) async fn post_json(&mut self, path: &str, csrf: Option<&str>, body: &Value) -> Page {
        let mut request = self
            .client
            .post(self.app.url(path))
            .header(COOKIE, self.cookie_header())
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string());
        if let Some(csrf) = csrf {
            request = request.header("x-csrf-token", csrf);
        }
        if let Some(origin) = &self.origin {
            request = request.header(ORIGIN, origin);
        }
        let response = request.send().await.unwrap();
        self.read(response).await
    }
}

on_both_databases!(
    signing_in_opens_an_api_session_in_a_strict_http_only_cookie,
    signing_out_ends_the_session,
    a_session_ended_elsewhere_sends_to_sign_in_with_a_notice,
);

async fn signing_in_opens_an_api_session_in_a_strict_http_only_cookie(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let member = app.new_account("console").await;
    let mut browser = Browser::new(&app);

    let login = browser.get("/console/login").await;
    assert_eq!(login.status, 200);
    let pre_session = login
        .set_cookie("roster_csrf")
        .expect("a pre-session cookie");
    for part in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
        assert!(pre_session.contains(part), "{pre_session}");
    }

    let signed_in = browser.sign_in(&member.email, PASSWORD).await;
    assert_eq!(signed_in.status, 303);
    assert_eq!(signed_in.location(), "/console/account");
    let cookie = signed_in
        .set_cookie("roster_session")
        .expect("a session cookie");
    for part in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    // Not Secure over plain http (a browser would drop it); see the https test below.
    assert!(!cookie.contains("Secure"), "{cookie}");

    // The same server-side session as the API's: listed there, beside the bearer one.
    let sessions: Value = app
        .get_as("/v1/account/me/sessions", &member.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sessions["items"].as_array().unwrap().len(), 2, "{sessions}");
    let me = app.get_as("/v1/account/me", &browser.session_token()).await;
    assert_eq!(me.status(), 200);

    let account = browser.get("/console/account").await;
    assert_eq!(account.status, 200);
    assert!(account.body.contains(&member.email));
    assert!(account.body.contains("You have no grants yet"));
    // The session list says which device and address each session came from.
    assert!(account.body.contains("Chrome on Linux"), "{}", account.body);
    assert!(
        account
            .body
            .contains(r#"data-label="Address">127.0.0.1</td>"#)
    );
}

async fn signing_out_ends_the_session(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let member = app.new_account("console").await;
    let mut browser = Browser::new(&app);
    browser.sign_in(&member.email, PASSWORD).await;
    let token = browser.session_token();

    let account = browser.get("/console/account").await;
    let signed_out = browser
        .post("/console/logout", &[("csrf_token", &account.csrf_token())])
        .await;
    assert_eq!(signed_out.status, 303);
    assert_eq!(signed_out.location(), "/console/login?done=signed-out");
    assert!(!browser.cookies.contains_key("roster_session"));
    // The server-side session is over, not just the cookie.
    assert_eq!(app.get_as("/v1/account/me", &token).await.status(), 401);
    let back = browser.get("/console/account").await;
    assert_eq!(back.status, 303);
}

async fn a_session_ended_elsewhere_sends_to_sign_in_with_a_notice(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let member = app.new_account("console").await;
    let mut browser = Browser::new(&app);
    browser.sign_in(&member.email, PASSWORD).await;
    // The same session, ended over the API (as from another device).
    let token = browser.session_token();
    assert_eq!(app.post_as("/v1/auth/logout", &token).await.status(), 204);

    let page = browser.get("/console/account").await;
    assert_eq!(page.status, 303);
    assert_eq!(
        page.location(),
        "/console/login?next=%2Fconsole%2Faccount&done=session-ended"
    );
    let login = browser.get(page.location()).await;
    assert!(
        login
            .body
            .contains("Your session has ended. Please sign in again."),
        "{}",
        login.body
    );

    // Someone who was never signed in is sent to sign in without the notice.
    let stranger = Browser::new(&app).get("/console/account").await;
    assert_eq!(
        stranger.location(),
        "/console/login?next=%2Fconsole%2Faccount"
    );
}

#[tokio::test]
async fn every_console_response_carries_the_console_headers() {
    let Some(app) = spawn_app(Db::Sqlite).await else {
        return;
    };
    let member = app.new_account("console").await;
    let mut browser = Browser::new(&app);
    browser.sign_in(&member.email, PASSWORD).await;
    for path in ["/console/login", "/console/account", "/console/register"] {
        let page = browser.get(path).await;
        let header = |name: &str| {
            page.headers
                .get(name)
                .map(|value| value.to_str().unwrap().to_owned())
                .unwrap_or_default()
        };
        let csp = header("content-security-policy");
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(header("cache-control"), "no-store", "{path}");
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
    }
    // The embedded files are served (and may be cached briefly).
    let css = browser.get("/console/assets/console.css").await;
    assert_eq!(css.status, 200);
    assert!(
        css.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert!(css.body.contains("prefers-color-scheme: dark"));
}

#[tokio::test]
async fn a_forged_cross_site_post_is_refused_and_changes_nothing() {
    let Some(app) = spawn_app(Db::Sqlite).await else {
        return;
    };
    let member = app.new_account("console").await;
    let mut browser = Browser::new(&app);
    browser.sign_in(&member.email, PASSWORD).await;
    let token = browser.get("/console/account").await.csrf_token();
    let new_password = "a completely different passphrase here";
    let change = [
        ("csrf_token", token.as_str()),
        ("current_password", PASSWORD),
        ("new_password", new_password),
    ];

    // From another origin, even with the right token.
    browser.origin = Some("https://evil.example".to_owned());
    let forged = browser.post("/console/account/password", &change).await;
    assert_eq!(forged.status, 403);
    assert!(forged.body.contains("Nothing was changed"));
    // Same origin, but without the token, or with another browser's token.
    browser.origin = Some(app.address.clone());
    let without_token = browser
        .post(
            "/console/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", new_password),
            ],
        )
        .await;
    assert_eq!(without_token.status, 403);
    let mut other = Browser::new(&app);
    let foreign_token = other.get("/console/login").await.csrf_token();
    let with_foreign = browser
        .post(
            "/console/account/password",
            &[
                ("csrf_token", foreign_token.as_str()),
                ("current_password", PASSWORD),
                ("new_password", new_password),
            ],
        )
        .await;
    assert_eq!(with_foreign.status, 403);
    // A browser that says the request is cross-site.
    let mut request = reqwest::Client::new()
        .post(app.url("/console/logout"))
        .header(COOKIE, browser.cookie_header())
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "cross-site")
        .body(serde_urlencoded::to_string([("csrf_token", token.as_str())]).unwrap());
    request = request.header(ORIGIN, app.address.clone());
    assert_eq!(request.send().await.unwrap().status(), 403);

    // Nothing changed: the old password still works, the session too.
    assert_eq!(app.login(&member.email, PASSWORD).await.status(), 200);
    assert_eq!(browser.get("/console/account").await.status, 200);

    // The genuine form does change it.
    let genuine = browser.post("/console/account/password", &change).await;
    assert_eq!(genuine.status, 303);
    assert_eq!(genuine.location(), "/console/account?done=password-changed");
    assert_eq!(app.login(&member.email, new_password).await.status(), 200);
}

#[tokio::test]
async fn wrong_credentials_show_one_message_and_open_no_session() {
    let Some(app) = spawn_app(Db::Sqlite).await else {
        return;
    };
    let member = app.new_account("console").await;
    let mut browser = Browser::new(&app);
    for (email, password) in [
        (member.email.as_str(), "not the password at all, sorry"),
        ("nobody-here@example.com", PASSWORD),
    ] {
        let page = browser.sign_in(email, password).await;
        assert_eq!(page.status, 401);
        assert!(page.body.contains("The email or password is incorrect."));
        assert!(
            page.body.contains(&format!(r#"value="{email}""#)),
            "the email is kept"
        );
        assert!(
            !page.body.contains(password),
            "a password is never shown back"
        );
        assert!(page.set_cookie("roster_session").is_none());
    }
}

#[tokio::test]
async fn sign_in_returns_to_the_page_asked_for_and_nowhere_else() {
    let Some(app) = spawn_app(Db::Sqlite).await else {
        return;
    };
    let member = app.new_account("console").await;
    let mut browser = Browser::new(&app);
    let asked = browser.get("/console/account?done=welcome").await;
    assert_eq!(asked.status, 303);
    let login_path = asked.location().to_owned();
    assert_eq!(
        login_path,
        "/console/login?next=%2Fconsole%2Faccount%3Fdone%3Dwelcome"
    );
    let token = browser.get(&login_path).await.csrf_token();
    let back = browser
        .post(
            "/console/login",
            &[
                ("csrf_token", token.as_str()),
                ("email", member.email.as_str()),
                ("password", PASSWORD),
                ("next", "/console/account?done=welcome"),
            ],
        )
        .await;
    assert_eq!(back.location(), "/console/account?done=welcome");
    for next in [
        "//evil.example/",
        "https://evil.example/",
        "/console//evil.example",
    ] {
        let mut other = Browser::new(&app);
        let token = other.get("/console/login").await.csrf_token();
        let page = other
            .post(
                "/console/login",
                &[
                    ("csrf_token", token.as_str()),
                    ("email", member.email.as_str()),
                    ("password", PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(page.location(), "/console/account", "{next}");
    }
}

#[tokio::test]
async fn an_api_key_is_not_a_console_sign_in() {
    let Some(app) = spawn_app(Db::Sqlite).await else {
        return;
    };
    let admin = app.superadmin_token().await;
    let key: Value = app
        .post_json(
            "/v1/admin/api-keys",
            &serde_json::json!({"name": "ci"}),
            Some(&admin),
        )
        .await
        .json()
        .await
        .unwrap();
    let mut browser = Browser::new(&app);
    browser.cookies.insert(
        "roster_session".to_owned(),
        key["key"].as_str().unwrap().to_owned(),
    );
    let page = browser.get("/console/account").await;
    assert_eq!(page.status, 303);
    assert!(page.location().starts_with("/console/login"));
}

#[tokio::test]
async fn a_sign_up_whose_sign_in_is_refused_still_says_the_account_is_ready() {
    let Some(app) = spawn_app(Db::Sqlite).await else {
        return;
    };
    // Failed logins for an address without an account throttle it like any other.
    let email = unique_email("throttled-newcomer");
    for _ in 0..6 {
        let refused = app.login(&email, "not the password at all").await;
        assert!([401, 429].contains(&refused.status().as_u16()));
    }
    let mut browser = Browser::new(&app);
    let token = browser.get("/console/register").await.csrf_token();
    let created = browser
        .post(
            "/console/register",
            &[
                ("csrf_token", &token),
                ("email", &email),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(created.status, 303);
    assert_eq!(created.location(), "/console/login?done=account-ready");
    assert!(!browser.cookies.contains_key("roster_session"));
    let login = browser.get(created.location()).await;
    assert!(
        login
            .body
            .contains("Your account is ready. Sign in to continue.")
    );
    // The account exists: the API's registration now says the address is taken.
    assert_eq!(app.register(&email, PASSWORD).await.status(), 409);
}

#[tokio::test]
async fn sign_up_signs_in_and_shows_the_rules_and_errors_beside_the_fields() {
    let Some(app) = spawn_app(Db::Sqlite).await else {
        return;
    };
    let mut browser = Browser::new(&app);
    let form = browser.get("/console/register").await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("At least 15 and at most 128 characters"));
    let token = form.csrf_token();

    let short = browser
        .post(
            "/console/register",
            &[
                ("csrf_token", &token),
                ("email", "new@example.com"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(short.status, 422);
    assert!(short.body.contains(r#"id="password-error""#));
    assert!(short.body.contains(r#"value="new@example.com""#));

    let created = browser
        .post(
            "/console/register",
            &[
                ("csrf_token", &token),
                ("email", "new@example.com"),
                ("name", "Newcomer"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(created.status, 303);
    assert_eq!(created.location(), "/console/account?done=welcome");
    let account = browser.get("/console/account?done=welcome").await;
    assert!(account.body.contains("Welcome! Your account is ready."));
    assert!(account.body.contains("Newcomer"));

    let mut again = Browser::new(&app);
    let token = again.get("/console/register").await.csrf_token();
    let duplicate = again
        .post(
            "/console/register",
            &[
                ("csrf_token", &token),
                ("email", "NEW@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(duplicate.status, 409);
    assert!(duplicate.body.contains(r#"id="email-error""#));
}

#[tokio::test]
async fn sign_up_is_gone_while_registration_is_off_and_the_console_while_it_is_off() {
    let Some(app) = spawn_app_with(
        Db::Sqlite,
        AppOptions {
            features: Some("disabledFeatures = [ account-registration ]\n".to_owned()),
            ..AppOptions::default()
        },
    )
    .await
    else {
        return;
    };
    let mut browser = Browser::new(&app);
    assert_eq!(browser.get("/console/register").await.status, 404);
    let login = browser.get("/console/login").await;
    assert!(
        !login.body.contains("/console/register"),
        "no link to a missing page"
    );
    let token = login.csrf_token();
    let refused = browser
        .post(
            "/console/register",
            &[
                ("csrf_token", &token),
                ("email", "x@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(refused.status, 404);

    app.write_features("disabledFeatures = [ web-console ]\n");
    let gone = eventually(Duration::from_secs(5), || {
        let url = app.url("/console/login");
        async move { reqwest::get(url).await.unwrap().status() == 404 }
    })
    .await;
    assert!(
        gone.is_some(),
        "the console answers 404 once web-console is off"
    );
    assert_eq!(
        reqwest::get(app.url("/console/assets/console.css"))
            .await
            .unwrap()
            .status(),
        404
    );
    // The API is untouched.
    assert_eq!(app.register("y@example.com", PASSWORD).await.status(), 201);
}

#[tokio::test]
async fn under_an_https_public_url_cookies_are_secure_and_only_that_origin_may_post() {
    let Some(app) = spawn_app_with(
        Db::Sqlite,
        AppOptions {
            env: vec![(
                "ROSTER__SERVER__PUBLIC_URL".to_owned(),
                "https://id.example.com".to_owned(),
            )],
            ..AppOptions::default()
        },
    )
    .await
    else {
        return;
    };
    let member = app.new_account("console").await;
    let mut browser = Browser::new(&app);
    let login = browser.get("/console/login").await;
    // `__Host-` names: only this host, over https, may set them, so a sibling subdomain
    // cannot plant a session (they require `Secure`, `Path=/` and no `Domain`).
    let host_only = |cookie: Option<String>| {
        let cookie = cookie.expect("a __Host- cookie");
        for part in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
            assert!(
                cookie.split("; ").any(|p| p == part),
                "{cookie} lacks {part}"
            );
        }
        assert!(!cookie.to_ascii_lowercase().contains("domain="), "{cookie}");
    };
    host_only(login.set_cookie("__Host-roster_csrf"));
    assert!(login.set_cookie("roster_csrf").is_none());
    // The local address is not the public origin.
    let refused = browser.sign_in(&member.email, PASSWORD).await;
    assert_eq!(refused.status, 403);
    browser.origin = Some("https://id.example.com".to_owned());
    let signed_in = browser.sign_in(&member.email, PASSWORD).await;
    assert_eq!(signed_in.status, 303);
    host_only(signed_in.set_cookie("__Host-roster_session"));
    assert!(signed_in.set_cookie("roster_session").is_none());
    assert_eq!(browser.get("/console/account").await.status, 200);

    // A plain `roster_session` (what a sibling subdomain could set for the parent domain)
    // is not read: the page sends its bearer to sign in.
    let token = browser.cookies.remove("__Host-roster_session").unwrap();
    browser.cookies.insert("roster_session".to_owned(), token);
    let planted = browser.get("/console/account").await;
    assert_eq!(planted.status, 303);
    assert!(planted.location().starts_with("/console/login"));
}

/// Without `server.public_url` the operator is told what that costs.
#[tokio::test]
async fn without_a_public_url_start_up_warns_about_cookies_and_origins() {
    let Some(_app) = spawn_app(Db::Sqlite).await else {
        return;
    };
    let logs = crate::helpers::captured_logs();
    assert!(
        logs.contains("console cookies are not Secure")
            && logs.contains("set server.public_url in production"),
        "no warning about server.public_url in the start-up logs"
    );
}

/// The account page does not weigh each grant for the viewer (security review M1): a
/// delegate who manages grants sees "Remove grant" on every grant, and the use case refuses
/// the one it may not remove, with the reason on the page and the grant kept.
#[tokio::test]
async fn a_grant_beyond_the_delegate_shows_remove_and_its_refusal_is_explained() {
    let Some(app) = spawn_app(Db::Sqlite).await else {
        return;
    };
    let admin = app.superadmin_token().await;
    app.create_role(
        &admin,
        "helpdesk",
        &[("account-read", "allow"), ("grant-manage", "allow")],
    )
    .await;
    app.create_role(&admin, "boss", &[("all", "allow")]).await;
    let delegate = app.new_account("delegate").await;
    app.grant_ok(&admin, &delegate.id, "helpdesk", "*").await;
    let target = app.new_account("target").await;
    let grant = app.grant_ok(&admin, &target.id, "boss", "acme").await;

    let mut browser = Browser::new(&app);
    assert_eq!(browser.sign_in(&delegate.email, PASSWORD).await.status, 303);
    let path = format!("/console/admin/accounts/{}", target.id);
    let page = browser.get(&path).await;
    assert_eq!(page.status, 200);
    let remove = format!("{path}/grants/{grant}/delete");
    assert!(page.body.contains(&remove), "no Remove grant button");

    let refused = browser
        .post(&remove, &[("csrf_token", &page.csrf_token())])
        .await;
    assert_eq!(refused.status, 403);
    assert!(
        refused
            .body
            .contains("Your grants do not allow removing that grant."),
        "{}",
        refused.body
    );
    // Still the account's page, the grant kept.
    assert!(refused.body.contains(&remove));
    let grants: Value = app
        .get_as(&format!("/v1/admin/accounts/{}/grants", target.id), &admin)
        .await
        .json()
        .await
        .unwrap();
    assert!(grants.to_string().contains(&grant), "{grants}");
}

/// A form posted: where, the fields besides the token, what its refusal says.
type Posted<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);

/// A hand-made form with a thousand rows (security review L5) is refused at once with one
/// message, before any row is checked or shown back, on each form with rows.
#[tokio::test]
async fn a_form_with_a_thousand_rows_is_refused_with_one_message() {
    let Some(app) = spawn_app(Db::Sqlite).await else {
        return;
    };
    let mut browser = Browser::new(&app);
    // The console's cookie holds the same session token as a bearer client.
    browser
        .cookies
        .insert("roster_session".to_owned(), app.superadmin_token().await);
    let token = browser.get("/console/admin/accounts").await.csrf_token();
    let rows = |first: &'static str, second: &'static str| {
        std::iter::repeat_n([(first, "A"), (second, "A")], 1000).flatten()
    };
    let forms: [Posted; 3] = [
        (
            "/console/admin/accounts",
            [("email", "many@example.com"), ("password", PASSWORD)]
                .into_iter()
                .chain(rows("role", "scope"))
                .collect(),
            "The form has more than 20 grant rows",
        ),
        (
            "/console/admin/api-keys",
            [("name", "many")]
                .into_iter()
                .chain(rows("role", "scope"))
                .collect(),
            "The form has more than 20 grant rows",
        ),
        (
            "/console/admin/roles",
            [("name", "many")]
                .into_iter()
                .chain(rows("action", "effect"))
                .collect(),
            "The form has more rule rows than this page ever shows",
        ),
    ];
    for (path, fields, message) in forms {
        let fields: Vec<(&str, &str)> = [("csrf_token", token.as_str())]
            .into_iter()
            .chain(fields)
            .collect();
        let refused = browser.post(path, &fields).await;
        assert_eq!(refused.status, 400, "{path}");
        assert_eq!(refused.body.matches(message).count(), 1, "{path}");
        assert!(
            refused.body.len() < 20_000,
            "{path}: {} bytes",
            refused.body.len()
        );
    }
    // Nothing was created.
    let accounts: Value = app
        .get_as(
            "/v1/admin/accounts?email=many@example.com",
            &app.superadmin_token().await,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(accounts["items"], serde_json::json!([]), "{accounts}");
}

on_both_databases!(
    sign_up_shows_the_allowed_domains_and_a_refused_domain_beside_the_email,
    an_unverified_sign_up_is_told_to_verify_and_sign_in_says_so,
    a_forgotten_password_is_reset_through_the_console_pages,
    an_email_is_verified_through_the_console_and_a_dead_link_offers_a_new_one,
    enumeration_safe_sign_up_ends_on_the_same_page_for_new_and_taken_emails,
);

/// The `.eml` files written so far (the embedded default: no SMTP server configured), parsed;
/// waits for `count`.
async fn mails(app: &TestApp, count: usize) -> Vec<crate::mail::Received> {
    crate::mail::wait_for_files(&app.outbox_dir(), count)
        .await
        .iter()
        .map(|raw| crate::mail::parse(raw))
        .collect()
}

async fn a_forgotten_password_is_reset_through_the_console_pages(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let member = app.new_account("forgot").await;
    let mut browser = Browser::new(&app);
    let sign_in = browser.get("/console/login").await;
    assert!(
        sign_in
            .body
            .contains(r#"<a href="/console/password-reset">Forgot your password?</a>"#)
    );

    let page = browser.get("/console/password-reset").await;
    assert_eq!(page.status, 200);
    for field in [
        r#"name="email""#,
        r#"name="token""#,
        r#"name="new_password""#,
    ] {
        assert!(page.body.contains(field), "{field}");
    }
    assert!(page.body.contains(r#"data-fragment-token="rpr_""#));
    let token = page.csrf_token();

    // A malformed email is refused beside the field; a known and an unknown one end alike.
    let refused = browser
        .post(
            "/console/password-reset",
            &[("csrf_token", &token), ("email", "nope")],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains(r#"id="email-error""#));
    let mut ends = Vec::new();
    for email in [member.email.as_str(), "nobody@example.com"] {
        let asked = browser
            .post(
                "/console/password-reset",
                &[("csrf_token", &token), ("email", email)],
            )
            .await;
        ends.push((asked.status, asked.location().to_owned()));
    }
    assert_eq!(
        ends,
        vec![
            (
                303,
                "/console/check-your-email?sent=password-reset".to_owned()
            );
            2
        ]
    );
    let check = browser.get(&ends[0].1).await;
    assert!(
        check
            .body
            .contains("we sent it a link to set a new password")
    );

    let mail = &mails(&app, 1).await[0];
    assert_eq!(mail.to, member.email);
    let reset = crate::mail::reset_token(mail);

    let dead = browser
        .post(
            "/console/password-reset/confirm",
            &[
                ("csrf_token", &token),
                ("token", &format!("rpr_{}", "A".repeat(43))),
                ("new_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(dead.status, 410);
    assert!(
        dead.body.contains(
            r#"<p class="field-error" id="token-error">This reset link is no longer valid"#
        )
    );
    let weak = browser
        .post(
            "/console/password-reset/confirm",
            &[
                ("csrf_token", &token),
                ("token", &reset),
                ("new_password", "short"),
            ],
        )
        .await;
    assert_eq!(weak.status, 422);
    assert!(weak.body.contains(r#"id="new_password-error""#));
    assert!(!weak.body.contains(&reset), "the token is not echoed");

    let done = browser
        .post(
            "/console/password-reset/confirm",
            &[
                ("csrf_token", &token),
                ("token", &reset),
                ("new_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(done.location(), "/console/login?done=password-set");
    let notice = browser.get(done.location()).await;
    assert!(notice.body.contains("Your new password is set"));
    assert_eq!(
        browser.sign_in(&member.email, NEW_PASSWORD).await.status,
        303
    );
}

const NEW_PASSWORD: &str = "violet submarine tangerine lantern";

async fn an_email_is_verified_through_the_console_and_a_dead_link_offers_a_new_one(db: Db) {
    let Some(app) = spawn_with_registration(db, &[("email_verification", "required")]).await else {
        return;
    };
    let mut browser = Browser::new(&app);
    let token = browser.get("/console/register").await.csrf_token();
    let email = "verify-me@example.com";
    let created = browser
        .post(
            "/console/register",
            &[
                ("csrf_token", &token),
                ("email", email),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(created.location(), "/console/check-your-email?sent=sign-up");
    let link = crate::mail::link_token(&mails(&app, 1).await[0], "verify-email", "rev_");

    let page = browser.get("/console/verify-email").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(r#"data-fragment-token="rev_""#));
    assert!(
        page.body
            .contains(r#"<button type="submit">Verify my email</button>"#)
    );
    assert!(page.body.contains(r#"name="token""#));

    let verified = browser
        .post(
            "/console/verify-email",
            &[("csrf_token", &token), ("token", &link)],
        )
        .await;
    assert_eq!(verified.status, 303);
    assert_eq!(verified.location(), "/console/login?done=email-verified");
    let notice = browser.get(verified.location()).await;
    assert!(notice.body.contains("Your email address is verified."));
    assert_eq!(browser.sign_in(email, PASSWORD).await.status, 303);

    // Used: a clear page with the form for a new link.
    let mut other = Browser::new(&app);
    let token = other.get("/console/verify-email").await.csrf_token();
    let dead = other
        .post(
            "/console/verify-email",
            &[("csrf_token", &token), ("token", &link)],
        )
        .await;
    assert_eq!(dead.status, 410);
    assert!(dead.body.contains("This link no longer works"));
    assert!(
        dead.body
            .contains(r#"action="/console/verify-email/resend""#)
    );
    let resent = other
        .post(
            "/console/verify-email/resend",
            &[("csrf_token", &token), ("email", email)],
        )
        .await;
    assert_eq!(resent.status, 303);
    assert_eq!(
        resent.location(),
        "/console/check-your-email?sent=verification"
    );
    let bad = other
        .post(
            "/console/verify-email/resend",
            &[("csrf_token", &token), ("email", "nope")],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains(r#"id="resend-email-error""#));
}

async fn enumeration_safe_sign_up_ends_on_the_same_page_for_new_and_taken_emails(db: Db) {
    let Some(app) = spawn_with_registration(db, &[("enumeration_safe", "true")]).await else {
        return;
    };
    let mut browser = Browser::new(&app);
    let token = browser.get("/console/register").await.csrf_token();
    let mut ends = Vec::new();
    // The same address twice: new, then taken.
    for _ in 0..2 {
        let answer = browser
            .post(
                "/console/register",
                &[
                    ("csrf_token", &token),
                    ("email", "twice@example.com"),
                    ("password", PASSWORD),
                ],
            )
            .await;
        ends.push((answer.status, answer.location().to_owned(), answer.body));
    }
    assert_eq!(ends[0], ends[1]);
    assert_eq!(ends[0].1, "/console/check-your-email?sent=sign-up");
    assert!(!browser.cookies.contains_key("roster_session"));
    let kinds: Vec<String> = mails(&app, 2)
        .await
        .into_iter()
        .map(|m| m.subject)
        .collect();
    assert!(
        kinds.contains(&"You already have a Roster account".to_owned()),
        "{kinds:?}"
    );
}

/// An app whose registration settings are `(key, value)` under `registration.`.
async fn spawn_with_registration(db: Db, settings: &[(&str, &str)]) -> Option<TestApp> {
    spawn_app_with(
        db,
        AppOptions {
            env: settings
                .iter()
                .map(|(key, value)| {
                    (
                        format!("ROSTER__REGISTRATION__{}", key.to_uppercase()),
                        (*value).to_owned(),
                    )
                })
                .collect(),
            ..AppOptions::default()
        },
    )
    .await
}

async fn sign_up_shows_the_allowed_domains_and_a_refused_domain_beside_the_email(db: Db) {
    let Some(app) =
        spawn_with_registration(db, &[("allowed_domains", "example.org,*.example.com")]).await
    else {
        return;
    };
    let mut browser = Browser::new(&app);
    let form = browser.get("/console/register").await;
    assert_eq!(form.status, 200);
    let sentence = "Use an email address at example.org or any subdomain of example.com.";
    assert!(form.body.contains(sentence), "{}", form.body);
    assert!(form.body.contains(r#"aria-describedby="email-rules "#));
    let token = form.csrf_token();

    let refused = browser
        .post(
            "/console/register",
            &[
                ("csrf_token", &token),
                ("email", "ada@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(refused.status, 403);
    let error_at = refused
        .body
        .find(r#"<p class="field-error" id="email-error">"#)
        .expect("the refusal is beside the email field");
    let password_at = refused.body.find(r#"id="password""#).unwrap();
    assert!(
        error_at < password_at,
        "beside the email, above the password"
    );
    assert!(
        refused.body[error_at..password_at]
            .contains("Accounts cannot be created here with an email address at this domain.")
    );
    assert!(refused.body[error_at..password_at].contains(sentence));
    assert!(
        refused.body.contains(r#"value="ada@example.com""#),
        "the email is kept"
    );
    assert!(!refused.body.contains(PASSWORD));
    assert!(
        !browser.cookies.contains_key("roster_session"),
        "not signed in"
    );

    let created = browser
        .post(
            "/console/register",
            &[
                ("csrf_token", &token),
                ("email", "ada@eu.example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(created.status, 303);
    assert_eq!(created.location(), "/console/account?done=welcome");

    // Without rules, no sentence.
    let Some(open) = spawn_app(db).await else {
        return;
    };
    let form = Browser::new(&open).get("/console/register").await;
    assert!(!form.body.contains("Use an email address at"));
    assert!(!form.body.contains("email-rules"));
}

async fn an_unverified_sign_up_is_told_to_verify_and_sign_in_says_so(db: Db) {
    let Some(app) = spawn_with_registration(db, &[("email_verification", "required")]).await else {
        return;
    };
    let mut browser = Browser::new(&app);
    let form = browser.get("/console/register").await;
    assert!(
        form.body
            .contains("You will verify this address before you can sign in.")
    );
    let token = form.csrf_token();
    let created = browser
        .post(
            "/console/register",
            &[
                ("csrf_token", &token),
                ("email", "new@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(created.status, 303);
    assert_eq!(created.location(), "/console/check-your-email?sent=sign-up");
    assert!(
        !browser.cookies.contains_key("roster_session"),
        "not signed in"
    );
    let notice = browser.get(created.location()).await;
    assert_eq!(notice.status, 200);
    assert!(
        notice
            .body
            .contains("we sent it a link to verify it. Follow the link, then sign in."),
        "{}",
        notice.body
    );

    let refused = browser.sign_in("new@example.com", PASSWORD).await;
    assert_eq!(refused.status, 403);
    assert!(
        refused
            .body
            .contains("Your email address is not verified yet, so you cannot sign in."),
        "{}",
        refused.body
    );
    assert!(!browser.cookies.contains_key("roster_session"));
    // ... with a form that sends a new link.
    assert!(
        refused
            .body
            .contains(r#"<form method="post" action="/console/verify-email/resend""#)
    );
    assert!(refused.body.contains(r#"id="resend-email" name="email""#));
    let wrong = browser
        .sign_in("new@example.com", "wrong horse battery staple orbit")
        .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("The email or password is incorrect."));
    assert!(!wrong.body.contains("not verified"));
    assert!(!wrong.body.contains("/console/verify-email/resend"));

    // Administrators see which accounts are not verified.
    let mut admin = Browser::new(&app);
    admin
        .cookies
        .insert("roster_session".to_owned(), app.superadmin_token().await);
    let list = admin.get("/console/admin/accounts").await;
    assert_eq!(list.status, 200);
    assert_eq!(
        list.body.matches("Email not verified").count(),
        1,
        "{}",
        list.body
    );
}

/// The `rin_` token of the newest `.eml` message in the app's outbox folder, once `count`
/// messages are there (files are named by message id, a UUID v7: the newest sorts last).
async fn console_invitation_token(app: &TestApp, count: usize) -> String {
    crate::mail::wait_for_files(&app.outbox_dir(), count).await;
    let mut paths: Vec<_> = std::fs::read_dir(app.outbox_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "eml"))
        .collect();
    paths.sort();
    let text = crate::mail::parse(&std::fs::read(paths.last().unwrap()).unwrap()).text;
    let start = text
        .find("/console/invitation#")
        .expect("an invitation link")
        + "/console/invitation#".len();
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect()
}

/// The invitee's page works with registration off: the token goes into a hidden field (the
/// console's script fills it from the fragment), a weak password is refused beside the field
/// with the token kept, the account is created and signed in, and the link then is dead.
async fn the_invitation_page_creates_the_account_and_signs_in(db: Db) {
    let Some(app) = spawn_app_with(
        db,
        AppOptions {
            features: Some("disabledFeatures = [ account-registration ]\n".into()),
            ..AppOptions::default()
        },
    )
    .await
    else {
        return;
    };
    let admin = app.superadmin_token().await;
    app.create_role(&admin, "doc-reader", &[("doc-read", "allow")])
        .await;
    let email = crate::helpers::unique_email("invitee");
    let response = app
        .post_json(
            "/v1/admin/invitations",
            &serde_json::json!({"email": email, "grants": [{"role": "doc-reader", "scope": "acme"}]}),
            Some(&admin),
        )
        .await;
    assert_eq!(response.status(), 201);
    let token = console_invitation_token(&app, 1).await;

    let mut browser = Browser::new(&app);
    let form = browser.get("/console/invitation").await;
    assert_eq!(form.status, 200);
    // The script fills the code from the link's fragment; without it, it can be pasted.
    assert!(form.body.contains(r#"data-fragment-token="rin_""#));
    assert!(
        form.body
            .contains(r#"<label for="token">Invitation code</label>"#)
    );
    assert!(form.body.contains("At least 15 and at most 128 characters"));
    let csrf = form.csrf_token();

    let weak = browser
        .post(
            "/console/invitation",
            &[
                ("csrf_token", &csrf),
                ("token", &token),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(weak.status, 422);
    assert!(weak.body.contains(r#"id="password-error""#));
    assert!(
        weak.body.contains(&format!(r#"value="{token}""#)),
        "the token is kept for the retry"
    );

    let created = browser
        .post(
            "/console/invitation",
            &[
                ("csrf_token", &csrf),
                ("token", &token),
                ("name", "Grace"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(created.status, 303);
    assert_eq!(created.location(), "/console/account?done=welcome");
    let session = browser.session_token();
    assert!(app.allowed(&session, "doc-read", "acme").await);
    let me: Value = app
        .get_as("/v1/account/me", &session)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["account"]["email_verified"], true);

    let mut later = Browser::new(&app);
    let csrf = later.get("/console/invitation").await.csrf_token();
    let dead = later
        .post(
            "/console/invitation",
            &[
                ("csrf_token", &csrf),
                ("token", &token),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(dead.status, 410);
    assert!(dead.body.contains("This invitation link does not work"));
    assert!(
        !dead.body.contains(&token),
        "a dead token is not shown back"
    );
}

/// The admin page: in the menu for `account-read` only, invite with a grant row, send again,
/// revoke, filter by status.
async fn the_invitations_page_invites_resends_and_revokes(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let admin_email = crate::helpers::unique_email("root");
    app.components(&[])
        .roster
        .create_superadmin(roster_app::RegistrationForm::new(
            admin_email.clone(),
            PASSWORD.to_owned().into(),
            None,
        ))
        .await
        .unwrap();
    let admin = app.login_token(&admin_email, PASSWORD).await;
    app.create_role(&admin, "viewer", &[("doc-read", "allow")])
        .await;

    let member = app.new_account("member").await;
    let mut outsider = Browser::new(&app);
    assert_eq!(outsider.sign_in(&member.email, PASSWORD).await.status, 303);
    let account = outsider.get("/console/account").await;
    assert!(!account.body.contains("/console/admin/invitations"));
    assert_eq!(outsider.get("/console/admin/invitations").await.status, 403);

    let mut browser = Browser::new(&app);
    assert_eq!(browser.sign_in(&admin_email, PASSWORD).await.status, 303);
    let page = browser.get("/console/admin/invitations").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(r#"href="/console/admin/invitations""#));
    let csrf = page.csrf_token();
    let email = crate::helpers::unique_email("guest");

    let bad = browser
        .post(
            "/console/admin/invitations",
            &[
                ("csrf_token", &csrf),
                ("email", "not an email"),
                ("expires_in", "7d"),
                ("role", "viewer"),
                ("scope", "acme"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains(r#"id="email-error""#));

    let sent = browser
        .post(
            "/console/admin/invitations",
            &[
                ("csrf_token", &csrf),
                ("email", &email),
                ("name", "Guest"),
                ("expires_in", "14d"),
                ("role", "viewer"),
                ("scope", "acme"),
                ("role", ""),
                ("scope", ""),
            ],
        )
        .await;
    assert_eq!(sent.status, 303);
    assert_eq!(
        sent.location(),
        "/console/admin/invitations?done=invitation-sent"
    );
    let first_token = console_invitation_token(&app, 1).await;

    let again = browser
        .post(
            "/console/admin/invitations",
            &[
                ("csrf_token", &csrf),
                ("email", &email),
                ("expires_in", "7d"),
            ],
        )
        .await;
    assert_eq!(again.status, 409);
    assert!(
        again
            .body
            .contains("A pending invitation for this address exists already")
    );

    let list = browser
        .get("/console/admin/invitations?status=pending")
        .await;
    assert!(list.body.contains(&email) && list.body.contains("viewer on acme"));
    let listed: Value = app
        .get_as("/v1/admin/invitations?status=pending", &admin)
        .await
        .json()
        .await
        .unwrap();
    let id = listed["items"][0]["id"].as_str().unwrap().to_owned();

    let resent = browser
        .post(
            &format!("/console/admin/invitations/{id}/resend"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(
        resent.location(),
        "/console/admin/invitations?done=invitation-resent"
    );
    let second_token = console_invitation_token(&app, 2).await;
    assert_ne!(first_token, second_token);

    let revoked = browser
        .post(
            &format!("/console/admin/invitations/{id}/revoke"),
            &[("csrf_token", &csrf)],
        )
        .await;
    assert_eq!(
        revoked.location(),
        "/console/admin/invitations?done=invitation-revoked"
    );
    let list = browser
        .get("/console/admin/invitations?status=revoked")
        .await;
    assert!(list.body.contains(&email), "{}", list.body);
    assert!(
        browser
            .get("/console/admin/invitations?status=pending")
            .await
            .body
            .contains("No invitations here.")
    );
    assert_eq!(
        browser
            .get("/console/admin/invitations?status=open")
            .await
            .status,
        400
    );
}

on_both_databases!(
    the_invitation_page_creates_the_account_and_signs_in,
    the_invitations_page_invites_resends_and_revokes,
);
