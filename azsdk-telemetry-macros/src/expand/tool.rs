//! `#[telemetry_tool]`: wraps a function's body so each call records one
//! `ToolExecuted`.
//!
//! Three shapes of body:
//! - a sync fn: the body runs in a `move` closure (so `return` and `?` keep
//!   their meaning), guarded by a `ToolCall`;
//! - an `async fn`: the body runs in an `async move` block awaited inside the
//!   function, so the duration covers the body;
//! - a fn already desugared by `#[async_trait]` or rmcp's `#[tool]`
//!   (`Box::pin(async move { .. })`): the same, inside that async block, so
//!   the duration covers the body and not the creation of its future.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{Attribute, Block, Expr, FnArg, GenericArgument, ItemFn, Pat, ReturnType, Type};

use super::{classify, describe, nameable, record, runtime, with_error};
use crate::attr::{self, PARAM, TOOL};
use crate::case::RenameRule;
use crate::check;

pub(crate) fn tool(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut func: ItemFn = match syn::parse2(item.clone()) {
        Ok(func) => func,
        Err(error) => {
            let error = syn::Error::new(
                error.span(),
                format!("`#[telemetry_tool]` instruments a function with a body: {error}"),
            );
            return with_error(error, item);
        }
    };
    let param_attrs = strip_param_attrs(&mut func);
    match expand(args, &mut func, &param_attrs) {
        Ok(()) => quote!(#func),
        Err(error) => with_error(error, quote!(#func)),
    }
}

/// Removes `#[telemetry(...)]` from the parameters (they are ours, and the
/// compiler would reject them), returning them by parameter index.
fn strip_param_attrs(func: &mut ItemFn) -> Vec<Vec<Attribute>> {
    func.sig
        .inputs
        .iter_mut()
        .map(|input| match input {
            FnArg::Typed(typed) => {
                let (ours, theirs) = std::mem::take(&mut typed.attrs)
                    .into_iter()
                    .partition(attr::is_telemetry);
                typed.attrs = theirs;
                ours
            }
            FnArg::Receiver(receiver) => {
                let (ours, theirs) = std::mem::take(&mut receiver.attrs)
                    .into_iter()
                    .partition(attr::is_telemetry);
                receiver.attrs = theirs;
                ours
            }
        })
        .collect()
}

fn local(name: &str) -> syn::Ident {
    format_ident!("{}", name, span = Span::mixed_site())
}

fn expand(args: TokenStream, func: &mut ItemFn, param_attrs: &[Vec<Attribute>]) -> syn::Result<()> {
    let entries = TOOL.parse_args(args)?;
    let tool = check::tool(&entries, &func.sig)?;
    let rt = runtime(&tool.krate);
    let recorder = local("__azsdk_args");
    let describer = local("__azsdk_describer");
    let mut statements = Vec::new();
    let mut descriptions = Vec::new();
    let generics = func.sig.generics.clone();
    for (input, attrs) in func.sig.inputs.iter().zip(param_attrs) {
        let entries = PARAM.parse_attrs(attrs)?;
        match input {
            FnArg::Receiver(receiver) => {
                if let Some(entry) = entries.0.first() {
                    return Err(syn::Error::new(
                        entry.span,
                        "`self` is never recorded: annotate the fields of its type instead",
                    ));
                }
                let _ = receiver;
            }
            FnArg::Typed(typed) if entries.is_empty() => {
                descriptions.push(match nameable(&typed.ty, &generics) {
                    Some(ty) => quote! {
                        (&&&__AzsdkDescArgs(#rt::manifest::PhantomData::<#ty>)).__azsdk_describe(#describer);
                    },
                    None => {
                        let ty = &typed.ty;
                        let text = quote!(#ty).to_string();
                        quote!(#describer.undescribed(#text);)
                    }
                });
                for binding in bindings(&typed.pat) {
                    statements.push(quote! {
                        (&__AzsdkParam(&#binding)).__azsdk_param(#recorder);
                    });
                }
            }
            FnArg::Typed(typed) => {
                let Pat::Ident(pat) = &*typed.pat else {
                    return Err(syn::Error::new_spanned(
                        &typed.pat,
                        "annotate a parameter bound to a plain name (`language: &str`); a pattern has no single value to record",
                    ));
                };
                let Some(recorded) = check::field(&entries, Some(&pat.ident), RenameRule::Camel)?
                else {
                    continue;
                };
                let ident = &pat.ident;
                let value: Expr = syn::parse_quote!(&#ident);
                statements.push(record(&rt, &recorder, &recorded, &value, &typed.ty));
                let ty = nameable(&typed.ty, &generics);
                descriptions.push(describe(&rt, &describer, &recorded, ty.as_ref()));
            }
        }
    }

    let (name, category) = (&tool.name, &tool.category);
    let errors = local("__azsdk_errors");
    let output_ty = match &func.sig.output {
        _ if func.sig.asyncness.is_none() && boxed_output(&func.sig.output).is_some() => {
            boxed_output(&func.sig.output)
        }
        ReturnType::Default => None,
        ReturnType::Type(_, ty) => Some((**ty).clone()),
    };
    let describe_errors = describe_output(&rt, &errors, output_ty.as_ref(), &generics);
    let submit = quote! {
        #[allow(unsafe_code, non_snake_case)]
        const _: () = {
            #[allow(unused_imports)]
            use #rt::manifest::probe::*;
            fn __azsdk_describe(
                #describer: &mut #rt::manifest::ArgsDescriber,
                #errors: &mut #rt::manifest::ErrorTypes,
            ) {
                let _ = (&#describer, &#errors);
                #(#descriptions)*
                #describe_errors
            }
            #rt::manifest::inventory::submit! {
                #rt::manifest::ToolEntry {
                    name: #name,
                    category: #category,
                    describe: __azsdk_describe,
                }
            }
        };
    };
    let call = local("__azsdk_call");
    let start = quote! {
        #submit
        let #call = #rt::ToolCall::start(#name, #category, |#recorder: &mut #rt::ArgsRecorder| {
            #[allow(unused_imports)]
            use #rt::probe::*;
            #(#statements)*
        });
    };
    let output = local("__azsdk_output");
    let finish = {
        let outcome = local("__azsdk_outcome");
        let classify = classify(&rt, &quote!(__azsdk_err), error_span(&func.sig.output));
        quote! {{
            #[allow(unused_imports)]
            use #rt::probe::*;
            let mut #outcome = #rt::Outcome::default();
            let (__azsdk_ok, __azsdk_err) = (&__AzsdkOut(&#output)).__azsdk_split();
            if let ::core::option::Option::Some(__azsdk_err) = __azsdk_err {
                #outcome.error = ::core::option::Option::Some(#classify);
            }
            if let ::core::option::Option::Some(__azsdk_ok) = __azsdk_ok {
                (&&__AzsdkResp(__azsdk_ok)).__azsdk_respond(&mut #outcome);
            }
            #outcome
        }}
    };

    if func.sig.asyncness.is_some() {
        let ret = annotation(&func.sig.output);
        let block = &func.block;
        let body = async_body(&rt, &start, &call, &output, &finish, block, ret.as_ref());
        *func.block = body;
        return Ok(());
    }
    if let Some(async_block) = boxed_async_block(&mut func.block) {
        let ret = boxed_output(&func.sig.output).and_then(|ty| annotation_of(&ty));
        let block = async_block.block.clone();
        async_block.block = async_body(&rt, &start, &call, &output, &finish, &block, ret.as_ref());
        return Ok(());
    }
    let ret = annotation(&func.sig.output).map(|ty| quote!(-> #ty));
    let block = &func.block;
    let body = local("__azsdk_body");
    let guard = local("__azsdk_guard");
    *func.block = syn::parse_quote! {{
        #start
        #[allow(clippy::redundant_closure_call)]
        let #body = move || #ret #block;
        match #call {
            ::core::option::Option::None => #rt::call(#body),
            ::core::option::Option::Some(mut #guard) => {
                let #output = #guard.run(#body);
                #guard.finish(#finish);
                #output
            }
        }
    }};
    Ok(())
}

fn async_body(
    rt: &TokenStream,
    start: &TokenStream,
    call: &syn::Ident,
    output: &syn::Ident,
    finish: &TokenStream,
    block: &Block,
    ret: Option<&Type>,
) -> Block {
    let future = match ret {
        Some(ret) => quote!(#rt::typed_future::<#ret, _>(async move #block)),
        None => quote!(async move #block),
    };
    syn::parse_quote! {{
        #start
        let (#output, #call) = #rt::ToolFuture::new(#call, #future).await;
        if let ::core::option::Option::Some(#call) = #call {
            #call.finish(#finish);
        }
        #output
    }}
}

/// What describes the `errorType` values of a tool returning `output`.
fn describe_output(
    rt: &TokenStream,
    errors: &syn::Ident,
    output: Option<&Type>,
    generics: &syn::Generics,
) -> TokenStream {
    let Some(output) = output else {
        return TokenStream::new();
    };
    let m = quote!(#rt::manifest);
    let Some(output) = nameable(output, generics) else {
        return quote!(#errors.add_other(););
    };
    if let Some((ok, err)) = split_result(&output) {
        return quote! {
            (&&__AzsdkDescErr(#m::PhantomData::<#err>)).__azsdk_describe(#errors);
            (&&__AzsdkDescResp(#m::PhantomData::<#ok>)).__azsdk_describe(#errors);
        };
    }
    quote!((&&&__AzsdkDescRet(#m::PhantomData::<#output>)).__azsdk_describe(#errors);)
}

/// `(T, E)` of `Result<T, E>` as written.
fn split_result(ty: &Type) -> Option<(Type, Type)> {
    let Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let types: Vec<&Type> = args
        .args
        .iter()
        .filter_map(|arg| match arg {
            GenericArgument::Type(ty) => Some(ty),
            _ => None,
        })
        .collect();
    match types.as_slice() {
        [ok, err] if last.ident == "Result" => Some(((*ok).clone(), (*err).clone())),
        _ => None,
    }
}

/// The names a parameter's pattern binds: `args` in `Parameters(args): Parameters<Args>`.
fn bindings(pat: &Pat) -> Vec<syn::Ident> {
    struct Bindings(Vec<syn::Ident>);
    impl<'ast> Visit<'ast> for Bindings {
        fn visit_pat_ident(&mut self, pat: &'ast syn::PatIdent) {
            self.0.push(pat.ident.clone());
            syn::visit::visit_pat_ident(self, pat);
        }
        fn visit_expr(&mut self, _: &'ast Expr) {}
        fn visit_type(&mut self, _: &'ast Type) {}
    }
    let mut found = Bindings(Vec::new());
    match pat {
        // `a | b` binds the same names in each alternative.
        Pat::Or(or) => {
            if let Some(first) = or.cases.first() {
                found.visit_pat(first);
            }
        }
        pat => found.visit_pat(pat),
    }
    found.0
}

/// `{ Box::pin(async move { .. }) }`: the shape `#[async_trait]` and rmcp's
/// `#[tool]` give an async fn.
fn boxed_async_block(block: &mut Block) -> Option<&mut syn::ExprAsync> {
    let [syn::Stmt::Expr(Expr::Call(call), None)] = block.stmts.as_mut_slice() else {
        return None;
    };
    let Expr::Path(func) = &*call.func else {
        return None;
    };
    let is_pin = func.path.segments.last().is_some_and(|s| s.ident == "pin");
    if !is_pin || call.args.len() != 1 {
        return None;
    }
    match call.args.first_mut() {
        Some(Expr::Async(async_block)) => Some(async_block),
        _ => None,
    }
}

/// `T` in `-> Pin<Box<dyn Future<Output = T> + ..>>`.
fn boxed_output(output: &ReturnType) -> Option<Type> {
    struct FindOutput(Option<Type>);
    impl<'ast> Visit<'ast> for FindOutput {
        fn visit_assoc_type(&mut self, assoc: &'ast syn::AssocType) {
            if self.0.is_none() && assoc.ident == "Output" {
                self.0 = Some(assoc.ty.clone());
            }
        }
    }
    let ReturnType::Type(_, ty) = output else {
        return None;
    };
    let mut find = FindOutput(None);
    find.visit_type(ty);
    find.0
}

/// Where an error about the `Err` type points: `E` in `-> Result<T, E>`
/// (also inside a boxed future's `Output`), else the return type.
fn error_span(output: &ReturnType) -> Span {
    let ReturnType::Type(_, ty) = output else {
        return Span::call_site();
    };
    let ty = boxed_output(output).unwrap_or_else(|| (**ty).clone());
    match split_result(&ty) {
        Some((_, error)) => error.span(),
        None => ty.span(),
    }
}

/// The return type to annotate the body with, when it can be written in a
/// closure or a type argument (no `impl Trait`, no elided lifetime).
fn annotation(output: &ReturnType) -> Option<Type> {
    match output {
        ReturnType::Default => Some(syn::parse_quote!(())),
        ReturnType::Type(_, ty) => annotation_of(ty),
    }
}

fn annotation_of(ty: &Type) -> Option<Type> {
    struct Writable(bool);
    impl<'ast> Visit<'ast> for Writable {
        fn visit_type_impl_trait(&mut self, _: &'ast syn::TypeImplTrait) {
            self.0 = false;
        }
        fn visit_type_infer(&mut self, _: &'ast syn::TypeInfer) {
            self.0 = false;
        }
        fn visit_type_reference(&mut self, reference: &'ast syn::TypeReference) {
            if reference.lifetime.is_none() {
                self.0 = false;
            }
            syn::visit::visit_type_reference(self, reference);
        }
        fn visit_lifetime(&mut self, lifetime: &'ast syn::Lifetime) {
            if lifetime.ident == "_" {
                self.0 = false;
            }
        }
        fn visit_generic_argument(&mut self, argument: &'ast GenericArgument) {
            syn::visit::visit_generic_argument(self, argument);
        }
    }
    let mut writable = Writable(true);
    writable.visit_type(ty);
    writable.0.then(|| ty.clone())
}
