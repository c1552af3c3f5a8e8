//! # azsdk-telemetry-examples
//!
//! An `azsdk`-style tool suite built on `azsdk-telemetry`, as a tool author
//! would write it: the tools of the spec (`azsdk_verify_setup`,
//! `azsdk_generate_sdk`, `azsdk_run_tests`, `azsdk_run_pr_checks`,
//! `azsdk_update_package`, `azsdk_create_release_plan`) with annotated
//! arguments ([`args`]) and typed errors ([`errors`]), exposed as a CLI and as
//! an MCP server ([`mcp`]), plus the demo workload ([`demo`]) behind the
//! README's main command.
//!
//! The tools simulate their work ([`simulate`]): no network, a few
//! milliseconds each, and outcomes that are reproducible for a seed but fail
//! the way real ones do.

pub mod args;
pub mod cli;
pub mod demo;
pub mod errors;
pub mod mcp;
pub mod simulate;
pub mod telemetry;
pub mod tools;
