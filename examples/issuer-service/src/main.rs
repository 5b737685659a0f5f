//! `issuer-service`: run with
//! `ROSTER_URL=http://127.0.0.1:8080 ROSTER_SERVICE_KEY=rak_... cargo run -p roster-example-issuer`.
//! The key must hold `token-introspect` on `*`. `BIND` (default `127.0.0.1:8081`) and
//! `ROSTER_CACHE_TTL_MS` (default 5000) are optional.

use std::process::ExitCode;
use std::time::Duration;

use roster_client::{Authenticator, AuthenticatorConfig, Client};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt().init();
    let (Ok(url), Ok(key)) = (
        std::env::var("ROSTER_URL"),
        std::env::var("ROSTER_SERVICE_KEY"),
    ) else {
        eprintln!("set ROSTER_URL and ROSTER_SERVICE_KEY (an API key with token-introspect on *)");
        return ExitCode::FAILURE;
    };
    let bind = std::env::var("BIND").unwrap_or_else(|_| "127.0.0.1:8081".to_owned());
    let mut config = AuthenticatorConfig::default();
    if let Ok(ttl) = std::env::var("ROSTER_CACHE_TTL_MS") {
        let Ok(ms) = ttl.parse() else {
            eprintln!("ROSTER_CACHE_TTL_MS must be a number of milliseconds");
            return ExitCode::FAILURE;
        };
        config.cache_ttl = Duration::from_millis(ms);
    }
    let roster = match Client::builder(url).token(key).build() {
        Ok(roster) => roster,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(&bind).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("cannot listen on {bind}: {error}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(%bind, "issuer-service listening");
    let app = roster_example_issuer::app(Authenticator::new(roster, config));
    match axum::serve(listener, app).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}
