//! `generate`: a synthetic statewide election in the county file formats, and the
//! statewide-sized VBM file the benchmark reads.

use anyhow::Result;
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use wmb_core::time::PACIFIC;
use wmb_core::{CountyCode, Language};

/// A small, fast, deterministic random number generator (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    /// True with probability `p` per thousand.
    pub fn permille(&mut self, p: u64) -> bool {
        self.below(1000) < p
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    /// Picks by weight.
    pub fn weighted<'a, T>(&mut self, items: &'a [(T, u64)]) -> &'a T {
        let total: u64 = items.iter().map(|(_, w)| w).sum();
        let mut r = self.below(total);
        for (item, w) in items {
            if r < *w {
                return item;
            }
            r -= w;
        }
        &items[items.len() - 1].0
    }
}

/// Rough shares of California's registered voters by county number (per mille, the large
/// counties named, the rest spread evenly): enough for a realistic mix, not a statistic.
fn county_weights() -> Vec<(CountyCode, u64)> {
    let big = [(19, 250), (30, 80), (37, 80), (33, 60), (36, 55), (43, 40), (1, 40), (34, 40), (7, 32), (10, 20), (38, 25), (56, 22), (41, 20), (15, 18), (39, 16)];
    CountyCode::all()
        .map(|c| (c, big.iter().find(|(n, _)| *n == c.number()).map_or(4, |(_, w)| *w)))
        .collect()
}

const LANGUAGE_MIX: [(Language, u64); 10] = [
    (Language::En, 700), (Language::Es, 150), (Language::Zh, 40), (Language::Vi, 30), (Language::Ko, 20),
    (Language::Tl, 20), (Language::Hi, 12), (Language::Ja, 10), (Language::Th, 9), (Language::Km, 9),
];

const FIRST: [&str; 24] = [
    "Maria", "James", "Wei", "Linh", "Jose", "Ana", "Michael", "Priya", "Yuki", "Minji", "Sokha", "Somchai",
    "Juan", "Emily", "David", "Rosa", "Nguyen", "Hiroshi", "Arjun", "Grace", "Carlos", "Mei", "Daniel", "Luz",
];
const LAST: [&str; 24] = [
    "Garcia", "Smith", "Chen", "Tran", "Hernandez", "Lopez", "Johnson", "Patel", "Tanaka", "Kim", "Chea", "Srisuk",
    "Martinez", "Nguyen", "Williams", "Santos", "Le", "Sato", "Mehta", "Reyes", "Gonzalez", "Wong", "Brown", "Cruz",
];

pub const ELECTION_ID: &str = "2026-11-03-GEN";

fn votecal_id(i: u64) -> String {
    format!("CA{i:010}")
}

fn stamp(date: NaiveDate, minute_of_day: u64) -> String {
    let local = date.and_hms_opt((minute_of_day / 60) as u32, (minute_of_day % 60) as u32, 0).expect("valid time");
    PACIFIC.from_local_datetime(&local).earliest().map(|t| t.to_rfc3339()).unwrap_or_else(|| Utc.from_utc_datetime(&local).to_rfc3339())
}

/// Writes a VBM status file of `rows` rows: every voter's ISSUED, then the returns.
/// Used by the benchmark; streams, so any size fits in memory.
pub fn write_vbm(path: &Path, rows: u64, seed: u64) -> Result<()> {
    let mut rng = Rng::new(seed);
    let weights = county_weights();
    let mut w = BufWriter::with_capacity(1 << 20, File::create(path)?);
    writeln!(w, "votecal_id,county_code,election_id,ballot_id,status_code,status_time")?;
    let start = NaiveDate::from_ymd_opt(2026, 10, 5).expect("date");
    let codes = [("INR", 300), ("ACCEPTED", 600), ("NMS", 10), ("NVS", 10), ("UND", 8), ("NOT", 5), ("BME", 3), ("OTH", 2), ("CLD", 2)];
    for i in 0..rows {
        let county = rng.weighted(&weights);
        let (code, day) = if i % 3 == 0 { ("ISSUED", rng.below(5)) } else { (*rng.weighted(&codes), 5 + rng.below(40)) };
        writeln!(
            w,
            "{},{county},{ELECTION_ID},{county}-{:08}-1,{code},{}",
            votecal_id(i / 3),
            i / 3,
            stamp(start + Duration::days(day as i64), 6 * 60 + rng.below(15 * 60))
        )?;
    }
    w.flush()?;
    Ok(())
}

/// Writes a whole synthetic statewide election to `out`.
pub fn generate(out: &Path, voters: u64, seed: u64) -> Result<()> {
    std::fs::create_dir_all(out)?;
    let mut rng = Rng::new(seed);
    let weights = county_weights();
    let mut election = String::from(
        "# A synthetic statewide election, made by `ballot-tracking generate`.\n\
         id = \"2026-11-03-GEN\"\nname = \"2026 General Election\"\ndate = \"2026-11-03\"\nkind = \"statewide\"\n\
         opted_out = [\"46\"]\n\n[names]\nes = \"Elección General de 2026\"\n\n[default_contact]\n\
         phone = \"(916) 555-0100\"\nemail = \"elections@example.gov\"\nurl = \"https://elections.example.gov\"\n",
    );
    for c in CountyCode::all() {
        let imb = match c.number() % 4 { 0 => "both", 1 => "outbound", _ => "none" };
        election.push_str(&format!(
            "\n[counties.{c}]\nimb = \"{imb}\"\nphone = \"(800) 555-01{:02}\"\nemail = \"vbm@county{c}.example.gov\"\nurl = \"https://county{c}.example.gov\"\n",
            c.number()
        ));
    }
    std::fs::write(out.join("election.toml"), election)?;
    let mut roll = csv::Writer::from_path(out.join("voters.csv"))?;
    let mut signups = csv::Writer::from_path(out.join("signups.csv"))?;
    let mut issued = csv::Writer::from_path(out.join("vbm-issued.csv"))?;
    let mut returns = csv::Writer::from_path(out.join("vbm-returns.csv"))?;
    let mut results = csv::Writer::from_path(out.join("vbm-results.csv"))?;
    let mut vph = csv::Writer::from_path(out.join("vph.csv"))?;
    let mut snapshot = csv::Writer::from_path(out.join("vbm-snapshot.csv"))?;
    let mut crosswalk = csv::Writer::from_path(out.join("imb-crosswalk.csv"))?;
    let mut scans_out = BufWriter::new(File::create(out.join("iv-scans-outbound.jsonl"))?);
    let mut scans_back = BufWriter::new(File::create(out.join("iv-scans-return.jsonl"))?);
    crosswalk.write_record(["imb", "county_code", "votecal_id", "election_id", "ballot_id", "direction"])?;
    roll.write_record(wmb_core::formats::FileKind::Voters.header())?;
    signups.write_record(wmb_core::formats::FileKind::Signups.header())?;
    for w in [&mut issued, &mut returns, &mut results, &mut snapshot] {
        w.write_record(wmb_core::formats::FileKind::Vbm.header())?;
    }
    vph.write_record(wmb_core::formats::FileKind::Vph.header())?;
    let start = NaiveDate::from_ymd_opt(2026, 10, 5).expect("date");
    let hours = [("", "", 800), ("09:00", "17:00", 80), ("07:00", "21:00", 70), ("18:00", "22:00", 50)];
    let problems = ["NMS", "NVS", "NID", "INF", "BME", "MIA", "MRE", "NOT", "OTH", "VDD"];
    for i in 0..voters {
        let id = votecal_id(i);
        let county = *rng.weighted(&weights);
        let (first, last) = (*rng.pick(&FIRST), *rng.pick(&LAST));
        let dob = NaiveDate::from_ymd_opt(1940 + rng.below(66) as i32, 1 + rng.below(12) as u32, 1 + rng.below(28) as u32).expect("date");
        let zip = format!("9{:04}", rng.below(6200));
        let status = if rng.permille(940) { "ACTIVE" } else { *rng.pick(&["INACTIVE", "PENDING", "CANCELED"]) };
        roll.write_record([id.as_str(), &county.code(), first, last, &dob.to_string(), &zip, status])?;
        if status != "ACTIVE" {
            continue;
        }
        // About a fifth of voters sign up (5 million of 22.6 million did in 2024).
        if rng.permille(213) {
            let lang = rng.weighted(&LANGUAGE_MIX).code();
            // A California area code and a 555 exchange.
            let area = CA_AREA_CODES[rng.below(CA_AREA_CODES.len() as u64) as usize];
            let phone = format!("+1{area}555{:04}", rng.below(10_000));
            let sms = if rng.permille(650) { phone.clone() } else { String::new() };
            let mut email = if rng.permille(600) { format!("voter{i}@example.com") } else { String::new() };
            let voice = if rng.permille(100) { phone } else { String::new() };
            if sms.is_empty() && voice.is_empty() && email.is_empty() {
                email = format!("voter{i}@example.com");
            }
            let (from, until, _) = *rng.weighted(&hours.map(|h| ((h.0, h.1, 0), h.2)));
            signups.write_record([first, last, &dob.to_string(), &zip, "", lang, &sms, &email, &voice, from, until])?;
        }
        let ballot = format!("{county}-{i:010}-1");
        let t = |rng: &mut Rng, from_day: u64, span: u64| stamp(start + Duration::days((from_day + rng.below(span)) as i64), 6 * 60 + rng.below(16 * 60));
        let issued_at = t(&mut rng, 0, 4);
        issued.write_record([id.as_str(), &county.code(), ELECTION_ID, &ballot, "ISSUED", &issued_at])?;
        // Two counties track their envelopes by IMb: San Diego outbound, Riverside both ways.
        let imb = [(37, false), (33, true)].into_iter().find(|(c, _)| *c == county.number()).map(|(_, both)| both);
        if let Some(both) = imb {
            let (outbound, inbound) = (format!("00700123456{i:09}"), format!("00708123456{i:09}"));
            crosswalk.write_record([outbound.as_str(), &county.code(), &id, ELECTION_ID, &ballot, "outbound"])?;
            for (code, hour) in [("SD", 7), ("01", 15)] {
                writeln!(scans_out, r#"{{"imb":"{outbound}","scanDatetime":"2026-10-{:02} {hour:02}:{:02}:00","scanEventCode":"{code}","scanFacilityZip":"92199","handlingEventType":"L"}}"#, 9 + rng.below(2), rng.below(60))?;
            }
            if both {
                crosswalk.write_record([inbound.as_str(), &county.code(), &id, ELECTION_ID, &ballot, "inbound"])?;
            }
            if both && rng.permille(700) {
                writeln!(scans_back, r#"{{"imb":"{inbound}","scanDatetime":"2026-10-{:02} {:02}:{:02}:00","scanEventCode":"SD","scanFacilityZip":"92501","handlingEventType":"L"}}"#, 20 + rng.below(4), 8 + rng.below(10), rng.below(60))?;
            }
        }
        // The morning of election day VoteCal sends every ballot's status again (a snapshot):
        // most of its rows repeat what is known.
        let mut latest = "ISSUED".to_string();
        let mut latest_at = issued_at.clone();
        if rng.permille(8) {
            returns.write_record([id.as_str(), &county.code(), ELECTION_ID, &ballot, "UND", &t(&mut rng, 6, 8)])?;
            continue;
        }
        if rng.permille(60) {
            let method = if rng.permille(700) { "VCR" } else { "POLL" };
            vph.write_record([id.as_str(), &county.code(), ELECTION_ID, method, &t(&mut rng, 19, 11), "Y"])?;
            continue;
        }
        if rng.permille(720) {
            latest_at = t(&mut rng, 8, 20);
            latest = "INR".into();
            returns.write_record([id.as_str(), &county.code(), ELECTION_ID, &ballot, "INR", &latest_at])?;
            let code = if rng.permille(965) { "ACCEPTED" } else { *rng.pick(&problems) };
            results.write_record([id.as_str(), &county.code(), ELECTION_ID, &ballot, code, &t(&mut rng, 30, 5)])?;
        }
        snapshot.write_record([id.as_str(), &county.code(), ELECTION_ID, &ballot, &latest, &latest_at])?;
    }
    scans_out.flush()?;
    scans_back.flush()?;
    for w in [&mut roll, &mut signups, &mut issued, &mut returns, &mut results, &mut vph, &mut snapshot, &mut crosswalk] {
        w.flush()?;
    }
    std::fs::write(
        out.join("timeline.csv"),
        "at,kind,path\n\
         2026-09-20T06:00:00-07:00,voters,voters.csv\n\
         2026-09-25T10:00:00-07:00,signups,signups.csv\n\
         2026-10-01T09:00:00-07:00,imb,imb-crosswalk.csv\n\
         2026-10-09T12:00:00-07:00,vbm,vbm-issued.csv\n\
         2026-10-11T06:00:00-07:00,scans,iv-scans-outbound.jsonl\n\
         2026-10-25T06:00:00-07:00,scans,iv-scans-return.jsonl\n\
         2026-11-02T23:00:00-08:00,vbm,vbm-returns.csv\n\
         2026-11-03T06:00:00-08:00,vbm,vbm-snapshot.csv\n\
         2026-11-04T05:00:00-08:00,vph,vph.csv\n\
         2026-11-09T14:00:00-08:00,vbm,vbm-results.csv\n",
    )?;
    Ok(())
}

/// The 20-digit tracking code of the synthetic envelope `serial` (outbound ballot mail).
fn synthetic_tracking(serial: u64) -> String {
    format!("00700123456{serial:09}")
}

/// Writes a crosswalk of `n` envelopes (for the scan benchmark).
pub fn write_crosswalk(path: &Path, n: u64) -> Result<()> {
    let mut w = BufWriter::with_capacity(1 << 20, File::create(path)?);
    writeln!(w, "imb,county_code,votecal_id,election_id,ballot_id,direction")?;
    for i in 0..n {
        writeln!(w, "{},19,{},{ELECTION_ID},,outbound", synthetic_tracking(i), votecal_id(i))?;
    }
    w.flush()?;
    Ok(())
}

/// Writes a day's Informed Visibility feed of `n` piece scans as JSON Lines: several scans per
/// envelope of the crosswalk, and about 1 in 20 of envelopes it does not know.
pub fn write_scans(path: &Path, n: u64, crosswalk: u64, seed: u64) -> Result<()> {
    let mut rng = Rng::new(seed);
    let mut w = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let events = [("SD", "1b"), ("SL", "2a"), ("SF", "3b"), ("01", "4c")];
    for _ in 0..n {
        let serial = if rng.permille(50) { crosswalk + rng.below(1_000_000) } else { rng.below(crosswalk.max(1)) };
        let (code, phase) = rng.pick(&events);
        writeln!(
            w,
            r#"{{"imb":"{}90012123456","imbMid":"123456","imbStid":"700","scanDatetime":"2026-10-06 {:02}:{:02}:{:02}","scanEventCode":"{code}","scanFacilityName":"LOS ANGELES P&DC","scanFacilityZip":"900{:02}","handlingEventType":"L","mailPhase":"{phase}","machineName":"DBCS-{}"}}"#,
            synthetic_tracking(serial),
            rng.below(24),
            rng.below(60),
            rng.below(60),
            rng.below(100),
            rng.below(40)
        )?;
    }
    w.flush()?;
    Ok(())
}

/// California's area codes: generated numbers are real US numbers, as libphonenumber judges them.
const CA_AREA_CODES: [u16; 37] = [
    209, 213, 279, 310, 323, 341, 350, 408, 415, 424, 442, 510, 530, 559, 562, 619, 626, 628, 650, 657, 661, 669, 707, 714, 747, 760, 805,
    818, 820, 831, 840, 858, 909, 916, 925, 949, 951,
];
