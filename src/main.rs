/// SIGPIPE keeps Rust's disposition (ignored): a reader that closes stdout
/// early (`| head`) must not kill a run that is still writing its report
/// files. Printing stops quietly instead (see `cli::output`).
fn main() -> std::process::ExitCode {
    streamsim::cli::main()
}
