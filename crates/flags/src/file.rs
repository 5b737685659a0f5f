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

/// Whether [`crate::set_feature`] could replace the file at `path` now, as this process: the
/// file (a symlink's target, which is what the editor writes) exists and may be written, or
/// it is missing and the folder that would hold it may be written; either way the folder too,
/// because the atomic replace writes a new file there and renames it over the old one. A
/// file whose permissions forbid writing counts as read-only even where the rename would get
/// past them: the operator said so.
///
/// A few metadata calls and `access(2)` checks, cheap enough for every page view. Answers for
/// the process's real user and groups (the service is not set-uid), and sees read-only mounts.
pub(crate) fn writable(path: &Path) -> bool {
    let target = match std::fs::symlink_metadata(path) {
        Ok(metadata) if metadata.file_type().is_symlink() => match std::fs::canonicalize(path) {
            Ok(target) => target,
            // A dangling link: the editor cannot resolve it either.
            Err(_) => return false,
        },
        _ => path.to_owned(),
    };
    let folder = match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    match std::fs::metadata(&target) {
        Ok(metadata) => metadata.is_file() && may_write(&target, false) && may_write(folder, true),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            // The editor creates missing folders: the nearest one that exists must take them.
            for ancestor in folder.ancestors() {
                let ancestor = if ancestor.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    ancestor
                };
                match std::fs::metadata(ancestor) {
                    Ok(metadata) => return metadata.is_dir() && may_write(ancestor, true),
                    Err(error) if error.kind() == io::ErrorKind::NotFound => {}
                    Err(_) => return false,
                }
            }
            false
        }
        Err(_) => false,
    }
}

/// `access(2)`: may this process write `path` (and, for a folder, enter it)?
#[cfg(unix)]
fn may_write(path: &Path, folder: bool) -> bool {
    use rustix::fs::Access;
    let wanted = if folder {
        Access::WRITE_OK | Access::EXEC_OK
    } else {
        Access::WRITE_OK
    };
    rustix::fs::access(path, wanted).is_ok()
}

/// Without `access(2)`, the read-only attribute is all there is to go by.
#[cfg(not(unix))]
fn may_write(path: &Path, _folder: bool) -> bool {
    std::fs::metadata(path).is_ok_and(|metadata| !metadata.permissions().readonly())
}
