// `Box<dyn Error>` as the error type, with `?` on two different error types.

use std::error::Error;

#[magpie::main]
pub async fn main() -> Result<(), Box<dyn Error>> {
    let number: u8 = "7".parse()?;
    let text = String::from_utf8(vec![b'0' + number])?;
    assert_eq!(text, "7");
    Ok(())
}
