//! Snapshots of an account: restored only against the log's event they name, and then the very
//! account that reading every event makes, with every kind of event in its history.

use receivables_domain::account::CustomerAccount;
use receivables_domain::account::snapshot::{AccountSnapshot, SnapshotError};
use receivables_domain::event::RecordedEvent;
use receivables_domain::ids::{CustomerId, Position};
use receivables_domain::testing::{EnvelopeBuilder, sample, sample_bank_stream, sample_history_of};

/// Every sample event of `account_id`'s kind of account, chained as the service writes them.
fn history_of(account_id: &CustomerId) -> Vec<RecordedEvent> {
    let types = sample_history_of(account_id);
    let mut account = CustomerAccount::new(account_id.clone());
    let mut history = Vec::new();
    for event_type in types {
        // Positions with gaps, as a log shared with other customers gives them.
        let position = account.position().get() + 3;
        let recorded = EnvelopeBuilder::new(account_id.clone(), sample(event_type))
            .after(&account)
            .at(position);
        account
            .apply(&recorded)
            .expect("the sample history applies");
        history.push(recorded);
    }
    history
}

fn customer() -> CustomerId {
    CustomerId::parse("C-1").expect("a valid id")
}

fn loaded(account_id: &CustomerId, events: &[RecordedEvent]) -> CustomerAccount {
    CustomerAccount::from_history(account_id.clone(), events).expect("the history applies")
}

fn snapshot_bytes(account: &CustomerAccount) -> Vec<u8> {
    account.snapshot().expect("an account can be saved")
}

fn restore(
    account_id: &CustomerId,
    bytes: &[u8],
    anchor: &RecordedEvent,
) -> Result<CustomerAccount, SnapshotError> {
    CustomerAccount::restore(account_id, AccountSnapshot::decode(bytes)?, anchor)
}

#[test]
fn a_snapshot_at_any_event_and_the_events_after_it_make_the_account_every_event_makes() {
    for account_id in [customer(), CustomerId::group(), sample_bank_stream()] {
        // Given a history with every kind of event of this account
        let history = history_of(&account_id);
        let whole = loaded(&account_id, &history);
        for cut in 1..=history.len() {
            // When the account is snapshotted after `cut` events, restored against the last of
            // them, and the rest applied
            let (before, after) = history.split_at(cut);
            let bytes = snapshot_bytes(&loaded(&account_id, before));
            let mut restored =
                restore(&account_id, &bytes, &before[cut - 1]).expect("the snapshot restores");
            for event in after {
                restored.apply(event).expect("the rest applies");
            }
            // Then it is the account of the whole history
            assert_eq!(restored, whole, "{account_id}, snapshot after {cut} events");
        }
    }
}

#[test]
fn a_snapshot_names_the_position_and_count_of_the_last_event_it_covers() {
    // Given an account of three events
    let history = history_of(&customer());
    let account = loaded(&customer(), &history[..3]);
    // When its snapshot is read back
    let snapshot = AccountSnapshot::decode(&snapshot_bytes(&account)).expect("readable");
    // Then it ends at the third event: positions 3, 6, 9 (see `history_of`)
    assert_eq!(snapshot.head().position, Position::new(9));
    assert_eq!(snapshot.head().event_count, 3);
    assert_eq!(snapshot.customer_id(), &customer());
}

#[test]
fn a_snapshot_damaged_in_storage_is_refused() {
    let history = history_of(&customer());
    let bytes = snapshot_bytes(&loaded(&customer(), &history));
    // A digit of an amount changed, a byte of the digest changed, the end cut off
    let digit = bytes
        .iter()
        .rposition(|b| b.is_ascii_digit())
        .expect("the snapshot holds digits");
    let mut changed_digit = bytes.clone();
    changed_digit[digit] = if bytes[digit] == b'1' { b'2' } else { b'1' };
    let mut changed_digest = bytes.clone();
    changed_digest[0] ^= 0x01;
    let cut = &bytes[..bytes.len() - 10];
    for damaged in [
        changed_digit.as_slice(),
        changed_digest.as_slice(),
        cut,
        &bytes[..5],
    ] {
        assert_eq!(
            AccountSnapshot::decode(damaged).map(|_| ()),
            Err(SnapshotError::Damaged)
        );
    }
}

#[test]
fn a_snapshot_is_refused_against_any_event_but_the_one_it_names() {
    // Given a snapshot after the second event of a history
    let history = history_of(&customer());
    let bytes = snapshot_bytes(&loaded(&customer(), &history[..2]));
    // The third event (another position, another hash), the second event at another position,
    // the second event with its content changed (its hash no longer its content's), and the
    // second event of a history of the same events with other event ids (another log)
    let mut moved = history[1].clone();
    moved.position = Position::new(moved.position.get() + 1);
    let mut tampered = history[1].clone();
    tampered.envelope.recorded_at += chrono::Duration::seconds(1);
    let other_log = history_of(&customer());
    for anchor in [&history[2], &moved, &tampered, &other_log[1]] {
        let refused = restore(&customer(), &bytes, anchor);
        assert!(
            matches!(refused, Err(SnapshotError::NotInChain { position, .. }) if position == history[1].position),
            "restored against {anchor:?}: {refused:?}"
        );
    }
    // And the second event itself restores it
    assert!(restore(&customer(), &bytes, &history[1]).is_ok());
}

#[test]
fn a_snapshot_of_one_customer_is_not_restored_as_another() {
    let history = history_of(&customer());
    let bytes = snapshot_bytes(&loaded(&customer(), &history));
    let other = CustomerId::parse("C-2").expect("a valid id");
    assert!(matches!(
        restore(&other, &bytes, history.last().expect("events")),
        Err(SnapshotError::OtherCustomer { .. })
    ));
}

#[test]
fn a_snapshot_written_by_another_release_is_not_restored() {
    use sha2::{Digest, Sha256};
    // Given a snapshot whose content names another release, with a digest that matches it (as
    // the other release would have written it)
    let history = history_of(&customer());
    let bytes = snapshot_bytes(&loaded(&customer(), &history));
    let mut content: serde_json::Value = serde_json::from_slice(&bytes[32..]).expect("JSON");
    for (field, value) in [
        ("release", serde_json::json!("0.0.0-elsewhere")),
        ("format", serde_json::json!(0)),
    ] {
        let mut other = content.clone();
        other[field] = value;
        let other = serde_json::to_vec(&other).expect("JSON");
        let mut rewritten = Sha256::digest(&other).to_vec();
        rewritten.extend_from_slice(&other);
        // When it is read back, then it is refused as another release's
        assert!(
            matches!(
                AccountSnapshot::decode(&rewritten),
                Err(SnapshotError::OtherRelease { .. })
            ),
            "{field}"
        );
    }
    // And the same rewriting of this release's own content is read
    content["release"] = serde_json::json!(env!("CARGO_PKG_VERSION"));
    let own = serde_json::to_vec(&content).expect("JSON");
    let mut rewritten = Sha256::digest(&own).to_vec();
    rewritten.extend_from_slice(&own);
    assert!(AccountSnapshot::decode(&rewritten).is_ok());
}
