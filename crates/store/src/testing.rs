//! Test support for this and other crates: a fresh, uniquely named PostgreSQL database per
//! test, dropped afterwards. Enabled with the `testing` feature.

use std::io::Write;
use std::sync::Once;

use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;

/// The environment variable naming the PostgreSQL server tests may use.
pub const POSTGRES_URL_VAR: &str = "ROSTER_TEST_POSTGRES_URL";

/// A throwaway database; dropped (with its connections) when this value is dropped.
#[derive(Debug)]
pub struct TestDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl TestDatabase {
    /// The URL of the fresh database.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Ok(mut conn) = PgConnection::establish(&self.admin_url) {
            let _ = conn.batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// Creates a fresh database on the server named by `ROSTER_TEST_POSTGRES_URL`, or returns
/// `None` (and says once, on the real stderr so `cargo test` shows it, that PostgreSQL tests
/// are skipped) when the variable is unset.
///
/// # Panics
/// When the variable is set but the server cannot be used: a misconfigured CI must fail, not
/// silently skip.
pub fn fresh_postgres_database() -> Option<TestDatabase> {
    static SKIP_NOTICE: Once = Once::new();
    let Ok(admin_url) = std::env::var(POSTGRES_URL_VAR) else {
        SKIP_NOTICE.call_once(|| {
            // Bypass the test harness's output capture: this must be seen.
            let _ = writeln!(
                std::io::stderr(),
                "note: {POSTGRES_URL_VAR} is not set: PostgreSQL variants of the tests are SKIPPED (they pass trivially)"
            );
        });
        return None;
    };
    let name = format!("roster_test_{}", uuid::Uuid::now_v7().simple());
    let mut conn = PgConnection::establish(&admin_url)
        .unwrap_or_else(|e| panic!("{POSTGRES_URL_VAR} is set but unusable: {e}"));
    conn.batch_execute(&format!("CREATE DATABASE \"{name}\""))
        .unwrap_or_else(|e| panic!("cannot create test database: {e}"));
    let url = replace_database_name(&admin_url, &name);
    Some(TestDatabase {
        admin_url,
        name,
        url,
    })
}

/// Swaps the path component of a `postgres://` URL for `name`, keeping any query string.
fn replace_database_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let mut out = format!("{}/{name}", &base[..path_start]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::replace_database_name;

    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            replace_database_name("postgres://u@h:5432/test", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            replace_database_name("postgres://u@h", "x"),
            "postgres://u@h/x"
        );
        assert_eq!(
            replace_database_name("postgres://u@h/test?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
    }
}
