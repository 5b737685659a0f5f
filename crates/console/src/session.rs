//! Signing in with a cookie. The cookie holds the same session token a bearer client holds:
//! one kind of server-side session, listed, idled out, revoked and ended the same way. Only
//! the console reads the cookie; the JSON API takes bearer tokens only, so a cookie can never
//! authorise a cross-site JSON request.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::web::Data;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use roster_app::{AppError, Authenticated, CallerKind, Roster};

use crate::render::ConsoleError;

/// The console's cookies. Their names and paths depend on the scheme, and are decided here
/// only ([`ConsoleCookie::name`]): every writer and reader goes through this type.
///
/// Under https the names carry the `__Host-` prefix, which browsers accept only on a cookie
/// set by this very host with `Secure`, `Path=/` and no `Domain`: a sibling subdomain
/// (`evil.example.com` beside `id.example.com`) cannot plant one, so it cannot fix the
/// session a browser signs in with. Over plain http (development) the prefix is unavailable,
/// and the cookies keep their plain names, scoped to `/console`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsoleCookie {
    /// The session token, once signed in.
    Session,
    /// The random pre-session secret that anonymous forms' CSRF tokens derive from.
    PreSession,
    /// The second step of a sign-in (`rmf_...`): the password was right and a second factor
    /// is due. Lives as long as the second step itself ([`SECOND_STEP_LIFETIME`]), and is
    /// removed when the step ends either way.
    SecondStep,
}

/// How long the second step of a sign-in may take: the use case's own limit (five minutes),
/// so the browser forgets the token when the server would refuse it anyway.
pub const SECOND_STEP_LIFETIME: actix_web::cookie::time::Duration =
    actix_web::cookie::time::Duration::minutes(5);

impl ConsoleCookie {
    /// The cookie's name under `settings`.
    pub fn name(self, settings: &ConsoleSettings) -> &'static str {
        match (self, settings.secure_cookies()) {
            (ConsoleCookie::Session, true) => "__Host-roster_session",
            (ConsoleCookie::Session, false) => "roster_session",
            (ConsoleCookie::PreSession, true) => "__Host-roster_csrf",
            (ConsoleCookie::PreSession, false) => "roster_csrf",
            (ConsoleCookie::SecondStep, true) => "__Host-roster_mfa",
            (ConsoleCookie::SecondStep, false) => "roster_mfa",
        }
    }

    /// The path the cookie is sent back to: `/` under https (the `__Host-` prefix requires
    /// it), else only the console's paths.
    fn path(settings: &ConsoleSettings) -> &'static str {
        if settings.secure_cookies() {
            "/"
        } else {
            "/console"
        }
    }

    /// The cookie carrying `value`: `HttpOnly` (no script reads it), `SameSite=Strict` (no
    /// other site's page sends it), `Secure` under https, never a `Domain`, and gone when
    /// the browser closes; the server-side session's own lifetime and idle timeout still
    /// apply. The second step's cookie also expires with the step.
    pub fn with_value(self, value: String, settings: &ConsoleSettings) -> Cookie<'static> {
        let mut cookie = Cookie::build(self.name(settings), value)
            .path(ConsoleCookie::path(settings))
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(settings.secure_cookies())
            .finish();
        if self == ConsoleCookie::SecondStep {
            cookie.set_max_age(SECOND_STEP_LIFETIME);
        }
        cookie
    }

    /// A cookie that deletes this one in the browser.
    pub fn expired(self, settings: &ConsoleSettings) -> Cookie<'static> {
        let mut cookie = self.with_value(String::new(), settings);
        cookie.make_removal();
        cookie
    }

    /// The value `req` carries in this cookie (under the name in force), if any and not
    /// empty. A cookie under the other scheme's name is ignored: under https a plain
    /// `roster_session` may have been planted by a sibling subdomain.
    pub fn read(self, req: &HttpRequest) -> Option<String> {
        req.cookie(self.name(&settings_of(req)))
            .map(|cookie| cookie.value().to_owned())
            .filter(|value| !value.is_empty())
    }
}

/// What the console needs from the server's settings.
#[derive(Debug, Clone, Default)]
pub struct ConsoleSettings {
    /// The origin of `server.public_url` (`https://id.example.com`), when set: the one origin
    /// forms may be posted from. Without it, the origin the request itself names (its `Host`)
    /// is expected.
    pub public_origin: Option<String>,
}

impl ConsoleSettings {
    /// Settings for a server reachable at `public_url` (scheme, host and optional port; a
    /// path or trailing slash is ignored).
    pub fn new(public_url: Option<&str>) -> ConsoleSettings {
        let public_origin = public_url.map(|url| {
            let url = url.trim_end_matches('/');
            // Keep `scheme://host[:port]`, drop any path.
            match url.split_once("://") {
                Some((scheme, rest)) => {
                    let authority = rest.split('/').next().unwrap_or_default();
                    format!(
                        "{}://{}",
                        scheme.to_ascii_lowercase(),
                        authority.to_ascii_lowercase()
                    )
                }
                None => url.to_ascii_lowercase(),
            }
        });
        ConsoleSettings { public_origin }
    }

    /// Cookies are `Secure` when the server is reached over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_origin
            .as_deref()
            .is_some_and(|origin| origin.starts_with("https://"))
    }
}

/// The settings in force for `req` (the defaults when the app registered none).
pub fn settings_of(req: &HttpRequest) -> ConsoleSettings {
    req.app_data::<Data<ConsoleSettings>>()
        .map(|settings| settings.get_ref().clone())
        .unwrap_or_default()
}

/// The session token the browser sent, if any.
pub fn session_token(req: &HttpRequest) -> Option<String> {
    ConsoleCookie::Session.read(req)
}

/// A signed-in person: the caller every use case takes, built from the session cookie
/// exactly as the JSON API builds it from a bearer token. Pages that take a `Viewer` send
/// whoever is not signed in (or whose session ended) to the sign-in page, and back here
/// afterwards; a session the MFA policy holds back until it sets up a second factor goes to
/// the two-step set-up page instead (see [`EnrollingViewer`]).
#[derive(Debug)]
pub struct Viewer {
    pub caller: Authenticated,
    /// The token this viewer's forms carry (derived from the session token).
    pub csrf_token: String,
}

impl Viewer {
    /// The signed-in account (a viewer always has one: API keys cannot sign in here).
    pub fn account(&self) -> &roster_domain::Account {
        match &self.caller.kind {
            CallerKind::Session { account, .. } => account,
            CallerKind::ApiKey { .. } => unreachable!("a viewer is built from sessions only"),
        }
    }

    /// Whether the MFA policy holds this session back until it sets up a second factor.
    pub fn must_enrol(&self) -> bool {
        self.caller.mfa_enrolment_required
    }
}

impl FromRequest for Viewer {
    type Error = ConsoleError;
    type Future = LocalBoxFuture<'static, Result<Self, ConsoleError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        Box::pin(signed_in(req, Admission::Everything))
    }
}

/// A signed-in person on one of the few pages open to a session the MFA policy holds back
/// (the two-step set-up, the basics of My account, signing out), as the JSON API's
/// enrolment routes take it. Any other viewer passes too.
#[derive(Debug)]
pub struct EnrollingViewer(pub Viewer);

impl FromRequest for EnrollingViewer {
    type Error = ConsoleError;
    type Future = LocalBoxFuture<'static, Result<Self, ConsoleError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let viewer = signed_in(req, Admission::Enrolment);
        Box::pin(async move { viewer.await.map(EnrollingViewer) })
    }
}

/// Where a session the MFA policy holds back is sent: the two-step set-up page.
pub const ENROLMENT_PAGE: &str = "/console/account/two-step";

/// What a page admits of a session the MFA policy holds back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Admission {
    /// Nothing: such a session is sent to set up a second factor (`MfaEnrolmentRequired`).
    Everything,
    /// The session itself, marked `mfa_enrolment_required`.
    Enrolment,
}

/// The viewer behind `req`'s session cookie.
fn signed_in(
    req: &HttpRequest,
    admission: Admission,
) -> impl std::future::Future<Output = Result<Viewer, ConsoleError>> + 'static {
    let token = session_token(req);
    let roster = req.app_data::<Data<Roster>>().cloned();
    let source_ip = roster_http::client_ip(req);
    let return_to = return_path(req);
    async move {
        // A cookie that no longer opens a session means the session ended (expired,
        // idle, revoked elsewhere): the sign-in page says so.
        let session_ended = token.is_some();
        let signed_out = || ConsoleError::SignedOut {
            return_to: return_to.clone(),
            session_ended,
        };
        let (Some(token), Some(roster)) = (token, roster) else {
            return Err(signed_out());
        };
        let caller = match admission {
            Admission::Everything => roster.authenticate_bearer(&token, source_ip).await,
            Admission::Enrolment => roster.authenticate_for_enrolment(&token, source_ip).await,
        };
        match caller {
            Ok(caller) if matches!(caller.kind, CallerKind::Session { .. }) => Ok(Viewer {
                caller,
                csrf_token: crate::csrf::token_for(&token),
            }),
            // An API key is not a way to sign in to the console.
            Ok(_) | Err(AppError::Unauthenticated) => Err(signed_out()),
            // `MfaEnrolmentRequired` too: its page is the two-step set-up.
            Err(other) => Err(other.into()),
        }
    }
}

/// Where to come back to after signing in: the page asked for, when it is a console page
/// read with GET (a form posted with an ended session is not replayed).
fn return_path(req: &HttpRequest) -> Option<String> {
    if req.method() != actix_web::http::Method::GET {
        return None;
    }
    let path = req.uri().path_and_query()?.as_str();
    is_console_path(path).then(|| path.to_owned())
}

/// Whether `path` is a path of this console (and nothing that would leave it: no scheme, no
/// `//host`, no backslash that a browser would read as a slash).
pub fn is_console_path(path: &str) -> bool {
    let route = path.split(['?', '#']).next().unwrap_or_default();
    path.starts_with("/console/")
        && !path.starts_with("/console//")
        && !path.contains('\\')
        && !path.chars().any(char::is_control)
        // No `.` or `..` segment, plain or percent-encoded: `/console/../openapi.json` is
        // another page of the host, not of the console.
        && !route.split('/').any(|segment| {
            let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
            decoded == "." || decoded == ".."
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_origin_is_scheme_and_authority_only() {
        let settings = ConsoleSettings::new(Some("HTTPS://Id.Example.com:8443/roster/"));
        assert_eq!(
            settings.public_origin.as_deref(),
            Some("https://id.example.com:8443")
        );
        assert!(settings.secure_cookies());
        assert!(!ConsoleSettings::new(Some("http://localhost:8080")).secure_cookies());
        assert!(!ConsoleSettings::new(None).secure_cookies());
    }

    #[test]
    fn under_https_cookies_are_host_prefixed_secure_and_domainless() {
        let https = ConsoleSettings::new(Some("https://id.example.com"));
        for (kind, name) in [
            (ConsoleCookie::Session, "__Host-roster_session"),
            (ConsoleCookie::PreSession, "__Host-roster_csrf"),
        ] {
            let cookie = kind.with_value("t".into(), &https);
            assert_eq!(cookie.name(), name);
            assert_eq!(cookie.domain(), None);
            let header = cookie.to_string();
            for part in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/"] {
                assert!(
                    header.split("; ").any(|p| p == part),
                    "{header} lacks {part}"
                );
            }
            let expired = kind.expired(&https);
            assert_eq!((expired.name(), expired.path()), (name, Some("/")));
        }
    }

    #[test]
    fn over_http_cookies_keep_plain_names_scoped_to_the_console() {
        let http = ConsoleSettings::new(Some("http://localhost:8080"));
        for (kind, name) in [
            (ConsoleCookie::Session, "roster_session"),
            (ConsoleCookie::PreSession, "roster_csrf"),
        ] {
            for settings in [&http, &ConsoleSettings::default()] {
                let cookie = kind.with_value("t".into(), settings);
                assert_eq!(cookie.name(), name);
                assert_eq!(cookie.path(), Some("/console"));
                assert!(!cookie.to_string().contains("Secure"));
            }
        }
    }

    /// Under https a plain `roster_session` (which a sibling subdomain could set with
    /// `Domain=example.com`) is not a session.
    #[test]
    fn under_https_only_the_prefixed_cookie_is_read() {
        use actix_web::test::TestRequest;
        let https = Data::new(ConsoleSettings::new(Some("https://id.example.com")));
        let planted = TestRequest::default()
            .app_data(https.clone())
            .cookie(Cookie::new("roster_session", "planted"))
            .to_http_request();
        assert_eq!(session_token(&planted), None);
        let own = TestRequest::default()
            .app_data(https)
            .cookie(Cookie::new("__Host-roster_session", "own"))
            .to_http_request();
        assert_eq!(session_token(&own).as_deref(), Some("own"));
        let http = TestRequest::default()
            .cookie(Cookie::new("roster_session", "dev"))
            .to_http_request();
        assert_eq!(session_token(&http).as_deref(), Some("dev"));
    }

    #[test]
    fn only_console_paths_are_returned_to() {
        assert!(is_console_path("/console/admin/accounts?cursor=x"));
        for path in [
            "/v1/account/me",
            "//evil.example",
            "/console//evil.example",
            "/console/\\evil",
            "https://evil.example/console/",
        ] {
            assert!(!is_console_path(path), "{path}");
        }
    }
}
