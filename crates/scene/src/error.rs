//! Why a scene could not be read, resolved or rewritten. Every message names the file, and for
//! syntax errors the line and column and what was expected there.

use std::path::PathBuf;

/// A scene error.
#[derive(Debug, thiserror::Error)]
pub enum SceneError {
    /// The extension is no scene format shotline reads.
    #[error("{}: not a scene file shotline reads: expected .comp or .setting (Fusion), .nk (Nuke) or .ma (Maya ASCII)", path.display())]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// The file could not be read or written.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The text is not what the format allows.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Syntax {
        /// The file (empty until the reader's caller names it).
        path: PathBuf,
        /// 1-based line.
        line: u32,
        /// 1-based column, in bytes.
        column: u32,
        /// What was found and what was expected.
        message: String,
    },
    /// An update that cannot be done as asked (no such node, no such version, a path the
    /// layout cannot rewrite).
    #[error("{}: {message}", path.display())]
    Update {
        /// The scene.
        path: PathBuf,
        /// What is wrong and what was expected.
        message: String,
    },
}

impl SceneError {
    /// The same error naming `path` (readers work on streams and do not know it).
    pub(crate) fn in_file(self, path: &std::path::Path) -> SceneError {
        match self {
            SceneError::Syntax {
                line,
                column,
                message,
                ..
            } => SceneError::Syntax {
                path: path.to_path_buf(),
                line,
                column,
                message,
            },
            SceneError::Io { source, .. } => SceneError::Io {
                path: path.to_path_buf(),
                source,
            },
            other => other,
        }
    }

    pub(crate) fn io(source: std::io::Error) -> SceneError {
        SceneError::Io {
            path: PathBuf::new(),
            source,
        }
    }

    pub(crate) fn syntax(at: crate::stream::Pos, message: impl Into<String>) -> SceneError {
        SceneError::Syntax {
            path: PathBuf::new(),
            line: at.line,
            column: at.column,
            message: message.into(),
        }
    }
}

impl From<std::io::Error> for SceneError {
    fn from(e: std::io::Error) -> SceneError {
        SceneError::io(e)
    }
}
