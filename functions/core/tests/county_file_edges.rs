//! County files as counties really send them: what a Windows spreadsheet saves (CR LF, a byte
//! order mark), a file with only its header or nothing at all, a huge field, a quoted line break,
//! bytes that are not UTF-8. Each bad row is reported on its own line; every good row is kept.

use wmb_core::formats::{read_rows, RowError, VbmStatus};

const HEADER: &str = "votecal_id,county_code,election_id,ballot_id,status_code,status_time";

/// The good rows (line, VoteCal ID) and the rejected ones.
type Read = (Vec<(u64, String)>, Vec<RowError>);

fn read(bytes: &[u8]) -> Result<Read, String> {
    let rows = read_rows::<_, VbmStatus>("19/vbm.csv", bytes).map_err(|e| e.to_string())?;
    let (mut ok, mut bad) = (vec![], vec![]);
    for r in rows {
        match r {
            Ok(l) => ok.push((l.line, l.row.votecal_id)),
            Err(e) => bad.push(e),
        }
    }
    Ok((ok, bad))
}

fn row(id: &str, ballot: &str) -> String {
    format!("{id},19,2026-11-03-GEN,{ballot},ISSUED,2026-10-06T09:15:00-07:00")
}

#[test]
fn a_windows_spreadsheets_file_crlf_and_a_byte_order_mark_reports_rows_at_their_true_lines() {
    // GIVEN a file saved by a Windows spreadsheet: BOM, CR LF, a bad row, a quoted line break
    let file = format!("\u{feff}{HEADER}\r\n{}\r\nCA2,19,2026-11-03-GEN,B2,LOST,2026-10-06T09:15:00-07:00\r\n{}\r\n{}\r\n", row("CA1", "B1"), "CA3,19,2026-11-03-GEN,\"B\r\n3\",ISSUED,2026-10-06T09:15:00-07:00", row("CA4", "B4"));
    let (ok, bad) = read(file.as_bytes()).unwrap();
    // THEN the rows are where a county's spreadsheet shows them (the header is line 1)
    assert_eq!(ok, [(2, "CA1".to_string()), (6, "CA4".to_string())]);
    assert_eq!(bad.iter().map(|e| (e.line, e.field.as_str())).collect::<Vec<_>>(), [(3, "status_code"), (4, "ballot_id")]);
    // AND the same file with LF endings reports the same lines
    let lf = file.replace("\r\n", "\n");
    let (ok_lf, bad_lf) = read(lf.as_bytes()).unwrap();
    assert_eq!(ok_lf, ok);
    assert_eq!(bad_lf.iter().map(|e| e.line).collect::<Vec<_>>(), [3, 4]);
}

#[test]
fn a_file_with_only_its_header_has_no_rows_and_an_empty_file_says_why_it_is_not_read() {
    assert_eq!(read(format!("{HEADER}\n").as_bytes()).unwrap(), (vec![], vec![]));
    assert_eq!(read(HEADER.as_bytes()).unwrap(), (vec![], vec![]), "no final line break");
    let empty = read(b"").unwrap_err();
    assert!(empty.starts_with("19/vbm.csv: line 1:"), "{empty}");
}

#[test]
fn a_megabyte_field_and_bytes_that_are_not_utf8_reject_their_row_only() {
    let huge = "B".repeat(1 << 20);
    let mut file = format!("{HEADER}\n{}\n{}\n", row("CA1", &huge), row("CA2", "B2")).into_bytes();
    file.extend_from_slice(b"CA3,19,2026-11-03-GEN,B\xff3,ISSUED,2026-10-06T09:15:00-07:00\n");
    file.extend_from_slice(format!("{}\n", row("CA4", "B4")).as_bytes());
    let (ok, bad) = read(&file).unwrap();
    assert_eq!(ok, [(3, "CA2".to_string()), (5, "CA4".to_string())]);
    assert_eq!(bad.iter().map(|e| (e.line, e.field.as_str())).collect::<Vec<_>>(), [(2, "ballot_id"), (4, "ballot_id")]);
    // The report names the field and what is wrong, never repeating the megabyte.
    assert!(bad.iter().all(|e| e.reason.len() < 200), "{:?}", bad.iter().map(|e| e.reason.len()).collect::<Vec<_>>());
}

#[test]
fn a_ballot_id_of_only_dashes_or_underscores_is_refused_as_it_would_stand_for_an_unknown_ballot() {
    // A lone "-" is what a journey calls a ballot scanned before any ballot id is known: a
    // status row of ballot "-" would be told as news of that unknown envelope.
    let file = format!("{HEADER}\n{}\n{}\n{}\n{}\n", row("CA1", "-"), row("CA2", "__"), row("CA3", "-B3"), row("CA4", "4"));
    let (ok, bad) = read(file.as_bytes()).unwrap();
    assert_eq!(ok, [(4, "CA3".to_string()), (5, "CA4".to_string())]);
    assert_eq!(bad.iter().map(|e| (e.line, e.field.as_str(), e.reason.as_str())).collect::<Vec<_>>(), [(2, "ballot_id", "has no letter or digit"), (3, "ballot_id", "has no letter or digit")]);
}

#[test]
fn a_line_of_spaces_between_rows_is_skipped_like_a_blank_one() {
    let file = format!("{HEADER}\n{}\n   \n\t\n{}\n", row("CA1", "B1"), row("CA2", "B2"));
    let (ok, bad) = read(file.as_bytes()).unwrap();
    assert_eq!(ok, [(2, "CA1".to_string()), (5, "CA2".to_string())]);
    assert!(bad.is_empty(), "{bad:?}");
}

#[test]
fn a_sign_up_rows_language_is_read_in_any_case() {
    let row = |lang: &str| wmb_core::signup::SignupRequest::from_fields("Ann", "Lee", "1980-05-17", "90012", "", lang, "+19165550101", "", "", "", "");
    assert_eq!(row("ES").unwrap().language, wmb_core::Language::Es);
    assert_eq!(row(" Vi ").unwrap().language, wmb_core::Language::Vi);
    assert_eq!(row("xx").unwrap_err().field, "language");
}
