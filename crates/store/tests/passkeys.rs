//! Passkeys and WebAuthn ceremonies on both backends: adding and removing a passkey keeps
//! `accounts.has_second_factor` with its audit event in one transaction, a credential belongs
//! to one account, a ceremony finishes at most once and never after it expired; expired
//! ceremonies and second steps of sign-in are forgotten.

// The shared helpers serve store.rs too; this file uses only some of them.
#[allow(dead_code)]
#[macro_use]
mod common;

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use common::TestDb;
use roster_app::model::{
    AuditAction, AuditEvent, AuditQuery, Ceremony, CeremonyPurpose, CeremonyState, Conflict,
    CredentialId, MfaChallenge, Passkey, PasskeyCredential, PasskeyId, PasswordHash, SessionId,
    StoreError, StoredPasskey, TokenDigest,
};
use roster_app::ports::{AccountRepository, AuditLog, MfaStore, PasskeyStore};
use roster_domain::{Account, AccountId, AccountStatus, Email};
use roster_store::Store;
use uuid::Uuid;

on_both_backends!(
    passkeys_are_added_listed_found_used_and_removed_with_the_flag_kept,
    a_confirmed_totp_keeps_the_flag_when_the_last_passkey_goes,
    a_credential_is_registered_once_across_accounts,
    concurrent_changes_to_one_accounts_passkeys_leave_the_flag_right,
    a_ceremony_is_taken_once_with_everything_it_was_saved_with,
    racing_takes_of_one_ceremony_get_it_once,
    an_expired_ceremony_is_not_taken,
    expired_ceremonies_are_forgotten_in_batches_and_live_ones_kept,
    expired_second_steps_are_forgotten_in_batches_and_live_ones_kept,
);

fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

async fn stored_account(store: &Store, email: &str) -> Account {
    let at = now();
    let account = Account {
        id: AccountId::new(Uuid::now_v7()),
        email: Email::parse(email).unwrap(),
        name: None,
        status: AccountStatus::Active,
        is_superadmin: false,
        email_verified: true,
        has_second_factor: false,
        created_at: at,
        updated_at: at,
    };
    store
        .insert(
            &account,
            &PasswordHash::new("$argon2id$x"),
            &[],
            &AuditEvent::new(AuditAction::AccountRegistered, at),
        )
        .await
        .unwrap();
    account
}

async fn has_second_factor(store: &Store, account: &Account) -> bool {
    store
        .find_by_id(account.id)
        .await
        .unwrap()
        .expect("the account exists")
        .has_second_factor
}

fn passkey(owner: &Account, name: &str, at: DateTime<Utc>) -> StoredPasskey {
    let id = Uuid::now_v7();
    StoredPasskey {
        passkey: Passkey {
            id: PasskeyId::new(id),
            name: name.to_owned(),
            created_at: at,
            last_used_at: None,
        },
        account_id: owner.id,
        credential_id: CredentialId(format!("cred-{}", id.simple())),
        credential: PasskeyCredential(format!(r#"{{"counter": 0, "of": "{name}"}}"#)),
    }
}

/// An audit event of the kind the use cases will record for passkey changes; the store
/// records whichever it is handed.
fn audit(target: &StoredPasskey) -> AuditEvent {
    AuditEvent::new(AuditAction::PasswordChanged, now()).target("passkey", target.passkey.id)
}

async fn audited(store: &Store, event: &AuditEvent) -> bool {
    let query = AuditQuery {
        actor: None,
        action: None,
        before: None,
        limit: 100,
    };
    let page = store.list_audit_events(&query).await.unwrap();
    page.events.iter().any(|e| e.id == event.id)
}

async fn passkeys_are_added_listed_found_used_and_removed_with_the_flag_kept(db: TestDb) {
    let store = db.store();
    let ada = stored_account(&store, "ada@example.com").await;
    let grace = stored_account(&store, "grace@example.com").await;
    assert!(!has_second_factor(&store, &ada).await);

    let t0 = now();
    let laptop = passkey(&ada, "Laptop", t0);
    let phone = passkey(&ada, "Phone", t0 + TimeDelta::seconds(1));
    let graces = passkey(&grace, "Key", t0);
    // Added newest first: the list is still oldest first.
    for key in [&phone, &laptop, &graces] {
        let event = audit(key);
        store.add_passkey(key, &event).await.unwrap();
        assert!(audited(&store, &event).await);
    }
    assert!(has_second_factor(&store, &ada).await);
    assert!(has_second_factor(&store, &grace).await);
    assert_eq!(
        store.list_passkeys(ada.id).await.unwrap(),
        [laptop.clone(), phone.clone()]
    );
    assert_eq!(
        store.find_passkey(&graces.credential_id).await.unwrap(),
        Some(graces.clone())
    );
    assert_eq!(
        store
            .find_passkey(&CredentialId("unknown".into()))
            .await
            .unwrap(),
        None
    );

    // A use without a new credential state keeps the credential; with one, replaces it.
    let t1 = t0 + TimeDelta::minutes(1);
    store
        .record_passkey_use(laptop.passkey.id, t1, None)
        .await
        .unwrap();
    let t2 = t0 + TimeDelta::minutes(2);
    let counted = PasskeyCredential(r#"{"counter": 1}"#.into());
    store
        .record_passkey_use(phone.passkey.id, t2, Some(counted.clone()))
        .await
        .unwrap();
    let listed = store.list_passkeys(ada.id).await.unwrap();
    assert_eq!(listed[0].passkey.last_used_at, Some(t1));
    assert_eq!(listed[0].credential, laptop.credential);
    assert_eq!(listed[1].passkey.last_used_at, Some(t2));
    assert_eq!(listed[1].credential, counted);
    assert_eq!(
        store.list_passkeys(grace.id).await.unwrap(),
        std::slice::from_ref(&graces)
    );

    // Another account's passkey is not removed, and nothing is recorded.
    let refused = audit(&graces);
    assert!(
        !store
            .remove_passkey(ada.id, graces.passkey.id, &refused)
            .await
            .unwrap()
    );
    assert!(!audited(&store, &refused).await);
    assert!(
        store
            .find_passkey(&graces.credential_id)
            .await
            .unwrap()
            .is_some()
    );

    // Removing one of two keeps the flag; removing the last clears it.
    let event = audit(&laptop);
    assert!(
        store
            .remove_passkey(ada.id, laptop.passkey.id, &event)
            .await
            .unwrap()
    );
    assert!(audited(&store, &event).await);
    assert!(has_second_factor(&store, &ada).await);
    assert!(
        !store
            .remove_passkey(ada.id, laptop.passkey.id, &audit(&laptop))
            .await
            .unwrap()
    );
    assert!(
        store
            .remove_passkey(ada.id, phone.passkey.id, &audit(&phone))
            .await
            .unwrap()
    );
    assert!(!has_second_factor(&store, &ada).await);
    assert!(store.list_passkeys(ada.id).await.unwrap().is_empty());
    // Grace's flag never moved with Ada's passkeys.
    assert!(has_second_factor(&store, &grace).await);
}

async fn a_confirmed_totp_keeps_the_flag_when_the_last_passkey_goes(db: TestDb) {
    let store = db.store();
    let ada = stored_account(&store, "ada@example.com").await;
    let grace = stored_account(&store, "grace@example.com").await;
    // The TOTP store is not written yet: a confirmed TOTP for Ada, a pending one for Grace.
    let mut raw = db.raw_connection();
    let add_totp = "INSERT INTO mfa_totp (account_id, sealed_secret, created_at, confirmed_at) \
                    VALUES ($1, 'v1.sealed', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)";
    raw.execute(add_totp, &[&ada.id.to_string()]).unwrap();
    let add_pending = "INSERT INTO mfa_totp (account_id, sealed_secret, created_at) \
                       VALUES ($1, 'v1.sealed', CURRENT_TIMESTAMP)";
    raw.execute(add_pending, &[&grace.id.to_string()]).unwrap();

    for account in [&ada, &grace] {
        let key = passkey(account, "Laptop", now());
        store.add_passkey(&key, &audit(&key)).await.unwrap();
        assert!(has_second_factor(&store, account).await);
        assert!(
            store
                .remove_passkey(account.id, key.passkey.id, &audit(&key))
                .await
                .unwrap()
        );
    }
    assert!(has_second_factor(&store, &ada).await, "the confirmed TOTP");
    assert!(
        !has_second_factor(&store, &grace).await,
        "a pending TOTP is no factor"
    );
}

async fn a_credential_is_registered_once_across_accounts(db: TestDb) {
    let store = db.store();
    let ada = stored_account(&store, "ada@example.com").await;
    let grace = stored_account(&store, "grace@example.com").await;
    let first = passkey(&ada, "Laptop", now());
    store.add_passkey(&first, &audit(&first)).await.unwrap();

    for owner in [&ada, &grace] {
        let copy = StoredPasskey {
            credential_id: first.credential_id.clone(),
            ..passkey(owner, "Copy", now())
        };
        let event = audit(&copy);
        assert_eq!(
            store.add_passkey(&copy, &event).await,
            Err(StoreError::Duplicate(Conflict::PasskeyCredential))
        );
        assert!(
            !audited(&store, &event).await,
            "rolled back with the passkey"
        );
    }
    assert!(!has_second_factor(&store, &grace).await);
    assert_eq!(store.list_passkeys(grace.id).await.unwrap(), []);
    assert_eq!(store.list_passkeys(ada.id).await.unwrap(), [first]);
}

/// Each round removes the account's one passkey while another is added: whichever commits
/// first, the account ends with a passkey and the flag says so (on PostgreSQL a recount from
/// a snapshot older than the other commit would clear it). Then pairs of additions race: the
/// account row's lock must not deadlock with the key-share locks their inserts take.
async fn concurrent_changes_to_one_accounts_passkeys_leave_the_flag_right(db: TestDb) {
    let store = db.store();
    let ada = stored_account(&store, "ada@example.com").await;
    let mut current = passkey(&ada, "Key 0", now());
    store.add_passkey(&current, &audit(&current)).await.unwrap();
    for round in 1..=12 {
        let next = passkey(&ada, &format!("Key {round}"), now());
        let (adding, removing) = (store.clone(), store.clone());
        let (added, old) = (next.clone(), current.clone());
        let add = tokio::spawn(async move { adding.add_passkey(&added, &audit(&added)).await });
        let remove = tokio::spawn(async move {
            removing
                .remove_passkey(old.account_id, old.passkey.id, &audit(&old))
                .await
        });
        add.await.unwrap().unwrap();
        assert!(remove.await.unwrap().unwrap());
        assert!(has_second_factor(&store, &ada).await, "round {round}");
        current = next;
    }
    // Two additions at once neither deadlock nor fail.
    for round in 1..=5 {
        let both: Vec<_> = (0..2)
            .map(|n| {
                let store = store.clone();
                let key = passkey(&ada, &format!("Extra {round}.{n}"), now());
                tokio::spawn(async move { store.add_passkey(&key, &audit(&key)).await })
            })
            .collect();
        for add in both {
            add.await.unwrap().unwrap();
        }
    }
    assert_eq!(store.list_passkeys(ada.id).await.unwrap().len(), 11);
}

fn ceremony(
    purpose: CeremonyPurpose,
    account: Option<&Account>,
    expires_at: DateTime<Utc>,
) -> Ceremony {
    let created_at = expires_at - TimeDelta::minutes(5);
    Ceremony {
        challenge: format!("challenge-{}", Uuid::now_v7().simple()),
        purpose,
        account_id: account.map(|a| a.id),
        session_id: None,
        mfa_challenge_id: None,
        state: CeremonyState(format!(r#"{{"ceremony": "{}"}}"#, purpose.as_str())),
        created_at,
        expires_at,
    }
}

async fn a_ceremony_is_taken_once_with_everything_it_was_saved_with(db: TestDb) {
    let store = db.store();
    let ada = stored_account(&store, "ada@example.com").await;
    let t0 = now();
    let later = t0 + TimeDelta::minutes(5);
    let ceremonies = [
        Ceremony {
            session_id: Some(SessionId::new(Uuid::now_v7())),
            ..ceremony(CeremonyPurpose::Register, Some(&ada), later)
        },
        Ceremony {
            mfa_challenge_id: Some(Uuid::now_v7()),
            ..ceremony(CeremonyPurpose::SecondFactor, Some(&ada), later)
        },
        Ceremony {
            session_id: Some(SessionId::new(Uuid::now_v7())),
            ..ceremony(CeremonyPurpose::StepUp, Some(&ada), later)
        },
        ceremony(CeremonyPurpose::Passwordless, None, later),
    ];
    for saved in &ceremonies {
        store.save_ceremony(saved).await.unwrap();
    }
    for saved in &ceremonies {
        assert_eq!(
            store
                .take_ceremony(&saved.challenge, t0)
                .await
                .unwrap()
                .as_ref(),
            Some(saved)
        );
        assert_eq!(
            store.take_ceremony(&saved.challenge, t0).await.unwrap(),
            None
        );
    }
    assert_eq!(store.take_ceremony("unknown", t0).await.unwrap(), None);
}

async fn racing_takes_of_one_ceremony_get_it_once(db: TestDb) {
    let store = db.store();
    let t0 = now();
    let saved = ceremony(
        CeremonyPurpose::Passwordless,
        None,
        t0 + TimeDelta::minutes(5),
    );
    store.save_ceremony(&saved).await.unwrap();
    let racers: Vec<_> = (0..6)
        .map(|_| {
            let store = store.clone();
            let challenge = saved.challenge.clone();
            tokio::spawn(async move { store.take_ceremony(&challenge, t0).await.unwrap() })
        })
        .collect();
    let mut taken = Vec::new();
    for racer in racers {
        taken.extend(racer.await.unwrap());
    }
    assert_eq!(taken, [saved]);
}

async fn an_expired_ceremony_is_not_taken(db: TestDb) {
    let store = db.store();
    let t0 = now();
    let expired = ceremony(CeremonyPurpose::Passwordless, None, t0);
    store.save_ceremony(&expired).await.unwrap();
    // Expired at its expiry instant.
    assert_eq!(
        store.take_ceremony(&expired.challenge, t0).await.unwrap(),
        None
    );
    // And it is gone: not even a clock running behind gets it.
    let earlier = t0 - TimeDelta::minutes(1);
    assert_eq!(
        store
            .take_ceremony(&expired.challenge, earlier)
            .await
            .unwrap(),
        None
    );

    let live = ceremony(CeremonyPurpose::Passwordless, None, t0);
    store.save_ceremony(&live).await.unwrap();
    let just_before = t0 - TimeDelta::microseconds(1);
    assert_eq!(
        store
            .take_ceremony(&live.challenge, just_before)
            .await
            .unwrap(),
        Some(live)
    );
}

async fn expired_ceremonies_are_forgotten_in_batches_and_live_ones_kept(db: TestDb) {
    let store = db.store();
    let t0 = now();
    for minutes in [1, 2, 3] {
        let expired = ceremony(
            CeremonyPurpose::Passwordless,
            None,
            t0 - TimeDelta::minutes(minutes),
        );
        store.save_ceremony(&expired).await.unwrap();
    }
    let live = ceremony(
        CeremonyPurpose::Passwordless,
        None,
        t0 + TimeDelta::minutes(1),
    );
    store.save_ceremony(&live).await.unwrap();

    assert_eq!(store.forget_expired_ceremonies(t0, 2).await.unwrap(), 2);
    assert_eq!(store.forget_expired_ceremonies(t0, 10).await.unwrap(), 1);
    assert_eq!(store.forget_expired_ceremonies(t0, 10).await.unwrap(), 0);
    assert_eq!(
        store.take_ceremony(&live.challenge, t0).await.unwrap(),
        Some(live)
    );
}

async fn expired_second_steps_are_forgotten_in_batches_and_live_ones_kept(db: TestDb) {
    let store = db.store();
    let account = stored_account(&store, "second-step@example.com").await;
    let t0 = now();
    let open = |n: u8, expires_at: DateTime<Utc>| {
        let store = &store;
        async move {
            let challenge = MfaChallenge {
                id: Uuid::now_v7(),
                account_id: account.id,
                expires_at,
                failures: 0,
            };
            let digest = TokenDigest::new(format!("{n:064x}"));
            store
                .open_mfa_challenge(&challenge, &digest, expires_at - TimeDelta::minutes(5))
                .await
                .unwrap();
            digest
        }
    };
    for (n, minutes) in [(1, 1), (2, 2), (3, 3)] {
        open(n, t0 - TimeDelta::minutes(minutes)).await;
    }
    let live = open(4, t0 + TimeDelta::minutes(1)).await;

    assert_eq!(store.forget_expired_challenges(t0, 2).await.unwrap(), 2);
    assert_eq!(store.forget_expired_challenges(t0, 10).await.unwrap(), 1);
    assert_eq!(store.forget_expired_challenges(t0, 10).await.unwrap(), 0);
    let found = store.find_mfa_challenge(&live, t0, 5).await.unwrap();
    assert!(found.is_some(), "the live second step is kept");
}
