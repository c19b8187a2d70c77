//! A shallow parse of the function the attribute is placed on.
//!
//! Only the attributes, the visibility and the signature are parsed into syntax trees; the body
//! is kept as the user's raw brace-delimited tokens. This has two effects the rest of the crate
//! relies on:
//! - a syntax error inside the body does not stop the expansion: the body is emitted unchanged
//!   and rustc reports the error once, at the user's token, while the signature-level expansion
//!   (and so IDE completion inside the body) keeps working;
//! - the body's tokens keep their original spans, so every error and every IDE feature inside it
//!   points at the user's code.

use proc_macro2::{Delimiter, Group, TokenTree};
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Signature, Visibility};

/// A function item whose body has not been parsed.
pub(crate) struct FunctionItem {
    /// Outer attributes, in source order (`#[should_panic]`, doc comments, `#[test]`, ...).
    pub(crate) attributes: Vec<Attribute>,
    /// The visibility, e.g. `pub`.
    pub(crate) visibility: Visibility,
    /// The full signature: qualifiers, name, generics, parameters, return type.
    pub(crate) signature: Signature,
    /// The body, a `{ ... }` group, untouched.
    pub(crate) body: Group,
}

impl Parse for FunctionItem {
    fn parse(input: ParseStream<'_>) -> syn::Result<FunctionItem> {
        let attributes = input.call(Attribute::parse_outer)?;
        let visibility = input.parse::<Visibility>()?;
        let signature = input.parse::<Signature>()?;
        let body = match input.parse::<TokenTree>() {
            Ok(TokenTree::Group(group)) if group.delimiter() == Delimiter::Brace => group,
            Ok(other) => {
                return Err(syn::Error::new(
                    other.span(),
                    "expected the function's body `{ ... }`",
                ))
            }
            Err(_) => {
                return Err(input.error("expected the function's body `{ ... }` after this"));
            }
        };
        if !input.is_empty() {
            return Err(input.error("unexpected tokens after the function's body"));
        }
        Ok(FunctionItem {
            attributes,
            visibility,
            signature,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn body_with_a_syntax_error_is_kept_raw() {
        let item: FunctionItem = syn::parse2(quote! {
            #[should_panic]
            pub async fn main() -> u8 { let = ; }
        })
        .unwrap();
        assert_eq!(item.attributes.len(), 1);
        assert!(matches!(item.visibility, Visibility::Public(_)));
        assert_eq!(item.signature.ident, "main");
        assert_eq!(item.body.stream().to_string(), "let = ;");
    }

    #[test]
    fn a_function_without_a_body_is_rejected() {
        let error = syn::parse2::<FunctionItem>(quote!(
            async fn main();
        ))
        .err()
        .unwrap();
        assert!(error.to_string().contains("body"), "{error}");
        let error = syn::parse2::<FunctionItem>(quote!(async fn main()))
            .err()
            .unwrap();
        assert!(error.to_string().contains("body"), "{error}");
    }

    #[test]
    fn trailing_tokens_are_rejected() {
        let error = syn::parse2::<FunctionItem>(quote!(
            async fn main() {}
            fn other() {}
        ))
        .err()
        .unwrap();
        assert!(error.to_string().contains("after the function"), "{error}");
    }

    #[test]
    fn a_struct_is_not_a_function() {
        assert!(syn::parse2::<FunctionItem>(quote!(
            struct Main;
        ))
        .is_err());
    }
}
