//! Stories of the console's own tables: sessions, sign-in throttling and attachments.

use chrono::TimeDelta;
use fq_domain::account::AccountId;
use fq_domain::case::CaseId;
use fq_domain::journal::NewEvent;
use fq_store::{AttachmentRecord, Change, LoginThrottle, Op, SessionRecord, StoreError};
use serde_json::json;
use uuid::Uuid;

use super::assert_intact;
use crate::Harness;
use crate::fixtures::{account, at, case, case_change, org, org_change, tree_change};

fn session(id_hash: &str, account: AccountId, seconds: i64) -> SessionRecord {
    SessionRecord {
        id_hash: id_hash.into(),
        account,
        csrf: format!("csrf-{id_hash}"),
        created_at: at(seconds),
        expires_at: at(seconds) + TimeDelta::hours(12),
        revoked: false,
    }
}

pub async fn sessions_insert_revoke_and_conflict(h: &dyn Harness) {
    let store = h.store();
    store.commit(tree_change()).await.unwrap();
    let centre = org("路桥区调解中心", "331004");
    store.commit(org_change(&centre)).await.unwrap();
    let (zhang, li) = (account("zhang.san", centre.id, "mediator", "331004"), account("li.si", centre.id, "staff", "331004"));
    for a in [&zhang, &li] {
        store.commit(Change::new().op(Op::InsertAccount { account: a.clone(), password_hash: None })).await.unwrap();
    }
    let (z1, z2, l1) = (session("aa01", zhang.id, 0), session("aa02", zhang.id, 60), session("bb01", li.id, 120));
    store
        .commit(
            Change::new()
                .op(Op::InsertSession(z1.clone()))
                .op(Op::InsertSession(z2.clone()))
                .op(Op::InsertSession(l1.clone()))
                .event(NewEvent::new(format!("account:{}", zhang.id), "session.started", "system", json!({}))),
        )
        .await
        .unwrap();
    assert_eq!(store.session("aa01").await.unwrap(), Some(z1.clone()));
    assert_eq!(store.session("bb01").await.unwrap(), Some(l1.clone()));
    assert_eq!(store.session("AA01").await.unwrap(), None, "hashes are matched exactly");
    assert_eq!(store.session("cc01").await.unwrap(), None);

    // A hash already used: a conflict, and nothing of the change is written.
    let head = store.recorded_head().await.unwrap();
    let twin = SessionRecord { csrf: "other".into(), ..session("aa01", li.id, 500) };
    let err = store
        .commit(
            Change::new()
                .op(Op::PutLoginThrottle(LoginThrottle {
                    login: "li.si".into(),
                    failures: 1,
                    window_start: at(1),
                    locked_until: None,
                }))
                .op(Op::InsertSession(twin))
                .event(NewEvent::new("account:x", "session.started", "system", json!({}))),
        )
        .await
        .unwrap_err();
    assert!(matches!(&err, StoreError::Conflict { entity: "session", key } if key == "aa01"), "{err:?}");
    assert_eq!(store.session("aa01").await.unwrap(), Some(z1.clone()));
    assert_eq!(store.login_throttle("li.si").await.unwrap(), None);
    assert_eq!(store.recorded_head().await.unwrap(), head);

    // A session of an account that does not exist is refused.
    let err = store.commit(Change::new().op(Op::InsertSession(session("dd01", AccountId(Uuid::now_v7()), 0)))).await.unwrap_err();
    assert!(matches!(&err, StoreError::Missing { .. }), "{err:?}");
    assert_eq!(store.session("dd01").await.unwrap(), None);

    // Signing out revokes one session; it is still read, flagged.
    store.commit(Change::new().op(Op::RevokeSession { id_hash: "aa01".into() })).await.unwrap();
    assert_eq!(store.session("aa01").await.unwrap(), Some(SessionRecord { revoked: true, ..z1.clone() }));
    assert_eq!(store.session("aa02").await.unwrap(), Some(z2.clone()));
    // Again is harmless; an unknown session is missing, and refuses its whole change.
    store.commit(Change::new().op(Op::RevokeSession { id_hash: "aa01".into() })).await.unwrap();
    let err = store
        .commit(Change::new().op(Op::RevokeSession { id_hash: "aa02".into() }).op(Op::RevokeSession { id_hash: "zz99".into() }))
        .await
        .unwrap_err();
    assert!(matches!(&err, StoreError::Missing { entity: "session", key } if key == "zz99"), "{err:?}");
    assert!(!store.session("aa02").await.unwrap().unwrap().revoked, "the whole change was refused");

    // Every session of one account; the other account's stay.
    store.commit(Change::new().op(Op::RevokeAccountSessions { account: zhang.id })).await.unwrap();
    assert!(store.session("aa01").await.unwrap().unwrap().revoked);
    assert_eq!(store.session("aa02").await.unwrap(), Some(SessionRecord { revoked: true, ..z2 }));
    assert_eq!(store.session("bb01").await.unwrap(), Some(l1.clone()));
    // An account without sessions (or with none left to revoke) is fine.
    store.commit(Change::new().op(Op::RevokeAccountSessions { account: AccountId(Uuid::now_v7()) })).await.unwrap();
    store.commit(Change::new().op(Op::RevokeAccountSessions { account: zhang.id })).await.unwrap();
    store.commit(Change::new().op(Op::RevokeAccountSessions { account: li.id })).await.unwrap();
    assert_eq!(store.session("bb01").await.unwrap(), Some(SessionRecord { revoked: true, ..l1 }));
    assert_intact(store, 3).await;
}

pub async fn login_throttles_replace_and_clear(h: &dyn Harness) {
    let store = h.store();
    assert_eq!(store.login_throttle("li.si").await.unwrap(), None);
    let first = LoginThrottle { login: "li.si".into(), failures: 1, window_start: at(0), locked_until: None };
    let other = LoginThrottle { login: "无此人".into(), failures: 3, window_start: at(5), locked_until: None };
    store.commit(Change::new().op(Op::PutLoginThrottle(first.clone())).op(Op::PutLoginThrottle(other.clone()))).await.unwrap();
    assert_eq!(store.login_throttle("li.si").await.unwrap(), Some(first));
    assert_eq!(store.login_throttle("无此人").await.unwrap(), Some(other.clone()));
    assert_eq!(store.login_throttle("LI.SI").await.unwrap(), None, "logins are matched exactly");

    // Replaced whole: failures, window and lock.
    let locked = LoginThrottle { login: "li.si".into(), failures: 5, window_start: at(60), locked_until: Some(at(960)) };
    store.commit(Change::new().op(Op::PutLoginThrottle(locked.clone()))).await.unwrap();
    assert_eq!(store.login_throttle("li.si").await.unwrap(), Some(locked));
    let reset = LoginThrottle { login: "li.si".into(), failures: 0, window_start: at(2_000), locked_until: None };
    store.commit(Change::new().op(Op::PutLoginThrottle(reset.clone()))).await.unwrap();
    assert_eq!(store.login_throttle("li.si").await.unwrap(), Some(reset));

    // Cleared: gone; the other login keeps its row; clearing nothing is fine.
    store.commit(Change::new().op(Op::ClearLoginThrottle { login: "li.si".into() })).await.unwrap();
    assert_eq!(store.login_throttle("li.si").await.unwrap(), None);
    assert_eq!(store.login_throttle("无此人").await.unwrap(), Some(other));
    store.commit(Change::new().op(Op::ClearLoginThrottle { login: "li.si".into() })).await.unwrap();
    store.commit(Change::new().op(Op::ClearLoginThrottle { login: "nobody".into() })).await.unwrap();
}

fn attachment(id: Uuid, name: &str, bytes: &[u8], seconds: i64) -> AttachmentRecord {
    AttachmentRecord {
        id,
        case_id: None,
        name: name.into(),
        content_type: "application/octet-stream".into(),
        size: bytes.len() as u64,
        blake3: format!("{:064x}", bytes.len()),
        uploaded_by: "account:zhang.san".into(),
        uploaded_at: at(seconds),
    }
}

pub async fn attachments_round_trip_and_attach(h: &dyn Harness) {
    let store = h.store();
    // Not UTF-8 anywhere: a NUL, lone continuation bytes, an invalid sequence, and 200 kB of
    // every byte value (overflow pages on SQLite, TOAST on PostgreSQL).
    let mut big = vec![0xff, 0xfe, 0x00, 0x80, b'P', b'K', 0xc3, 0x28, 0xed, 0xa0, 0x80];
    big.extend((0..200_000u32).map(|i| (i.wrapping_mul(31) % 256) as u8));
    assert!(std::str::from_utf8(&big).is_err());
    let small = vec![0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];
    let empty: Vec<u8> = Vec::new();

    // Ids chosen so that two files uploaded at the same instant order by id, not by insertion.
    let (low, high) = (
        Uuid::parse_str("0197a1b2-0000-7000-8000-000000000009").unwrap(),
        Uuid::parse_str("0197a1b2-0000-7000-8000-00000000000a").unwrap(),
    );
    let big_file = attachment(Uuid::now_v7(), "调解协议.pdf", &big, 100);
    let png_high = AttachmentRecord { content_type: "image/png".into(), ..attachment(high, "现场.png", &small, 50) };
    let png_low = attachment(low, "现场2.png", &small, 50);
    let nothing = attachment(Uuid::now_v7(), "空.txt", &empty, 10);
    for (record, bytes) in [(&big_file, &big), (&png_high, &small), (&png_low, &small), (&nothing, &empty)] {
        store
            .commit(Change::new().op(Op::InsertAttachment { record: record.clone(), bytes: bytes.clone() }).event(NewEvent::new(
                format!("attachment:{}", record.id),
                "attachment.uploaded",
                "system",
                json!({}),
            )))
            .await
            .unwrap();
    }
    assert_eq!(store.attachment(big_file.id).await.unwrap(), Some(big_file.clone()));
    assert_eq!(store.attachment_bytes(big_file.id).await.unwrap(), Some(big.clone()), "bytes come back exactly");
    assert_eq!(store.attachment(png_high.id).await.unwrap(), Some(png_high.clone()));
    assert_eq!(store.attachment_bytes(png_low.id).await.unwrap(), Some(small.clone()));
    assert_eq!(store.attachment(nothing.id).await.unwrap(), Some(nothing.clone()));
    assert_eq!(store.attachment_bytes(nothing.id).await.unwrap(), Some(Vec::new()), "an empty file is not a missing one");
    let unknown = Uuid::now_v7();
    assert_eq!(store.attachment(unknown).await.unwrap(), None);
    assert_eq!(store.attachment_bytes(unknown).await.unwrap(), None);

    // An id already used: a conflict; the first file is untouched.
    let twin = AttachmentRecord { name: "别的.txt".into(), ..attachment(big_file.id, "x", b"other", 200) };
    let err = store.commit(Change::new().op(Op::InsertAttachment { record: twin, bytes: b"other".to_vec() })).await.unwrap_err();
    assert!(matches!(&err, StoreError::Conflict { entity: "attachment", key } if *key == big_file.id.to_string()), "{err:?}");
    assert_eq!(store.attachment(big_file.id).await.unwrap(), Some(big_file.clone()));
    assert_eq!(store.attachment_bytes(big_file.id).await.unwrap(), Some(big.clone()));

    // Attached with the case that opens: oldest upload first, ties by id.
    let opened = case("gov", 2025, 1, "331004");
    let mut change = case_change(&opened);
    change.ops.push(Op::AttachToCase { attachments: vec![big_file.id, png_high.id, png_low.id], case: opened.id });
    store.commit(change).await.unwrap();
    let attached = |r: &AttachmentRecord| AttachmentRecord { case_id: Some(opened.id), ..r.clone() };
    assert_eq!(store.case_attachments(opened.id).await.unwrap(), [attached(&png_low), attached(&png_high), attached(&big_file)]);
    assert_eq!(store.attachment(big_file.id).await.unwrap(), Some(attached(&big_file)));
    assert_eq!(store.attachment_bytes(big_file.id).await.unwrap(), Some(big.clone()), "attaching keeps the bytes");
    assert_eq!(store.attachment(nothing.id).await.unwrap().unwrap().case_id, None);
    assert!(store.case_attachments(CaseId(Uuid::now_v7())).await.unwrap().is_empty());

    // One unknown id refuses the whole change, naming the id.
    let other = case("gov", 2025, 2, "331004");
    let head = store.recorded_head().await.unwrap();
    let mut change = case_change(&other);
    change.ops.push(Op::AttachToCase { attachments: vec![nothing.id, unknown], case: other.id });
    let err = store.commit(change).await.unwrap_err();
    assert!(matches!(&err, StoreError::Missing { entity: "attachment", key } if *key == unknown.to_string()), "{err:?}");
    assert_eq!(store.attachment(nothing.id).await.unwrap().unwrap().case_id, None);
    assert_eq!(store.case_record(other.id).await.unwrap(), None);
    assert!(store.case_attachments(other.id).await.unwrap().is_empty());
    assert_eq!(store.recorded_head().await.unwrap(), head);

    // Without the unknown id it goes through; an empty list is fine.
    let mut change = case_change(&other);
    change.ops.push(Op::AttachToCase { attachments: vec![nothing.id], case: other.id });
    change.ops.push(Op::AttachToCase { attachments: Vec::new(), case: other.id });
    store.commit(change).await.unwrap();
    let with_other = AttachmentRecord { case_id: Some(other.id), ..nothing };
    assert_eq!(store.case_attachments(other.id).await.unwrap(), [with_other]);
    assert_eq!(store.case_attachments(opened.id).await.unwrap().len(), 3);
    assert_intact(store, 6).await;
}
