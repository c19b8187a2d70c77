#[magpie::test]
fn synchronous() {}

fn main() {}
