// Any name works: a synchronous `main` calls an attributed helper, twice (a runtime each time).

#[magpie::main(worker_threads = 1)]
async fn run(/* no parameters */) -> u32 {
    magpie::spawn(async { 20 }).await.unwrap() + 1
}

fn main() {
    assert_eq!(run() + run(), 42);
}
