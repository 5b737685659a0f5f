//! Route table. Each resource lists its methods; any other method gets a 405 problem.
//! Every route here is documented in `crate::openapi` (checked by the server's API tests).

pub(crate) mod admin_accounts;
pub(crate) mod admin_api_keys;
pub(crate) mod audit;
pub(crate) mod authz;
pub(crate) mod features;
pub(crate) mod grants;
pub(crate) mod health;
pub(crate) mod introspect;
pub(crate) mod invitations;
pub(crate) mod login;
pub(crate) mod me;
pub(crate) mod mfa;
pub(crate) mod password_reset;
pub(crate) mod register;
pub(crate) mod roles;
pub(crate) mod verify_email;

use actix_web::body::BoxBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::{StatusCode, header};
use actix_web::middleware::{Next, from_fn};
use actix_web::web::{self, ServiceConfig};
use actix_web::{HttpResponse, ResponseError};

use crate::problem::ApiError;

/// Registers every route ([`crate::configure`] adds the app data the routes share). The
/// caller puts `Data<Roster>` and
/// `Data<ClientRateLimiter>` (login and public registration) into the app.
///
/// actix tries resources in registration order (and again for the metrics' route label),
/// and every pattern with a `{parameter}` is a regex match: the calls services make on every
/// request (check, introspect, me) come first, so they skip the walk over the administration
/// routes (about 10 µs of CPU for the check when it came after them).
pub(crate) fn configure(cfg: &mut ServiceConfig) {
    // Routes read queries with `ApiQuery`; a `web::Query` still answers with a problem.
    cfg.app_data(web::QueryConfig::default().error_handler(|error, _| {
        ApiError::InvalidQuery {
            name: "?".to_owned(),
            code: "invalid_value",
            message: error.to_string(),
        }
        .into()
    }))
    .service(resource("/v1/authz/check").route(web::post().to(authz::check)))
    .service(resource("/v1/auth/introspect").route(web::post().to(introspect::introspect)))
    .service(resource("/v1/account/me").route(web::get().to(me::me)))
    .service(resource("/v1/account/register").route(web::post().to(register::register_self)))
    .service(
        resource("/v1/account/registration-policy")
            .route(web::get().to(register::registration_policy)),
    )
    .service(
        resource("/v1/admin/account/register").route(web::post().to(register::register_by_admin)),
    )
    .service(
        resource("/v1/account/password-reset")
            .route(web::post().to(password_reset::request_password_reset)),
    )
    .service(
        resource("/v1/account/password-reset/confirm")
            .route(web::post().to(password_reset::confirm_password_reset)),
    )
    .service(resource("/v1/account/invitations/accept").route(web::post().to(invitations::accept)))
    .service(resource("/v1/account/verify-email").route(web::post().to(verify_email::verify)))
    .service(
        resource("/v1/account/verify-email/resend").route(web::post().to(verify_email::resend)),
    )
    .service(resource("/v1/auth/login").route(web::post().to(login::login)))
    .service(resource("/v1/auth/login/mfa").route(web::post().to(login::login_second_factor)))
    .service(
        resource("/v1/auth/login/mfa/passkey/start")
            .route(web::post().to(login::start_login_passkey)),
    )
    .service(
        resource("/v1/auth/login/mfa/passkey/finish")
            .route(web::post().to(login::finish_login_passkey)),
    )
    .service(resource("/v1/auth/passkey/start").route(web::post().to(login::start_passkey_sign_in)))
    .service(
        resource("/v1/auth/passkey/finish").route(web::post().to(login::finish_passkey_sign_in)),
    )
    .service(resource("/v1/auth/step-up").route(web::post().to(mfa::step_up)))
    .service(
        resource("/v1/auth/step-up/passkey/start")
            .route(web::post().to(mfa::start_step_up_passkey)),
    )
    .service(
        resource("/v1/auth/step-up/passkey/finish")
            .route(web::post().to(mfa::finish_step_up_passkey)),
    )
    .service(resource("/v1/auth/logout").route(web::post().to(me::logout)))
    .service(resource("/v1/account/me/mfa").route(web::get().to(mfa::status)))
    .service(
        resource("/v1/account/me/mfa/totp")
            .route(web::post().to(mfa::begin_totp))
            .route(web::delete().to(mfa::remove_totp)),
    )
    .service(resource("/v1/account/me/mfa/totp/confirm").route(web::post().to(mfa::confirm_totp)))
    .service(
        resource("/v1/account/me/mfa/recovery-codes")
            .route(web::post().to(mfa::renew_recovery_codes)),
    )
    .service(
        resource("/v1/account/me/passkeys/register/start")
            .route(web::post().to(mfa::start_passkey_registration)),
    )
    .service(
        resource("/v1/account/me/passkeys/register/finish")
            .route(web::post().to(mfa::finish_passkey_registration)),
    )
    .service(resource("/v1/account/me/passkeys/{id}").route(web::delete().to(mfa::remove_passkey)))
    .service(resource("/v1/account/me/password").route(web::put().to(me::change_password)))
    .service(resource("/v1/account/me/sessions").route(web::get().to(me::sessions)))
    .service(resource("/v1/account/me/sessions/{id}").route(web::delete().to(me::revoke_session)))
    .service(resource("/v1/admin/accounts").route(web::get().to(admin_accounts::list)))
    .service(resource("/v1/admin/accounts/{id}").route(web::get().to(admin_accounts::get)))
    .service(
        resource("/v1/admin/accounts/{id}/disable").route(web::post().to(admin_accounts::disable)),
    )
    .service(
        resource("/v1/admin/accounts/{id}/enable").route(web::post().to(admin_accounts::enable)),
    )
    .service(
        resource("/v1/admin/accounts/{id}/password")
            .route(web::put().to(admin_accounts::reset_password)),
    )
    .service(
        resource("/v1/admin/api-keys")
            .route(web::post().to(admin_api_keys::create))
            .route(web::get().to(admin_api_keys::list)),
    )
    .service(
        resource("/v1/admin/api-keys/{id}")
            .route(web::get().to(admin_api_keys::get))
            .route(web::delete().to(admin_api_keys::revoke)),
    )
    .service(
        resource("/v1/admin/accounts/{id}/grants")
            .route(web::post().to(grants::create_for_account))
            .route(web::get().to(grants::list_for_account)),
    )
    .service(
        resource("/v1/admin/accounts/{id}/grants/{grant_id}")
            .route(web::delete().to(grants::delete_for_account)),
    )
    .service(
        resource("/v1/admin/api-keys/{id}/grants")
            .route(web::post().to(grants::create_for_api_key))
            .route(web::get().to(grants::list_for_api_key)),
    )
    .service(
        resource("/v1/admin/api-keys/{id}/grants/{grant_id}")
            .route(web::delete().to(grants::delete_for_api_key)),
    )
    .service(
        resource("/v1/admin/roles")
            .route(web::post().to(roles::create))
            .route(web::get().to(roles::list)),
    )
    .service(
        resource("/v1/admin/roles/{name}")
            .route(web::get().to(roles::get))
            .route(web::put().to(roles::replace))
            .route(web::delete().to(roles::delete)),
    )
    .service(
        resource("/v1/admin/invitations")
            .route(web::post().to(invitations::create))
            .route(web::get().to(invitations::list)),
    )
    .service(
        resource("/v1/admin/invitations/{id}")
            .route(web::get().to(invitations::get))
            .route(web::delete().to(invitations::revoke)),
    )
    .service(
        resource("/v1/admin/invitations/{id}/resend").route(web::post().to(invitations::resend)),
    )
    .service(resource("/v1/admin/audit-events").route(web::get().to(audit::list)))
    .service(resource("/v1/admin/audit-events/export").route(web::get().to(audit::export)))
    .service(resource("/v1/features").route(web::get().to(features::list)))
    .service(resource("/healthz").route(web::get().to(health::live)))
    .service(resource("/readyz").route(web::get().to(health::ready)))
    .service(resource("/metrics").route(web::get().to(health::metrics)))
    .service(resource("/openapi.json").route(web::get().to(health::openapi)))
    .default_service(web::to(not_found));
}

/// A resource whose unsupported methods get the 405 problem with `Allow`.
fn resource(
    path: &str,
) -> actix_web::Resource<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<BoxBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    web::resource(path).wrap(from_fn(method_not_allowed))
}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}

/// actix answers a method the resource lacks with a bare 405 whose `Allow` lists the
/// resource's methods (RFC 9110 requires it); this turns that into the `method_not_allowed`
/// problem and keeps `Allow`.
async fn method_not_allowed(
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let response = next.call(req).await?;
    if response.status() != StatusCode::METHOD_NOT_ALLOWED {
        return Ok(response);
    }
    let allow = response.headers().get(header::ALLOW).cloned();
    let (request, _) = response.into_parts();
    let mut problem = ApiError::MethodNotAllowed.error_response();
    if let Some(allow) = allow {
        problem.headers_mut().insert(header::ALLOW, allow);
    }
    Ok(ServiceResponse::new(request, problem))
}
