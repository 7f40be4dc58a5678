//! County files through the ingest Lambda on moto: a county's folder changes only its own voters
//! (its stops files too),
//! and a file that cannot be read (no known header, empty, a county folder carrying sign-ups, a
//! quote left open in a large file) is set aside with a report saying why, and a large file read
//! in parallel parts gets one report however many rows it rejects; a file whose S3 stream breaks
//! off mid-read is read again, not cut short; a file read over hours of continuations has its
//! rows arrive when it did.

use lambda_runtime::{Context, LambdaEvent};
use wmb_aws::handlers::ingest;
use wmb_tests::harness::*;
use wmb_tests::permissions::acting;
use wmb_tests::world::*;

#[test]
fn a_countys_folder_only_changes_its_own_voters_and_an_unreadable_file_is_set_aside() {
    on_a_deep_stack(|| async {
        let mut world = World::new("scope", at("2026-10-06T12:00:00-07:00")).await;
        world.arrive("voters", "voters.csv", at("2026-10-06T12:00:00-07:00")).await;
        let bucket = world.app.settings.bucket.clone();
        // GIVEN Los Angeles uploads a status file with one of its rows, one of San Diego's, a
        // San Diego voter's row labelled as Los Angeles's, and two of its own dated a year ahead
        // and a year back
        let file = "votecal_id,county_code,election_id,ballot_id,status_code,status_time\n\
                    CA000000110,19,2026-11-03-GEN,19-000110-1,ISSUED,2026-10-05T14:00:00-07:00\n\
                    CA000000120,37,2026-11-03-GEN,37-000120-1,ISSUED,2026-10-06T05:10:00-07:00\n\
                    CA000000122,19,2026-11-03-GEN,37-000122-1,ACCEPTED,2026-10-30T05:10:00-07:00\n\
                    CA000000110,19,2026-11-03-GEN,19-000110-1,INR,2027-10-06T05:10:00-07:00\n\
                    CA000000110,19,2026-11-03-GEN,19-000110-1,ACCEPTED,2025-10-06T05:10:00-07:00\n";
        let key = "incoming/19/vbm/la-2026-10-06.csv";
        world.s3.put_object().bucket(&bucket).key(key).body(file.as_bytes().to_vec().into()).send().await.unwrap();
        let outcome = acting("IngestFunction", ingest::handle(&world.app, LambdaEvent::new(s3_event(&bucket, key, file.len()), Context::default()))).await.unwrap();
        // THEN only the Los Angeles row is taken; San Diego's is rejected with the reason
        assert_eq!(outcome[0]["accepted"], 1, "{outcome}");
        let report = wmb_aws::s3io::get_text(&world.s3, &bucket, "reports/19/vbm/la-2026-10-06.csv.errors.csv").await.unwrap().unwrap();
        assert!(report.contains("3,county_code,\"county 19's folder may only carry county 19's rows"), "{report}");
        assert!(report.contains("4,votecal_id,not a voter of county 19 on the voter roll"), "{report}");
        assert!(report.contains("5,status_time,2027-10-06T12:10:00Z is more than a day after the file arrived"), "{report}");
        assert!(report.contains("6,status_time,2025-10-06T12:10:00Z is more than 60 days before election day (2026-11-03)"), "{report}");
        assert!(!world.knows("CA000000120").await);
        assert!(!world.knows("CA000000122").await, "no county writes another's voter");
        assert!(world.knows("CA000000110").await);

        // GIVEN the Secretary of State's sign-ups, then Los Angeles's staff send a stops file: Maria
        // Garcia's phone (hers, Los Angeles's), and a row that names San Diego's voter Ana Torres
        world.arrive("signups", "signups.csv", at("2026-10-06T12:05:00-07:00")).await;
        let key = "incoming/19/stops/counter-2026-10-06.csv";
        let file = "votecal_id,last_name,phone,email,channels,requested_at\n,,(323) 555-0110,,texts,2026-10-06 09:00\nCA000000120,Torres,,,,2026-10-06 09:00\n";
        world.s3.put_object().bucket(&bucket).key(key).body(file.as_bytes().to_vec().into()).send().await.unwrap();
        acting("IngestFunction", ingest::handle(&world.app, LambdaEvent::new(s3_event(&bucket, key, file.len()), Context::default()))).await.unwrap();
        // THEN it is read in the county's scope: Maria's texts stop, and the other row is refused, as
        // no county's stop reaches another's voter
        let report = wmb_aws::s3io::get_text(&world.s3, &bucket, "reports/19/stops/counter-2026-10-06.csv.errors.csv").await.unwrap().unwrap();
        assert_eq!(report.lines().skip(1).map(|l| &l[..l.find(",\"").unwrap_or(l.len())]).collect::<Vec<_>>(), ["3,votecal_id"], "{report}");
        assert!(report.contains("3,votecal_id,\"no voter of this county has this VoteCal ID and last name"), "{report}");
        let config = world.app.config().await;
        let maria = world.app.pipeline(&config, &wmb_aws::app::NoSends).live_subscription("CA000000110", at("2026-10-06T12:10:00-07:00")).await.unwrap().unwrap();
        assert_eq!((maria.address(wmb_core::status::Channel::Sms), maria.address(wmb_core::status::Channel::Email)), (None, Some("maria.garcia@example.com")));
        // and both rows, the one done and the one refused, are counted for the operators' alarm on a
        // county's burst of stops (its upload credentials in the wrong hands), by county
        let emf = world.app.metrics.recent();
        assert_eq!(wmb_aws::metrics::sum(&emf, "CountyStopRows", &[("County", "19")]), 2.0);

        // GIVEN a file that is no county file at all, with a space in its name
        let key = "incoming/19/vbm/Oct 6, notes.csv";
        world.s3.put_object().bucket(&bucket).key(key).body(b"hello,world\n1,2\n".to_vec().into()).send().await.unwrap();
        acting("IngestFunction", ingest::handle(&world.app, LambdaEvent::new(s3_event(&bucket, key, 16), Context::default()))).await.unwrap();
        // THEN it is moved aside with a report saying why: the columns its folder's kind needs
        let report = wmb_aws::s3io::get_text(&world.s3, &bucket, "reports/19/vbm/Oct 6, notes.csv.errors.csv").await.unwrap().unwrap();
        assert!(report.contains("not a vbm file's header") && report.contains("votecal_id,county_code,election_id"), "{report}");
        assert!(wmb_aws::s3io::get_text(&world.s3, &bucket, "rejected/19/vbm/Oct 6, notes.csv").await.unwrap().is_some());
        assert!(wmb_aws::s3io::get_text(&world.s3, &bucket, key).await.unwrap().is_none());

        // GIVEN an empty file (S3 refuses a range of it)
        let key = "incoming/19/vph/empty.csv";
        world.s3.put_object().bucket(&bucket).key(key).body(Vec::new().into()).send().await.unwrap();
        acting("IngestFunction", ingest::handle(&world.app, LambdaEvent::new(s3_event(&bucket, key, 0), Context::default()))).await.unwrap();
        // THEN it too is set aside, with a report that says it is empty
        let report = wmb_aws::s3io::get_text(&world.s3, &bucket, "reports/19/vph/empty.csv.errors.csv").await.unwrap().unwrap();
        assert!(report.contains("the file is empty"), "{report}");

        // GIVEN a county folder carrying sign-ups (which come from the Secretary of State)
        let key = "incoming/19/signups/batch.csv";
        let signups = std::fs::read(repo_path("events/sample-election/signups.csv")).unwrap();
        world.s3.put_object().bucket(&bucket).key(key).body(signups.into()).send().await.unwrap();
        acting("IngestFunction", ingest::handle(&world.app, LambdaEvent::new(s3_event(&bucket, key, 100), Context::default()))).await.unwrap();
        // THEN the whole file is set aside: a county cannot sign voters up
        let report = wmb_aws::s3io::get_text(&world.s3, &bucket, "reports/19/signups/batch.csv.errors.csv").await.unwrap().unwrap();
        assert!(report.contains("a county's folder takes vbm, vph, imb, stops files"), "{report}");
        // GIVEN a large file (read in parts) with a quote left open on its third line
        let key = "incoming/19/vbm/open-quote.csv";
        let mut body = String::from("votecal_id,county_code,election_id,ballot_id,status_code,status_time\nCA1,19,2026-11-03-GEN,B1,ISSUED,2026-10-05T09:00:00-07:00\nCA2,19,2026-11-03-GEN,\"B2,ISSUED,2026-10-05T09:00:00-07:00\n");
        while body.len() < 3 << 20 {
            body.push_str("CA3,19,2026-11-03-GEN,B3,ISSUED,2026-10-05T09:00:00-07:00\n");
        }
        world.s3.put_object().bucket(&bucket).key(key).body(body.into_bytes().into()).send().await.unwrap();
        acting("IngestFunction", ingest::handle(&world.app, LambdaEvent::new(s3_event(&bucket, key, 3 << 20), Context::default()))).await.unwrap();
        // THEN it is set aside at once, its report naming the line, not read as one row of 3 MB
        let report = wmb_aws::s3io::get_text(&world.s3, &bucket, "reports/19/vbm/open-quote.csv.errors.csv").await.unwrap().unwrap();
        assert!(report.contains("line 3: a row runs on for more than 1 MiB"), "{report}");
        // AND the operators' metrics count the four files set aside
        assert_eq!(wmb_aws::metrics::sum(&world.app.metrics.recent(), "FilesSetAside", &[]), 4.0);
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_file_whose_every_row_is_wrong_gets_one_report_naming_every_row_at_its_line() {
    // GIVEN parts of 2 MiB, and a county's 11 MB status file whose times a spreadsheet rewrote
    let mut world = World::with("everyrow", at("2026-10-06T12:00:00-07:00"), &repo_path("events/sample-election"), |s| s.ingest_part_bytes = 2 << 20).await;
    let bucket = world.app.settings.bucket.clone();
    let rows = 150_000;
    let mut body = String::from("votecal_id,county_code,election_id,ballot_id,status_code,status_time\n");
    for i in 0..rows {
        body.push_str(&format!("CA{i:09},19,2026-11-03-GEN,19-{i:06}-1,ISSUED,10/05/2026 9:00\n"));
    }
    let key = "incoming/19/vbm/status-2026-10-05.csv";
    let size = body.len();
    world.s3.put_object().bucket(&bucket).key(key).body(body.into_bytes().into()).send().await.unwrap();
    // WHEN it lands, and its parts are read
    acting("IngestFunction", ingest::handle(&world.app, LambdaEvent::new(s3_event(&bucket, key, size), Context::default()))).await.unwrap();
    world.pump().await;
    // THEN the county gets one report (larger than one upload part: written in several), every
    // row in it once, at its own line and in file order
    let report = wmb_aws::s3io::get_text(&world.s3, &bucket, "reports/19/vbm/status-2026-10-05.csv.errors.csv").await.unwrap().unwrap();
    assert!(report.len() > wmb_aws::s3io::UPLOAD_PART_BYTES, "{} bytes", report.len());
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!((lines[0], lines.len()), ("line,field,reason", rows + 1));
    for (i, line) in lines.iter().skip(1).enumerate() {
        assert!(line.starts_with(&format!("{},status_time,'10/05/2026 9:00' is not", i + 2)), "row {i}: {line}");
    }
    // AND one summary of the whole file, no report a part, and no piece left in a county's folder
    let summary = wmb_aws::s3io::get_text(&world.s3, &bucket, "reports/19/vbm/status-2026-10-05.csv.summary.csv").await.unwrap().unwrap();
    assert!(summary.contains(&format!("\nrows_read,,{rows}\naccepted,,0\nrejected,,{rows}\n")), "{summary}");
    let listed = world.s3.list_objects_v2().bucket(&bucket).prefix("reports/").send().await.unwrap();
    assert_eq!(listed.contents().len(), 2, "{:?}", listed.contents().iter().map(|o| o.key()).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_whose_s3_stream_breaks_off_mid_read_is_read_again_and_loses_no_row() {
    // GIVEN a status file read whole, one read in parts of 300 bytes whose planning read breaks
    // off, and one whose read of a part in its second half does
    let half = std::fs::read(repo_path("events/sample-election/vbm-2026-10-06.csv")).unwrap().len() / 2;
    for (case, parts, ranged) in [("whole", false, None), ("planning", true, None), ("part", true, Some(half))] {
        let world = World::with(&format!("broken{case}"), at("2026-10-06T12:00:00-07:00"), &repo_path("events/sample-election"), |s| {
            if parts {
                s.ingest_part_bytes = 300;
            }
        })
        .await;
        let bucket = world.app.settings.bucket.clone();
        let body = std::fs::read(repo_path("events/sample-election/vbm-2026-10-06.csv")).unwrap();
        let key = "incoming/votecal/vbm/vbm-2026-10-06.csv";
        world.s3.put_object().bucket(&bucket).key(key).body(body.clone().into()).send().await.unwrap();
        // AND S3's stream breaks off halfway, as a connection reset
        *world.counter.break_s3_read.lock().unwrap() = Some(BreakS3Read { key: key.to_string(), content: body.clone(), from: ranged });
        // WHEN it lands, and every invocation that fails is run again, as S3 and SQS do
        let mut failed = 0;
        while let Err(e) = acting("IngestFunction", ingest::handle(&world.app, LambdaEvent::new(s3_event(&bucket, key, body.len()), Context::default()))).await {
            assert!(e.to_string().contains("broke off"), "{e}");
            failed += 1;
        }
        let queue = world.app.settings.ingest_continue_queue_url.clone().unwrap();
        loop {
            let batches = receive_all(&world.sqs, &queue).await.unwrap();
            if batches.is_empty() {
                break;
            }
            for (event, handles) in batches {
                for record in event["Records"].as_array().unwrap() {
                    let one = serde_json::json!({ "Records": [record] });
                    while acting("IngestFunction", ingest::handle(&world.app, LambdaEvent::new(one.clone(), Context::default()))).await.unwrap()["batchItemFailures"].as_array().is_some_and(|f| !f.is_empty()) {
                        failed += 1;
                    }
                }
                for (_, h) in handles {
                    world.sqs.delete_message().queue_url(&queue).receipt_handle(h).send().await.unwrap();
                }
            }
        }
        assert!(world.counter.break_s3_read.lock().unwrap().is_none() && failed == 1, "{case}: the break was met once: {failed}");
        // THEN every good row is stored, and the report names only the file's one bad row
        let rows = String::from_utf8(body).unwrap();
        for line in rows.lines().skip(1).filter(|l| l.contains(",ISSUED,")) {
            assert!(world.knows(line.split(',').next().unwrap()).await, "{case}: {line}");
        }
        let report = wmb_aws::s3io::get_text(&world.s3, &bucket, "reports/votecal/vbm/vbm-2026-10-06.csv.errors.csv").await.unwrap().unwrap();
        assert_eq!(report, "line,field,reason\n21,status_code,'MAILED' is not a VBM ballot status code\n", "{case}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancellation_read_hours_after_its_file_arrived_settles_a_day_from_the_files_arrival() {
    let arrived = at("2026-10-19T12:00:00-07:00");
    let mut world = World::new("arrival", arrived).await;
    world.arrive("voters", "voters.csv", arrived).await;
    world.arrive("signups", "signups.csv", arrived).await;
    // GIVEN a status file whose last row cancels Min-jun Kim's ballot three days ago, and an
    // ingest function always about to run out of time (one row an invocation)
    let bucket = world.app.settings.bucket.clone();
    let mut body = std::fs::read_to_string(repo_path("events/sample-election/vbm-2026-10-06.csv")).unwrap();
    body.push_str("CA000000140,43,2026-11-03-GEN,43-000140-1,CLD,2026-10-16T09:00:00-07:00\n");
    let key = "incoming/votecal/vbm/vbm-late.csv";
    world.s3.put_object().bucket(&bucket).key(key).body(body.clone().into_bytes().into()).send().await.unwrap();
    acting("IngestFunction", ingest::handle(&world.app, LambdaEvent::new(s3_event(&bucket, key, body.len()), nearly_out_of_time()))).await.unwrap();
    // WHEN its continuations run three hours later (a backlog), each reading a row
    world.app.set_now(arrived + chrono::Duration::hours(3));
    let invocations = 1 + world.drain_continuations(false).await;
    // THEN the cancellation, read in the last of them, waits a day from the file's arrival (not
    // from its read, nor from its status time, which would send it at once)
    assert!(invocations > 30, "it took {invocations} invocations");
    let config = world.app.config().await;
    let journeys = world.app.pipeline(&config, &wmb_aws::app::NoSends).current_journeys("CA000000140").await.unwrap();
    let settles: Vec<_> = journeys.iter().flat_map(|j| &j.milestones).filter_map(|d| d.settle_until).collect();
    assert_eq!(settles, vec![arrived + chrono::Duration::hours(24)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_uploaded_under_a_temporary_name_then_renamed_is_read_once_under_its_own_name() {
    let mut world = World::new("rename", at("2026-10-06T12:00:00-07:00")).await;
    world.arrive("voters", "voters.csv", at("2026-10-06T12:00:00-07:00")).await;
    let bucket = world.app.settings.bucket.clone();
    // GIVEN Los Angeles's SFTP client (WinSCP) uploads its status file as `….filepart`, then
    // renames it, which S3 sees as a copy under the new name and a delete of the old
    let file = "votecal_id,county_code,election_id,ballot_id,status_code,status_time\n\
                CA000000110,19,2026-11-03-GEN,19-000110-1,ISSUED,2026-10-05T14:00:00-07:00\n";
    let (temporary, own) = ("incoming/19/vbm/la-2026-10-06.csv.filepart", "incoming/19/vbm/la-2026-10-06.csv");
    world.s3.put_object().bucket(&bucket).key(temporary).body(file.as_bytes().to_vec().into()).send().await.unwrap();
    let first = acting("IngestFunction", ingest::handle(&world.app, LambdaEvent::new(s3_event(&bucket, temporary, file.len()), Context::default()))).await.unwrap();
    world.s3.copy_object().bucket(&bucket).key(own).copy_source(format!("{bucket}/{temporary}")).send().await.unwrap();
    world.s3.delete_object().bucket(&bucket).key(temporary).send().await.unwrap();
    let renamed = acting("IngestFunction", ingest::handle(&world.app, LambdaEvent::new(s3_event(&bucket, own, file.len()), Context::default()))).await.unwrap();
    // THEN the temporary name is not read (nothing set aside, no report the county would find
    // twice); the file is read under its own name, its row taken once
    assert_eq!(first, serde_json::json!([]), "{first}");
    assert_eq!(renamed[0]["accepted"], 1, "{renamed}");
    let reports = world.s3.list_objects_v2().bucket(&bucket).prefix("reports/19/vbm/").send().await.unwrap();
    let names: Vec<&str> = reports.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(names, ["reports/19/vbm/la-2026-10-06.csv.errors.csv", "reports/19/vbm/la-2026-10-06.csv.summary.csv"]);
    assert!(wmb_aws::s3io::get_text(&world.s3, &bucket, "rejected/19/vbm/la-2026-10-06.csv.filepart").await.unwrap().is_none());
    assert!(world.knows("CA000000110").await);
    assert_eq!(wmb_aws::metrics::sum(&world.app.metrics.recent(), "TemporaryUploadsSkipped", &[]), 1.0);
}
