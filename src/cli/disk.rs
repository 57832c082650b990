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
//! (KDL), [`DiskSource::max_stream`] for streamed ones (measurements);
//! `--max-file-size` sets both. [`read_given`] reads a file the operator
//! names on the command line (`--previous`, `--templates`) with the same
//! checks, less the project root.
//! Errors say what was refused, never what the file holds or where a link
//! points.

use std::fs::{File, FileType, Metadata};
use std::io::Read;
use std::path::{Path, PathBuf};

use virtplan::source::{FileKind, FileSource, Listing, ReadError, SkipReason, Skipped};

/// Default for [`DiskSource::max_read`]: 64 MiB, far above any KDL file.
pub const DEFAULT_MAX_READ: u64 = 64 << 20;
/// Default for [`read_given`]: 256 MiB, far above any plan.json or template.
pub const DEFAULT_MAX_GIVEN: u64 = 256 << 20;
/// Default for [`DiskSource::max_stream`]: 16 GiB of measurements per file.
pub const DEFAULT_MAX_STREAM: u64 = 16 << 30;
/// Folders deeper than this below the root are not listed.
pub const MAX_DEPTH: usize = 16;

/// The reading options of every command.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct ReadArgs {
    /// Refuse any file over SIZE (`512MiB`, `2GB`). Default: 64 MiB for KDL files, 256 MiB
    /// for plans and templates, 16 GiB for measurement files.
    #[arg(long, global = true, value_name = "SIZE", value_parser = parse_size)]
    pub max_file_size: Option<u64>,
}

impl ReadArgs {
    /// The project under `dir`, read with these limits.
    pub fn project(&self, dir: &Path) -> DiskSource {
        DiskSource::new(dir).with_max_file_size(self.max_file_size)
    }
    /// The limit for a file named on the command line ([`read_given`]).
    pub fn given_limit(&self) -> u64 {
        self.max_file_size.unwrap_or(DEFAULT_MAX_GIVEN)
    }
}

/// `--max-file-size`: a size with its unit, at least one byte; a fraction
/// of a byte is dropped (`1.5KiB` is 1536 bytes, `0.5B` is refused).
fn parse_size(text: &str) -> Result<u64, String> {
    let bytes = virtplan::units::parse_bytes(text)?.0.floor();
    if bytes < 1.0 {
        return Err("the limit must be at least 1 byte".to_string());
    }
    if bytes >= u64::MAX as f64 {
        return Err("the limit is too large".to_string());
    }
    Ok(bytes as u64)
}

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

    /// The same source with every file over `limit` bytes refused, when a
    /// limit is given (`--max-file-size`); the defaults otherwise.
    pub fn with_max_file_size(self, limit: Option<u64>) -> DiskSource {
        match limit {
            Some(limit) => DiskSource {
                max_read: limit,
                max_stream: limit,
                ..self
            },
            None => self,
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

/// Reads a file named on the command line, outside the project (a previous
/// plan, a template): only a regular file of at most `limit` bytes, in
/// UTF-8. A named pipe would block the run; a huge file would exhaust memory.
pub fn read_given(path: &Path, limit: u64) -> Result<String, ReadError> {
    // The operator may name a link: it is resolved, and the file it names checked.
    let real = std::fs::canonicalize(path).map_err(io_error)?;
    check(&std::fs::metadata(&real).map_err(io_error)?, limit)?;
    let file = open_no_block(&real).map_err(io_error)?;
    check(&file.metadata().map_err(io_error)?, limit)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io_error)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge {
            size: bytes.len() as u64,
            limit,
        });
    }
    String::from_utf8(bytes).map_err(|_| ReadError::Io("it is not UTF-8 text".to_string()))
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

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// A project directory `proj/` with a sibling `elsewhere/`, under the
    /// system's temporary directory; removed on drop.
    struct Tmp(PathBuf);

    impl Tmp {
        fn new(name: &str) -> Tmp {
            let path = std::env::temp_dir()
                .join(format!("virtplan-disk-unit-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&path);
            std::fs::create_dir_all(path.join("proj")).expect("create proj/");
            std::fs::create_dir_all(path.join("elsewhere")).expect("create elsewhere/");
            Tmp(path)
        }
        fn write(&self, rel: &str, bytes: &[u8]) {
            let path = self.0.join(rel);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("create folders");
            std::fs::write(path, bytes).expect("write a file");
        }
        fn link(&self, rel: &str, target: &str) {
            std::os::unix::fs::symlink(target, self.0.join(rel)).expect("create a link");
        }
        fn source(&self) -> DiskSource {
            DiskSource::new(&self.0.join("proj"))
        }
    }

    impl Drop for Tmp {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn read_all(mut r: Box<dyn Read + Send + '_>) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        r.read_to_end(&mut out).map(|_| out)
    }

    #[test]
    fn paths_leaving_the_root_are_refused() {
        let tmp = Tmp::new("leave");
        tmp.write("elsewhere/secret", b"s3cret");
        tmp.write("proj/a.kdl", b"x");
        let fs = tmp.source();
        let absolute = tmp.0.join("elsewhere/secret");
        for path in ["../elsewhere/secret", absolute.to_str().expect("UTF-8")] {
            assert_eq!(fs.read(path), Err(ReadError::OutsideProject), "{path}");
            assert_eq!(fs.open(path).err(), Some(ReadError::OutsideProject));
        }
        // Inside, however it is written, is fine.
        assert_eq!(fs.read("./a.kdl"), Ok(b"x".to_vec()));
        assert_eq!(fs.read("missing.kdl"), Err(ReadError::NotFound));
    }

    #[test]
    fn links_resolve_before_the_check() {
        let tmp = Tmp::new("links");
        tmp.write("elsewhere/secret", b"s3cret");
        tmp.write("proj/data/real.csv", b"a,b\n");
        tmp.link("proj/out.csv", "../elsewhere/secret");
        tmp.link("proj/in.csv", "data/real.csv");
        tmp.link("proj/dir", "../elsewhere");
        let fs = tmp.source();
        assert_eq!(fs.read("out.csv"), Err(ReadError::OutsideProject));
        assert_eq!(fs.open("out.csv").err(), Some(ReadError::OutsideProject));
        assert_eq!(fs.read("dir/secret"), Err(ReadError::OutsideProject));
        assert_eq!(fs.read("in.csv"), Ok(b"a,b\n".to_vec()));
        let streamed = read_all(fs.open("in.csv").expect("open in.csv")).expect("read in.csv");
        assert_eq!(streamed, b"a,b\n");
    }

    #[test]
    fn only_regular_files_are_opened() {
        let tmp = Tmp::new("kinds");
        std::fs::create_dir_all(tmp.0.join("proj/folder")).expect("create folder");
        let fifo = tmp.0.join("proj/pipe.csv");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("run mkfifo");
        assert!(made.success());
        let fs = tmp.source();
        let pipe = ReadError::NotARegularFile {
            kind: FileKind::Fifo,
        };
        // Would block forever (no writer) if the pipe were opened.
        assert_eq!(fs.read("pipe.csv"), Err(pipe.clone()));
        assert_eq!(fs.open("pipe.csv").err(), Some(pipe));
        assert_eq!(
            fs.read("folder"),
            Err(ReadError::NotARegularFile {
                kind: FileKind::Directory
            })
        );
        assert_eq!(
            fs.read("/dev/null"),
            Err(ReadError::OutsideProject),
            "a device outside is refused for being outside"
        );
        // An opened pipe fails the same check on its handle.
        let opened = open_no_block(&fifo).expect("open a pipe without blocking");
        assert_eq!(
            check(&opened.metadata().expect("fstat"), u64::MAX),
            Err(ReadError::NotARegularFile {
                kind: FileKind::Fifo
            })
        );
    }

    #[test]
    fn size_limits_per_kind_of_read() {
        let tmp = Tmp::new("limits");
        tmp.write("proj/five.kdl", b"12345");
        tmp.write("proj/six.csv", b"123456");
        let mut fs = tmp.source();
        assert_eq!(fs.max_read, 64 << 20);
        assert_eq!(fs.max_stream, 16 << 30);
        fs.max_read = 5;
        fs.max_stream = 6;
        assert_eq!(fs.read("five.kdl"), Ok(b"12345".to_vec()));
        assert_eq!(
            fs.read("six.csv"),
            Err(ReadError::TooLarge { size: 6, limit: 5 })
        );
        let streamed = read_all(fs.open("six.csv").expect("open six.csv")).expect("stream");
        assert_eq!(streamed, b"123456");
        fs.max_stream = 5;
        assert_eq!(
            fs.open("six.csv").err(),
            Some(ReadError::TooLarge { size: 6, limit: 5 })
        );
    }

    #[test]
    fn a_stream_fails_when_the_file_grows_past_the_limit() {
        let tmp = Tmp::new("grows");
        tmp.write("proj/m.csv", b"1234");
        let mut fs = tmp.source();
        fs.max_stream = 4;
        let stream = fs.open("m.csv").expect("open m.csv");
        tmp.write("proj/m.csv", b"123456789");
        let err = read_all(stream).expect_err("grew past the limit");
        assert_eq!(
            err.to_string(),
            "the file grew past the size limit while being read"
        );
    }

    #[test]
    fn the_listing_names_what_it_skips() {
        let tmp = Tmp::new("listing");
        tmp.write("elsewhere/x.kdl", b"");
        tmp.write("proj/a.kdl", b"");
        tmp.write("proj/.git/HEAD", b"");
        tmp.write("proj/target/t.kdl", b"");
        tmp.write("proj/sub/b.kdl", b"");
        tmp.link("proj/in.kdl", "sub/b.kdl");
        tmp.link("proj/out.kdl", "../elsewhere/x.kdl");
        tmp.link("proj/gone.kdl", "nothing-here.kdl");
        tmp.link("proj/alias", "sub");
        let listing = tmp.source().listing();
        assert_eq!(listing.files, ["a.kdl", "in.kdl", "sub/b.kdl"]);
        let skipped: Vec<(&str, &SkipReason)> = listing
            .skipped
            .iter()
            .map(|s| (s.path.as_str(), &s.reason))
            .collect();
        assert_eq!(
            skipped,
            [
                ("alias", &SkipReason::LinkedFolder),
                ("gone.kdl", &SkipReason::BrokenLink),
                ("out.kdl", &SkipReason::OutsideProject),
                ("target", &SkipReason::BuildOutput),
            ]
        );
    }

    #[test]
    fn the_listing_stops_at_the_depth_limit() {
        let tmp = Tmp::new("depth");
        let sixteen = "d/".repeat(MAX_DEPTH);
        tmp.write(&format!("proj/{sixteen}ok.kdl"), b"");
        tmp.write(&format!("proj/{sixteen}d/deep.kdl"), b"");
        let listing = tmp.source().listing();
        assert_eq!(listing.files, [format!("{sixteen}ok.kdl")]);
        assert_eq!(
            listing.skipped,
            [Skipped {
                path: format!("{sixteen}d"),
                reason: SkipReason::TooDeep { limit: MAX_DEPTH },
            }]
        );
    }
}
