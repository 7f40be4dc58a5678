//! `serve`: the voters' API on this machine, on the embedded store, with an election folder
//! loaded. The same routes and answers as on AWS (the core's [`wmb_core::api`]); messages,
//! codes included, go to `DIR/outbox.jsonl` in the shape `simulate` writes, and each code is
//! also printed on the terminal.

use crate::outbox::Outbox;
use crate::reports::FileReport;
use crate::simulate::{fresh_store, ingest_file, load_folder, read_timeline, release_until, ElectionFolder};
use crate::store::SqliteStore;
use anyhow::Result;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use wmb_core::access::AccessKeys;
use wmb_core::api::{ApiAnswer, ApiRequest};
use wmb_core::election::Election;
use wmb_core::formats::FileKind;
use wmb_core::pipeline::{Pipeline, Tally};
use wmb_core::ports::Inline;
use wmb_core::templates::Catalog;
use wmb_core::voice::VoicePlan;

/// The time the server answers at: the system clock, or a start time that runs on from there.
pub enum ServeClock {
    System,
    From { start: DateTime<Utc>, at: std::time::Instant },
    /// Set by hand (tests).
    Fixed(Mutex<DateTime<Utc>>),
}

impl ServeClock {
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            ServeClock::System => Utc::now(),
            ServeClock::From { start, at } => *start + chrono::Duration::from_std(at.elapsed()).unwrap_or_default(),
            ServeClock::Fixed(t) => *t.lock().expect("clock"),
        }
    }
}

/// The local service: one election folder, one SQLite file, one outbox.
pub struct Server {
    pub dir: PathBuf,
    pub out: PathBuf,
    pub store: SqliteStore,
    pub outbox: Outbox,
    pub catalog: Catalog,
    pub elections: BTreeMap<String, Election>,
    pub voice: VoicePlan,
    pub access: AccessKeys,
    pub clock: ServeClock,
    /// Totals since the start, for the terminal.
    pub tally: Mutex<Tally>,
    /// One request at a time: the embedded store is one connection.
    lock: Mutex<()>,
}

impl Server {
    /// Opens a fresh store and outbox in `out` for the election in `dir`.
    pub fn open(dir: &Path, out: &Path, public_url: &str, clock: ServeClock) -> Result<Server> {
        let ElectionFolder { election, catalog, voice } = load_folder(dir)?;
        let store = fresh_store(out)?;
        Ok(Server {
            dir: dir.to_path_buf(),
            out: out.to_path_buf(),
            store,
            outbox: Outbox::create(&out.join("outbox.jsonl"))?,
            catalog,
            elections: BTreeMap::from([(election.id().to_string(), election)]),
            voice,
            access: crate::local_access(public_url),
            clock,
            tally: Mutex::new(Tally::default()),
            lock: Mutex::new(()),
        })
    }

    fn pipeline(&self) -> Pipeline<'_, SqliteStore, Outbox> {
        Pipeline { store: &self.store, dispatcher: &self.outbox, queue: &Inline, catalog: &self.catalog, elections: &self.elections, voice: &self.voice, access: &self.access }
    }

    /// Sends what is due by `until` (held for quiet hours, retries), as release schedules would.
    pub fn release_until(&self, until: DateTime<Utc>) -> Result<()> {
        let mut tally = self.tally.lock().expect("tally");
        futures::executor::block_on(release_until(&self.pipeline(), until, &mut tally))?;
        self.outbox.flush()?;
        Ok(())
    }

    /// One file of the election folder arrives at `at` (a roll, statuses, scans...).
    pub fn ingest(&self, kind: FileKind, file: &str, at: DateTime<Utc>) -> Result<FileReport> {
        let _one = self.lock.lock().expect("server lock");
        self.release_until(at)?;
        let pipeline = self.pipeline();
        let mut tally = self.tally.lock().expect("tally");
        self.store.begin()?;
        let report = futures::executor::block_on(ingest_file(&pipeline, &self.elections, &self.dir.join(file), file, kind, at, &mut tally));
        self.store.commit()?;
        let report = report?;
        report.write(&self.out.join("reports"))?;
        self.outbox.flush()?;
        Ok(report)
    }

    /// Every file of the folder's timeline up to `until`, except sign-ups (voters sign up here).
    pub fn load_timeline(&self, until: DateTime<Utc>) -> Result<usize> {
        let mut n = 0;
        for arrival in read_timeline(&self.dir)? {
            if arrival.kind == FileKind::Signups || arrival.at > until {
                continue;
            }
            self.ingest(arrival.kind, &arrival.path, arrival.at)?;
            n += 1;
        }
        Ok(n)
    }

    /// Answers one request at the server's time, after releasing what fell due.
    pub fn respond(&self, req: ApiRequest<'_>) -> ApiAnswer {
        let _one = self.lock.lock().expect("server lock");
        let now = self.clock.now();
        if let Err(e) = self.release_until(now) {
            eprintln!("serve: release failed: {e:#}");
        }
        let mut tally = self.tally.lock().expect("tally");
        let answer = futures::executor::block_on(self.pipeline().answer(req, now, &mut tally));
        if let Err(e) = self.outbox.flush() {
            eprintln!("serve: outbox not written: {e}");
        }
        answer
    }

    /// A text a phone sends to the service's number (two-way SMS): STOP, START, HELP.
    pub fn text_in(&self, from: &str, body: &str, message_id: &str) -> Result<wmb_core::stopping::InboundOutcome> {
        let _one = self.lock.lock().expect("server lock");
        let outcome = futures::executor::block_on(self.pipeline().inbound_text(from, body, message_id, self.clock.now(), &mut wmb_core::pipeline::Tally::default()))?;
        self.outbox.flush()?;
        Ok(outcome)
    }

    /// A file of the voters' page, if the path names one: `/` is `index.html`. Paths that climb
    /// out of the folder are not files.
    pub fn page_file(web: &Path, path: &str) -> Option<(Vec<u8>, &'static str)> {
        let rel = if path == "/" { "index.html" } else { path.trim_start_matches('/') };
        if rel.is_empty() || rel.split('/').any(|p| p.is_empty() || p == ".." || p == "." || p.starts_with('.')) {
            return None;
        }
        let file = web.join(rel);
        let kind = match file.extension().and_then(|e| e.to_str()) {
            Some("html") => "text/html; charset=utf-8",
            Some("js" | "mjs") => "text/javascript; charset=utf-8",
            Some("css") => "text/css; charset=utf-8",
            Some("json") => "application/json",
            Some("svg") => "image/svg+xml",
            Some("png") => "image/png",
            Some("ico") => "image/x-icon",
            _ => return None,
        };
        std::fs::read(&file).ok().map(|bytes| (bytes, kind))
    }

    /// Serves HTTP on the port until the process is stopped: the voters' page (files of `web`)
    /// and the API on one origin, as CloudFront serves them on AWS. One thread polls every
    /// connection, so a browser's idle keep-alive connections never make a new one wait.
    pub fn run(&self, port: u16, web: &Path) -> Result<()> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_io().enable_time().build()?;
        runtime.block_on(self.serve_http(port, web))
    }

    async fn serve_http(&self, port: u16, web: &Path) -> Result<()> {
        use futures::stream::{FuturesUnordered, StreamExt};
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.map_err(|e| anyhow::anyhow!("127.0.0.1:{port}: {e}"))?;
        // The port it got (`--port 0` asks for any), which the Host header must name.
        let port = listener.local_addr()?.port();
        let codes_seen = Mutex::new(0u64);
        let codes_seen = &codes_seen;
        // WMB_SERVE_TRACE=1: each request's method and path (never its query or body) on stderr,
        // with the time, to see where a page waits.
        let trace = std::env::var_os("WMB_SERVE_TRACE").is_some();
        let mut connections = FuturesUnordered::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let (stream, peer) = match accepted {
                        Ok(accepted) => accepted,
                        Err(e) => {
                            // Out of file descriptors, say: wait for some to close, not spin.
                            eprintln!("serve: accept failed: {e}");
                            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                            continue;
                        }
                    };
                    let service = hyper::service::service_fn(move |request| self.answer_http(request, peer.ip(), port, web, codes_seen, trace));
                    let io = hyper_util::rt::TokioIo::new(stream);
                    // A connection that sends no whole request head for 30 s is closed, idle
                    // keep-alive ones included.
                    let http = hyper::server::conn::http1::Builder::new()
                        .timer(hyper_util::rt::TokioTimer::new())
                        .header_read_timeout(std::time::Duration::from_secs(30))
                        .serve_connection(io, service);
                    connections.push(http);
                }
                // A connection ends when the browser closes it, or on a broken request: nothing to do.
                Some(_) = connections.next(), if !connections.is_empty() => {}
            }
        }
    }

    /// One HTTP request: a file of the page, or the API's answer.
    async fn answer_http(
        &self,
        request: hyper::Request<hyper::body::Incoming>,
        client: std::net::IpAddr,
        port: u16,
        web: &Path,
        codes_seen: &Mutex<u64>,
        trace: bool,
    ) -> Result<hyper::Response<http_body_util::Full<bytes::Bytes>>, std::convert::Infallible> {
        use http_body_util::BodyExt;
        let reply = |status: u16, kind: &'static str, body: Vec<u8>| {
            let mut response = hyper::Response::new(http_body_util::Full::new(bytes::Bytes::from(body)));
            *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
            response.headers_mut().insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static(kind));
            Ok(response)
        };
        // Only requests addressed to this server: a web page elsewhere whose name its owner points
        // at 127.0.0.1 (DNS rebinding) sends its own name, and would otherwise read the API's
        // answers as its own origin's.
        let host = request.headers().get(hyper::header::HOST).and_then(|h| h.to_str().ok());
        if !addressed_here(host, port) {
            return reply(421, "application/json", br#"{"status":"invalid","reason":"host"}"#.to_vec());
        }
        let method = request.method().as_str().to_uppercase();
        let path = request.uri().path().to_string();
        let query = request.uri().query().unwrap_or("").to_string();
        if trace {
            let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
            eprintln!("serve: {ms} {method} {path}");
        }
        if method == "GET" {
            if let Some((bytes, kind)) = Self::page_file(web, &path) {
                return reply(200, kind, bytes);
            }
        }
        // The API's requests are small JSON bodies: 64 KiB is far more than any needs.
        let body = match http_body_util::Limited::new(request.into_body(), 64 * 1024).collect().await {
            Ok(body) => body.to_bytes(),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => {
                return reply(413, "application/json", br#"{"status":"invalid","reason":"body_too_large"}"#.to_vec())
            }
            Err(_) => return reply(400, "application/json", br#"{"status":"invalid","reason":"body_unreadable"}"#.to_vec()),
        };
        let client = client.to_string();
        let answer = self.respond(ApiRequest { method: &method, path: &path, query: &query, body: &body, client: &client });
        self.print_new_codes(codes_seen);
        reply(answer.status, answer.content_type, answer.body.into_bytes())
    }

    /// Prints the codes written to the outbox since the last call (a person reads them here):
    /// `seen` is how far into the outbox earlier calls read.
    fn print_new_codes(&self, seen: &Mutex<u64>) {
        use std::io::{Seek, SeekFrom};
        let mut seen = seen.lock().expect("seen");
        let Ok(mut file) = std::fs::File::open(self.out.join("outbox.jsonl")) else { return };
        let mut text = String::new();
        if file.seek(SeekFrom::Start(*seen)).is_err() || file.read_to_string(&mut text).is_err() {
            return;
        }
        // Only whole lines: a line still being written is read next time.
        let whole = text.rfind('\n').map_or(0, |i| i + 1);
        for line in text[..whole].lines() {
            if let Ok(m) = serde_json::from_str::<crate::outbox::OutboxLine>(line) {
                if m.message == "verification_code" || m.message == "account_code" {
                    let code = m.body.split(|c: char| !c.is_ascii_digit()).find(|d| d.len() == 6).unwrap_or("?");
                    println!("code {code} sent by {} to {} ({})", m.channel, m.to, m.message);
                }
            }
        }
        *seen += whole as u64;
    }
}

/// Whether a request's Host header names this server (`127.0.0.1` or `localhost`, on its port).
pub fn addressed_here(host: Option<&str>, port: u16) -> bool {
    let Some(host) = host else { return false };
    // (A browser leaves out port 80.)
    ["127.0.0.1", "localhost"].iter().any(|name| host.eq_ignore_ascii_case(&format!("{name}:{port}")) || (port == 80 && host.eq_ignore_ascii_case(name)))
}

#[cfg(test)]
mod host_tests {
    use super::addressed_here;

    #[test]
    fn only_this_servers_own_names_on_its_port_are_answered() {
        assert!(addressed_here(Some("127.0.0.1:8080"), 8080));
        assert!(addressed_here(Some("LocalHost:8080"), 8080));
        assert!(addressed_here(Some("localhost"), 80));
        for refused in [None, Some("127.0.0.1"), Some("127.0.0.1:8081"), Some("evil.example:8080"), Some("127.0.0.1.evil.example:8080"), Some("")] {
            assert!(!addressed_here(refused, 8080), "{refused:?}");
        }
    }
}
