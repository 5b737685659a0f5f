//! The routes of Roster's API as methods of [`Client`](crate::Client), one module per group.

pub mod accounts;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod grants;
pub mod invitations;
pub mod mfa;
pub mod roles;
pub mod self_service;
