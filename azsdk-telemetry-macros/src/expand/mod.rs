//! Code generation. Generated code reaches the runtime only through
//! `<crate>::__private::v1`, so a macro and a runtime of different versions
//! fail to compile instead of misbehaving.

pub(crate) mod args;
pub(crate) mod error;
pub(crate) mod tool;

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, Path};

use crate::check::{Mode, Recorded};

/// The versioned runtime path.
pub(crate) fn runtime(krate: &Path) -> TokenStream {
    quote!(#krate::__private::v1)
}

/// The statement that records one field or parameter into the recorder `args`.
/// `value` is a reference expression; errors about its type point at `span_of`.
pub(crate) fn record(
    rt: &TokenStream,
    args: &syn::Ident,
    recorded: &Recorded,
    value: &Expr,
    span_of: &impl Spanned,
) -> TokenStream {
    let key = &recorded.key;
    let span = span_of.span();
    let statement = match &recorded.mode {
        Mode::Allow { dimension } => {
            let dimension = match dimension {
                Some(lit) => quote!(::core::option::Option::Some(#lit)),
                None => quote!(::core::option::Option::None),
            };
            quote_spanned! {span=>
                (&&&__AzsdkValue(#value)).__azsdk_allow(#args, #key, #dimension);
            }
        }
        Mode::Presence => quote_spanned! {span=>
            (&&__AzsdkPresent(#value)).__azsdk_presence(#args, #key);
        },
        Mode::Hash => quote_spanned! {span=>
            (&&&__AzsdkValue(#value)).__azsdk_hash(#args, #key);
        },
        Mode::Flatten => quote_spanned! {span=>
            #rt::TelemetryArgs::record_args(#value, #args);
        },
    };
    // The probes borrow whatever the value is, a reference included.
    quote! {
        #[allow(clippy::needless_borrow)]
        #statement
    }
}

/// `compile_error!` for an error, followed by what keeps the rest of the
/// crate compiling (the item, or stub impls).
pub(crate) fn with_error(error: syn::Error, keep: TokenStream) -> TokenStream {
    let error = error.to_compile_error();
    quote! {
        #error
        #keep
    }
}
