//! A batch: envelope lines in one buffer, and the request body they make
//! (`application/x-json-stream`, gzipped by flate2).

use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;

/// Envelope lines, each followed by `\n` in one buffer.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    text: Vec<u8>,
    /// Where each line ends (its `\n` excluded).
    ends: Vec<usize>,
}

impl Batch {
    /// Lines held.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Appends a line written by `write`; a write that fails (`false`) leaves the batch as
    /// it was. Returns what `write` returned.
    pub(crate) fn push(&mut self, write: impl FnOnce(&mut Vec<u8>) -> bool) -> bool {
        let start = self.text.len();
        if !write(&mut self.text) {
            self.text.truncate(start);
            return false;
        }
        self.ends.push(self.text.len());
        self.text.push(b'\n');
        true
    }

    /// A batch of these lines.
    pub(crate) fn from_lines<'a>(lines: impl IntoIterator<Item = &'a [u8]>) -> Self {
        let mut batch = Batch::default();
        for line in lines {
            batch.push(|text| {
                text.extend_from_slice(line);
                true
            });
        }
        batch
    }

    /// The lines, in order.
    pub(crate) fn lines(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        self.ends.iter().enumerate().map(|(i, &end)| {
            let start = if i == 0 { 0 } else { self.ends[i - 1] + 1 };
            &self.text[start..end]
        })
    }

    /// The line pushed last, if any.
    pub(crate) fn last_line(&self) -> Option<&[u8]> {
        let (&end, before) = self.ends.split_last()?;
        let start = before.last().map_or(0, |&end| end + 1);
        Some(&self.text[start..end])
    }

    /// The lines at `indices` (in range, in the order given), as a new batch.
    pub(crate) fn select(&self, indices: &[usize]) -> Batch {
        let lines: Vec<&[u8]> = self.lines().collect();
        Batch::from_lines(indices.iter().filter_map(|&i| lines.get(i).copied()))
    }

    /// The request body: the lines joined by `\n`, gzipped.
    ///
    /// # Errors
    /// Never in practice: flate2 writing to memory cannot fail.
    pub(crate) fn gzip(&self) -> std::io::Result<Vec<u8>> {
        let joined = &self.text[..self.text.len().saturating_sub(1)];
        let mut gz = GzEncoder::new(
            Vec::with_capacity(joined.len() / 8 + 64),
            Compression::fast(),
        );
        gz.write_all(joined)?;
        gz.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn gunzip(body: &[u8]) -> String {
        let mut text = String::new();
        flate2::read::GzDecoder::new(body)
            .read_to_string(&mut text)
            .unwrap();
        text
    }

    #[test]
    fn the_body_is_the_lines_joined_by_newlines() {
        let batch = Batch::from_lines([&b"{\"a\":1}"[..], b"{}", b"{\"b\":\"\\n\"}"]);
        assert_eq!(batch.len(), 3);
        assert_eq!(
            gunzip(&batch.gzip().unwrap()),
            "{\"a\":1}\n{}\n{\"b\":\"\\n\"}"
        );
        assert_eq!(gunzip(&Batch::default().gzip().unwrap()), "");
    }

    #[test]
    fn a_failed_write_leaves_the_batch_as_it_was() {
        let mut batch = Batch::from_lines([&b"one"[..]]);
        assert!(!batch.push(|text| {
            text.extend_from_slice(b"half");
            false
        }));
        assert_eq!(batch.lines().collect::<Vec<_>>(), [&b"one"[..]]);
        assert_eq!(batch.last_line(), Some(&b"one"[..]));
        assert_eq!(gunzip(&batch.gzip().unwrap()), "one");
    }

    #[test]
    fn the_last_line_is_the_one_pushed_last() {
        assert_eq!(Batch::default().last_line(), None);
        let batch = Batch::from_lines([&b"a"[..], b"", b"ccc"]);
        assert_eq!(batch.last_line(), Some(&b"ccc"[..]));
        assert_eq!(
            Batch::from_lines([&b"a"[..], b""]).last_line(),
            Some(&b""[..])
        );
    }

    #[test]
    fn select_keeps_the_chosen_lines_and_ignores_indices_out_of_range() {
        let batch = Batch::from_lines([&b"a"[..], b"b", b"c"]);
        let picked = batch.select(&[2, 0, 9]);
        assert_eq!(picked.lines().collect::<Vec<_>>(), [&b"c"[..], b"a"]);
    }
}
