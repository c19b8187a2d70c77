//! The `#[magpie::main]` and `#[magpie::test]` attributes.
//!
//! Use them through the `magpie` crate, which re-exports them; this crate is an implementation
//! detail and its generated code names the runtime as `::magpie` (or the path given with
//! `crate = "..."`).
//!
//! # How it works
//!
//! Both attributes turn an `async fn` into a synchronous function of the same name that builds a
//! `magpie::runtime::Runtime`, runs the original function on it with `Runtime::block_on`, drops
//! the runtime (shutting it down) and returns the function's output. The original function is
//! kept verbatim as an `async fn` nested in the wrapper, so its return type, `?`, error spans and
//! IDE support behave exactly as in hand-written code. See the `expand` module for the exact
//! output.
//!
//! Module map: `args` parses the attribute's arguments, `item` parses the function shallowly
//! (the body stays raw tokens), `signature` checks that the function can be run and explains
//! how to fix it if not, `expand` writes the output.
//!
//! # Arguments
//!
//! | argument | meaning |
//! |---|---|
//! | `worker_threads = N` | number of worker threads, an integer literal of at least 1; default: the builder's default (one per CPU) |
//! | `crate = "path"` | where the runtime crate is, for users who renamed the `magpie` dependency; default `::magpie` |
//!
//! Unknown, repeated or malformed arguments are compile errors that name the valid ones.
//!
//! # Errors
//!
//! A function that is not `async`, or has parameters, a `self` receiver, generic parameters, a
//! `where` clause, `const`, `unsafe` or an `extern` ABI is refused with a compile error at the
//! offending token that says what to write instead. `#[magpie::test]` together with `#[test]`
//! is refused too (the attribute adds `#[test]` itself).

#![deny(missing_docs)]

mod args;
mod expand;
mod item;
mod kind;
mod signature;

use proc_macro::TokenStream;

use crate::kind::Kind;

/// Runs an `async fn` — usually `main` — on a new magpie runtime.
///
/// The function becomes a synchronous function that builds a runtime with
/// `magpie::runtime::Builder`, runs the body with `block_on`, shuts the runtime down and returns
/// the body's output. It may return anything the function could return without the attribute:
/// `()`, `Result<(), E>` (so `?` works in the body), `std::process::ExitCode`, ...
///
/// Any function name is accepted, e.g. a `async fn run()` that a synchronous `main` calls.
///
/// # Arguments
///
/// - `worker_threads = N`: the number of worker threads (at least 1). Default: one per CPU.
/// - `crate = "path"`: the path of the magpie crate if the dependency was renamed in
///   `Cargo.toml`. Default: `::magpie`.
///
/// # Examples
///
/// ```text
/// #[magpie::main]
/// async fn main() {
///     let answer = magpie::spawn(async { 6 * 7 }).await;
///     println!("{answer:?}");
/// }
/// ```
///
/// With a fixed number of workers, and an error type so that `?` works:
///
/// ```text
/// #[magpie::main(worker_threads = 4)]
/// async fn main() -> Result<(), std::num::ParseIntError> {
///     let count: u32 = "12".parse()?;
///     println!("{count}");
///     Ok(())
/// }
/// ```
///
/// With a renamed dependency (`rt = { package = "magpie", ... }` in `Cargo.toml`):
///
/// ```text
/// #[rt::main(crate = "rt")]
/// async fn main() {}
/// ```
///
/// The first example expands to (simplified):
///
/// ```text
/// fn main() {
///     async fn main() {
///         let answer = magpie::spawn(async { 6 * 7 }).await;
///         println!("{answer:?}");
///     }
///     let runtime = ::magpie::runtime::Builder::new()
///         .build()
///         .expect("magpie: failed to build the runtime ...");
///     runtime.block_on(main())
/// }
/// ```
///
/// # Compile errors
///
/// The function must be a plain `async fn` without parameters, `self`, generics, `const`,
/// `unsafe` or `extern`; each of these is an error at the offending token with the fix in the
/// message. Inside the body of an associated function, name the type instead of `Self`: the body
/// runs in a nested function.
///
/// # Panics
///
/// The generated function panics with `magpie: failed to build the runtime ...` if the runtime
/// cannot be built (for example when the system refuses to start threads). A panic in the body
/// propagates out of the generated function.
#[proc_macro_attribute]
pub fn main(arguments: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(Kind::Main, arguments.into(), item.into()).into()
}

/// Turns an `async fn` into a `#[test]` that runs on a new magpie runtime.
///
/// Takes the same arguments as [`macro@main`] (`worker_threads = N`, `crate = "path"`) and
/// expands the same way, plus `#[test]`. Do not add `#[test]` yourself. Other attributes, such
/// as `#[should_panic(expected = "...")]` or `#[ignore]`, may be written before or after it. The
/// test may return `()` or a `Result<(), E>` whose `E: Debug`.
///
/// # Examples
///
/// ```text
/// #[magpie::test]
/// async fn spawned_task_runs() {
///     let handle = magpie::spawn(async { 1 + 1 });
///     assert_eq!(handle.await.unwrap(), 2);
/// }
///
/// #[magpie::test(worker_threads = 1)]
/// #[should_panic(expected = "boom")]
/// async fn panics_reach_the_test_harness() {
///     panic!("boom");
/// }
///
/// #[magpie::test]
/// async fn question_mark_works() -> Result<(), std::num::ParseIntError> {
///     assert_eq!("7".parse::<u8>()?, 7);
///     Ok(())
/// }
/// ```
///
/// # Compile errors
///
/// As for [`macro@main`]: the test must be a plain `async fn` without parameters, `self`,
/// generics, `const`, `unsafe` or `extern`, and must not also carry `#[test]`.
///
/// # Panics
///
/// The test fails with `magpie: failed to build the runtime ...` if the runtime cannot be
/// built. A panic in the body fails the test with the body's own panic message, which is what
/// `#[should_panic(expected = "...")]` checks.
#[proc_macro_attribute]
pub fn test(arguments: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(Kind::Test, arguments.into(), item.into()).into()
}
