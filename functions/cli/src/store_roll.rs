//! The embedded store's voter roll: each entry one line (`voter_line.rs`), searched at sign-up
//! by a hash of its identity key (table in `store.rs`'s schema).

use crate::store::{unavailable, ReadIndex, SqliteStore};
use rusqlite::{params, OptionalExtension};
use wmb_core::formats::VoterRecord;
use wmb_core::ports::*;
use wmb_core::signup::IdentityKey;

impl VoterRoll for SqliteStore {
    async fn put_voters(&self, voters: &[VoterRecord]) -> Result<usize, StoreError> {
        let mut written = 0;
        for v in voters {
            if self.voter(&v.votecal_id).await?.as_ref() != Some(v) {
                self.put_voter(v).await?;
                written += 1;
            }
        }
        Ok(written)
    }

    async fn put_voter(&self, voter: &VoterRecord) -> Result<(), StoreError> {
        let record = crate::voter_line::to_line(voter);
        let identity = identity_hash(&IdentityKey::of_voter(voter));
        self.with(|c| {
            c.prepare_cached("INSERT INTO voters (votecal_id, identity_hash, record) VALUES (?1, ?2, ?3)
                 ON CONFLICT(votecal_id) DO UPDATE SET identity_hash = excluded.identity_hash, record = excluded.record")?
                .execute(params![voter.votecal_id, identity, record])
        })?;
        Ok(())
    }

    async fn voter(&self, id: &str) -> Result<Option<VoterRecord>, StoreError> {
        let line: Option<String> = self.with(|c| {
            c.prepare_cached("SELECT record FROM voters WHERE votecal_id = ?1")?.query_row([id], |r| r.get(0)).optional()
        })?;
        line.map(|line| voter_from_line(id, &line)).transpose()
    }

    async fn voters_by_identity(&self, key: &IdentityKey) -> Result<Vec<VoterRecord>, StoreError> {
        let rows: Vec<(String, String)> = self.with(|c| {
            self.ensure_index(c, ReadIndex::VotersByIdentity)?;
            let mut q = c.prepare_cached("SELECT votecal_id, record FROM voters WHERE identity_hash = ?1 ORDER BY votecal_id")?;
            let rows = q.query_map([identity_hash(key)], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<Vec<_>, _>>();
            rows
        })?;
        // The hash's other voters, if any, are not this identity's.
        let mut voters = Vec::with_capacity(rows.len());
        for (id, line) in &rows {
            let voter = voter_from_line(id, line)?;
            if IdentityKey::of_voter(&voter) == *key {
                voters.push(voter);
            }
        }
        Ok(voters)
    }
}

/// What the roll is searched by at sign-up: a hash of the identity key (8 bytes, where the key
/// is about 35), so the index of 11 M entries a lane holds statewide is half the size and
/// mostly in the page cache; the entries found are checked against the key itself.
fn identity_hash(key: &IdentityKey) -> i64 {
    wmb_core::notify::fnv1a(key.0.as_bytes()) as i64
}

/// A roll entry as the store keeps it (`voter_line.rs`).
fn voter_from_line(votecal_id: &str, line: &str) -> Result<VoterRecord, StoreError> {
    crate::voter_line::from_line(votecal_id, line).ok_or_else(|| unavailable("a roll entry cannot be read"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wmb_core::formats::VoterStatus;

    fn voter(id: &str, first: &str) -> VoterRecord {
        VoterRecord {
            votecal_id: id.into(),
            county: wmb_core::CountyCode::parse("19").unwrap(),
            first_name: first.into(),
            last_name: "Garcia".into(),
            date_of_birth: chrono::NaiveDate::from_ymd_opt(1980, 5, 17).unwrap(),
            zip: "90012".into(),
            status: VoterStatus::Active,
        }
    }

    #[test]
    fn a_voter_whose_identity_shares_the_hash_is_not_found_by_it() {
        let store = SqliteStore::in_memory().unwrap();
        use futures::executor::block_on as block;
        for v in [voter("CA1", "Maria"), voter("CA2", "Ana"), voter("CA3", "MARÍA")] {
            block(store.put_voter(&v)).unwrap();
        }
        // As if Ana's identity hashed as Maria's does.
        let maria = IdentityKey::of_voter(&voter("CA9", "Maria"));
        store.with(|c| c.execute("UPDATE voters SET identity_hash = ?1 WHERE votecal_id = 'CA2'", [identity_hash(&maria)])).unwrap();
        let found: Vec<String> = block(store.voters_by_identity(&maria)).unwrap().into_iter().map(|v| v.votecal_id).collect();
        assert_eq!(found, ["CA1", "CA3"]);
        let ana = IdentityKey::of_voter(&voter("CA9", "Ana"));
        assert!(block(store.voters_by_identity(&ana)).unwrap().is_empty());
    }
}
