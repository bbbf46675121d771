//! Tractor: an Alfred-format job script (`.alf`, Tcl syntax) with one `Task` per chunk, each
//! running its chunk's command (placeholders filled as the local worker fills them) through
//! `env`, which sets the working directory and the task's variables.

use std::fmt::Write;

use super::{common_spelling, expand_all, job_env, ExportFormat, Exportable};
use crate::error::Result;
use crate::model::JobId;

/// The script text: the last job of `chain`, after the jobs it waits for (each job's tasks
/// grouped under a task named for the job, and every task of a waiting job holding an
/// `Instance` of each job it waits for, which Tractor runs first). A lone job's tasks stand
/// at the top level.
pub(super) fn script(chain: &[Exportable]) -> Result<String> {
    let Some(last) = chain.last() else {
        return Ok(String::new());
    };
    let (job, meta) = (&last.job, &last.meta);
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
    if chain.len() == 1 {
        out.push_str(&tasks(last, false, "    ", &[])?);
    } else {
        for e in chain {
            let waits: Vec<String> = e
                .meta
                .after
                .iter()
                .map(|&id| group_title(chain, id))
                .collect();
            let _ = writeln!(
                out,
                "    Task -title {} -subtasks {{\n{}    }}",
                word(&group_title(chain, e.meta.job.unwrap_or_default())),
                tasks(e, true, "        ", &waits)?
            );
        }
    }
    out.push_str("}\n");
    Ok(out)
}

/// The title of the task grouping the tasks of queued job `id` in a chain.
fn group_title(chain: &[Exportable], id: JobId) -> String {
    let name = chain
        .iter()
        .find(|e| e.meta.job == Some(id))
        .map(|e| e.job.name.as_str())
        .unwrap_or_default();
    format!("job {id} {name}")
}

/// One `Task` per chunk of `e`, indented by `indent`, each waiting for the tasks titled
/// `waits`; `grouped` when `e` is one job of a chain.
fn tasks(e: &Exportable, grouped: bool, indent: &str, waits: &[String]) -> Result<String> {
    let (job, meta) = (&e.job, &e.meta);
    let mut out = String::new();
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
        // Grouped in a chain, a task names its job too: titles stay unique in the script.
        let title = match meta.job.filter(|_| grouped) {
            Some(id) => format!("job {id} chunk {index} frames {}", chunk.range()),
            None => format!("chunk {index} frames {}", chunk.range()),
        };
        let _ = write!(out, "{indent}Task -title {}", word(&title));
        if !waits.is_empty() {
            out.push_str(" -subtasks {\n");
            for w in waits {
                let _ = writeln!(out, "{indent}    Instance -title {}", word(w));
            }
            let _ = write!(out, "{indent}}}");
        }
        let _ = writeln!(
            out,
            " -cmds {{\n{indent}    RemoteCmd {{{}}}\n{indent}}}",
            list.join(" ")
        );
    }
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
    use super::super::Metadata;
    use super::*;

    #[test]
    fn one_task_per_chunk() {
        let j = job("name: sh010\nframes: 1-5\nchunk: 2\ncommand: [sh, -c, 'echo {start}-{end} > \"a b\"; [ x ]']\n");
        let meta = Metadata {
            project: Some("DEMO".into()),
            job: Some(9),
            ..Default::default()
        };
        let s = script(&[Exportable { job: j, meta }]).unwrap();
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
