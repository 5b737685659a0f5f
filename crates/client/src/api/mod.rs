//! The routes of Roster's API as methods of [`Client`](crate::Client), one module per group.

pub mod auth;
