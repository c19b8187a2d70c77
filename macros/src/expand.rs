//! The expansion shared by `#[magpie::main]` and `#[magpie::test]`.
//!
//! For
//!
//! ```text
//! #[magpie::main(worker_threads = 4)]
//! async fn main() -> Result<(), Error> { BODY }
//! ```
//!
//! the output is
//!
//! ```text
//! fn main() -> Result<(), Error> {
//!     async fn main() -> Result<(), Error> { BODY }
//!     let runtime = ::magpie::runtime::Builder::new()
//!         .worker_threads(4)
//!         .build()
//!         .expect("magpie: failed to build the runtime: ...");
//!     runtime.block_on(main())
//! }
//! ```
//!
//! Design choices and the invariants they keep:
//! - The user's function is kept, signature and body token for token, as an `async fn` nested
//!   inside the synchronous wrapper of the same name. Its declared return type therefore drives
//!   type inference exactly as in a hand-written `async fn`: `?` converts errors, and a wrong
//!   tail expression is reported at the user's token "because of return type", not at macro
//!   internals.
//! - The runtime lives in a local with a `Span::mixed_site()` name, so no user identifier can
//!   shadow it; it is dropped (shut down) right after `block_on` returns and before the output is
//!   returned.
//! - Generated paths are absolute (`::magpie::...`, `::core::...`) so user items named `magpie`,
//!   `core` or `test` cannot capture them; `crate = "..."` replaces the `::magpie` prefix.
//! - On any error the output is still a function containing the user's body (never called),
//!   plus the `compile_error!`s. Nothing else fails, so the user sees only the real problems, and
//!   IDEs keep completing inside the body while the attribute is being edited.
//! - Limitation: the nested function is a separate item, so a body of an associated function
//!   cannot name `Self`; write the type's name instead.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::{FnArg, Token};

use crate::args::{self, Args};
use crate::item::FunctionItem;
use crate::kind::Kind;
use crate::signature;

/// Expands `#[magpie::<kind>(arguments)]` on `item`.
pub(crate) fn expand(kind: Kind, arguments: TokenStream, item: TokenStream) -> TokenStream {
    let function = match syn::parse2::<FunctionItem>(item.clone()) {
        Ok(function) => function,
        Err(error) => {
            // Not a function we can take apart: leave the item as written, so only the
            // attribute's error is added to whatever rustc says about the item itself.
            let message = format!("`#[magpie::{kind}]` can only be used on an `async fn`: {error}");
            let mut output = item;
            output.extend(syn::Error::new(error.span(), message).to_compile_error());
            return output;
        }
    };

    let args = args::parse(kind, arguments);
    let checked = signature::check(kind, &function);
    match (args, checked) {
        (Ok(args), Ok(())) => runnable(kind, &args, function),
        (args, checked) => {
            let mut errors = args.err().into_iter().chain(checked.err());
            let mut error = errors.next().expect("one of the two results is an error");
            error.extend(errors);
            let mut output = inert(function);
            output.extend(error.to_compile_error());
            output
        }
    }
}

/// The synchronous wrapper that builds a runtime and runs the user's `async fn` on it.
fn runnable(kind: Kind, args: &Args, function: FunctionItem) -> TokenStream {
    let FunctionItem {
        attributes,
        visibility,
        signature,
        body,
    } = function;
    let name = &signature.ident;
    let fn_token = signature.fn_token;
    let output = &signature.output;
    let crate_path = &args.crate_path;
    let runtime = syn::Ident::new("runtime", Span::mixed_site());
    let worker_threads = args
        .worker_threads
        .map(|count| quote!(.worker_threads(#count)));
    let test_marker = match kind {
        Kind::Test => Some(quote!(#[::core::prelude::v1::test])),
        Kind::Main => None,
    };
    let build_failure = format!(
        "magpie: failed to build the runtime for `#[magpie::{kind}] {name}`; \
         check the `worker_threads` argument and the system's thread limits"
    );
    let call_site = Span::call_site();
    let run = quote_spanned! {call_site=>
        let #runtime = #crate_path::runtime::Builder::new()
            #worker_threads
            .build()
            .expect(#build_failure);
        #runtime.block_on(#name())
    };

    quote! {
        #(#attributes)*
        #test_marker
        #visibility #fn_token #name() #output {
            // The attribute requires `async` even when the body never awaits.
            #[allow(clippy::unused_async)]
            #signature #body
            #run
        }
    }
}

/// The error-path output: a function with the same name and attributes whose body declares (but
/// never calls) the user's function, made as valid as possible so that no error but the
/// attribute's own is reported.
fn inert(function: FunctionItem) -> TokenStream {
    let FunctionItem {
        attributes,
        visibility,
        mut signature,
        body,
    } = function;
    let attributes = attributes
        .iter()
        .filter(|attribute| !signature::is_test_marker(attribute));
    let name = signature.ident.clone();
    let fn_token = signature.fn_token;

    signature.asyncness = Some(Token![async](fn_token.span));
    signature.constness = None;
    signature.abi = None;
    signature.variadic = None;
    signature.inputs = signature
        .inputs
        .into_iter()
        .filter(|input| matches!(input, FnArg::Typed(_)))
        .collect();

    let mut nested = quote!(#[allow(dead_code, clippy::unused_async)]);
    signature.to_tokens(&mut nested);
    body.to_tokens(&mut nested);
    quote! {
        #(#attributes)*
        #visibility #fn_token #name() {
            #nested
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_to_string(kind: Kind, arguments: TokenStream, item: TokenStream) -> String {
        expand(kind, arguments, item).to_string()
    }

    fn compact(tokens: TokenStream) -> String {
        tokens.to_string()
    }

    #[test]
    fn main_builds_a_default_runtime_and_blocks_on_the_body() {
        let output = expand_to_string(
            Kind::Main,
            TokenStream::new(),
            quote!(
                async fn main() -> Result<(), E> {
                    work()?;
                    Ok(())
                }
            ),
        );
        let expected = compact(quote! {
            fn main() -> Result<(), E> {
                #[allow(clippy::unused_async)]
                async fn main() -> Result<(), E> { work()?; Ok(()) }
                let runtime = ::magpie::runtime::Builder::new()
                    .build()
                    .expect("magpie: failed to build the runtime for `#[magpie::main] main`; check the `worker_threads` argument and the system's thread limits");
                runtime.block_on(main())
            }
        });
        assert_eq!(output, expected);
    }

    #[test]
    fn test_adds_the_marker_and_keeps_other_attributes_in_order() {
        let output = expand_to_string(
            Kind::Test,
            quote!(worker_threads = 2, crate = "renamed"),
            quote! {
                /// Docs.
                #[should_panic(expected = "boom")]
                pub async fn explodes() { panic!("boom") }
            },
        );
        let expected = compact(quote! {
            #[doc = r" Docs."]
            #[should_panic(expected = "boom")]
            #[::core::prelude::v1::test]
            pub fn explodes() {
                #[allow(clippy::unused_async)]
                async fn explodes() { panic!("boom") }
                let runtime = renamed::runtime::Builder::new()
                    .worker_threads(2usize)
                    .build()
                    .expect("magpie: failed to build the runtime for `#[magpie::test] explodes`; check the `worker_threads` argument and the system's thread limits");
                runtime.block_on(explodes())
            }
        });
        assert_eq!(output, expected);
    }

    #[test]
    fn the_runtime_local_cannot_be_named_by_the_user() {
        let output = expand(
            Kind::Main,
            TokenStream::new(),
            quote!(
                async fn main() {}
            ),
        );
        let function: syn::ItemFn = syn::parse2(output).unwrap();
        let syn::Stmt::Local(local) = &function.block.stmts[1] else {
            panic!("the second statement should bind the runtime");
        };
        let syn::Pat::Ident(binding) = &local.pat else {
            panic!("the runtime should be bound to a plain identifier");
        };
        assert_eq!(binding.ident, "runtime");
        let mixed_site = format!("{:?}", Span::mixed_site());
        assert_eq!(format!("{:?}", binding.ident.span()), mixed_site);
    }

    #[test]
    fn errors_keep_the_body_in_an_uncalled_function() {
        let output = expand_to_string(
            Kind::Test,
            quote!(flavor = 1),
            quote!(
                #[test]
                unsafe fn check(&self, value: u8) -> u8 {
                    value
                }
            ),
        );
        let body = compact(quote! {
            fn check() {
                #[allow(dead_code, clippy::unused_async)]
                async unsafe fn check(value: u8) -> u8 { value }
            }
        });
        assert!(output.starts_with(&body), "{output}");
        // Six errors: the argument, the missing `async`, `unsafe`, the receiver, the parameter
        // and `#[test]`.
        assert_eq!(output.matches("compile_error").count(), 6, "{output}");
        assert!(!output.contains("magpie :: runtime"), "{output}");
    }

    #[test]
    fn non_functions_are_left_alone_with_an_error() {
        let output = expand_to_string(
            Kind::Main,
            TokenStream::new(),
            quote!(
                struct Main;
            ),
        );
        assert!(output.starts_with("struct Main ;"), "{output}");
        assert!(
            output.contains("can only be used on an `async fn`"),
            "{output}"
        );
    }
}
