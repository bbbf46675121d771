//! A byte reader with lookahead and positions, over any `Read`: the scene readers pull bytes
//! one at a time from a fixed buffer, so a 20 MB scene is never held in memory whole.

use std::io::Read;

const BUF: usize = 64 * 1024;

/// Where a byte is: offset from the start of the file, 1-based line and column (in bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Pos {
    pub offset: u64,
    pub line: u32,
    pub column: u32,
}

pub(crate) struct Stream<R> {
    src: R,
    buf: Box<[u8]>,
    lo: usize,
    hi: usize,
    eof: bool,
    offset: u64,
    line: u32,
    line_start: u64,
}

impl<R: Read> Stream<R> {
    pub fn new(src: R) -> Stream<R> {
        Stream {
            src,
            buf: vec![0; BUF].into_boxed_slice(),
            lo: 0,
            hi: 0,
            eof: false,
            offset: 0,
            line: 1,
            line_start: 0,
        }
    }

    /// The position of the next byte.
    pub fn pos(&self) -> Pos {
        Pos {
            offset: self.offset,
            line: self.line,
            column: u32::try_from(self.offset - self.line_start + 1).unwrap_or(u32::MAX),
        }
    }

    fn fill(&mut self, need: usize) -> std::io::Result<()> {
        while self.hi - self.lo < need && !self.eof {
            if self.lo > 0 {
                self.buf.copy_within(self.lo..self.hi, 0);
                self.hi -= self.lo;
                self.lo = 0;
            }
            match self.src.read(&mut self.buf[self.hi..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.hi += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// The byte `k` places ahead (0 = next), without consuming it.
    pub fn peek_at(&mut self, k: usize) -> std::io::Result<Option<u8>> {
        if self.hi - self.lo <= k {
            self.fill(k + 1)?;
        }
        Ok((self.lo + k < self.hi).then(|| self.buf[self.lo + k]))
    }

    /// The next byte, without consuming it.
    pub fn peek(&mut self) -> std::io::Result<Option<u8>> {
        if self.lo < self.hi {
            return Ok(Some(self.buf[self.lo]));
        }
        self.peek_at(0)
    }

    /// Consumes and returns the next byte.
    pub fn bump(&mut self) -> std::io::Result<Option<u8>> {
        let c = self.peek()?;
        if let Some(c) = c {
            self.lo += 1;
            self.offset += 1;
            if c == b'\n' {
                self.line += 1;
                self.line_start = self.offset;
            }
        }
        Ok(c)
    }

    /// Skips bytes up to (not including) the next newline.
    pub fn skip_line(&mut self) -> std::io::Result<()> {
        while let Some(c) = self.peek()? {
            if c == b'\n' {
                break;
            }
            self.bump()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_lookahead_cross_buffer_refills() {
        let text: Vec<u8> = (0..200_000)
            .map(|i| if i % 10 == 9 { b'\n' } else { b'a' })
            .collect();
        let mut s = Stream::new(&text[..]);
        let mut n = 0u64;
        while s.peek().unwrap().is_some() {
            assert_eq!(s.peek_at(1).unwrap(), text.get(n as usize + 1).copied());
            s.bump().unwrap();
            n += 1;
        }
        assert_eq!(n, 200_000);
        assert_eq!(s.pos().line, 20_001);
    }
}
