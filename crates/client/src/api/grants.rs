//! Grants of accounts and of API keys: a role on a scope, listed, given and taken away.
//! Giving or taking one needs `grant-manage` on its scope and every right the role allows
//! (no escalation).

use reqwest::Method;
use uuid::Uuid;

use crate::client::{Client, Retry};
use crate::error::Error;
use crate::types::{Grant, GrantRequest, Page, PageRequest};

impl Client {
    /// `GET /v1/admin/accounts/{id}/grants`: a page of the account's grants, oldest first
    /// (needs `account-read` on `*`).
    pub async fn account_grants(
        &self,
        account: Uuid,
        page: &PageRequest,
    ) -> Result<Page<Grant>, Error> {
        self.get_query(&format!("/v1/admin/accounts/{account}/grants"), page)
            .await
    }

    /// `POST /v1/admin/accounts/{id}/grants`: gives `grant` to the account. Never re-sent
    /// once sent.
    pub async fn grant_to_account(
        &self,
        account: Uuid,
        grant: &GrantRequest,
    ) -> Result<Grant, Error> {
        self.call(
            Method::POST,
            &format!("/v1/admin/accounts/{account}/grants"),
            Some(grant),
            Retry::OnlyUnsent,
        )
        .await
    }

    /// `DELETE /v1/admin/accounts/{id}/grants/{grant_id}`: takes the grant away, effective
    /// on the holder's next request. Retried like a read: a repeat changes nothing (though
    /// one that follows a lost answer reads 404).
    pub async fn delete_account_grant(&self, account: Uuid, grant: Uuid) -> Result<(), Error> {
        self.call_no_content(
            Method::DELETE,
            &format!("/v1/admin/accounts/{account}/grants/{grant}"),
            None::<&()>,
            Retry::Safe,
        )
        .await
    }

    /// `GET /v1/admin/api-keys/{id}/grants`: a page of the key's grants, oldest first (needs
    /// `apikey-manage` on `*`).
    pub async fn api_key_grants(
        &self,
        api_key: Uuid,
        page: &PageRequest,
    ) -> Result<Page<Grant>, Error> {
        self.get_query(&format!("/v1/admin/api-keys/{api_key}/grants"), page)
            .await
    }

    /// `POST /v1/admin/api-keys/{id}/grants`: gives `grant` to the API key. Never re-sent
    /// once sent.
    pub async fn grant_to_api_key(
        &self,
        api_key: Uuid,
        grant: &GrantRequest,
    ) -> Result<Grant, Error> {
        self.call(
            Method::POST,
            &format!("/v1/admin/api-keys/{api_key}/grants"),
            Some(grant),
            Retry::OnlyUnsent,
        )
        .await
    }

    /// `DELETE /v1/admin/api-keys/{id}/grants/{grant_id}`: takes the grant away from the
    /// key. Retried like a read.
    pub async fn delete_api_key_grant(&self, api_key: Uuid, grant: Uuid) -> Result<(), Error> {
        self.call_no_content(
            Method::DELETE,
            &format!("/v1/admin/api-keys/{api_key}/grants/{grant}"),
            None::<&()>,
            Retry::Safe,
        )
        .await
    }
}
