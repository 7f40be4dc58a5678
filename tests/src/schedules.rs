//! The release schedules in moto's EventBridge Scheduler, read as the harness fires them (moto
//! does not fire schedules itself).

use crate::harness::BoxError;

/// The schedules in a group that are due at `now`: (name, target input).
pub async fn due_schedules(sdk: &aws_config::SdkConfig, group: &str, now: chrono::DateTime<chrono::Utc>) -> Result<Vec<(String, chrono::DateTime<chrono::Utc>, String)>, BoxError> {
    let client = aws_sdk_scheduler::Client::new(sdk);
    // Every page: moto lists 50 a page, newest first, so a single page left an older schedule
    // unfired while newer ones (a statewide day's reminders) were due later; it then fired
    // days late.
    let mut names = vec![];
    let mut token = None;
    loop {
        let page = client.list_schedules().group_name(group).set_next_token(token).send().await?;
        names.extend(page.schedules.into_iter().filter_map(|s| s.name));
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }
    let mut due = vec![];
    for name in names {
        let detail = client.get_schedule().group_name(group).name(&name).send().await?;
        let expression = detail.schedule_expression.unwrap_or_default();
        let at = expression.trim_start_matches("at(").trim_end_matches(')');
        let at = chrono::NaiveDateTime::parse_from_str(at, "%Y-%m-%dT%H:%M:%S")?.and_utc();
        if at <= now {
            due.push((name, at, detail.target.and_then(|t| t.input).unwrap_or_default()));
        }
    }
    due.sort_by_key(|(_, at, _)| *at);
    Ok(due)
}

pub async fn next_schedule(sdk: &aws_config::SdkConfig, group: &str) -> Result<Option<chrono::DateTime<chrono::Utc>>, BoxError> {
    let far = chrono::DateTime::parse_from_rfc3339("2100-01-01T00:00:00Z")?.with_timezone(&chrono::Utc);
    Ok(due_schedules(sdk, group, far).await?.first().map(|(_, at, _)| *at))
}
