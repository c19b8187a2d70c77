// `main` may return `Result`, and `?` converts the body's errors into it.

#[derive(Debug)]
enum AppError {
    Parse(std::num::ParseIntError),
}

impl From<std::num::ParseIntError> for AppError {
    fn from(error: std::num::ParseIntError) -> AppError {
        AppError::Parse(error)
    }
}

#[magpie::main(worker_threads = 2)]
async fn main() -> Result<(), AppError> {
    let parsed: u32 = "42".parse()?;
    let doubled = magpie::spawn(async move { parsed * 2 })
        .await
        .expect("the spawned task completes");
    if doubled != 84 {
        panic!("expected 84, got {doubled}");
    }
    Ok(())
}
