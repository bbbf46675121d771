//! The `shotline` binary: parses arguments, loads config, calls the library crates and prints
//! through [`output::Printer`]. No pipeline logic lives here.

mod cli;
mod cmd;
mod context;
mod output;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    let code = match context::Ctx::new(&args.global) {
        Ok(ctx) => {
            let result = cmd::dispatch(&args.command, &ctx);
            ctx.out.finish(result)
        }
        Err(e) => output::report_error(&e),
    };
    ExitCode::from(code as u8)
}
