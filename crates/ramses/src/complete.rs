//! Knowing when a reply is complete. The daemon sends one JSON value with no terminator and
//! leaves the socket open, so the reader must recognise the end of the value itself: a
//! streaming scan over the bytes as they arrive (split anywhere, even inside a string escape or
//! a multi-byte character), with no size limit. The full parse happens once, at the end.

/// Where a scan stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scan {
    /// More bytes are needed.
    Incomplete,
    /// The value ends just before this offset (anything after it is ignored).
    Complete(usize),
    /// Not the start of a JSON object or array: the first unexpected byte and its offset.
    Invalid(usize, u8),
}

/// Incremental scanner for one top-level JSON object or array.
#[derive(Debug, Default, Clone)]
pub struct JsonScanner {
    seen: usize,
    depth: usize,
    started: bool,
    in_string: bool,
    escaped: bool,
    done: Option<usize>,
}

impl JsonScanner {
    /// A scanner at the start of a reply.
    pub fn new() -> JsonScanner {
        JsonScanner::default()
    }

    /// Feeds the next bytes; returns where the scan stands. Once complete, further bytes are
    /// ignored (a trailing newline or whitespace terminator is fine).
    pub fn feed(&mut self, bytes: &[u8]) -> Scan {
        if let Some(end) = self.done {
            return Scan::Complete(end);
        }
        for (i, &b) in bytes.iter().enumerate() {
            let at = self.seen + i;
            if !self.started {
                match b {
                    b' ' | b'\t' | b'\r' | b'\n' => continue,
                    // A UTF-8 byte order mark some Windows tools prepend.
                    0xEF | 0xBB | 0xBF if at < 3 => continue,
                    b'{' | b'[' => {
                        self.started = true;
                        self.depth = 1;
                        continue;
                    }
                    other => return Scan::Invalid(at, other),
                }
            }
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth -= 1;
                    if self.depth == 0 {
                        self.done = Some(at + 1);
                        self.seen += bytes.len();
                        return Scan::Complete(at + 1);
                    }
                }
                _ => {}
            }
        }
        self.seen += bytes.len();
        Scan::Incomplete
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_in_pieces(text: &[u8], piece: usize) -> Scan {
        let mut s = JsonScanner::new();
        let mut last = Scan::Incomplete;
        for chunk in text.chunks(piece) {
            last = s.feed(chunk);
            if last != Scan::Incomplete {
                return last;
            }
        }
        last
    }

    #[test]
    fn finds_the_end_however_the_bytes_are_split() {
        let text = br#"  {"a": "x}\"{[", "b": [1, {"c": "\\"}], "d": "h\u00e9 ]"}  
"#;
        let end = text.iter().rposition(|&b| b == b'}').unwrap() + 1;
        for piece in 1..text.len() {
            assert_eq!(scan_in_pieces(text, piece), Scan::Complete(end), "{piece}");
        }
        assert_eq!(scan_in_pieces(br#"{"a": "}"#, 3), Scan::Incomplete);
        assert_eq!(scan_in_pieces(b"<html>", 3), Scan::Invalid(0, b'<'));
        assert_eq!(scan_in_pieces(b"\xEF\xBB\xBF[1]", 1), Scan::Complete(6));
    }

    #[test]
    fn big_replies_have_no_limit() {
        let mut text = String::from("{\"objects\": [");
        for i in 0..50_000 {
            text.push_str(&format!(
                "{{\"uuid\": \"{i}\", \"data\": \"{{\\\"x\\\": {i}}}\"}},"
            ));
        }
        text.push_str("{}]}");
        assert!(text.len() > 1_000_000);
        assert_eq!(
            scan_in_pieces(text.as_bytes(), 65_536),
            Scan::Complete(text.len())
        );
    }
}
