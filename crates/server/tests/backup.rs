//! `roster backup` on the real executable: a copy taken while accounts are being registered
//! passes SQLite's integrity check, and a service started on it holds, and logs in, every
//! account acknowledged before the backup began. An existing file is replaced only with
//! `--force`; a PostgreSQL database is pointed at pg_dump.

mod process;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use diesel::sql_types::Text;
use diesel::{Connection, QueryableByName, RunQueryDsl, SqliteConnection};
use process::{PASSWORD, Workdir, unique_email};
use serde_json::json;

/// How long a backup of a small database may take.
const BACKUP_TIMEOUT: Duration = Duration::from_mins(1);

#[derive(QueryableByName)]
struct Check {
    #[diesel(sql_type = Text)]
    integrity_check: String,
}

/// Registers accounts until `stop`, recording the acknowledged ones.
fn register_until(port: u16, stop: &AtomicBool, acknowledged: &Mutex<Vec<String>>) {
    while !stop.load(Ordering::SeqCst) {
        let email = unique_email("during");
        let body = json!({"email": email, "password": PASSWORD});
        let reply = process::http(port, "POST", "/v1/account/register", Some(&body), None)
            .expect("the server answers");
        assert_eq!(reply.status, 201, "{}", reply.body);
        acknowledged.lock().unwrap().push(email);
    }
}

/// Registrations from another thread while a copy is taken: ten first, then a stream.
struct Writes {
    acknowledged: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    writer: thread::JoinHandle<()>,
}

impl Writes {
    /// Ten registrations, then a writer that keeps registering; returns once it has got going,
    /// so that a copy taken next is taken in the middle of its writes.
    fn start(server: &process::Server) -> Writes {
        let acknowledged = Arc::new(Mutex::new(Vec::new()));
        for _ in 0..10 {
            let email = unique_email("before");
            assert_eq!(server.register(&email).status, 201);
            acknowledged.lock().unwrap().push(email);
        }
        let stop = Arc::new(AtomicBool::new(false));
        let writer = {
            let (stop, acknowledged, port) =
                (Arc::clone(&stop), Arc::clone(&acknowledged), server.port);
            thread::spawn(move || register_until(port, &stop, &acknowledged))
        };
        while acknowledged.lock().unwrap().len() < 20 {
            thread::sleep(Duration::from_millis(10));
        }
        Writes {
            acknowledged,
            stop,
            writer,
        }
    }

    /// The accounts acknowledged so far.
    fn acknowledged(&self) -> Vec<String> {
        self.acknowledged.lock().unwrap().clone()
    }

    /// Stops the writer, checking that it went on after `snapshot` was taken (the copy was
    /// made during writes).
    fn stop_after(self, snapshot: &[String]) {
        self.stop.store(true, Ordering::SeqCst);
        self.writer.join().expect("the writer never failed");
        assert!(
            self.acknowledged.lock().unwrap().len() > snapshot.len(),
            "no write was acknowledged while the copy was taken"
        );
    }
}

#[test]
fn a_backup_during_writes_restores_every_account_acknowledged_before_it() {
    let workdir = Workdir::with_shipped_features();
    let env = [("ROSTER__RATE_LIMIT__ENABLED", "false")];
    let server = workdir.serve(&env, true);
    let writes = Writes::start(&server);

    let copy = workdir.root.path().join("output/roster-backup.db");
    let copy_arg = copy.to_str().unwrap();
    let before_backup = writes.acknowledged();
    let backup = workdir.run(
        workdir.roster(&["backup", "--to", copy_arg], true),
        None,
        BACKUP_TIMEOUT,
    );
    writes.stop_after(&before_backup);
    assert!(backup.status.success(), "{backup}");
    assert!(
        backup.stdout.contains(copy_arg) && backup.stdout.contains("integrity ok"),
        "{backup}"
    );

    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&copy).unwrap().permissions());
    assert_eq!(
        mode & 0o777,
        0o600,
        "the copy is readable by its owner alone"
    );

    let again = workdir.run(
        workdir.roster(&["backup", "--to", copy_arg], true),
        None,
        BACKUP_TIMEOUT,
    );
    assert!(
        !again.status.success(),
        "an existing file was replaced: {again}"
    );
    assert!(again.stderr.contains("--force"), "{again}");
    let forced = workdir.run(
        workdir.roster(&["backup", "--to", copy_arg, "--force"], true),
        None,
        BACKUP_TIMEOUT,
    );
    assert!(forced.status.success(), "{forced}");
    drop(server);

    let restored = Workdir::with_shipped_features();
    std::fs::create_dir_all(restored.path().join("data")).unwrap();
    let database = restored.path().join("data/roster.db");
    std::fs::copy(&copy, &database).unwrap();
    let mut conn = SqliteConnection::establish(database.to_str().unwrap()).unwrap();
    let verdict: Vec<Check> = diesel::sql_query("PRAGMA integrity_check")
        .load(&mut conn)
        .unwrap();
    assert_eq!(verdict.len(), 1);
    assert_eq!(verdict[0].integrity_check, "ok");
    drop(conn);

    let server = restored.serve(&env, true);
    for email in &before_backup {
        let login = server.login(email, PASSWORD);
        assert_eq!(
            login.status, 200,
            "{email} lost by the backup: {}",
            login.body
        );
    }
}

#[test]
fn backup_refuses_where_there_is_nothing_to_copy() {
    let workdir = Workdir::with_shipped_features();
    let target = workdir.root.path().join("output/nothing.db");
    let finished = workdir.run(
        workdir.roster(&["backup", "--to", target.to_str().unwrap()], true),
        None,
        BACKUP_TIMEOUT,
    );
    assert!(!finished.status.success(), "{finished}");
    assert!(finished.stderr.contains("no database at"), "{finished}");
    assert!(
        !workdir.path().join("data/roster.db").exists(),
        "a database was created"
    );
    assert!(!target.exists());
}

#[test]
fn backup_points_postgresql_at_pg_dump() {
    let Some(database) = roster_store::testing::fresh_postgres_database() else {
        return;
    };
    let workdir = Workdir::with_shipped_features();
    let target = workdir.root.path().join("output/pg.db");
    let mut command = workdir.roster(&["backup", "--to", target.to_str().unwrap()], true);
    command.env("ROSTER__DATABASE__URL", database.url());
    let finished = workdir.run(command, None, BACKUP_TIMEOUT);
    assert!(!finished.status.success(), "{finished}");
    assert!(finished.stderr.contains("pg_dump"), "{finished}");
    assert!(!target.exists());
}

/// The PostgreSQL procedure of docs/operations.md: `pg_dump --format=custom` while the service
/// serves writes, `pg_restore --no-owner` into an empty database, a service started on it
/// (ready: its schema is current) logs in every account acknowledged before the dump began.
#[test]
fn the_documented_pg_dump_and_pg_restore_procedure_restores_every_account() {
    let (Some(source), Some(target)) = (
        roster_store::testing::fresh_postgres_database(),
        roster_store::testing::fresh_postgres_database(),
    ) else {
        return;
    };
    if std::process::Command::new("pg_dump")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("note: pg_dump is not installed: the PostgreSQL backup test is SKIPPED");
        return;
    }
    let workdir = Workdir::with_shipped_features();
    let env = [
        ("ROSTER__RATE_LIMIT__ENABLED", "false"),
        ("ROSTER__DATABASE__URL", source.url()),
    ];
    let server = workdir.serve(&env, true);
    let writes = Writes::start(&server);
    let dump = workdir.root.path().join("output/roster.dump");
    let before_dump = writes.acknowledged();
    let mut pg_dump = std::process::Command::new("pg_dump");
    pg_dump
        .args(["--format=custom", "--file"])
        .arg(&dump)
        .arg(source.url());
    let dumped = workdir.run(pg_dump, None, BACKUP_TIMEOUT);
    writes.stop_after(&before_dump);
    assert!(dumped.status.success(), "{dumped}");
    drop(server);

    let mut pg_restore = std::process::Command::new("pg_restore");
    pg_restore
        .args(["--no-owner", "--dbname", target.url()])
        .arg(&dump);
    let restored = workdir.run(pg_restore, None, BACKUP_TIMEOUT);
    assert!(restored.status.success(), "{restored}");

    let fresh = Workdir::with_shipped_features();
    let env = [
        ("ROSTER__RATE_LIMIT__ENABLED", "false"),
        ("ROSTER__DATABASE__URL", target.url()),
    ];
    let server = fresh.serve(&env, true);
    let ready = server.get("/readyz").unwrap();
    assert_eq!(ready.status, 200, "{}", ready.body);
    for email in &before_dump {
        let login = server.login(email, PASSWORD);
        assert_eq!(
            login.status, 200,
            "{email} lost by the dump: {}",
            login.body
        );
    }
}
