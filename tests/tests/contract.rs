//! The same port contract against every store: in memory, SQLite (local pipeline), DynamoDB.

use wmb_tests::contract::{release_contract, store_contract, ByTakeDue, ReleasePath};
use wmb_tests::harness::{provision, sdk_config, Moto};

#[tokio::test]
async fn the_in_memory_store_keeps_the_contract() {
    store_contract(&wmb_core::memory::MemoryStore::default()).await;
    let store = wmb_core::memory::MemoryStore::default();
    release_contract(&store, &ByTakeDue(&store)).await;
}

#[tokio::test]
async fn the_local_pipelines_sqlite_store_keeps_the_contract() {
    store_contract(&ballot_tracking::store::SqliteStore::in_memory().unwrap()).await;
    let store = ballot_tracking::store::SqliteStore::in_memory().unwrap();
    release_contract(&store, &ByTakeDue(&store)).await;
}

/// The replay's scratch store answers "certainly not signed up" from a filter of its own: it
/// keeps the contract, never takes a voter who signed up for one who has not (also when its file
/// is opened again), and still tells apart the voters who never did.
#[tokio::test]
async fn the_replays_scratch_store_keeps_the_contract_and_never_forgets_a_sign_up() {
    use ballot_tracking::store::SqliteStore;
    use wmb_core::ports::{KeptFacts, SubscriptionStore};
    let dir = tempfile::tempdir().unwrap();
    store_contract(&SqliteStore::open_scratch(&dir.path().join("contract.db")).unwrap()).await;
    let path = dir.path().join("state.db");
    let signed_up: Vec<String> = (0..2_000).map(|i| format!("CA1{i:08}")).collect();
    let strangers: Vec<String> = (0..20_000).map(|i| format!("CA2{i:08}")).collect();
    {
        let store = SqliteStore::open_scratch(&path).unwrap();
        for id in &signed_up {
            store.put_subscription(&wmb_tests::contract::subscription(id)).await.unwrap();
        }
        assert!(signed_up.iter().all(|id| store.may_be_subscribed(id)));
        assert!(strangers.iter().all(|id| !store.may_be_subscribed(id)));
    }
    let again = SqliteStore::open_scratch(&path).unwrap();
    assert!(signed_up.iter().all(|id| again.may_be_subscribed(id)), "a voter who signed up before the store was opened again");
    assert!(strangers.iter().all(|id| !again.may_be_subscribed(id)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dynamodb_store_keeps_the_contract() {
    let moto = Moto::start();
    let sdk = sdk_config(&moto.url()).await;
    let settings = provision(&sdk, "contract").await.unwrap();
    let mut store = wmb_aws::dynamo::DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), &settings, aws_sdk_scheduler::Client::new(&sdk));
    // The contract's times are in October 2026: its clock too (a hold is filed two minutes ahead).
    store.scheduling.now = std::sync::Arc::new(|| chrono::DateTime::parse_from_rfc3339("2026-10-01T00:00:00Z").unwrap().with_timezone(&chrono::Utc));
    store_contract(&store).await;
    // Holding also scheduled the release of each bucket, once.
    let schedules = aws_sdk_scheduler::Client::new(&sdk).list_schedules().group_name(&settings.schedule_group).send().await.unwrap();
    let mut names: Vec<String> = schedules.schedules.into_iter().filter_map(|s| s.name).collect();
    names.sort();
    assert_eq!(names, ["release-2026-10-21T1500Z", "release-2026-10-22T1500Z"]);
    // The release function's path (each shard of the minute a page at a time) keeps the same
    // contract as the embedded stores' take_due.
    release_contract(&store, &ByShardPages(&store)).await;
}

/// The release function's path: every key of the minute's bucket, a page at a time, each page
/// deleted once read.
struct ByShardPages<'a>(&'a wmb_aws::dynamo::DynamoStore);

impl ReleasePath for ByShardPages<'_> {
    async fn release_minute(&self, minute: chrono::DateTime<chrono::Utc>, page: usize) -> Vec<wmb_core::notify::Notification> {
        let mut out = Vec::new();
        for key in wmb_aws::held_store::keys_of_bucket(&wmb_aws::held_store::release_bucket(minute)) {
            loop {
                let items = self.0.held_page(&key, page as i32).await.unwrap();
                if items.is_empty() {
                    break;
                }
                self.0.forget_held(&items).await.unwrap();
                out.extend(items.into_iter().map(|h| h.notification));
            }
        }
        out
    }
}
