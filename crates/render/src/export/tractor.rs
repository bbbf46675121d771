//! Tractor: an Alfred-format job script (`.alf`, Tcl syntax) with one `Task` per chunk, each
//! running its chunk's command (placeholders filled as the local worker fills them) through
//! `env`, which sets the working directory and the task's variables.

use std::fmt::Write;

use super::{common_spelling, expand_all, job_env, ExportFormat, Metadata};
use crate::error::Result;
use crate::job::ResolvedJob;

/// The script text.
pub(super) fn script(job: &ResolvedJob, meta: &Metadata) -> Result<String> {
    let mut out = String::from("##AlfredToDo 3.0\n");
    let _ = write!(
        out,
        "Job -title {} -comment {}",
        word(&job.name),
        word(&meta.describe())
    );
    let pairs = meta.pairs();
    if !pairs.is_empty() {
        let text: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = write!(out, " -metadata {}", word(&text.join(" ")));
    }
    if let Some(p) = meta.project.as_deref().filter(|p| !p.is_empty()) {
        let _ = write!(out, " -projects {}", word(p));
    }
    if let Some(s) = meta.pool.as_deref().filter(|s| !s.is_empty()) {
        let _ = write!(out, " -service {}", word(s));
    }
    if job.priority != 0 {
        let _ = write!(out, " -priority {}", job.priority);
    }
    out.push_str(" -subtasks {\n");
    for (index, chunk) in job.chunks.iter().enumerate() {
        let mut spelling = common_spelling(job, meta);
        spelling.insert("start", Ok(chunk.first.to_string()));
        spelling.insert("end", Ok(chunk.last.to_string()));
        spelling.insert("step", Ok(chunk.step.to_string()));
        spelling.insert("count", Ok(chunk.count.to_string()));
        spelling.insert("frames", Ok(chunk.range()));
        spelling.insert("task", Ok(index.to_string()));
        let mut argv = vec![
            "env".to_string(),
            "-C".to_string(),
            job.cwd.to_string_lossy().into_owned(),
            format!("SHOTLINE_TASK={index}"),
            format!("SHOTLINE_FRAMES={}", chunk.range()),
        ];
        for (k, v) in job_env(job, meta, &spelling, ExportFormat::Tractor)? {
            argv.push(format!("{k}={v}"));
        }
        argv.extend(expand_all(&job.command, &spelling, ExportFormat::Tractor)?);
        let list: Vec<String> = argv.iter().map(|a| word(a)).collect();
        let _ = writeln!(
            out,
            "    Task -title {} -cmds {{\n        RemoteCmd {{{}}}\n    }}",
            word(&format!("chunk {index} frames {}", chunk.range())),
            list.join(" ")
        );
    }
    out.push_str("}\n");
    Ok(out)
}

/// One Tcl word: a bare word with every character Tcl treats specially escaped by a
/// backslash, so it reads back as exactly `text` both on its own and as a list element
/// inside braces (escaped braces do not count toward brace matching).
fn word(text: &str) -> String {
    if text.is_empty() {
        return "{}".into();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_whitespace() || "\\{}[]$\";#".contains(c) => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::tests::job;
    use super::*;

    #[test]
    fn one_task_per_chunk() {
        let j = job("name: sh010\nframes: 1-5\nchunk: 2\ncommand: [sh, -c, 'echo {start}-{end} > \"a b\"; [ x ]']\n");
        let meta = Metadata {
            project: Some("DEMO".into()),
            job: Some(9),
            ..Default::default()
        };
        let s = script(&j, &meta).unwrap();
        assert!(s.starts_with("##AlfredToDo 3.0\nJob -title sh010"), "{s}");
        assert_eq!(s.matches("    Task -title").count(), 3, "{s}");
        assert!(s.contains("-metadata project=DEMO\\ shotline_job=9"), "{s}");
        assert!(s.contains(r#"echo\ 1-2\ >\ \"a\ b\"\;\ \[\ x\ \]"#), "{s}");
    }

    #[test]
    fn words_escape_tcl_specials() {
        assert_eq!(word("a b{c}"), r"a\ b\{c\}");
        assert_eq!(word(""), "{}");
        assert_eq!(word("x\\"), r"x\\");
    }
}
