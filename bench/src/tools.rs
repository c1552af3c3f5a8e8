//! The tool under test, in each flavour. Every flavour has the same body and is
//! `#[inline(never)]`, so each measures one real call.

use std::hint::black_box;

use azsdk_telemetry::{telemetry_tool, TelemetryArgs};

/// The 3-field argument struct: two values promoted to dimensions, one optional value.
#[derive(Debug, Clone, TelemetryArgs)]
pub struct GenerateArgs {
    /// `serviceName` dimension.
    #[telemetry(allow, dimension = "serviceName")]
    pub service: String,
    /// `language` dimension.
    #[telemetry(allow, dimension = "language")]
    pub language: String,
    /// Kept in `toolArgs` only.
    #[telemetry(allow)]
    pub api_version: Option<String>,
}

impl GenerateArgs {
    /// Typical values.
    pub fn typical() -> Self {
        GenerateArgs {
            service: "storage".into(),
            language: "python".into(),
            api_version: Some("2025-09-01".into()),
        }
    }
}

fn body(service: &str, language: &str) -> Result<usize, std::io::Error> {
    Ok(black_box(service).len() + black_box(language).len())
}

/// (a) The tool with no instrumentation.
#[inline(never)]
pub fn bare(args: &GenerateArgs) -> Result<usize, std::io::Error> {
    body(&args.service, &args.language)
}

/// (b), (c) The tool annotated with `#[telemetry_tool]`.
#[telemetry_tool(category = "generating", name = "azsdk_generate_sdk")]
#[inline(never)]
pub fn ours(args: &GenerateArgs) -> Result<usize, std::io::Error> {
    body(&args.service, &args.language)
}

/// (d), (e) The tool annotated the way a `tracing` user would, recording the same fields.
#[tracing::instrument(
    name = "azsdk_generate_sdk",
    skip_all,
    fields(
        service = %args.service,
        language = %args.language,
        api_version = args.api_version.as_deref(),
    )
)]
#[inline(never)]
pub fn instrumented(args: &GenerateArgs) -> Result<usize, std::io::Error> {
    body(&args.service, &args.language)
}

macro_rules! sized {
    ($args:ident, $ours:ident, $peer:ident, $($field:ident),+) => {
        /// An argument struct with this many allowed fields.
        #[derive(Debug, Clone, Default, TelemetryArgs)]
        pub struct $args {
            $(
                #[telemetry(allow)]
                #[allow(missing_docs)]
                pub $field: String,
            )+
        }

        impl $args {
            /// Each field a short typical value.
            pub fn typical() -> Self {
                $args { $($field: format!("value-{}", stringify!($field)),)+ }
            }
        }

        /// `#[telemetry_tool]` with this many fields.
        #[telemetry_tool(category = "generating")]
        #[inline(never)]
        pub fn $ours(args: &$args) -> Result<usize, std::io::Error> {
            body(&args.f1, "x")
        }

        /// `#[tracing::instrument]` with the same fields.
        #[tracing::instrument(skip_all, fields($($field = %args.$field),+))]
        #[inline(never)]
        pub fn $peer(args: &$args) -> Result<usize, std::io::Error> {
            body(&args.f1, "x")
        }
    };
}

sized!(Args1, ours_1, instrumented_1, f1);
sized!(Args4, ours_4, instrumented_4, f1, f2, f3, f4);
sized!(
    Args16,
    ours_16,
    instrumented_16,
    f1,
    f2,
    f3,
    f4,
    f5,
    f6,
    f7,
    f8,
    f9,
    f10,
    f11,
    f12,
    f13,
    f14,
    f15,
    f16
);
