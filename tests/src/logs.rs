//! The functions' log lines, captured as Lambda would write them (JSON, INFO and above) for the
//! whole test process: a test reads what was logged and searches it for personal data.

use std::io::Write;
use std::sync::{Mutex, Once};

static LINES: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct Capture;

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LINES.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Starts capturing (once per process).
pub fn capture() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = tracing_subscriber::fmt().json().with_max_level(tracing::Level::INFO).with_writer(|| Capture).try_init();
    });
}

/// What was logged since the last call.
pub fn take() -> String {
    String::from_utf8_lossy(&std::mem::take(&mut *LINES.lock().unwrap())).into_owned()
}
