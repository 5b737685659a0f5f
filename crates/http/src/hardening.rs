//! Defences at the edge, applied by [`crate::request_context`] to every request before any
//! route runs: security headers on every response, query strings held to one rule on every
//! route, a cap on connections per client address, and `/metrics` kept to its own listener
//! when one is configured.

use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};

use actix_web::dev::{Extensions, ServiceRequest};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::web::Data;
use percent_encoding::percent_decode;

use crate::document::ApiDocument;
use crate::problem::ApiError;
use crate::rate_limit::client_key;

/// The headers every response carries. Every body this API sends is JSON or plain text, never
/// a page, so nothing may be loaded, framed or sniffed. A response that sets its own
/// `Content-Security-Policy` or `Referrer-Policy` (an HTML page of the console) keeps it.
pub fn set_security_headers(headers: &mut HeaderMap) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if !headers.contains_key(header::REFERRER_POLICY) {
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
    }
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        );
    }
}

/// The refusals [`crate::request_context`] makes before routing, in order: a connection over
/// the per-address cap, a request on the wrong listener, a query string that breaks the rules.
pub(crate) fn refuse_early(req: &ServiceRequest) -> Option<ApiError> {
    if req
        .conn_data::<ConnectionSlot>()
        .is_some_and(|slot| !slot.admitted)
    {
        return Some(ApiError::TooManyConnections);
    }
    if let Some(metrics_listener) = req
        .app_data::<Data<MetricsListener>>()
        .and_then(|listener| listener.0)
    {
        // `/metrics` is served on its own listener only, and nothing else is served there.
        let on_metrics_listener = req.app_config().local_addr() == metrics_listener;
        if on_metrics_listener != (req.path() == "/metrics") {
            return Some(ApiError::NotFound);
        }
    }
    // Probes and scrapers may add parameters of their own (a load balancer's cache-buster, a
    // Prometheus job's `params:`): there only the text of the query is checked.
    // The names each route documents, from the document `crate::configure` registers.
    let document = req.app_data::<Data<ApiDocument>>();
    let pattern = req.request().match_pattern();
    let known = match (document, pattern.as_deref()) {
        (Some(document), Some(pattern)) if !MACHINE_POLLED.contains(&req.path()) => {
            document.query_parameters(pattern, req.method())
        }
        _ => None,
    };
    check_query(req.query_string(), known).err()
}

/// The routes machines poll, whose query parameter names are not checked.
const MACHINE_POLLED: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

// ---------------------------------------------------------------------------------------------
// Query strings

/// One rule for the query string of every route:
/// - names and values percent-decode to UTF-8 text without control characters (a NUL byte
///   must never reach a database driver);
/// - every name is one the route documents (`known`, from the OpenAPI document), so a typo
///   such as `?limt=5` is an error, as an unknown field of a body is. `None` (no such route,
///   or not with this method) leaves the name check to the 404 or 405 that follows.
///
/// The first offending parameter is named in a 400 `invalid_query` problem.
pub(crate) fn check_query(query: &str, known: Option<&HashSet<String>>) -> Result<(), ApiError> {
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (raw_name, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = decode_component(raw_name);
        let value = decode_component(raw_value);
        let shown = match &name {
            Ok(name) => printable(name),
            Err(lossy) => printable(lossy),
        };
        let refuse = |code: &'static str, message: &str| ApiError::InvalidQuery {
            name: shown.clone(),
            code,
            message: message.to_owned(),
        };
        let (Ok(name), Ok(value)) = (name, value) else {
            return Err(refuse(
                "invalid_encoding",
                "not UTF-8 text once percent-decoded",
            ));
        };
        if name.chars().chain(value.chars()).any(char::is_control) {
            return Err(refuse(
                "control_character",
                "control characters (such as NUL or a line break) are not allowed",
            ));
        }
        if known.is_some_and(|known| !known.contains(&name)) {
            let message = match known.map(|known| {
                let mut names: Vec<&str> = known.iter().map(String::as_str).collect();
                names.sort_unstable();
                names.join(", ")
            }) {
                Some(list) if !list.is_empty() => format!("unknown parameter; known: {list}"),
                _ => "this route takes no query parameters".to_owned(),
            };
            return Err(refuse("unknown_parameter", &message));
        }
    }
    Ok(())
}

/// `application/x-www-form-urlencoded` decoding of one name or value; `Err` holds a lossy
/// rendering when the bytes are not UTF-8.
fn decode_component(raw: &str) -> Result<String, String> {
    let plus_as_space = raw.replace('+', " ");
    let bytes: Vec<u8> = percent_decode(plus_as_space.as_bytes()).collect();
    String::from_utf8(bytes).map_err(|error| String::from_utf8_lossy(error.as_bytes()).into_owned())
}

/// A name as it may be shown back: control characters escaped, at most 64 characters.
fn printable(name: &str) -> String {
    name.chars()
        .take(64)
        .flat_map(|c| {
            if c.is_control() {
                c.escape_unicode().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Connections

/// Caps the connections one client address may hold open (`server.max_connections_per_ip`).
/// The server's `on_connect` hook calls [`ConnectionLimiter::on_connect`] for each accepted
/// connection; a connection over the cap is answered 429 `too_many_connections` and closed
/// (after at most the server's request-head timeout if it sends nothing). The count of an
/// address goes down when its connection ends, and the entry goes when it reaches zero, so
/// the table holds only addresses with open connections.
#[derive(Debug)]
pub struct ConnectionLimiter {
    per_ip: Option<usize>,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// The per-connection record left by [`ConnectionLimiter::on_connect`]; it gives the slot back
/// when the connection (and every request on it) is gone.
#[derive(Debug)]
pub(crate) struct ConnectionSlot {
    admitted: bool,
    ip: Option<IpAddr>,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let (true, Some(ip)) = (self.admitted, self.ip) else {
            return;
        };
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&ip) {
            *count -= 1;
            if *count == 0 {
                open.remove(&ip);
            }
        }
    }
}

impl ConnectionLimiter {
    /// `per_ip` of 0 means no cap (behind a proxy every connection has the proxy's address).
    pub fn new(per_ip: usize) -> Self {
        Self {
            per_ip: (per_ip > 0).then_some(per_ip),
            open: Arc::default(),
        }
    }

    /// For `HttpServer::on_connect`: counts the connection in, or marks it refused.
    pub fn on_connect(&self, io: &dyn Any, extensions: &mut Extensions) {
        let Some(per_ip) = self.per_ip else { return };
        let peer = io
            .downcast_ref::<actix_web::rt::net::TcpStream>()
            .and_then(|stream| stream.peer_addr().ok())
            .map(|addr| addr.ip());
        let (admitted, key) = match peer.map(|peer| self.admit(peer, per_ip)) {
            Some(Some(key)) => (true, Some(key)),
            Some(None) => (false, None),
            None => (true, None),
        };
        extensions.insert(ConnectionSlot {
            admitted,
            ip: key,
            open: Arc::clone(&self.open),
        });
    }

    /// Counts a connection from `peer` in, unless its client has `per_ip` open already;
    /// returns the key it was counted under. Clients are keyed as the rate limiter keys them
    /// (IPv6 by /64: one host holds a whole /64 and could otherwise open `per_ip`
    /// connections from each of its addresses).
    fn admit(&self, peer: IpAddr, per_ip: usize) -> Option<IpAddr> {
        let key = client_key(peer);
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(key).or_default();
        if *count < per_ip {
            *count += 1;
            Some(key)
        } else {
            None
        }
    }

    /// Addresses with at least one open connection (for tests and the curious).
    pub fn tracked_addresses(&self) -> usize {
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// The address of the listener that serves `/metrics` alone (`server.metrics_bind`), as app
/// data; `None` serves `/metrics` with everything else.
#[derive(Debug, Clone, Copy)]
pub struct MetricsListener(pub Option<SocketAddr>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_capped_per_client_as_the_rate_limiter_keys_it() {
        let limiter = ConnectionLimiter::new(1);
        let peer = |ip: &str| ip.parse::<IpAddr>().unwrap();
        assert!(limiter.admit(peer("2001:db8:0:1::1"), 1).is_some());
        assert!(
            limiter.admit(peer("2001:db8:0:1::2"), 1).is_none(),
            "same /64"
        );
        assert!(
            limiter.admit(peer("2001:db8:0:2::1"), 1).is_some(),
            "another /64"
        );
        assert!(limiter.admit(peer("192.0.2.1"), 1).is_some());
        assert!(
            limiter.admit(peer("::ffff:192.0.2.1"), 1).is_none(),
            "mapped IPv4"
        );
    }

    fn known(names: &[&str]) -> HashSet<String> {
        names.iter().map(|&name| name.to_owned()).collect()
    }

    fn refused(query: &str, names: Option<&[&str]>) -> Option<(String, &'static str)> {
        let known = names.map(known);
        match check_query(query, known.as_ref()) {
            Ok(()) => None,
            Err(ApiError::InvalidQuery { name, code, .. }) => Some((name, code)),
            Err(other) => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn control_characters_are_refused_in_names_and_values_naming_the_parameter() {
        for query in [
            "actor=a%00b",
            "actor=%0A",
            "actor=%7F",
            "actor=%C2%85",
            "actor=\u{1}",
        ] {
            assert_eq!(
                refused(query, None),
                Some(("actor".to_owned(), "control_character")),
                "{query}"
            );
        }
        assert_eq!(
            refused("a%00=1", None),
            Some(("a\\u{0}".to_owned(), "control_character"))
        );
        assert_eq!(
            refused("actor=%FF", None),
            Some(("actor".to_owned(), "invalid_encoding"))
        );
        assert_eq!(refused("actor=caf%C3%A9+au+lait&&x=", None), None);
    }

    #[test]
    fn names_the_route_does_not_document_are_refused() {
        let page: &[&str] = &["limit", "cursor"];
        assert_eq!(refused("limit=5&cursor=x", Some(page)), None);
        assert_eq!(
            refused("limit=5&limt=5", Some(page)),
            Some(("limt".to_owned(), "unknown_parameter"))
        );
        assert_eq!(
            refused("x", Some(&[])),
            Some(("x".to_owned(), "unknown_parameter"))
        );
        assert_eq!(refused("", Some(&[])), None);
    }

    #[test]
    fn security_headers_keep_a_page_s_own_policy() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'self'"),
        );
        set_security_headers(&mut headers);
        assert_eq!(
            headers.get(header::CONTENT_SECURITY_POLICY).unwrap(),
            "default-src 'self'"
        );
        assert_eq!(
            headers.get(header::X_CONTENT_TYPE_OPTIONS).unwrap(),
            "nosniff"
        );
        assert_eq!(headers.get(header::REFERRER_POLICY).unwrap(), "no-referrer");

        // A page's own referrer policy stays too (the console's forms need their origin sent).
        let mut headers = HeaderMap::new();
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        );
        set_security_headers(&mut headers);
        assert_eq!(headers.get(header::REFERRER_POLICY).unwrap(), "same-origin");
    }
}
