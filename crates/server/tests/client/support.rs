//! A real `roster` process for the client's tests: SQLite in a throwaway directory or a
//! fresh PostgreSQL database, a bootstrapped super admin, cheap hashing, no rate limit.
#![allow(dead_code)] // each test module uses its own subset

use roster_client::{Client, ExposeSecret, LoginOutcome};
use roster_store::testing::{TestDatabase, fresh_postgres_database};
use serde_json::{Value, json};

use crate::process::{PASSWORD, Server, Workdir, unique_email};

pub const ROOT_EMAIL: &str = "root@example.com";

/// Runs each listed `async fn(Db)` as two tests, `<name>::sqlite` and `<name>::postgres`.
#[macro_export]
macro_rules! on_both_databases {
    ($($test:ident),* $(,)?) => {
        $(
            mod $test {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$test($crate::support::Db::Sqlite).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$test($crate::support::Db::Postgres).await;
                }
            }
        )*
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// A running `roster` and what it runs on; the process is killed when this drops.
pub struct Roster {
    pub server: Server,
    pub workdir: Workdir,
    database: Option<TestDatabase>,
}

impl Roster {
    /// Starts `roster` on `db` with `extra` settings; `None` when PostgreSQL is asked for
    /// but `ROSTER_TEST_POSTGRES_URL` is not set (the skip is announced loudly once).
    pub fn start(db: Db, extra: &[(&str, &str)]) -> Option<Roster> {
        let database = match db {
            Db::Sqlite => None,
            Db::Postgres => Some(fresh_postgres_database()?),
        };
        let url = database.as_ref().map_or_else(
            || "sqlite://data/roster.db".to_owned(),
            |db| db.url().to_owned(),
        );
        let mut env = vec![
            ("ROSTER__DATABASE__URL", url.as_str()),
            ("ROSTER__BOOTSTRAP__SUPERADMIN_EMAIL", ROOT_EMAIL),
            ("ROSTER__BOOTSTRAP__SUPERADMIN_PASSWORD", PASSWORD),
            ("ROSTER__RATE_LIMIT__ENABLED", "false"),
        ];
        env.extend_from_slice(extra);
        let workdir = Workdir::with_shipped_features();
        let server = workdir.serve(&env, true);
        Some(Roster {
            server,
            workdir,
            database,
        })
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.server.port)
    }

    /// A client without a token.
    pub fn client(&self) -> Client {
        Client::builder(self.url()).build().unwrap()
    }

    /// A session token of `email`.
    pub async fn session_token(&self, email: &str) -> String {
        match self.client().login(email, PASSWORD).await.unwrap() {
            LoginOutcome::Session(session) => session.token.expose_secret().to_owned(),
            LoginOutcome::SecondFactor(_) => panic!("{email} has a second factor"),
        }
    }

    /// A client signed in as the bootstrapped super admin.
    pub async fn root(&self) -> Client {
        let token = self.session_token(ROOT_EMAIL).await;
        self.client().with_token(token)
    }

    /// Raw JSON `method path` as `token`, for set-up that must not depend on the client
    /// under test; panics unless the answer is a success.
    pub async fn admin(&self, method: &str, path: &str, body: &Value, token: &str) -> Value {
        let (status, answer) = self.raw(method, path, body, token).await;
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {answer}"
        );
        answer
    }

    /// Raw JSON `method path` as `token` (no body for `Value::Null`): status and answer.
    pub async fn raw(&self, method: &str, path: &str, body: &Value, token: &str) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = reqwest::Client::new()
            .request(method, format!("{}{path}", self.url()))
            .bearer_auth(token);
        if !body.is_null() {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// The super admin's session token (raw).
    pub async fn root_token(&self) -> String {
        self.session_token(ROOT_EMAIL).await
    }

    /// Creates the role `name` with these `(action, effect)` rules.
    pub async fn role(&self, root: &str, name: &str, rules: &[(&str, &str)]) {
        let permissions: Vec<Value> = rules
            .iter()
            .map(|(action, effect)| json!({"action": action, "effect": effect}))
            .collect();
        self.admin(
            "POST",
            "/v1/admin/roles",
            &json!({"name": name, "permissions": permissions}),
            root,
        )
        .await;
    }

    /// A new account (registered by the admin), its id and a session token.
    pub async fn account(&self, root: &str, prefix: &str) -> (String, String) {
        let email = unique_email(prefix);
        let created = self
            .admin(
                "POST",
                "/v1/admin/account/register",
                &json!({"email": email, "password": PASSWORD}),
                root,
            )
            .await;
        let id = created["id"].as_str().unwrap().to_owned();
        (id, self.session_token(&email).await)
    }

    /// Gives `role` on `scope` to the account `id`; the grant's id.
    pub async fn grant(&self, root: &str, id: &str, role: &str, scope: &str) -> String {
        let grant = self
            .admin(
                "POST",
                &format!("/v1/admin/accounts/{id}/grants"),
                &json!({"role": role, "scope": scope}),
                root,
            )
            .await;
        grant["id"].as_str().unwrap().to_owned()
    }

    /// A service's API key holding `token-introspect` on `*` (the role `introspector` is
    /// created on first use).
    pub async fn service_key(&self, root: &str) -> String {
        let role = json!({"name": "introspector",
                          "permissions": [{"action": "token-introspect", "effect": "allow"}]});
        let (status, answer) = self.raw("POST", "/v1/admin/roles", &role, root).await;
        assert!(
            status == 201 || answer["code"] == "role_exists",
            "{status} {answer}"
        );
        let key = self
            .admin(
                "POST",
                "/v1/admin/api-keys",
                &json!({"name": "a service",
                        "grants": [{"role": "introspector", "scope": "*"}]}),
                root,
            )
            .await;
        key["key"].as_str().unwrap().to_owned()
    }
}
