//! Extractors: what handlers take instead of raw request parts. JSON bodies held to the
//! contract's rules, query strings, page parameters, path ids, feature-flag gates and the
//! bearer-token caller; each refuses with the problem the contract names.

use std::marker::PhantomData;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::{BytesMut, Data};
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use roster_app::{AppError, Authenticated, ClientInfo, Feature, Roster};
use roster_domain::{AccountId, ApiKeyId, GrantId};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use utoipa::IntoParams;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{KnownFormat, Object, ObjectBuilder, SchemaFormat, Type};

use crate::problem::ApiError;

/// Largest accepted request body.
pub const BODY_LIMIT: usize = 64 * 1024;

/// How long a request body may take to arrive (`server.body_timeout`), as app data for
/// [`ApiJson`]; without it, [`DEFAULT_BODY_TIMEOUT`].
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeout(pub Duration);

/// The body deadline when none is configured.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// A JSON body: `application/json` (else 415), at most [`BODY_LIMIT`] bytes (else 413), and
/// of exactly the expected shape (else 400 `invalid_body` naming the offending field; the
/// DTOs deny unknown fields).
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

fn is_json(req: &HttpRequest) -> bool {
    let Some(value) = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    // Compared without lower-casing a copy: every JSON body passes here.
    let starts = |prefix: &str| {
        essence
            .get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    };
    let ends = |suffix: &str| {
        essence
            .len()
            .checked_sub(suffix.len())
            .and_then(|start| essence.get(start..))
            .is_some_and(|tail| tail.eq_ignore_ascii_case(suffix))
    };
    essence.eq_ignore_ascii_case("application/json") || (starts("application/") && ends("+json"))
}

fn declared_length(req: &HttpRequest) -> Option<usize> {
    req.headers()
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        if !is_json(req) {
            return Box::pin(async { Err(ApiError::UnsupportedMediaType) });
        }
        let declared = declared_length(req);
        if declared.is_some_and(|length| length > BODY_LIMIT) {
            return Box::pin(async { Err(ApiError::PayloadTooLarge { limit: BODY_LIMIT }) });
        }
        let mut payload = payload.take();
        // actix times out only a slow request head; a body trickling in (or never finished)
        // would hold the connection and this task forever.
        let deadline = req
            .app_data::<Data<BodyTimeout>>()
            .map_or(DEFAULT_BODY_TIMEOUT, |timeout| timeout.0);
        Box::pin(async move {
            let read = async {
                let mut body = BytesMut::with_capacity(declared.unwrap_or(0));
                // With a declared length, the body is complete once that many bytes came
                // (the framing guarantees no more): no waiting for the end of the stream,
                // which costs another round through the connection's dispatcher.
                while declared.is_none_or(|length| body.len() < length)
                    && let Some(chunk) = payload.next().await
                {
                    let chunk = chunk.map_err(|e| ApiError::InvalidBody {
                        field: None,
                        message: e.to_string(),
                    })?;
                    if body.len() + chunk.len() > BODY_LIMIT {
                        return Err(ApiError::PayloadTooLarge { limit: BODY_LIMIT });
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(body)
            };
            let body = actix_web::rt::time::timeout(deadline, read)
                .await
                .map_err(|_| ApiError::RequestTimeout)??;
            parse_body(&body).map(ApiJson)
        })
    }
}

/// A query string of the expected shape, else 400 `invalid_query` naming the parameter (a
/// value of the wrong type, a repeated or unknown name). Use it instead of `web::Query`,
/// whose errors are plain text. Control characters and names a route does not document are
/// refused for every route before routing ([`crate::request_context`]).
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T> ApiQuery<T> {
    /// The parsed query.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned> FromRequest for ApiQuery<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(ApiQuery))
    }
}

fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let deserializer =
        serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let path = error.path().to_string();
        ApiError::InvalidQuery {
            name: if path == "." { "?".to_owned() } else { path },
            code: "invalid_value",
            message: error.inner().to_string(),
        }
    })
}

/// Default page size of every list.
pub const DEFAULT_PAGE_LIMIT: u32 = 50;
/// Largest page size of every list.
pub const MAX_PAGE_LIMIT: u32 = 200;

/// `?limit=&cursor=` of a list: `limit` within 1..=[`MAX_PAGE_LIMIT`] (default
/// [`DEFAULT_PAGE_LIMIT`]), else 400 `invalid_query` naming it. The bounds live here once:
/// the extractor holds requests to them and [`IntoParams`] documents them. A list's own
/// filters are read by an [`ApiQuery`] beside it (names no route documents were refused
/// before routing, by [`crate::hardening`]).
///
/// `C` is the cursor's shape ([`IdCursor`] for the lists in id order, [`RoleNameCursor`] for
/// roles): it states in the document what a cursor looks like, so that a client (or a fuzzer)
/// generating one from the document sends one the list can read.
#[derive(Debug)]
pub struct PageParams<C = IdCursor> {
    /// The page size.
    pub limit: u32,
    cursor: Option<String>,
    shape: PhantomData<C>,
}

/// What a list's cursor looks like, for the document.
pub trait CursorShape {
    /// The schema of `?cursor=`.
    fn schema() -> Object;
}

/// The cursor of a list in id order: the last id of the previous page, a UUID.
#[derive(Debug)]
pub enum IdCursor {}

impl CursorShape for IdCursor {
    fn schema() -> Object {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::Custom("uuid".to_owned())))
            .build()
    }
}

/// The cursor of the role list: the last role name of the previous page.
#[derive(Debug)]
pub enum RoleNameCursor {}

impl CursorShape for RoleNameCursor {
    fn schema() -> Object {
        crate::schema::role_name()
    }
}

/// The two page parameters as sent.
#[derive(Deserialize)]
struct RawPage {
    limit: Option<u32>,
    cursor: Option<String>,
}

impl<C> PageParams<C> {
    fn new(raw: RawPage) -> Result<Self, ApiError> {
        let limit = match raw.limit {
            None => DEFAULT_PAGE_LIMIT,
            Some(limit) if (1..=MAX_PAGE_LIMIT).contains(&limit) => limit,
            Some(_) => {
                return Err(ApiError::InvalidParameter {
                    name: "limit".into(),
                    message: format!("must be between 1 and {MAX_PAGE_LIMIT}"),
                });
            }
        };
        Ok(Self {
            limit,
            cursor: raw.cursor,
            shape: PhantomData,
        })
    }

    /// The refusal of a cursor that no page of this list handed out.
    pub fn foreign_cursor() -> ApiError {
        ApiError::InvalidParameter {
            name: "cursor".into(),
            message: "not a cursor from this list".into(),
        }
    }
}

impl PageParams<IdCursor> {
    /// `?cursor=` as the last id of the previous page, else 400 `invalid_query` naming it.
    pub fn after<Id: FromStr>(&self) -> Result<Option<Id>, ApiError> {
        self.cursor
            .as_deref()
            .map(|cursor| cursor.parse().map_err(|_| Self::foreign_cursor()))
            .transpose()
    }
}

impl PageParams<RoleNameCursor> {
    /// `?cursor=` as sent: the last role name of the previous page.
    pub fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref()
    }
}

impl<C> FromRequest for PageParams<C> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).and_then(PageParams::new))
    }
}

impl<C: CursorShape> IntoParams for PageParams<C> {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let limit = ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
            .minimum(Some(1))
            .maximum(Some(MAX_PAGE_LIMIT))
            .default(Some(DEFAULT_PAGE_LIMIT.into()));
        vec![
            ParameterBuilder::new()
                .name("limit")
                .parameter_in(ParameterIn::Query)
                .description(Some(format!(
                    "Page size, 1 to {MAX_PAGE_LIMIT} (default {DEFAULT_PAGE_LIMIT})."
                )))
                .schema(Some(limit))
                .build(),
            ParameterBuilder::new()
                .name("cursor")
                .parameter_in(ParameterIn::Query)
                .description(Some(
                    "`next_cursor` of the previous page, passed back unchanged.",
                ))
                .schema(Some(C::schema()))
                .build(),
        ]
    }
}

/// A resource named by an id in the path.
pub trait PathResource: Sized {
    /// The path parameter that carries it (`{id}`, `{grant_id}`).
    const PARAMETER: &'static str;
    /// What a 404 names: "No such account."
    const RESOURCE: &'static str;
    /// The id, if `raw` is one.
    fn parse(raw: &str) -> Option<Self>;
}

impl PathResource for AccountId {
    const PARAMETER: &'static str = "id";
    const RESOURCE: &'static str = "account";
    fn parse(raw: &str) -> Option<Self> {
        raw.parse().ok()
    }
}

impl PathResource for ApiKeyId {
    const PARAMETER: &'static str = "id";
    const RESOURCE: &'static str = "api key";
    fn parse(raw: &str) -> Option<Self> {
        raw.parse().ok()
    }
}

impl PathResource for GrantId {
    const PARAMETER: &'static str = "grant_id";
    const RESOURCE: &'static str = "grant";
    fn parse(raw: &str) -> Option<Self> {
        raw.parse().ok()
    }
}

/// An id from the path. One that does not parse names no resource: 404 `not_found` naming
/// the kind ("No such account."), as an unknown id of the right shape is, but only to an
/// authenticated caller: whoever is not gets the [`Caller`]'s 401 and learns nothing about
/// the path. For routes that take a [`Caller`].
#[derive(Debug, Clone, Copy)]
pub struct PathId<T>(pub T);

impl<T: PathResource + 'static> FromRequest for PathId<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    /// actix extracts a handler's arguments together, not one after the other: a `Caller`
    /// still looking up its token would lose to an immediate 404 here, whatever the order of
    /// the arguments. So a malformed id waits for its own authentication of the request
    /// (a second token lookup, on this error path only) and answers the 401 first.
    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        match path_id::<T>(req) {
            Ok(id) => Box::pin(std::future::ready(Ok(PathId(id)))),
            Err(not_found) => {
                let caller = Caller::from_request(req, &mut Payload::None);
                Box::pin(async move {
                    caller.await?;
                    Err(not_found)
                })
            }
        }
    }
}

/// The id in `T`'s path parameter, else 404 `not_found` naming the resource.
fn path_id<T: PathResource>(req: &HttpRequest) -> Result<T, ApiError> {
    req.match_info()
        .get(T::PARAMETER)
        .and_then(T::parse)
        .ok_or(ApiError::App(AppError::NotFound(T::RESOURCE)))
}

/// A feature flag that switches routes off entirely.
pub trait FeatureGate {
    /// The flag.
    const FEATURE: Feature;
}

/// Passes while the flag `F` is on; while it is off the route answers 404 `not_found`, as a
/// path that does not exist does (the operations routes: health, metrics, features, this
/// document). Use-case flags, such as public registration's, are the application's to check.
#[derive(Debug)]
pub struct Enabled<F>(PhantomData<F>);

impl<F: FeatureGate> FromRequest for Enabled<F> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let enabled = req
            .app_data::<Data<Roster>>()
            .is_some_and(|roster| roster.is_enabled(F::FEATURE));
        std::future::ready(if enabled {
            Ok(Enabled(PhantomData))
        } else {
            Err(ApiError::NotFound)
        })
    }
}

/// `healthchecks`: `GET /healthz` and `GET /readyz`.
#[derive(Debug)]
pub enum Healthchecks {}
impl FeatureGate for Healthchecks {
    const FEATURE: Feature = Feature::Healthchecks;
}

/// `metrics`: `GET /metrics`.
#[derive(Debug)]
pub enum MetricsEndpoint {}
impl FeatureGate for MetricsEndpoint {
    const FEATURE: Feature = Feature::Metrics;
}

/// `openapi`: `GET /openapi.json`.
#[derive(Debug)]
pub enum OpenApiEndpoint {}
impl FeatureGate for OpenApiEndpoint {
    const FEATURE: Feature = Feature::Openapi;
}

/// `feature-flag-information-endpoint`: `GET /v1/features`.
#[derive(Debug)]
pub enum FeaturesEndpoint {}
impl FeatureGate for FeaturesEndpoint {
    const FEATURE: Feature = Feature::FeatureFlagInformationEndpoint;
}

/// Deserializes, tracking the path of the first offending field.
fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    // Every request body is an object. serde's derived structs also take an array of their
    // fields in order (`[]` for one whose fields all have defaults), which the contract does
    // not allow; other values than objects and arrays are refused by serde itself.
    let first = body
        .iter()
        .find(|byte| !matches!(byte, b' ' | b'\t' | b'\n' | b'\r'));
    if first == Some(&b'[') {
        return Err(ApiError::InvalidBody {
            field: None,
            message: "the body must be a JSON object, not an array".to_owned(),
        });
    }
    // Bodies are nearly always well formed: parse them as they are, and parse a refused one
    // again with its path tracked, for the problem to name the field.
    if let Ok(value) = serde_json::from_slice(body) {
        return Ok(value);
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        ApiError::InvalidBody {
            field: (path != ".").then_some(path),
            message: error.inner().to_string(),
        }
    })?;
    deserializer.end().map_err(|e| ApiError::InvalidBody {
        field: None,
        message: e.to_string(),
    })?;
    Ok(value)
}

/// The authenticated caller, from `Authorization: Bearer <token>`. Missing, malformed or
/// unknown tokens are 401 `unauthenticated` with `WWW-Authenticate: Bearer`.
#[derive(Debug)]
pub struct Caller(pub Authenticated);

/// The token of an `Authorization: Bearer` header (scheme case-insensitive).
fn bearer_token(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        BearerRequest::of(req).authenticate(Admission::Full, Caller)
    }
}

/// The caller of `POST /v1/auth/introspect`: like [`Caller`], but a service's API key allowed
/// to introspect is remembered for a second, so that its questions cost one lookup each
/// ([`Roster::authenticate_introspector`]).
#[derive(Debug, Clone)]
pub struct IntrospectionCaller(pub Authenticated);

impl FromRequest for IntrospectionCaller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        BearerRequest::of(req).authenticate(Admission::Introspection, IntrospectionCaller)
    }
}

/// The caller of the few routes a session that must enrol a second factor may still use
/// (`me`, logout, the MFA enrolment routes): like [`Caller`], but such a session is let in,
/// marked `mfa_enrolment_required`. Every other route takes [`Caller`], which answers 403
/// `mfa_enrolment_required` to it.
#[derive(Debug, Clone)]
pub struct EnrollingCaller(pub Authenticated);

impl FromRequest for EnrollingCaller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        BearerRequest::of(req).authenticate(Admission::Enrolment, EnrollingCaller)
    }
}

/// Which of the use cases' bearer checks an extractor asks for.
#[derive(Debug, Clone, Copy)]
enum Admission {
    /// [`Roster::authenticate_bearer`]: every route's.
    Full,
    /// [`Roster::authenticate_for_enrolment`]: held-back sessions let in, marked.
    Enrolment,
    /// [`Roster::authenticate_introspector`]: introspecting keys remembered for a second.
    Introspection,
}

/// What authenticating a request needs, taken from it before the future runs.
struct BearerRequest {
    roster: Option<Data<Roster>>,
    token: Option<String>,
    source_ip: Option<IpAddr>,
}

impl BearerRequest {
    /// Authenticates the request's bearer token as `admission` says, wrapped by `wrap`.
    fn authenticate<T: 'static>(
        self,
        admission: Admission,
        wrap: fn(Authenticated) -> T,
    ) -> LocalBoxFuture<'static, Result<T, ApiError>> {
        Box::pin(async move {
            let (roster, token) = self.parts()?;
            let ip = self.source_ip;
            let caller = match admission {
                Admission::Full => roster.authenticate_bearer(&token, ip).await,
                Admission::Enrolment => roster.authenticate_for_enrolment(&token, ip).await,
                Admission::Introspection => roster.authenticate_introspector(&token, ip).await,
            }?;
            Ok(wrap(caller))
        })
    }

    fn of(req: &HttpRequest) -> Self {
        Self {
            roster: req.app_data::<Data<Roster>>().cloned(),
            token: bearer_token(req),
            source_ip: client_ip(req),
        }
    }

    fn parts(&self) -> Result<(Data<Roster>, String), ApiError> {
        let roster = self.roster.clone().ok_or_else(|| {
            ApiError::App(AppError::Internal(
                "Roster not registered as app data".into(),
            ))
        })?;
        let token = self
            .token
            .clone()
            .ok_or(ApiError::App(AppError::Unauthenticated))?;
        Ok((roster, token))
    }
}

/// The client's address: the TCP peer. `X-Forwarded-For` is not trusted (a client could
/// write anything there); behind a proxy, every request shows the proxy's address.
pub fn client_ip(req: &HttpRequest) -> Option<IpAddr> {
    req.peer_addr().map(|addr| addr.ip())
}

/// The client's address as an extractor, for handlers of anonymous requests.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl FromRequest for ClientIp {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        std::future::ready(Ok(ClientIp(client_ip(req))))
    }
}

/// The client as a session records it at login: its address ([`client_ip`]) and its
/// `User-Agent` header as sent (bytes that are not UTF-8 become U+FFFD); the use case cleans
/// and cuts it before storing.
#[derive(Debug, Clone)]
pub struct Client(pub ClientInfo);

/// The `User-Agent` header as sent, if any.
pub fn user_agent(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::USER_AGENT)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
}

impl FromRequest for Client {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        std::future::ready(Ok(Client(ClientInfo {
            source_ip: client_ip(req),
            user_agent: user_agent(req),
        })))
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        email: String,
        nested: Option<Nested>,
    }

    /// A body whose fields may all be left out, like resending an invitation.
    #[derive(Debug, Default, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    #[allow(dead_code)]
    struct Defaults {
        expires_in: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Nested {
        count: u32,
    }

    fn field_of(error: ApiError) -> Option<String> {
        match error {
            ApiError::InvalidBody { field, .. } => field,
            other => panic!("expected invalid body, got {other:?}"),
        }
    }

    #[test]
    fn wrong_types_and_unknown_fields_name_the_field() {
        assert_eq!(
            field_of(parse_body::<Body>(br#"{"email": 5}"#).unwrap_err()).as_deref(),
            Some("email")
        );
        assert_eq!(
            field_of(
                parse_body::<Body>(br#"{"email": "a", "nested": {"count": "x"}}"#).unwrap_err()
            )
            .as_deref(),
            Some("nested.count")
        );
        assert_eq!(
            field_of(parse_body::<Body>(br#"{"email": "a", "emial": 1}"#).unwrap_err()).as_deref(),
            Some("emial")
        );
        assert!(parse_body::<Body>(br#"{"email": "a"} trailing"#).is_err());
        assert_eq!(
            field_of(parse_body::<Body>(br#" ["a", null]"#).unwrap_err()),
            None
        );
        assert_eq!(field_of(parse_body::<Defaults>(b"[]").unwrap_err()), None);
        assert!(parse_body::<Defaults>(b"{}").is_ok());
        assert!(parse_body::<Body>(br#"{"email": "a"}"#).is_ok());
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Page {
        limit: Option<u32>,
        cursor: Option<String>,
    }

    fn query_error(query: &str) -> (String, String) {
        match parse_query::<Page>(query).unwrap_err() {
            ApiError::InvalidQuery { name, message, .. } => (name, message),
            other => panic!("expected invalid query, got {other:?}"),
        }
    }

    #[test]
    fn query_errors_name_the_parameter() {
        assert_eq!(query_error("limit=abc").0, "limit");
        assert_eq!(query_error("cursor=x&limt=5").0, "limt");
        assert!(query_error("limit=1&limit=2").1.contains("limit"));
        let page = parse_query::<Page>("limit=5&cursor=a%20b").unwrap();
        assert_eq!((page.limit, page.cursor.as_deref()), (Some(5), Some("a b")));
    }

    fn page(query: &str) -> Result<PageParams, ApiError> {
        parse_query(query).and_then(PageParams::new)
    }

    #[test]
    fn page_limit_is_bounded_and_defaults() {
        assert_eq!(page("").unwrap().limit, DEFAULT_PAGE_LIMIT);
        assert_eq!(page("limit=1").unwrap().limit, 1);
        assert_eq!(page("limit=200&cursor=x").unwrap().limit, MAX_PAGE_LIMIT);
        for refused in ["limit=0", "limit=201", "limit=-1", "limit=x"] {
            match page(refused).unwrap_err() {
                ApiError::InvalidParameter { name, .. } | ApiError::InvalidQuery { name, .. } => {
                    assert_eq!(name, "limit", "{refused}");
                }
                other => panic!("{refused}: {other:?}"),
            }
        }
        // A list's own filters sit beside the page parameters.
        assert_eq!(page("email=a%40b.example&limit=7").unwrap().limit, 7);
    }

    #[test]
    fn a_cursor_must_be_an_id_of_the_list() {
        let id = uuid::Uuid::now_v7();
        let after: Option<AccountId> = page(&format!("cursor={id}")).unwrap().after().unwrap();
        assert_eq!(after.map(|id| id.to_string()), Some(id.to_string()));
        assert!(page("").unwrap().after::<AccountId>().unwrap().is_none());
        assert!(matches!(
            page("cursor=nope").unwrap().after::<AccountId>(),
            Err(ApiError::InvalidParameter { name, .. }) if name == "cursor"
        ));
    }

    fn parse_id<T: PathResource>(name: &'static str, value: &str) -> Result<T, ApiError> {
        let req = TestRequest::default()
            .param(name, value.to_owned())
            .to_http_request();
        path_id::<T>(&req)
    }

    #[test]
    fn a_path_id_that_does_not_parse_is_404_naming_the_resource() {
        let id = uuid::Uuid::now_v7().to_string();
        assert!(parse_id::<AccountId>("id", &id).is_ok());
        assert!(parse_id::<GrantId>("grant_id", &id).is_ok());
        for (result, resource) in [
            (parse_id::<AccountId>("id", "nope").map(|_| ()), "account"),
            (parse_id::<ApiKeyId>("id", "nope").map(|_| ()), "api key"),
            (parse_id::<GrantId>("grant_id", "1").map(|_| ()), "grant"),
            // The grant id is read from `{grant_id}`, not from the holder's `{id}`.
            (parse_id::<GrantId>("id", &id).map(|_| ()), "grant"),
        ] {
            match result {
                Err(ApiError::App(AppError::NotFound(named))) => assert_eq!(named, resource),
                other => panic!("{resource}: {other:?}"),
            }
        }
    }

    #[test]
    fn bearer_scheme_is_case_insensitive_and_token_required() {
        let token = |value: &str| {
            bearer_token(
                &TestRequest::default()
                    .insert_header(("Authorization", value))
                    .to_http_request(),
            )
        };
        assert_eq!(token("Bearer abc").as_deref(), Some("abc"));
        assert_eq!(token("bearer  abc ").as_deref(), Some("abc"));
        assert_eq!(token("Basic abc"), None);
        assert_eq!(token("Bearer "), None);
        assert_eq!(token("Bearer"), None);
    }

    #[test]
    fn content_type_must_be_json() {
        let req = |ct: &str| {
            TestRequest::default()
                .insert_header(("Content-Type", ct))
                .to_http_request()
        };
        assert!(is_json(&req("application/json")));
        assert!(is_json(&req("Application/JSON; charset=utf-8")));
        assert!(is_json(&req("application/merge-patch+json")));
        assert!(is_json(&req("APPLICATION/Problem+JSON")));
        assert!(!is_json(&req("text/plain")));
        assert!(!is_json(&req("application/jsonx")));
        assert!(!is_json(&req("text/x+json")));
        assert!(!is_json(&TestRequest::default().to_http_request()));
    }
}
