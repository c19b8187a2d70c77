#[magpie::main]
async fn main() {
    let count: u32 = "not a number";
    let _ = count;
}
