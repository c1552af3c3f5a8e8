//! A gzip writer that does no searching: the caller says which bytes repeat and where.
//!
//! A general compressor finds repeats by hashing every position of its input, which cost
//! more than writing the envelopes themselves. A batch of envelopes repeats the same long
//! stretches (the context's tags and properties, the constant keys) in every line, and
//! the envelope writer knows where each one starts and ends. [`GzipWriter`] writes what it
//! is given as literals or as copies of earlier output, in fixed-Huffman deflate blocks
//! (RFC 1951 §3.2.6) inside a gzip member (RFC 1952): about 1 byte per literal and 3 per
//! copy, at the speed of a table look-up per byte.
//!
//! ```text
//! GzipWriter::with_capacity(n)  → header, the start of a fixed-Huffman block
//! .literals(b"abc")             → one code per byte
//! .copy(3, 3)                   → one length/distance pair: 3 bytes seen 3 bytes back
//! .finish(crc32(b"abcabc"))     → end of block, an empty final block, CRC-32 and size
//! ```
//!
//! The CRC-32 comes from the caller, who holds the bytes in larger pieces than the writer
//! sees (hashing ~30 short pieces per envelope cost more than writing their codes).

/// How far back a copy can reach (the deflate window).
pub(crate) const WINDOW: usize = 32 * 1024;
/// The shortest copy deflate can express.
pub(crate) const MIN_COPY: usize = 3;
/// The longest copy one length code can express; longer copies are split.
const MAX_COPY: usize = 258;
/// The end-of-block symbol.
const END_OF_BLOCK: usize = 256;

/// A code as written to the stream: the bits (least significant first) and how many.
#[derive(Clone, Copy)]
struct Code {
    bits: u32,
    len: u32,
}

/// `code` of `len` bits, bit-reversed: Huffman codes are packed most significant bit first.
const fn reversed(code: u32, len: u32) -> u32 {
    code.reverse_bits() >> (32 - len)
}

/// The fixed literal/length code of each symbol (RFC 1951 §3.2.6).
const LITERAL_CODES: [Code; 288] = {
    let mut table = [Code { bits: 0, len: 0 }; 288];
    let mut symbol = 0;
    while symbol < 288 {
        let s = symbol as u32;
        let (code, len) = match symbol {
            0..=143 => (0x30 + s, 8),
            144..=255 => (0x190 + s - 144, 9),
            256..=279 => (s - 256, 7),
            _ => (0xC0 + s - 280, 8),
        };
        table[symbol] = Code {
            bits: reversed(code, len),
            len,
        };
        symbol += 1;
    }
    table
};

/// The first length of each length code 257..=285, and its extra bits.
const LENGTH_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LENGTH_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];

/// Each copy length 0..=258 written in full: its length code, then its extra bits.
/// Lengths below [`MIN_COPY`] are never looked up.
const LENGTH_CODES: [Code; MAX_COPY + 1] = {
    let mut table = [Code { bits: 0, len: 0 }; MAX_COPY + 1];
    let mut code = 0;
    while code < 29 {
        let base = LENGTH_BASE[code] as usize;
        let extra = LENGTH_EXTRA[code] as u32;
        let symbol = LITERAL_CODES[257 + code];
        let mut offset = 0;
        while offset < (1 << extra) && base + offset <= MAX_COPY {
            table[base + offset] = Code {
                bits: symbol.bits | ((offset as u32) << symbol.len),
                len: symbol.len + extra,
            };
            offset += 1;
        }
        code += 1;
    }
    table
};

/// The 5-bit distance codes 0..30, bit-reversed.
const DISTANCE_CODES: [u32; 30] = {
    let mut table = [0; 30];
    let mut code = 0;
    while code < 30 {
        table[code] = reversed(code as u32, 5);
        code += 1;
    }
    table
};

/// A distance 1..=32768 written in full: its 5-bit code, then its extra bits.
fn distance_code(distance: usize) -> Code {
    let d = (distance - 1) as u32;
    let (code, extra, value) = if d < 4 {
        (d, 0, 0)
    } else {
        // Codes come in pairs per power of two: the top two bits of `d` pick the code.
        let top = 31 - d.leading_zeros();
        (
            2 * top + ((d >> (top - 1)) & 1),
            top - 1,
            d & ((1 << (top - 1)) - 1),
        )
    };
    Code {
        bits: DISTANCE_CODES[code as usize] | (value << 5),
        len: 5 + extra,
    }
}

/// Writes a gzip member out of literals and copies; see the [module](self) documentation.
pub(crate) struct GzipWriter {
    /// The member so far: `out[..len]`; the rest is room, zeroed, so that a word is
    /// written with one bounds check instead of a `Vec` push.
    out: Vec<u8>,
    len: usize,
    /// Bits not yet written to `out`, least significant first; fewer than 32 between calls.
    bits: u64,
    count: u32,
    /// Bytes written so far, as the reader will see them (the pending copy included).
    written: u64,
    /// A copy not written yet: its distance and length so far.
    pending: Option<(usize, usize)>,
    /// The last distance written and its code (copies from the line before share one).
    last_far: Option<(usize, Code)>,
}

impl GzipWriter {
    /// A member with room for `capacity` bytes of output, its first block begun.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        let mut out = vec![0; capacity.max(64)];
        // Magic, deflate, no flags, no time, no extra flags, unknown OS.
        let header = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
        out[..header.len()].copy_from_slice(&header);
        let mut writer = Self {
            out,
            len: header.len(),
            bits: 0,
            count: 0,
            written: 0,
            pending: None,
            last_far: None,
        };
        // Not the last block; fixed Huffman codes (BTYPE 01, least significant bit first).
        writer.put(Code {
            bits: 0b010,
            len: 3,
        });
        writer
    }

    /// Bytes written so far (what a copy's distance is counted in).
    pub(crate) fn position(&self) -> u64 {
        self.written
    }

    /// Writes `bytes` as they are.
    pub(crate) fn literals(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.flush_copy();
        self.written += bytes.len() as u64;
        // Three codes of at most 9 bits fit beside the fewer than 32 bits kept.
        let mut triples = bytes.chunks_exact(3);
        for t in &mut triples {
            let (a, b, c) = (
                LITERAL_CODES[usize::from(t[0])],
                LITERAL_CODES[usize::from(t[1])],
                LITERAL_CODES[usize::from(t[2])],
            );
            self.bits |= u64::from(a.bits) << self.count;
            self.count += a.len;
            self.bits |= u64::from(b.bits) << self.count;
            self.count += b.len;
            self.bits |= u64::from(c.bits) << self.count;
            self.count += c.len;
            self.spill();
        }
        for &byte in triples.remainder() {
            self.put(LITERAL_CODES[usize::from(byte)]);
        }
    }

    /// Writes `len` bytes that repeat those written `distance` bytes before the current
    /// position.
    ///
    /// The caller guarantees `MIN_COPY <= len <= distance <= min(WINDOW, position())`;
    /// checked in debug builds. A copy that follows another from the same distance, with
    /// nothing between, extends it: stretches copied from the line before in a row become
    /// one copy (deflate lets a copy run past its distance, repeating what it wrote).
    pub(crate) fn copy(&mut self, distance: usize, len: usize) {
        debug_assert!(len >= MIN_COPY && len <= distance);
        debug_assert!(distance <= WINDOW && distance as u64 <= self.written);
        self.written += len as u64;
        match &mut self.pending {
            Some((d, pending)) if *d == distance => *pending += len,
            _ => {
                self.flush_copy();
                self.pending = Some((distance, len));
            }
        }
    }

    /// Writes the copy [`copy`](GzipWriter::copy) has been extending.
    fn flush_copy(&mut self) {
        let Some((distance, len)) = self.pending.take() else {
            return;
        };
        let far = match self.last_far {
            Some((d, far)) if d == distance => far,
            _ => {
                let far = distance_code(distance);
                self.last_far = Some((distance, far));
                far
            }
        };
        let mut left = len;
        while left > MAX_COPY {
            // Never leave a remainder shorter than deflate's shortest copy.
            let take = MAX_COPY.min(left - MIN_COPY);
            self.pair(LENGTH_CODES[take], far);
            left -= take;
        }
        self.pair(LENGTH_CODES[left], far);
    }

    /// A length code and a distance code, at most 13 + 18 bits, in one go.
    #[inline]
    fn pair(&mut self, length: Code, far: Code) {
        let both = u64::from(length.bits) | (u64::from(far.bits) << length.len);
        self.bits |= both << self.count;
        self.count += length.len + far.len;
        self.spill();
    }

    /// Ends the member and returns it. `crc` is the CRC-32 of every byte written.
    pub(crate) fn finish(mut self, crc: u32) -> Vec<u8> {
        self.flush_copy();
        self.put(LITERAL_CODES[END_OF_BLOCK]);
        // An empty last block (BFINAL 1, fixed codes), then its end.
        self.put(Code {
            bits: 0b011,
            len: 3,
        });
        self.put(LITERAL_CODES[END_OF_BLOCK]);
        let mut out = self.out;
        out.truncate(self.len);
        while self.count > 0 {
            out.push(self.bits as u8);
            self.bits >>= 8;
            self.count = self.count.saturating_sub(8);
        }
        out.extend_from_slice(&crc.to_le_bytes());
        // ISIZE is the length modulo 2^32.
        out.extend_from_slice(&(self.written as u32).to_le_bytes());
        out
    }

    #[inline]
    fn put(&mut self, code: Code) {
        self.bits |= u64::from(code.bits) << self.count;
        self.count += code.len;
        self.spill();
    }

    /// Moves whole 32-bit words of `bits` to `out`.
    #[inline]
    fn spill(&mut self) {
        if self.count >= 32 {
            if self.len + 4 > self.out.len() {
                self.grow();
            }
            self.out[self.len..self.len + 4].copy_from_slice(&(self.bits as u32).to_le_bytes());
            self.len += 4;
            self.bits >>= 32;
            self.count -= 32;
        }
    }

    #[cold]
    fn grow(&mut self) {
        self.out.resize(self.out.len() * 2, 0);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::Read;

    use super::*;

    /// Ends `gz`, which wrote `expected`.
    fn finish(gz: GzipWriter, expected: &[u8]) -> Vec<u8> {
        gz.finish(crc32fast::hash(expected))
    }

    /// What a gzip member decodes to (by flate2, not by anything written here).
    pub(crate) fn gunzip(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut out)
            .expect("a valid gzip member");
        out
    }

    #[test]
    fn literals_alone_round_trip() {
        for text in [&b""[..], b"a", b"ab", b"abc", b"{\"key\":\"value\"}\n"] {
            let mut gz = GzipWriter::with_capacity(0);
            gz.literals(text);
            assert_eq!(gunzip(&finish(gz, text)), text);
        }
        let every: Vec<u8> = (0..=255).collect();
        let mut gz = GzipWriter::with_capacity(0);
        gz.literals(&every);
        assert_eq!(gunzip(&finish(gz, &every)), every);
    }

    #[test]
    fn every_copy_length_round_trips() {
        let source: Vec<u8> = (0..2000u32).map(|i| (i * 7 % 251) as u8).collect();
        for len in MIN_COPY..=1000 {
            let mut gz = GzipWriter::with_capacity(0);
            gz.literals(&source[..len]);
            gz.copy(len, len);
            let mut expected = source[..len].to_vec();
            expected.extend_from_slice(&source[..len]);
            assert_eq!(
                gunzip(&finish(gz, &expected)),
                expected,
                "copy of {len} bytes"
            );
        }
    }

    #[test]
    fn every_distance_code_round_trips() {
        let source: Vec<u8> = (0..WINDOW as u32).map(|i| (i * 131 % 253) as u8).collect();
        let distances = (3..300).chain((300..=WINDOW).step_by(97)).chain([WINDOW]);
        for distance in distances {
            let mut gz = GzipWriter::with_capacity(0);
            gz.literals(&source[..distance]);
            gz.copy(distance, 3);
            let mut expected = source[..distance].to_vec();
            expected.extend_from_slice(&source[..3]);
            assert_eq!(
                gunzip(&finish(gz, &expected)),
                expected,
                "distance {distance}"
            );
        }
    }

    #[test]
    fn random_mixes_round_trip_and_report_their_length() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        for _ in 0..200 {
            let mut gz = GzipWriter::with_capacity(0);
            let mut expected: Vec<u8> = Vec::new();
            for _ in 0..next(60) {
                let can_copy = expected.len() >= MIN_COPY;
                if can_copy && next(2) == 0 {
                    let distance = 1 + next(expected.len().min(WINDOW) as u64) as usize;
                    let distance = distance.max(MIN_COPY);
                    let len = MIN_COPY + next((distance - MIN_COPY + 1) as u64) as usize;
                    let start = expected.len() - distance;
                    let bytes = expected[start..start + len].to_vec();
                    gz.copy(distance, len);
                    expected.extend_from_slice(&bytes);
                } else {
                    let bytes: Vec<u8> = (0..next(40)).map(|_| next(256) as u8).collect();
                    gz.literals(&bytes);
                    expected.extend_from_slice(&bytes);
                }
                assert_eq!(gz.position(), expected.len() as u64);
            }
            assert_eq!(gunzip(&finish(gz, &expected)), expected);
        }
    }

    #[test]
    fn copies_in_a_row_from_one_distance_become_one() {
        let line = b"0123456789abcdefghij";
        let mut merged = GzipWriter::with_capacity(0);
        merged.literals(line);
        for piece in [3, 5, 4, 8] {
            merged.copy(line.len(), piece);
        }
        let mut single = GzipWriter::with_capacity(0);
        single.literals(line);
        single.copy(line.len(), line.len());
        let merged = finish(merged, &line.repeat(2));
        assert_eq!(merged, finish(single, &line.repeat(2)));
        assert_eq!(gunzip(&merged), line.repeat(2));
        // Two lines' worth in a row: a copy longer than its distance.
        let mut long = GzipWriter::with_capacity(0);
        long.literals(line);
        long.copy(line.len(), line.len());
        long.copy(line.len(), line.len());
        long.copy(7, 7);
        let mut expected = line.repeat(3);
        expected.extend_from_slice(&line[13..]);
        assert_eq!(gunzip(&finish(long, &expected)), expected);
    }

    #[test]
    fn repeated_stretches_cost_a_few_bytes() {
        let line = br#"{"tags":{"ai.session.id":"2cab4bd3-02a7-470c-9068-7d9b4ff0111b"}}"#;
        let mut gz = GzipWriter::with_capacity(0);
        gz.literals(line);
        for _ in 0..100 {
            gz.copy(line.len(), line.len());
        }
        let bytes = finish(gz, &line.repeat(101));
        assert!(bytes.len() < line.len() + 100 * 4, "{} bytes", bytes.len());
        assert_eq!(gunzip(&bytes), line.repeat(101));
    }
}
