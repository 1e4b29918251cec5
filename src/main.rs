fn main() -> std::process::ExitCode {
    restore_sigpipe();
    streamsim::cli::main()
}

/// `streamsim explain ... | head` closes the pipe early. Rust ignores
/// SIGPIPE, so every later print would fail and `println!` would panic; with
/// the default disposition the process ends quietly, as `cat` does.
#[cfg(unix)]
fn restore_sigpipe() {
    extern "C" {
        fn signal(signum: i32, handler: usize) -> usize;
    }
    const SIGPIPE: i32 = 13; // the same on Linux and macOS
    const SIG_DFL: usize = 0;
    // SAFETY: signal(2) with SIG_DFL only resets a disposition; it runs
    // before any thread is started.
    unsafe {
        signal(SIGPIPE, SIG_DFL);
    }
}

#[cfg(not(unix))]
fn restore_sigpipe() {}
