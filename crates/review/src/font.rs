//! Finding a font at run time: the configured file, fontconfig's choice, then known paths.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Result, ReviewError};

/// Where Debian's `fonts-dejavu-core` and other distributions put DejaVu Sans.
const KNOWN: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
];

/// The font file to draw with.
pub fn find(configured: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = configured {
        return if p.is_file() {
            Ok(p.to_path_buf())
        } else {
            Err(ReviewError::NoFont(format!(
                "review.font {} does not exist",
                p.display()
            )))
        };
    }
    if let Some(p) = fc_match() {
        return Ok(p);
    }
    KNOWN
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .ok_or_else(|| {
            ReviewError::NoFont(format!(
                "fc-match found none and none of {} exists",
                KNOWN.join(", ")
            ))
        })
}

/// fontconfig's best match for DejaVu Sans, when fontconfig is installed and finds a file.
fn fc_match() -> Option<PathBuf> {
    let out = Command::new("fc-match")
        .args(["-f", "%{file}", "DejaVu Sans:style=Book"])
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let path = PathBuf::from(text.trim());
    let ok = out.status.success()
        && path.is_file()
        && path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("ttf") || e.eq_ignore_ascii_case("otf"));
    ok.then_some(path)
}
