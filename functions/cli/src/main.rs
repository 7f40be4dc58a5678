//! `ballot-tracking`: the Where's My Ballot pipeline on this machine — an embedded store, an
//! outbox instead of SES/SNS/Connect, and a virtual clock — plus file checking, synthetic
//! data, template previews and the benchmark.

/// The replay allocates and frees small records on its reader, lane and outbox threads; with
/// glibc's allocator a sixth of its time went to that.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use ballot_tracking::{bench, check, generate, render, serve, simulate};

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use wmb_core::election::Election;
use wmb_core::status::{Channel, Language, MessageKind, StatusCode};
use wmb_core::templates::Catalog;
use wmb_core::CountyCode;

#[derive(Parser)]
#[command(name = "ballot-tracking", version, about = "Where's My Ballot: ballot tracking and voter notifications, run locally")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum ImbAction {
    /// Print the 65 bars (F, A, D, T) for a 20-digit tracking code and an optional routing code.
    Encode { tracking: String, routing: Option<String> },
    /// Print the tracking code, routing code and fields of 65 bars, or why they are invalid.
    Decode { bars: String },
}

#[derive(Subcommand)]
enum Command {
    /// Replay an election folder (election.toml + timeline.csv) end to end on a virtual clock.
    Simulate {
        /// The folder with election.toml, timeline.csv and the county files.
        dir: PathBuf,
        /// Where outbox.jsonl, reports/ and summary.json go (default: out/<folder name>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Write the outbox zstd-compressed, as outbox.jsonl.zst (a statewide run's outbox is
        /// tens of gigabytes as plain text).
        #[arg(long)]
        compress: bool,
        /// Split the store by voter into this many lanes, each applied on a thread of its own (as
        /// many as the machine has cores; their page caches share 512 MiB): `state.<k>.db`,
        /// `state.<k>.contacts.db` and `outbox.<k>.jsonl` for each lane, the same messages and
        /// reports as one lane.
        #[arg(long, default_value_t = 1)]
        lanes: usize,
    },
    /// Serve the voters' API (sign up, codes, stop, unsubscribe) on this machine, with an election
    /// folder's files loaded (all but its sign-ups: voters sign up here).
    Serve {
        /// The election folder (election.toml, timeline.csv and its files).
        dir: PathBuf,
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Where outbox.jsonl (every message, codes included), reports/ and the store go.
        #[arg(long, default_value = "out/serve")]
        out: PathBuf,
        /// Run the clock from this time (RFC 3339) instead of now, e.g. during the election.
        #[arg(long)]
        at: Option<String>,
        /// The voters' page (default: the repository's functions/cli/web).
        #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/web"))]
        web: PathBuf,
    },
    /// Validate one county file (its kind is read from its header) and say what it would trigger.
    Check {
        file: PathBuf,
        /// An election definition: also check election ids and county enrollment.
        #[arg(long)]
        election: Option<PathBuf>,
        /// Write every rejected row (line,field,reason) to this CSV file.
        #[arg(long)]
        report: Option<PathBuf>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
        /// For a scan feed: the IMb crosswalk to match the scans against.
        #[arg(long)]
        crosswalk: Option<PathBuf>,
        /// Check the file as if it arrived at this time (RFC 3339; default now): rows dated more
        /// than a day after it, and scans more than 60 days before it, are refused as ingest
        /// refuses them.
        #[arg(long)]
        arrived: Option<String>,
    },
    /// Check counties' enrolment files against an election (the 90-day rule of special and local
    /// elections, dates, fields) and show who takes part; exits 1 if any is refused.
    Enrol {
        /// The election definition.
        #[arg(long)]
        election: PathBuf,
        /// Enrolment files (one county each), applied in order.
        files: Vec<PathBuf>,
    },
    /// Encode or decode an Intelligent Mail barcode (USPS-B-3200).
    Imb {
        #[command(subcommand)]
        action: ImbAction,
    },
    /// Write a synthetic statewide election (58 counties) in the county file formats.
    Generate {
        #[arg(long)]
        voters: u64,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
    },
    /// Preview one message, or (--segments) the SMS segment table of every message and language.
    Render {
        #[arg(long, default_value = "en")]
        lang: String,
        #[arg(long, default_value = "received")]
        message: String,
        #[arg(long, default_value = "sms")]
        channel: String,
        /// The status code behind a Not Accepted or Contact County message (e.g. NMS).
        #[arg(long)]
        code: Option<String>,
        #[arg(long, default_value = "19")]
        county: String,
        /// An election definition (default: the sample election).
        #[arg(long)]
        election: Option<PathBuf>,
        /// Print the worst-case SMS segment count of every message in every language.
        #[arg(long)]
        segments: bool,
        /// Print how calls speak each language, given a voice-prompts.toml (or none).
        #[arg(long)]
        voice_plan: bool,
        /// The voice-prompts.toml for --voice-plan.
        #[arg(long)]
        prompts: Option<PathBuf>,
        /// Print `[recorded_from.<lang>]` tables: the fingerprint of what each recording should say
        /// now, to list in voice-prompts.toml beside the ids of recordings made from these words.
        #[arg(long)]
        recording_fingerprints: bool,
    },
    /// Measure check's rows per second and peak memory on generated statewide VBM files.
    Bench {
        /// File sizes in rows, comma-separated.
        #[arg(long, value_delimiter = ',', default_values_t = [1_000_000u64, 22_600_000])]
        rows: Vec<u64>,
        /// Scan-feed sizes (JSON Lines), comma-separated; matched against a 1 M-envelope crosswalk.
        #[arg(long, value_delimiter = ',', default_values_t = [5_000_000u64])]
        scans: Vec<u64>,
        #[arg(long, default_value = "target/bench-data")]
        dir: PathBuf,
        /// Keep the generated files.
        #[arg(long)]
        keep: bool,
    },
}

fn load_election(path: &PathBuf) -> Result<Election> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot be read", path.display()))?;
    Ok(Election::from_toml(&path.display().to_string(), &text)?)
}

fn run() -> Result<ExitCode> {
    match Cli::parse().command {
        Command::Simulate { dir, out, compress, lanes } => {
            let out = out.unwrap_or_else(|| simulate::default_out(&dir));
            let outbox = if compress { simulate::OUTBOX_ZST } else { simulate::OUTBOX };
            let summary = simulate::Simulation { dir: &dir, out: &out }.run_in_lanes(outbox, lanes)?;
            println!("election {}: {} files", summary.election_id, summary.files.len());
            for (i, f) in summary.files.iter().enumerate() {
                let status = match &f.file_error {
                    Some(e) => format!("NOT READ: {e}"),
                    None if f.not_used > 0 => format!(
                        "{} accepted ({} not used: the county does not use IMbs that way), {} rejected",
                        f.accepted, f.not_used, f.rejected
                    ),
                    None if f.kind == wmb_core::formats::FileKind::Signups => {
                        format!("{} accepted, {} rejected, {} refused", f.accepted, f.rejected, f.refused)
                    }
                    None => format!("{} accepted, {} rejected", f.accepted, f.rejected),
                };
                let took = summary.seconds.get(i).map(|s| format!(" ({s:.1} s)")).unwrap_or_default();
                println!("  {:<34} {:<8} {status}{took}", f.file, f.kind.as_str());
            }
            let t = &summary.tally;
            let sent: Vec<String> = t.sent.iter().map(|(k, v)| format!("{k} {v}")).collect();
            let decided: Vec<String> = t.milestones.iter().map(|(k, v)| format!("{k} {v}")).collect();
            println!("milestones decided: {}", decided.join(", "));
            println!("messages sent: {} ({})", summary.messages_in_outbox, sent.join(", "));
            println!(
                "held for quiet hours: {}, superseded before release: {}, duplicates suppressed: {}, not signed up: {}, moved county: {}, county not enrolled: {}, failed: {}",
                t.held, t.superseded, t.duplicates, t.not_subscribed, t.moved_county, t.not_enrolled, t.failed
            );
            let outboxes = if lanes > 1 { simulate::lane_file(outbox, 0, lanes).replacen(".0.", ".<k>.", 1) } else { outbox.to_string() };
            println!("wrote {}/{outboxes}, {}/reports/, {}/summary.json", out.display(), out.display(), out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve { dir, port, out, at, web } => {
            let clock = match at {
                Some(t) => serve::ServeClock::From {
                    start: time_option("--at", &t)?,
                    at: std::time::Instant::now(),
                },
                None => serve::ServeClock::System,
            };
            let server = serve::Server::open(&dir, &out, &format!("http://127.0.0.1:{port}"), clock)?;
            let files = server.load_timeline(server.clock.now())?;
            println!("loaded {files} files of {}; the voters' page at http://127.0.0.1:{port}/ and the API (POST /signup /optout /verify /ballot /ballot/view; GET|POST /unsubscribe)", dir.display());
            println!("messages and codes go to {}/outbox.jsonl; codes are printed here too", out.display());
            server.run(port, &web)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { file, election, report, json, crosswalk, arrived } => {
            let election = election.as_ref().map(load_election).transpose()?;
            let crosswalk = crosswalk.as_deref().map(check::load_crosswalk).transpose()?;
            let arrived = match arrived {
                Some(t) => time_option("--arrived", &t)?,
                None => chrono::Utc::now(),
            };
            let result = check::check(&file, election.as_ref(), report.as_deref(), crosswalk.as_ref(), arrived)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&result)?);
            } else {
                check::print(&result);
            }
            Ok(if result.rejected > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
        Command::Imb { action } => Ok(imb_command(action)),
        Command::Enrol { election, files } => {
            let mut election = load_election(&election)?;
            let mut refused = 0;
            for file in &files {
                let name = file.display().to_string();
                let text = std::fs::read_to_string(file).with_context(|| format!("{name}: cannot be read"))?;
                match wmb_core::enrolment::Enrolment::from_toml(&name, &text).and_then(|e| election.enrol(&name, &e).map(|_| e)) {
                    Ok(e) => println!("{name}: county {} {}", e.county, if election.is_enrolled(e.county) { "takes part" } else { "does not take part" }),
                    Err(err) => {
                        eprintln!("{err}");
                        refused += 1;
                    }
                }
            }
            let taking_part: Vec<String> = CountyCode::all().filter(|c| election.is_enrolled(*c)).map(|c| c.to_string()).collect();
            println!("{}: {} counties take part: {}", election.id(), taking_part.len(), taking_part.join(" "));
            Ok(if refused > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
        Command::Generate { voters, out, seed } => {
            generate::generate(&out, voters, seed)?;
            println!("wrote a synthetic statewide election of {voters} voters to {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Render { lang, message, channel, code, county, election, segments, voice_plan, prompts, recording_fingerprints } => {
            let catalog = Catalog::embedded()?;
            if recording_fingerprints {
                print!("{}", wmb_core::recording_scripts::fingerprints_toml(&catalog));
                return Ok(ExitCode::SUCCESS);
            }
            if voice_plan {
                let plan = match prompts {
                    Some(p) => {
                        let text = std::fs::read_to_string(&p).with_context(|| format!("{}: cannot be read", p.display()))?;
                        wmb_core::voice::VoicePlan::from_toml(&p.display().to_string(), &text)?
                    }
                    None => wmb_core::voice::VoicePlan::default(),
                };
                print!("{}{}", render::voice_plan_table(&plan), render::stale_recordings_table(&plan, &catalog));
                return Ok(ExitCode::SUCCESS);
            }
            if segments {
                print!("{}", render::segment_table(&catalog)?);
                return Ok(ExitCode::SUCCESS);
            }
            let election = match election {
                Some(p) => load_election(&p)?,
                None => render::sample_election()?,
            };
            let preview = render::Preview {
                lang: Language::parse(&lang).with_context(|| format!("--lang '{lang}': one of en es zh hi ja km ko tl th vi"))?,
                kind: MessageKind::parse(&message).with_context(|| {
                    let all: Vec<_> = MessageKind::ALL.iter().map(|m| m.key()).collect();
                    format!("--message '{message}': one of {}", all.join(" "))
                })?,
                channel: Channel::parse(&channel).with_context(|| format!("--channel '{channel}': one of sms email voice"))?,
                election: &election,
                county: CountyCode::parse(&county).with_context(|| format!("--county '{county}': a county number 01-58"))?,
                code: code.map(|c| StatusCode::parse(&c).with_context(|| format!("--code '{c}' is not a status code"))).transpose()?,
                status_time: chrono::Utc::now(),
            };
            print!("{}", render::render(&catalog, &preview)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench { rows, scans, dir, keep } => {
            bench::run(&rows, &scans, &dir, keep)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn imb_command(action: ImbAction) -> ExitCode {
    use wmb_core::imb;
    match action {
        ImbAction::Encode { tracking, routing } => match imb::encode_str(&tracking, routing.as_deref().unwrap_or("")) {
            Ok(bars) => {
                println!("{bars}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(1)
            }
        },
        ImbAction::Decode { bars } => match imb::decode(&bars) {
            Ok(d) => {
                println!("tracking code: {}", d.tracking_code());
                println!("routing code:  {}", if d.routing.is_empty() { "(none)" } else { &d.routing });
                println!("barcode ID:    {:02}", d.barcode_id);
                println!("service type:  {:03}", d.service_type_id);
                println!("mailer ID:     {:0width$}", d.mailer_id, width = d.mailer_id_len());
                println!("serial number: {:0width$}", d.serial, width = 15 - d.mailer_id_len());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(1)
            }
        },
    }
}

/// A time given on the command line (RFC 3339), or an error naming the option and the value.
fn time_option(option: &str, value: &str) -> Result<chrono::DateTime<chrono::Utc>> {
    wmb_core::time::parse_rfc3339(value.as_bytes()).with_context(|| format!("{option} '{value}' is not an RFC 3339 time"))
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
