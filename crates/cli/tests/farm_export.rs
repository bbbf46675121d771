//! `render export`: job descriptions for other farms, checked with the tools that read them.
//! OpenJD templates pass `openjd check` and run under `openjd run`; Tractor scripts are read by
//! `tclsh` (an `.alf` file is Tcl) whose `RemoteCmd` runs each task's command; Deadline job
//! and plugin info files are parsed as Deadline documents them (`Key=Value` lines) and each
//! task Deadline would make (ChunkSize frames of the frame list, `<STARTFRAME>`/`<ENDFRAME>`/
//! `<QUOTE>` replaced) is run.

mod render_support;

use std::collections::BTreeMap;
use std::path::Path;

use render_support::*;

/// A command that leaves one file per chunk naming its frames and environment.
const JOB: &str = "name: sh010_comp\nframes: 1-7\nchunk: 3\nresources: {threads: 2}\n\
    command: [sh, -c, 'echo \"$SHOTLINE_FRAMES $1 $2 $OMP_NUM_THREADS\" > \"out dir/chunk.$1.txt\"', x, '{start}', '{end}']\n";

fn project() -> Project {
    let p = Project::with_config("project: {code: DEMO}\nrender:\n  max_concurrent: 2\n");
    std::fs::create_dir_all(p.path().join("out dir")).unwrap();
    p.write("job.yaml", JOB);
    p
}

fn export(p: &Project, what: &str, format: &str) -> serde_json::Value {
    let out = p
        .cmd()
        .args([
            "render", "export", what, "--format", format, "-o", "farm", "--json",
        ])
        .args(["--user", "ana", "--shot", "sh010", "--step", "comp"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

fn chunk_files(p: &Project) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(p.path().join("out dir"))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            format!(
                "{}: {}",
                e.file_name().to_string_lossy(),
                std::fs::read_to_string(e.path()).unwrap().trim()
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn openjd_template_passes_openjd_check_and_runs_under_openjd_run() {
    let Some(openjd) = shotline_testkit::require_tool("openjd") else {
        return;
    };
    let p = project();
    let done = export(&p, "job.yaml", "openjd");
    assert_eq!(done["tasks"], 3);
    assert_eq!(done["metadata"]["project"], "DEMO");
    let file = p.path().join("farm/sh010_comp.openjd.json");
    let t: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(t["specificationVersion"], "jobtemplate-2023-09");
    assert_eq!(
        t["jobEnvironments"][0]["variables"]["SHOTLINE_SHOT"],
        "sh010"
    );
    let check = std::process::Command::new(&openjd)
        .arg("check")
        .arg(&file)
        .output()
        .unwrap();
    assert!(check.status.success(), "openjd check: {check:?}");
    let run = std::process::Command::new(&openjd)
        .args(["run", "--step", "render"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(run.status.success(), "openjd run: {run:?}");
    assert_eq!(
        chunk_files(&p),
        [
            "chunk.1.txt: 1-3 1 3 2",
            "chunk.4.txt: 4-6 4 6 2",
            "chunk.7.txt: 7 7 7 2"
        ]
    );
}

#[test]
fn tractor_script_is_tcl_with_one_task_per_chunk_that_runs() {
    let Some(tclsh) = shotline_testkit::require_tool("tclsh") else {
        return;
    };
    let p = project();
    // From the queue: the job id and its folder are known ({job}, {tmp}, SHOTLINE_JOB).
    p.cmd()
        .args(["render", "submit", "job.yaml"])
        .assert()
        .success();
    let done = export(&p, "sh010_comp", "tractor");
    assert_eq!(done["metadata"]["job"], 1);
    let alf = p.path().join("farm/job-1-sh010_comp.alf");
    let text = std::fs::read_to_string(&alf).unwrap();
    assert!(text.starts_with("##AlfredToDo 3.0\n"), "{text}");
    // Tractor's job script commands, defined in Tcl: Job runs its subtasks, Task its
    // commands, RemoteCmd executes its argument list (as a blade would).
    let runner = p.write(
        "run.tcl",
        "set titles {}\n\
         proc opt {args name} { set i [lsearch -exact $args $name]; if {$i < 0} { return {} }; return [lindex $args [expr {$i + 1}]] }\n\
         proc Job {args} { puts \"job [opt $args -title] | [opt $args -metadata]\"; uplevel #0 [opt $args -subtasks] }\n\
         proc Task {args} { lappend ::titles [opt $args -title]; uplevel #0 [opt $args -cmds] }\n\
         proc RemoteCmd {cmd args} { exec {*}$cmd }\n\
         source [lindex $argv 0]\n\
         puts \"tasks [llength $titles]\"\n",
    );
    let out = std::process::Command::new(&tclsh)
        .arg(&runner)
        .arg(&alf)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "tclsh: {out:?}");
    assert!(
        stdout
            .contains("job sh010_comp | project=DEMO shot=sh010 step=comp user=ana shotline_job=1"),
        "{stdout}"
    );
    assert!(stdout.contains("tasks 3"), "{stdout}");
    assert_eq!(
        chunk_files(&p),
        [
            "chunk.1.txt: 1-3 1 3 2",
            "chunk.4.txt: 4-6 4 6 2",
            "chunk.7.txt: 7 7 7 2"
        ]
    );
}

/// `Key=Value` lines as Deadline reads job and plugin info files.
fn info(path: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let (k, v) = l
                .split_once('=')
                .unwrap_or_else(|| panic!("not Key=Value: {l:?}"));
            (k.to_string(), v.to_string())
        })
        .collect()
}

#[test]
fn deadline_files_carry_the_metadata_and_their_tasks_run() {
    let p = project();
    // Deadline's argument string has no way to carry a double quote: the script avoids them.
    p.write(
        "job.yaml",
        "name: sh010_comp\nframes: 1-7\nchunk: 3\nresources: {threads: 2}\n\
         command: [sh, -c, 'echo $SHOTLINE_FRAMES $1 $2 $OMP_NUM_THREADS > out\\ dir/chunk.$1.txt', x, '{start}', '{end}']\n",
    );
    export(&p, "job.yaml", "deadline");
    let job = info(&p.path().join("farm/sh010_comp.job_info.job"));
    let plugin = info(&p.path().join("farm/sh010_comp.plugin_info.job"));
    for (k, v) in [
        ("Plugin", "CommandLine"),
        ("Name", "sh010_comp"),
        ("BatchName", "DEMO sh010"),
        ("UserName", "ana"),
        ("Frames", "1-3,4-6,7"),
        ("ChunkSize", "3"),
        ("ExtraInfoKeyValue0", "project=DEMO"),
        ("ExtraInfoKeyValue2", "step=comp"),
    ] {
        assert_eq!(job.get(k).map(String::as_str), Some(v), "{k} in {job:?}");
    }
    assert_eq!(plugin["Executable"], "sh");
    // Deadline's tasks: the frame list cut into ChunkSize frames, tokens replaced, arguments
    // split as its command line is split (whitespace, <QUOTE> groups).
    let frames: Vec<i64> = (1..=7).collect();
    let env: Vec<(String, String)> = job
        .iter()
        .filter(|(k, _)| k.starts_with("EnvironmentKeyValue"))
        .map(|(_, v)| {
            let (k, v) = v.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect();
    for chunk in frames.chunks(3) {
        let args = plugin["Arguments"]
            .replace("<STARTFRAME>", &chunk[0].to_string())
            .replace("<ENDFRAME>", &chunk[chunk.len() - 1].to_string());
        let mut argv = Vec::new();
        let mut rest = args.as_str();
        while !rest.is_empty() {
            rest = rest.trim_start();
            if let Some(r) = rest.strip_prefix("<QUOTE>") {
                let end = r.find("<QUOTE>").unwrap();
                argv.push(r[..end].to_string());
                rest = &r[end + 7..];
            } else {
                let end = rest.find(' ').unwrap_or(rest.len());
                argv.push(rest[..end].to_string());
                rest = &rest[end..];
            }
        }
        let status = std::process::Command::new(&plugin["Executable"])
            .args(&argv)
            .current_dir(&plugin["StartupDirectory"])
            .envs(env.iter().cloned())
            .env("SHOTLINE_FRAMES", "-")
            .status()
            .unwrap();
        assert!(status.success());
    }
    assert_eq!(
        chunk_files(&p),
        [
            "chunk.1.txt: - 1 3 2",
            "chunk.4.txt: - 4 6 2",
            "chunk.7.txt: - 7 7 2"
        ]
    );
}

#[test]
fn a_job_a_format_cannot_express_is_refused_with_the_reason() {
    let p = project();
    p.write(
        "odd.yaml",
        "frames: 5-8,1-4\nchunk: 4\ncommand: [r, '{start}', '{end}']\n",
    );
    let out = p
        .cmd()
        .args([
            "render", "export", "odd.yaml", "--format", "deadline", "-o", "farm",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("deadline") && err.contains("5-8"), "{err}");
    let out = p
        .cmd()
        .args([
            "render", "export", "nope", "--format", "openjd", "-o", "farm",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope"));
}

/// A queue holding `light` (job 1) and `comp` (job 2, `after: light`), each writing one file
/// per chunk into `out dir`; comp's command fails unless light's files are there.
fn dependent_jobs(p: &Project) {
    p.write(
        "light.yaml",
        "name: light\nframes: 1-4\nchunk: 2\ncommand: [sh, -c, 'echo lit > out\\ dir/light.$1.txt', x, '{start}', '{end}']\n",
    );
    p.write(
        "comp.yaml",
        "name: comp\nframes: 1-2\nchunk: 2\nafter: [light]\n\
         command: [sh, -c, 'test -f out\\ dir/light.1.txt && test -f out\\ dir/light.3.txt && echo comp > out\\ dir/comp.$1.txt', x, '{start}', '{end}']\n",
    );
    for spec in ["light.yaml", "comp.yaml"] {
        p.cmd().args(["render", "submit", spec]).assert().success();
    }
}

#[test]
fn tractor_export_carries_after_as_task_dependencies() {
    let Some(tclsh) = shotline_testkit::require_tool("tclsh") else {
        return;
    };
    let p = project();
    dependent_jobs(&p);
    let done = export(&p, "comp", "tractor");
    assert_eq!(done["tasks"], 3, "both jobs' tasks: {done:#}");
    let alf = p.path().join("farm/job-2-comp.alf");
    // Tractor's semantics, in Tcl: a Task runs its subtasks first, then its commands; an
    // Instance stands for the task of that title elsewhere in the job, which must be done.
    let runner = p.write(
        "run.tcl",
        "set done {}\nset waited {}\n\
         proc opt {args name} { set i [lsearch -exact $args $name]; if {$i < 0} { return {} }; return [lindex $args [expr {$i + 1}]] }\n\
         proc Job {args} { uplevel #0 [opt $args -subtasks] }\n\
         proc Task {args} { uplevel #0 [opt $args -subtasks]; uplevel #0 [opt $args -cmds]; lappend ::done [opt $args -title] }\n\
         proc Instance {args} { set t [opt $args -title]; if {[lsearch -exact $::done $t] < 0} { error \"instance of $t before it ran\" }; lappend ::waited $t }\n\
         proc RemoteCmd {cmd args} { exec {*}$cmd }\n\
         source [lindex $argv 0]\n\
         puts \"waited [lsort -unique $waited]\"\n",
    );
    let out = std::process::Command::new(&tclsh)
        .arg(&runner)
        .arg(&alf)
        .output()
        .unwrap();
    assert!(out.status.success(), "tclsh: {out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("waited {job 1 light}"), "{stdout}");
    assert_eq!(
        chunk_files(&p),
        ["comp.1.txt: comp", "light.1.txt: lit", "light.3.txt: lit"]
    );
}

#[test]
fn deadline_export_submits_dependencies_first_with_job_dependencies() {
    let p = project();
    dependent_jobs(&p);
    let done = export(&p, "comp", "deadline");
    let files: Vec<String> = done["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            Path::new(f.as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(
        files,
        [
            "job-1-light.job_info.job",
            "job-1-light.plugin_info.job",
            "job-2-comp.job_info.job",
            "job-2-comp.plugin_info.job",
            "job-2-comp.submit.sh"
        ]
    );
    // Deadline cannot run here: a stand-in `deadlinecommand` that keeps each job info it is
    // given and answers as Deadline does, with the new job's id.
    let bin = p.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let fake = bin.join("deadlinecommand");
    std::fs::write(
        &fake,
        "#!/bin/sh\nn=$(ls \"$LOG\" | wc -l)\ncp \"$1\" \"$LOG/$n.job\"\necho Result=Success\necho \"JobID=dl$n\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let log = p.path().join("submitted");
    std::fs::create_dir_all(&log).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let out = std::process::Command::new("sh")
        .arg(p.path().join("farm/job-2-comp.submit.sh"))
        .env("PATH", path)
        .env("LOG", &log)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let first = info(&log.join("0.job"));
    let second = info(&log.join("1.job"));
    assert_eq!(first["Name"], "light");
    assert!(!first.contains_key("JobDependencies"), "{first:?}");
    assert_eq!(second["Name"], "comp");
    assert_eq!(second["JobDependencies"], "dl0");
    // A stand-in that refuses the job stops the script with the reason.
    std::fs::write(&fake, "#!/bin/sh\necho Error: no license >&2\nexit 1\n").unwrap();
    let out = std::process::Command::new("sh")
        .arg(p.path().join("farm/job-2-comp.submit.sh"))
        .env(
            "PATH",
            format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
        )
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no license"),
        "{out:?}"
    );
}

#[test]
fn openjd_export_of_a_waiting_job_warns_that_the_template_cannot_carry_it() {
    let p = project();
    dependent_jobs(&p);
    let out = p
        .cmd()
        .args([
            "render", "export", "comp", "--format", "openjd", "-o", "farm", "--json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["tasks"], 1, "only the job's own template: {v:#}");
    let note = v["notes"][0].as_str().unwrap();
    assert!(note.contains("job 1 (light)"), "{note}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("job 1 (light)"),
        "{out:?}"
    );
    assert!(p.path().join("farm/job-2-comp.openjd.json").is_file());
}
