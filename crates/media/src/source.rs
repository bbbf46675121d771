//! Bounded file access for the format parsers: the first bytes of a file (the "head"), its size,
//! and positioned reads. Every read is capped, so a hostile header that claims gigabytes of
//! attributes costs at most [`MAX_HEAD`] bytes of memory.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

/// Bytes read up front: small frames are read in one call, big ones pay one read for the header.
pub(crate) const INITIAL_HEAD: usize = 64 * 1024;
/// The most header bytes any parser may ask for (EXR previews and TIFF tag blocks stay below).
pub(crate) const MAX_HEAD: usize = 8 * 1024 * 1024;

/// Why a parser stopped: the verdict it reached.
#[derive(Debug)]
pub(crate) enum Fail {
    /// The file ends before the structure does.
    Truncated(String),
    /// The structure is impossible.
    Corrupt(String),
    /// The OS refused.
    Io(io::Error),
}

impl From<io::Error> for Fail {
    fn from(e: io::Error) -> Fail {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            Fail::Truncated("file ends inside a header structure".into())
        } else {
            Fail::Io(e)
        }
    }
}

/// Result type of the format parsers.
pub(crate) type PResult<T> = Result<T, Fail>;

/// An open file with its head cached.
pub(crate) struct Source {
    file: File,
    size: u64,
    head: Vec<u8>,
}

impl Source {
    /// Opens `path` and reads up to [`INITIAL_HEAD`] bytes.
    pub(crate) fn open(path: &Path) -> io::Result<Source> {
        // Refuse FIFOs, sockets and devices before opening: opening a FIFO blocks forever.
        if !std::fs::metadata(path)?.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file",
            ));
        }
        let file = File::open(path)?;
        let size = file.metadata()?.len();
        let mut src = Source {
            file,
            size,
            head: Vec::new(),
        };
        src.ensure_head(INITIAL_HEAD)?;
        Ok(src)
    }

    /// File size in bytes at open time.
    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// The cached first bytes (all of the file when it is small).
    pub(crate) fn head(&self) -> &[u8] {
        &self.head
    }

    /// True when the head holds the whole file.
    pub(crate) fn head_is_whole_file(&self) -> bool {
        self.head.len() as u64 >= self.size
    }

    /// Grows the head to `want` bytes (capped by the file size and [`MAX_HEAD`]). Returns false
    /// when the cap, not the file, stopped it.
    pub(crate) fn ensure_head(&mut self, want: usize) -> io::Result<bool> {
        let target = (want.min(MAX_HEAD) as u64).min(self.size) as usize;
        if target > self.head.len() {
            let start = self.head.len();
            self.head.resize(target, 0);
            self.file.seek(SeekFrom::Start(start as u64))?;
            let mut filled = start;
            while filled < target {
                let n = self.file.read(&mut self.head[filled..target])?;
                if n == 0 {
                    break;
                }
                filled += n;
            }
            self.head.truncate(filled);
        }
        Ok(want <= MAX_HEAD)
    }

    /// Reads exactly `buf.len()` bytes at `offset`, from the head when it covers them.
    /// A read past the end of the file is `UnexpectedEof`.
    pub(crate) fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let end = offset
            .checked_add(buf.len() as u64)
            .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "offset overflow"))?;
        if end <= self.head.len() as u64 {
            buf.copy_from_slice(&self.head[offset as usize..end as usize]);
            return Ok(());
        }
        if end > self.size {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "read past end of file",
            ));
        }
        self.file.seek(SeekFrom::Start(offset))?;
        self.file.read_exact(buf)
    }

    /// Reads `len` bytes at `offset` into a new buffer, refusing lengths above [`MAX_HEAD`].
    pub(crate) fn read_vec(&mut self, offset: u64, len: usize) -> PResult<Vec<u8>> {
        if len > MAX_HEAD {
            return Err(Fail::Corrupt(format!(
                "a {len}-byte structure at offset {offset} is larger than the {MAX_HEAD}-byte limit"
            )));
        }
        let mut v = vec![0u8; len];
        self.read_at(offset, &mut v)?;
        Ok(v)
    }

    /// A buffered reader from `offset`, for parsers that must walk a structure spread over the
    /// whole file (Radiance scanline runs) without holding it in memory.
    pub(crate) fn reader_at(&mut self, offset: u64) -> io::Result<io::BufReader<&mut File>> {
        self.file.seek(SeekFrom::Start(offset))?;
        Ok(io::BufReader::with_capacity(64 * 1024, &mut self.file))
    }

    /// The last `n` bytes of the file (fewer when the file is shorter).
    pub(crate) fn tail(&mut self, n: usize) -> io::Result<Vec<u8>> {
        let n = (n as u64).min(self.size) as usize;
        let mut v = vec![0u8; n];
        self.read_at(self.size - n as u64, &mut v)?;
        Ok(v)
    }
}

/// Byte order of a binary header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endian {
    /// Most significant byte first.
    Big,
    /// Least significant byte first.
    Little,
}

/// A bounds-checked cursor over a byte slice. Running off the end yields `None`, which each
/// parser turns into "truncated" or "need more bytes".
#[derive(Debug, Clone)]
pub(crate) struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    endian: Endian,
}

impl<'a> Cursor<'a> {
    /// A cursor at `pos` in `data`.
    pub(crate) fn new(data: &'a [u8], pos: usize, endian: Endian) -> Cursor<'a> {
        Cursor { data, pos, endian }
    }
    /// Current position.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }
    /// The next `n` bytes.
    pub(crate) fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let s = self.bytes(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Some(a)
    }
    /// One byte.
    pub(crate) fn u8(&mut self) -> Option<u8> {
        Some(self.bytes(1)?[0])
    }
    /// A 16-bit unsigned integer.
    pub(crate) fn u16(&mut self) -> Option<u16> {
        let a = self.array::<2>()?;
        Some(match self.endian {
            Endian::Big => u16::from_be_bytes(a),
            Endian::Little => u16::from_le_bytes(a),
        })
    }
    /// A 32-bit unsigned integer.
    pub(crate) fn u32(&mut self) -> Option<u32> {
        let a = self.array::<4>()?;
        Some(match self.endian {
            Endian::Big => u32::from_be_bytes(a),
            Endian::Little => u32::from_le_bytes(a),
        })
    }
    /// A 32-bit signed integer.
    pub(crate) fn i32(&mut self) -> Option<i32> {
        self.u32().map(|v| v as i32)
    }
    /// A 64-bit unsigned integer.
    pub(crate) fn u64(&mut self) -> Option<u64> {
        let a = self.array::<8>()?;
        Some(match self.endian {
            Endian::Big => u64::from_be_bytes(a),
            Endian::Little => u64::from_le_bytes(a),
        })
    }
    /// An IEEE single.
    pub(crate) fn f32(&mut self) -> Option<f32> {
        self.u32().map(f32::from_bits)
    }
    /// An IEEE double.
    pub(crate) fn f64(&mut self) -> Option<f64> {
        self.u64().map(f64::from_bits)
    }
    /// A NUL-terminated string of at most `max` bytes before the NUL. `Some(Err)` when no NUL
    /// appears within `max` bytes (a corrupt header), `None` when the data ends first.
    pub(crate) fn cstr(&mut self, max: usize) -> Option<Result<&'a str, ()>> {
        let rest = self.data.get(self.pos..)?;
        let window = &rest[..rest.len().min(max + 1)];
        match window.iter().position(|&b| b == 0) {
            Some(n) => {
                self.pos += n + 1;
                Some(std::str::from_utf8(&window[..n]).map_err(|_| ()))
            }
            None if rest.len() > max => Some(Err(())),
            None => None,
        }
    }
}

/// A fixed-size text field: up to the first NUL, control bytes and 0xFF fill dropped, trimmed.
/// Returns `None` for an empty (undefined) field.
pub(crate) fn fixed_str(bytes: &[u8]) -> Option<String> {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    let s: String = String::from_utf8_lossy(&bytes[..end])
        .chars()
        .filter(|c| !c.is_control() && *c != '\u{FFFD}')
        .collect();
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// Clips a metadata value so one absurd attribute cannot bloat the output.
pub(crate) fn clip(s: &str) -> String {
    const MAX: usize = 512;
    if s.len() <= MAX {
        return s.to_string();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_stops_at_end() {
        let d = [1u8, 2, 3];
        let mut c = Cursor::new(&d, 0, Endian::Big);
        assert_eq!(c.u16(), Some(0x0102));
        assert_eq!(c.u16(), None);
        assert_eq!(c.u8(), Some(3));
    }

    #[test]
    fn cstr_bounds() {
        let d = b"abc\0defg";
        let mut c = Cursor::new(d, 0, Endian::Little);
        assert_eq!(c.cstr(31), Some(Ok("abc")));
        assert_eq!(c.cstr(31), None, "no NUL yet: need more data");
        let mut c = Cursor::new(d, 4, Endian::Little);
        assert_eq!(c.cstr(2), Some(Err(())), "longer than the cap");
    }

    #[test]
    fn fixed_str_strips_fill() {
        assert_eq!(fixed_str(b"V2.0\0\0\0\0"), Some("V2.0".into()));
        assert_eq!(fixed_str(&[0xff; 8]), None);
        assert_eq!(fixed_str(&[0; 8]), None);
    }
}
