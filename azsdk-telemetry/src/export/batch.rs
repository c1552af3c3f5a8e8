//! A batch of envelope lines, kept back to back in one buffer, and its request body.
//!
//! Envelope writers that know their structure [mark](Marks) the stretches of each line
//! that tend to repeat: the context's tags and properties, the constant keys, a tool's
//! arguments. [`Batch::gzip`] then writes each marked stretch as a copy of the last
//! stretch with the same slot (as far as the two agree) instead of searching for repeats,
//! which costs a fraction of a general compressor's time for a somewhat larger body. Lines
//! without marks (read back from the spool, or from an [`Exportable`](super::Exportable)
//! that does not mark) are compressed by searching, with flate2.

use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;

use super::gzip::{GzipWriter, MIN_COPY, WINDOW};

/// How many slots [`Marks::mark`] tells apart; higher slots share the last one.
pub const SLOTS: u8 = 64;

/// Copies shorter than this are written as literals: a copy costs about 2.5 bytes, a
/// literal 1.
const MIN_WORTH: usize = 4;

/// Where an envelope line divides into stretches, and which earlier stretch each one
/// probably repeats. Filled by
/// [`Exportable::write_envelope_marked`](super::Exportable::write_envelope_marked); an
/// implementation detail of the exporter, not a stable API.
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct Marks {
    marks: Vec<Mark>,
}

#[derive(Debug, Clone, Copy)]
struct Mark {
    /// Where the stretch ends, as an offset in the buffer being written.
    end: usize,
    slot: u8,
    /// `Some(start)`: not a stretch of its own but `start..end`, written already (as
    /// other stretches), to remember as the last stretch with `slot`.
    alias: Option<usize>,
}

impl Marks {
    /// The stretch since the previous mark (or the start of the line) ends at `end`, the
    /// length of the output buffer after writing it. Slot 0 means "repeats nothing" (an
    /// id); any other slot means "probably starts like the last stretch marked with this
    /// slot". Marks that do not move forward are ignored when the batch is encoded.
    pub fn mark(&mut self, end: usize, slot: u8) {
        self.marks.push(Mark {
            end,
            slot: slot.min(SLOTS - 1),
            alias: None,
        });
    }

    /// `start..end`, already written and marked as stretches of their own, is to be
    /// remembered as the last stretch with `slot` (a later stretch that repeats the whole
    /// of it becomes one copy). Ignored unless it lies in the line, before this call.
    pub fn remember(&mut self, start: usize, end: usize, slot: u8) {
        self.marks.push(Mark {
            end,
            slot: slot.min(SLOTS - 1),
            alias: Some(start),
        });
    }
}

/// Where one line ends in the batch's text, and where its marks end.
#[derive(Debug, Clone, Copy)]
struct LineEnd {
    text: usize,
    marks: usize,
}

/// Envelope lines, in order, with their marks.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    text: Vec<u8>,
    marks: Marks,
    lines: Vec<LineEnd>,
}

/// A stretch seen earlier in the body being written.
#[derive(Clone, Copy)]
struct Seen {
    /// Its position in the uncompressed body.
    at: u64,
    /// Where its bytes are in the batch's text.
    start: usize,
    end: usize,
}

impl Batch {
    /// Lines in the batch.
    pub(crate) fn len(&self) -> usize {
        self.lines.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Bytes of text held (what the batch costs in memory, roughly).
    pub(crate) fn text_capacity(&self) -> usize {
        self.text.capacity()
    }

    /// Empties the batch, keeping its buffers.
    pub(crate) fn clear(&mut self) {
        self.text.clear();
        self.marks.marks.clear();
        self.lines.clear();
    }

    /// Appends the line `write` writes. When `write` returns `false` what it wrote is
    /// taken back and the batch is as before.
    pub(crate) fn push(&mut self, write: impl FnOnce(&mut Vec<u8>, &mut Marks) -> bool) -> bool {
        let (text, marks) = (self.text.len(), self.marks.marks.len());
        if write(&mut self.text, &mut self.marks) {
            self.lines.push(LineEnd {
                text: self.text.len(),
                marks: self.marks.marks.len(),
            });
            true
        } else {
            self.text.truncate(text);
            self.marks.marks.truncate(marks);
            false
        }
    }

    /// A batch of these lines, unmarked.
    pub(crate) fn from_lines<'a>(lines: impl IntoIterator<Item = &'a [u8]>) -> Self {
        let mut batch = Self::default();
        for line in lines {
            batch.push(|text, _| {
                text.extend_from_slice(line);
                true
            });
        }
        batch
    }

    /// The lines, in order.
    pub(crate) fn lines(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        (0..self.lines.len()).map(|i| &self.text[self.span(i).0])
    }

    /// Line `i`'s text and marks.
    fn span(&self, i: usize) -> (std::ops::Range<usize>, &[Mark]) {
        let start = i
            .checked_sub(1)
            .map_or(LineEnd { text: 0, marks: 0 }, |p| self.lines[p]);
        let end = self.lines[i];
        (
            start.text..end.text,
            &self.marks.marks[start.marks..end.marks],
        )
    }

    /// The lines at `indices` (each once, in order; indices past the end are ignored),
    /// with their marks.
    pub(crate) fn select(&self, indices: &[usize]) -> Batch {
        let mut indices: Vec<usize> = indices
            .iter()
            .copied()
            .filter(|&i| i < self.len())
            .collect();
        indices.sort_unstable();
        indices.dedup();
        let mut picked = Batch::default();
        for i in indices {
            let (range, marks) = self.span(i);
            picked.push(|text, out| {
                let shift = text.len() as isize - range.start as isize;
                text.extend_from_slice(&self.text[range.clone()]);
                out.marks.extend(marks.iter().map(|m| Mark {
                    end: m.end.saturating_add_signed(shift),
                    slot: m.slot,
                    alias: m.alias.map(|a| a.saturating_add_signed(shift)),
                }));
                true
            });
        }
        picked
    }

    /// The request body: the lines joined by `\n` (`application/x-json-stream`), gzipped.
    ///
    /// # Errors
    /// Never in practice: flate2 writing to memory (for unmarked lines) cannot fail.
    pub(crate) fn gzip(&self) -> std::io::Result<Vec<u8>> {
        if self.marks.marks.is_empty() {
            return self.gzip_by_search();
        }
        let mut gz = GzipWriter::with_capacity(self.text.len() / 16 + 64);
        let mut seen: [Option<Seen>; SLOTS as usize] = [None; SLOTS as usize];
        let mut crc = crc32fast::Hasher::new();
        for i in 0..self.len() {
            if i > 0 {
                gz.literals(b"\n");
                crc.update(b"\n");
            }
            let (range, marks) = self.span(i);
            crc.update(&self.text[range.clone()]);
            let line_at = gz.position();
            let mut start = range.start;
            for mark in marks {
                if let Some(from) = mark.alias {
                    if range.start <= from && from < mark.end && mark.end <= start {
                        seen[usize::from(mark.slot)] = Some(Seen {
                            at: line_at + (from - range.start) as u64,
                            start: from,
                            end: mark.end,
                        });
                    }
                    continue;
                }
                let end = mark.end.min(range.end);
                if end <= start {
                    continue;
                }
                self.stretch(&mut gz, &mut seen, start..end, mark.slot);
                start = end;
            }
            gz.literals(&self.text[start..range.end]);
        }
        Ok(gz.finish(crc.finalize()))
    }

    /// Writes `range` as a copy of as much of the last stretch with `slot` as it repeats,
    /// then the rest as literals.
    fn stretch(
        &self,
        gz: &mut GzipWriter,
        seen: &mut [Option<Seen>],
        range: std::ops::Range<usize>,
        slot: u8,
    ) {
        let bytes = &self.text[range.clone()];
        if slot == 0 {
            gz.literals(bytes);
            return;
        }
        let at = gz.position();
        let mut copied = 0;
        if let Some(last) = seen[usize::from(slot)] {
            let distance = (at - last.at) as usize;
            if distance <= WINDOW {
                let common = common_prefix(bytes, &self.text[last.start..last.end]);
                if common >= MIN_WORTH.max(MIN_COPY) {
                    gz.copy(distance, common);
                    copied = common;
                }
            }
        }
        gz.literals(&bytes[copied..]);
        seen[usize::from(slot)] = Some(Seen {
            at,
            start: range.start,
            end: range.end,
        });
    }

    /// Lines without marks: flate2's fastest level, which searches for repeats itself.
    fn gzip_by_search(&self) -> std::io::Result<Vec<u8>> {
        let mut gz = GzEncoder::new(
            Vec::with_capacity(self.text.len() / 8 + 64),
            Compression::fast(),
        );
        // flate2 clears its whole output buffer on each write: the lines go in as one.
        let mut joined = Vec::with_capacity(self.text.len() + self.len());
        for (i, line) in self.lines().enumerate() {
            if i > 0 {
                joined.push(b'\n');
            }
            joined.extend_from_slice(line);
        }
        gz.write_all(&joined)?;
        gz.finish()
    }
}

/// How many leading bytes `a` and `b` share.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    // Long stretches (the context's) are most often the same: one `memcmp` says so.
    if n >= 32 && a[..n] == b[..n] {
        return n;
    }
    let mut i = 0;
    while i + 8 <= n {
        let x = u64::from_le_bytes(a[i..i + 8].try_into().unwrap_or_default());
        let y = u64::from_le_bytes(b[i..i + 8].try_into().unwrap_or_default());
        if x != y {
            return i + ((x ^ y).trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < n && a[i] == b[i] {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::super::gzip::tests::gunzip;
    use super::*;

    /// Pushes a line made of `(text, slot)` stretches, each marked.
    fn push_marked(batch: &mut Batch, stretches: &[(&str, u8)]) {
        batch.push(|text, marks| {
            for (s, slot) in stretches {
                text.extend_from_slice(s.as_bytes());
                marks.mark(text.len(), *slot);
            }
            true
        });
    }

    fn joined(batch: &Batch) -> Vec<u8> {
        batch.lines().collect::<Vec<_>>().join(&b'\n')
    }

    #[test]
    fn common_prefix_counts_shared_leading_bytes() {
        assert_eq!(common_prefix(b"", b"abc"), 0);
        assert_eq!(common_prefix(b"abc", b"abd"), 2);
        assert_eq!(common_prefix(b"abcdefghijkl", b"abcdefghijkl"), 12);
        assert_eq!(common_prefix(b"abcdefghijXl", b"abcdefghijkl"), 10);
        assert_eq!(common_prefix(b"abcdefgh", b"abcdefghij"), 8);
    }

    #[test]
    fn marked_lines_decode_to_the_lines_joined() {
        let mut batch = Batch::default();
        for i in 0..300 {
            let time = format!("2026-11-22T04:07:{:02}.{i:06}Z", i % 60);
            let id = format!("{:032x}", (i as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let tool = ["generate", "build", "x"][i % 3];
            push_marked(
                &mut batch,
                &[
                    ("{\"ver\":1,\"time\":\"", 1),
                    (&time, 2),
                    ("\",\"tags\":{\"ai.session.id\":\"2cab4bd3\"},\"id\":\"", 3),
                    (&id, 0),
                    ("\",\"toolName\":\"", 4),
                    (tool, 5),
                    ("\"}", 6),
                ],
            );
        }
        let body = batch.gzip().unwrap();
        assert_eq!(gunzip(&body), joined(&batch));
        let plain = joined(&batch).len();
        assert!(body.len() * 2 < plain, "{} of {plain} bytes", body.len());
    }

    #[test]
    fn marks_that_lie_only_cost_size() {
        // Slots that never repeat, marks out of order or past the line: still exact.
        let mut batch = Batch::default();
        batch.push(|text, marks| {
            text.extend_from_slice(b"first line");
            marks.mark(5, 7);
            marks.mark(3, 7);
            marks.mark(1000, 9);
            true
        });
        batch.push(|text, marks| {
            text.extend_from_slice(b"second, entirely different");
            marks.mark(text.len(), 7);
            marks.mark(text.len(), 200);
            true
        });
        push_marked(&mut batch, &[("first line", 7), ("", 3)]);
        assert_eq!(gunzip(&batch.gzip().unwrap()), joined(&batch));
    }

    #[test]
    fn a_remembered_range_is_copied_whole() {
        let mut batch = Batch::default();
        batch.push(|text, marks| {
            text.extend_from_slice(b"id=");
            marks.mark(text.len(), 0);
            let id = text.len();
            for piece in ["0123abcd", "-", "4567ef01"] {
                text.extend_from_slice(piece.as_bytes());
                marks.mark(text.len(), 0);
            }
            marks.remember(id, text.len(), 5);
            // Out of the line, or ahead of what is written: ignored.
            marks.remember(id, text.len() + 10, 6);
            marks.remember(0, 1, 7);
            text.extend_from_slice(b" again=0123abcd-4567ef01");
            marks.mark(text.len() - 17, 0);
            marks.mark(text.len(), 5);
            true
        });
        let body = batch.gzip().unwrap();
        assert_eq!(gunzip(&body), joined(&batch));
        let mut alone = Batch::default();
        alone.push(|text, marks| {
            text.extend_from_slice(b"id=0123abcd-4567ef01 again=0123abcd-4567ef01");
            marks.mark(text.len(), 0);
            true
        });
        assert!(body.len() + 10 < alone.gzip().unwrap().len());
    }

    #[test]
    fn copies_reach_only_as_far_as_the_window() {
        let filler = "x".repeat(WINDOW);
        let mut batch = Batch::default();
        push_marked(&mut batch, &[("a long stretch that repeats", 1)]);
        push_marked(&mut batch, &[(&filler, 0)]);
        push_marked(&mut batch, &[("a long stretch that repeats", 1)]);
        assert_eq!(gunzip(&batch.gzip().unwrap()), joined(&batch));
    }

    #[test]
    fn unmarked_lines_are_compressed_by_search() {
        let lines: Vec<Vec<u8>> = (0..50)
            .map(|i| format!("{{\"line\":{i},\"same\":\"{}\"}}", "y".repeat(100)).into_bytes())
            .collect();
        let batch = Batch::from_lines(lines.iter().map(Vec::as_slice));
        let body = batch.gzip().unwrap();
        assert_eq!(gunzip(&body), lines.join(&b'\n'));
        assert!(body.len() * 10 < lines.concat().len());
        assert_eq!(gunzip(&Batch::default().gzip().unwrap()), b"");
    }

    #[test]
    fn a_failed_write_leaves_the_batch_as_it_was() {
        let mut batch = Batch::default();
        push_marked(&mut batch, &[("kept", 1)]);
        assert!(!batch.push(|text, marks| {
            text.extend_from_slice(b"half");
            marks.mark(text.len(), 1);
            false
        }));
        assert_eq!(batch.len(), 1);
        assert_eq!(batch.lines().collect::<Vec<_>>(), vec![&b"kept"[..]]);
        assert_eq!(batch.marks.marks.len(), 1);
    }

    #[test]
    fn select_keeps_chosen_lines_with_their_marks() {
        let mut batch = Batch::default();
        for word in ["zero", "one", "two", "three"] {
            push_marked(&mut batch, &[("{\"word\":\"", 1), (word, 2), ("\"}", 3)]);
        }
        let picked = batch.select(&[3, 1, 1, 9]);
        assert_eq!(
            picked.lines().collect::<Vec<_>>(),
            vec![&b"{\"word\":\"one\"}"[..], b"{\"word\":\"three\"}"]
        );
        assert_eq!(picked.marks.marks.len(), 6);
        assert_eq!(gunzip(&picked.gzip().unwrap()), joined(&picked));
    }
}
