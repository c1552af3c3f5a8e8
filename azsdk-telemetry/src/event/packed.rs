//! A tool call as the calling thread hands it to a sink: its texts in one shared
//! allocation, the rest held in the record itself.
//!
//! A call's texts (name, category, arguments, dimensions, ...) are written one after
//! another into the thread's scratch string (warm, and already large enough), then copied
//! once into an `Arc<str>` of their exact size; where each text ends is kept beside it.
//! Packing costs the calling thread one allocation whatever the number of texts, and a
//! clone (one per telemetry layer, one per sink of a fan-out) costs a count. The rest of
//! the call (the ends, the duration, the flags) travels inside the record, so a queued call
//! is one slot of the queue and one block of text. The record becomes a [`ToolExecuted`]
//! when [`PendingRecord::finish`](crate::PendingRecord::finish) runs, on the exporter's
//! worker.

use std::cell::Cell;
use std::sync::Arc;
use std::time::Duration;

use super::tool::{tool_schema, ToolFields};
use super::ToolExecuted;

thread_local! {
    /// The calling thread's text buffer for packing a tool call.
    static SCRATCH: Cell<String> = const { Cell::new(String::new()) };
}

/// A scratch text larger than this (a call with a huge text) is not kept for the next.
const SCRATCH_MAX_CAPACITY: usize = 16 * 1024;

macro_rules! packed_tool {
    (
        texts { $($text:ident $text_key:literal $scrub:ident,)* }
        flags { $($flag:ident $flag_key:literal,)* }
    ) => {
        /// The texts of a tool call, in the order they are packed.
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
        const _: () = assert!(TEXTS <= u16::BITS as usize, "one bit of `present` per text");

        /// A tool call, packed: what the calling thread queues.
        #[derive(Clone, Debug)]
        pub(crate) struct PackedTool {
            texts: Arc<str>,
            /// Where each text ends in `texts` (it starts where the one before ends).
            ends: [u32; TEXTS],
            /// Which texts are there, one bit per [`Text`].
            present: u16,
            duration: Duration,
            success: bool,
            $($flag: Option<bool>,)*
        }

        impl PackedTool {
            /// A tool call's borrowed fields, packed: the macro's call, an emitted
            /// [`ToolExecuted`] or one recorded through the handle. `dimensions` is the
            /// custom dimensions' JSON.
            pub(crate) fn from_fields(f: &ToolFields<'_>, dimensions: Option<&str>) -> Self {
                let texts = [
                    Some(f.tool_name),
                    Some(f.tool_category),
                    $(f.$text,)*
                    dimensions,
                ];
                let mut scratch = SCRATCH.take();
                let mut ends = [0; TEXTS];
                let mut present = 0;
                for (slot, text) in texts.into_iter().enumerate() {
                    match text {
                        // A text that would take the block past 4 GiB is left out.
                        Some(text) if scratch.len() + text.len() <= u32::MAX as usize => {
                            scratch.push_str(text);
                            present |= 1 << slot;
                        }
                        _ => {}
                    }
                    ends[slot] = scratch.len() as u32;
                }
                let packed = PackedTool {
                    texts: Arc::from(scratch.as_str()),
                    ends,
                    present,
                    duration: f.duration,
                    success: f.success,
                    $($flag: f.$flag,)*
                };
                if scratch.capacity() <= SCRATCH_MAX_CAPACITY {
                    scratch.clear();
                    SCRATCH.set(scratch);
                }
                packed
            }

            /// The texts and flags, borrowed.
            fn fields(&self) -> ToolFields<'_> {
                let text = |slot: Text| self.text(slot as usize);
                ToolFields {
                    tool_name: text(Text::tool_name).unwrap_or_default(),
                    tool_category: text(Text::tool_category).unwrap_or_default(),
                    duration: self.duration,
                    success: self.success,
                    $($text: text(Text::$text),)*
                    $($flag: self.$flag,)*
                }
            }

            /// The custom dimensions' JSON object, if any.
            fn dimensions(&self) -> Option<&str> {
                self.text(Text::dimensions as usize)
            }

            /// The event, with a string of its own for each text.
            pub(crate) fn unpack(&self) -> ToolExecuted {
                let f = self.fields();
                let text = |text: Option<&str>| text.map(str::to_owned);
                ToolExecuted {
                    tool_name: f.tool_name.to_owned().into(),
                    tool_category: f.tool_category.to_owned().into(),
                    duration: self.duration,
                    success: self.success,
                    $($text: text(f.$text),)*
                    $($flag: self.$flag,)*
                    dimensions: self
                        .dimensions()
                        .and_then(|json| serde_json::from_str(json).ok())
                        .unwrap_or_default(),
                }
            }
        }
    };
}
tool_schema!(packed_tool);

impl PackedTool {
    fn text(&self, slot: usize) -> Option<&str> {
        if self.present & (1 << slot) == 0 {
            return None;
        }
        let start = slot.checked_sub(1).map_or(0, |before| self.ends[before]);
        self.texts.get(start as usize..self.ends[slot] as usize)
    }

    pub(crate) fn success(&self) -> bool {
        self.success
    }

    /// The length of the shared text block's texts.
    pub(crate) fn text_len(&self) -> usize {
        self.texts.len()
    }
}
