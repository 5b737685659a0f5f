//! Graceful shutdown: on SIGTERM or SIGINT, stop accepting, wait for the requests already
//! inside the service, then stop the server.
//!
//! Its own module because the wiring should not have to be read to understand how a stop
//! behaves, and because the rule it follows (the in-flight count decides, not actix's own
//! graceful stop) is easy to break by "simplifying" it back to actix's signal handling.

use actix_web::dev::ServerHandle;
use roster_http::InFlight;

/// On SIGTERM or SIGINT: stop accepting connections, let the requests inside the service
/// finish (up to `deadline`), then stop the server. actix's own graceful stop could drop a
/// request that was accepted but not yet finished, so the count of requests in flight
/// decides.
pub(crate) async fn drain_on_signal(
    handle: ServerHandle,
    in_flight: InFlight,
    deadline: std::time::Duration,
) {
    wait_for_shutdown_signal().await;
    tracing::info!(
        in_flight = in_flight.count(),
        "shutdown signal received; finishing requests in flight"
    );
    handle.pause().await;
    let give_up = tokio::time::Instant::now() + deadline;
    // Idle twice in a row: a connection accepted just before the pause has had time to
    // reach the service.
    let mut idle_checks = 0;
    while idle_checks < 2 && tokio::time::Instant::now() < give_up {
        idle_checks = if in_flight.count() == 0 {
            idle_checks + 1
        } else {
            0
        };
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    if in_flight.count() > 0 {
        tracing::warn!(
            in_flight = in_flight.count(),
            "shutdown deadline reached; stopping anyway"
        );
    }
    handle.stop(true).await;
}

async fn wait_for_shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut terminate), Ok(mut interrupt)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot listen for shutdown signals; stop the process with SIGKILL");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = terminate.recv() => {}
        _ = interrupt.recv() => {}
    }
}
