//! Prometheus metrics: HTTP requests by route and status, latency, registration, login and
//! introspection outcomes, throttled requests, and gauges read at scrape time (active sessions, the
//! password-hash queue, the database pool, features-file reloads counted by the server).
//!
//! Outcomes are counted from what the handlers answered (status and problem `code`), so the
//! use cases stay free of metrics code.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

/// The problem `code` of an error response, left in the response's extensions by
/// [`crate::ApiError`] so the request middleware can count outcomes.
#[derive(Debug, Clone, Copy)]
pub struct ProblemCode(pub &'static str);

/// Whether an introspected token was active, left in the response's extensions by the
/// introspection handler: both answers are 200, so status and problem code cannot tell them
/// apart. Introspection is counted here rather than audited per call, and the request line
/// of a response carrying this is logged at debug ([`crate::request_context`]).
#[derive(Debug, Clone, Copy)]
pub struct IntrospectionAnswer {
    pub active: bool,
}

/// Readings the server provides at scrape time.
pub trait MetricsProbe: Send + Sync {
    /// Password-hash jobs waiting for a worker.
    fn hash_queue_depth(&self) -> usize;
    /// Database pool: (open connections, idle connections, maximum).
    fn pool_state(&self) -> (u32, u32, u32);
}

/// The HTTP methods counted under their own name; any other (a client may send any token as
/// a method) is counted as `other`, so anonymous callers cannot add label values.
const COUNTED_METHODS: [&str; 7] = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];

/// The `method` label of a request: one of [`COUNTED_METHODS`] or `other`.
fn method_label(method: &str) -> &'static str {
    COUNTED_METHODS
        .iter()
        .find(|&&known| known == method)
        .copied()
        .unwrap_or("other")
}

/// Kinds of connection-level errors that actix answers (or drops) before any route runs;
/// the `kind` label of `roster_http_protocol_errors_total`.
const PROTOCOL_ERROR_KINDS: [&str; 6] = [
    "bad_request",
    "head_too_large",
    "slow_request",
    "io",
    "dropped_body",
    "other",
];

/// Counted here, for the whole process: they are reported by actix through the log (see the
/// server's telemetry), where no application state is at hand.
static PROTOCOL_ERRORS: [AtomicU64; PROTOCOL_ERROR_KINDS.len()] =
    [const { AtomicU64::new(0) }; PROTOCOL_ERROR_KINDS.len()];

/// Counts one connection-level error from actix's description of it (`request parse error:
/// message head is too large`, ...); returns the kind it was counted as.
pub fn record_protocol_error(description: &str) -> &'static str {
    let kind = if description.contains("head is too large") {
        "head_too_large"
    } else if description.starts_with("request parse error") {
        "bad_request"
    } else if description.starts_with("request did not complete") {
        "slow_request"
    } else if description.starts_with("I/O error") {
        "io"
    } else if description.starts_with("handler dropped payload") {
        "dropped_body"
    } else {
        "other"
    };
    let index = PROTOCOL_ERROR_KINDS
        .iter()
        .position(|&known| known == kind)
        .unwrap_or(PROTOCOL_ERROR_KINDS.len() - 1);
    PROTOCOL_ERRORS[index].fetch_add(1, Ordering::Relaxed);
    kind
}

/// Every metric Roster exports, in one registry.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    registrations: IntCounterVec,
    logins: IntCounterVec,
    /// `roster_introspections_total{result="active"}` and `{result="inactive"}`, resolved
    /// once: services may introspect on every request they serve.
    introspected_active: IntCounter,
    introspected_inactive: IntCounter,
    throttled: IntCounterVec,
    feature_reloads: IntCounterVec,
    protocol_errors: IntCounterVec,
    active_sessions: IntGauge,
    hash_queue_depth: IntGauge,
    pool: IntGaugeVec,
    mail_deliveries: IntCounterVec,
    mail_queue: IntGaugeVec,
    probe: Option<Arc<dyn MetricsProbe>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

fn counter(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let metric = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
    registry
        .register(Box::new(metric.clone()))
        .expect("unique metric");
    metric
}

fn gauge(registry: &Registry, name: &str, help: &str) -> IntGauge {
    let metric = IntGauge::new(name, help).expect("valid metric");
    registry
        .register(Box::new(metric.clone()))
        .expect("unique metric");
    metric
}

impl Metrics {
    /// A fresh registry; `probe` supplies the scrape-time readings.
    ///
    /// # Panics
    /// Never in practice: metric names are constants, checked by the tests.
    pub fn new(probe: Option<Arc<dyn MetricsProbe>>) -> Metrics {
        let registry = Registry::new();
        // The standard process metrics, read from /proc at each scrape: resident memory,
        // open descriptors, threads and CPU, what an operator watches for leaks.
        #[cfg(target_os = "linux")]
        registry
            .register(Box::new(
                prometheus::process_collector::ProcessCollector::for_self(),
            ))
            .expect("unique metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "roster_http_request_duration_seconds",
                "Time from request to response, by route.",
            )
            .buckets(vec![
                0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["method", "route"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(latency.clone()))
            .expect("unique metric");
        let pool = IntGaugeVec::new(
            Opts::new(
                "roster_db_pool_connections",
                "Database pool connections by state (open, idle, max).",
            ),
            &["state"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(pool.clone()))
            .expect("unique metric");
        let introspections = counter(
            &registry,
            "roster_introspections_total",
            "Token introspections answered, by result (active, inactive).",
            &["result"],
        );
        Metrics {
            requests: counter(
                &registry,
                "roster_http_requests_total",
                "HTTP requests by method, route pattern and status.",
                &["method", "route", "status"],
            ),
            latency,
            registrations: counter(
                &registry,
                "roster_registrations_total",
                "Account registrations by kind (self, admin) and outcome.",
                &["kind", "outcome"],
            ),
            logins: counter(
                &registry,
                "roster_logins_total",
                "Password logins by outcome.",
                &["outcome"],
            ),
            introspected_active: introspections.with_label_values(&["active"]),
            introspected_inactive: introspections.with_label_values(&["inactive"]),
            throttled: counter(
                &registry,
                "roster_throttled_total",
                "Requests refused by throttling: per account (too_many_attempts) or per client IP (rate_limited).",
                &["kind"],
            ),
            feature_reloads: counter(
                &registry,
                "roster_feature_reloads_total",
                "Features file reloads by outcome (reloaded, rejected).",
                &["outcome"],
            ),
            protocol_errors: counter(
                &registry,
                "roster_http_protocol_errors_total",
                "Connections ended by a protocol error before any route ran (bad request line, \
                 oversized head, slow head, dropped body, I/O), by kind; these are not logged. `other` \
                 (anything else actix reports as a stream error) is logged as well.",
                &["kind"],
            ),
            active_sessions: gauge(
                &registry,
                "roster_active_sessions",
                "Sessions neither revoked nor expired, at the last scrape.",
            ),
            hash_queue_depth: gauge(
                &registry,
                "roster_password_hash_queue_depth",
                "Password-hash jobs waiting for a worker, at the last scrape.",
            ),
            pool,
            mail_deliveries: counter(
                &registry,
                "roster_mail_deliveries_total",
                "Mail delivery attempts by this node, by outcome: sent, failed (to be retried), \
                 gave_up (no more attempts; see the audit event mail.gave_up).",
                &["outcome"],
            ),
            mail_queue: {
                let metric = IntGaugeVec::new(
                    Opts::new(
                        "roster_mail_queue",
                        "Queued mail (the whole cluster's outbox) after this node's last \
                         delivery round: queued (not sent, not given up), retrying (of those, \
                         failed at least once).",
                    ),
                    &["state"],
                )
                .expect("valid metric");
                registry
                    .register(Box::new(metric.clone()))
                    .expect("unique metric");
                metric
            },
            registry,
            probe,
        }
    }

    /// Counts what one mail delivery round did.
    pub fn observe_mail_round(&self, report: &roster_app::model::DeliveryReport) {
        for (outcome, count) in [
            ("sent", report.sent),
            ("failed", report.failed),
            ("gave_up", report.gave_up),
        ] {
            self.mail_deliveries
                .with_label_values(&[outcome])
                .inc_by(count);
        }
    }

    /// The outbox's depth, as read after a delivery round.
    pub fn set_mail_queue(&self, stats: &roster_app::model::OutboxStats) {
        self.mail_queue
            .with_label_values(&["queued"])
            .set(stats.queued);
        self.mail_queue
            .with_label_values(&["retrying"])
            .set(stats.retrying);
    }

    /// Counts one finished request. `route` is the matched pattern (`/v1/admin/accounts/{id}`),
    /// so label values stay few whatever the paths requested.
    pub fn observe_request(
        &self,
        method: &str,
        route: &str,
        status: u16,
        problem: Option<&str>,
        elapsed: Duration,
    ) {
        let status_text = status.to_string();
        let method = method_label(method);
        self.requests
            .with_label_values(&[method, route, &status_text])
            .inc();
        self.latency
            .with_label_values(&[method, route])
            .observe(elapsed.as_secs_f64());
        let outcome = problem.unwrap_or(if status < 300 { "ok" } else { "other" });
        match (method, route) {
            ("POST", "/v1/auth/login") => {
                let outcome = if status == 200 { "succeeded" } else { outcome };
                self.logins.with_label_values(&[outcome]).inc();
            }
            ("POST", "/v1/account/register") => {
                let outcome = if status == 201 { "created" } else { outcome };
                self.registrations
                    .with_label_values(&["self", outcome])
                    .inc();
            }
            ("POST", "/v1/admin/account/register") => {
                let outcome = if status == 201 { "created" } else { outcome };
                self.registrations
                    .with_label_values(&["admin", outcome])
                    .inc();
            }
            _ => {}
        }
        if let Some(kind @ ("too_many_attempts" | "rate_limited")) = problem {
            self.throttled.with_label_values(&[kind]).inc();
        }
    }

    /// Counts one introspection answer: `active` or `inactive`.
    pub fn observe_introspection(&self, answer: IntrospectionAnswer) {
        if answer.active {
            self.introspected_active.inc();
        } else {
            self.introspected_inactive.inc();
        }
    }

    /// Counts a features-file reload (`reloaded`) or a rejected edit (`rejected`).
    pub fn observe_feature_reload(&self, outcome: &'static str) {
        self.feature_reloads.with_label_values(&[outcome]).inc();
    }

    /// The text exposition, after taking the scrape-time readings.
    pub fn render(&self, active_sessions: Option<i64>) -> String {
        if let Some(active) = active_sessions {
            self.active_sessions.set(active);
        }
        if let Some(probe) = &self.probe {
            self.hash_queue_depth
                .set(i64::try_from(probe.hash_queue_depth()).unwrap_or(i64::MAX));
            let (open, idle, max) = probe.pool_state();
            self.pool.with_label_values(&["open"]).set(i64::from(open));
            self.pool.with_label_values(&["idle"]).set(i64::from(idle));
            self.pool.with_label_values(&["max"]).set(i64::from(max));
        }
        for (kind, count) in PROTOCOL_ERROR_KINDS.iter().zip(&PROTOCOL_ERRORS) {
            // The process-wide count; this registry's counter catches up to it.
            let counter = self.protocol_errors.with_label_values(&[kind]);
            let total = count.load(Ordering::Relaxed);
            counter.inc_by(total.saturating_sub(counter.get()));
        }
        let mut buffer = Vec::new();
        if let Err(error) = TextEncoder::new().encode(&self.registry.gather(), &mut buffer) {
            tracing::error!(%error, "metrics could not be encoded");
        }
        String::from_utf8(buffer).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct FixedProbe;

    impl MetricsProbe for FixedProbe {
        fn hash_queue_depth(&self) -> usize {
            3
        }
        fn pool_state(&self) -> (u32, u32, u32) {
            (4, 1, 8)
        }
    }

    #[test]
    fn mail_rounds_and_the_queue_are_exported() {
        use roster_app::model::{DeliveryReport, OutboxStats};
        let metrics = Metrics::new(None);
        metrics.observe_mail_round(&DeliveryReport {
            sent: 2,
            failed: 1,
            gave_up: 0,
        });
        metrics.observe_mail_round(&DeliveryReport {
            sent: 1,
            failed: 0,
            gave_up: 1,
        });
        metrics.set_mail_queue(&OutboxStats {
            queued: 4,
            retrying: 1,
        });
        let text = metrics.render(None);
        for line in [
            "roster_mail_deliveries_total{outcome=\"sent\"} 3",
            "roster_mail_deliveries_total{outcome=\"failed\"} 1",
            "roster_mail_deliveries_total{outcome=\"gave_up\"} 1",
            "roster_mail_queue{state=\"queued\"} 4",
            "roster_mail_queue{state=\"retrying\"} 1",
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_process_is_measured_at_each_scrape() {
        let text = Metrics::new(None).render(None);
        for series in [
            "process_resident_memory_bytes ",
            "process_open_fds ",
            "process_threads ",
            "process_cpu_seconds_total ",
        ] {
            assert!(text.contains(series), "{series} missing from:\n{text}");
        }
    }

    #[test]
    fn outcomes_are_counted_by_route_status_and_code() {
        let metrics = Metrics::new(Some(Arc::new(FixedProbe)));
        let ms = Duration::from_millis(1);
        metrics.observe_request("POST", "/v1/auth/login", 200, None, ms);
        metrics.observe_request(
            "POST",
            "/v1/auth/login",
            401,
            Some("invalid_credentials"),
            ms,
        );
        metrics.observe_request("POST", "/v1/auth/login", 429, Some("too_many_attempts"), ms);
        metrics.observe_request("POST", "/v1/account/register", 201, None, ms);
        metrics.observe_request(
            "POST",
            "/v1/account/register",
            429,
            Some("rate_limited"),
            ms,
        );
        metrics.observe_request("GET", "/v1/admin/accounts/{id}", 404, Some("not_found"), ms);
        metrics.observe_feature_reload("rejected");
        for active in [true, false, false] {
            metrics.observe_introspection(IntrospectionAnswer { active });
        }

        let text = metrics.render(Some(7));

        for line in [
            r#"roster_logins_total{outcome="succeeded"} 1"#,
            r#"roster_logins_total{outcome="invalid_credentials"} 1"#,
            r#"roster_logins_total{outcome="too_many_attempts"} 1"#,
            r#"roster_registrations_total{kind="self",outcome="created"} 1"#,
            r#"roster_throttled_total{kind="rate_limited"} 1"#,
            r#"roster_throttled_total{kind="too_many_attempts"} 1"#,
            r#"roster_http_requests_total{method="GET",route="/v1/admin/accounts/{id}",status="404"} 1"#,
            r#"roster_feature_reloads_total{outcome="rejected"} 1"#,
            r#"roster_introspections_total{result="active"} 1"#,
            r#"roster_introspections_total{result="inactive"} 2"#,
            "roster_active_sessions 7",
            "roster_password_hash_queue_depth 3",
            r#"roster_db_pool_connections{state="max"} 8"#,
        ] {
            assert!(text.contains(line), "missing {line} in\n{text}");
        }
        assert!(text.contains("roster_http_request_duration_seconds_bucket"));
    }

    #[test]
    fn methods_outside_the_known_set_share_one_label() {
        let metrics = Metrics::new(None);
        let ms = Duration::from_millis(1);
        for method in ["FOO", "BAR", "get", "PROPFIND"] {
            metrics.observe_request(method, "unmatched", 404, Some("not_found"), ms);
        }
        metrics.observe_request("DELETE", "unmatched", 404, Some("not_found"), ms);
        let text = metrics.render(None);
        assert!(
            text.contains(
                r#"roster_http_requests_total{method="other",route="unmatched",status="404"} 4"#
            ),
            "{text}"
        );
        assert!(text.contains(r#"method="DELETE""#));
        for method in ["FOO", "BAR", "get", "PROPFIND"] {
            assert!(!text.contains(&format!("method=\"{method}\"")), "{text}");
        }
    }

    #[test]
    fn protocol_errors_are_counted_by_kind() {
        assert_eq!(
            record_protocol_error("request parse error: message head is too large"),
            "head_too_large"
        );
        assert_eq!(
            record_protocol_error("request parse error: invalid method specified"),
            "bad_request"
        );
        assert_eq!(record_protocol_error("something new"), "other");
        let text = Metrics::new(None).render(None);
        for kind in ["head_too_large", "bad_request", "other"] {
            let line = text
                .lines()
                .find(|line| {
                    line.starts_with(&format!(
                        "roster_http_protocol_errors_total{{kind=\"{kind}\"}}"
                    ))
                })
                .unwrap_or_else(|| panic!("no {kind} in {text}"));
            let count: u64 = line.rsplit(' ').next().unwrap().parse().unwrap();
            assert!(count >= 1, "{line}");
        }
    }
}
