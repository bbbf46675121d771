//! A size-capped task log: a renderer printing 100 MB must not leave a 100 MB log. The first
//! half of the cap goes to the file as it comes (the command line, the renderer's banner and
//! settings); the rest is a ring of the latest output (the error that ended it), written after
//! a marker line saying how many bytes were dropped in between.

use std::collections::VecDeque;
use std::io::Write;

/// Writes a task's output to its log, keeping head and tail within `max_bytes`.
pub struct CappedLog {
    file: std::fs::File,
    /// Bytes still allowed straight to the file.
    head_left: u64,
    /// The latest output once the head is full, at most `tail_max` bytes.
    tail: VecDeque<u8>,
    tail_max: usize,
    dropped: u64,
    max_bytes: u64,
    /// The first write error; later writes are skipped and [`CappedLog::finish`] reports it.
    error: Option<std::io::Error>,
}

impl CappedLog {
    /// A log writing to `file`, capped at `max_bytes` (0: no cap).
    pub fn new(file: std::fs::File, max_bytes: u64) -> CappedLog {
        let (head, tail) = match max_bytes {
            0 => (u64::MAX, 0),
            m => (m - m / 2, m / 2),
        };
        CappedLog {
            file,
            head_left: head,
            tail: VecDeque::new(),
            // The ring lives in memory: bounded by the cap, itself bounded at config load.
            tail_max: usize::try_from(tail).unwrap_or(usize::MAX),
            dropped: 0,
            max_bytes,
            error: None,
        }
    }

    /// Appends output.
    pub fn write(&mut self, mut data: &[u8]) {
        if self.head_left > 0 {
            let n = data
                .len()
                .min(usize::try_from(self.head_left).unwrap_or(usize::MAX));
            self.write_file(&data[..n]);
            self.head_left -= n as u64;
            data = &data[n..];
        }
        if data.is_empty() {
            return;
        }
        if data.len() >= self.tail_max {
            self.dropped = self
                .dropped
                .saturating_add(self.tail.len() as u64)
                .saturating_add((data.len() - self.tail_max) as u64);
            self.tail.clear();
            self.tail.extend(&data[data.len() - self.tail_max..]);
            return;
        }
        let overflow = (self.tail.len() + data.len()).saturating_sub(self.tail_max);
        self.tail.drain(..overflow);
        self.dropped = self.dropped.saturating_add(overflow as u64);
        self.tail.extend(data);
    }

    /// Writes the tail (after the marker line when bytes were dropped) and flushes.
    pub fn finish(mut self) -> std::io::Result<()> {
        if self.dropped > 0 {
            let marker = format!(
                "\n# shotline: {} bytes of output dropped here (the log keeps the first and last {} bytes: render.log_max_bytes)\n",
                self.dropped,
                self.max_bytes / 2
            );
            self.write_file(marker.as_bytes());
        }
        let (a, b) = self.tail.as_slices();
        let (a, b) = (a.to_vec(), b.to_vec());
        self.write_file(&a);
        self.write_file(&b);
        if self.error.is_none() {
            if let Err(e) = self.file.flush() {
                self.error = Some(e);
            }
        }
        match self.error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn write_file(&mut self, data: &[u8]) {
        if self.error.is_none() {
            if let Err(e) = self.file.write_all(data) {
                self.error = Some(e);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logged(max: u64, chunks: &[&[u8]]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let mut log = CappedLog::new(std::fs::File::create(&path).unwrap(), max);
        for c in chunks {
            log.write(c);
        }
        log.finish().unwrap();
        std::fs::read_to_string(path).unwrap()
    }

    #[test]
    fn small_output_is_kept_whole() {
        assert_eq!(logged(100, &[b"hello\n", b"world\n"]), "hello\nworld\n");
        assert_eq!(logged(0, &[&[b'x'; 1000]]).len(), 1000);
    }

    #[test]
    fn big_output_keeps_head_and_tail_with_a_marker() {
        let mut chunks: Vec<Vec<u8>> = Vec::new();
        chunks.push(b"HEAD".to_vec());
        for _ in 0..100 {
            chunks.push(vec![b'.'; 1000]);
        }
        chunks.push(b"TAIL".to_vec());
        let refs: Vec<&[u8]> = chunks.iter().map(Vec::as_slice).collect();
        let text = logged(64, &refs);
        assert!(text.starts_with("HEAD"), "{text}");
        assert!(text.ends_with("TAIL"), "{text}");
        let total = 4 + 100_000 + 4;
        assert!(
            text.contains(&format!("{} bytes of output dropped", total - 64)),
            "{text}"
        );
        assert!(text.len() < 64 + 200, "{}", text.len());
    }
}
