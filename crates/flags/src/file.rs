//! Reading the features file, shared by the manager and the editor.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// The file is a short list of names; anything this big is a mistake (a log pointed at the
/// wrong path, say), and the watcher re-reads the file twice a second.
pub(crate) const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Why the file could not be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// A directory, FIFO, socket or device: refused before opening, so that a FIFO cannot
    /// block the watcher.
    NotAFile,
    TooLarge,
    Io(io::Error),
}

/// The file's bytes, or `None` when nothing exists at `path` (a dangling symlink included).
/// Symlinks are followed, so a Kubernetes ConfigMap mount works.
pub(crate) fn read(path: &Path) -> Result<Option<Vec<u8>>, ReadError> {
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(ReadError::Io(error)),
    };
    if !metadata.is_file() {
        return Err(ReadError::NotAFile);
    }
    if metadata.len() > MAX_FILE_BYTES {
        return Err(ReadError::TooLarge);
    }
    let file = match File::open(path) {
        Ok(file) => file,
        // Deleted between the two calls.
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(ReadError::Io(error)),
    };
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ReadError::TooLarge);
    }
    Ok(Some(bytes))
}
