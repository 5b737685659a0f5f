//! The composition root: chooses adapters from settings, wires them into the use cases and
//! the HTTP server. Only wiring lives here; what runs beside the server is in
//! [`crate::jobs`] and how it stops is in [`crate::shutdown`].

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::web::Data;
use actix_web::{App, HttpServer};
use roster_app::ports::SystemClock;
use roster_app::{
    AppError, BootstrapOutcome, Feature, FeatureManager, MailRetryPolicy, MailSenderSettings,
    PasswordResetSettings, RegistrationForm, Roster, RosterPorts, RosterSettings,
};
use roster_console::ConsoleSettings;
use roster_crypto::{Argon2Hasher, PasskeyRelyingParty, RandomTokens, SealedTotp, StrengthPool};
use roster_flags::{FileFeatureManager, WatchHandle};
use roster_http::ClientRateLimiter;
use roster_http::{BodyTimeout, ConnectionLimiter, MetricsListener};
use roster_http::{InFlight, Metrics, MetricsProbe};
use roster_mail::{MailAdapter, MailSettings};
use roster_store::Store;

use crate::jobs::{MailJob, MailWakeup, PeriodicJobs, audit_feature_reloads, node_name};
use crate::secret_key::{SecretKeyError, load_secret_key};
use crate::settings::{BootstrapSettings, SecretKeySource, Settings};
use crate::shutdown::drain_on_signal;

/// Why the service could not start. Each message is meant for the operator as is.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Features(#[from] roster_flags::LoadError),
    #[error(transparent)]
    Database(#[from] roster_store::StartupError),
    #[error("argon2 settings: {0}")]
    Hasher(#[from] roster_crypto::HasherConfigError),
    #[error("password strength settings: {0}")]
    Strength(#[from] roster_crypto::StrengthConfigError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("bootstrap super admin: {0}")]
    Bootstrap(String),
    #[error(transparent)]
    SecretKey(#[from] SecretKeyError),
    #[error(transparent)]
    Mail(#[from] roster_mail::MailSetupError),
    #[error("passkeys: {0}")]
    Passkeys(String),
    #[error("start-up check: {0}")]
    Check(String),
}

/// Everything the service is built from: the store, the feature manager and the use cases.
/// The CLI uses this without the HTTP server.
pub struct Components {
    pub store: Store,
    pub features: Arc<FileFeatureManager>,
    pub hasher: Arc<Argon2Hasher>,
    pub mailer: Arc<MailAdapter>,
    /// Rung when a request queues mail, so this node's sender goes at once.
    pub mail_wakeup: Arc<MailWakeup>,
    pub roster: Roster,
}

impl Components {
    /// Loads the features file, connects (and unless disabled migrates) the database, and
    /// starts the hashing workers.
    ///
    /// # Errors
    /// A broken features file, an unreachable database, a failed migration, bad argon2 settings.
    pub fn build(settings: &Settings) -> Result<Components, StartupError> {
        let clock = Arc::new(SystemClock);
        let features = FileFeatureManager::load(&settings.features_file, clock.clone())?;
        let store = Store::connect(&settings.database)?;
        if settings.run_migrations {
            let applied = store.run_migrations()?;
            if !applied.is_empty() {
                tracing::info!(
                    ?applied,
                    backend = store.backend_name(),
                    "migrations applied"
                );
            }
        }
        let hasher = Arc::new(Argon2Hasher::start(settings.argon2)?);
        let key = load_secret_key(&settings.secret_key)?;
        // TOTP secrets are sealed under `mfa.secret_key` when set, else the service's key.
        let totp_key = match &settings.mfa_secret_key {
            Some(inline) => load_secret_key(&SecretKeySource::Inline(inline.clone()))?,
            None => key.clone(),
        };
        let mailer = Arc::new(MailAdapter::new(
            &MailSettings {
                from: settings.mail.from.clone(),
                smtp_url: settings.mail.smtp_url.clone(),
                outbox_dir: settings.mail.outbox_dir.clone(),
                templates_dir: settings.mail.templates_dir.clone(),
            },
            key,
        )?);
        let mail_wakeup = Arc::new(MailWakeup::default());
        let ports = RosterPorts {
            accounts: Arc::new(store.clone()),
            sessions: Arc::new(store.clone()),
            api_keys: Arc::new(store.clone()),
            login_throttle: Arc::new(store.clone()),
            roles: Arc::new(store.clone()),
            grants: Arc::new(store.clone()),
            audit: Arc::new(store.clone()),
            hasher: hasher.clone(),
            strength: Arc::new(StrengthPool::start(settings.strength)?),
            features: features.clone(),
            readiness: Arc::new(store.clone()),
            clock,
            tokens: Arc::new(RandomTokens),
            mailer: mailer.clone(),
            outbox: Arc::new(store.clone()),
            email_tokens: Arc::new(store.clone()),
            invitations: Arc::new(store.clone()),
            mail_queued: mail_wakeup.clone(),
            mfa: Arc::new(store.clone()),
            totp: Arc::new(SealedTotp::new(totp_key, "Roster")),
            passkeys: Arc::new(store.clone()),
            webauthn: Arc::new(
                PasskeyRelyingParty::new(&settings.links_url())
                    .map_err(|e| StartupError::Passkeys(format!("server.public_url: {e}")))?,
            ),
        };
        let roster = Roster::new(
            ports,
            RosterSettings {
                password_policy: settings.password_policy,
                sessions: settings.sessions,
                login_throttle: settings.login_throttle,
                grants: settings.grants,
                registration: settings.registration.clone(),
                public_url: settings.links_url(),
                password_reset: PasswordResetSettings {
                    max_per_hour: settings.password_reset_per_hour,
                    ..PasswordResetSettings::default()
                },
                mail_sender: MailSenderSettings {
                    retry: MailRetryPolicy {
                        give_up_after: settings.mail.give_up_after,
                        ..MailRetryPolicy::default()
                    },
                    ..MailSenderSettings::default()
                },
                mfa: settings.mfa.clone(),
                audit: settings.audit,
            },
        );
        Ok(Components {
            store,
            features,
            hasher,
            mailer,
            mail_wakeup,
            roster,
        })
    }
}

impl std::fmt::Debug for Components {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Components")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

/// The running service: bound, serving, with its background tasks.
pub struct Application {
    port: u16,
    metrics_port: Option<u16>,
    server: Server,
    _features_watch: WatchHandle,
    jobs: PeriodicJobs,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Builds everything and binds the listener (port 0 picks a free port, for tests).
    ///
    /// # Errors
    /// See [`StartupError`].
    pub async fn build(settings: Settings) -> Result<Application, StartupError> {
        let components = Components::build(&settings)?;
        if let Some(bootstrap) = &settings.bootstrap {
            bootstrap_superadmin(&components.roster, bootstrap).await?;
        }
        if components.features.is_enabled(Feature::AccountRegistration) {
            tracing::warn!(
                "public self-registration is ON (feature `account-registration`); for production, \
                 disable it in {} unless anyone may create an account",
                settings.features_file.display()
            );
        }
        if settings.mfa.policy.is_off() {
            let exposed = components
                .roster
                .superadmins_without_second_factor()
                .await
                .map_err(|e| StartupError::Check(e.to_string()))?;
            if exposed > 0 {
                tracing::warn!(
                    superadmins = exposed,
                    "super admins without a second factor exist and mfa.required_for_superadmins \
                     is off; for production, turn it on (or have them enrol: My account > \
                     Two-step sign-in)"
                );
            }
        }
        if settings.public_url.is_none() {
            tracing::warn!(
                "server.public_url is unset: console cookies are not Secure and forms are checked \
                 against the Host header; set server.public_url in production"
            );
        }
        tracing::info!("{}", components.mailer.describe());
        let metrics = Data::new(Metrics::new(Some(Arc::new(Probe {
            store: components.store.clone(),
            hasher: components.hasher.clone(),
        }))));
        audit_feature_reloads(
            &components.features,
            &components.roster,
            &settings.features_file,
            metrics.clone(),
        );
        let features_watch = components.features.watch(settings.features_poll_interval);
        let listener = TcpListener::bind(settings.bind).map_err(|source| StartupError::Bind {
            addr: settings.bind,
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartupError::Bind {
                addr: settings.bind,
                source,
            })?
            .port();
        let metrics_listener = settings
            .metrics_bind
            .map(|addr| {
                TcpListener::bind(addr)
                    .and_then(|listener| Ok((listener.local_addr()?, listener)))
                    .map_err(|source| StartupError::Bind { addr, source })
            })
            .transpose()?;
        // One limiter for all workers, so a client's bucket does not depend on the worker.
        let rate_limiter = Data::new(ClientRateLimiter::new(&settings.rate_limit));
        let mail_job = MailJob {
            node: node_name(),
            poll_interval: settings.mail.poll_interval,
            wakeup: components.mail_wakeup.clone(),
            metrics: metrics.clone(),
        };
        let jobs = PeriodicJobs::start(components.roster.clone(), rate_limiter.clone(), mail_job);
        let roster = Data::new(components.roster);
        let in_flight = InFlight::default();
        let in_flight_data = Data::new(in_flight.clone());
        let body_timeout = Data::new(BodyTimeout(settings.body_timeout));
        let console_settings = Data::new(ConsoleSettings::new(settings.public_url.as_deref()));
        let metrics_only = Data::new(MetricsListener(
            metrics_listener.as_ref().map(|(addr, _)| *addr),
        ));
        let connections = Arc::new(ConnectionLimiter::new(settings.max_connections_per_ip));
        // actix caps connections per worker: the total is split evenly over the workers. At
        // least 2 each: actix-server 2.6 never wakes a worker capped at 1 once it is full.
        let workers = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let per_worker = settings.max_connections.div_ceil(workers).max(2);
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(roster_http::request_context))
                .app_data(body_timeout.clone())
                .app_data(metrics_only.clone())
                .app_data(in_flight_data.clone())
                .app_data(roster.clone())
                .app_data(rate_limiter.clone())
                .app_data(metrics.clone())
                .app_data(console_settings.clone())
                .configure(roster_http::configure)
                .configure(roster_console::configure)
        })
        .workers(workers)
        .max_connections(per_worker)
        .on_connect(move |io, extensions| connections.on_connect(io, extensions))
        .listen(listener)
        .map_err(|source| StartupError::Bind {
            addr: settings.bind,
            source,
        })?;
        let mut metrics_port = None;
        if let Some((addr, listener)) = metrics_listener {
            metrics_port = Some(addr.port());
            server = server
                .listen(listener)
                .map_err(|source| StartupError::Bind { addr, source })?;
        }
        let server = server
            .shutdown_timeout(settings.shutdown_timeout.as_secs())
            // Signals are handled by `drain_on_signal`, which waits for requests in flight.
            .disable_signals()
            .run();
        tokio::spawn(drain_on_signal(
            server.handle(),
            in_flight,
            settings.shutdown_timeout,
        ));
        tracing::info!(port, metrics_port, "roster listening");
        Ok(Application {
            port,
            metrics_port,
            server,
            _features_watch: features_watch,
            jobs,
        })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the `/metrics` listener (`server.metrics_bind`), when there is one.
    /// A handle that stops the server from outside (tests stop theirs when done: the
    /// server's worker threads would otherwise outlive the test, pool and all).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_port
    }

    /// Serves until SIGINT/SIGTERM, then finishes in-flight requests (up to
    /// `server.shutdown_timeout`).
    ///
    /// # Errors
    /// I/O errors of the server.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        self.jobs.stop();
        result
    }
}

/// Scrape-time readings for `/metrics`.
struct Probe {
    store: Store,
    hasher: Arc<Argon2Hasher>,
}

impl MetricsProbe for Probe {
    fn hash_queue_depth(&self) -> usize {
        self.hasher.queue_depth()
    }

    fn pool_state(&self) -> (u32, u32, u32) {
        self.store.pool_state()
    }
}

/// Runs the super-admin bootstrap use case with the configured email and password, and
/// says what it did in the log.
async fn bootstrap_superadmin(
    roster: &Roster,
    bootstrap: &BootstrapSettings,
) -> Result<(), StartupError> {
    let form = RegistrationForm::new(bootstrap.email.clone(), bootstrap.password.clone(), None);
    match roster.bootstrap_superadmin(form).await {
        Ok(BootstrapOutcome::Created(account)) => {
            tracing::info!(account_id = %account.id, "bootstrap: super admin created");
            Ok(())
        }
        Ok(BootstrapOutcome::AlreadyExists) => {
            tracing::info!("bootstrap: a super admin exists already; nothing to do");
            Ok(())
        }
        Err(AppError::EmailTaken) => Err(StartupError::Bootstrap(
            "an ordinary account already uses bootstrap.superadmin_email; choose another email"
                .into(),
        )),
        Err(error) => Err(StartupError::Bootstrap(describe(&error))),
    }
}

/// Operator-facing text for an application error (validation details included).
pub fn describe(error: &AppError) -> String {
    match error {
        AppError::Validation(errors) => errors
            .iter()
            .map(|e| format!("{}: {} ({})", e.field, e.message, e.code))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}
