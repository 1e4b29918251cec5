fn main() -> std::process::ExitCode {
    streamsim::cli::main()
}
