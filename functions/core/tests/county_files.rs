//! County files read row by row: each bad row reported at its own line with the field named,
//! the good rows around it kept; codes and words in any letter case; a quote left open named
//! with the lines it took.

use wmb_core::formats::*;
use wmb_core::status::{ParticipationMethod, StatusCode};

fn vbm(text: &str) -> (Vec<Line<VbmStatus>>, Vec<RowError>) {
    let mut ok = vec![];
    let mut bad = vec![];
    for r in read_rows::<_, VbmStatus>("vbm.csv", text.as_bytes()).unwrap() {
        match r {
            Ok(l) => ok.push(l),
            Err(e) => bad.push(e),
        }
    }
    (ok, bad)
}

const HEADER: &str = "votecal_id,county_code,election_id,ballot_id,status_code,status_time\n";

#[test]
fn a_spreadsheets_county_number_without_its_zero_and_codes_in_lower_case_are_read() {
    let file = format!(
        "{HEADER}CA1,1,2026-11-03-GEN,B1,issued,2026-10-06T09:15:00-07:00\n\
         CA2,9,2026-11-03-GEN,B2,Nvs,2026-10-06T09:15:00-07:00\n\
         CA3,0,2026-11-03-GEN,B3,INR,2026-10-06T09:15:00-07:00\n\
         CA4,001,2026-11-03-GEN,B4,INR,2026-10-06T09:15:00-07:00\n"
    );
    let (ok, bad) = vbm(&file);
    let got: Vec<_> = ok.iter().map(|l| (l.row.county.code(), l.row.status)).collect();
    assert_eq!(got, [("01".to_string(), StatusCode::Issued), ("09".to_string(), StatusCode::Nvs)]);
    assert_eq!(bad.iter().map(|e| (e.line, e.field.as_str())).collect::<Vec<_>>(), [(4, "county_code"), (5, "county_code")]);
}

#[test]
fn a_bad_row_is_reported_with_its_line_and_field_and_good_rows_survive() {
    let file = format!(
        "{HEADER}CA1,19,2026-11-03-GEN,B1,ISSUED,2026-10-06T09:15:00-07:00\n\
         CA2,99,2026-11-03-GEN,B2,ISSUED,2026-10-06T09:15:00-07:00\n\
         CA3,19,2026-11-03-GEN,B3,LOST,2026-10-06T09:15:00-07:00\n\
         CA4,19,2026-11-03-GEN,B4,INR,yesterday\n\
         CA5,19,2026-11-03-GEN,B5\n\
         \"CA6\",\"19\",2026-11-03-GEN,\"B6\",ACCEPTED,2026-10-30T10:00:00Z\n"
    );
    let (ok, bad) = vbm(&file);
    assert_eq!(ok.iter().map(|l| (l.line, l.row.votecal_id.as_str())).collect::<Vec<_>>(), [(2, "CA1"), (7, "CA6")]);
    let got: Vec<_> = bad.iter().map(|e| (e.line, e.field.as_str())).collect();
    assert_eq!(got, [(3, "county_code"), (4, "status_code"), (5, "status_time"), (6, "row")]);
    assert!(bad[1].reason.contains("LOST"));
    assert_eq!(bad[3].reason, "expected 6 fields, found 4");
}

#[test]
fn a_wrong_header_is_a_whole_file_error_naming_the_expected_columns() {
    let err = read_rows::<_, VbmStatus>("la/vbm.csv", "voter,county\nx,y\n".as_bytes()).err().unwrap();
    let msg = err.to_string();
    assert!(msg.starts_with("la/vbm.csv: line 1: the header is not a vbm file's header"), "{msg}");
    assert!(msg.contains("votecal_id,county_code,election_id"), "{msg}");
}

#[test]
fn the_kind_is_known_from_the_header_even_with_a_byte_order_mark() {
    let with_bom = format!("\u{feff}{HEADER}");
    assert_eq!(detect_kind("f", with_bom.as_bytes()).unwrap(), FileKind::Vbm);
    let voters = "votecal_id,county_code,first_name,last_name,date_of_birth,zip,status\n";
    assert_eq!(detect_kind("f", voters.as_bytes()).unwrap(), FileKind::Voters);
    assert!(detect_kind("f", "a,b\n".as_bytes()).is_err());
}

#[test]
fn voter_roll_errors_never_quote_personal_values() {
    let file = "votecal_id,county_code,first_name,last_name,date_of_birth,zip,status\n\
                CA1,01,Maria,Lopez,1961-02-31,94601,ACTIVE\n\
                CA2,01,Maria,Lopez,1961-02-03,9460,ACTIVE\n\
                CA3,01,,Lopez,1961-02-03,94601,ACTIVE\n\
                CA4,01,Ana,Ruiz,1970-01-01,94601-1234,INACTIVE\n";
    let rows: Vec<_> = read_rows::<_, VoterRecord>("voters.csv", file.as_bytes()).unwrap().collect();
    let errs: Vec<_> = rows.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(errs.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["date_of_birth", "zip", "first_name"]);
    for e in errs {
        assert!(!e.reason.contains("1961") && !e.reason.contains("9460") && !e.reason.contains("Maria"));
    }
    let ana = rows[3].as_ref().unwrap();
    assert_eq!((ana.row.zip.as_str(), ana.row.status), ("94601", VoterStatus::Inactive));
}

#[test]
fn participation_rows_read_method_and_active_flag() {
    let file = "votecal_id,county_code,election_id,participation_method,participation_time,active\n\
                CA1,19,2026-11-03-GEN,VCR,2026-11-01T10:00:00-08:00,Y\n\
                CA2,19,2026-11-03-GEN,MAIL,2026-11-01T10:00:00-08:00,Y\n\
                CA3,19,2026-11-03-GEN,POLL,2026-11-03T10:00:00-08:00,yes\n";
    let rows: Vec<_> = read_rows::<_, Participation>("vph.csv", file.as_bytes()).unwrap().collect();
    let first = rows[0].as_ref().unwrap();
    assert_eq!((first.row.method, first.row.active), (ParticipationMethod::VoteCenter, true));
    assert_eq!(rows[1].as_ref().unwrap_err().field, "participation_method");
    assert_eq!(rows[2].as_ref().unwrap_err().field, "active");
}

#[test]
fn words_of_the_roll_and_the_participation_file_are_read_in_any_letter_case() {
    let roll = "votecal_id,county_code,first_name,last_name,date_of_birth,zip,status\n\
                CA1,01,Ana,Ruiz,1970-01-01,94601,Active\n\
                CA2,01,Bo,Ruiz,1971-01-01,94601,inactive\n";
    let rows: Vec<_> = read_rows::<_, VoterRecord>("voters.csv", roll.as_bytes()).unwrap().map(|r| r.unwrap().row.status).collect();
    assert_eq!(rows, [VoterStatus::Active, VoterStatus::Inactive]);
    let vph = "votecal_id,county_code,election_id,participation_method,participation_time,active\n\
               CA1,19,2026-11-03-GEN,vcr,2026-11-01T10:00:00-08:00,y\n\
               CA2,19,2026-11-03-GEN,Poll,2026-11-03T10:00:00-08:00,n\n";
    let rows: Vec<_> = read_rows::<_, Participation>("vph.csv", vph.as_bytes()).unwrap().map(|r| r.map(|l| (l.row.method, l.row.active))).collect();
    assert_eq!(rows, [Ok((ParticipationMethod::VoteCenter, true)), Ok((ParticipationMethod::Poll, false))]);
}

#[test]
fn a_quote_left_open_is_reported_with_the_lines_it_took_and_rows_after_its_close_are_read() {
    // Row 3 opens a quote that row 5 closes (in a ballot id): lines 3 to 5 are one bad row
    let file = format!(
        "{HEADER}CA1,19,2026-11-03-GEN,B1,ISSUED,2026-10-06T09:15:00-07:00\n\
         CA2,19,2026-11-03-GEN,\"B2,ISSUED,2026-10-06T09:15:00-07:00\n\
         CA3,19,2026-11-03-GEN,B3,ISSUED,2026-10-06T09:15:00-07:00\n\
         CA4,19,2026-11-03-GEN,B4\",ISSUED,2026-10-06T09:15:00-07:00,x,y\n\
         CA5,19,2026-11-03-GEN,B5,ISSUED,2026-10-06T09:15:00-07:00\n"
    );
    let (ok, bad) = vbm(&file);
    assert_eq!(ok.iter().map(|l| l.line).collect::<Vec<_>>(), [2, 6]);
    assert_eq!(bad.iter().map(|e| (e.line, e.field.as_str())).collect::<Vec<_>>(), [(3, "row")]);
    assert!(bad[0].reason.contains("over lines 3 to 5: a quote opened on this line may not be closed"), "{}", bad[0].reason);
    // Left open to the end of a Windows file: the lines to its end
    let open_to_the_end = format!("{HEADER}CA1,19,2026-11-03-GEN,\"B1,ISSUED,2026-10-06T09:15:00-07:00\r\nCA2,19,E,B2,INR,x\r\nCA3,19,E,B3,INR,x\r\n").replace('\n', "\r\n").replace("\r\r\n", "\r\n");
    let (_, bad) = vbm(&open_to_the_end);
    assert!(bad[0].reason.contains("lines 2 to 4"), "{}", bad[0].reason);
}

#[test]
fn rows_after_blank_lines_and_in_files_ended_by_cr_alone_are_reported_at_their_own_lines() {
    let rows = ["CA1,19,2026-11-03-GEN,B1,LOST,2026-10-06T09:15:00-07:00", "CA2,19,2026-11-03-GEN,B2,LOST,2026-10-06T09:15:00-07:00"];
    for (end, blank) in [("\n", ""), ("\r\n", ""), ("\r", ""), ("\n", "\n\n")] {
        let file = format!("{}{end}{blank}{}{end}{blank}{}{end}", HEADER.trim_end(), rows[0], rows[1]);
        let (_, bad) = vbm(&file);
        let gap = blank.len() as u64;
        assert_eq!(bad.iter().map(|e| e.line).collect::<Vec<_>>(), [2 + gap, 3 + 2 * gap], "{end:?} {blank:?}");
    }
}

#[test]
fn a_code_of_another_kind_of_row_says_where_it_belongs() {
    let file = format!("{HEADER}CA1,19,2026-11-03-GEN,B1,Reissued,2026-10-06T09:15:00-07:00\nCA2,19,2026-11-03-GEN,B2,VCR,2026-11-03T09:15:00-08:00\n");
    let (_, bad) = vbm(&file);
    assert!(bad[0].reason.contains("send the new ballot's ISSUED row"), "{}", bad[0].reason);
    assert!(bad[1].reason.contains("goes in a vph file"), "{}", bad[1].reason);
}
