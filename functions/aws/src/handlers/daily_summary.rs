//! The counties' daily summaries: each morning a schedule asks for the Pacific day before, and
//! each county enrolled in an election tracked that day (and any other with counts) gets
//! `reports/<NN>/daily/<date>.csv`: sign-ups, stops and failed deliveries from the counts the
//! functions added, messages sent and failed from the ledger; and, for each election it tracked
//! that day, `reports/<NN>/settings/<election>.csv`: what its voters are told (cure deadline,
//! contacts, window) and whether each is its own, the election's or a default. Writing a day
//! again rewrites the same files.

use crate::app::{App, BoxError};
use chrono::{Duration, NaiveDate};
use lambda_runtime::LambdaEvent;
use serde::{Deserialize, Serialize};
use wmb_core::county_settings::{settings_csv, settings_path};
use wmb_core::daily::{summary_csv, summary_path};
use wmb_core::time::pacific_date;
use wmb_core::CountyCode;

#[derive(Debug, Default, Deserialize)]
pub struct DailySummaryEvent {
    /// The day to summarise (default: yesterday, Pacific).
    #[serde(default)]
    pub date: Option<NaiveDate>,
}

#[derive(Debug, Serialize)]
pub struct DailySummaryOutcome {
    pub date: NaiveDate,
    pub files: usize,
}

pub async fn handle(app: &App, event: LambdaEvent<DailySummaryEvent>) -> Result<DailySummaryOutcome, BoxError> {
    let date = event.payload.date.unwrap_or_else(|| pacific_date(app.now()) - Duration::days(1));
    let config = app.config().await;
    let tracked = |c: CountyCode| config.elections.values().any(|e| e.tracks_on(c, date));
    let all: Vec<CountyCode> = CountyCode::all().collect();
    // Sign-ups, stops and failed deliveries as the functions counted them; messages from the ledger.
    let mut counts = app.store.county_days(date, &all).await?;
    for (_, county, messages) in app.store.ledger_day_counts(date).await?.iter() {
        let mine = counts.entry(county).or_default();
        for (name, n) in messages {
            *mine.entry(name.clone()).or_default() += n;
        }
    }
    let mut files = 0;
    for county in all.into_iter().filter(|c| counts.contains_key(c) || tracked(*c)) {
        let csv = summary_csv(date, county, &counts.get(&county).cloned().unwrap_or_default());
        crate::s3io::put_csv(&app.s3, &app.settings.bucket, &format!("reports/{}", summary_path(date, county)), csv.into_bytes()).await?;
        files += 1;
        // Beside it, what its voters are told in each election it tracked that day, and from
        // where: a default cure deadline or contact shows before its voters act on it.
        for election in config.elections.values().filter(|e| e.tracks_on(county, date)) {
            let sheet = settings_csv(election, county);
            crate::s3io::put_csv(&app.s3, &app.settings.bucket, &format!("reports/{}", settings_path(election, county)), sheet.into_bytes()).await?;
        }
    }
    app.metrics.emit(app.now().timestamp_millis(), &[], &[&[]], &[("DailySummariesWritten", crate::metrics::count(files as u64))]);
    tracing::info!(%date, files, "daily summaries written");
    Ok(DailySummaryOutcome { date, files })
}
