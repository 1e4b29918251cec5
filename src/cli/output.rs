//! Printing that never stops the work. A reader that goes away (`| head`)
//! closes stdout: printing stops quietly, every file is still written, and
//! the exit code is the work's. Rust ignores SIGPIPE, so that close arrives
//! here as an EPIPE error instead of killing the process; `println!` would
//! panic on it, so the commands print through `outln!` and `errln!`.

use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Set once stdout failed: nothing more is printed there.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
/// The first stdout failure other than a closed pipe (a full disk): the run
/// still finishes, and then exits 2 naming it.
static STDOUT_ERROR: Mutex<Option<io::Error>> = Mutex::new(None);

/// Writes to stdout unless it is closed; a failure closes it.
pub fn stdout_write(bytes: &[u8]) {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = io::stdout().lock();
    if let Err(e) = out.write_all(bytes).and_then(|()| out.flush()) {
        closed(e);
    }
}

fn closed(e: io::Error) {
    STDOUT_CLOSED.store(true, Ordering::Relaxed);
    if e.kind() != io::ErrorKind::BrokenPipe {
        let mut first = STDOUT_ERROR.lock().unwrap_or_else(|p| p.into_inner());
        first.get_or_insert(e);
    }
}

pub fn print_out(args: fmt::Arguments) {
    match args.as_str() {
        Some(s) => stdout_write(s.as_bytes()),
        None => stdout_write(args.to_string().as_bytes()),
    }
}

/// Writes to stderr, ignoring failure: there is nowhere left to report it.
pub fn print_err(args: fmt::Arguments) {
    let _ = io::stderr().lock().write_fmt(args);
}

/// Flushes stdout; the failure that stopped printing, unless it was a closed pipe.
pub fn finish() -> Option<io::Error> {
    if !STDOUT_CLOSED.load(Ordering::Relaxed) {
        if let Err(e) = io::stdout().lock().flush() {
            closed(e);
        }
    }
    STDOUT_ERROR.lock().unwrap_or_else(|p| p.into_inner()).take()
}

/// stdout as a writer (for `--trace -`), with the same rules as `outln!`.
pub struct Stdout;

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !STDOUT_CLOSED.load(Ordering::Relaxed) {
            if let Err(e) = io::stdout().lock().write_all(buf) {
                closed(e);
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !STDOUT_CLOSED.load(Ordering::Relaxed) {
            if let Err(e) = io::stdout().lock().flush() {
                closed(e);
            }
        }
        Ok(())
    }
}

/// `print!` that survives a closed stdout.
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::output::print_out(format_args!($($arg)*)) };
}

/// `println!` that survives a closed stdout.
macro_rules! outln {
    () => { $crate::cli::output::stdout_write(b"\n") };
    ($($arg:tt)*) => { $crate::cli::output::print_out(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `eprint!` that survives a closed stderr.
macro_rules! err {
    ($($arg:tt)*) => { $crate::cli::output::print_err(format_args!($($arg)*)) };
}

/// `eprintln!` that survives a closed stderr.
macro_rules! errln {
    () => { $crate::cli::output::print_err(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::cli::output::print_err(format_args!("{}\n", format_args!($($arg)*))) };
}

pub(crate) use {err, errln, out, outln};
