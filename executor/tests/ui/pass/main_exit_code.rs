// `main` may return anything `fn main` may, e.g. `ExitCode`; an early `return` works.

use std::process::ExitCode;

#[magpie::main]
async fn main() -> ExitCode {
    let answer = magpie::spawn(async { 6 * 7 }).await;
    if answer.is_err() {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
