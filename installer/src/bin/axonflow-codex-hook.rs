//! The governance hook, built from the installer package so that both binaries install
//! together. Identical to `hook/src/main.rs`.

fn main() -> std::process::ExitCode {
    axonflow_codex_hook::cli::main_entry()
}
