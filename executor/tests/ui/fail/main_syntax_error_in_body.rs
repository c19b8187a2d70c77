// A syntax error in the body is reported once, by rustc, at the user's token.

#[magpie::main(worker_threads = 2)]
async fn main() {
    let ready = ;
}
