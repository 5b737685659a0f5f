//! A per-client-IP token bucket for the routes that cost password work (a hash, a verify or a
//! strength estimate): `POST /v1/auth/login`, public `POST /v1/account/register`, and the
//! authenticated `PUT /v1/account/me/password` and `PUT /v1/admin/accounts/{id}/password`
//! (a signed-in account could otherwise repeat the estimate forever).
//!
//! Decisions:
//! - Keyed on the TCP peer address, never on `X-Forwarded-For` or `Forwarded`: those headers
//!   are written by the client unless a trusted proxy overwrites them, and trusting them would
//!   let anyone pick a fresh bucket per request. Behind a reverse proxy every client shares
//!   the proxy's bucket; rate-limit at the proxy in that deployment, or switch this off.
//! - IPv6 peers are keyed by their /64 network (one host usually owns a whole /64 and can
//!   rotate addresses within it); IPv4-mapped IPv6 addresses count as the IPv4 address.
//! - One bucket per client shared by these routes: they cost the same kind of work.
//! - In memory and per node: N nodes allow N times the rate. Idle buckets are forgotten by
//!   [`ClientRateLimiter::forget_idle`], which the server calls every minute.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::web::Data;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::{Ready, ready};
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota};
use roster_app::AppError;

use crate::extract::client_ip;
use crate::problem::ApiError;

/// The limiter's settings (`rate_limit.*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitSettings {
    /// `false` lets every request through (benchmarks, or a proxy that limits instead).
    pub enabled: bool,
    /// Sustained requests per minute per client.
    pub per_minute: NonZeroU32,
    /// Requests a client may make at once before the sustained rate applies.
    pub burst: NonZeroU32,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        RateLimitSettings {
            enabled: true,
            per_minute: NonZeroU32::new(30).expect("non-zero"),
            burst: NonZeroU32::new(10).expect("non-zero"),
        }
    }
}

/// One token bucket per client network, shared by all workers of the node (clones share it).
#[derive(Clone)]
pub struct ClientRateLimiter {
    /// `None` when switched off.
    buckets: Option<Arc<DefaultKeyedRateLimiter<IpAddr>>>,
}

impl std::fmt::Debug for ClientRateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientRateLimiter")
            .field("enabled", &self.buckets.is_some())
            .field("clients", &self.buckets.as_ref().map_or(0, |b| b.len()))
            .finish()
    }
}

impl ClientRateLimiter {
    pub fn new(settings: &RateLimitSettings) -> ClientRateLimiter {
        let buckets = settings.enabled.then(|| {
            let quota = Quota::per_minute(settings.per_minute).allow_burst(settings.burst);
            Arc::new(DefaultKeyedRateLimiter::keyed(quota))
        });
        ClientRateLimiter { buckets }
    }

    /// Takes one token from `ip`'s bucket, or says how long until one is available.
    pub fn check(&self, ip: IpAddr) -> Result<(), Duration> {
        let Some(buckets) = &self.buckets else {
            return Ok(());
        };
        buckets
            .check_key(&client_key(ip))
            .map_err(|not_until| not_until.wait_time_from(buckets.clock().now()))
    }

    /// Drops the buckets that are full again (indistinguishable from a new client), so memory
    /// is bounded by the clients seen within about one refill period.
    pub fn forget_idle(&self) {
        if let Some(buckets) = &self.buckets {
            buckets.retain_recent();
            buckets.shrink_to_fit();
        }
    }

    /// How many clients have a bucket now (an estimate under concurrent use).
    pub fn tracked_clients(&self) -> usize {
        self.buckets.as_ref().map_or(0, |b| b.len())
    }
}

/// The bucket key of a peer: IPv4 as is, IPv6 by its /64 network.
pub(crate) fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from_bits(
                v6.to_bits() & 0xffff_ffff_ffff_ffff_0000_0000_0000_0000,
            )),
        },
    }
}

/// Whole seconds for `Retry-After`: rounded up, at least 1.
pub(crate) fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

/// Proof that the caller's bucket had a token. Put it first among a handler's parameters so
/// the check happens before the body is read. 429 `rate_limited` with `Retry-After` otherwise.
#[derive(Debug)]
pub struct RateLimited;

impl FromRequest for RateLimited {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let Some(limiter) = req.app_data::<Data<ClientRateLimiter>>() else {
            return ready(Err(ApiError::App(AppError::Internal(
                "ClientRateLimiter not registered as app data".into(),
            ))));
        };
        // Over TCP there is always a peer; without one (e.g. a Unix socket), all such
        // requests share one bucket rather than escape the limit.
        let ip = client_ip(req).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        ready(
            limiter
                .check(ip)
                .map(|()| RateLimited)
                .map_err(|wait| ApiError::RateLimited {
                    retry_after_secs: retry_after_secs(wait),
                }),
        )
    }
}

#[cfg(test)]
mod tests {
    use actix_web::ResponseError;
    use actix_web::test::TestRequest;

    use super::*;

    fn limiter(enabled: bool, per_minute: u32, burst: u32) -> ClientRateLimiter {
        ClientRateLimiter::new(&RateLimitSettings {
            enabled,
            per_minute: NonZeroU32::new(per_minute).unwrap(),
            burst: NonZeroU32::new(burst).unwrap(),
        })
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn the_burst_is_honoured_then_the_client_must_wait() {
        let limiter = limiter(true, 1, 3);
        for attempt in 1..=3 {
            assert_eq!(limiter.check(ip("192.0.2.1")), Ok(()), "attempt {attempt}");
        }
        let wait = limiter.check(ip("192.0.2.1")).unwrap_err();
        // One token per minute: the next one is most of a minute away.
        assert!(wait > Duration::from_secs(50), "{wait:?}");
        assert!(retry_after_secs(wait) >= 1);
    }

    #[test]
    fn clients_have_independent_buckets() {
        let limiter = limiter(true, 1, 1);
        assert!(limiter.check(ip("192.0.2.1")).is_ok());
        assert!(limiter.check(ip("192.0.2.1")).is_err());
        assert!(limiter.check(ip("192.0.2.2")).is_ok());
        assert!(limiter.check(ip("2001:db8:1::1")).is_ok());
        assert_eq!(limiter.tracked_clients(), 3);
    }

    #[test]
    fn ipv6_hosts_share_their_64_and_mapped_ipv4_is_ipv4() {
        let limiter = limiter(true, 1, 1);
        assert!(limiter.check(ip("2001:db8:1:2::1")).is_ok());
        assert!(limiter.check(ip("2001:db8:1:2:ffff::9")).is_err());
        assert!(limiter.check(ip("2001:db8:1:3::1")).is_ok());
        assert!(limiter.check(ip("192.0.2.7")).is_ok());
        assert!(limiter.check(ip("::ffff:192.0.2.7")).is_err());
    }

    #[test]
    fn switched_off_everything_passes() {
        let limiter = limiter(false, 1, 1);
        for _ in 0..100 {
            assert_eq!(limiter.check(ip("192.0.2.1")), Ok(()));
        }
        assert_eq!(limiter.tracked_clients(), 0);
    }

    #[test]
    fn full_buckets_are_forgotten_and_busy_ones_kept() {
        // ~14 ns per token: a bucket is full again long before the sleep ends.
        let fast = limiter(true, u32::MAX, 1);
        assert!(fast.check(ip("192.0.2.1")).is_ok());
        std::thread::sleep(Duration::from_millis(5));
        fast.forget_idle();
        assert_eq!(fast.tracked_clients(), 0);

        let slow = limiter(true, 1, 5);
        assert!(slow.check(ip("192.0.2.1")).is_ok());
        slow.forget_idle();
        assert_eq!(slow.tracked_clients(), 1);
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds_and_is_at_least_one() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(10)), 1);
        assert_eq!(retry_after_secs(Duration::from_secs(2)), 2);
        assert_eq!(retry_after_secs(Duration::from_millis(2001)), 3);
    }

    #[test]
    fn the_extractor_answers_429_with_retry_after() {
        let limiter = Data::new(limiter(true, 1, 1));
        let request = || {
            TestRequest::default()
                .peer_addr("192.0.2.1:4000".parse().unwrap())
                .app_data(limiter.clone())
                .to_http_request()
        };
        let extract =
            |req: HttpRequest| RateLimited::from_request(&req, &mut Payload::None).into_inner();
        assert!(extract(request()).is_ok());
        let error = extract(request()).unwrap_err();
        let response = error.error_response();
        assert_eq!(response.status().as_u16(), 429);
        let retry_after: u64 = response
            .headers()
            .get("retry-after")
            .unwrap()
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(retry_after >= 1);
    }
}
