//! Checks that the function can be run by the attribute, with a fix-it message for each problem.
//!
//! The expansion calls the user's function with no arguments from a synchronous wrapper, so the
//! function must be a plain `async fn` without parameters, receiver, generics, `const`,
//! `unsafe` or an `extern` ABI. Any name is accepted: `#[magpie::main]` on `async fn run()` gives
//! a synchronous `fn run()` that runs the runtime, which is what users coming from other runtimes
//! expect.
//!
//! Every problem is reported (not just the first), each spanned at the offending tokens, and each
//! message says what to write instead.

use quote::ToTokens;
use syn::{Attribute, FnArg, Signature};

use crate::item::FunctionItem;
use crate::kind::Kind;

/// Collects every reason why `item` cannot carry the attribute `kind`.
pub(crate) fn check(kind: Kind, item: &FunctionItem) -> syn::Result<()> {
    let mut errors = Vec::new();
    check_qualifiers(kind, &item.signature, &mut errors);
    check_generics(kind, &item.signature, &mut errors);
    check_parameters(kind, &item.signature, &mut errors);
    check_attributes(kind, &item.attributes, &mut errors);

    let mut errors = errors.into_iter();
    match errors.next() {
        None => Ok(()),
        Some(mut first) => {
            first.extend(errors);
            Err(first)
        }
    }
}

/// `async` is required; `const`, `unsafe` and `extern "ABI"` are refused.
fn check_qualifiers(kind: Kind, signature: &Signature, errors: &mut Vec<syn::Error>) {
    let name = &signature.ident;
    if let Some(constness) = &signature.constness {
        errors.push(syn::Error::new_spanned(
            constness,
            format!("`#[magpie::{kind}]` cannot run a `const fn`; remove `const`"),
        ));
    }
    if signature.asyncness.is_none() {
        errors.push(syn::Error::new_spanned(
            signature.fn_token,
            format!(
                "`#[magpie::{kind}]` runs an `async fn`; add `async`: `async fn {name}()`, \
                 or remove the attribute to keep a synchronous function"
            ),
        ));
    }
    if let Some(unsafety) = &signature.unsafety {
        errors.push(syn::Error::new_spanned(
            unsafety,
            format!(
                "`#[magpie::{kind}]` cannot run an `unsafe fn`; remove `unsafe` and put an \
                 `unsafe {{ ... }}` block inside the body"
            ),
        ));
    }
    if let Some(abi) = &signature.abi {
        errors.push(syn::Error::new_spanned(
            abi,
            format!("`#[magpie::{kind}]` cannot run an `extern` function; remove the ABI"),
        ));
    }
}

/// Generic parameters and `where` clauses are refused: nothing would choose the types.
fn check_generics(kind: Kind, signature: &Signature, errors: &mut Vec<syn::Error>) {
    let generics = &signature.generics;
    if !generics.params.is_empty() {
        errors.push(syn::Error::new_spanned(
            generics,
            format!(
                "`#[magpie::{kind}]` functions cannot be generic; remove the generic parameters \
                 and name concrete types in the body"
            ),
        ));
    }
    if let Some(where_clause) = &generics.where_clause {
        errors.push(syn::Error::new_spanned(
            where_clause,
            format!("`#[magpie::{kind}]` functions cannot have a `where` clause; remove it"),
        ));
    }
}

/// A `self` receiver and parameters are refused: the wrapper has nothing to pass.
fn check_parameters(kind: Kind, signature: &Signature, errors: &mut Vec<syn::Error>) {
    let name = &signature.ident;
    for input in &signature.inputs {
        match input {
            FnArg::Receiver(receiver) => errors.push(syn::Error::new_spanned(
                receiver,
                format!(
                    "`#[magpie::{kind}]` cannot be used on a method; remove `self` and put the \
                     attribute on a free function `async fn {name}()`, then call the method \
                     from its body"
                ),
            )),
            FnArg::Typed(parameter) => errors.push(syn::Error::new_spanned(
                parameter,
                match kind {
                    Kind::Main => format!(
                        "`#[magpie::main]` functions take no parameters; remove it and read \
                         the command line with `std::env::args()` in the body of `{name}`"
                    ),
                    Kind::Test => format!(
                        "`#[magpie::test]` functions take no parameters; remove it and build \
                         the value inside the body of `{name}`"
                    ),
                },
            )),
        }
    }
    if let Some(variadic) = &signature.variadic {
        errors.push(syn::Error::new_spanned(
            variadic,
            format!("`#[magpie::{kind}]` functions take no parameters; remove `...`"),
        ));
    }
}

/// A `#[test]` next to the attribute is refused: `#[magpie::test]` adds it itself, and
/// `#[magpie::main]` is not meant for tests.
fn check_attributes(kind: Kind, attributes: &[Attribute], errors: &mut Vec<syn::Error>) {
    for attribute in attributes
        .iter()
        .filter(|attribute| is_test_marker(attribute))
    {
        errors.push(syn::Error::new_spanned(
            attribute.to_token_stream(),
            match kind {
                Kind::Test => "remove this `#[test]`: `#[magpie::test]` already makes the \
                               function a test"
                    .to_owned(),
                Kind::Main => "for a test, write `#[magpie::test]` instead of \
                               `#[magpie::main]` and `#[test]`"
                    .to_owned(),
            },
        ));
    }
}

/// Whether `attribute` is the built-in `#[test]` (spelled `test` or through a std/core path).
pub(crate) fn is_test_marker(attribute: &Attribute) -> bool {
    let path = attribute.path();
    if path.is_ident("test") {
        return true;
    }
    let mut segments = path.segments.iter();
    let first = segments.next().map(|segment| segment.ident.to_string());
    let last = path
        .segments
        .last()
        .map(|segment| segment.ident.to_string());
    matches!(first.as_deref(), Some("core" | "std")) && last.as_deref() == Some("test")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proc_macro2::TokenStream;
    use quote::quote;

    fn messages(kind: Kind, tokens: TokenStream) -> Vec<String> {
        let item: FunctionItem = syn::parse2(tokens).unwrap();
        match check(kind, &item) {
            Ok(()) => Vec::new(),
            Err(error) => error.into_iter().map(|error| error.to_string()).collect(),
        }
    }

    #[test]
    fn plain_async_functions_pass() {
        assert!(messages(
            Kind::Main,
            quote!(
                async fn main() {}
            )
        )
        .is_empty());
        assert!(messages(
            Kind::Main,
            quote!(
                pub async fn run() -> u8 {
                    0
                }
            )
        )
        .is_empty());
        assert!(messages(
            Kind::Test,
            quote!(
                #[should_panic]
                async fn t() {}
            )
        )
        .is_empty());
    }

    #[test]
    fn a_synchronous_function_is_told_to_add_async() {
        let found = messages(
            Kind::Main,
            quote!(
                fn main() {}
            ),
        );
        assert_eq!(found.len(), 1);
        assert!(
            found[0].contains("add `async`: `async fn main()`"),
            "{found:?}"
        );
    }

    #[test]
    fn qualifiers_are_refused() {
        let found = messages(
            Kind::Test,
            quote!(
                const unsafe extern "C" fn t() {}
            ),
        );
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(found[0].contains("remove `const`"), "{found:?}");
        assert!(found[1].contains("add `async`"), "{found:?}");
        assert!(found[2].contains("remove `unsafe`"), "{found:?}");
        assert!(found[3].contains("remove the ABI"), "{found:?}");
    }

    #[test]
    fn generics_and_where_clauses_are_refused() {
        let found = messages(
            Kind::Main,
            quote!(
                async fn main<T>()
                where
                    T: Copy,
                {
                }
            ),
        );
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].contains("cannot be generic"), "{found:?}");
        assert!(found[1].contains("`where` clause"), "{found:?}");
    }

    #[test]
    fn receivers_and_parameters_are_refused_one_by_one() {
        let found = messages(
            Kind::Main,
            quote!(
                async fn run(&self, a: u8, b: u8) {}
            ),
        );
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[0].contains("cannot be used on a method"), "{found:?}");
        assert!(found[1].contains("std::env::args()"), "{found:?}");
        let found = messages(
            Kind::Test,
            quote!(
                async fn t(a: u8) {}
            ),
        );
        assert!(found[0].contains("inside the body of `t`"), "{found:?}");
    }

    #[test]
    fn a_second_test_marker_is_refused() {
        let found = messages(
            Kind::Test,
            quote!(
                #[test]
                async fn t() {}
            ),
        );
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("remove this `#[test]`"), "{found:?}");
        let found = messages(
            Kind::Main,
            quote!(
                #[::core::prelude::v1::test]
                async fn t() {}
            ),
        );
        assert!(found[0].contains("write `#[magpie::test]`"), "{found:?}");
    }

    #[test]
    fn other_test_attributes_are_not_markers() {
        let found = messages(
            Kind::Test,
            quote!(
                #[other::test]
                async fn t() {}
            ),
        );
        assert!(found.is_empty(), "{found:?}");
    }
}
