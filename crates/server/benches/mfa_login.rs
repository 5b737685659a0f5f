//! The server CPU of a login's second step (a TOTP code) against a password login's, through
//! the real adapters (SQLite, production argon2 for the password). Issue 16 asks the second
//! step to cost less than 1/20 of a password login: it does no hashing, only a digest lookup,
//! three HMACs and one write transaction.
//!
//! CPU time is the process's (`cpu_time::ProcessTime`: every thread, the argon2 pool's
//! too), so the figures are server CPU, not wall time.
//!
//! `cargo bench -p roster --bench mfa_login`

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cpu_time::ProcessTime;
use criterion::{Criterion, criterion_group, criterion_main};
use roster::{Components, Settings};
use roster_app::model::ClientInfo;
use roster_app::{LoginOutcome, RegistrationForm, Roster};
use secrecy::{ExposeSecret, SecretString};
use totp_rs::{Algorithm, Secret, TOTP};

const PASSWORD: &str = "correct horse battery staple orbit";
/// Accounts with TOTP; each code works once per 30-second step, so the measurement cycles
/// through them and waits for the next step (outside the measured time) when all are used.
const POOL: usize = 300;

fn components(dir: &Path, cheap_hashing: bool) -> Components {
    let mut env: HashMap<String, String> = [
        (
            "ROSTER__DATABASE__URL",
            format!("sqlite://{}", dir.join("roster.db").display()),
        ),
        (
            "ROSTER__FEATURES__FILE",
            dir.join("_features.conf").display().to_string(),
        ),
        (
            "ROSTER__MAIL__OUTBOX_DIR",
            dir.join("outbox").display().to_string(),
        ),
        (
            "ROSTER__SECRETS__KEY_FILE",
            dir.join("secret.key").display().to_string(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    if cheap_hashing {
        // Only for setting up the pool: the measured second step hashes nothing.
        env.insert("ROSTER__ARGON2__MEMORY_KIB".into(), "1024".into());
        env.insert("ROSTER__ARGON2__ITERATIONS".into(), "1".into());
    }
    let settings = Settings::load_from(None, Some(env)).expect("bench settings");
    Components::build(&settings).expect("components")
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn code_at(secret: &str, at: u64) -> String {
    let bytes = Secret::Encoded(secret.to_owned()).to_bytes().unwrap();
    TOTP::new_unchecked(Algorithm::SHA1, 6, 0, 30, bytes, None, String::new()).generate(at)
}

/// An account with a confirmed TOTP: its email, secret and the step of its last used code.
struct Enrolled {
    email: String,
    secret: String,
    last_step: u64,
}

async fn session(roster: &Roster, email: &str) -> roster_app::Authenticated {
    let LoginOutcome::Session(success) = roster
        .login(email, &SecretString::from(PASSWORD), &ClientInfo::default())
        .await
        .unwrap()
    else {
        panic!("no second factor yet");
    };
    roster
        .authenticate_bearer(success.token.expose_secret(), None)
        .await
        .unwrap()
}

async fn enrol(roster: &Roster, n: usize) -> Enrolled {
    let email = format!("totp-{n}@example.com");
    roster
        .create_superadmin(RegistrationForm::new(
            email.clone(),
            PASSWORD.to_owned().into(),
            None,
        ))
        .await
        .unwrap();
    let caller = session(roster, &email).await;
    let secret = roster.begin_totp(&caller).await.unwrap();
    let secret = secret.secret.expose_secret().to_owned();
    let now = now_secs();
    roster
        .confirm_totp(&caller, &code_at(&secret, now))
        .await
        .unwrap();
    Enrolled {
        email,
        secret,
        last_step: now / 30,
    }
}

fn logins(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let cheap = components(dir.path(), true).roster;
    let production = components(dir.path(), false).roster;
    let mut pool = runtime.block_on(async {
        production
            .create_superadmin(RegistrationForm::new(
                "password@example.com".into(),
                PASSWORD.to_owned().into(),
                None,
            ))
            .await
            .unwrap();
        let mut pool = Vec::with_capacity(POOL);
        for n in 0..POOL {
            pool.push(enrol(&cheap, n).await);
        }
        pool
    });
    let client = ClientInfo::default();
    let mut group = c.benchmark_group("login_cpu");
    group.sample_size(10);
    group.bench_function("password_production_argon2", |b| {
        b.iter_custom(|iters| {
            let started = ProcessTime::now();
            runtime.block_on(async {
                for _ in 0..iters {
                    let outcome = production
                        .login(
                            "password@example.com",
                            &SecretString::from(PASSWORD),
                            &client,
                        )
                        .await
                        .unwrap();
                    assert!(matches!(outcome, LoginOutcome::Session(_)));
                }
            });
            started.elapsed()
        });
    });
    let mut next = 0;
    group.bench_function("totp_second_step", |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            runtime.block_on(async {
                for _ in 0..iters {
                    // A fresh account whose code of this step is unused, and its password step
                    // (hashing: not measured).
                    let mut step = now_secs() / 30;
                    if pool.iter().all(|account| account.last_step >= step) {
                        let wait = 30 - now_secs() % 30 + 1;
                        tokio::time::sleep(Duration::from_secs(wait)).await;
                        step = now_secs() / 30;
                    }
                    while pool[next % POOL].last_step >= step {
                        next += 1;
                    }
                    let account = &mut pool[next % POOL];
                    next += 1;
                    let LoginOutcome::SecondFactor(pending) = cheap
                        .login(&account.email, &SecretString::from(PASSWORD), &client)
                        .await
                        .unwrap()
                    else {
                        panic!("the account has a second factor");
                    };
                    let code = code_at(&account.secret, step * 30);
                    let started = ProcessTime::now();
                    cheap
                        .login_second_factor(pending.token.expose_secret(), &code, &client)
                        .await
                        .unwrap();
                    spent += started.elapsed();
                    account.last_step = step;
                }
            });
            spent
        });
    });
    group.finish();
}

criterion_group!(benches, logins);
criterion_main!(benches);
