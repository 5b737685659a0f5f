//! How another Rust service embeds `roster-domain` to make the decisions Roster makes.
//!
//! Run with `cargo run -p roster-domain --example check_permissions`.
//!
//! A service typically loads a principal's grants once (from Roster's API or its own cache),
//! compiles them into a `PermissionSet`, and then checks every request against it in-process.

use roster_domain::{
    AccountId, Action, ActionPattern, Grant, GrantId, Permission, Principal, PrincipalId, Role,
    RoleName, ScopePath,
};
use uuid::Uuid;

/// A grant carries its role's rules, so evaluation needs nothing else.
fn grant(id: u128, role: &Role, scope: &str) -> Result<Grant, Box<dyn std::error::Error>> {
    Ok(Grant {
        id: GrantId::new(Uuid::from_u128(id)),
        role: role.name.clone(),
        scope: ScopePath::parse(scope)?,
        permissions: role.permissions.clone(),
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Two roles, as an administrator would define them in Roster.
    let tenant_admin = Role {
        name: RoleName::parse("tenant-admin")?,
        description: "Everything within a tenant".to_owned(),
        permissions: vec![Permission::allow(ActionPattern::All)],
    };
    let no_key_deletion = Role {
        name: RoleName::parse("no-key-deletion")?,
        description: "Keys are deleted by the security team only".to_owned(),
        permissions: vec![Permission::deny(ActionPattern::parse("issuer-key-*")?)],
    };

    // Alice administers the Berlin tenant of acme, but may not delete any issuer's keys.
    let alice = Principal {
        id: PrincipalId::Account(AccountId::new(Uuid::from_u128(1))),
        is_superadmin: false,
        grants: vec![
            grant(1, &tenant_admin, "acme.berlin")?,
            grant(2, &no_key_deletion, "acme.*.issuer")?,
        ]
        .into(),
    };

    // Compile once, check many times.
    let permissions = alice.permission_set();

    let checks = [
        ("issuer-sign", "acme.berlin.issuer"),
        ("issuer-key-delete", "acme.berlin.issuer"),
        ("issuer-key-delete", "acme.berlin.dev"),
        ("issuer-sign", "acme.paris.issuer"),
        ("account-read", "*"),
    ];
    for (action_name, scope_name) in checks {
        let (action, scope) = (Action::parse(action_name)?, ScopePath::parse(scope_name)?);
        let verdict = if permissions.allows(&action, &scope) {
            "allowed"
        } else {
            "denied"
        };
        println!("{action_name:<18} on {scope_name:<20} {verdict}");
    }

    // When a check fails, `explain` says which rule of which grant decided it.
    let action = Action::parse("issuer-key-delete")?;
    let scope = ScopePath::parse("acme.berlin.issuer")?;
    println!("\nwhy? {}", permissions.explain(&action, &scope));
    Ok(())
}
