//! A tool call as the calling thread hands it to a sink: its texts in one allocation.
//!
//! A call's texts (name, category, arguments, dimensions, ...) are copied from its
//! borrowed fields into one string of the exact size, with the span of each text beside
//! it. Packing costs the calling thread one allocation for the texts and one for the
//! record's box, whatever the number of texts, and a queued call holds about half the
//! memory of a [`ToolExecuted`] with a string per text. The record
//! becomes a [`ToolExecuted`] when [`PendingRecord::finish`](crate::PendingRecord::finish)
//! runs, on the exporter's worker.

use std::time::Duration;

use super::tool::{tool_schema, ToolFields};
use super::ToolExecuted;

/// Where a text of a tool call sits in [`PackedTool::texts`]: start and length, or
/// [`ABSENT`].
type Span = (u32, u32);

const ABSENT: Span = (u32::MAX, 0);

macro_rules! packed_tool {
    (
        texts { $($text:ident $text_key:literal $scrub:ident,)* }
        flags { $($flag:ident $flag_key:literal,)* }
    ) => {
        /// The texts of a tool call, by their place in [`PackedTool::spans`].
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy)]
        enum Text {
            tool_name,
            tool_category,
            $($text,)*
            /// The custom dimensions' JSON object, parsed when the record is finished.
            dimensions,
        }

        const TEXTS: usize = Text::dimensions as usize + 1;

        /// A tool call, packed: what the calling thread queues.
        #[derive(Clone, Debug)]
        pub(crate) struct PackedTool {
            texts: String,
            spans: [Span; TEXTS],
            duration: Duration,
            success: bool,
            $($flag: Option<bool>,)*
        }

        impl PackedTool {
            /// A tool call's borrowed fields, packed: the macro's call, an emitted
            /// [`ToolExecuted`] or one recorded through the handle.
            pub(crate) fn from_fields(f: &ToolFields<'_>, dimensions: Option<&str>) -> Self {
                let texts = [
                    Some(f.tool_name),
                    Some(f.tool_category),
                    $(f.$text,)*
                    dimensions,
                ];
                let mut packed = PackedTool {
                    texts: String::with_capacity(texts.iter().flatten().map(|t| t.len()).sum()),
                    spans: [ABSENT; TEXTS],
                    duration: f.duration,
                    success: f.success,
                    $($flag: f.$flag,)*
                };
                for (slot, text) in texts.into_iter().enumerate() {
                    if let Some(text) = text {
                        packed.put(slot, text);
                    }
                }
                packed
            }

            /// The event, with a string of its own for each text.
            pub(crate) fn unpack(&self) -> ToolExecuted {
                let text = |slot: Text| self.text(slot as usize).map(str::to_owned);
                ToolExecuted {
                    tool_name: text(Text::tool_name).unwrap_or_default().into(),
                    tool_category: text(Text::tool_category).unwrap_or_default().into(),
                    duration: self.duration,
                    success: self.success,
                    $($text: text(Text::$text),)*
                    $($flag: self.$flag,)*
                    dimensions: self
                        .text(Text::dimensions as usize)
                        .and_then(|json| serde_json::from_str(json).ok())
                        .unwrap_or_default(),
                }
            }
        }
    };
}
tool_schema!(packed_tool);

impl PackedTool {
    /// Adds a text; one longer than 4 GiB is left out.
    fn put(&mut self, slot: usize, text: &str) {
        let (Ok(start), Ok(len)) = (u32::try_from(self.texts.len()), u32::try_from(text.len()))
        else {
            return;
        };
        self.texts.push_str(text);
        self.spans[slot] = (start, len);
    }

    fn text(&self, slot: usize) -> Option<&str> {
        let (start, len) = self.spans[slot];
        if start == u32::MAX {
            return None;
        }
        self.texts
            .get(start as usize..start as usize + len as usize)
    }

    pub(crate) fn success(&self) -> bool {
        self.success
    }

    /// The memory the texts hold, as the allocator's block for them.
    pub(crate) fn text_capacity(&self) -> usize {
        self.texts.capacity()
    }
}
