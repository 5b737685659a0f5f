//! The property the middleware rests on: deciding locally from what introspection answers
//! (with `roster-domain`, as the middleware does) decides exactly what
//! `POST /v1/authz/check` decides, for random roles, grants, principals (accounts and API
//! keys), actions and scopes, on the real binary and both databases.

use std::cell::Cell;
use std::collections::BTreeSet;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use roster_client::domain::{Action, ScopePath};
use roster_client::{Caller, CheckRequest, Client, Introspection};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::on_both_databases;
use crate::support::{Db, Roster};

on_both_databases!(local_decisions_from_introspection_equal_the_check_endpoint);

const SEGMENTS: [&str; 4] = ["acme", "berlin", "x", "globex"];
const ACTIONS: [&str; 7] = [
    "issuer-sign",
    "issuer-read",
    "issuer",
    "account-read",
    "audit-read",
    "a",
    "token-introspect",
];
const PATTERNS: [&str; 5] = ["all", "issuer-*", "issuer*", "a*", "account-*"];

/// A role: its rules as `(action pattern, effect)`.
type RoleRules = Vec<(String, &'static str)>;

/// What one case sets up and asks.
#[derive(Debug, Clone)]
struct World {
    roles: Vec<RoleRules>,
    /// Per principal (two accounts, then one API key): `(role index, grant scope)`.
    holders: Vec<Vec<(usize, String)>>,
    /// `(action, scope)` asked of every principal.
    questions: Vec<(&'static str, String)>,
}

fn rule() -> impl Strategy<Value = (String, &'static str)> {
    let pattern = prop_oneof![
        3 => prop::sample::select(&ACTIONS[..]).prop_map(str::to_owned),
        2 => prop::sample::select(&PATTERNS[..]).prop_map(str::to_owned),
    ];
    let effect = prop_oneof![3 => Just("allow"), 1 => Just("deny")];
    (pattern, effect)
}

/// Grant scopes: `*`, or a path whose segments after the first may be `*`.
fn grant_scope() -> impl Strategy<Value = String> {
    let segment = prop_oneof![3 => prop::sample::select(&SEGMENTS[..]), 1 => Just("*")];
    (
        prop::sample::select(&SEGMENTS[..]),
        prop::collection::vec(segment, 0..=2),
        prop::bool::weighted(0.15),
    )
        .prop_map(|(first, rest, root)| {
            if root {
                return "*".to_owned();
            }
            let mut segments = vec![first];
            segments.extend(rest);
            segments.join(".")
        })
}

/// Concrete places: `*` or a path of up to four segments.
fn question_scope() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(&SEGMENTS[..]), 0..=4).prop_map(|segments| {
        if segments.is_empty() {
            "*".to_owned()
        } else {
            segments.join(".")
        }
    })
}

fn world() -> impl Strategy<Value = World> {
    let roles = prop::collection::vec(prop::collection::vec(rule(), 1..=3), 1..=4);
    roles.prop_flat_map(|roles| {
        let count = roles.len();
        let grant = (0..count, grant_scope());
        let holders = prop::collection::vec(prop::collection::vec(grant, 0..=4), 3);
        let question = (prop::sample::select(&ACTIONS[..]), question_scope());
        let questions = prop::collection::vec(question, 12);
        (Just(roles), holders, questions).prop_map(|(roles, holders, questions)| World {
            roles,
            holders,
            questions,
        })
    })
}

/// A principal of the world, as the check endpoint names it and by its token.
struct Subject {
    check: fn(CheckRequest, Uuid) -> CheckRequest,
    id: Uuid,
    token: String,
}

/// Creates the world's roles, two accounts and one API key holding their grants.
async fn build(roster: &Roster, root: &str, case: usize, world: &World) -> Vec<Subject> {
    let names: Vec<String> = (0..world.roles.len())
        .map(|i| format!("case{case}-role{i}"))
        .collect();
    for (name, rules) in names.iter().zip(&world.roles) {
        let mut seen = BTreeSet::new();
        let permissions: Vec<Value> = rules
            .iter()
            .filter(|(pattern, _)| seen.insert(pattern.clone()))
            .map(|(pattern, effect)| json!({"action": pattern, "effect": effect}))
            .collect();
        roster
            .admin(
                "POST",
                "/v1/admin/roles",
                &json!({"name": name, "permissions": permissions}),
                root,
            )
            .await;
    }
    let distinct = |grants: &[(usize, String)]| -> Vec<(String, String)> {
        let set: BTreeSet<(String, String)> = grants
            .iter()
            .map(|(role, scope)| (names[*role].clone(), scope.clone()))
            .collect();
        set.into_iter().collect()
    };
    let mut subjects = Vec::new();
    for holder in &world.holders[..2] {
        let (id, token) = roster.account(root, "case").await;
        for (role, scope) in distinct(holder) {
            roster.grant(root, &id, &role, &scope).await;
        }
        subjects.push(Subject {
            check: CheckRequest::for_account,
            id: id.parse().unwrap(),
            token,
        });
    }
    let grants: Vec<Value> = distinct(&world.holders[2])
        .into_iter()
        .map(|(role, scope)| json!({"role": role, "scope": scope}))
        .collect();
    let key = roster
        .admin(
            "POST",
            "/v1/admin/api-keys",
            &json!({"name": format!("case {case}"), "grants": grants}),
            root,
        )
        .await;
    subjects.push(Subject {
        check: CheckRequest::for_api_key,
        id: key["id"].as_str().unwrap().parse().unwrap(),
        token: key["key"].as_str().unwrap().to_owned(),
    });
    subjects
}

/// Asks every question of every principal both ways; the number of allows seen.
async fn compare(
    service: &Client,
    root: &Client,
    subjects: &[Subject],
    world: &World,
) -> Result<usize, TestCaseError> {
    let mut allowed = 0;
    for subject in subjects {
        let Introspection::Active(token) = service.introspect(&subject.token).await.unwrap() else {
            return Err(TestCaseError::fail("a fresh token is inactive"));
        };
        let principal = token.principal().unwrap();
        let caller = Caller::from_active(*token).unwrap();
        for (action, scope) in &world.questions {
            let request = (subject.check)(CheckRequest::new(*action, scope.clone()), subject.id);
            let remote = root.check(&request).await.unwrap().allowed;
            let (action, scope) = (
                Action::parse(action).unwrap(),
                ScopePath::parse(scope).unwrap(),
            );
            prop_assert_eq!(
                principal.allows(&action, &scope),
                remote,
                "roster-domain's evaluate for {} on {}",
                action,
                scope
            );
            prop_assert_eq!(
                caller.allows(&action, &scope),
                remote,
                "the middleware's compiled set for {} on {}",
                action,
                scope
            );
            allowed += usize::from(remote);
        }
    }
    Ok(allowed)
}

async fn local_decisions_from_introspection_equal_the_check_endpoint(db: Db) {
    let Some(roster) = Roster::start(db, &[]) else {
        return;
    };
    let root_token = roster.root_token().await;
    let root = roster.client().with_token(root_token.clone());
    let service = roster
        .client()
        .with_token(roster.service_key(&root_token).await);
    let runtime = tokio::runtime::Handle::current();
    let mut runner = TestRunner::new(Config {
        cases: 16,
        max_shrink_iters: 32,
        failure_persistence: None,
        ..Config::default()
    });
    // The runner takes an `Fn`: the tallies are cells.
    let case = Cell::new(0);
    let allowed = Cell::new(0);
    let asked = Cell::new(0);
    tokio::task::block_in_place(|| {
        runner
            .run(&world(), |world| {
                case.set(case.get() + 1);
                runtime.block_on(async {
                    let subjects = build(&roster, &root_token, case.get(), &world).await;
                    asked.set(asked.get() + subjects.len() * world.questions.len());
                    let allowed_here = compare(&service, &root, &subjects, &world).await?;
                    allowed.set(allowed.get() + allowed_here);
                    Ok(())
                })
            })
            .unwrap();
    });
    let (allowed, asked) = (allowed.get(), asked.get());
    assert!(
        allowed > 0 && allowed < asked,
        "the random worlds decide both ways: {allowed} allowed of {asked}"
    );
}
