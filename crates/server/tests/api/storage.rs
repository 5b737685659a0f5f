//! What the database holds after a registration, a login and an API key's creation: an
//! argon2id PHC string, never the password; a digest, never a session token or an API key,
//! nor their random part without the prefix. Read directly with diesel, and for SQLite also
//! byte by byte from the database file and its write-ahead log.

use std::path::{Path, PathBuf};

use diesel::sql_types::{BigInt, Text};
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl, SqliteConnection};
use serde_json::Value;

use crate::helpers::{Db, TestApp, spawn_app, unique_email};
use crate::on_both_databases;

on_both_databases!(only_an_argon2id_hash_and_digests_are_stored);

#[derive(QueryableByName)]
struct HashRow {
    #[diesel(sql_type = Text)]
    password_hash: String,
}

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn sqlite_path(app: &TestApp) -> PathBuf {
    PathBuf::from(
        app.database_url
            .strip_prefix("sqlite://")
            .expect("a sqlite:// URL"),
    )
}

/// The stored hash, read on our own connection to the test's database.
fn stored_hash(db: Db, app: &TestApp, email: &str) -> String {
    let rows: Vec<HashRow> = match db {
        Db::Sqlite => {
            let mut conn =
                SqliteConnection::establish(&sqlite_path(app).to_string_lossy()).unwrap();
            diesel::sql_query("SELECT password_hash FROM accounts WHERE email = ?")
                .bind::<Text, _>(email)
                .load(&mut conn)
                .unwrap()
        }
        Db::Postgres => {
            let mut conn = PgConnection::establish(&app.database_url).unwrap();
            diesel::sql_query("SELECT password_hash FROM accounts WHERE email = $1")
                .bind::<Text, _>(email)
                .load(&mut conn)
                .unwrap()
        }
    };
    assert_eq!(rows.len(), 1, "one row for {email}");
    rows.into_iter().next().unwrap().password_hash
}

/// PostgreSQL: how many rows of `table` contain `needle` anywhere in their text form.
fn postgres_rows_containing(app: &TestApp, table: &str, needle: &str) -> i64 {
    let mut conn = PgConnection::establish(&app.database_url).unwrap();
    let query = format!("SELECT COUNT(*) AS n FROM {table} t WHERE strpos(t::text, $1) > 0");
    let rows: Vec<CountRow> = diesel::sql_query(query)
        .bind::<Text, _>(needle)
        .load(&mut conn)
        .unwrap();
    rows[0].n
}

/// The bytes of the SQLite database file followed by those of its `-wal` file (which holds
/// recent commits until a checkpoint; absent after one).
fn sqlite_bytes(path: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(path).expect("database file");
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    match std::fs::read(&wal) {
        Ok(wal) => bytes.extend_from_slice(&wal),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => panic!("cannot read the -wal file: {error}"),
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

/// The secrets a scan must not find: each whole, and its random part alone (a store keeping
/// the secret without its prefix would otherwise pass).
fn secrets(password: &str, token: &str, api_key: &str) -> Vec<(&'static str, String)> {
    let token_random = token.strip_prefix("rst_").expect("a session token");
    // `rak_<id>_<secret>`: the secret is everything after the second `_` (base64url may
    // itself contain `_`).
    let key_secret = api_key.splitn(3, '_').nth(2).expect("an API key");
    assert!(token_random.len() >= 40 && key_secret.len() >= 40);
    vec![
        ("the password", password.to_owned()),
        ("the session token", token.to_owned()),
        ("the session token's random part", token_random.to_owned()),
        ("the API key", api_key.to_owned()),
        ("the API key's secret", key_secret.to_owned()),
    ]
}

async fn only_an_argon2id_hash_and_digests_are_stored(db: Db) {
    let Some(app) = spawn_app(db).await else {
        return;
    };
    let email = unique_email("stored");
    let password = format!(
        "osprey-Zq7{}-heron",
        &uuid::Uuid::now_v7().simple().to_string()[16..]
    );
    assert_eq!(app.register(&email, &password).await.status(), 201);
    let login = app.login(&email, &password).await;
    assert_eq!(login.status(), 200);
    let token = login.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let root = app.superadmin_token().await;
    let key_name = format!(
        "stored-{}",
        &uuid::Uuid::now_v7().simple().to_string()[20..]
    );
    let created = app
        .post_json(
            "/v1/admin/api-keys",
            &serde_json::json!({"name": key_name}),
            Some(&root),
        )
        .await;
    assert_eq!(created.status(), 201);
    let api_key = created.json::<Value>().await.unwrap()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let secrets = secrets(&password, &token, &api_key);

    if db == Db::Sqlite {
        let bytes = sqlite_bytes(&sqlite_path(&app));
        for visible in [&email, &key_name] {
            assert!(
                contains(&bytes, visible),
                "{visible} is not in the file nor its WAL: the scan would prove nothing"
            );
        }
        for (what, secret) in &secrets {
            assert!(
                !contains(&bytes, secret),
                "{what} is in the SQLite database file or its WAL"
            );
        }
    }

    let hash = stored_hash(db, &app, &email);
    assert!(
        hash.starts_with("$argon2id$v=19$"),
        "not an argon2id PHC string: {hash}"
    );
    assert!(!hash.contains(&password), "{hash}");

    if db == Db::Postgres {
        for table in ["accounts", "sessions", "api_keys", "audit_events"] {
            for (what, secret) in &secrets {
                assert_eq!(
                    postgres_rows_containing(&app, table, secret),
                    0,
                    "{what} in {table}"
                );
            }
        }
        assert_eq!(
            postgres_rows_containing(&app, "accounts", &email),
            1,
            "the row scan finds the account"
        );
        assert_eq!(
            postgres_rows_containing(&app, "api_keys", &key_name),
            1,
            "the row scan finds the key"
        );
    } else {
        // Reading on our own connection must not have changed the picture.
        let bytes = sqlite_bytes(&sqlite_path(&app));
        for (what, secret) in &secrets {
            assert!(
                !contains(&bytes, secret),
                "{what} is in the SQLite database file or its WAL"
            );
        }
    }
}
