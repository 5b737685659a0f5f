//! Server-side sessions: their public id, the client that opens one, a session to open, one
//! found by token digest, one as listed to its owner.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use roster_domain::text::{is_bidi_control, is_invisible};
use roster_domain::{Account, AccountId, Grant};
use uuid::Uuid;

use crate::model::{AuthMethods, TokenDigest};

/// Public identifier of a session (not the token).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionId(Uuid);

impl SessionId {
    pub fn new(id: Uuid) -> Self {
        Self(id)
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The most characters of a `User-Agent` a session keeps.
pub const MAX_USER_AGENT_CHARS: usize = 200;

/// The client signing in, as the adapter saw it: its address (the TCP peer) and the
/// `User-Agent` it sent, raw. A session keeps both so that its owner can tell their sessions
/// apart; [`ClientInfo::stored_user_agent`] is the form kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    pub source_ip: Option<IpAddr>,
    pub user_agent: Option<String>,
}

impl ClientInfo {
    /// The user agent as a session stores it: control characters, bidirectional controls and
    /// invisible characters removed (it is shown to people, and a header is anyone's text),
    /// surrounding white space trimmed, cut to [`MAX_USER_AGENT_CHARS`] characters; `None`
    /// when nothing is left.
    ///
    /// ```
    /// use roster_app::model::ClientInfo;
    ///
    /// let client = ClientInfo {
    ///     source_ip: None,
    ///     user_agent: Some(" curl/8.5\u{202e}.0\r\n ".to_owned()),
    /// };
    /// assert_eq!(client.stored_user_agent().as_deref(), Some("curl/8.5.0"));
    ///
    /// let long = ClientInfo { source_ip: None, user_agent: Some("é".repeat(300)) };
    /// assert_eq!(long.stored_user_agent().unwrap().chars().count(), 200);
    ///
    /// let blank = ClientInfo { source_ip: None, user_agent: Some("\u{7}  ".to_owned()) };
    /// assert_eq!(blank.stored_user_agent(), None);
    /// ```
    pub fn stored_user_agent(&self) -> Option<String> {
        let raw = self.user_agent.as_deref()?;
        let visible: String = raw
            .chars()
            .filter(|&c| !(c.is_control() || is_bidi_control(c) || is_invisible(c)))
            .collect();
        let kept: String = visible.trim().chars().take(MAX_USER_AGENT_CHARS).collect();
        // Cutting may leave white space at the end.
        let kept = kept.trim_end();
        (!kept.is_empty()).then(|| kept.to_owned())
    }
}

/// A session to persist at login. Only the token's digest is stored.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: SessionId,
    pub account_id: AccountId,
    pub token_digest: TokenDigest,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The client's `User-Agent`, as [`ClientInfo::stored_user_agent`] keeps it.
    pub user_agent: Option<String>,
    /// The client's address at login (the TCP peer).
    pub source_ip: Option<IpAddr>,
    /// How the owner signed in.
    pub auth_methods: AuthMethods,
    /// When a second factor was presented (the login's second step), if one was.
    pub second_factor_at: Option<DateTime<Utc>>,
}

/// A stored session together with its account and the account's grants, as found by token
/// digest in one database call.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub id: SessionId,
    pub account: Account,
    /// The account's grants with their roles' current rules (empty for a revoked session).
    /// Shared: the adapter may hand out the same cached list to many requests.
    pub grants: Arc<[Grant]>,
    /// The account's grants version as read with the session: it goes up with every change
    /// to what the account's grants allow (a grant given or taken, a held role's rules
    /// replaced), so equal versions mean equal grants. `grants` is never older than it.
    pub grants_version: i64,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked: bool,
    /// How the owner signed in and stepped up since.
    pub auth_methods: AuthMethods,
    /// When a second factor was last presented on this session (login or step-up).
    pub second_factor_at: Option<DateTime<Utc>>,
}

/// A session as listed to its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSummary {
    pub id: SessionId,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The client's `User-Agent` at login; `None` when it sent none (or the session predates
    /// recording it).
    pub user_agent: Option<String>,
    /// The client's address at login.
    pub source_ip: Option<IpAddr>,
    /// How the owner signed in and stepped up since.
    pub auth_methods: AuthMethods,
}
