//! `#[derive(TelemetryError)]`: `errorType` per variant (default: its name),
//! the message from `Display` unless `skip_message`, `expected` outcomes, and
//! `transparent` forwarding to the one inner error.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields};

use super::{classify, runtime, with_error};
use crate::attr::{ERROR_CONTAINER, ERROR_VARIANT};
use crate::check::{self, ErrorRule};

pub(crate) fn derive(input: DeriveInput) -> TokenStream {
    let container = ERROR_CONTAINER.parse_attrs(&input.attrs);
    let krate = container
        .as_ref()
        .map(check::krate)
        .unwrap_or_else(|_| syn::parse_quote!(::azsdk_telemetry));
    let rt = runtime(&krate);
    let expanded = container.and_then(|container| arms(&input, &container, &rt));
    match expanded {
        Ok(arms) => implementation(&input, &rt, arms),
        Err(error) => {
            let stub = Arms {
                error_type: vec![quote!(_ => "Error",)],
                message: vec![quote!(_ => ::core::option::Option::None,)],
                failure: vec![quote!(_ => true,)],
                transparent: Vec::new(),
                describe: vec![quote!(__azsdk_out.add("Error");)],
            };
            with_error(error, implementation(&input, &rt, stub))
        }
    }
}

/// Match arms of the three trait methods.
#[derive(Default)]
struct Arms {
    error_type: Vec<TokenStream>,
    message: Vec<TokenStream>,
    failure: Vec<TokenStream>,
    /// `pattern => classification` of the `transparent` variants.
    transparent: Vec<TokenStream>,
    /// What `DescribeErrors` adds to `__azsdk_out`, per variant.
    describe: Vec<TokenStream>,
}

fn arms(
    input: &DeriveInput,
    container: &crate::attr::Entries,
    rt: &TokenStream,
) -> syn::Result<Arms> {
    let mut arms = Arms::default();
    match &input.data {
        Data::Struct(data) => {
            let rule =
                check::error_rule(container, Some(data.fields.len()), &ErrorRule::default())?;
            arms.push(rt, quote!(Self), &input.ident, &data.fields, &rule);
        }
        Data::Enum(data) => {
            if let Some(span) = container.flag("transparent") {
                return Err(syn::Error::new(
                    span,
                    "`transparent` on an enum: put it on the variant that wraps another error",
                ));
            }
            let defaults = check::error_rule(container, None, &ErrorRule::default())?;
            for variant in &data.variants {
                let entries = ERROR_VARIANT.parse_attrs(&variant.attrs)?;
                let rule = check::error_rule(&entries, Some(variant.fields.len()), &defaults)?;
                let ident = &variant.ident;
                arms.push(rt, quote!(Self::#ident), ident, &variant.fields, &rule);
            }
        }
        Data::Union(data) => {
            return Err(syn::Error::new_spanned(
                data.union_token,
                "`TelemetryError` cannot be derived for a union",
            ))
        }
    }
    Ok(arms)
}

fn inner() -> syn::Ident {
    format_ident!("__azsdk_inner", span = Span::mixed_site())
}

/// `Path { .. }`, or with `transparent` the one field bound to `__azsdk_inner`.
fn bind_one(path: TokenStream, fields: &Fields, transparent: bool) -> TokenStream {
    let inner = inner();
    match (transparent, fields) {
        (true, Fields::Named(named)) => {
            let field = named.named.first().and_then(|field| field.ident.as_ref());
            quote!(#path { #field: #inner, .. })
        }
        (true, Fields::Unnamed(_)) => quote!(#path(#inner, ..)),
        _ => quote!(#path { .. }),
    }
}

impl Arms {
    fn push(
        &mut self,
        rt: &TokenStream,
        path: TokenStream,
        ident: &syn::Ident,
        fields: &Fields,
        rule: &ErrorRule,
    ) {
        let inner = inner();
        let pattern = bind_one(path.clone(), fields, false);
        if rule.transparent {
            // Classified once, in one place, so a field type that cannot be
            // classified gives one error, not one per trait method.
            let bound = bind_one(path, fields, true);
            let span = fields
                .iter()
                .next()
                .map_or_else(Span::call_site, |field| field.ty.span());
            let classify = classify(rt, &quote!(#inner), span);
            self.transparent.push(quote!(#bound => #classify,));
            if let Some(field) = fields.iter().next() {
                let ty = &field.ty;
                self.describe.push(quote! {
                    (&&__AzsdkDescErr(#rt::manifest::PhantomData::<#ty>)).__azsdk_describe(__azsdk_out);
                });
            }
            let class = quote!(Self::__azsdk_transparent(self));
            self.error_type.push(quote!(#pattern => #class.error_type,));
            self.message.push(quote!(#pattern => #class.message,));
            self.failure.push(quote!(#pattern => #class.failure,));
            return;
        }
        let error_type = rule.error_type.clone().unwrap_or_else(|| {
            let name = ident.to_string();
            name.strip_prefix("r#").unwrap_or(&name).to_owned()
        });
        self.error_type.push(quote!(#pattern => #error_type,));
        self.describe.push(quote!(__azsdk_out.add(#error_type);));
        self.message.push(if rule.skip_message {
            quote!(#pattern => ::core::option::Option::None,)
        } else {
            quote!(#pattern => ::core::option::Option::Some(::std::string::ToString::to_string(self)),)
        });
        let failure = !rule.expected;
        self.failure.push(quote!(#pattern => #failure,));
    }
}

fn implementation(input: &DeriveInput, rt: &TokenStream, arms: Arms) -> TokenStream {
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let Arms {
        error_type,
        message,
        failure,
        transparent,
        describe,
    } = arms;
    let transparent = (!transparent.is_empty()).then(|| {
        quote! {
            #[automatically_derived]
            impl #impl_generics #name #ty_generics #where_clause {
                fn __azsdk_transparent(&self) -> #rt::Classification {
                    #[allow(unreachable_patterns)]
                    match self {
                        #(#transparent)*
                        _ => ::core::unreachable!(),
                    }
                }
            }
        }
    });
    let body = |arms: Vec<TokenStream>| {
        if arms.is_empty() {
            quote!(match *self {})
        } else {
            quote!(match self { #(#arms)* })
        }
    };
    let (error_type, message, failure) = (body(error_type), body(message), body(failure));
    quote! {
        #[automatically_derived]
        impl #impl_generics #rt::TelemetryError for #name #ty_generics #where_clause {
            fn error_type(&self) -> &'static str {
                #error_type
            }
            fn error_message(&self) -> ::core::option::Option<::std::string::String> {
                #message
            }
            fn is_failure(&self) -> bool {
                #failure
            }
        }
        #[automatically_derived]
        impl #impl_generics #rt::manifest::DescribeErrors for #name #ty_generics #where_clause {
            fn describe_errors(__azsdk_out: &mut #rt::manifest::ErrorTypes) {
                #[allow(unused_imports)]
                use #rt::manifest::probe::*;
                let _ = &__azsdk_out;
                #(#describe)*
            }
        }
        #transparent
    }
}
