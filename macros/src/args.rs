//! Parsing the attribute arguments: `worker_threads = 4, crate = "path"`.
//!
//! The argument list is a comma-separated list of `name = value` pairs. It is parsed by hand
//! (not through `syn::Meta`) so that every mistake gets a message that names the valid arguments
//! and shows the expected form, spanned at the offending token.
//!
//! Invariants of a successfully parsed [`Args`]:
//! - every argument appeared at most once;
//! - `worker_threads`, when given, is an integer literal of at least 1 that fits in `usize`;
//! - `crate_path` is a path (by default `::magpie`) that the generated code prefixes to
//!   `runtime::Builder`.

use proc_macro2::TokenStream;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream, Parser};
use syn::{Expr, ExprLit, Ident, Lit, Path, Token};

use crate::kind::Kind;

/// The form of every accepted argument, used in error messages.
const VALID_ARGUMENTS: &str = "`worker_threads = <number>` and `crate = \"<path>\"`";

/// The settings requested by the attribute's arguments.
pub(crate) struct Args {
    /// The number of worker threads, if the user chose one; `None` keeps the builder's default.
    pub(crate) worker_threads: Option<usize>,
    /// The path under which the runtime crate is reachable, `::magpie` unless renamed.
    pub(crate) crate_path: Path,
}

impl Args {
    /// The arguments of a bare attribute, `#[magpie::main]`.
    pub(crate) fn defaults() -> Args {
        Args {
            worker_threads: None,
            crate_path: syn::parse_quote!(::magpie),
        }
    }
}

/// One `name = value` pair, before its value is checked.
struct RawArgument {
    name: Ident,
    value: Expr,
}

impl Parse for RawArgument {
    fn parse(input: ParseStream<'_>) -> syn::Result<RawArgument> {
        // `crate` is a keyword, so accept any identifier-like token here.
        let name = if input.peek(Ident::peek_any) {
            input.call(Ident::parse_any)?
        } else {
            return Err(input.error(format!(
                "expected an argument; the valid arguments are {VALID_ARGUMENTS}"
            )));
        };
        if !input.peek(Token![=]) {
            return Err(syn::Error::new(
                name.span(),
                format!(
                    "`{name}` needs a value; the valid arguments are {VALID_ARGUMENTS}, \
                     e.g. `worker_threads = 4`"
                ),
            ));
        }
        input.parse::<Token![=]>()?;
        let value = input.parse::<Expr>()?;
        Ok(RawArgument { name, value })
    }
}

/// Parses the argument tokens of `#[magpie::main(...)]` or `#[magpie::test(...)]`.
///
/// All problems found are returned together, combined into one `syn::Error`.
pub(crate) fn parse(kind: Kind, tokens: TokenStream) -> syn::Result<Args> {
    let raw =
        syn::punctuated::Punctuated::<RawArgument, Token![,]>::parse_terminated.parse2(tokens)?;

    let mut args = Args::defaults();
    let mut seen_worker_threads = false;
    let mut seen_crate = false;
    let mut errors: Option<syn::Error> = None;
    let mut report = |error: syn::Error| match &mut errors {
        Some(all) => all.combine(error),
        None => errors = Some(error),
    };

    for argument in raw {
        let name = argument.name.unraw().to_string();
        match name.as_str() {
            "worker_threads" => {
                if seen_worker_threads {
                    report(duplicate(&argument.name));
                    continue;
                }
                seen_worker_threads = true;
                match worker_threads(&argument.value) {
                    Ok(count) => args.worker_threads = Some(count),
                    Err(error) => report(error),
                }
            }
            "crate" => {
                if seen_crate {
                    report(duplicate(&argument.name));
                    continue;
                }
                seen_crate = true;
                match crate_path(&argument.value) {
                    Ok(path) => args.crate_path = path,
                    Err(error) => report(error),
                }
            }
            _ => report(syn::Error::new(
                argument.name.span(),
                format!(
                    "unknown argument `{name}` for `#[magpie::{kind}]`; \
                     the valid arguments are {VALID_ARGUMENTS}"
                ),
            )),
        }
    }

    match errors {
        Some(error) => Err(error),
        None => Ok(args),
    }
}

/// The error for an argument given twice.
fn duplicate(name: &Ident) -> syn::Error {
    syn::Error::new(
        name.span(),
        format!("`{name}` is given more than once; keep one"),
    )
}

/// Checks the value of `worker_threads`: an integer literal, at least 1.
fn worker_threads(value: &Expr) -> syn::Result<usize> {
    let Expr::Lit(ExprLit {
        lit: Lit::Int(literal),
        ..
    }) = value
    else {
        return Err(syn::Error::new_spanned(
            value,
            "`worker_threads` takes an integer literal, e.g. `worker_threads = 4`",
        ));
    };
    let count: usize = literal.base10_parse().map_err(|_| {
        syn::Error::new(
            literal.span(),
            "`worker_threads` is too large; use a count of threads that fits in `usize`",
        )
    })?;
    if count == 0 {
        return Err(syn::Error::new(
            literal.span(),
            "`worker_threads` must be at least 1; leave the argument out to use one worker per CPU",
        ));
    }
    Ok(count)
}

/// Checks the value of `crate`: a string literal holding a path, e.g. `"::my_magpie"`.
fn crate_path(value: &Expr) -> syn::Result<Path> {
    let Expr::Lit(ExprLit {
        lit: Lit::Str(literal),
        ..
    }) = value
    else {
        return Err(syn::Error::new_spanned(
            value,
            "`crate` takes the path of the renamed magpie crate as a string, \
             e.g. `crate = \"my_magpie\"`",
        ));
    };
    literal.parse_with(Path::parse_mod_style).map_err(|_| {
        syn::Error::new(
            literal.span(),
            format!(
                "`{}` is not a path; write the name the magpie crate has in Cargo.toml, \
                 e.g. `crate = \"my_magpie\"`",
                literal.value()
            ),
        )
    })
}

/// A span-free helper for tests: the default path as a string.
#[cfg(test)]
pub(crate) fn path_string(path: &Path) -> String {
    quote::quote!(#path).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn error_of(tokens: TokenStream) -> String {
        match parse(Kind::Main, tokens) {
            Ok(_) => panic!("expected the arguments to be rejected"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn no_arguments_keep_the_defaults() {
        let args = parse(Kind::Main, TokenStream::new()).unwrap();
        assert_eq!(args.worker_threads, None);
        assert_eq!(path_string(&args.crate_path), ":: magpie");
    }

    #[test]
    fn worker_threads_and_crate_are_read() {
        let args = parse(
            Kind::Test,
            quote!(worker_threads = 3, crate = "::renamed::inner",),
        )
        .unwrap();
        assert_eq!(args.worker_threads, Some(3));
        assert_eq!(path_string(&args.crate_path), ":: renamed :: inner");
    }

    #[test]
    fn raw_identifier_names_are_accepted() {
        let args = parse(Kind::Main, quote!(r#worker_threads = 2)).unwrap();
        assert_eq!(args.worker_threads, Some(2));
    }

    #[test]
    fn unknown_argument_names_the_valid_ones() {
        let message = error_of(quote!(flavor = "multi_thread"));
        assert!(message.contains("unknown argument `flavor`"), "{message}");
        assert!(message.contains("#[magpie::main]"), "{message}");
        assert!(message.contains("worker_threads = <number>"), "{message}");
        assert!(message.contains("crate = \"<path>\""), "{message}");
    }

    #[test]
    fn missing_value_is_explained() {
        let message = error_of(quote!(worker_threads));
        assert!(
            message.contains("`worker_threads` needs a value"),
            "{message}"
        );
    }

    #[test]
    fn non_argument_tokens_are_rejected() {
        let message = error_of(quote!(4));
        assert!(message.contains("expected an argument"), "{message}");
    }

    #[test]
    fn zero_workers_is_rejected() {
        let message = error_of(quote!(worker_threads = 0));
        assert!(message.contains("at least 1"), "{message}");
    }

    #[test]
    fn non_integer_workers_are_rejected() {
        for tokens in [
            quote!(worker_threads = "4"),
            quote!(worker_threads = -1),
            quote!(worker_threads = N),
        ] {
            let message = error_of(tokens);
            assert!(message.contains("integer literal"), "{message}");
        }
    }

    #[test]
    fn huge_worker_count_is_rejected() {
        let message = error_of(quote!(worker_threads = 1000000000000000000000000));
        assert!(message.contains("too large"), "{message}");
    }

    #[test]
    fn duplicates_are_rejected() {
        let message = error_of(quote!(worker_threads = 1, worker_threads = 2));
        assert!(message.contains("more than once"), "{message}");
        let message = error_of(quote!(crate = "a", crate = "b"));
        assert!(message.contains("more than once"), "{message}");
    }

    #[test]
    fn crate_needs_a_string_path() {
        let message = error_of(quote!(crate = magpie));
        assert!(message.contains("as a string"), "{message}");
        let message = error_of(quote!(crate = "not a path"));
        assert!(message.contains("is not a path"), "{message}");
    }

    #[test]
    fn all_errors_are_reported_together() {
        let error = parse(Kind::Main, quote!(flavor = 1, worker_threads = 0)).err();
        let count = error.map(|error| error.into_iter().count());
        assert_eq!(count, Some(2));
    }
}
