//! `spawn_app()` and friends.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use roster::settings::LogFormat;
use roster::{Application, Settings};
use roster_store::testing::{TestDatabase, fresh_postgres_database};
use serde_json::{Value, json};
use tempfile::TempDir;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// A strong password every test may use.
pub const PASSWORD: &str = "correct horse battery staple orbit";

/// Writes one test per backend for each listed `async fn name(db: Db)`.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::helpers::Db::Sqlite).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::helpers::Db::Postgres).await;
                }
            }
        )*
    };
}

/// Everything the process logs during the tests, for scans that no secret was logged.
#[derive(Clone, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn captured_logs() -> String {
    String::from_utf8_lossy(&log_buffer().0.lock().unwrap()).into_owned()
}

fn log_buffer() -> &'static LogBuffer {
    static LOGS: OnceLock<LogBuffer> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = LogBuffer::default();
        let writer = buffer.clone();
        roster::telemetry::init(LogFormat::Json, "debug", move || writer.clone());
        buffer
    })
}

/// Options for [`spawn_app_with`].
#[derive(Debug, Clone, Default)]
pub struct AppOptions {
    /// Initial content of the features file; `None` leaves the file absent (all defaults).
    pub features: Option<String>,
    /// Extra settings as `ROSTER__...` variables.
    pub env: Vec<(String, String)>,
}

/// A running application and what it was built from.
pub struct TestApp {
    pub address: String,
    /// The `/metrics` listener's base URL, when `server.metrics_bind` is set.
    pub metrics_address: Option<String>,
    pub client: reqwest::Client,
    pub features_file: PathBuf,
    pub database_url: String,
    server: actix_web::dev::ServerHandle,
    _dir: TempDir,
    _postgres: Option<TestDatabase>,
}

impl Drop for TestApp {
    /// Stops the server: its worker threads (and with them its connection pool, which would
    /// keep trying to reach the dropped database) would otherwise outlive the test.
    fn drop(&mut self) {
        drop(self.server.stop(false));
    }
}

/// A registered, logged-in account.
pub struct Member {
    pub id: String,
    pub email: String,
    pub token: String,
}

/// Spawns the application with defaults; `None` when the PostgreSQL variant is skipped.
pub async fn spawn_app(db: Db) -> Option<TestApp> {
    spawn_app_with(db, AppOptions::default()).await
}

pub async fn spawn_app_with(db: Db, options: AppOptions) -> Option<TestApp> {
    log_buffer();
    let dir = tempfile::tempdir().unwrap();
    let (database_url, postgres) = match db {
        Db::Sqlite => (
            format!("sqlite://{}", dir.path().join("roster.db").display()),
            None,
        ),
        Db::Postgres => {
            let database = fresh_postgres_database()?;
            (database.url().to_owned(), Some(database))
        }
    };
    let features_file = dir.path().join("_features.conf");
    if let Some(features) = &options.features {
        std::fs::write(&features_file, features).unwrap();
    }
    let env = test_env(&database_url, &features_file, &options.env);
    let settings = Settings::load_from(None, Some(env)).expect("test settings");
    let app = Application::build(settings)
        .await
        .expect("application starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let metrics_address = app
        .metrics_port()
        .map(|port| format!("http://127.0.0.1:{port}"));
    let server = app.handle();
    tokio::spawn(app.run_until_stopped());
    Some(TestApp {
        address,
        metrics_address,
        client: reqwest::Client::new(),
        features_file,
        database_url,
        server,
        _dir: dir,
        _postgres: postgres,
    })
}

/// The settings every test app gets, plus `extra`.
fn test_env(
    database_url: &str,
    features_file: &std::path::Path,
    extra: &[(String, String)],
) -> HashMap<String, String> {
    let test_dir = features_file.parent().expect("the test's folder");
    let mut env: HashMap<String, String> = [
        ("ROSTER__SERVER__BIND", "127.0.0.1:0".to_owned()),
        ("ROSTER__DATABASE__URL", database_url.to_owned()),
        (
            "ROSTER__FEATURES__FILE",
            features_file.display().to_string(),
        ),
        ("ROSTER__FEATURES__POLL_INTERVAL", "100ms".to_owned()),
        // Cheap hashing keeps the suite fast; one test runs the production defaults.
        ("ROSTER__ARGON2__MEMORY_KIB", "1024".to_owned()),
        ("ROSTER__ARGON2__ITERATIONS", "1".to_owned()),
        ("ROSTER__SERVER__SHUTDOWN_TIMEOUT", "1s".to_owned()),
        // Every test client is 127.0.0.1; tests/api/rate_limit.rs switches it back on.
        ("ROSTER__RATE_LIMIT__ENABLED", "false".to_owned()),
        // Mail and the secret key live in the test's folder, never in the source tree.
        (
            "ROSTER__MAIL__OUTBOX_DIR",
            test_dir.join("outbox").display().to_string(),
        ),
        (
            "ROSTER__SECRETS__KEY_FILE",
            test_dir.join("secret.key").display().to_string(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    env.extend(extra.iter().cloned());
    env
}

/// Builds and starts an application; returns its base URL.
async fn start(env: HashMap<String, String>) -> String {
    let settings = Settings::load_from(None, Some(env)).expect("test settings");
    let app = Application::build(settings)
        .await
        .expect("application starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    address
}

/// A unique email for this test run.
pub fn unique_email(prefix: &str) -> String {
    format!("{prefix}-{}@example.com", uuid::Uuid::now_v7().simple())
}

impl TestApp {
    /// Starts another node on the same database and features file (a restart, or a second
    /// node of a scaled-out deployment); returns its base URL.
    pub async fn start_sibling(&self, extra: &[(String, String)]) -> String {
        start(test_env(&self.database_url, &self.features_file, extra)).await
    }

    /// The folder of `.eml` files (`mail.outbox_dir`) when no SMTP server is configured.
    pub fn outbox_dir(&self) -> PathBuf {
        self.features_file
            .parent()
            .expect("the test's folder")
            .join("outbox")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn post_json(
        &self,
        path: &str,
        body: &Value,
        token: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self.client.post(self.url(path)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request sent")
    }

    /// `PUT` of a JSON body with a bearer token.
    pub async fn put_json(&self, path: &str, body: &Value, token: &str) -> reqwest::Response {
        self.client
            .put(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    /// `GET` with a bearer token.
    pub async fn get_as(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request sent")
    }

    /// `POST` without a body, with a bearer token.
    pub async fn post_as(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request sent")
    }

    /// `DELETE` with a bearer token.
    pub async fn delete_as(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .delete(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    pub async fn register(&self, email: &str, password: &str) -> reqwest::Response {
        self.post_json(
            "/v1/account/register",
            &json!({"email": email, "password": password}),
            None,
        )
        .await
    }

    /// `POST /v1/auth/login`.
    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.post_json(
            "/v1/auth/login",
            &json!({"email": email, "password": password}),
            None,
        )
        .await
    }

    /// Logs in and returns the session token.
    pub async fn login_token(&self, email: &str, password: &str) -> String {
        let response = self.login(email, password).await;
        assert_eq!(response.status(), 200, "login of {email}");
        response.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The application's components on this app's database and features file, built the
    /// way the server builds them, with cheap hashing and `extra` settings: for the use cases
    /// and jobs that have no HTTP route.
    pub fn components(&self, extra: &[(&str, &str)]) -> roster::Components {
        let mut env: HashMap<String, String> = HashMap::new();
        env.insert("ROSTER__DATABASE__URL".into(), self.database_url.clone());
        env.insert(
            "ROSTER__FEATURES__FILE".into(),
            self.features_file.display().to_string(),
        );
        env.insert("ROSTER__ARGON2__MEMORY_KIB".into(), "1024".into());
        env.insert("ROSTER__ARGON2__ITERATIONS".into(), "1".into());
        let test_dir = self.features_file.parent().expect("the test's folder");
        env.insert(
            "ROSTER__MAIL__OUTBOX_DIR".into(),
            test_dir.join("outbox").display().to_string(),
        );
        env.insert(
            "ROSTER__SECRETS__KEY_FILE".into(),
            test_dir.join("secret.key").display().to_string(),
        );
        env.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let settings = Settings::load_from(None, Some(env)).unwrap();
        roster::Components::build(&settings).unwrap()
    }

    /// Creates a super admin directly through the use case (there is no HTTP route for it)
    /// and returns its session token.
    pub async fn superadmin_token(&self) -> String {
        let email = unique_email("root");
        self.components(&[])
            .roster
            .create_superadmin(roster_app::RegistrationForm::new(
                email.clone(),
                PASSWORD.to_owned().into(),
                None,
            ))
            .await
            .unwrap();
        self.login_token(&email, PASSWORD).await
    }

    /// Registers a fresh account (public route) and logs it in.
    pub async fn new_account(&self, prefix: &str) -> Member {
        let email = unique_email(prefix);
        let response = self.register(&email, PASSWORD).await;
        assert_eq!(response.status(), 201, "registration of {email}");
        let id = response.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let token = self.login_token(&email, PASSWORD).await;
        Member { id, email, token }
    }

    /// Creates role `name` with `(action, effect)` rules as `token`; returns the role.
    pub async fn create_role(&self, token: &str, name: &str, rules: &[(&str, &str)]) -> Value {
        let permissions: Vec<Value> = rules
            .iter()
            .map(|(action, effect)| json!({"action": action, "effect": effect}))
            .collect();
        let response = self
            .post_json(
                "/v1/admin/roles",
                &json!({"name": name, "permissions": permissions}),
                Some(token),
            )
            .await;
        assert_eq!(response.status(), 201, "creation of role {name}");
        response.json().await.unwrap()
    }

    /// `POST /v1/admin/accounts/{account}/grants` as `token`; the raw response.
    pub async fn grant(
        &self,
        token: &str,
        account: &str,
        role: &str,
        scope: &str,
    ) -> reqwest::Response {
        self.post_json(
            &format!("/v1/admin/accounts/{account}/grants"),
            &json!({"role": role, "scope": scope}),
            Some(token),
        )
        .await
    }

    /// Grants `role` on `scope` to `account` as `token`, expecting success; returns the
    /// grant's id.
    pub async fn grant_ok(&self, token: &str, account: &str, role: &str, scope: &str) -> String {
        let response = self.grant(token, account, role, scope).await;
        assert_eq!(response.status(), 201, "grant of {role} on {scope}");
        response.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// `POST /v1/authz/check` as `token`, expecting 200; returns the body.
    pub async fn check(&self, token: &str, body: &Value) -> Value {
        let response = self.post_json("/v1/authz/check", body, Some(token)).await;
        assert_eq!(response.status(), 200, "check {body}");
        response.json().await.unwrap()
    }

    /// Whether the caller behind `token` may do `action` on `scope`.
    pub async fn allowed(&self, token: &str, action: &str, scope: &str) -> bool {
        let body = self
            .check(token, &json!({"action": action, "scope": scope}))
            .await;
        body["allowed"].as_bool().expect("allowed is a bool")
    }

    /// Moves every stored session `by` into the past (creation, last activity, expiry,
    /// revocation and last second factor), on a connection of our own: to the service it is
    /// as if that much time had passed for those sessions. Deterministic where sleeping past a
    /// timeout is not.
    pub fn age_sessions(&self, by: Duration) {
        let columns = [
            "created_at",
            "last_seen_at",
            "expires_at",
            "revoked_at",
            "second_factor_at",
        ];
        self.age_rows("sessions", &columns, by);
    }

    /// Moves the time `columns` of every row of `table` `by` into the past (NULLs stay NULL),
    /// on a connection of our own.
    pub fn age_rows(&self, table: &str, columns: &[&str], by: Duration) {
        use diesel::{Connection, PgConnection, RunQueryDsl, SqliteConnection};
        let seconds = by.as_secs();
        if let Some(path) = self.database_url.strip_prefix("sqlite://") {
            let shifted = columns
                .iter()
                .map(|c| format!("{c} = strftime('%Y-%m-%d %H:%M:%f', {c}, '-{seconds} seconds')"))
                .collect::<Vec<_>>()
                .join(", ");
            let mut conn = SqliteConnection::establish(path).unwrap();
            diesel::sql_query("PRAGMA busy_timeout = 5000")
                .execute(&mut conn)
                .unwrap();
            diesel::sql_query(format!("UPDATE {table} SET {shifted}"))
                .execute(&mut conn)
                .unwrap();
        } else {
            let shifted = columns
                .iter()
                .map(|c| format!("{c} = {c} - interval '{seconds} seconds'"))
                .collect::<Vec<_>>()
                .join(", ");
            let mut conn = PgConnection::establish(&self.database_url).unwrap();
            diesel::sql_query(format!("UPDATE {table} SET {shifted}"))
                .execute(&mut conn)
                .unwrap();
        }
    }

    /// How the session of `token` was opened and stepped up since (`auth_methods` of the
    /// current session in `GET /v1/account/me/sessions`).
    pub async fn session_auth_methods(&self, token: &str) -> Value {
        let sessions: Value = self
            .get_as("/v1/account/me/sessions", token)
            .await
            .json()
            .await
            .unwrap();
        sessions["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|session| session["current"] == true)
            .unwrap()["auth_methods"]
            .clone()
    }

    /// How many session rows the database holds, dead or alive (read on our own connection).
    pub fn session_rows(&self) -> i64 {
        self.count_rows("sessions")
    }

    /// How many rows `table` holds (read on our own connection).
    pub fn count_rows(&self, table: &str) -> i64 {
        use diesel::sql_types::BigInt;
        use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl, SqliteConnection};
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let query = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"));
        let rows: Vec<Count> = match self.database_url.strip_prefix("sqlite://") {
            Some(path) => query.load(&mut SqliteConnection::establish(path).unwrap()),
            None => query.load(&mut PgConnection::establish(&self.database_url).unwrap()),
        }
        .unwrap();
        rows[0].n
    }

    /// What the database holds, as text to search for secrets: on SQLite the bytes of the
    /// database file and its write-ahead log (everything stored, in every table); on
    /// PostgreSQL every row of `tables` as JSON.
    pub fn dump_tables(&self, tables: &[&str]) -> String {
        use diesel::sql_types::Text;
        use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};
        #[derive(QueryableByName)]
        struct Line {
            #[diesel(sql_type = Text)]
            line: String,
        }
        if let Some(path) = self.database_url.strip_prefix("sqlite://") {
            let mut dump = String::new();
            for file in [path.to_owned(), format!("{path}-wal")] {
                if let Ok(bytes) = std::fs::read(&file) {
                    dump.push_str(&String::from_utf8_lossy(&bytes));
                }
            }
            return dump;
        }
        let mut conn = PgConnection::establish(&self.database_url).unwrap();
        let mut dump = String::new();
        for table in tables {
            let lines: Vec<Line> = diesel::sql_query(format!(
                "SELECT row_to_json(t)::text AS line FROM {table} t"
            ))
            .load(&mut conn)
            .unwrap();
            for line in lines {
                dump.push_str(&line.line);
                dump.push('\n');
            }
        }
        dump
    }

    /// Rewrites the features file the way an editor does (write a temp file, rename).
    pub fn write_features(&self, content: &str) {
        let temp = self.features_file.with_extension("tmp");
        std::fs::write(&temp, content).unwrap();
        std::fs::rename(&temp, &self.features_file).unwrap();
    }
}

/// Polls `check` until it returns true or `timeout` passes; returns how long it took.
pub async fn eventually<F, Fut>(timeout: Duration, mut check: F) -> Option<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while started.elapsed() < timeout {
        if check().await {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

/// Asserts an RFC 9457 problem response with the given status and code; returns the body.
pub async fn assert_problem(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status(), status, "status");
    let content_type = response
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    assert!(response.headers().contains_key("x-request-id"));
    let url = response.url().clone();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert_documented(&url, status, code);
    assert_eq!(body["status"], status);
    for field in ["type", "title", "detail"] {
        assert!(body[field].is_string(), "problem without {field}: {body}");
    }
    body
}

/// Problems the edge answers on any path, described once in the document's conventions
/// rather than per operation.
const UNDOCUMENTED_PER_OPERATION: [&str; 4] = [
    "method_not_allowed",
    "too_many_connections",
    "request_timeout",
    "not_found",
];

/// Asserts that the OpenAPI document lists `code` under `status` for the path `url` is on,
/// so every problem a test sees is one the document promises (`x-problem-codes` of the
/// operations of that path). A path the document does not describe (an unknown route) and the
/// edge's own problems are left out; a `not_found` is checked where the path is a documented
/// one whose operations document a 404.
fn assert_documented(url: &reqwest::Url, status: u16, code: &str) {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    let document =
        DOCUMENT.get_or_init(|| serde_json::to_value(roster_http::openapi()).expect("document"));
    let segments: Vec<&str> = url.path().split('/').collect();
    let matched = document["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .filter(|(template, _)| {
            let template: Vec<&str> = template.split('/').collect();
            template.len() == segments.len()
                && template
                    .iter()
                    .zip(&segments)
                    .all(|(t, s)| t.starts_with('{') || t == s)
        })
        .max_by_key(|(template, _)| template.matches('{').count() == 0);
    let Some((template, item)) = matched else {
        return;
    };
    let documented: Vec<&str> = item
        .as_object()
        .expect("path item")
        .values()
        .filter_map(|operation| {
            operation["responses"][status.to_string()]["x-problem-codes"].as_array()
        })
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    // A 404 is checked where the path's operations document one.
    let checked_404 = code == "not_found" && !documented.is_empty();
    if UNDOCUMENTED_PER_OPERATION.contains(&code) && !checked_404 {
        return;
    }
    assert!(
        documented.contains(&code),
        "{template}: the answer {status} `{code}` is not in the OpenAPI document (it lists \
         {documented:?}); list the error in the route's `problems!`"
    );
}
