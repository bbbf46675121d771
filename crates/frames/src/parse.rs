//! The fileseq frame-range parser. Hand-written so every error can name the exact character
//! (0-based column) and say what was expected there.

use crate::seg::{Offs, Seg, PATTERN_CAP};
use crate::{FrameSet, ParseError};

/// Most runs a `y` fill with a step above the pattern limit may be stored as.
const FILL_RUNS_CAP: u128 = 1_000_000;
/// Most passes one stagger (`a-b:N`) may take.
const STAGGER_CAP: u128 = 4096;

/// What follows a range: `x` step, `y` fill, `:` stagger.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Modifier {
    Step,
    Fill,
    Stagger,
}

struct Parser<'a> {
    expr: &'a str,
    chars: Vec<char>,
    pos: usize,
    /// The `b` of every `a-b…` part, as written.
    ends: Vec<i64>,
}

pub(crate) fn parse(expr: &str) -> Result<FrameSet, ParseError> {
    parse_with_ends(expr).map(|(set, _)| set)
}

/// [`parse`], also returning the end frame written in every `a-b…` part, in order.
pub(crate) fn parse_with_ends(expr: &str) -> Result<(FrameSet, Vec<i64>), ParseError> {
    let mut p = Parser {
        expr,
        chars: expr.chars().collect(),
        pos: 0,
        ends: Vec::new(),
    };
    let mut set = FrameSet::default();
    let mut any = false;
    loop {
        p.skip_ws();
        match p.peek() {
            None => break,
            Some(',') => {
                p.pos += 1;
                continue;
            }
            Some(_) => {}
        }
        let col = p.pos;
        let part = p.part()?;
        any = true;
        set.insert_all(part).map_err(|e| p.err_at(col, e.reason))?;
        p.skip_ws();
        match p.peek() {
            None => break,
            Some(',') => p.pos += 1,
            Some(c) => {
                let what = p.chars[col..p.pos].iter().collect::<String>();
                return Err(p.err(format!(
                    "expected ',' or the end after {:?}, found {c:?}",
                    what.trim()
                )));
            }
        }
    }
    if !any {
        return Err(p.err_at(
            0,
            "empty expression: expected frames such as 1001-1100, 1-100x2 or 1,5,10".into(),
        ));
    }
    Ok((set, p.ends))
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn err_at(&self, column: usize, message: String) -> ParseError {
        ParseError {
            expr: self.expr.to_string(),
            column,
            message,
        }
    }

    fn err(&self, message: String) -> ParseError {
        self.err_at(self.pos, message)
    }

    fn found(&self) -> String {
        match self.peek() {
            Some(c) => format!("found {c:?}"),
            None => "found the end of the expression".into(),
        }
    }

    /// An optionally signed decimal integer that fits in `i64`.
    fn number(&mut self, what: &str) -> Result<i64, ParseError> {
        self.skip_ws();
        let col = self.pos;
        let neg = self.peek() == Some('-');
        if neg {
            self.pos += 1;
            self.skip_ws();
        }
        let digits_at = self.pos;
        let mut value: u128 = 0;
        while let Some(d) = self
            .peek()
            .and_then(|c| c.to_digit(10).filter(|_| c.is_ascii()))
        {
            value = value.saturating_mul(10).saturating_add(d as u128);
            self.pos += 1;
        }
        if self.pos == digits_at {
            let msg = format!("expected {what}, {}", self.found());
            return Err(self.err(msg));
        }
        let limit = if neg { 1u128 << 63 } else { (1u128 << 63) - 1 };
        if value > limit {
            let text: String = self.chars[col..self.pos].iter().collect();
            return Err(self.err_at(
                col,
                format!(
                    "{text} is out of range: frame numbers and steps must lie between \
                     -9223372036854775808 and 9223372036854775807"
                ),
            ));
        }
        Ok(if neg {
            (-(value as i128)) as i64
        } else {
            value as i64
        })
    }

    /// One comma-separated part, as segments without repeats among themselves.
    fn part(&mut self) -> Result<Vec<Seg>, ParseError> {
        let col = self.pos;
        let a = self.number("a frame number")?;
        self.skip_ws();
        match self.peek() {
            None | Some(',') => return Ok(vec![Seg::single(a)]),
            Some('-') => self.pos += 1,
            Some(c @ ('x' | 'y' | ':')) => {
                return Err(self.err(format!(
                    "{c:?} needs a range before it: expected '-' and an end frame after {a} \
                     (like {a}-{}{c}2)",
                    a.saturating_add(10)
                )))
            }
            Some(c) => {
                return Err(self.err(format!(
                    "expected '-', ',' or the end after {a}, found {c:?}"
                )))
            }
        }
        let b = self.number("an end frame after '-'")?;
        self.ends.push(b);
        self.skip_ws();
        let modifier = match self.peek() {
            None | Some(',') => return self.range(col, a, b, 1),
            Some('x') => Modifier::Step,
            Some('y') => Modifier::Fill,
            Some(':') => Modifier::Stagger,
            Some(c @ ('X' | 'Y')) => {
                return Err(self.err(format!(
                    "modifiers are lower case: expected 'x', 'y' or ':' after {a}-{b}, \
                     found {c:?}"
                )))
            }
            Some(c) => {
                return Err(self.err(format!(
                    "expected 'x' (step), 'y' (fill), ':' (stagger), ',' or the end after \
                     {a}-{b}, found {c:?}"
                )))
            }
        };
        self.pos += 1;
        self.skip_ws();
        let ncol = self.pos;
        let what = match modifier {
            Modifier::Step => "a step after 'x'",
            Modifier::Fill => "a step after 'y'",
            Modifier::Stagger => "a stagger count after ':'",
        };
        let n = self.number(what)?;
        if n == 0 {
            return Err(self.err_at(ncol, "the step must not be zero".into()));
        }
        if n < 0 && a <= b {
            let c = match modifier {
                Modifier::Step => 'x',
                Modifier::Fill => 'y',
                Modifier::Stagger => ':',
            };
            return Err(self.err_at(
                ncol,
                format!(
                    "a negative step needs a descending range (like {b}-{a}{c}{n}); \
                     {a}-{b} ascends, so write the step without '-'"
                ),
            ));
        }
        match modifier {
            Modifier::Step => self.range(col, a, b, n),
            Modifier::Fill => self.fill(ncol, a, b, n),
            Modifier::Stagger => {
                // Refuses a range of all 2^64 frames, as for a plain range.
                self.range(col, a, b, 1)?;
                self.stagger(ncol, a, b, n)
            }
        }
    }

    /// `a-b` every `n`-th frame (the sign of `n` is already checked against the direction).
    fn range(&self, col: usize, a: i64, b: i64, n: i64) -> Result<Vec<Seg>, ParseError> {
        let mag = (n as i128).abs();
        let dir: i128 = if b < a { -1 } else { 1 };
        let span = (b as i128 - a as i128).abs();
        let len = span / mag + 1;
        let len = u64::try_from(len).map_err(|_| {
            self.err_at(
                col,
                "this range holds all 2^64 frame numbers, one more than can be counted".into(),
            )
        })?;
        Ok(vec![Seg::run(a, dir * mag, len)])
    }

    /// `a-byn`: the frames `a-bxn` skips, in the range's direction.
    fn fill(&self, ncol: usize, a: i64, b: i64, n: i64) -> Result<Vec<Seg>, ParseError> {
        let mag = (n as i128).unsigned_abs();
        let dir: i64 = if b < a { -1 } else { 1 };
        let span = (b as i128 - a as i128).unsigned_abs();
        let len = span - span / mag;
        if len == 0 {
            return Ok(Vec::new());
        }
        let start = a + dir;
        let m = mag - 1;
        if m as u64 <= PATTERN_CAP {
            let mut out = Vec::new();
            Seg {
                start,
                dir,
                period: mag as u64,
                offs: if m == 1 {
                    Offs::One
                } else {
                    Offs::Many((0..m as u64).collect::<Vec<_>>().into())
                },
                len: len as u64,
            }
            .finish(&mut out);
            return Ok(out);
        }
        let periods = span.div_ceil(mag);
        if periods > FILL_RUNS_CAP {
            return Err(self.err_at(
                ncol,
                format!(
                    "y{n} over {a}-{b} would be stored as {periods} separate runs, more than \
                     {FILL_RUNS_CAP}; use a smaller range or step"
                ),
            ));
        }
        let mut out = Vec::new();
        for k in 0..periods {
            let first = k * mag + 1;
            let last = (k * mag + m).min(span);
            let s = a as i128 + dir as i128 * first as i128;
            out.push(Seg::run(s as i64, dir as i128, (last - first + 1) as u64));
        }
        Ok(out)
    }

    /// `a-b:n`: `xn`, then `x(n-1)` … `x1`, each adding only frames not yet listed; stored as
    /// one stagger segment (a plain run when only one pass is left).
    fn stagger(&self, ncol: usize, a: i64, b: i64, n: i64) -> Result<Vec<Seg>, ParseError> {
        let span = (b as i128 - a as i128).unsigned_abs();
        let passes = (n as i128).unsigned_abs().min(span + 1);
        if passes > STAGGER_CAP {
            return Err(self.err_at(
                ncol,
                format!(
                    "a stagger of :{n} over {} frames takes {passes} passes; at most \
                     {STAGGER_CAP} are supported",
                    span + 1
                ),
            ));
        }
        let dir: i64 = if b < a { -1 } else { 1 };
        if passes <= 1 {
            // `:1` is the plain range (span + 1 fits: the caller refused 2^64 frames).
            return Ok(vec![Seg::run(a, dir as i128, span as u64 + 1)]);
        }
        // span + 1 >= passes >= 2 and span < 2^64 - 1 (checked by the caller's range).
        Ok(vec![Seg::stagger(a, dir, span as u64, passes as u64)])
    }
}
