//! The HTTP client: base URL, bearer token, timeouts, and the one place requests are sent,
//! retried when that is safe, and their answers read.

use std::fmt::{self, Write as _};
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Problem};

/// The longest `Retry-After` a retry waits for; a longer one is returned to the caller.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(2);

/// A client of one Roster service. Cheap to clone (the connection pool is shared); one per
/// service and token, or one per service and [`Client::with_token`] per caller.
///
/// ```no_run
/// # async fn example() -> Result<(), roster_client::Error> {
/// use roster_client::Client;
///
/// let roster = Client::builder("https://roster.internal").build()?;
/// let session = roster.login("ada@example.com", "correct horse battery staple").await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    shared: Arc<Shared>,
    token: Option<Arc<SecretString>>,
}

struct Shared {
    http: reqwest::Client,
    /// Without a trailing slash; paths start with one.
    base_url: String,
    retries: u32,
    backoff: Duration,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.shared.base_url)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// Settings of a [`Client`]; every one has a default.
#[derive(Debug)]
pub struct ClientBuilder {
    base_url: String,
    token: Option<SecretString>,
    timeout: Duration,
    connect_timeout: Duration,
    retries: u32,
    backoff: Duration,
    user_agent: String,
}

impl ClientBuilder {
    /// The bearer token sent with every request: a session token (`rst_...`) or an API key
    /// (`rak_...`).
    #[must_use]
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(SecretString::from(token.into()));
        self
    }

    /// The longest a whole request may take, retries excluded (default 10 s).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The longest opening a connection may take (default 3 s).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How many times a request is sent again when that is safe (default 2): a connection
    /// that could not be opened, for any request; a timeout, a dropped connection or a 502,
    /// 503 or 504 answer, only for requests that change nothing (reads, checks,
    /// introspection) or that are idempotent (deletes).
    #[must_use]
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// The first wait between attempts (default 100 ms), doubled after each.
    #[must_use]
    pub fn backoff(mut self, backoff: Duration) -> Self {
        self.backoff = backoff;
        self
    }

    /// The `User-Agent` header (default `roster-client/<version>`).
    #[must_use]
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// The client; fails only for a base URL that is not `http(s)://...`.
    pub fn build(self) -> Result<Client, Error> {
        let base_url = self.base_url.trim_end_matches('/').to_owned();
        let parsed = reqwest::Url::parse(&base_url)
            .map_err(|error| Error::Configuration(format!("base URL {base_url:?}: {error}")))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
            return Err(Error::Configuration(format!(
                "base URL {base_url:?}: expected http(s)://host[:port][/prefix]"
            )));
        }
        let http = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .user_agent(self.user_agent)
            // Roster never redirects its API; a redirect would carry the token elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| Error::Configuration(error.to_string()))?;
        Ok(Client {
            shared: Arc::new(Shared {
                http,
                base_url,
                retries: self.retries,
                backoff: self.backoff,
            }),
            token: self.token.map(Arc::new),
        })
    }
}

/// Whether a request may be sent again after it may have reached the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// It changes nothing, or the same change again (reads, checks, deletes).
    Safe,
    /// It may create something twice or count twice (logins, creations); sent again only
    /// when the connection could not be opened.
    OnlyUnsent,
}

impl Client {
    /// A builder for a client of the Roster service at `base_url`
    /// (`https://roster.internal`, or with a path prefix behind a proxy).
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            base_url: base_url.into(),
            token: None,
            timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(3),
            retries: 2,
            backoff: Duration::from_millis(100),
            user_agent: concat!("roster-client/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }

    /// The same client (and connection pool) sending `token` instead.
    #[must_use]
    pub fn with_token(&self, token: impl Into<String>) -> Client {
        Client {
            shared: Arc::clone(&self.shared),
            token: Some(Arc::new(SecretString::from(token.into()))),
        }
    }

    /// The same client sending no token (for the public routes).
    #[must_use]
    pub fn without_token(&self) -> Client {
        Client {
            shared: Arc::clone(&self.shared),
            token: None,
        }
    }

    /// The service's base URL, as configured.
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// `GET path` read as `T`.
    pub(crate) async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, Error> {
        let response = self
            .send(Method::GET, &self.url(path), None::<&()>, Retry::Safe)
            .await?;
        read_json(response).await
    }

    /// `GET path?query` read as `T`: `query` is a struct whose fields become parameters,
    /// form-encoded by reqwest (so `&`, `=`, `+` or `#` in a value stay inside it), and
    /// whose `None` fields are left out.
    pub(crate) async fn get_query<Q: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        query: &Q,
    ) -> Result<T, Error> {
        let url = self.url_with_query(path, query)?;
        let response = self
            .send(Method::GET, &url, None::<&()>, Retry::Safe)
            .await?;
        read_json(response).await
    }

    /// The address of `path` on this service.
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.shared.base_url)
    }

    /// The address of `path` with `query` encoded, built once before the first attempt (a
    /// query that cannot be encoded is not worth retrying).
    pub(crate) fn url_with_query<Q: Serialize + ?Sized>(
        &self,
        path: &str,
        query: &Q,
    ) -> Result<String, Error> {
        self.shared
            .http
            .get(self.url(path))
            .query(query)
            .build()
            .map(|request| request.url().to_string())
            .map_err(|error| {
                Error::Configuration(format!("the query of {path}: {}", error.without_url()))
            })
    }

    /// `method path` (with a JSON body when given), read as `T`.
    pub(crate) async fn call<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        retry: Retry,
    ) -> Result<T, Error> {
        let response = self.send(method, &self.url(path), body, retry).await?;
        read_json(response).await
    }

    /// `method path` (with a JSON body when given) answering 204 No Content.
    pub(crate) async fn call_no_content<B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        retry: Retry,
    ) -> Result<(), Error> {
        let response = self.send(method, &self.url(path), body, retry).await?;
        let status = response.status();
        if status == StatusCode::NO_CONTENT || status.is_success() {
            Ok(())
        } else {
            Err(unexpected(status, "a success status without a body"))
        }
    }

    /// Sends the request, retrying as `retry` allows; any answer with an error status
    /// becomes [`Error::Problem`] (or [`Error::UnexpectedAnswer`]).
    async fn send<B: Serialize + ?Sized>(
        &self,
        method: Method,
        url: &str,
        body: Option<&B>,
        retry: Retry,
    ) -> Result<reqwest::Response, Error> {
        let mut wait = self.shared.backoff;
        let mut attempt = 0;
        loop {
            let mut request = self.shared.http.request(method.clone(), url);
            if let Some(token) = &self.token {
                request = request.bearer_auth(token.expose_secret());
            }
            if let Some(body) = body {
                request = request.json(body);
            }
            let last_attempt = attempt >= self.shared.retries;
            attempt += 1;
            match request.send().await {
                Ok(response) if response.status().is_success() => return Ok(response),
                Ok(response) => {
                    let retry_after = retry_after(&response);
                    let transient = matches!(response.status().as_u16(), 502..=504);
                    let may_retry = transient
                        && retry == Retry::Safe
                        && !last_attempt
                        && retry_after.is_none_or(|after| after <= MAX_RETRY_AFTER);
                    if !may_retry {
                        return Err(read_problem(response, retry_after).await);
                    }
                    tokio::time::sleep(retry_after.unwrap_or(wait)).await;
                }
                Err(error) => {
                    let unsent = error.is_connect();
                    if last_attempt || !(unsent || retry == Retry::Safe) {
                        return Err(Error::Unreachable(error.without_url()));
                    }
                    tokio::time::sleep(wait).await;
                }
            }
            wait *= 2;
        }
    }
}

fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
        .map(Duration::from_secs)
}

async fn read_json<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, Error> {
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|error| Error::Unreachable(error.without_url()))?;
    serde_json::from_slice(&bytes).map_err(|error| unexpected(status, &error.to_string()))
}

async fn read_problem(response: reqwest::Response, retry_after: Option<Duration>) -> Error {
    let status = response.status();
    let Ok(bytes) = response.bytes().await else {
        return unexpected(status, "the body could not be read");
    };
    match serde_json::from_slice::<Problem>(&bytes) {
        Ok(problem) => Error::Problem {
            problem: Box::new(problem),
            retry_after,
        },
        Err(_) => unexpected(status, "the error body is not a problem document"),
    }
}

fn unexpected(status: StatusCode, message: &str) -> Error {
    Error::UnexpectedAnswer {
        status: status.as_u16(),
        message: message.to_owned(),
    }
}

/// `value` as one path segment: everything but RFC 3986's unreserved characters
/// percent-encoded, so that a name can never reach another route (`..`, `/`, `?`).
pub(crate) fn segment(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            let _ = write!(encoded, "%{byte:02X}");
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_cannot_leave_their_route() {
        assert_eq!(segment("issuer-admin"), "issuer-admin");
        assert_eq!(segment("../features"), "%2E%2E%2Ffeatures");
        assert_eq!(segment("a b?c#d"), "a%20b%3Fc%23d");
    }

    #[test]
    fn a_base_url_must_be_http_with_a_host() {
        assert!(Client::builder("https://roster.internal/").build().is_ok());
        assert!(
            Client::builder("http://127.0.0.1:8080/prefix")
                .build()
                .is_ok()
        );
        for bad in ["roster.internal", "ftp://roster", "http://", ""] {
            assert!(
                matches!(Client::builder(bad).build(), Err(Error::Configuration(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_token_never_shows_in_debug_output() {
        let client = Client::builder("http://roster")
            .token("rst_secret")
            .build()
            .unwrap();
        let shown = format!("{client:?} {:?}", client.with_token("rak_other"));
        assert!(
            !shown.contains("secret") && !shown.contains("rak_other"),
            "{shown}"
        );
    }
}
