#[magpie::main]
#[test]
async fn looks_like_a_test() {}

fn main() {}
