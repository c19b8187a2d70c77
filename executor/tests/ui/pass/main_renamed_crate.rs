// `crate = "..."` finds the runtime under another name.

extern crate magpie as renamed_runtime;

#[renamed_runtime::main(crate = "renamed_runtime")]
async fn main() {
    let value = renamed_runtime::spawn(async { 1 }).await.unwrap();
    assert_eq!(value, 1);
}
