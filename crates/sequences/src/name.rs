//! Splitting one file name into head, frame number and tail (REFERENCE.md "Sequence grouping").
//!
//! The rules, in order:
//! - The tail is the extension: from the last `.` to the end. A compression suffix (`.gz`,
//!   `.sc`, …) after a word extension makes a compound tail (`geo.1001.bgeo.sc`,
//!   `scene.1001.ass.gz`). A name whose last `.`-part is all digits (`render.0001`) or that has
//!   no `.` has an empty tail.
//! - The frame is the digit run directly before the tail. `foo_0001_extra.exr` has none and is a
//!   plain file; `shot_v002.1001.exr` has frame 1001 and the version stays in the head.
//! - A `-` directly before the digits is a minus sign only at the start of the name or after `.`
//!   or `_` (`a.-001.exr`), never after a letter or digit (`file4-4.exr`, `434-0000.exr`, dates),
//!   and never on an all-zero run (`-0` is not a frame anyone renders).
//! - A run longer than 19 digits, or one whose value does not fit in `i64`, is no frame: the
//!   name is a plain file. Scanning is one linear pass, so nothing can hang.

/// Compression suffixes that extend the extension to the part before them.
const COMPOUND: &[&[u8]] = &[b"gz", b"sc", b"bz2", b"zst", b"lz4", b"xz", b"sz"];

/// Longest digit run accepted as a frame (`i64::MAX` has 19 digits).
pub(crate) const MAX_DIGITS: usize = 19;

/// A file name split around its frame number. Slices borrow the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameName<'a> {
    /// Everything before the frame (including a separator such as `.`).
    pub head: &'a [u8],
    /// Everything after the frame (the extension, possibly empty).
    pub tail: &'a [u8],
    /// The frame number.
    pub frame: i64,
    /// Characters the frame takes in the name, the sign included (`-001` is 4).
    pub width: usize,
    /// True when the run has a leading zero, so it fits only a padding of exactly `width`.
    /// A run without one (`1001`, `10001`, `-10`) also fits any narrower padding.
    pub exact: bool,
}

/// Where the tail starts in `name`.
fn tail_start(name: &[u8]) -> usize {
    let Some(dot) = name.iter().rposition(|&b| b == b'.') else {
        return name.len();
    };
    let ext = &name[dot + 1..];
    if !ext.is_empty() && ext.iter().all(u8::is_ascii_digit) {
        return name.len();
    }
    if COMPOUND.iter().any(|c| ext.eq_ignore_ascii_case(c)) {
        if let Some(prev) = name[..dot].iter().rposition(|&b| b == b'.') {
            let word = &name[prev + 1..dot];
            let wordy = word.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_');
            if !word.is_empty() && wordy && word.iter().any(u8::is_ascii_alphabetic) {
                return prev;
            }
        }
    }
    dot
}

/// Parses the digits `run` (no sign) as a frame, `None` when too long or too large.
pub(crate) fn parse_digits(run: &[u8], negative: bool) -> Option<i64> {
    if run.is_empty() || run.len() > MAX_DIGITS {
        return None;
    }
    let mut v: i64 = 0;
    for &b in run {
        v = v.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
    }
    Some(if negative { -v } else { v })
}

/// Whether a `-` at `minus` in `stem` (which is followed by digits) is a sign.
pub(crate) fn minus_is_sign(stem: &[u8], minus: usize) -> bool {
    minus == 0 || matches!(stem[minus - 1], b'.' | b'_')
}

/// Reads a frame written as `text` (an optional sign, then digits) right after `head`.
/// Returns `(frame, width, exact)` or `None` when `text` is not a frame there.
pub(crate) fn parse_frame_text(head: &[u8], text: &[u8]) -> Option<(i64, usize, bool)> {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if negative {
        let sign_ok = head.is_empty() || matches!(head.last(), Some(b'.' | b'_'));
        if !sign_ok || digits.iter().all(|&b| b == b'0') {
            return None;
        }
    }
    let frame = parse_digits(digits, negative)?;
    let exact = digits.len() > 1 && digits[0] == b'0';
    Some((frame, text.len(), exact))
}

/// Splits `name` around its frame, or `None` when the name has no frame (a plain file).
pub(crate) fn split(name: &[u8]) -> Option<FrameName<'_>> {
    let t = tail_start(name);
    let stem = &name[..t];
    let digits_start = stem
        .iter()
        .rposition(|b| !b.is_ascii_digit())
        .map_or(0, |i| i + 1);
    if digits_start == t {
        return None;
    }
    let digits = &stem[digits_start..];
    let all_zero = digits.iter().all(|&b| b == b'0');
    let negative = digits_start > 0
        && stem[digits_start - 1] == b'-'
        && minus_is_sign(stem, digits_start - 1)
        && !all_zero;
    let start = if negative {
        digits_start - 1
    } else {
        digits_start
    };
    let frame = parse_digits(digits, negative)?;
    Some(FrameName {
        head: &name[..start],
        tail: &name[t..],
        frame,
        width: t - start,
        exact: digits.len() > 1 && digits[0] == b'0',
    })
}

/// Whether a frame written `width` wide (`exact` as in [`FrameName`]) belongs to a sequence
/// with `padding`: exact runs need the same width, others any padding up to their width.
pub(crate) fn fits(width: usize, exact: bool, padding: usize) -> bool {
    if exact {
        width == padding
    } else {
        width >= padding
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(name: &str) -> Option<(String, i64, String, usize, bool)> {
        split(name.as_bytes()).map(|f| {
            (
                String::from_utf8(f.head.to_vec()).unwrap(),
                f.frame,
                String::from_utf8(f.tail.to_vec()).unwrap(),
                f.width,
                f.exact,
            )
        })
    }

    #[test]
    fn frame_is_last_digit_run_before_extension() {
        let p = parts("shot_v002.1001.exr").unwrap();
        assert_eq!(
            (p.0.as_str(), p.1, p.2.as_str()),
            ("shot_v002.", 1001, ".exr")
        );
        assert_eq!(parts("foo_0001_extra.exr"), None);
        assert_eq!(parts("readme.txt"), None);
    }

    #[test]
    fn minus_is_a_sign_only_after_separator_or_at_start() {
        assert_eq!(parts("a.-001.exr").unwrap().1, -1);
        assert_eq!(parts("a.-001.exr").unwrap().3, 4);
        assert_eq!(parts("a_-5.exr").unwrap().1, -5);
        assert_eq!(parts("-5.exr").unwrap().1, -5);
        let p = parts("file4-4.exr").unwrap();
        assert_eq!((p.0.as_str(), p.1), ("file4-", 4));
        let p = parts("434-0000.exr").unwrap();
        assert_eq!((p.0.as_str(), p.1, p.3), ("434-", 0, 4));
        let p = parts("2023-01-14_12-32-30.mov").unwrap();
        assert_eq!((p.0.as_str(), p.1), ("2023-01-14_12-32-", 30));
        let p = parts("a.-000.exr").unwrap();
        assert_eq!((p.0.as_str(), p.1, p.3), ("a.-", 0, 3));
    }

    #[test]
    fn leading_zero_makes_width_exact() {
        assert!(parts("c.01001.exr").unwrap().4);
        assert!(!parts("c.1001.exr").unwrap().4);
        assert!(!parts("c.0.exr").unwrap().4);
        assert!(parts("c.00.exr").unwrap().4);
    }

    #[test]
    fn extension_forms() {
        let p = parts("geo.1001.bgeo.sc").unwrap();
        assert_eq!((p.1, p.2.as_str()), (1001, ".bgeo.sc"));
        let p = parts("scene.0010.ass.gz").unwrap();
        assert_eq!((p.1, p.2.as_str()), (10, ".ass.gz"));
        let p = parts("render.0001").unwrap();
        assert_eq!((p.0.as_str(), p.1, p.2.as_str()), ("render.", 1, ""));
        let p = parts("frame0007").unwrap();
        assert_eq!((p.0.as_str(), p.1), ("frame", 7));
        // A word between the frame and the extension is no compound extension.
        assert_eq!(parts("comp_v002.final.exr"), None);
        assert_eq!(parts(".exr"), None);
    }

    #[test]
    fn huge_digit_runs_are_plain_or_bounded() {
        let p = parts("gettyimages-1364769281-2048x2048.jpg").unwrap();
        assert_eq!((p.0.as_str(), p.1), ("gettyimages-1364769281-2048x", 2048));
        let forty = format!("x.{}.exr", "9".repeat(40));
        assert_eq!(parts(&forty), None);
        assert_eq!(parts("x.9999999999999999999.exr"), None);
        assert_eq!(parts("x.9223372036854775807.exr").unwrap().1, i64::MAX);
        assert_eq!(parts("x.-9223372036854775807.exr").unwrap().1, -i64::MAX);
        let long = format!("{}.exr", "1".repeat(1_000_000));
        assert_eq!(parts(&long), None);
    }

    #[test]
    fn frame_text_after_head() {
        assert_eq!(parse_frame_text(b"a.", b"-01"), Some((-1, 3, true)));
        assert_eq!(parse_frame_text(b"a", b"-01"), None);
        assert_eq!(parse_frame_text(b"a.", b"1x"), None);
        assert_eq!(parse_frame_text(b"a.", b""), None);
        assert_eq!(parse_frame_text(b"a.", b"10001"), Some((10001, 5, false)));
    }

    #[test]
    fn fits_padding() {
        assert!(fits(5, false, 4));
        assert!(!fits(5, true, 4));
        assert!(fits(4, true, 4));
        assert!(!fits(3, false, 4));
    }
}
