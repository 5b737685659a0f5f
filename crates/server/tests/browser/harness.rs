//! The machinery every browser test shares: finding the tools, one chromedriver per run, a
//! `roster` server per test, a Chromium session per browser, bounded waits, screenshots, and
//! the JSON API as the bootstrapped super admin.

use std::future::Future;
use std::io::Write;
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

use crate::process::{self, Server, Workdir};

pub use crate::process::PASSWORD;

/// What a test without its tools says, on the real stderr.
pub const SKIP_MESSAGE: &str =
    "browser tests need chromium and chromedriver (apt-get install chromium chromium-driver)";
/// Set (to anything) to fail instead of skipping when the tools are missing (CI sets it).
const REQUIRE_VAR: &str = "ROSTER_REQUIRE_BROWSER";
/// The bootstrapped super admin of every test server (its password is [`PASSWORD`]).
pub const ADMIN_EMAIL: &str = "admin@example.com";
/// How long any wait may last before the test fails.
const WAIT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(50);
/// The browser's window: wide-screen, as the screenshots show it.
const WINDOW: (u32, u32) = (1280, 900);

/// The current test's name, as the test harness names its thread.
fn test_name() -> String {
    std::thread::current()
        .name()
        .unwrap_or("a browser test")
        .to_owned()
}

/// Says loudly, past the harness's output capture, that `what` did not run and why; or fails
/// the test when `ROSTER_REQUIRE_BROWSER` is set.
pub fn skip(why: &str) {
    assert!(
        std::env::var_os(REQUIRE_VAR).is_none(),
        "{REQUIRE_VAR} is set but {why}"
    );
    // One write, so that parallel tests' lines do not interleave.
    let line = format!("SKIPPED: {}: {why}\n", test_name());
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// The tools found on this machine.
struct Tools {
    chromium: PathBuf,
    chromedriver: PathBuf,
}

fn find_tools() -> Option<Tools> {
    let chromium = std::env::var_os("ROSTER_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    let chromedriver = std::env::var_os("ROSTER_CHROMEDRIVER")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
                .map(|dir| dir.join("chromedriver"))
                .find(|path| path.is_file())
        })?;
    (chromium.is_file() && chromedriver.is_file()).then_some(Tools {
        chromium,
        chromedriver,
    })
}

/// The run's one chromedriver. It lives in its own process group under a small shell that
/// waits on a pipe from this process: when the test binary exits, however it exits, the pipe
/// closes and the shell ends the group (chromedriver and every Chromium it started).
pub struct Driver {
    port: u16,
    chromium: PathBuf,
    _shell: Child,
    _pipe: ChildStdin,
}

impl Driver {
    /// The shared driver, started on first use; `None` (after saying SKIPPED) without tools.
    fn shared() -> Option<&'static Driver> {
        static DRIVER: OnceLock<Option<Driver>> = OnceLock::new();
        let driver = DRIVER
            .get_or_init(|| find_tools().map(Driver::start))
            .as_ref();
        if driver.is_none() {
            skip(SKIP_MESSAGE);
        }
        driver
    }

    fn start(tools: Tools) -> Driver {
        let port = process::free_port();
        let mut shell = Command::new("sh")
            .arg("-c")
            .arg(r#""$0" --port="$1" >/dev/null 2>&1 & read -r _; kill -TERM 0"#)
            .arg(&tools.chromedriver)
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("sh starts chromedriver");
        let pipe = shell.stdin.take().expect("a pipe to the shell");
        // chromedriver listens once it is ready for sessions.
        let started = Instant::now();
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            assert!(
                started.elapsed() < WAIT,
                "chromedriver ({}) did not answer on port {port} within {WAIT:?}",
                tools.chromedriver.display()
            );
            std::thread::sleep(POLL);
        }
        Driver {
            port,
            chromium: tools.chromium,
            _shell: shell,
            _pipe: pipe,
        }
    }
}

/// A `roster` server for one test: the real binary in a fresh working directory (SQLite,
/// the shipped features file), with a bootstrapped super admin.
pub struct Console {
    pub workdir: Workdir,
    pub server: Server,
    /// The host the browsers open the console at: `127.0.0.1`, or `localhost` for passkeys.
    host: &'static str,
    driver: &'static Driver,
    api: reqwest::Client,
}

/// The settings every test server gets.
const SERVER_ENV: [(&str, &str); 3] = [
    ("ROSTER__BOOTSTRAP__SUPERADMIN_EMAIL", ADMIN_EMAIL),
    ("ROSTER__BOOTSTRAP__SUPERADMIN_PASSWORD", PASSWORD),
    // Every browser is 127.0.0.1: one address for all of a test's sign-ins.
    ("ROSTER__RATE_LIMIT__ENABLED", "false"),
];

impl Console {
    /// Starts a server for this test; `None` (after saying SKIPPED) when the machine has no
    /// browser to test it with.
    pub fn start() -> Option<Console> {
        let driver = Driver::shared()?;
        let workdir = Workdir::with_shipped_features();
        let server = workdir.serve(&SERVER_ENV, true);
        Some(Console {
            workdir,
            server,
            host: "127.0.0.1",
            driver,
            api: reqwest::Client::new(),
        })
    }

    /// Starts a server reached at `http://localhost:PORT` (its `server.public_url`), for
    /// passkeys: a WebAuthn relying party is a domain name, never an IP address, and the
    /// browser's origin must be the one it names.
    pub fn start_on_localhost() -> Option<Console> {
        let driver = Driver::shared()?;
        let workdir = Workdir::with_shipped_features();
        let port = process::free_port();
        let public_url = format!("http://localhost:{port}");
        let mut env = SERVER_ENV.to_vec();
        env.push(("ROSTER__SERVER__PUBLIC_URL", &public_url));
        let server = workdir.serve_on(port, &env, true);
        Some(Console {
            workdir,
            server,
            host: "localhost",
            driver,
            api: reqwest::Client::new(),
        })
    }

    /// `http://127.0.0.1:PORT` (or `http://localhost:PORT`): the console's origin.
    pub fn origin(&self) -> String {
        format!("http://{}:{}", self.host, self.server.port)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin())
    }

    /// A new browser (a Chromium session of its own: its own cookies), in light mode.
    pub async fn browser(&self) -> Browser {
        self.browser_in(Scheme::Light).await
    }

    /// A new browser whose system asks pages for `scheme`.
    pub async fn browser_in(&self, scheme: Scheme) -> Browser {
        // A profile of our own, removed with the browser: left to chromedriver, every session
        // would leave its profile behind in /tmp.
        let profile = tempfile::tempdir().expect("a profile directory");
        let mut args = vec![
            format!("--user-data-dir={}", profile.path().display()),
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            format!("--window-size={},{}", WINDOW.0, WINDOW.1),
            "--lang=en-US".to_owned(),
        ];
        if scheme == Scheme::Dark {
            // `prefers-color-scheme: dark`, as a system in dark mode says.
            args.push("--force-dark-mode".to_owned());
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": self.driver.chromium,
                "args": args,
            }),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", self.driver.port))
            .await
            .expect("chromedriver opens a Chromium session");
        Browser {
            client,
            origin: self.origin(),
            _profile: profile,
        }
    }

    /// A JSON API call; the reply's status and body (`Value::Null` when empty).
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self.api.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let reply = request.send().await.expect("the API answers");
        let status = reply.status().as_u16();
        let text = reply.text().await.expect("a whole reply");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, body)
    }

    /// Signs in through the API: the session token, or `None` for refused credentials.
    pub async fn api_login(&self, email: &str, password: &str) -> Option<String> {
        let (status, body) = self
            .api(
                reqwest::Method::POST,
                "/v1/auth/login",
                None,
                Some(json!({"email": email, "password": password})),
            )
            .await;
        match status {
            200 => Some(body["token"].as_str().expect("a token").to_owned()),
            401 => None,
            other => panic!("login answered {other}: {body}"),
        }
    }

    /// The bootstrapped super admin's session token.
    pub async fn admin_token(&self) -> String {
        self.api_login(ADMIN_EMAIL, PASSWORD)
            .await
            .expect("the bootstrapped super admin signs in")
    }

    /// A new account (self-registered through the API, password [`PASSWORD`]): its id.
    pub async fn account(&self, email: &str, name: &str) -> String {
        let (status, body) = self
            .api(
                reqwest::Method::POST,
                "/v1/account/register",
                None,
                Some(json!({"email": email, "password": PASSWORD, "name": name})),
            )
            .await;
        assert_eq!(status, 201, "registration: {body}");
        body["id"].as_str().expect("an account id").to_owned()
    }
}

/// The colour scheme a browser's system prefers (the console follows it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Light,
    Dark,
}

/// Polls `probe` until it yields a value; fails the test after [`WAIT`] naming `what`.
pub async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(started.elapsed() < WAIT, "waited {WAIT:?} for {what}");
        tokio::time::sleep(POLL).await;
    }
}

/// One Chromium session on one console.
pub struct Browser {
    pub client: Client,
    origin: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Opens a console path and waits for its page to load.
    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.origin))
            .await
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
    }

    /// Opens any URL (another origin's page).
    pub async fn goto_url(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// The current page's path, with its query (`/console/login?done=signed-out`).
    pub async fn location(&self) -> String {
        let url = self.client.current_url().await.expect("the current URL");
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// The current page's whole URL.
    pub async fn url(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("the current URL")
            .to_string()
    }

    /// Waits until the browser shows `path` (a query is ignored unless `path` has one).
    pub async fn wait_for_path(&self, path: &str) {
        eventually(&format!("the browser to show {path}"), || async {
            let location = self.location().await;
            let shown = if path.contains('?') {
                location.as_str()
            } else {
                location.split('?').next().unwrap_or_default()
            };
            (shown == path).then_some(())
        })
        .await;
    }

    /// The element `css` selects, once it is there.
    pub async fn find(&self, css: &str) -> Element {
        self.client
            .wait()
            .at_most(WAIT)
            .every(POLL)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| {
                panic!("no element {css} within {WAIT:?} on the page: {e}");
            })
    }

    /// Whether the page holds an element `css` selects, now.
    pub async fn has(&self, css: &str) -> bool {
        !self
            .client
            .find_all(Locator::Css(css))
            .await
            .expect("a search of the page")
            .is_empty()
    }

    /// Every element `css` selects, now.
    pub async fn all(&self, css: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .expect("a search of the page")
    }

    /// Types `value` into the (cleared) field `css`.
    pub async fn fill(&self, css: &str, value: &str) {
        let field = self.find(css).await;
        field.clear().await.expect("the field clears");
        field.send_keys(value).await.expect("the field takes keys");
    }

    /// Clicks `css`.
    pub async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Chooses the option whose value is `value` in the select `css`.
    pub async fn select(&self, css: &str, value: &str) {
        self.find(css)
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("choose {value:?} in {css}: {e}"));
    }

    /// The values of the options (or datalist suggestions) under `css`, in page order.
    pub async fn option_values(&self, css: &str) -> Vec<String> {
        let mut values = Vec::new();
        for option in self.all(&format!("{css} option")).await {
            values.push(
                option
                    .attr("value")
                    .await
                    .expect("the option's value")
                    .unwrap_or_default(),
            );
        }
        values
    }

    /// The page as the browser holds it now (its whole document).
    pub async fn source(&self) -> String {
        self.client.source().await.expect("the page source")
    }

    /// The visible text of `css`.
    pub async fn text(&self, css: &str) -> String {
        self.find(css)
            .await
            .text()
            .await
            .expect("the element's text")
    }

    /// The value of a form field.
    pub async fn value(&self, css: &str) -> String {
        self.find(css)
            .await
            .prop("value")
            .await
            .expect("the field's value")
            .unwrap_or_default()
    }

    /// The HTTP status the current document was served with.
    pub async fn status(&self) -> u16 {
        let status = self
            .client
            .execute(
                "return performance.getEntriesByType('navigation')[0].responseStatus;",
                vec![],
            )
            .await
            .expect("the navigation timing");
        status
            .as_u64()
            .and_then(|status| u16::try_from(status).ok())
            .unwrap_or_else(|| panic!("no response status: {status}"))
    }

    /// Accepts the confirmation dialog a `data-confirm` form opens; returns its question.
    pub async fn accept_confirm(&self) -> String {
        let question = eventually("a confirmation dialog", || async {
            self.client.get_alert_text().await.ok()
        })
        .await;
        self.client.accept_alert().await.expect("the dialog closes");
        question
    }

    /// Signs in on the sign-in page and waits for the account page.
    pub async fn sign_in(&self, email: &str, password: &str) {
        self.goto("/console/login").await;
        self.fill("#email", email).await;
        self.fill("#password", password).await;
        self.click("form[action='/console/login'] button[type=submit]")
            .await;
        self.wait_for_path("/console/account").await;
    }

    /// With `ROSTER_SCREENSHOTS` set, saves the whole page as `<dir>/<name>.png`.
    pub async fn snap(&self, name: &str) {
        let Some(dir) = screenshot_dir() else {
            return;
        };
        // The whole page, not just the window: grow the window until the page fits (the
        // window's own frame is the difference between its outer and inner heights).
        let (width, height) = self
            .client
            .get_window_size()
            .await
            .expect("the window size");
        let (width, height) = (
            u32::try_from(width).expect("a window width"),
            u32::try_from(height).expect("a window height"),
        );
        let needed = self
            .client
            .execute(
                "return Math.ceil(document.documentElement.scrollHeight \
                     + window.outerHeight - window.innerHeight);",
                vec![],
            )
            .await
            .ok()
            .and_then(|needed| needed.as_u64())
            .and_then(|needed| u32::try_from(needed).ok())
            .unwrap_or(height);
        let tall = needed > height;
        if tall {
            self.client
                .set_window_size(width, needed)
                .await
                .expect("the window grows");
        }
        let png = self.client.screenshot().await.expect("a screenshot");
        if tall {
            self.client
                .set_window_size(width, height)
                .await
                .expect("the window shrinks back");
        }
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    /// Makes the window `width` by `height` pixels (a phone's: 390 by 844).
    pub async fn resize(&self, width: u32, height: u32) {
        self.client
            .set_window_size(width, height)
            .await
            .expect("the window resizes");
    }

    /// Gives the browser a virtual authenticator (Chromium's, through WebDriver): a platform
    /// authenticator that keeps discoverable credentials and verifies its user at once, as a
    /// laptop's fingerprint reader would.
    pub async fn add_virtual_authenticator(&self) {
        self.client
            .issue_cmd(AddVirtualAuthenticator)
            .await
            .expect("chromedriver adds a virtual authenticator");
    }

    /// Ends the session (its Chromium closes, then its profile is removed).
    pub async fn close(self) {
        self.client.close().await.expect("the session ends");
    }
}

/// WebDriver's "Add Virtual Authenticator" (WebAuthn §11.3), which fantoccini has no method
/// for.
#[derive(Debug)]
struct AddVirtualAuthenticator;

impl WebDriverCompatibleCommand for AddVirtualAuthenticator {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        let session = session_id.expect("a command of a running session");
        base_url.join(&format!("session/{session}/webauthn/authenticator"))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        let authenticator = json!({
            "protocol": "ctap2",
            "transport": "internal",
            "hasResidentKey": true,
            "hasUserVerification": true,
            "isUserVerified": true,
            "automaticPresenceSimulation": true,
        });
        (http::Method::POST, Some(authenticator.to_string()))
    }
}

/// `ROSTER_SCREENSHOTS`, relative to the workspace root, created when missing.
fn screenshot_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("ROSTER_SCREENSHOTS")?);
    let dir = if dir.is_absolute() {
        dir
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(dir)
    };
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    Some(dir)
}
