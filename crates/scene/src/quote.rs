//! Writing a path back in the quoting it was read in.

use crate::Quoting;

/// The token for `text` in `quoting`; a style that cannot hold the text (a bare TCL word with
/// a space, braces that would not balance) falls back to the format's double quotes.
pub(crate) fn encode(quoting: Quoting, text: &str) -> String {
    match quoting {
        Quoting::Bare if text.bytes().all(bare_safe) && !text.is_empty() => text.to_string(),
        Quoting::TclBraced if braces_balance(text) && !text.ends_with('\\') => {
            format!("{{{text}}}")
        }
        Quoting::Bare | Quoting::TclBraced | Quoting::TclQuoted => tcl_quoted(text),
        Quoting::LuaDouble | Quoting::LuaLong => c_quoted(text, '"'),
        Quoting::LuaSingle => c_quoted(text, '\''),
        Quoting::Mel => c_quoted(text, '"'),
    }
}

fn bare_safe(c: u8) -> bool {
    !c.is_ascii_whitespace() && !matches!(c, b'"' | b'{' | b'}' | b'[' | b']' | b'$' | b'\\' | b';')
}

fn braces_balance(text: &str) -> bool {
    let mut depth = 0i64;
    for c in text.bytes() {
        match c {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

fn tcl_quoted(text: &str) -> String {
    let mut s = String::with_capacity(text.len() + 2);
    s.push('"');
    for c in text.chars() {
        match c {
            '"' | '\\' | '[' | ']' | '$' => {
                s.push('\\');
                s.push(c);
            }
            '\n' => s.push_str("\\n"),
            _ => s.push(c),
        }
    }
    s.push('"');
    s
}

fn c_quoted(text: &str, q: char) -> String {
    let mut s = String::with_capacity(text.len() + 2);
    s.push(q);
    for c in text.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            c if c == q => {
                s.push('\\');
                s.push(c);
            }
            _ => s.push(c),
        }
    }
    s.push(q);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn styles_round_trip() {
        assert_eq!(encode(Quoting::Bare, "/p/a.####.exr"), "/p/a.####.exr");
        assert_eq!(encode(Quoting::Bare, "/p/my a.exr"), "\"/p/my a.exr\"");
        assert_eq!(encode(Quoting::TclBraced, "/p/a.exr"), "{/p/a.exr}");
        assert_eq!(encode(Quoting::TclQuoted, "C:/x\"y"), "\"C:/x\\\"y\"");
        assert_eq!(
            encode(Quoting::LuaDouble, "C:\\plates\\a.exr"),
            "\"C:\\\\plates\\\\a.exr\""
        );
        assert_eq!(encode(Quoting::Mel, "D:/é/a.ma"), "\"D:/é/a.ma\"");
    }
}
