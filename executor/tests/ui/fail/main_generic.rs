#[magpie::main]
async fn main<T: Default>() {}
