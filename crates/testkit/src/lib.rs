//! shotline-testkit: what every integration test that needs an external program uses to find it.
//!
//! The README promises that the test suite exercises the real tools (ffmpeg, Blender, the ASC MHL
//! reference implementation, …). A test that silently skipped when one was missing would let CI
//! go green without testing anything, so there is exactly one rule, implemented once here:
//!
//! - with `CI` set (as `.ci/run` does), a missing tool **fails** the test, naming the Debian or
//!   PyPI package that provides it;
//! - without `CI` (a developer's machine), the test prints a note and skips.

#![warn(missing_docs)]

use std::path::{Path, PathBuf};

/// A program the test suite uses, and where it comes from.
#[derive(Debug, Clone, Copy)]
pub struct Tool {
    /// Executable name looked up on `PATH`.
    pub name: &'static str,
    /// How to install it (shown when it is missing).
    pub install: &'static str,
}

/// Every external program the README promises the tests use.
pub const TOOLS: &[Tool] = &[
    Tool {
        name: "ffmpeg",
        install: "apt-get install ffmpeg",
    },
    Tool {
        name: "ffprobe",
        install: "apt-get install ffmpeg",
    },
    Tool {
        name: "blender",
        install: "apt-get install blender",
    },
    Tool {
        name: "exrheader",
        install: "apt-get install openexr",
    },
    Tool {
        name: "iinfo",
        install: "apt-get install openimageio-tools",
    },
    Tool {
        name: "maketx",
        install: "apt-get install openimageio-tools",
    },
    Tool {
        name: "rsync",
        install: "apt-get install rsync",
    },
    Tool {
        name: "ascmhl-debug",
        install: "pip install ascmhl",
    },
    Tool {
        name: "ociobakelut",
        install: "apt-get install opencolorio-tools",
    },
    Tool {
        name: "python3",
        install: "apt-get install python3",
    },
    Tool {
        name: "openjd",
        install: "python3 -m pip install openjd-cli",
    },
    Tool {
        name: "sbatch",
        install: "apt-get install slurm-wlm munge, then scripts/slurm.sh start",
    },
    Tool {
        name: "tclsh",
        install: "apt-get install tcl",
    },
];

/// Whether the tests run under CI (`CI` set to anything but `false` or `0`).
pub fn under_ci() -> bool {
    match std::env::var("CI") {
        Ok(v) => !(v.is_empty() || v.eq_ignore_ascii_case("false") || v == "0"),
        Err(_) => false,
    }
}

/// Finds `name` on `PATH`.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// The path of tool `name`, or `None` (with a note on stderr) when it is missing outside CI.
///
/// # Panics
/// Under CI when the tool is missing: that is the point — the test fails instead of skipping.
pub fn require_tool(name: &str) -> Option<PathBuf> {
    if let Some(p) = which(name) {
        return Some(p);
    }
    let install = TOOLS
        .iter()
        .find(|t| t.name == name)
        .map(|t| t.install)
        .unwrap_or("see scripts/setup.sh");
    if under_ci() {
        panic!("{name} is not on PATH but CI is set: the test suite requires it ({install}; scripts/setup.sh --tests installs it)");
    }
    eprintln!("note: {name} not found on PATH ({install}); skipping this test");
    None
}

/// Like [`require_tool`] for several tools at once: `None` if any is missing (outside CI).
pub fn require_tools(names: &[&str]) -> Option<Vec<PathBuf>> {
    names.iter().map(|n| require_tool(n)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_program_every_machine_has() {
        assert!(which("sh").is_some());
        assert!(which("no-such-program-shotline").is_none());
    }

    #[test]
    fn every_listed_tool_has_an_install_hint() {
        for t in TOOLS {
            assert!(t.install.contains("install"), "{}", t.name);
        }
    }
}
