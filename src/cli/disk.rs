//! Project files on disk: the [`FileSource`] the command line reads through,
//! and the only one that touches the disk.
//!
//! No read leaves the project. Every path is resolved to its real location
//! (links included) and must lie under the real path of the project root;
//! a link inside the project to a file inside it is followed. Only regular
//! files are read: the type is checked before opening (opening a named pipe
//! would block), the file is opened non-blocking and without following a
//! last-moment link, and checked again on the open handle. Files over a
//! size limit are refused: [`DiskSource::max_read`] for files read whole
//! (KDL), [`DiskSource::max_stream`] for streamed ones (measurements).
//! Errors say what was refused, never what the file holds or where a link
//! points.

use std::fs::{File, FileType, Metadata};
use std::io::Read;
use std::path::{Path, PathBuf};

use virtplan::source::{FileKind, FileSource, Listing, ReadError, SkipReason, Skipped};

/// Default for [`DiskSource::max_read`]: 64 MiB, far above any KDL file.
pub const DEFAULT_MAX_READ: u64 = 64 << 20;
/// Default for [`DiskSource::max_stream`]: 16 GiB of measurements per file.
pub const DEFAULT_MAX_STREAM: u64 = 16 << 30;
/// Folders deeper than this below the root are not listed.
pub const MAX_DEPTH: usize = 16;

/// Files under a directory on disk.
pub struct DiskSource {
    /// The project directory as given; `fmt` writes under it.
    pub root: PathBuf,
    /// The root's real path; `None` when it cannot be resolved.
    real_root: Option<PathBuf>,
    /// Largest file [`FileSource::read`] loads whole, in bytes.
    pub max_read: u64,
    /// Largest file [`FileSource::open`] streams, in bytes.
    pub max_stream: u64,
}

impl DiskSource {
    pub fn new(root: &Path) -> DiskSource {
        DiskSource {
            root: root.to_path_buf(),
            real_root: std::fs::canonicalize(root).ok(),
            max_read: DEFAULT_MAX_READ,
            max_stream: DEFAULT_MAX_STREAM,
        }
    }

    /// Resolves `path` to its real location under the root and opens it,
    /// if it is a regular file of at most `limit` bytes. Returns the file
    /// and its size.
    fn open_checked(&self, path: &str, limit: u64) -> Result<(File, u64), ReadError> {
        let Some(real_root) = &self.real_root else {
            return Err(ReadError::Io(
                "the project directory cannot be resolved".to_string(),
            ));
        };
        let real = std::fs::canonicalize(self.root.join(path)).map_err(io_error)?;
        if !real.starts_with(real_root) {
            return Err(ReadError::OutsideProject);
        }
        // Checked before opening: opening a named pipe blocks.
        check(&std::fs::metadata(&real).map_err(io_error)?, limit)?;
        let file = open_no_block(&real).map_err(io_error)?;
        // Checked again on the handle: the path may have changed meanwhile.
        let meta = file.metadata().map_err(io_error)?;
        check(&meta, limit)?;
        Ok((file, meta.len()))
    }
}

/// Lists `dir` into `out`, links resolved against `real_root`.
fn walk(real_root: &Path, dir: &Path, prefix: &str, depth: usize, out: &mut Listing) {
    let here = if prefix.is_empty() { "." } else { prefix };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            out.skipped
                .push(skipped(here, SkipReason::Unreadable(e.to_string())));
            return;
        }
    };
    let mut names = Vec::new();
    for entry in entries {
        match entry {
            Ok(e) => match e.file_name().into_string() {
                Ok(name) => names.push((name, e.path())),
                Err(raw) => out.skipped.push(skipped(
                    &join(prefix, &raw.to_string_lossy()),
                    SkipReason::Unreadable("its name is not valid UTF-8".to_string()),
                )),
            },
            Err(e) => out
                .skipped
                .push(skipped(here, SkipReason::Unreadable(e.to_string()))),
        }
    }
    names.sort();
    for (name, path) in names {
        // Hidden entries (.git, .DS_Store, editor files) are skipped silently.
        if name.starts_with('.') {
            continue;
        }
        let rel = join(prefix, &name);
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) => {
                out.skipped
                    .push(skipped(&rel, SkipReason::Unreadable(e.to_string())));
                continue;
            }
        };
        let kind = meta.file_type();
        if kind.is_symlink() {
            match link_target(real_root, &path) {
                Ok(()) => out.files.push(rel),
                Err(reason) => out.skipped.push(skipped(&rel, reason)),
            }
        } else if kind.is_dir() {
            if name == "target" {
                out.skipped.push(skipped(&rel, SkipReason::BuildOutput));
            } else if depth >= MAX_DEPTH {
                out.skipped
                    .push(skipped(&rel, SkipReason::TooDeep { limit: MAX_DEPTH }));
            } else {
                walk(real_root, &path, &rel, depth + 1, out);
            }
        } else if kind.is_file() {
            out.files.push(rel);
        } else {
            out.skipped.push(skipped(
                &rel,
                SkipReason::NotARegularFile {
                    kind: file_kind(&kind),
                },
            ));
        }
    }
}

impl FileSource for DiskSource {
    fn list(&self) -> Vec<String> {
        self.listing().files
    }
    fn listing(&self) -> Listing {
        let mut out = Listing::default();
        match &self.real_root {
            Some(real_root) => walk(real_root, real_root, "", 0, &mut out),
            None => out.skipped.push(skipped(
                ".",
                SkipReason::Unreadable("the project directory cannot be resolved".to_string()),
            )),
        }
        out
    }
    fn read(&self, path: &str) -> Result<Vec<u8>, ReadError> {
        let limit = self.max_read;
        let (file, size) = self.open_checked(path, limit)?;
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        // One byte over the limit tells a file that grew since it was checked.
        file.take(limit.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(io_error)?;
        let read = bytes.len() as u64;
        if read > limit {
            return Err(ReadError::TooLarge { size: read, limit });
        }
        Ok(bytes)
    }
    fn open(&self, path: &str) -> Result<Box<dyn Read + Send + '_>, ReadError> {
        let limit = self.max_stream;
        let (file, _) = self.open_checked(path, limit)?;
        Ok(Box::new(Capped { file, left: limit }))
    }
}

/// A stream that fails rather than read past the size limit (a file that
/// grows while it is read).
struct Capped {
    file: File,
    left: u64,
}

impl Read for Capped {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read(buf)?;
        self.left = self.left.checked_sub(n as u64).ok_or_else(|| {
            std::io::Error::other("the file grew past the size limit while being read")
        })?;
        Ok(n)
    }
}

fn skipped(path: &str, reason: SkipReason) -> Skipped {
    Skipped {
        path: path.to_string(),
        reason,
    }
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}/{name}")
    }
}

/// Whether a link found by the listing is listed: a link to a regular file
/// inside the project is; anything else says why not.
fn link_target(real_root: &Path, link: &Path) -> Result<(), SkipReason> {
    let real = std::fs::canonicalize(link).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => SkipReason::BrokenLink,
        _ => SkipReason::Unreadable(e.to_string()),
    })?;
    if !real.starts_with(real_root) {
        return Err(SkipReason::OutsideProject);
    }
    let meta = std::fs::metadata(&real).map_err(|e| SkipReason::Unreadable(e.to_string()))?;
    let kind = meta.file_type();
    if kind.is_file() {
        Ok(())
    } else if kind.is_dir() {
        Err(SkipReason::LinkedFolder)
    } else {
        Err(SkipReason::NotARegularFile {
            kind: file_kind(&kind),
        })
    }
}

/// Refuses what is not a regular file or is over `limit` bytes.
fn check(meta: &Metadata, limit: u64) -> Result<(), ReadError> {
    let kind = meta.file_type();
    if !kind.is_file() {
        return Err(ReadError::NotARegularFile {
            kind: file_kind(&kind),
        });
    }
    if meta.len() > limit {
        return Err(ReadError::TooLarge {
            size: meta.len(),
            limit,
        });
    }
    Ok(())
}

fn file_kind(kind: &FileType) -> FileKind {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return FileKind::Fifo;
        }
        if kind.is_socket() {
            return FileKind::Socket;
        }
        if kind.is_block_device() {
            return FileKind::BlockDevice;
        }
        if kind.is_char_device() {
            return FileKind::CharDevice;
        }
    }
    if kind.is_dir() {
        FileKind::Directory
    } else {
        FileKind::Other
    }
}

/// Opens for reading without blocking (a pipe swapped in after the check)
/// and without following a link swapped in for the last component.
fn open_no_block(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW);
    }
    options.open(path)
}

fn io_error(e: std::io::Error) -> ReadError {
    match e.kind() {
        std::io::ErrorKind::NotFound => ReadError::NotFound,
        _ => ReadError::Io(e.to_string()),
    }
}
