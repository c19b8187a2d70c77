#[magpie::main(worker_threads)]
async fn missing_value() {}

#[magpie::main(worker_threads = "4")]
async fn string_count() {}

#[magpie::main(worker_threads = 0)]
async fn zero_workers() {}

#[magpie::main(worker_threads = 1, worker_threads = 2)]
async fn twice() {}

#[magpie::test(crate = magpie)]
async fn unquoted_crate() {}

#[magpie::test(4)]
async fn bare_value() {}

fn main() {}
