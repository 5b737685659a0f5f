//! Account administration: creating an account with its grants, finding and reading
//! accounts, disabling and enabling them, and giving one a new password.

use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use uuid::Uuid;

use crate::client::{Client, Retry};
use crate::error::Error;
use crate::types::{Account, AccountWithGrants, GrantRequest, Page, PageRequest};

/// `POST /v1/admin/account/register`: an account created by an administrator, with the
/// grants it starts with (all written together, or nothing).
///
/// ```
/// use roster_client::NewAccount;
///
/// let ada = NewAccount::new("ada@example.com", "correct horse battery staple")
///     .name("Ada")
///     .grant("tenant-admin", "acme");
/// assert!(!format!("{ada:?}").contains("horse"));
/// ```
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// The email address, unique case-insensitively.
    pub email: String,
    /// The first password (the service's policy applies: 15 characters by default).
    pub password: SecretString,
    /// The display name.
    pub name: Option<String>,
    /// Grants given with the account; each needs what giving it later would need.
    pub grants: Vec<GrantRequest>,
}

impl NewAccount {
    /// An account with this email and password, no name and no grants.
    pub fn new(email: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            email: email.into(),
            password: SecretString::from(password.into()),
            name: None,
            grants: Vec::new(),
        }
    }

    /// With this display name.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// With `role` on `scope` as well.
    #[must_use]
    pub fn grant(mut self, role: impl Into<String>, scope: impl Into<String>) -> Self {
        self.grants.push(GrantRequest::new(role, scope));
        self
    }
}

/// The wire form of a [`NewAccount`]: the password exposed here only, absent fields left
/// out (the service refuses unknown fields, and a null name).
#[derive(Serialize)]
struct NewAccountBody<'a> {
    email: &'a str,
    password: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    grants: &'a [GrantRequest],
}

impl<'a> From<&'a NewAccount> for NewAccountBody<'a> {
    fn from(account: &'a NewAccount) -> Self {
        Self {
            email: &account.email,
            password: account.password.expose_secret(),
            name: account.name.as_deref(),
            grants: &account.grants,
        }
    }
}

/// `GET /v1/admin/accounts`: a page of accounts, oldest first, optionally only the one with
/// an email address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AccountQuery {
    /// Which page.
    #[serde(flatten)]
    pub page: PageRequest,
    /// Only the account with this email (compared after normalization, so case does not
    /// matter); one that is no account's email matches nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl AccountQuery {
    /// Only the account with this email address.
    #[must_use]
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// This page of the list.
    #[must_use]
    pub fn page(mut self, page: PageRequest) -> Self {
        self.page = page;
        self
    }
}

#[derive(Serialize)]
struct NewPassword<'a> {
    new_password: &'a str,
}

impl Client {
    /// `POST /v1/admin/account/register`: creates an account with its grants (needs
    /// `account-create` on `*`). Works whatever the `account-registration` flag says. Never
    /// re-sent once sent: a second attempt could only answer `email_taken`.
    pub async fn register_account(&self, account: &NewAccount) -> Result<AccountWithGrants, Error> {
        self.call(
            Method::POST,
            "/v1/admin/account/register",
            Some(&NewAccountBody::from(account)),
            Retry::OnlyUnsent,
        )
        .await
    }

    /// `GET /v1/admin/accounts`: a page of accounts (needs `account-read` on `*`).
    pub async fn accounts(&self, query: &AccountQuery) -> Result<Page<Account>, Error> {
        self.get_query("/v1/admin/accounts", query).await
    }

    /// `GET /v1/admin/accounts/{id}`: the account with every grant it holds.
    pub async fn account(&self, id: Uuid) -> Result<AccountWithGrants, Error> {
        self.get(&format!("/v1/admin/accounts/{id}")).await
    }

    /// `POST /v1/admin/accounts/{id}/disable`: the account can no longer log in; its
    /// sessions and the API keys it created are revoked. Disabling a disabled account
    /// changes nothing, so this is retried like a read.
    pub async fn disable_account(&self, id: Uuid) -> Result<Account, Error> {
        self.call(
            Method::POST,
            &format!("/v1/admin/accounts/{id}/disable"),
            None::<&()>,
            Retry::Safe,
        )
        .await
    }

    /// `POST /v1/admin/accounts/{id}/enable`: the account can log in again (its revoked
    /// keys stay revoked). Never re-sent once sent: a repeat arriving after another admin
    /// disabled the account again (say, compromised) would undo that.
    pub async fn enable_account(&self, id: Uuid) -> Result<Account, Error> {
        self.call(
            Method::POST,
            &format!("/v1/admin/accounts/{id}/enable"),
            None::<&()>,
            Retry::OnlyUnsent,
        )
        .await
    }

    /// `PUT /v1/admin/accounts/{id}/password`: sets the account's password and ends all its
    /// sessions (needs `account-password-reset` on `*` and every right the account holds).
    /// Never re-sent once sent (it counts against the address's rate limit).
    pub async fn reset_account_password(&self, id: Uuid, new_password: &str) -> Result<(), Error> {
        self.call_no_content(
            Method::PUT,
            &format!("/v1/admin/accounts/{id}/password"),
            Some(&NewPassword { new_password }),
            Retry::OnlyUnsent,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_account_leaves_out_what_it_does_not_set() {
        let plain = NewAccount::new("ada@example.com", "a long enough password");
        assert_eq!(
            serde_json::to_value(NewAccountBody::from(&plain)).unwrap(),
            serde_json::json!({"email": "ada@example.com", "password": "a long enough password"})
        );
        let full = plain.name("Ada").grant("viewer", "acme");
        assert_eq!(
            serde_json::to_value(NewAccountBody::from(&full)).unwrap(),
            serde_json::json!({"email": "ada@example.com", "password": "a long enough password",
                               "name": "Ada", "grants": [{"role": "viewer", "scope": "acme"}]})
        );
    }

    #[test]
    fn a_new_account_never_shows_its_password() {
        let account = NewAccount::new("ada@example.com", "hunter2-but-longer");
        assert!(!format!("{account:?}").contains("hunter2"));
    }

    #[test]
    fn the_account_query_encodes_its_email_as_one_value() {
        let client = Client::builder("http://roster/prefix").build().unwrap();
        let query = AccountQuery::default()
            .email("ada+test@example.com&limit=1#x")
            .page(PageRequest::default().limit(10).after("c u"));
        assert_eq!(
            client.url_with_query("/v1/admin/accounts", &query).unwrap(),
            "http://roster/prefix/v1/admin/accounts\
             ?limit=10&cursor=c+u&email=ada%2Btest%40example.com%26limit%3D1%23x"
        );
        assert_eq!(
            client
                .url_with_query("/v1/admin/accounts", &AccountQuery::default())
                .unwrap(),
            "http://roster/prefix/v1/admin/accounts",
            "no parameter, no question mark"
        );
    }
}
