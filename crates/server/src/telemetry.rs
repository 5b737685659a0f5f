//! Logging: `tracing` with compact human lines by default and JSON lines for log shippers.
//! `RUST_LOG` overrides `log.level` when set.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

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
            .try_init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
    // Already initialised: keep the first subscriber.
    drop(result);
}
