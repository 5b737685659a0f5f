//! Which database a `database.url` names, and the URL libpq is finally given: the operator's,
//! plus a connect timeout, plus `sslmode=disable` on loopback only.
//!
//! Its own module because these are string rules with security weight (when TLS may be
//! switched off) that deserve to be read, and table-tested, without the pool around them.

use std::path::PathBuf;
use std::time::Duration;

/// Which database a URL selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// A file path (its folder is created on first run).
    Sqlite(PathBuf),
    /// A libpq connection URL.
    Postgres(String),
}

/// A database URL that names no supported backend.
#[derive(Debug, thiserror::Error)]
#[error("database.url must start with sqlite:// or postgres:// (got scheme {scheme:?})")]
pub struct DatabaseUrlError {
    scheme: String,
}

impl Backend {
    /// `sqlite://data/roster.db` (relative), `sqlite:///var/lib/roster.db` (absolute),
    /// `postgres://...` or `postgresql://...`.
    ///
    /// # Errors
    /// Any other scheme.
    pub fn from_url(url: &str) -> Result<Backend, DatabaseUrlError> {
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            Ok(Backend::Sqlite(PathBuf::from(path)))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres(url.to_owned()))
        } else {
            let scheme = url.split(':').next().unwrap_or_default().to_owned();
            Err(DatabaseUrlError { scheme })
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }
}

/// The URL libpq is given: the operator's, plus the TCP timeouts below, plus
/// `sslmode=disable` when the one server named is on this host (a loopback address) and
/// the operator said nothing about TLS.
///
/// The timeouts, each added unless the URL sets it:
/// - `connect_timeout` (whole seconds, at least 2), so a server that accepts TCP but never
///   answers cannot hang start-up or a request;
/// - `tcp_user_timeout` (`call_deadline` in milliseconds, when there is one): when the
///   network drops packets, the kernel gives up on a sent query after that long instead of
///   retransmitting for many minutes;
/// - keepalive probes after 10 s idle, every 5 s, so an idle pooled connection across a
///   partition is found dead too.
///
/// On TLS: libpq's default there, `prefer`, encrypts without
/// verifying the server, which on loopback protects nothing (the traffic never leaves the
/// kernel) and cost about 10 µs of CPU per query in `just bench`.
///
/// "Said nothing": no `ssl...` parameter in the URL (`sslmode`, `sslrootcert`, ...), no
/// `host=` or `hostaddr=` parameter (they override the URL's host), and none of
/// `PGSSLMODE`, `PGHOSTADDR` in the environment. Several hosts (`host1,host2`) count as
/// not loopback.
pub(super) fn libpq_url(
    url: &str,
    connect_timeout: Duration,
    call_deadline: Option<Duration>,
) -> String {
    let defaults = [
        (
            "connect_timeout",
            Some(connect_timeout.as_secs().max(2).to_string()),
        ),
        (
            "tcp_user_timeout",
            call_deadline.map(|deadline| deadline.as_millis().to_string()),
        ),
        ("keepalives_idle", Some("10".to_owned())),
        ("keepalives_interval", Some("5".to_owned())),
        ("keepalives_count", Some("3".to_owned())),
    ];
    let mut parameters: Vec<String> = defaults
        .into_iter()
        .filter_map(|(name, value)| Some((name, value?)))
        .filter(|(name, _)| !url.contains(&format!("{name}=")))
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    if !tls_or_address_chosen(url) && url_host(url).is_some_and(is_loopback) {
        parameters.push("sslmode=disable".to_owned());
    }
    if parameters.is_empty() {
        return url.to_owned();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{}", parameters.join("&"))
}

/// Whether the URL's parameters or libpq's environment choose TLS settings or the address.
fn tls_or_address_chosen(url: &str) -> bool {
    let parameters = url.split_once('?').map_or("", |(_, query)| query);
    let in_url = parameters.split('&').any(|parameter| {
        let name = parameter.split('=').next().unwrap_or_default();
        name.starts_with("ssl") || name == "host" || name == "hostaddr"
    });
    in_url
        || ["PGSSLMODE", "PGHOSTADDR"]
            .iter()
            .any(|v| std::env::var_os(v).is_some())
}

/// The host of a `postgres://user:password@host:port/db?...` URL (brackets kept off IPv6);
/// `None` when it names none or several.
fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    if host_port.contains(',') {
        return None;
    }
    if let Some(v6) = host_port.strip_prefix('[') {
        return v6.split_once(']').map(|(host, _)| host);
    }
    host_port.split(':').next().filter(|host| !host.is_empty())
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_select_the_backend() {
        assert_eq!(
            Backend::from_url("sqlite://data/roster.db").unwrap(),
            Backend::Sqlite("data/roster.db".into())
        );
        assert_eq!(
            Backend::from_url("sqlite:///var/lib/r.db").unwrap(),
            Backend::Sqlite("/var/lib/r.db".into())
        );
        assert!(matches!(
            Backend::from_url("postgres://u@h/db").unwrap(),
            Backend::Postgres(_)
        ));
        assert!(matches!(
            Backend::from_url("postgresql://u@h/db").unwrap(),
            Backend::Postgres(_)
        ));
        let error = Backend::from_url("mysql://x").unwrap_err().to_string();
        assert!(error.contains("mysql"), "{error}");
    }

    #[test]
    fn libpq_gets_the_timeouts_and_no_tls_on_loopback_only() {
        const TCP: &str =
            "tcp_user_timeout=6000&keepalives_idle=10&keepalives_interval=5&keepalives_count=3";
        let cases = [
            (
                "postgres://u:p@127.0.0.1:5432/db",
                "postgres://u:p@127.0.0.1:5432/db?connect_timeout=5&TCP&sslmode=disable",
            ),
            (
                "postgres://localhost/db?application_name=r",
                "postgres://localhost/db?application_name=r&connect_timeout=5&TCP&sslmode=disable",
            ),
            (
                "postgresql://u@[::1]:5432/db",
                "postgresql://u@[::1]:5432/db?connect_timeout=5&TCP&sslmode=disable",
            ),
            // Another host, or a mode chosen by the operator: as given.
            (
                "postgres://u:p@db.internal:5432/db",
                "postgres://u:p@db.internal:5432/db?connect_timeout=5&TCP",
            ),
            (
                "postgres://u:p@10.0.0.7/db",
                "postgres://u:p@10.0.0.7/db?connect_timeout=5&TCP",
            ),
            (
                "postgres://127.0.0.1/db?sslmode=require&connect_timeout=1",
                "postgres://127.0.0.1/db?sslmode=require&connect_timeout=1&TCP",
            ),
            (
                "postgres://localhost/db?sslrootcert=/ca.pem&connect_timeout=1",
                "postgres://localhost/db?sslrootcert=/ca.pem&connect_timeout=1&TCP",
            ),
            // TCP timeouts chosen by the operator are kept; only the missing ones are added.
            (
                "postgres://db.internal/db?tcp_user_timeout=0&keepalives_idle=60",
                "postgres://db.internal/db?tcp_user_timeout=0&keepalives_idle=60\
                 &connect_timeout=5&keepalives_interval=5&keepalives_count=3",
            ),
            // The URL's host is not where libpq connects, or not the only one.
            (
                "postgres://localhost/db?hostaddr=10.0.0.5&connect_timeout=1",
                "postgres://localhost/db?hostaddr=10.0.0.5&connect_timeout=1&TCP",
            ),
            (
                "postgres:///db?host=/run/postgresql&connect_timeout=1",
                "postgres:///db?host=/run/postgresql&connect_timeout=1&TCP",
            ),
            (
                "postgres://localhost:5432,db2.example.com:5432/db?connect_timeout=1",
                "postgres://localhost:5432,db2.example.com:5432/db?connect_timeout=1&TCP",
            ),
            (
                "postgres://u:p@ss@localhost/db?connect_timeout=1",
                "postgres://u:p@ss@localhost/db?connect_timeout=1&TCP&sslmode=disable",
            ),
        ];
        // PGSSLMODE or PGHOSTADDR in the environment: nothing is ever added.
        let environment_chooses = ["PGSSLMODE", "PGHOSTADDR"]
            .iter()
            .any(|v| std::env::var_os(v).is_some());
        for (given, expected) in cases {
            let expected = if environment_chooses {
                expected
                    .replace("&sslmode=disable", "")
                    .replace("?sslmode=disable", "")
            } else {
                expected.to_owned()
            };
            let expected = expected.replace("TCP", TCP);
            let libpq = libpq_url(given, Duration::from_secs(5), Some(Duration::from_secs(6)));
            assert_eq!(libpq, expected, "{given}");
        }
    }

    #[test]
    fn without_a_call_deadline_the_kernel_keeps_its_own_retransmission_timeout() {
        let libpq = libpq_url("postgres://db.internal/db", Duration::from_secs(5), None);
        assert_eq!(
            libpq,
            "postgres://db.internal/db?connect_timeout=5\
             &keepalives_idle=10&keepalives_interval=5&keepalives_count=3"
        );
    }
}
