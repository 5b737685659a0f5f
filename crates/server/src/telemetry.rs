//! Logging: `tracing` with compact human lines by default and JSON lines for log shippers.
//! `RUST_LOG` overrides `log.level` when set. Protocol errors that actix would log at ERROR
//! are counted in a metric instead ([`ProtocolErrors`]).

use std::io::IsTerminal;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::settings::LogFormat;

/// Installs the global subscriber writing to `writer`. Call once per process; later calls
/// are ignored (tests build many applications in one process).
pub fn init<W>(format: LogFormat, level: &str, writer: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    let result = match format {
        // Colours only for a person at a terminal, never into files or pipes.
        LogFormat::Compact => builder
            .compact()
            .with_ansi(std::io::stderr().is_terminal())
            .finish()
            .with(ProtocolErrors)
            .try_init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .finish()
            .with(ProtocolErrors)
            .try_init(),
    };
    // Already initialised: keep the first subscriber.
    drop(result);
}

/// actix logs every connection it drops for a protocol error (a bad request line, a head too
/// large, a body the handler did not read, a client gone mid-request) at ERROR, as
/// `stream error: ...`. Anyone can send those, so they would flood the error log and bury
/// real errors: this layer counts each in `roster_http_protocol_errors_total{kind}` instead,
/// and drops the log line of the kinds a client can cause. Anything else actix reports that
/// way (a failing response stream, a service error) is counted as `other` and still logged.
struct ProtocolErrors;

impl<S: Subscriber> Layer<S> for ProtocolErrors {
    fn event_enabled(&self, event: &Event<'_>, _: Context<'_, S>) -> bool {
        let metadata = event.metadata();
        if *metadata.level() != Level::ERROR || !metadata.target().starts_with("actix_http::") {
            return true;
        }
        let mut message = Message(String::new());
        event.record(&mut message);
        match message.0.strip_prefix("stream error: ") {
            Some(description) => roster_http::record_protocol_error(description) == "other",
            None => true,
        }
    }
}

/// The `message` field of an event.
struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            value.clone_into(&mut self.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Keeps the message of every event that reaches it.
    struct Seen(Arc<Mutex<Vec<String>>>);

    impl<S: Subscriber> Layer<S> for Seen {
        fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
            let mut message = Message(String::new());
            event.record(&mut message);
            self.0.lock().unwrap().push(message.0);
        }
    }

    #[test]
    fn client_caused_stream_errors_are_dropped_and_the_rest_still_logged() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let subscriber = tracing_subscriber::registry()
            .with(ProtocolErrors)
            .with(Seen(Arc::clone(&seen)));
        tracing::subscriber::with_default(subscriber, || {
            tracing::error!(target: "actix_http::h1::dispatcher", "stream error: request parse error: invalid Header provided");
            tracing::error!(target: "actix_http::h1::dispatcher", "stream error: I/O error: connection reset");
            tracing::error!(target: "actix_http::h1::dispatcher", "stream error: body error: upstream failed");
            tracing::error!(target: "roster::startup", "stream error: not actix");
        });
        assert_eq!(
            *seen.lock().unwrap(),
            [
                "stream error: body error: upstream failed",
                "stream error: not actix"
            ]
        );
    }
}
