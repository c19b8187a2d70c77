#[magpie::main]
async unsafe fn first() {}

#[magpie::main]
const fn second() {}

#[magpie::main]
async extern "C" fn third() {}

fn main() {}
