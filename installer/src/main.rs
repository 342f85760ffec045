fn main() -> std::process::ExitCode {
    axonflow_codex::cli::main_entry()
}
