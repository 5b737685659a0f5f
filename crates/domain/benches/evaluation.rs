//! In-process permission evaluation: what an embedding service pays per check.
//!
//! Run with `cargo bench -p roster-domain --bench evaluation`; results are summarised in
//! `docs/performance.md`.
//!
//! The principal holds N rules (1, 20, 200, 2000) spread over grants on varied scopes: about
//! half of each grant's segments follow the target's path, the rest name other tenants and
//! services, and some are `*`. The check is `issuer-sign` on an 8-segment target, allowed by
//! an `issuer-*` rule on `acme`, with deny rules along the path that do not match it, so
//! every check walks the whole path (no early deny).

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use roster_domain::{
    Action, ActionPattern, Grant, GrantId, Permission, PermissionSet, RoleName, ScopePath, evaluate,
};
use uuid::Uuid;

const TARGET: &str = "acme.berlin.issuer.keys.v2.eu.prod.signer";
const RULE_COUNTS: [usize; 4] = [1, 20, 200, 2000];
const RULES_PER_GRANT: usize = 4;

/// A small deterministic generator (xorshift64), so every run benchmarks the same grants.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        usize::try_from(self.0 % n as u64).expect("below n")
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

fn scope(s: &str) -> ScopePath {
    ScopePath::parse(s).expect("valid scope")
}

fn pattern(s: &str) -> ActionPattern {
    ActionPattern::parse(s).expect("valid pattern")
}

/// A scope of 1 to 8 segments, each following the target's path half the time.
fn varied_scope(rng: &mut Rng) -> ScopePath {
    let on_path: Vec<&str> = TARGET.split('.').collect();
    let elsewhere = [
        "globex", "paris", "tokyo", "dev", "billing", "v1", "us", "staging",
    ];
    let depth = 1 + rng.below(on_path.len());
    let segments: Vec<&str> = (0..depth)
        .map(|i| match rng.below(10) {
            0 if i > 0 => "*",
            0..5 => on_path[i],
            _ => rng.pick(&elsewhere),
        })
        .collect();
    scope(&segments.join("."))
}

/// A rule: mostly allows of exact actions and prefixes, some denies that never match
/// `issuer-sign`.
fn varied_rule(rng: &mut Rng) -> Permission {
    let services = ["issuer", "account", "audit", "billing", "keys", "webhook"];
    let operations = ["read", "write", "delete", "rotate", "list", "sign"];
    let (service, operation) = (rng.pick(&services), rng.pick(&operations));
    match rng.below(10) {
        0 | 1 => {
            let denied = if service == "issuer" {
                "billing"
            } else {
                service
            };
            Permission::deny(pattern(&format!("{denied}-*")))
        }
        2 => Permission::deny(pattern(&format!("{service}-{operation}-all"))),
        3..6 => Permission::allow(pattern(&format!("{service}-*"))),
        6 => Permission::allow(ActionPattern::All),
        _ => Permission::allow(pattern(&format!("{service}-{operation}"))),
    }
}

/// `rules` rules: one `allow issuer-*` on `acme`, the rest in grants of up to four rules.
fn grants(rules: usize) -> Vec<Grant> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut grants = vec![Grant {
        id: GrantId::new(Uuid::from_u128(0)),
        role: RoleName::parse("issuer-operator").expect("valid role"),
        scope: scope("acme"),
        permissions: vec![Permission::allow(pattern("issuer-*"))],
    }];
    let mut remaining = rules - 1;
    while remaining > 0 {
        let count = remaining.min(RULES_PER_GRANT);
        remaining -= count;
        grants.push(Grant {
            id: GrantId::new(Uuid::from_u128(grants.len() as u128)),
            role: RoleName::parse(&format!("role-{}", grants.len())).expect("valid role"),
            scope: varied_scope(&mut rng),
            permissions: (0..count).map(|_| varied_rule(&mut rng)).collect(),
        });
    }
    debug_assert_eq!(
        grants.iter().map(|g| g.permissions.len()).sum::<usize>(),
        rules
    );
    grants
}

fn checks(c: &mut Criterion) {
    let action = Action::parse("issuer-sign").expect("valid action");
    let target = scope(TARGET);

    let mut compiled = c.benchmark_group("permission_set_allows");
    for rules in RULE_COUNTS {
        let set = PermissionSet::compile(&grants(rules));
        assert!(
            set.allows(&action, &target),
            "the benchmarked check is allowed"
        );
        compiled.bench_with_input(BenchmarkId::from_parameter(rules), &set, |b, set| {
            b.iter(|| black_box(set).allows(black_box(&action), black_box(&target)));
        });
    }
    compiled.finish();

    let mut uncompiled = c.benchmark_group("evaluate");
    for rules in RULE_COUNTS {
        let grants = grants(rules);
        uncompiled.bench_with_input(BenchmarkId::from_parameter(rules), &grants, |b, g| {
            b.iter(|| evaluate(black_box(g), black_box(&action), black_box(&target)));
        });
    }
    uncompiled.finish();
}

fn compile(c: &mut Criterion) {
    let mut group = c.benchmark_group("permission_set_compile");
    for rules in RULE_COUNTS {
        let grants = grants(rules);
        group.bench_with_input(BenchmarkId::from_parameter(rules), &grants, |b, g| {
            b.iter(|| PermissionSet::compile(black_box(g)));
        });
    }
    group.finish();
}

fn parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("scope_path_parse");
    for segments in [1, 4, 8] {
        let input = TARGET
            .split('.')
            .take(segments)
            .collect::<Vec<_>>()
            .join(".");
        group.bench_with_input(BenchmarkId::from_parameter(segments), &input, |b, s| {
            b.iter(|| ScopePath::parse(black_box(s)));
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    targets = checks, compile, parse
}
criterion_main!(benches);
