//! From a request's bearer token to a [`Caller`] a service can ask "may they do this?",
//! through Roster's introspection and a small in-process cache. The framework adapters
//! (`actix`, `axum` features) are thin layers over [`Authenticator::authenticate`].
//!
//! The trade-off, stated plainly: decisions are local (well under a microsecond once a
//! token is cached) and keep working through Roster hiccups shorter than the cache's life,
//! but a revoked token, a disabled account or a withdrawn grant is seen only when the
//! cached entry ends, at most `cache_ttl` (default 5 s) later.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use quick_cache::sync::Cache;
use roster_domain::{Action, PermissionSet, Principal, PrincipalId, ScopePath};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use crate::client::Client;
use crate::error::Error;
use crate::introspection::{ActiveToken, IntrospectedPrincipal, Introspection};

/// Settings of an [`Authenticator`].
#[derive(Debug, Clone)]
pub struct AuthenticatorConfig {
    /// How long an introspected token is trusted without asking Roster again (default
    /// 5 s): the longest a revocation can go unseen.
    pub cache_ttl: Duration,
    /// How many tokens are remembered at most (default 10 000); the least useful go first.
    pub cache_capacity: usize,
    /// What to answer when Roster cannot be asked.
    pub when_unreachable: WhenUnreachable,
    /// How many introspections may wait for Roster at once (default 64); a request that
    /// would be one more gets 503 `overloaded` at once. Bounds what a flood of unknown
    /// tokens costs the service and Roster.
    pub max_concurrent_introspections: usize,
}

impl Default for AuthenticatorConfig {
    fn default() -> Self {
        Self {
            cache_ttl: Duration::from_secs(5),
            cache_capacity: 10_000,
            when_unreachable: WhenUnreachable::Refuse,
            max_concurrent_introspections: 64,
        }
    }
}

/// What a request gets when Roster is unreachable, overloaded or its database unavailable.
/// Never "allow": a token Roster was not asked about is never trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenUnreachable {
    /// 503 Service Unavailable (the default).
    Refuse,
    /// Keep using what Roster said about a token for up to this much longer than
    /// `cache_ttl`, and only while Roster cannot be asked; tokens never seen get 503. A
    /// revocation made during an outage is seen this much later.
    ServeStaleFor(Duration),
}

/// Why a request has no [`Caller`].
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization: Bearer <token>` header, or not readable.
    #[error("a bearer token is required")]
    MissingToken,
    /// Roster says the token cannot be used (unknown, expired, revoked, disabled account).
    #[error("the token is not valid")]
    InactiveToken,
    /// Roster could not be asked (unreachable, overloaded, or it refused this service's own
    /// credentials): the request is refused, never allowed.
    #[error("Roster cannot be asked about the token: {0}")]
    Unavailable(#[source] Error),
    /// `max_concurrent_introspections` are waiting for Roster already.
    #[error("too many introspections in flight")]
    Overloaded,
}

/// The caller was authenticated but is not allowed what the route needs.
#[derive(Debug, thiserror::Error)]
#[error("{principal} may not {action} on {scope}")]
pub struct Denied {
    /// Who asked.
    pub principal: PrincipalId,
    /// What they may not do.
    pub action: Action,
    /// Where.
    pub scope: ScopePath,
}

/// The authenticated principal of a request, as Roster described it when asked. Cheap to
/// clone: every request bearing the same token within `cache_ttl` shares one.
#[derive(Clone)]
pub struct Caller {
    inner: Arc<Resolved>,
}

struct Resolved {
    token: ActiveToken,
    principal: Principal,
    /// Compiled once per introspection, so that each decision is a few lookups.
    permissions: PermissionSet,
}

impl fmt::Debug for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Caller")
            .field("principal", &self.inner.principal.id)
            .field("grants_version", &self.inner.token.grants_version)
            .finish_non_exhaustive()
    }
}

impl Caller {
    /// A caller from an active introspection answer.
    pub fn from_active(token: ActiveToken) -> Result<Caller, Error> {
        let principal = token.principal()?;
        let permissions = principal.permission_set();
        Ok(Caller {
            inner: Arc::new(Resolved {
                token,
                principal,
                permissions,
            }),
        })
    }

    /// `account:<uuid>` or `api_key:<uuid>`.
    pub fn id(&self) -> PrincipalId {
        self.inner.principal.id
    }

    /// The account or API key, with its email or name.
    pub fn details(&self) -> &IntrospectedPrincipal {
        &self.inner.token.principal
    }

    /// The principal as `roster-domain` evaluates it (to explain a decision, say).
    pub fn principal(&self) -> &Principal {
        &self.inner.principal
    }

    /// The grants version Roster reported: equal versions mean equal grants.
    pub fn grants_version(&self) -> i64 {
        self.inner.token.grants_version
    }

    /// Whether the caller may do `action` on `scope`, decided locally.
    pub fn allows(&self, action: &Action, scope: &ScopePath) -> bool {
        self.inner.permissions.allows(action, scope)
    }

    /// The guard of a protected route: `Ok` when the caller may do `action` on `scope`,
    /// else [`Denied`], which the framework adapters answer as 403 `forbidden`. A scope with
    /// `*` segments names no one place and is always denied, as `POST /v1/authz/check`
    /// refuses it.
    pub fn require(&self, action: &Action, scope: &ScopePath) -> Result<(), Denied> {
        if scope.is_concrete() && self.allows(action, scope) {
            Ok(())
        } else {
            Err(Denied {
                principal: self.inner.principal.id,
                action: action.clone(),
                scope: scope.clone(),
            })
        }
    }

    fn expired(&self) -> bool {
        self.inner
            .token
            .expires_at
            .is_some_and(|end| end <= Utc::now())
    }
}

/// What the cache keeps about one token.
#[derive(Clone)]
struct Entry {
    caller: Caller,
    fetched: Instant,
}

/// Turns bearer tokens into [`Caller`]s: from the cache while an entry is younger than
/// `cache_ttl`, else by asking Roster (`POST /v1/auth/introspect`). Share one per process
/// (it is cheap to clone).
#[derive(Clone)]
pub struct Authenticator {
    roster: Client,
    config: AuthenticatorConfig,
    /// Keyed by the token's SHA-256, so that the process holds no token it was sent.
    cache: Arc<Cache<[u8; 32], Entry>>,
    /// Permits for introspections in flight.
    in_flight: Arc<Semaphore>,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("roster", &self.roster)
            .field("config", &self.config)
            .field("cached", &self.cache.len())
            .field("in_flight_permits", &self.in_flight.available_permits())
            .finish()
    }
}

impl Authenticator {
    /// `roster` must carry a token (typically the service's API key) holding
    /// `token-introspect` on `*`.
    pub fn new(roster: Client, config: AuthenticatorConfig) -> Authenticator {
        let cache = Cache::new(config.cache_capacity.max(1));
        let in_flight = Semaphore::new(config.max_concurrent_introspections.max(1));
        Authenticator {
            roster,
            config,
            cache: Arc::new(cache),
            in_flight: Arc::new(in_flight),
        }
    }

    /// The settings in force.
    pub fn config(&self) -> &AuthenticatorConfig {
        &self.config
    }

    /// The caller behind `Authorization` header value `authorization` (`Bearer <token>`).
    pub async fn authenticate_header(
        &self,
        authorization: Option<&[u8]>,
    ) -> Result<Caller, AuthError> {
        let token = authorization
            .and_then(|value| std::str::from_utf8(value).ok())
            .and_then(bearer_token)
            .ok_or(AuthError::MissingToken)?;
        self.authenticate(token).await
    }

    /// The caller behind `token`.
    pub async fn authenticate(&self, token: &str) -> Result<Caller, AuthError> {
        if !looks_like_a_roster_token(token) {
            return Err(AuthError::InactiveToken);
        }
        let key = digest(token);
        let cached = self.cache.get(&key);
        if let Some(entry) = &cached {
            if entry.fetched.elapsed() < self.config.cache_ttl && !entry.caller.expired() {
                return Ok(entry.caller.clone());
            }
        }
        let Ok(_permit) = self.in_flight.try_acquire() else {
            return Err(AuthError::Overloaded);
        };
        // The answer is at least as fresh as the question: an entry's age counts from here,
        // so a slow answer cannot stretch the window past `cache_ttl`.
        let asked = Instant::now();
        match self.roster.introspect(token).await {
            Ok(Introspection::Active(active)) => {
                let caller = Caller::from_active(*active).map_err(AuthError::Unavailable)?;
                self.cache.insert(
                    key,
                    Entry {
                        caller: caller.clone(),
                        fetched: asked,
                    },
                );
                Ok(caller)
            }
            Ok(Introspection::Inactive) => {
                self.cache.remove(&key);
                Err(AuthError::InactiveToken)
            }
            Err(error) => {
                if error.is_unauthenticated() {
                    // Roster no longer accepts this service's own credentials: nothing it
                    // said with them stands.
                    tracing::error!(
                        "Roster refused this service's token for introspection; \
                         the cache is emptied and requests are refused"
                    );
                    self.cache.clear();
                } else if let (Some(entry), WhenUnreachable::ServeStaleFor(grace)) =
                    (cached, self.config.when_unreachable)
                {
                    if error.is_unavailable()
                        && entry.fetched.elapsed() < self.config.cache_ttl.saturating_add(grace)
                        && !entry.caller.expired()
                    {
                        tracing::warn!(%error, "Roster unreachable: using a stale answer");
                        return Ok(entry.caller);
                    }
                }
                Err(AuthError::Unavailable(error))
            }
        }
    }

    /// Forgets what Roster said about `token`, e.g. after Roster answered 401 to a call the
    /// service made with it: the next request asks again.
    pub fn forget(&self, token: &str) {
        self.cache.remove(&digest(token));
    }
}

/// The longest token sent to Roster; Roster's own are under 100 bytes.
const MAX_TOKEN_LEN: usize = 512;

/// Whether `token` has the shape of a session token (`rst_`) or an API key (`rak_`): anything
/// else is inactive without asking Roster.
fn looks_like_a_roster_token(token: &str) -> bool {
    token.len() <= MAX_TOKEN_LEN && (token.starts_with("rst_") || token.starts_with("rak_"))
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The token of `Bearer <token>` (the scheme case-insensitive, as RFC 9110 says).
fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The problem document the framework adapters answer, in Roster's own shape.
#[cfg(any(feature = "actix", feature = "axum"))]
pub(crate) struct Refusal {
    pub status: u16,
    pub code: &'static str,
    pub title: &'static str,
    pub detail: String,
}

#[cfg(any(feature = "actix", feature = "axum"))]
impl Refusal {
    pub(crate) fn body(&self) -> String {
        serde_json::json!({
            "type": format!("urn:roster:problem:{}", self.code),
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        })
        .to_string()
    }
}

#[cfg(any(feature = "actix", feature = "axum"))]
impl AuthError {
    pub(crate) fn refusal(&self) -> Refusal {
        match self {
            AuthError::MissingToken | AuthError::InactiveToken => Refusal {
                status: 401,
                code: "unauthenticated",
                title: "Unauthenticated",
                detail: "A valid bearer token is required.".to_owned(),
            },
            AuthError::Unavailable(_) => Refusal {
                status: 503,
                code: "unavailable",
                title: "Service unavailable",
                detail: "The token cannot be checked right now; retry shortly.".to_owned(),
            },
            AuthError::Overloaded => Refusal {
                status: 503,
                code: "overloaded",
                title: "Overloaded",
                detail: "Too many requests are being checked; retry shortly.".to_owned(),
            },
        }
    }
}

#[cfg(any(feature = "actix", feature = "axum"))]
impl Denied {
    pub(crate) fn refusal(&self) -> Refusal {
        Refusal {
            status: 403,
            code: "forbidden",
            title: "Forbidden",
            detail: format!(
                "Your grants do not allow `{}` on `{}`.",
                self.action, self.scope
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_bearer_header_with_a_token_carries_one() {
        assert_eq!(bearer_token("Bearer rst_abc"), Some("rst_abc"));
        assert_eq!(bearer_token("bearer  rak_x "), Some("rak_x"));
        assert_eq!(bearer_token("Basic dXNlcg=="), None);
        assert_eq!(bearer_token("Bearer "), None);
        assert_eq!(bearer_token("Bearer"), None);
    }

    #[test]
    fn only_tokens_of_roster_s_shapes_are_worth_asking_about() {
        assert!(looks_like_a_roster_token("rst_abc"));
        assert!(looks_like_a_roster_token("rak_0190b3e4_secret"));
        assert!(!looks_like_a_roster_token("eyJhbGciOiJIUzI1NiJ9.e30.x"));
        assert!(!looks_like_a_roster_token(&format!(
            "rst_{}",
            "a".repeat(600)
        )));
    }
}
