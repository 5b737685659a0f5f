//! The public email forms for a known and for an unknown email, through the real adapters
//! (tokens, templates, sealing, SQLite): password reset, the verification resend and the
//! enumeration-safe registration. The two answers of each must cost about the same, so
//! response time does not tell whether an account exists: every path does the same expensive
//! work and one write transaction (the per-address counter, plus the token and the message
//! for a known address).
//!
//! `cargo bench -p roster --bench password_reset`

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{Criterion, criterion_group, criterion_main};
use roster::{Components, Settings};
use roster_app::RegistrationForm;

fn components(dir: &std::path::Path, enumeration_safe: bool) -> Components {
    let env: HashMap<String, String> = [
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
        // Every iteration of the known path writes; no cap in the way.
        (
            "ROSTER__PASSWORD_RESET__MAX_PER_HOUR",
            "1000000000".to_owned(),
        ),
        (
            "ROSTER__REGISTRATION__ENUMERATION_SAFE",
            enumeration_safe.to_string(),
        ),
        ("ROSTER__ARGON2__MEMORY_KIB", "1024".to_owned()),
        ("ROSTER__ARGON2__ITERATIONS", "1".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let settings = Settings::load_from(None, Some(env)).expect("bench settings");
    Components::build(&settings).expect("components")
}

fn reset_requests(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let roster = runtime.block_on(async {
        let components = components(dir.path(), false);
        components
            .roster
            .create_superadmin(RegistrationForm::new(
                "known@example.com".into(),
                "correct horse battery staple orbit".to_owned().into(),
                None,
            ))
            .await
            .expect("account");
        components.roster
    });
    let mut group = c.benchmark_group("password_reset_request");
    group.bench_function("known_email", |b| {
        b.to_async(&runtime).iter(|| async {
            roster
                .request_password_reset("known@example.com", None)
                .await
                .unwrap();
        });
    });
    group.bench_function("unknown_email", |b| {
        b.to_async(&runtime).iter(|| async {
            roster
                .request_password_reset("unknown@example.com", None)
                .await
                .unwrap();
        });
    });
    group.finish();
}

const PASSWORD: &str = "correct horse battery staple orbit";

fn verification_and_registration(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let roster = runtime.block_on(async {
        let components = components(dir.path(), true);
        // Taken, not verified yet: the resend's known path sends a link.
        components
            .roster
            .register_self(
                RegistrationForm::new("known@example.com".into(), PASSWORD.to_owned().into(), None),
                None,
            )
            .await
            .expect("account");
        components.roster
    });
    let mut group = c.benchmark_group("verification_resend");
    group.bench_function("known_email", |b| {
        b.to_async(&runtime).iter(|| async {
            roster
                .resend_verification("known@example.com", None)
                .await
                .unwrap();
        });
    });
    group.bench_function("unknown_email", |b| {
        b.to_async(&runtime).iter(|| async {
            roster
                .resend_verification("unknown@example.com", None)
                .await
                .unwrap();
        });
    });
    group.finish();

    // A taken email (the owner is told by email) against a new one each time (an account,
    // its token and its link); both hash the password (cheap argon2 here, as configured).
    let fresh = AtomicU64::new(0);
    let mut group = c.benchmark_group("enumeration_safe_register");
    group.bench_function("taken_email", |b| {
        b.to_async(&runtime).iter(|| async {
            let form =
                RegistrationForm::new("known@example.com".into(), PASSWORD.to_owned().into(), None);
            roster.register_self(form, None).await.unwrap();
        });
    });
    group.bench_function("new_email", |b| {
        b.to_async(&runtime).iter(|| async {
            let n = fresh.fetch_add(1, Ordering::Relaxed);
            let form = RegistrationForm::new(
                format!("new{n}@example.com"),
                PASSWORD.to_owned().into(),
                None,
            );
            roster.register_self(form, None).await.unwrap();
        });
    });
    group.finish();
}

criterion_group!(benches, reset_requests, verification_and_registration);
criterion_main!(benches);
