//! Shot lists from editorial as CSV (RFC 4180: quotes, `""` escapes, newlines inside quotes).
//! Every error names the file, line and column, the value and what was expected.

use std::collections::HashMap;
use std::path::Path;

use crate::error::{Result, StoreError};
use crate::model::{NewShot, ShotFields};

/// The columns `shot import` understands (header names, case-insensitive; aliases after `|`).
pub const SHOT_COLUMNS: &str =
    "code|shot, name, sequence|seq, frame_in|in, frame_out|out, handles, fps, source, timecode_in|tc_in";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Col {
    Code,
    Name,
    Sequence,
    In,
    Out,
    Handles,
    Fps,
    Source,
    Tc,
}

fn column(name: &str) -> Option<Col> {
    Some(match name.trim().to_ascii_lowercase().as_str() {
        "code" | "shot" => Col::Code,
        "name" => Col::Name,
        "sequence" | "seq" => Col::Sequence,
        "frame_in" | "in" => Col::In,
        "frame_out" | "out" => Col::Out,
        "handles" => Col::Handles,
        "fps" => Col::Fps,
        "source" => Col::Source,
        "timecode_in" | "tc_in" => Col::Tc,
        _ => return None,
    })
}

/// One record: its fields and the line each field started on.
type Record = Vec<(String, usize)>;

/// Splits CSV text into records, tracking line numbers (1-based).
fn records(path: &Path, text: &str) -> Result<Vec<Record>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    let mut rec: Record = Vec::new();
    let mut field = String::new();
    let mut field_line = 1;
    let mut line = 1;
    let mut quoted = false;
    let mut was_quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() && !was_quoted => {
                quoted = true;
                was_quoted = true;
            }
            '"' => return Err(StoreError::Csv {
                path: path.to_path_buf(),
                line,
                column: rec.len() + 1,
                message:
                    "unexpected quote inside a field; quote the whole field and double inner quotes"
                        .into(),
            }),
            ',' => {
                rec.push((std::mem::take(&mut field), field_line));
                field_line = line;
                was_quoted = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                rec.push((std::mem::take(&mut field), field_line));
                if !(rec.len() == 1 && rec[0].0.trim().is_empty() && !was_quoted) {
                    out.push(std::mem::take(&mut rec));
                }
                rec.clear();
                line += 1;
                field_line = line;
                was_quoted = false;
            }
            _ if was_quoted && !c.is_whitespace() => {
                return Err(StoreError::Csv {
                    path: path.to_path_buf(),
                    line,
                    column: rec.len() + 1,
                    message: format!("unexpected {c:?} after a closing quote"),
                })
            }
            _ => field.push(c),
        }
    }
    if quoted {
        return Err(StoreError::Csv {
            path: path.to_path_buf(),
            line: field_line,
            column: rec.len() + 1,
            message: "quoted field is never closed".into(),
        });
    }
    if !field.is_empty() || !rec.is_empty() || was_quoted {
        rec.push((field, field_line));
        out.push(rec);
    }
    Ok(out)
}

/// Parses a shot list. The first record is the header; `code` is required; empty cells leave a
/// field unset. A code listed twice is an error naming both lines.
pub fn parse_shots_csv(path: &Path, text: &str) -> Result<Vec<NewShot>> {
    let recs = records(path, text)?;
    let err = |line: usize, column: usize, message: String| StoreError::Csv {
        path: path.to_path_buf(),
        line,
        column,
        message,
    };
    let Some((header, rows)) = recs.split_first() else {
        return Err(err(
            1,
            1,
            format!("empty file; expected a header with columns {SHOT_COLUMNS}"),
        ));
    };
    let mut cols = Vec::with_capacity(header.len());
    for (i, (name, line)) in header.iter().enumerate() {
        let c = column(name).ok_or_else(|| {
            err(
                *line,
                i + 1,
                format!("unknown column {name:?}; expected one of {SHOT_COLUMNS}"),
            )
        })?;
        if cols.contains(&c) {
            return Err(err(*line, i + 1, format!("column {name:?} appears twice")));
        }
        cols.push(c);
    }
    if !cols.contains(&Col::Code) {
        return Err(err(
            1,
            1,
            "no `code` column; the header must name the shot code column".into(),
        ));
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for rec in rows {
        let rec_line = rec.first().map(|f| f.1).unwrap_or(1);
        if rec.len() != cols.len() {
            return Err(err(
                rec_line,
                rec.len().min(cols.len()) + 1,
                format!(
                    "{} fields, expected {} as in the header",
                    rec.len(),
                    cols.len()
                ),
            ));
        }
        let mut shot = NewShot {
            code: String::new(),
            fields: ShotFields::default(),
        };
        for (i, ((raw, line), col)) in rec.iter().zip(&cols).enumerate() {
            let v = raw.trim();
            if v.is_empty() {
                continue;
            }
            let int = |what: &str| {
                v.parse::<i64>()
                    .map_err(|_| err(*line, i + 1, format!("{what} {v:?} is not a whole number")))
            };
            match col {
                Col::Code => shot.code = v.to_string(),
                Col::Name => shot.fields.name = Some(v.to_string()),
                Col::Sequence => shot.fields.sequence = Some(v.to_string()),
                Col::In => shot.fields.frame_in = Some(int("frame_in")?),
                Col::Out => shot.fields.frame_out = Some(int("frame_out")?),
                Col::Handles => {
                    let h = int("handles")?;
                    if h < 0 {
                        return Err(err(
                            *line,
                            i + 1,
                            format!("handles {h} is negative; expected 0 or more"),
                        ));
                    }
                    shot.fields.handles = Some(h);
                }
                Col::Fps => {
                    let f: f64 = v
                        .parse()
                        .ok()
                        .filter(|f: &f64| f.is_finite() && *f > 0.0)
                        .ok_or_else(|| {
                            err(
                                *line,
                                i + 1,
                                format!("fps {v:?} is not a positive number such as 24 or 23.976"),
                            )
                        })?;
                    shot.fields.fps = Some(f);
                }
                Col::Source => shot.fields.source = Some(v.to_string()),
                Col::Tc => {
                    crate::validate::timecode(v).map_err(|e| err(*line, i + 1, e.to_string()))?;
                    shot.fields.timecode_in = Some(v.to_string());
                }
            }
        }
        let code_col = cols.iter().position(|c| *c == Col::Code).unwrap_or(0) + 1;
        if shot.code.is_empty() {
            return Err(err(rec_line, code_col, "empty shot code".into()));
        }
        crate::validate::item_code("shot code", &shot.code)
            .map_err(|e| err(rec_line, code_col, e.to_string()))?;
        if let (Some(a), Some(b)) = (shot.fields.frame_in, shot.fields.frame_out) {
            if b < a {
                return Err(err(
                    rec_line,
                    1,
                    format!("{}: frame_out {b} is before frame_in {a}", shot.code),
                ));
            }
        }
        if let Some(first) = seen.insert(shot.code.clone(), rec_line) {
            return Err(err(
                rec_line,
                code_col,
                format!("shot {} already listed on line {first}", shot.code),
            ));
        }
        out.push(shot);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> &'static Path {
        Path::new("shots.csv")
    }

    #[test]
    fn parses_quotes_and_aliases() {
        let t = "\u{feff}Shot,in,out,name,tc_in\r\nSH010,1001,1100,\"Wide, \"\"hero\"\"\",01:00:00:00\n\nSH020,1001,,\"two\nlines\",\n";
        let s = parse_shots_csv(p(), t).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].fields.name.as_deref(), Some("Wide, \"hero\""));
        assert_eq!(s[0].fields.frame_out, Some(1100));
        assert_eq!(s[1].fields.frame_out, None);
        assert_eq!(s[1].fields.name.as_deref(), Some("two\nlines"));
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = parse_shots_csv(p(), "code,frame_in\nSH010,10x1\n")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "shots.csv:2:2: frame_in \"10x1\" is not a whole number");
        let e = parse_shots_csv(p(), "code,frmae_in\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("shots.csv:1:2: unknown column \"frmae_in\""),
            "{e}"
        );
        let e = parse_shots_csv(p(), "code\nA\nB\nA\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains(":4:1:") && e.contains("line 2"), "{e}");
        let e = parse_shots_csv(p(), "code,in\nA\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains(":2:2:") && e.contains("expected 2"), "{e}");
        let e = parse_shots_csv(p(), "code,name\nA,\"open\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("never closed"), "{e}");
        let e = parse_shots_csv(p(), "code,in,out\nA,20,10\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("before frame_in"), "{e}");
        let e = parse_shots_csv(p(), "name\nx\n").unwrap_err().to_string();
        assert!(e.contains("no `code` column"), "{e}");
    }
}
