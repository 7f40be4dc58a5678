//! The embedded store of the local pipeline: every store port on one SQLite file.

use chrono::{DateTime, Utc};
use crate::store_recent::Recent;
use fastbloom::AtomicBloomFilter;
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use wmb_core::lifecycle::BallotJourney;
use wmb_core::notify::Notification;
use wmb_core::ports::*;
use wmb_core::signup::Subscription;

pub struct SqliteStore {
    conn: Mutex<Locked>,
    /// The secondary indexes only reads need; see [`SqliteStore::defer_indexes`].
    late: [LateIndex; 2],
    /// A scratch store's signed-up voters, as a Bloom filter of fixed size (16 MiB: at 5 M
    /// sign-ups in one store, one voter in about 2,700 not signed up is taken for one who may
    /// be): `may_be_subscribed` asks the table only when the filter holds the voter, so most
    /// rows of voters who never signed up cost no query. Only where no other process writes the
    /// file (a scratch store is opened exclusively); a shared store always asks the table. The
    /// filter is made at the first sign-up: a store no one signed up in (a lane's contact store)
    /// has none, and answers that no one did.
    signed_up: Option<OnceLock<AtomicBloomFilter>>,
}

/// What the connection's lock guards: the connection and, in a scratch store, its last journey
/// and subscription as values (`store_recent.rs`).
struct Locked {
    conn: Connection,
    recent: Option<Recent>,
}

fn new_signed_up_filter() -> AtomicBloomFilter {
    AtomicBloomFilter::with_num_bits(SIGNED_UP_BITS).seed(&1).hashes(SIGNED_UP_HASHES)
}

/// The page cache (KiB) while a late index is built, at most: its sort's memory (see
/// [`SqliteStore::ensure_index`]).
const SORT_CACHE_KIB: i64 = 64 * 1024;

/// `f` with the connection's page cache at most `kib` KiB, and then as it was, whether `f`
/// succeeded or not (`f`'s error first).
fn with_cache_at_most<T>(c: &Connection, kib: i64, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let cache: i64 = c.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
    // (Negative: KiB; positive: pages.)
    let larger = if cache < 0 { -cache > kib } else { cache * c.query_row("PRAGMA page_size", [], |r| r.get::<_, i64>(0))? / 1024 > kib };
    if !larger {
        return f(c);
    }
    c.execute_batch(&format!("PRAGMA cache_size = -{kib}"))?;
    let done = f(c);
    let restored = c.execute_batch(&format!("PRAGMA cache_size = {cache}"));
    let done = done?;
    restored.map(|()| done)
}

/// The Bloom filter's size and hashes (see `SqliteStore::signed_up`).
const SIGNED_UP_BITS: usize = 1 << 27;
const SIGNED_UP_HASHES: u32 = 4;

/// A secondary index that a file of many rows may leave out: built once after the file, it is
/// one sort of its rows; kept up to date, it is an insert at a random place for every row (most
/// of them pages the cache no longer holds, once the store outgrows it).
struct LateIndex {
    create: &'static str,
    drop: &'static str,
    /// Whether the index is there now (changed only under the connection's lock).
    built: AtomicBool,
}

/// The indexes a file of many rows may leave out (see [`SqliteStore::defer_index`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadIndex {
    /// Kept facts by voter: read when a voter signs up; written by status and scan files.
    KeptByVoter = 0,
    /// The roll by identity: read by sign-ups; written by the roll.
    VotersByIdentity = 1,
}

fn late_indexes() -> [LateIndex; 2] {
    [
        LateIndex {
            create: "CREATE INDEX IF NOT EXISTS kept_voter ON kept(votecal_id, id)",
            drop: "DROP INDEX IF EXISTS kept_voter",
            built: AtomicBool::new(true),
        },
        LateIndex {
            create: "CREATE INDEX IF NOT EXISTS voters_identity ON voters(identity_hash)",
            drop: "DROP INDEX IF EXISTS voters_identity",
            built: AtomicBool::new(true),
        },
    ]
}

// Tables keyed by text are WITHOUT ROWID (one b-tree, not a table and its key's index). Row ids
// of `held` and `kept` only order rows (a new one is above every row still there): no
// AUTOINCREMENT bookkeeping on each insert.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS voters (votecal_id TEXT PRIMARY KEY, identity_hash INTEGER NOT NULL, record TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS subscriptions (votecal_id TEXT PRIMARY KEY, record TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS journeys (election_id TEXT NOT NULL, votecal_id TEXT NOT NULL, version INTEGER NOT NULL,
    record TEXT NOT NULL, PRIMARY KEY (election_id, votecal_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS journeys_voter ON journeys(votecal_id);
CREATE TABLE IF NOT EXISTS ledger (key TEXT PRIMARY KEY, claimed_at INTEGER NOT NULL, outcome TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS held (id INTEGER PRIMARY KEY, release_at INTEGER NOT NULL, attempt_key TEXT NOT NULL, record TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS held_release ON held(release_at, id);
CREATE UNIQUE INDEX IF NOT EXISTS held_once ON held(release_at, attempt_key);
CREATE TABLE IF NOT EXISTS imb (tracking TEXT PRIMARY KEY, record TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS changes (id TEXT PRIMARY KEY, version INTEGER NOT NULL, record TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, n INTEGER NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS contacts (name TEXT PRIMARY KEY, record TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS kept (id INTEGER PRIMARY KEY, votecal_id TEXT NOT NULL, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sent (provider_id TEXT PRIMARY KEY, key TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS deliveries (key TEXT PRIMARY KEY, record TEXT NOT NULL) WITHOUT ROWID;
";

pub(crate) fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(unavailable)
}

pub(crate) fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(unavailable)
}

impl SqliteStore {
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let conn = Connection::open(path).map_err(unavailable)?;
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;").map_err(unavailable)?;
        SqliteStore::with_schema(conn, false)
    }

    /// A store rebuilt from an election folder on every start (`simulate`, `serve`): nothing in
    /// it outlives a crash of the run that writes it, so it is written without a rollback
    /// journal or flushes to disk, with a page cache of 256 MiB. (A journal in memory instead
    /// would hold every page a file's transaction changes: memory growing with the store.) No
    /// statement here writes more than one row, and an error ends `simulate`.
    pub fn open_scratch(path: &Path) -> Result<SqliteStore, StoreError> {
        SqliteStore::open_scratch_with_cache(path, 256)
    }

    /// A scratch store with a page cache of `mib` MiB (the lanes of a replay share 512, and their contact stores 256).
    pub fn open_scratch_with_cache(path: &Path, mib: usize) -> Result<SqliteStore, StoreError> {
        let conn = Connection::open(path).map_err(unavailable)?;
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA locking_mode = EXCLUSIVE;
             PRAGMA cache_size = -{};",
            mib * 1024
        ))
        .map_err(unavailable)?;
        SqliteStore::with_schema(conn, true)
    }

    pub fn in_memory() -> Result<SqliteStore, StoreError> {
        let conn = Connection::open_in_memory().map_err(unavailable)?;
        SqliteStore::with_schema(conn, false)
    }

    /// The store on `conn` with its tables; `exclusive`: no other process writes it, so the
    /// filter of signed-up voters (filled from the table here) and the last journey and
    /// subscription can answer for the tables.
    fn with_schema(conn: Connection, exclusive: bool) -> Result<SqliteStore, StoreError> {
        conn.execute_batch(SCHEMA).map_err(unavailable)?;
        // Every statement the store prepares stays prepared (rusqlite keeps 16 by default, and
        // the store has about 30: past 16, each use would prepare one again).
        conn.set_prepared_statement_cache_capacity(64);
        let late = late_indexes();
        for index in &late {
            conn.execute_batch(index.create).map_err(unavailable)?;
        }
        let signed_up = exclusive.then(OnceLock::new);
        if let Some(filter) = &signed_up {
            let mut q = conn.prepare("SELECT votecal_id FROM subscriptions").map_err(unavailable)?;
            let ids = q.query_map([], |r| r.get::<_, String>(0)).map_err(unavailable)?;
            for id in ids {
                filter.get_or_init(new_signed_up_filter).insert(id.map_err(unavailable)?.as_str());
            }
        }
        let recent = exclusive.then(Recent::default);
        Ok(SqliteStore { conn: Mutex::new(Locked { conn, recent }), late, signed_up })
    }

    /// Before a file that writes many rows of the index's table (the roll; status and scan
    /// files): drops an index only sign-ups read. The first read that needs it builds it again,
    /// from all the rows at once (a sort, spilling to a temporary file past the page cache's
    /// size); a store never read that way never builds it.
    pub fn defer_index(&self, which: ReadIndex) -> Result<(), StoreError> {
        let index = &self.late[which as usize];
        self.with(|c| {
            if index.built.load(Ordering::SeqCst) {
                c.execute_batch(index.drop)?;
                index.built.store(false, Ordering::SeqCst);
            }
            Ok(())
        })
    }

    /// The index a read needs, built if a file left it out (called under the lock).
    ///
    /// The build's sort holds rows in memory up to the page cache's size in bytes before it
    /// writes a sorted run to a temporary file (SQLite's rule): statewide, both lanes' sorts of
    /// the roll just after it (11 M voters each) held 256 MiB each at once beside their full
    /// caches, and were the replay's peak, 1.1 GiB. So the build runs with the cache at most
    /// [`SORT_CACHE_KIB`] (statewide, it reads a table larger than the cache through it anyway,
    /// so the pages given up would not have stayed).
    pub(crate) fn ensure_index(&self, c: &Connection, which: ReadIndex) -> rusqlite::Result<()> {
        let index = &self.late[which as usize];
        if !index.built.load(Ordering::SeqCst) {
            with_cache_at_most(c, SORT_CACHE_KIB, |c| c.execute_batch(index.create))?;
            index.built.store(true, Ordering::SeqCst);
        }
        Ok(())
    }

    /// `f` under the connection's lock, for steps that read and write (store errors of its own
    /// pass through as they are).
    pub(crate) fn with_lock<T>(&self, f: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let locked = self.locked()?;
        f(&locked.conn)
    }

    fn locked(&self) -> Result<MutexGuard<'_, Locked>, StoreError> {
        self.conn.lock().map_err(|_| StoreError::Unavailable("store lock poisoned".into()))
    }

    /// `f` under the connection's lock, with the last journey and subscription where the store
    /// keeps them.
    fn with_recent<T>(&self, f: impl FnOnce(&Connection, Option<&mut Recent>) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let mut locked = self.locked()?;
        let Locked { conn, recent } = &mut *locked;
        f(conn, recent.as_mut())
    }

    pub(crate) fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        let locked = self.locked()?;
        f(&locked.conn).map_err(unavailable)
    }

    /// Groups the writes of one file into one transaction (much faster on disk).
    pub fn begin(&self) -> Result<(), StoreError> {
        self.with(|c| c.execute_batch("BEGIN"))
    }

    pub fn commit(&self) -> Result<(), StoreError> {
        self.with(|c| c.execute_batch("COMMIT"))
    }

    pub fn held_count(&self) -> Result<u64, StoreError> {
        self.with(|c| c.query_row("SELECT COUNT(*) FROM held", [], |r| r.get(0)))
    }
}

impl SubscriptionStore for SqliteStore {
    async fn put_subscription(&self, sub: &Subscription) -> Result<(), StoreError> {
        self.write_subscription(sub, None)
    }

    async fn replace_subscription(&self, sub: &Subscription, base: Option<&Subscription>) -> Result<(), StoreError> {
        self.write_subscription(sub, Some(base))
    }

    async fn subscription(&self, id: &str) -> Result<Option<Subscription>, StoreError> {
        self.with_recent(|c, recent| Self::read_subscription(c, recent, id))
    }
}

impl SqliteStore {
    /// Writes a subscription; with `base`, only while the stored one is still `*base` (checked
    /// and written under the connection's lock).
    fn write_subscription(&self, sub: &Subscription, base: Option<Option<&Subscription>>) -> Result<(), StoreError> {
        let record = to_json(sub)?;
        if let Some(filter) = &self.signed_up {
            // Before the row: a filter that holds a voter the table does not only costs a query.
            filter.get_or_init(new_signed_up_filter).insert(sub.votecal_id.as_str());
        }
        self.with_recent(|c, mut recent| {
            if let Some(base) = base {
                if Self::read_subscription(c, recent.as_deref_mut(), &sub.votecal_id)?.as_ref() != base {
                    return Err(StoreError::Conflict("the subscription changed meanwhile".into()));
                }
            }
            c.prepare_cached("INSERT INTO subscriptions (votecal_id, record) VALUES (?1, ?2)
                 ON CONFLICT(votecal_id) DO UPDATE SET record = excluded.record")
                .and_then(|mut q| q.execute(params![sub.votecal_id, record]))
                .map_err(unavailable)?;
            if let Some(recent) = recent {
                recent.keep_subscription(sub.clone());
            }
            Ok(())
        })
    }

    /// The stored subscription (the one just written or read, if it is this voter's).
    fn read_subscription(c: &Connection, mut recent: Option<&mut Recent>, id: &str) -> Result<Option<Subscription>, StoreError> {
        if let Some(sub) = recent.as_ref().and_then(|r| r.subscription(id)) {
            return Ok(Some(sub));
        }
        let json: Option<String> =
            c.prepare_cached("SELECT record FROM subscriptions WHERE votecal_id = ?1").and_then(|mut q| q.query_row([id], |r| r.get(0)).optional()).map_err(unavailable)?;
        let sub: Option<Subscription> = json.map(|j| from_json(&j)).transpose()?;
        if let (Some(recent), Some(sub)) = (recent.as_mut(), &sub) {
            recent.keep_subscription(sub.clone());
        }
        Ok(sub)
    }
}

impl JourneyStore for SqliteStore {
    async fn recent_journey(&self, election_id: &str, votecal_id: &str) -> Result<Option<Versioned<BallotJourney>>, StoreError> {
        self.journey(election_id, votecal_id).await
    }

    async fn journey(&self, election_id: &str, votecal_id: &str) -> Result<Option<Versioned<BallotJourney>>, StoreError> {
        self.with_recent(|c, mut recent| {
            if let Some(kept) = recent.as_ref().and_then(|r| r.journey(election_id, votecal_id)) {
                return Ok(Some(kept));
            }
            let row: Option<(String, i64)> = c
                .prepare_cached("SELECT record, version FROM journeys WHERE election_id = ?1 AND votecal_id = ?2")
                .and_then(|mut q| q.query_row([election_id, votecal_id], |r| Ok((r.get(0)?, r.get(1)?))).optional())
                .map_err(unavailable)?;
            let journey = row.map(|(j, v)| Ok::<_, StoreError>(Versioned { value: from_json(&j)?, version: v as u64 })).transpose()?;
            if let (Some(recent), Some(j)) = (recent.as_mut(), &journey) {
                recent.keep_journey(j.clone());
            }
            Ok(journey)
        })
    }

    async fn put_journey(&self, journey: &BallotJourney, expected: Option<u64>, _decided: usize) -> Result<u64, StoreError> {
        let record = to_json(journey)?;
        self.with_recent(|c, recent| {
            let changed = match expected {
                None => c
                    .prepare_cached("INSERT OR IGNORE INTO journeys (election_id, votecal_id, version, record) VALUES (?1, ?2, 1, ?3)")
                    .and_then(|mut q| q.execute(params![journey.election_id, journey.votecal_id, record])),
                Some(v) => c
                    .prepare_cached("UPDATE journeys SET version = version + 1, record = ?3 WHERE election_id = ?1 AND votecal_id = ?2 AND version = ?4")
                    .and_then(|mut q| q.execute(params![journey.election_id, journey.votecal_id, record, v as i64])),
            }
            .map_err(unavailable)?;
            if changed == 0 {
                return Err(StoreError::Conflict(format!("journey {}/{}", journey.election_id, journey.votecal_id)));
            }
            let version = expected.map_or(1, |v| v + 1);
            if let Some(recent) = recent {
                recent.keep_journey(Versioned { value: journey.clone(), version });
            }
            Ok(version)
        })
    }

    async fn journeys_of_voter(&self, votecal_id: &str) -> Result<Vec<BallotJourney>, StoreError> {
        let rows: Vec<String> = self.with(|c| {
            let mut q = c.prepare_cached("SELECT record FROM journeys WHERE votecal_id = ?1 ORDER BY election_id")?;
            let rows = q.query_map([votecal_id], |r| r.get(0))?.collect::<Result<Vec<_>, _>>();
            rows
        })?;
        rows.iter().map(|j| from_json(j)).collect()
    }
}

impl KeptFacts for SqliteStore {
    fn may_be_subscribed(&self, votecal_id: &str) -> bool {
        if self.signed_up.as_ref().is_some_and(|filter| filter.get().is_none_or(|f| !f.contains(votecal_id))) {
            return false;
        }
        // When the store cannot answer, the row takes the journey path.
        self.with(|c| c.prepare_cached("SELECT 1 FROM subscriptions WHERE votecal_id = ?1")?.exists([votecal_id])).unwrap_or(true)
    }

    /// Kept in the compact line DynamoDB keeps (`KeptFact::to_line`, about 60 bytes against 150
    /// as JSON): statewide, the kept facts are the largest table.
    async fn keep(&self, fact: wmb_core::kept::KeptFact) -> Result<(), StoreError> {
        let line = fact.to_line();
        self.with(|c| c.prepare_cached("INSERT INTO kept (votecal_id, record) VALUES (?1, ?2)")?.execute(params![fact.votecal_id, line]))?;
        Ok(())
    }

    async fn kept_facts(&self, votecal_id: &str) -> Result<Vec<wmb_core::kept::KeptFact>, StoreError> {
        let rows: Vec<String> = self.with(|c| {
            self.ensure_index(c, ReadIndex::KeptByVoter)?;
            let mut q = c.prepare_cached("SELECT record FROM kept WHERE votecal_id = ?1 ORDER BY id")?;
            let rows = q.query_map([votecal_id], |r| r.get(0))?.collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })?;
        rows.iter().map(|line| wmb_core::kept::KeptFact::from_line(line).ok_or_else(|| unavailable("a kept fact cannot be read"))).collect()
    }
}

impl HoldQueue for SqliteStore {
    async fn hold(&self, n: &Notification) -> Result<(), StoreError> {
        let json = to_json(n)?;
        // Held again for the same minute (a record delivered twice, or planned again): held
        // once, as last written (as DynamoDB's put of the same item does).
        let attempt_key = format!("{}#{}", n.key, n.tries());
        self.with(|c| c.prepare_cached("INSERT OR REPLACE INTO held (release_at, attempt_key, record) VALUES (?1, ?2, ?3)")?.execute(params![n.release_at.timestamp(), attempt_key, json]))?;
        Ok(())
    }

    async fn take_due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Notification>, StoreError> {
        let rows: Vec<(i64, String)> = self.with(|c| {
            let mut q = c.prepare_cached("SELECT id, record FROM held WHERE release_at <= ?1 ORDER BY release_at, id LIMIT ?2")?;
            let rows = q.query_map(params![now.timestamp(), limit.min(i64::MAX as usize) as i64], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<Vec<_>, _>>()?;
            let mut delete = c.prepare_cached("DELETE FROM held WHERE id = ?1")?;
            for (id, _) in &rows {
                delete.execute([id])?;
            }
            Ok(rows)
        })?;
        rows.iter().map(|(_, j)| from_json(j)).collect()
    }

    async fn next_release(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let t: Option<i64> = self.with(|c| c.query_row("SELECT MIN(release_at) FROM held", [], |r| r.get(0)))?;
        Ok(t.and_then(|t| DateTime::from_timestamp(t, 0)))
    }
}

impl ImbCrosswalk for SqliteStore {
    async fn put_mapping(&self, m: &wmb_core::usps::ImbMapping, closed: &[&str]) -> Result<bool, StoreError> {
        let record = to_json(m)?;
        let county = m.county.code();
        let closed = to_json(&closed)?;
        let changed = self.with(|c| {
            c.prepare_cached(
                "INSERT INTO imb (tracking, record) VALUES (?1, ?2) ON CONFLICT(tracking) DO UPDATE SET record = excluded.record \
                 WHERE json_extract(record, '$.county') = ?3 OR json_extract(record, '$.election_id') IN (SELECT value FROM json_each(?4))",
            )?
            .execute(params![m.tracking, record, county, closed])
        })?;
        // (An unchanged row counts as written: SQLite reports the update.)
        Ok(changed > 0)
    }

    async fn mapping(&self, tracking: &str) -> Result<Option<wmb_core::usps::ImbMapping>, StoreError> {
        let json: Option<String> =
            self.with(|c| c.prepare_cached("SELECT record FROM imb WHERE tracking = ?1")?.query_row([tracking], |r| r.get(0)).optional())?;
        json.map(|j| from_json(&j)).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_late_index_is_built_with_a_small_cache_and_the_stores_own_cache_is_given_back() {
        // GIVEN a scratch store with a page cache of 256 MiB, whose kept facts' index a file left out
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_scratch(&dir.path().join("state.db")).unwrap();
        store.defer_index(ReadIndex::KeptByVoter).unwrap();
        let cache = |store: &SqliteStore| store.with(|c| c.query_row("PRAGMA cache_size", [], |r| r.get::<_, i64>(0))).unwrap();
        let built = |store: &SqliteStore| store.with(|c| c.prepare("SELECT 1 FROM sqlite_master WHERE name = 'kept_voter'")?.exists([])).unwrap();
        assert!(!built(&store));
        // WHEN a sign-up's read needs it
        store.with(|c| store.ensure_index(c, ReadIndex::KeptByVoter)).unwrap();
        // THEN it is there, and the store reads through its whole cache again
        assert!(built(&store));
        assert_eq!(cache(&store), -256 * 1024);
    }

    #[test]
    fn a_step_run_with_a_smaller_cache_sees_it_and_a_cache_already_small_is_left_as_it_is() {
        let cache = |c: &Connection| c.query_row("PRAGMA cache_size", [], |r| r.get::<_, i64>(0));
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch("PRAGMA cache_size = -262144").unwrap();
        assert_eq!(with_cache_at_most(&c, SORT_CACHE_KIB, |c| cache(c)).unwrap(), -SORT_CACHE_KIB);
        assert_eq!(cache(&c).unwrap(), -262144);
        // a failing step gives the cache back too, and its error is the one returned
        let failed = with_cache_at_most(&c, SORT_CACHE_KIB, |c| c.execute_batch("CREATE INDEX nowhere ON missing(x)"));
        assert!(failed.unwrap_err().to_string().contains("missing"));
        assert_eq!(cache(&c).unwrap(), -262144);
        c.execute_batch("PRAGMA cache_size = -2000").unwrap();
        assert_eq!(with_cache_at_most(&c, SORT_CACHE_KIB, |c| cache(c)).unwrap(), -2000);
        c.execute_batch("PRAGMA cache_size = 100000").unwrap();
        assert_eq!(with_cache_at_most(&c, SORT_CACHE_KIB, |c| cache(c)).unwrap(), -SORT_CACHE_KIB);
        assert_eq!(cache(&c).unwrap(), 100000);
    }
}
