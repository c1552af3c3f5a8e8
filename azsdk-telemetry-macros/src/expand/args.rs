//! `#[derive(TelemetryArgs)]`: structs record their annotated fields; enums
//! record as a value, the variant's name.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::{Data, DeriveInput, Fields};

use super::{describe, record, runtime, with_error};
use crate::attr::{ARGS_CONTAINER, ARGS_VARIANT, FIELD};
use crate::check;

pub(crate) fn derive(input: DeriveInput) -> TokenStream {
    let container = ARGS_CONTAINER.parse_attrs(&input.attrs);
    let krate = container
        .as_ref()
        .map(check::krate)
        .unwrap_or_else(|_| syn::parse_quote!(::azsdk_telemetry));
    let rt = runtime(&krate);
    let expanded = container.and_then(|container| match &input.data {
        Data::Struct(data) => structure(&input, &data.fields, &container, &rt),
        Data::Enum(data) => enumeration(&input, data, &container, &rt),
        Data::Union(data) => Err(syn::Error::new_spanned(
            data.union_token,
            "`TelemetryArgs` cannot be derived for a union: which field is set is not known",
        )),
    });
    expanded.unwrap_or_else(|error| with_error(error, stub(&input, &rt)))
}

/// A `TelemetryArgs` impl that records nothing, so one mistake gives one error.
fn stub(input: &DeriveInput, rt: &TokenStream) -> TokenStream {
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    if let Data::Enum(_) = input.data {
        return quote! {
            impl #impl_generics #rt::ArgValue for #name #ty_generics #where_clause {
                fn arg_value(&self) -> ::core::option::Option<#rt::Value> {
                    ::core::option::Option::None
                }
            }
        };
    }
    quote! {
        impl #impl_generics #rt::TelemetryArgs for #name #ty_generics #where_clause {
            fn record_args(&self, _: &mut #rt::ArgsRecorder) {}
        }
        impl #impl_generics #rt::manifest::DescribeArgs for #name #ty_generics #where_clause {
            fn describe_args(_: &mut #rt::manifest::ArgsDescriber) {}
        }
    }
}

fn structure(
    input: &DeriveInput,
    fields: &Fields,
    container: &crate::attr::Entries,
    rt: &TokenStream,
) -> syn::Result<TokenStream> {
    let rule = check::rename_all(container)?;
    let args = format_ident!("__azsdk_args", span = Span::mixed_site());
    let out = format_ident!("__azsdk_out", span = Span::mixed_site());
    let mut statements = Vec::new();
    let mut descriptions = Vec::new();
    for (index, field) in fields.iter().enumerate() {
        let entries = FIELD.parse_attrs(&field.attrs)?;
        let Some(recorded) = check::field(&entries, field.ident.as_ref(), rule)? else {
            continue;
        };
        let member = match &field.ident {
            Some(ident) => quote!(#ident),
            None => {
                let index = syn::Index::from(index);
                quote!(#index)
            }
        };
        let value: syn::Expr = syn::parse_quote!(&self.#member);
        statements.push(record(rt, &args, &recorded, &value, &field.ty));
        descriptions.push(describe(rt, &out, &recorded, Some(&field.ty)));
    }
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        #[automatically_derived]
        impl #impl_generics #rt::TelemetryArgs for #name #ty_generics #where_clause {
            fn record_args(&self, #args: &mut #rt::ArgsRecorder) {
                #[allow(unused_imports)]
                use #rt::probe::*;
                #(#statements)*
            }
        }
        #[automatically_derived]
        impl #impl_generics #rt::manifest::DescribeArgs for #name #ty_generics #where_clause {
            fn describe_args(#out: &mut #rt::manifest::ArgsDescriber) {
                #[allow(unused_imports)]
                use #rt::manifest::probe::*;
                let _ = &#out;
                #(#descriptions)*
            }
        }
    })
}

fn enumeration(
    input: &DeriveInput,
    data: &syn::DataEnum,
    container: &crate::attr::Entries,
    rt: &TokenStream,
) -> syn::Result<TokenStream> {
    let rule = check::rename_all(container)?;
    let mut arms = Vec::new();
    for variant in &data.variants {
        let entries = ARGS_VARIANT.parse_attrs(&variant.attrs)?;
        let text = match entries.str("rename") {
            Some(lit) => check::non_empty(lit, "rename")?,
            None => rule.apply(&variant.ident.to_string()),
        };
        let ident = &variant.ident;
        arms.push(quote!(Self::#ident { .. } => #text,));
    }
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let body = if arms.is_empty() {
        quote!(match *self {})
    } else {
        quote! {
            let text: &'static str = match self { #(#arms)* };
            ::core::option::Option::Some(#rt::Value::String(::core::convert::From::from(text)))
        }
    };
    Ok(quote! {
        #[automatically_derived]
        impl #impl_generics #rt::ArgValue for #name #ty_generics #where_clause {
            fn arg_value(&self) -> ::core::option::Option<#rt::Value> {
                #body
            }
        }
    })
}
