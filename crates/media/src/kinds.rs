//! The one file-kind registry: which extensions are image frames (and of which format), which
//! are movies, and which are anything else. Every command that sorts files by kind (`ls`,
//! `probe`, validation, ingest, the render verifier) asks this module, so they cannot disagree.
//!
//! | kind | extensions (case-insensitive) |
//! |---|---|
//! | image frame: OpenEXR | `exr` `sxr` (stereo EXR) |
//! | image frame: DPX | `dpx` |
//! | image frame: Cineon | `cin` |
//! | image frame: TIFF | `tif` `tiff` `tx` |
//! | image frame: PNG | `png` |
//! | image frame: JPEG | `jpg` `jpeg` `jpe` |
//! | image frame: TGA | `tga` |
//! | image frame: Radiance HDR | `hdr` `rgbe` `pic` |
//! | movie | `mov` `mp4` `m4v` `mxf` `mkv` `avi` `webm` `mpg` `mpeg` `ts` `mts` `m2ts` `r3d` `braw` `dnxhd` `y4m` `gif` `wmv` `flv` `ogv` |
//! | other | everything else |
//!
//! Image frames group into sequences; movies never do (`SH030_review_v001.mov` is one movie,
//! not frame 1 of `SH030_review_v@@@.mov`); other files group as before (`cache.0001.bgeo.sc`
//! is a sequence too). [`Registry`] hands this rule to `shotline_sequences` grouping.

use std::path::Path;

use crate::info::Format;

/// The image formats read natively.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    /// OpenEXR (`.exr`, `.sxr`).
    Exr,
    /// DPX (`.dpx`).
    Dpx,
    /// Cineon (`.cin`).
    Cineon,
    /// TIFF / BigTIFF (`.tif`, `.tiff`, `.tx`).
    Tiff,
    /// PNG (`.png`).
    Png,
    /// JPEG (`.jpg`, `.jpeg`, `.jpe`).
    Jpeg,
    /// Truevision TGA (`.tga`).
    Tga,
    /// Radiance RGBE (`.hdr`, `.rgbe`, `.pic`).
    Hdr,
}

impl ImageFormat {
    /// The probe format of this image format.
    pub fn format(self) -> Format {
        match self {
            ImageFormat::Exr => Format::Exr,
            ImageFormat::Dpx => Format::Dpx,
            ImageFormat::Cineon => Format::Cineon,
            ImageFormat::Tiff => Format::Tiff,
            ImageFormat::Png => Format::Png,
            ImageFormat::Jpeg => Format::Jpeg,
            ImageFormat::Tga => Format::Tga,
            ImageFormat::Hdr => Format::Hdr,
        }
    }
}

/// What a file is, judged by its extension alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// One frame of an image sequence, in a format probed natively.
    ImageFrame(ImageFormat),
    /// A movie container (probed through ffprobe); never part of a frame sequence.
    Movie,
    /// Anything else (caches, scenes, text): not probed; numbered ones still group.
    Other,
}

/// Image frame extensions (lowercase), in table order.
pub const IMAGE_EXTENSIONS: &[&str] = &[
    "exr", "sxr", "dpx", "cin", "tif", "tiff", "tx", "png", "jpg", "jpeg", "jpe", "tga", "hdr",
    "rgbe", "pic",
];

/// Movie container extensions (lowercase), in table order.
pub const MOVIE_EXTENSIONS: &[&str] = &[
    "mov", "mp4", "m4v", "mxf", "mkv", "avi", "webm", "mpg", "mpeg", "ts", "mts", "m2ts", "r3d",
    "braw", "dnxhd", "y4m", "gif", "wmv", "flv", "ogv",
];

/// Longest extension in the table; longer ones are [`FileKind::Other`] without a lookup.
const MAX_EXT: usize = 5;

impl FileKind {
    /// The kind of an extension given without its dot, in any case (`"EXR"`, `"mov"`).
    /// Allocation-free: it lowercases into a small stack buffer.
    pub fn from_extension(ext: &str) -> FileKind {
        let b = ext.as_bytes();
        if b.is_empty() || b.len() > MAX_EXT {
            return FileKind::Other;
        }
        let mut buf = [0u8; MAX_EXT];
        let low = &mut buf[..b.len()];
        low.copy_from_slice(b);
        low.make_ascii_lowercase();
        use ImageFormat as I;
        match &*low {
            b"exr" | b"sxr" => FileKind::ImageFrame(I::Exr),
            b"dpx" => FileKind::ImageFrame(I::Dpx),
            b"cin" => FileKind::ImageFrame(I::Cineon),
            b"tif" | b"tiff" | b"tx" => FileKind::ImageFrame(I::Tiff),
            b"png" => FileKind::ImageFrame(I::Png),
            b"jpg" | b"jpeg" | b"jpe" => FileKind::ImageFrame(I::Jpeg),
            b"tga" => FileKind::ImageFrame(I::Tga),
            b"hdr" | b"rgbe" | b"pic" => FileKind::ImageFrame(I::Hdr),
            b"mov" | b"mp4" | b"m4v" | b"mxf" | b"mkv" | b"avi" | b"webm" | b"mpg" | b"mpeg"
            | b"ts" | b"mts" | b"m2ts" | b"r3d" | b"braw" | b"dnxhd" | b"y4m" | b"gif" | b"wmv"
            | b"flv" | b"ogv" => FileKind::Movie,
            _ => FileKind::Other,
        }
    }

    /// The kind of a path, from its (last) extension.
    pub fn of_path(path: &Path) -> FileKind {
        path.extension()
            .and_then(|e| e.to_str())
            .map_or(FileKind::Other, FileKind::from_extension)
    }

    /// True for image frames.
    pub fn is_image_frame(self) -> bool {
        matches!(self, FileKind::ImageFrame(_))
    }

    /// True for movie containers.
    pub fn is_movie(self) -> bool {
        self == FileKind::Movie
    }

    /// True for what `probe` reads: image frames and movies.
    pub fn is_media(self) -> bool {
        self != FileKind::Other
    }

    /// True when numbered files of this kind form frame sequences (everything but movies).
    pub fn groups_as_frames(self) -> bool {
        self != FileKind::Movie
    }

    /// The probe format this kind implies (`None` for other files).
    pub fn format(self) -> Option<Format> {
        match self {
            FileKind::ImageFrame(f) => Some(f.format()),
            FileKind::Movie => Some(Format::Movie),
            FileKind::Other => None,
        }
    }
}

/// The registry as a grouping rule for `shotline_sequences` (`group_entries_with`,
/// `Grouping::ungroup_with`): movies never form sequences.
#[derive(Debug, Clone, Copy, Default)]
pub struct Registry;

impl shotline_sequences::Classify for Registry {
    fn groups_as_frames(&self, ext: &str) -> bool {
        FileKind::from_extension(ext).groups_as_frames()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_lookup_agree() {
        for e in IMAGE_EXTENSIONS {
            assert!(FileKind::from_extension(e).is_image_frame(), "{e}");
            assert!(e.len() <= MAX_EXT);
        }
        for e in MOVIE_EXTENSIONS {
            assert_eq!(FileKind::from_extension(e), FileKind::Movie, "{e}");
            assert!(e.len() <= MAX_EXT);
        }
    }

    #[test]
    fn case_insensitive_and_other() {
        assert_eq!(
            FileKind::from_extension("EXR"),
            FileKind::ImageFrame(ImageFormat::Exr)
        );
        assert_eq!(
            FileKind::from_extension("Sxr"),
            FileKind::ImageFrame(ImageFormat::Exr)
        );
        assert_eq!(FileKind::from_extension("MPG"), FileKind::Movie);
        assert_eq!(FileKind::from_extension("txt"), FileKind::Other);
        assert_eq!(FileKind::from_extension(""), FileKind::Other);
        assert_eq!(FileKind::from_extension("exrrrrrrr"), FileKind::Other);
        assert_eq!(FileKind::from_extension("é"), FileKind::Other);
        assert_eq!(
            FileKind::of_path(Path::new("a/plate.1001.TIF")),
            FileKind::ImageFrame(ImageFormat::Tiff)
        );
        assert_eq!(FileKind::of_path(Path::new("noext")), FileKind::Other);
    }

    #[test]
    fn only_movies_stay_out_of_sequences() {
        use shotline_sequences::Classify;
        assert!(!Registry.groups_as_frames("mov"));
        assert!(!Registry.groups_as_frames("MXF"));
        assert!(Registry.groups_as_frames("exr"));
        assert!(Registry.groups_as_frames("sc"));
        assert!(Registry.groups_as_frames(""));
    }
}
