//! Code generation. Generated code reaches the runtime only through
//! `<crate>::__private::v1`, so a macro and a runtime of different versions
//! fail to compile instead of misbehaving.

pub(crate) mod args;
pub(crate) mod error;
pub(crate) mod tool;

use proc_macro2::{Span, TokenStream};
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
        Mode::Allow { dimension, display } => {
            let dimension = match dimension {
                Some(lit) => quote!(::core::option::Option::Some(#lit)),
                None => quote!(::core::option::Option::None),
            };
            let record = recorder_fn(
                rt,
                span,
                "allow",
                *display,
                quote_spanned!(span=> #rt::allow_value(value, recorder, key, dimension)),
            );
            if *display {
                quote_spanned!(span=> (#record)(#value, #args, #key, #dimension);)
            } else {
                quote_spanned! {span=>
                    (&&__AzsdkValue(#value)).__azsdk_allow(#args, #key, #dimension, #record);
                }
            }
        }
        Mode::Presence => quote_spanned! {span=>
            (&&__AzsdkPresent(#value)).__azsdk_presence(#args, #key);
        },
        Mode::Hash { display } => {
            let record = recorder_fn(
                rt,
                span,
                "hash",
                *display,
                quote_spanned!(span=> #rt::ArgsRecorder::hash(recorder, key, value)),
            );
            if *display {
                quote_spanned!(span=> (#record)(#value, #args, #key, ::core::option::Option::None);)
            } else {
                quote_spanned!(span=> (&&__AzsdkValue(#value)).__azsdk_hash(#args, #key, #record);)
            }
        }
        Mode::Flatten => {
            let rt = respan(rt, span);
            quote_spanned!(span=> #rt::TelemetryArgs::record_args(#value, #args);)
        }
    };
    // The probes borrow whatever the value is, a reference included.
    quote! {
        #[allow(clippy::needless_borrow)]
        #statement
    }
}

/// A block whose value is a function that records one value with `body`
/// (which sees `value`, `recorder`, `key`, `dimension`), bounded by
/// `ArgValue`, or by `Display` with `display` (`value` is then the text).
///
/// The bound is the check: spanned at the author's type, so a type without it
/// gets one error there, in the trait's words, naming no private item. Inside
/// a block of its own, the function's name cannot shadow the author's.
fn recorder_fn(
    rt: &TokenStream,
    span: Span,
    name: &str,
    display: bool,
    body: TokenStream,
) -> TokenStream {
    let name = syn::Ident::new(name, span);
    let rt = respan(rt, span);
    let (bound, text) = if display {
        (
            quote_spanned!(span=> ::core::fmt::Display),
            quote_spanned!(span=> let value: &str = &::std::string::ToString::to_string(value);),
        )
    } else {
        (quote_spanned!(span=> #rt::ArgValue), TokenStream::new())
    };
    quote_spanned! {span=> {
        fn #name<V: ?Sized + #bound>(
            value: &V,
            recorder: &mut #rt::ArgsRecorder,
            key: &str,
            dimension: ::core::option::Option<&'static str>,
        ) {
            let _ = dimension;
            #text
            #body
        }
        #name
    }}
}

/// `tokens` with every span set to `span`: a path the generated code names
/// (the runtime's) then points where the author's type is, in notes too.
fn respan(tokens: &TokenStream, span: Span) -> TokenStream {
    tokens
        .clone()
        .into_iter()
        .map(|mut tree| {
            if let proc_macro2::TokenTree::Group(group) = &tree {
                let mut inner =
                    proc_macro2::Group::new(group.delimiter(), respan(&group.stream(), span));
                inner.set_span(span);
                tree = proc_macro2::TokenTree::Group(inner);
            } else {
                tree.set_span(span);
            }
            tree
        })
        .collect()
}

/// The classification of `error` (a reference expression): the probe ladder
/// of `__AzsdkErr`, whose last rung requires `TelemetryError` through a
/// function spanned at `span`, the author's error type.
pub(crate) fn classify(rt: &TokenStream, error: &TokenStream, span: Span) -> TokenStream {
    let rt = respan(rt, span);
    quote_spanned! {span=> {
        #[allow(unused_imports)]
        use #rt::probe::*;
        (&&&&&__AzsdkErr(#error)).__azsdk_classify({
            fn classify<E: ?Sized + #rt::TelemetryError>(error: &E) -> #rt::Classification {
                #rt::Classification::of(error)
            }
            classify
        })
    }}
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

/// The statement that describes one recorded field or parameter for the
/// manifest, into the `ArgsDescriber` `out`. `ty` is the value's type when it
/// can be named where the statement goes (else an `allow` is a plain value).
pub(crate) fn describe(
    rt: &TokenStream,
    out: &syn::Ident,
    recorded: &Recorded,
    ty: Option<&syn::Type>,
) -> TokenStream {
    let key = &recorded.key;
    let m = quote!(#rt::manifest);
    let push = |mode: TokenStream, dimension: TokenStream, display: bool| quote!(#out.push(#key, #m::FieldMode::#mode, #dimension, #display););
    let none = quote!(::core::option::Option::None);
    match (&recorded.mode, ty) {
        (Mode::Allow { dimension, display }, ty) => {
            let dimension = match dimension {
                Some(lit) => quote!(::core::option::Option::Some(#lit)),
                None => none.clone(),
            };
            match ty {
                Some(ty) if !*display => quote! {
                    (&&&__AzsdkDescValue(#m::PhantomData::<#ty>)).__azsdk_describe(#out, #key, #dimension);
                },
                _ => push(quote!(Allow), dimension, *display),
            }
        }
        (Mode::Presence, _) => push(quote!(Presence), none, false),
        (Mode::Hash { display }, _) => push(quote!(Hash), none, *display),
        (Mode::Flatten, Some(ty)) => quote! {
            (&&&__AzsdkDescArgs(#m::PhantomData::<#ty>)).__azsdk_describe(#out);
        },
        (Mode::Flatten, None) => quote!(#out.undescribed(#key);),
    }
}

/// `ty` as it can be written in an item nested in the function: lifetimes
/// become `'static`; `None` when it names the function's (or, by the usual
/// one-letter convention, an impl's) generic parameters, `Self` or `impl Trait`.
pub(crate) fn nameable(ty: &syn::Type, generics: &syn::Generics) -> Option<syn::Type> {
    use syn::visit_mut::VisitMut;
    struct Fix<'a> {
        generics: &'a syn::Generics,
        ok: bool,
    }
    impl VisitMut for Fix<'_> {
        fn visit_lifetime_mut(&mut self, lifetime: &mut syn::Lifetime) {
            *lifetime = syn::Lifetime::new("'static", lifetime.span());
        }
        fn visit_type_reference_mut(&mut self, reference: &mut syn::TypeReference) {
            if reference.lifetime.is_none() {
                reference.lifetime = Some(syn::Lifetime::new("'static", Span::call_site()));
            }
            syn::visit_mut::visit_type_reference_mut(self, reference);
        }
        fn visit_type_impl_trait_mut(&mut self, _: &mut syn::TypeImplTrait) {
            self.ok = false;
        }
        fn visit_type_infer_mut(&mut self, _: &mut syn::TypeInfer) {
            self.ok = false;
        }
        fn visit_type_macro_mut(&mut self, _: &mut syn::TypeMacro) {
            self.ok = false;
        }
        fn visit_type_bare_fn_mut(&mut self, _: &mut syn::TypeBareFn) {
            self.ok = false;
        }
        fn visit_type_trait_object_mut(&mut self, _: &mut syn::TypeTraitObject) {
            self.ok = false;
        }
        fn visit_path_mut(&mut self, path: &mut syn::Path) {
            if let Some(first) = path.segments.first() {
                let name = first.ident.to_string();
                let generic = self.generics.type_params().any(|p| p.ident == first.ident)
                    || self.generics.const_params().any(|p| p.ident == first.ident);
                let one_letter = path.segments.len() == 1
                    && name.len() == 1
                    && name.chars().all(|c| c.is_ascii_uppercase());
                if name == "Self" || generic || one_letter {
                    self.ok = false;
                }
            }
            syn::visit_mut::visit_path_mut(self, path);
        }
        fn visit_expr_mut(&mut self, _: &mut syn::Expr) {
            // Array lengths may name const generics; the value is not needed.
            self.ok = false;
        }
    }
    let mut ty = ty.clone();
    let mut fix = Fix { generics, ok: true };
    fix.visit_type_mut(&mut ty);
    fix.ok.then_some(ty)
}
