//! Settings: built-in defaults < optional TOML file (`--config PATH` or `ROSTER_CONFIG`) <
//! environment variables `ROSTER__SECTION__KEY`. Converted into typed values once, at
//! start-up; a value that does not parse stops start-up with a message naming its key.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;

use config::{Config, Environment, File, FileFormat};
use roster_app::{
    AuditSettings, EmailVerification, GrantLimits, LoginThrottlePolicy, MfaSettings,
    RegistrationPolicy, SessionSettings,
};
use roster_crypto::{Argon2Settings, StrengthSettings};
use roster_domain::mfa::MfaPolicy;
use roster_domain::{Action, AllowedDomains, PasswordPolicy};
use roster_http::RateLimitSettings;
use roster_store::{Backend, DatabaseSettings};
use secrecy::SecretString;
use serde::Deserialize;

/// `server.public_url`: `http://` or `https://`, a host, an optional port; nothing else.
fn public_url(text: &str) -> Result<String, SettingsError> {
    let text = text.trim();
    let reason = "must be http:// or https:// followed by a host and optional port \
        (example: https://id.example.com)";
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
        .ok_or_else(|| invalid("server.public_url", reason))?;
    let authority = rest.trim_end_matches('/');
    if authority.is_empty()
        || !authority
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
    {
        return Err(invalid("server.public_url", reason));
    }
    Ok(text.trim_end_matches('/').to_owned())
}

/// The built-in defaults, in the same shape as an operator's TOML file.
const DEFAULTS: &str = r#"
[server]
bind = "127.0.0.1:8080"
shutdown_timeout = "30s"
body_timeout = "10s"
max_connections = 10000
max_connections_per_ip = 256

[database]
url = "sqlite://data/roster.db"
pool_size = 8
connect_timeout = "5s"
busy_timeout = "5s"
statement_timeout = "5s"

[features]
file = "features/_features.conf"
poll_interval = "500ms"

[sessions]
ttl = "12h"
idle_timeout = "1h"

[login_throttle]
free_failures = 5
base_delay = "1m"
max_delay = "15m"

[password]
min_length = 15
max_length = 128

[argon2]
memory_kib = 19456
iterations = 2
parallelism = 1

[rate_limit]
enabled = true
per_minute = 30
burst = 10

[bootstrap]

[registration]
allowed_domains = []
email_verification = "off"
enumeration_safe = false

[grants]
max_per_holder = 1000

[mail]
from = "Roster <roster@localhost>"
outbox_dir = "data/outbox"
give_up_after = "3d"
poll_interval = "5s"

[password_reset]
max_per_hour = 3

[secrets]
key_file = "data/secret.key"

[mfa]
required_for_superadmins = false
required_for_actions = []
step_up_window = "15m"

[audit]
retention = "400d"

[log]
format = "compact"
level = "info"
"#;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    server: RawServer,
    database: RawDatabase,
    features: RawFeatures,
    sessions: RawSessions,
    login_throttle: RawLoginThrottle,
    password: RawPassword,
    argon2: RawArgon2,
    rate_limit: RawRateLimit,
    bootstrap: RawBootstrap,
    registration: RawRegistration,
    grants: RawGrants,
    mail: RawMail,
    password_reset: RawPasswordReset,
    secrets: RawSecrets,
    mfa: RawMfa,
    audit: RawAudit,
    log: RawLog,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAudit {
    retention: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMfa {
    required_for_superadmins: bool,
    required_for_actions: TextList,
    step_up_window: String,
    secret_key: Option<SecretString>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMail {
    smtp_url: Option<SecretString>,
    from: String,
    outbox_dir: PathBuf,
    templates_dir: Option<PathBuf>,
    give_up_after: String,
    poll_interval: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPasswordReset {
    max_per_hour: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSecrets {
    key: Option<SecretString>,
    key_file: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    bind: String,
    shutdown_timeout: String,
    metrics_bind: Option<String>,
    public_url: Option<String>,
    body_timeout: String,
    max_connections: usize,
    max_connections_per_ip: usize,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDatabase {
    url: SecretString,
    pool_size: u32,
    connect_timeout: String,
    busy_timeout: String,
    statement_timeout: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFeatures {
    file: PathBuf,
    poll_interval: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSessions {
    ttl: String,
    idle_timeout: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLoginThrottle {
    free_failures: u32,
    base_delay: String,
    max_delay: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPassword {
    min_length: usize,
    max_length: usize,
    strength_workers: Option<usize>,
    strength_queue: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArgon2 {
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
    workers: Option<usize>,
    queue_capacity: Option<usize>,
    max_queue_wait: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRateLimit {
    enabled: bool,
    per_minute: u32,
    burst: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBootstrap {
    superadmin_email: Option<String>,
    superadmin_password: Option<SecretString>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegistration {
    allowed_domains: TextList,
    email_verification: String,
    enumeration_safe: bool,
}

/// A list setting (`registration.allowed_domains`, `mfa.required_for_actions`): a TOML list
/// in a file; in the environment, where a variable holds one string, the entries separated
/// by commas (`ROSTER__REGISTRATION__ALLOWED_DOMAINS=example.org,*.example.com`). A string is
/// read the same way in a file. Blank entries (an empty variable, a trailing comma) are
/// skipped.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum TextList {
    List(Vec<String>),
    Text(String),
}

impl TextList {
    fn entries(&self) -> Vec<&str> {
        match self {
            TextList::List(entries) => entries.iter().map(String::as_str).collect(),
            TextList::Text(text) => text
                .split(',')
                .filter(|entry| !entry.trim().is_empty())
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGrants {
    max_per_holder: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLog {
    format: String,
    level: String,
}

/// A setting that is missing, mistyped or out of range.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("settings: {0}")]
    Load(#[from] config::ConfigError),
    #[error("setting `{key}` is invalid: {reason}")]
    Invalid { key: &'static str, reason: String },
}

/// The shortest `argon2.max_queue_wait` accepted: a few hash times, so that a job can wait
/// for the one ahead of it.
const MIN_QUEUE_WAIT_MS: u64 = 50;

fn invalid(key: &'static str, reason: impl std::fmt::Display) -> SettingsError {
    SettingsError::Invalid {
        key,
        reason: reason.to_string(),
    }
}

fn duration(key: &'static str, value: &str) -> Result<Duration, SettingsError> {
    humantime::parse_duration(value)
        .map_err(|e| invalid(key, format!("{e} (examples: 500ms, 30s, 12h)")))
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One compact human-readable line per event.
    Compact,
    /// One JSON object per line, for log shippers.
    Json,
}

/// The first super admin, created at start-up when none exists.
#[derive(Debug, Clone)]
pub struct BootstrapSettings {
    pub email: String,
    pub password: SecretString,
}

/// Outbound mail (`mail.*`).
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// `mail.smtp_url`; `None` writes `.eml` files into `outbox_dir`.
    pub smtp_url: Option<SecretString>,
    pub from: String,
    pub outbox_dir: PathBuf,
    pub templates_dir: Option<PathBuf>,
    /// `mail.give_up_after`: how long the sender retries a message.
    pub give_up_after: chrono::Duration,
    /// `mail.poll_interval`: how often the sender looks for due messages (it is also woken
    /// at once when a request queues one on this node).
    pub poll_interval: Duration,
}

/// Where the service's secret key comes from (`secrets.key`, else `secrets.key_file`).
#[derive(Debug, Clone)]
pub enum SecretKeySource {
    /// `secrets.key`: base64 of 32 bytes (checked when settings load).
    Inline(SecretString),
    /// `secrets.key_file`: created with 32 random bytes on first start when missing.
    File(PathBuf),
}

/// Typed, validated settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub bind: SocketAddr,
    pub shutdown_timeout: Duration,
    /// `server.metrics_bind`: a second listener that serves `/metrics` alone (and then the
    /// main listener does not); `None` serves `/metrics` on `bind`.
    pub metrics_bind: Option<SocketAddr>,
    /// `server.public_url`: where people reach the server (`https://id.example.com`), when
    /// set. The console accepts forms only from this origin, and marks its cookies `Secure`
    /// when it is https.
    pub public_url: Option<String>,
    /// `server.body_timeout`: how long a request body may take to arrive (408 after).
    pub body_timeout: Duration,
    /// `server.max_connections`: open connections in total (split evenly over the workers).
    pub max_connections: usize,
    /// `server.max_connections_per_ip`: open connections per client address; 0 = no cap.
    pub max_connections_per_ip: usize,
    pub database: DatabaseSettings,
    pub features_file: PathBuf,
    pub features_poll_interval: Duration,
    pub sessions: SessionSettings,
    pub login_throttle: LoginThrottlePolicy,
    pub password_policy: PasswordPolicy,
    pub argon2: Argon2Settings,
    /// The password strength pool (`password.strength_workers`, `password.strength_queue`).
    pub strength: StrengthSettings,
    pub rate_limit: RateLimitSettings,
    pub bootstrap: Option<BootstrapSettings>,
    /// `registration.*`: allowed domains, email verification, enumeration-safe mode.
    pub registration: RegistrationPolicy,
    pub grants: GrantLimits,
    pub mail: MailConfig,
    /// `password_reset.max_per_hour`: reset emails per account per hour.
    pub password_reset_per_hour: u32,
    pub secret_key: SecretKeySource,
    /// `mfa.*`: who must enrol a second factor, and the step-up window.
    pub mfa: MfaSettings,
    /// `mfa.secret_key`: the key TOTP secrets are sealed under (base64 of 32 bytes); `None`
    /// uses the service's secret key (`secrets.*`).
    pub mfa_secret_key: Option<SecretString>,
    /// `audit.retention`: events older than this are deleted by the periodic job.
    pub audit: AuditSettings,
    pub log_format: LogFormat,
    pub log_level: String,
    /// Skip migrations at start-up (`--no-migrate`).
    pub run_migrations: bool,
}

impl Settings {
    /// The base of emailed links: `server.public_url`, or `http://localhost:{port of
    /// server.bind}` when unset (the contract's `http://localhost:8080` with the default bind).
    pub fn links_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://localhost:{}", self.bind.port()))
    }

    /// Loads defaults, then `file` if given, then the process environment.
    ///
    /// # Errors
    /// A file that cannot be read or parsed, or any invalid value.
    pub fn load(file: Option<&Path>) -> Result<Settings, SettingsError> {
        Self::load_from(file, None)
    }

    /// Like [`Settings::load`], with the environment given explicitly (tests pass a map
    /// instead of mutating the process environment).
    ///
    /// # Errors
    /// A file that cannot be read or parsed, or any invalid value.
    pub fn load_from(
        file: Option<&Path>,
        env: Option<HashMap<String, String>>,
    ) -> Result<Settings, SettingsError> {
        let mut builder = Config::builder().add_source(File::from_str(DEFAULTS, FileFormat::Toml));
        if let Some(file) = file {
            builder = builder.add_source(File::from(file).format(FileFormat::Toml).required(true));
        }
        let environment = Environment::with_prefix("ROSTER")
            .separator("__")
            .try_parsing(true)
            .source(env);
        let raw: RawSettings = builder.add_source(environment).build()?.try_deserialize()?;
        Self::from_raw(raw)
    }

    fn from_raw(raw: RawSettings) -> Result<Settings, SettingsError> {
        use secrecy::ExposeSecret;
        let bind = raw
            .server
            .bind
            .parse()
            .map_err(|e| invalid("server.bind", format!("{e} (example: 127.0.0.1:8080)")))?;
        let metrics_bind = raw
            .server
            .metrics_bind
            .filter(|text| !text.trim().is_empty())
            .map(|text| {
                text.parse::<SocketAddr>().map_err(|e| {
                    invalid(
                        "server.metrics_bind",
                        format!("{e} (example: 127.0.0.1:9090)"),
                    )
                })
            })
            .transpose()?;
        if metrics_bind.is_some_and(|metrics| metrics == bind && bind.port() != 0) {
            return Err(invalid(
                "server.metrics_bind",
                "must differ from server.bind",
            ));
        }
        let public_url = raw
            .server
            .public_url
            .filter(|text| !text.trim().is_empty())
            .map(|text| public_url(&text))
            .transpose()?;
        let body_timeout = duration("server.body_timeout", &raw.server.body_timeout)?;
        if body_timeout.is_zero() {
            return Err(invalid("server.body_timeout", "must be greater than zero"));
        }
        if raw.server.max_connections == 0 {
            return Err(invalid("server.max_connections", "must be at least 1"));
        }
        let backend = Backend::from_url(raw.database.url.expose_secret())
            .map_err(|e| invalid("database.url", e))?;
        if raw.database.pool_size == 0 {
            return Err(invalid("database.pool_size", "must be at least 1"));
        }
        let database = DatabaseSettings {
            backend,
            pool_size: raw.database.pool_size,
            connect_timeout: duration("database.connect_timeout", &raw.database.connect_timeout)?,
            busy_timeout: duration("database.busy_timeout", &raw.database.busy_timeout)?,
            statement_timeout: duration(
                "database.statement_timeout",
                &raw.database.statement_timeout,
            )?,
        };
        let sessions = SessionSettings {
            ttl: chrono_duration("sessions.ttl", &raw.sessions.ttl)?,
            idle_timeout: chrono_duration("sessions.idle_timeout", &raw.sessions.idle_timeout)?,
        };
        let login_throttle = LoginThrottlePolicy {
            free_failures: raw.login_throttle.free_failures,
            base_delay: chrono_duration(
                "login_throttle.base_delay",
                &raw.login_throttle.base_delay,
            )?,
            max_delay: chrono_duration("login_throttle.max_delay", &raw.login_throttle.max_delay)?,
        };
        if login_throttle.max_delay < login_throttle.base_delay {
            return Err(invalid(
                "login_throttle.max_delay",
                "must not be shorter than login_throttle.base_delay",
            ));
        }
        let password_policy = PasswordPolicy::new(raw.password.min_length, raw.password.max_length)
            .map_err(|e| invalid("password.min_length", e))?;
        let defaults = Argon2Settings::default();
        let workers = raw.argon2.workers.unwrap_or(defaults.workers);
        let argon2 = Argon2Settings {
            memory_kib: raw.argon2.memory_kib,
            iterations: raw.argon2.iterations,
            parallelism: raw.argon2.parallelism,
            workers,
            queue_capacity: raw.argon2.queue_capacity.unwrap_or(16 * workers),
            max_queue_wait: match &raw.argon2.max_queue_wait {
                Some(wait) => {
                    let wait = duration("argon2.max_queue_wait", wait)?;
                    // Below one hash time every job would be refused: no login could succeed.
                    if wait < Duration::from_millis(MIN_QUEUE_WAIT_MS) {
                        return Err(invalid(
                            "argon2.max_queue_wait",
                            format!("must be at least {MIN_QUEUE_WAIT_MS}ms"),
                        ));
                    }
                    wait
                }
                None => defaults.max_queue_wait,
            },
        };
        let strength_workers = raw
            .password
            .strength_workers
            .unwrap_or(StrengthSettings::default().workers);
        let strength = StrengthSettings {
            workers: strength_workers,
            queue_capacity: raw.password.strength_queue.unwrap_or(16 * strength_workers),
        };
        if strength.workers == 0 {
            return Err(invalid("password.strength_workers", "must be at least 1"));
        }
        if strength.queue_capacity == 0 {
            return Err(invalid("password.strength_queue", "must be at least 1"));
        }
        let rate_limit = RateLimitSettings {
            enabled: raw.rate_limit.enabled,
            per_minute: at_least_one("rate_limit.per_minute", raw.rate_limit.per_minute)?,
            burst: at_least_one("rate_limit.burst", raw.rate_limit.burst)?,
        };
        let bootstrap = match (
            raw.bootstrap.superadmin_email,
            raw.bootstrap.superadmin_password,
        ) {
            (Some(email), Some(password)) => Some(BootstrapSettings { email, password }),
            (None, None) => None,
            (Some(_), None) => {
                return Err(invalid(
                    "bootstrap.superadmin_password",
                    "required when bootstrap.superadmin_email is set",
                ));
            }
            (None, Some(_)) => {
                return Err(invalid(
                    "bootstrap.superadmin_email",
                    "required when bootstrap.superadmin_password is set",
                ));
            }
        };
        let registration = registration(&raw.registration)?;
        let log_format = match raw.log.format.as_str() {
            "compact" => LogFormat::Compact,
            "json" => LogFormat::Json,
            other => {
                return Err(invalid(
                    "log.format",
                    format!("{other:?} is not one of \"compact\", \"json\""),
                ));
            }
        };
        let grants = GrantLimits {
            max_per_holder: at_least_one("grants.max_per_holder", raw.grants.max_per_holder)?.get(),
        };
        let mail = MailConfig {
            smtp_url: raw
                .mail
                .smtp_url
                .filter(|url| !url.expose_secret().trim().is_empty()),
            from: raw.mail.from,
            outbox_dir: raw.mail.outbox_dir,
            templates_dir: raw.mail.templates_dir,
            give_up_after: chrono_duration("mail.give_up_after", &raw.mail.give_up_after)?,
            poll_interval: duration("mail.poll_interval", &raw.mail.poll_interval)?,
        };
        if mail.poll_interval.is_zero() {
            return Err(invalid("mail.poll_interval", "must be greater than zero"));
        }
        let secret_key = match raw.secrets.key {
            Some(key) => {
                roster_mail::SecretKey::from_base64(key.expose_secret())
                    .map_err(|e| invalid("secrets.key", e))?;
                SecretKeySource::Inline(key)
            }
            None => SecretKeySource::File(raw.secrets.key_file),
        };
        let mfa = mfa(&raw.mfa)?;
        let mfa_secret_key = raw
            .mfa
            .secret_key
            .filter(|key| !key.expose_secret().trim().is_empty());
        if let Some(key) = &mfa_secret_key {
            roster_mail::SecretKey::from_base64(key.expose_secret())
                .map_err(|e| invalid("mfa.secret_key", e))?;
        }
        Ok(Settings {
            bind,
            shutdown_timeout: duration("server.shutdown_timeout", &raw.server.shutdown_timeout)?,
            metrics_bind,
            public_url,
            body_timeout,
            max_connections: raw.server.max_connections,
            max_connections_per_ip: raw.server.max_connections_per_ip,
            database,
            features_file: raw.features.file,
            features_poll_interval: duration(
                "features.poll_interval",
                &raw.features.poll_interval,
            )?,
            sessions,
            login_throttle,
            password_policy,
            argon2,
            strength,
            rate_limit,
            bootstrap,
            registration,
            grants,
            mail,
            password_reset_per_hour: at_least_one(
                "password_reset.max_per_hour",
                raw.password_reset.max_per_hour,
            )?
            .get(),
            secret_key,
            mfa,
            mfa_secret_key,
            audit: AuditSettings {
                retention: chrono_duration("audit.retention", &raw.audit.retention)?,
            },
            log_format,
            log_level: raw.log.level,
            run_migrations: true,
        })
    }
}

fn registration(raw: &RawRegistration) -> Result<RegistrationPolicy, SettingsError> {
    let allowed_domains = AllowedDomains::parse(raw.allowed_domains.entries())
        .map_err(|e| invalid("registration.allowed_domains", e))?;
    let email_verification =
        EmailVerification::parse(raw.email_verification.trim()).ok_or_else(|| {
            invalid(
                "registration.email_verification",
                format!(
                    "{:?} is not one of \"off\", \"required\"",
                    raw.email_verification
                ),
            )
        })?;
    Ok(RegistrationPolicy {
        allowed_domains,
        email_verification,
        enumeration_safe: raw.enumeration_safe,
    })
}

fn mfa(raw: &RawMfa) -> Result<MfaSettings, SettingsError> {
    let required_for_actions = raw
        .required_for_actions
        .entries()
        .into_iter()
        .map(|entry| {
            Action::parse(entry.trim()).map_err(|e| {
                invalid(
                    "mfa.required_for_actions",
                    format!("{entry:?}: {e} (example: [\"grant-manage\", \"role-manage\"])"),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(MfaSettings {
        policy: MfaPolicy {
            required_for_superadmins: raw.required_for_superadmins,
            required_for_actions,
        },
        step_up_window: chrono_duration("mfa.step_up_window", &raw.step_up_window)?,
    })
}

fn at_least_one(key: &'static str, value: u32) -> Result<NonZeroU32, SettingsError> {
    NonZeroU32::new(value).ok_or_else(|| invalid(key, "must be at least 1"))
}

fn chrono_duration(key: &'static str, value: &str) -> Result<chrono::Duration, SettingsError> {
    let std = duration(key, value)?;
    if std.is_zero() {
        return Err(invalid(key, "must be greater than zero"));
    }
    chrono::Duration::from_std(std).map_err(|e| invalid(key, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::unnecessary_wraps)] // shaped like `load_from`'s parameter
    fn env(pairs: &[(&str, &str)]) -> Option<HashMap<String, String>> {
        Some(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn defaults_match_the_contract() {
        let settings = Settings::load_from(None, env(&[])).unwrap();
        assert_eq!(settings.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(
            settings.database.backend,
            Backend::Sqlite("data/roster.db".into())
        );
        assert_eq!(
            settings.features_file,
            PathBuf::from("features/_features.conf")
        );
        assert_eq!(settings.sessions, SessionSettings::default());
        assert_eq!(settings.login_throttle, LoginThrottlePolicy::default());
        assert_eq!(settings.password_policy, PasswordPolicy::default());
        assert_eq!(
            (
                settings.argon2.memory_kib,
                settings.argon2.iterations,
                settings.argon2.parallelism
            ),
            (19456, 2, 1)
        );
        assert_eq!(settings.rate_limit, RateLimitSettings::default());
        assert_eq!(
            (
                settings.rate_limit.enabled,
                settings.rate_limit.per_minute.get(),
                settings.rate_limit.burst.get()
            ),
            (true, 30, 10)
        );
        assert!(settings.bootstrap.is_none());
        assert_eq!(settings.registration, RegistrationPolicy::default());
        assert!(settings.registration.allowed_domains.is_any());
        assert_eq!(settings.log_format, LogFormat::Compact);
        assert!(settings.mail.smtp_url.is_none());
        assert_eq!(settings.mail.from, "Roster <roster@localhost>");
        assert_eq!(settings.mail.outbox_dir, PathBuf::from("data/outbox"));
        assert_eq!(settings.mail.give_up_after, chrono::Duration::days(3));
        assert_eq!(settings.links_url(), "http://localhost:8080");
        assert!(matches!(
            &settings.secret_key,
            SecretKeySource::File(path) if path == Path::new("data/secret.key")
        ));
    }

    #[test]
    fn mail_and_secret_settings_are_checked_naming_their_key() {
        for (var, value, key) in [
            ("ROSTER__SECRETS__KEY", "too-short", "secrets.key"),
            ("ROSTER__MAIL__GIVE_UP_AFTER", "soon", "mail.give_up_after"),
            ("ROSTER__MAIL__POLL_INTERVAL", "0s", "mail.poll_interval"),
            (
                "ROSTER__PASSWORD_RESET__MAX_PER_HOUR",
                "0",
                "password_reset.max_per_hour",
            ),
        ] {
            let error = Settings::load_from(None, env(&[(var, value)])).unwrap_err();
            assert!(error.to_string().contains(key), "{var}: {error}");
        }
        let settings = Settings::load_from(
            None,
            env(&[
                ("ROSTER__SERVER__BIND", "127.0.0.1:9000"),
                (
                    "ROSTER__SECRETS__KEY",
                    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                ),
            ]),
        )
        .unwrap();
        assert_eq!(settings.links_url(), "http://localhost:9000");
        assert!(matches!(settings.secret_key, SecretKeySource::Inline(_)));
    }

    fn domains(settings: &Settings) -> Vec<String> {
        settings
            .registration
            .allowed_domains
            .rules()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn allowed_domains_are_a_comma_separated_list_in_the_environment() {
        let settings = Settings::load_from(
            None,
            env(&[(
                "ROSTER__REGISTRATION__ALLOWED_DOMAINS",
                " Example.org, *.example.com ,bücher.de,",
            )]),
        )
        .unwrap();
        assert_eq!(
            domains(&settings),
            ["example.org", "*.example.com", "xn--bcher-kva.de"]
        );
        let one = Settings::load_from(
            None,
            env(&[("ROSTER__REGISTRATION__ALLOWED_DOMAINS", "example.org")]),
        )
        .unwrap();
        assert_eq!(domains(&one), ["example.org"]);
        let empty =
            Settings::load_from(None, env(&[("ROSTER__REGISTRATION__ALLOWED_DOMAINS", "")]))
                .unwrap();
        assert!(empty.registration.allowed_domains.is_any());
    }

    #[test]
    fn registration_keys_are_read_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("roster.toml");
        std::fs::write(
            &file,
            "[registration]\nallowed_domains = [\"example.org\", \"*.example.org\"]\n\
             email_verification = \"required\"\nenumeration_safe = true\n",
        )
        .unwrap();
        let settings = Settings::load_from(Some(&file), env(&[])).unwrap();
        assert_eq!(domains(&settings), ["example.org", "*.example.org"]);
        assert_eq!(
            settings.registration.email_verification,
            EmailVerification::Required
        );
        assert!(settings.registration.enumeration_safe);
        // The environment still wins over the file.
        let settings = Settings::load_from(
            Some(&file),
            env(&[
                ("ROSTER__REGISTRATION__EMAIL_VERIFICATION", "off"),
                ("ROSTER__REGISTRATION__ENUMERATION_SAFE", "false"),
            ]),
        )
        .unwrap();
        assert_eq!(
            settings.registration,
            RegistrationPolicy {
                allowed_domains: AllowedDomains::parse(["example.org", "*.example.org"]).unwrap(),
                ..RegistrationPolicy::default()
            }
        );
    }

    #[test]
    fn bad_registration_values_name_their_key_and_entry() {
        for (key, value, named) in [
            (
                "ROSTER__REGISTRATION__ALLOWED_DOMAINS",
                "example.org,*",
                "`*`",
            ),
            ("ROSTER__REGISTRATION__ALLOWED_DOMAINS", "*.", "`*.`"),
            ("ROSTER__REGISTRATION__ALLOWED_DOMAINS", "a..b", "`a..b`"),
            (
                "ROSTER__REGISTRATION__ALLOWED_DOMAINS",
                "192.0.2.1",
                "`192.0.2.1`",
            ),
            (
                "ROSTER__REGISTRATION__EMAIL_VERIFICATION",
                "sometimes",
                "sometimes",
            ),
            (
                "ROSTER__REGISTRATION__ENUMERATION_SAFE",
                "maybe",
                "enumeration_safe",
            ),
        ] {
            let error = Settings::load_from(None, env(&[(key, value)]))
                .unwrap_err()
                .to_string();
            let setting = key
                .trim_start_matches("ROSTER__REGISTRATION__")
                .to_lowercase();
            assert!(error.contains(&setting), "{key}={value}: {error}");
            assert!(error.contains(named), "{key}={value}: {error}");
        }
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("roster.toml");
        std::fs::write(
            &file,
            "[registration]\nallowed_domains = [\"ok.example\", \"*\"]\n",
        )
        .unwrap();
        let error = Settings::load_from(Some(&file), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("setting `registration.allowed_domains` is invalid")
                && error.contains("`*`"),
            "{error}"
        );
    }

    #[test]
    fn an_argon2_queue_wait_too_short_for_any_hash_is_refused() {
        for wait in ["0s", "10ms"] {
            let error = Settings::load_from(None, env(&[("ROSTER__ARGON2__MAX_QUEUE_WAIT", wait)]))
                .unwrap_err();
            assert!(
                error.to_string().contains("argon2.max_queue_wait"),
                "{wait}: {error}"
            );
        }
        let settings =
            Settings::load_from(None, env(&[("ROSTER__ARGON2__MAX_QUEUE_WAIT", "50ms")])).unwrap();
        assert_eq!(settings.argon2.max_queue_wait, Duration::from_millis(50));
    }

    #[test]
    fn environment_overrides_defaults_with_double_underscores() {
        let settings = Settings::load_from(
            None,
            env(&[
                ("ROSTER__SERVER__BIND", "0.0.0.0:9000"),
                ("ROSTER__DATABASE__URL", "postgres://u@h/db"),
                ("ROSTER__RATE_LIMIT__ENABLED", "false"),
                ("ROSTER__SESSIONS__TTL", "2h"),
                ("ROSTER__PASSWORD__MIN_LENGTH", "20"),
                ("ROSTER__LOG__FORMAT", "json"),
            ]),
        )
        .unwrap();
        assert_eq!(settings.bind.port(), 9000);
        assert!(matches!(settings.database.backend, Backend::Postgres(_)));
        assert!(!settings.rate_limit.enabled);
        assert_eq!(settings.sessions.ttl, chrono::Duration::hours(2));
        assert_eq!(settings.password_policy.min_length(), 20);
        assert_eq!(settings.log_format, LogFormat::Json);
    }

    #[test]
    fn a_file_sits_between_defaults_and_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("roster.toml");
        std::fs::write(
            &file,
            "[server]\nbind = \"127.0.0.1:7000\"\n[sessions]\nttl = \"3h\"\n",
        )
        .unwrap();
        let settings =
            Settings::load_from(Some(&file), env(&[("ROSTER__SESSIONS__TTL", "4h")])).unwrap();
        assert_eq!(settings.bind.port(), 7000);
        assert_eq!(settings.sessions.ttl, chrono::Duration::hours(4));
    }

    #[test]
    fn bad_values_name_their_key() {
        let cases = [
            ("ROSTER__SERVER__BIND", "nowhere", "server.bind"),
            ("ROSTER__DATABASE__URL", "mysql://x", "database.url"),
            (
                "ROSTER__SESSIONS__IDLE_TIMEOUT",
                "soon",
                "sessions.idle_timeout",
            ),
            ("ROSTER__PASSWORD__MIN_LENGTH", "4", "password.min_length"),
            ("ROSTER__LOG__FORMAT", "xml", "log.format"),
            (
                "ROSTER__LOGIN_THROTTLE__MAX_DELAY",
                "1s",
                "login_throttle.max_delay",
            ),
            ("ROSTER__PASSWORD__MAX_LENGTH", "lots", "max_length"),
            (
                "ROSTER__PASSWORD__STRENGTH_WORKERS",
                "0",
                "password.strength_workers",
            ),
            (
                "ROSTER__PASSWORD__STRENGTH_QUEUE",
                "0",
                "password.strength_queue",
            ),
            ("ROSTER__SERVER__BINDD", "x", "bindd"),
        ];
        for (key, value, named) in cases {
            let error = Settings::load_from(None, env(&[(key, value)]))
                .unwrap_err()
                .to_string();
            assert!(error.contains(named), "{key}={value}: {error}");
        }
    }

    #[test]
    fn rate_limit_keys_are_read_and_must_be_at_least_one() {
        let settings = Settings::load_from(
            None,
            env(&[
                ("ROSTER__RATE_LIMIT__PER_MINUTE", "120"),
                ("ROSTER__RATE_LIMIT__BURST", "5"),
            ]),
        )
        .unwrap();
        assert_eq!(settings.rate_limit.per_minute.get(), 120);
        assert_eq!(settings.rate_limit.burst.get(), 5);
        for (key, named) in [
            ("ROSTER__RATE_LIMIT__PER_MINUTE", "rate_limit.per_minute"),
            ("ROSTER__RATE_LIMIT__BURST", "rate_limit.burst"),
        ] {
            let error = Settings::load_from(None, env(&[(key, "0")]))
                .unwrap_err()
                .to_string();
            assert!(
                error.contains(&format!("setting `{named}` is invalid")),
                "{key}=0: {error}"
            );
            let error = Settings::load_from(None, env(&[(key, "-1")]))
                .unwrap_err()
                .to_string();
            assert!(
                error.contains(named.trim_start_matches("rate_limit.")),
                "{key}=-1: {error}"
            );
        }
    }

    #[test]
    fn connection_and_metrics_listener_keys_are_read_and_checked() {
        let defaults = Settings::load_from(None, env(&[])).unwrap();
        assert_eq!(defaults.metrics_bind, None);
        assert_eq!(defaults.body_timeout, Duration::from_secs(10));
        assert_eq!(
            (defaults.max_connections, defaults.max_connections_per_ip),
            (10_000, 256)
        );
        let settings = Settings::load_from(
            None,
            env(&[
                ("ROSTER__SERVER__METRICS_BIND", "127.0.0.1:9090"),
                ("ROSTER__SERVER__BODY_TIMEOUT", "2s"),
                ("ROSTER__SERVER__MAX_CONNECTIONS", "50"),
                ("ROSTER__SERVER__MAX_CONNECTIONS_PER_IP", "0"),
            ]),
        )
        .unwrap();
        assert_eq!(settings.metrics_bind.unwrap().port(), 9090);
        assert_eq!(settings.body_timeout, Duration::from_secs(2));
        assert_eq!(
            (settings.max_connections, settings.max_connections_per_ip),
            (50, 0)
        );
        for (key, value, named) in [
            (
                "ROSTER__SERVER__METRICS_BIND",
                "nowhere",
                "server.metrics_bind",
            ),
            (
                "ROSTER__SERVER__METRICS_BIND",
                "127.0.0.1:8080",
                "server.metrics_bind",
            ),
            ("ROSTER__SERVER__BODY_TIMEOUT", "0s", "server.body_timeout"),
            (
                "ROSTER__SERVER__MAX_CONNECTIONS",
                "0",
                "server.max_connections",
            ),
        ] {
            let error = Settings::load_from(None, env(&[(key, value)]))
                .unwrap_err()
                .to_string();
            assert!(error.contains(named), "{key}={value}: {error}");
        }
    }

    #[test]
    fn bootstrap_needs_both_email_and_password() {
        let error = Settings::load_from(
            None,
            env(&[("ROSTER__BOOTSTRAP__SUPERADMIN_EMAIL", "a@b.c")]),
        )
        .unwrap_err();
        assert!(error.to_string().contains("bootstrap.superadmin_password"));
        let both = Settings::load_from(
            None,
            env(&[
                ("ROSTER__BOOTSTRAP__SUPERADMIN_EMAIL", "a@b.c"),
                ("ROSTER__BOOTSTRAP__SUPERADMIN_PASSWORD", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(both.bootstrap.unwrap().email, "a@b.c");
    }

    #[test]
    fn grants_per_holder_default_to_1000_and_must_be_at_least_one() {
        let settings = Settings::load_from(None, env(&[])).unwrap();
        assert_eq!(settings.grants, GrantLimits::default());
        assert_eq!(settings.grants.max_per_holder, 1000);
        let settings =
            Settings::load_from(None, env(&[("ROSTER__GRANTS__MAX_PER_HOLDER", "25")])).unwrap();
        assert_eq!(settings.grants.max_per_holder, 25);
        for value in ["0", "-1", "many"] {
            let error =
                Settings::load_from(None, env(&[("ROSTER__GRANTS__MAX_PER_HOLDER", value)]))
                    .unwrap_err()
                    .to_string();
            assert!(error.contains("max_per_holder"), "{value}: {error}");
        }
    }
}
