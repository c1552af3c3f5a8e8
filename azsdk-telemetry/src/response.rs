//! Opt-in response summaries (`toolResponse`) and results that report a
//! failure from inside an `Ok` (an MCP `CallToolResult` with `is_error`).

use crate::classify::Classification;

/// A tool's return value that says something about the call.
///
/// `toolResponse` is recorded only for return types (or the `Ok` type of a
/// `Result`) that implement this trait: there is no blanket implementation,
/// so nothing a tool returns is recorded unless its author opts in. The
/// summary is scrubbed and length-limited like every recorded value; keep it
/// short and free of user data.
///
/// ```
/// use azsdk_telemetry::{telemetry_tool, ToolResponse};
///
/// struct Generated { files: usize }
///
/// impl ToolResponse for Generated {
///     fn tool_response(&self) -> Option<String> {
///         Some(format!("SDK generated successfully ({} files)", self.files))
///     }
/// }
///
/// #[telemetry_tool(category = "generating")]
/// fn generate() -> Result<Generated, std::io::Error> {
///     Ok(Generated { files: 12 })
/// }
/// # generate().unwrap();
/// ```
///
/// A value can also report that the call failed although it returned `Ok`
/// (that is what the `rmcp` feature does for `CallToolResult` whose
/// `is_error` is `Some(true)`):
///
/// ```
/// use azsdk_telemetry::{Classification, ToolResponse};
///
/// struct TestRun { failed: usize }
///
/// impl ToolResponse for TestRun {
///     fn tool_response(&self) -> Option<String> {
///         Some(if self.failed == 0 { "All tests passed".into() } else { "Test execution failed".into() })
///     }
///     fn failure(&self) -> Option<Classification> {
///         (self.failed > 0).then(|| Classification::failure("TestFailure", Some(format!("{} tests failed", self.failed))))
///     }
/// }
/// ```
pub trait ToolResponse {
    /// `toolResponse`: a short summary of the result; `None` records nothing.
    fn tool_response(&self) -> Option<String>;

    /// A failure reported by a value the tool returned successfully.
    fn failure(&self) -> Option<Classification> {
        None
    }
}

impl<T: ToolResponse + ?Sized> ToolResponse for &T {
    fn tool_response(&self) -> Option<String> {
        (**self).tool_response()
    }
    fn failure(&self) -> Option<Classification> {
        (**self).failure()
    }
}

/// The `errorType` of an MCP tool result that reports an error.
#[cfg(feature = "rmcp")]
pub const MCP_TOOL_ERROR: &str = "ToolError";

/// `is_error: Some(true)` is a failure of type [`MCP_TOOL_ERROR`] whose
/// message is the result's first text content. No `toolResponse`: an MCP
/// result's content is the model's input, not a summary.
#[cfg(feature = "rmcp")]
impl ToolResponse for rmcp::model::CallToolResult {
    fn tool_response(&self) -> Option<String> {
        None
    }

    fn failure(&self) -> Option<Classification> {
        if self.is_error != Some(true) {
            return None;
        }
        let message = self
            .content
            .iter()
            .find_map(|block| block.as_text())
            .map(|text| text.text.clone());
        Some(Classification::failure(MCP_TOOL_ERROR, message))
    }
}
