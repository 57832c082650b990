//! Sources: the files of a project, the spans into them, and how they are found.
//!
//! The library never touches the file system. It asks a [`FileSource`] for
//! the list of files under the project root and for their bytes; the CLI
//! provides one backed by the disk, tests provide [`MemorySource`]. Every
//! file read gets a [`FileId`] in the [`SourceMap`], and every [`Span`] is a
//! byte range in one of those files.

use std::collections::BTreeMap;
use std::fmt;

/// Index of a file in the [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FileId(pub u32);

/// A byte range in one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span {
            file,
            start: start.min(u32::MAX as usize) as u32,
            end: end.min(u32::MAX as usize) as u32,
        }
    }
    pub fn len(&self) -> usize {
        (self.end - self.start) as usize
    }
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

/// A value together with where the user wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
}

/// One loaded file: its project-relative name and its text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path relative to the project root, with `/` separators.
    pub name: String,
    pub text: String,
    /// Byte offsets at which lines start, for `file:line` positions.
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(name: String, text: String) -> SourceFile {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceFile {
            name,
            text,
            line_starts,
        }
    }

    /// 1-based line and column of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line];
        let col = self
            .text
            .get(start..offset.min(self.text.len()))
            .map_or(1, |s| s.chars().count() + 1);
        (line + 1, col)
    }
}

/// Every file read during a run.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
    by_name: BTreeMap<String, FileId>,
}

impl SourceMap {
    pub fn add(&mut self, name: String, text: String) -> FileId {
        if let Some(id) = self.by_name.get(&name) {
            return *id;
        }
        let id = FileId(self.files.len() as u32);
        self.by_name.insert(name.clone(), id);
        self.files.push(SourceFile::new(name, text));
        id
    }
    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }
    pub fn lookup(&self, name: &str) -> Option<FileId> {
        self.by_name.get(name).copied()
    }
    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }
    /// `file:line:col` of a span's start.
    pub fn position(&self, span: Span) -> String {
        let file = self.get(span.file);
        let (line, col) = file.line_col(span.start as usize);
        format!("{}:{line}:{col}", file.name)
    }
}

/// What kind of thing a path names, when it is not a regular file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FileKind {
    Directory,
    Fifo,
    Socket,
    BlockDevice,
    CharDevice,
    Other,
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FileKind::Directory => "a directory",
            FileKind::Fifo => "a named pipe (FIFO)",
            FileKind::Socket => "a socket",
            FileKind::BlockDevice => "a block device",
            FileKind::CharDevice => "a character device",
            FileKind::Other => "not a regular file",
        })
    }
}

/// Why a file could not be read. Messages never quote the file's contents
/// nor where a link outside the project points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    NotFound,
    /// The path, once links are resolved, lies outside the project root.
    OutsideProject,
    /// A directory, named pipe, socket or device: refused before opening.
    NotARegularFile {
        kind: FileKind,
    },
    /// Larger than the source's limit for this kind of read.
    TooLarge {
        size: u64,
        limit: u64,
    },
    Io(String),
}

impl ReadError {
    /// The diagnostic code for this error.
    pub fn code(&self) -> &'static str {
        match self {
            ReadError::NotFound | ReadError::Io(_) => "virtplan::load::read",
            ReadError::OutsideProject => "virtplan::load::outside-project",
            ReadError::NotARegularFile { .. } => "virtplan::load::not-a-file",
            ReadError::TooLarge { .. } => "virtplan::load::too-large",
        }
    }
    /// The help line for this error.
    pub fn help(&self) -> &'static str {
        match self {
            ReadError::NotFound => "check the path; it is relative to the file that names it",
            ReadError::Io(_) => "check that the file is readable",
            ReadError::OutsideProject => {
                "virtplan reads only files inside the project directory; \
                 copy the file into the project instead of linking to it"
            }
            ReadError::NotARegularFile { .. } => {
                "name a regular file; pipes, sockets and devices are never read"
            }
            ReadError::TooLarge { .. } => {
                "check that this is the intended file; raise the limit with \
                 `--max-file-size`, or split a large measurement export and name the parts with a glob"
            }
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::NotFound => f.write_str("no such file"),
            ReadError::OutsideProject => f.write_str("it resolves to a place outside the project"),
            ReadError::NotARegularFile { kind } => write!(f, "it is {kind}, not a regular file"),
            ReadError::TooLarge { size, limit } => {
                write!(f, "it holds {size} bytes, over the limit of {limit} bytes")
            }
            ReadError::Io(e) => f.write_str(e),
        }
    }
}

impl std::error::Error for ReadError {}

impl From<ReadError> for String {
    fn from(e: ReadError) -> String {
        e.to_string()
    }
}

/// An entry of the project directory that a listing leaves out, and why.
/// Hidden entries (names starting with `.`, such as `.git`) are left out
/// silently and are not listed here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Relative path, `/`-separated.
    pub path: String,
    pub reason: SkipReason,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// A folder named `target` (build output).
    BuildOutput,
    /// A folder deeper than the listing descends.
    TooDeep {
        limit: usize,
    },
    /// A link to a folder: not walked, so that no file is listed twice and
    /// no link cycle is followed.
    LinkedFolder,
    /// A link whose target lies outside the project root.
    OutsideProject,
    /// A link whose target does not exist.
    BrokenLink,
    NotARegularFile {
        kind: FileKind,
    },
    /// A folder that could not be listed.
    Unreadable(String),
}

/// What a [`FileSource`] lists: the files, and the entries it left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    pub files: Vec<String>,
    pub skipped: Vec<Skipped>,
}

/// Where project files come from. The CLI reads the disk; tests use memory.
pub trait FileSource: Sync {
    /// Every file under the project root, as `/`-separated relative paths,
    /// sorted. Hidden entries (starting with `.`) are left out.
    fn list(&self) -> Vec<String>;
    /// The files and the entries left out of the listing, each with a
    /// reason. The default skips nothing.
    fn listing(&self) -> Listing {
        Listing {
            files: self.list(),
            skipped: Vec::new(),
        }
    }
    /// The bytes of one file, by relative path.
    fn read(&self, path: &str) -> Result<Vec<u8>, ReadError>;
    /// A stream over one file, for readers that must not hold the whole
    /// file in memory (measurements). The default reads the file whole.
    fn open(&self, path: &str) -> Result<Box<dyn std::io::Read + Send + '_>, ReadError> {
        Ok(Box::new(std::io::Cursor::new(self.read(path)?)))
    }
}

/// An in-memory project, for tests and benchmarks.
#[derive(Debug, Clone, Default)]
pub struct MemorySource {
    pub files: BTreeMap<String, Vec<u8>>,
}

impl MemorySource {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn with(mut self, path: &str, text: impl Into<Vec<u8>>) -> Self {
        self.files.insert(path.to_string(), text.into());
        self
    }
}

impl FileSource for MemorySource {
    fn list(&self) -> Vec<String> {
        self.files.keys().cloned().collect()
    }
    fn read(&self, path: &str) -> Result<Vec<u8>, ReadError> {
        self.files.get(path).cloned().ok_or(ReadError::NotFound)
    }
}

/// Joins a path written in `from` (a project-relative file) onto its directory,
/// resolving `.` and `..`. Returns `None` when the path leaves the project or
/// is absolute.
pub fn resolve_relative(from: &str, path: &str) -> Option<String> {
    if path.starts_with('/') || path.contains('\\') || path.contains(':') {
        return None;
    }
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// A compiled glob over `/`-separated paths: `*` and `?` stay within one
/// path segment, `**` as a whole segment matches any number of segments.
/// Every other character is literal (`[`, `{` and `\\` included). Matching
/// is linear in the path length (`globset`, a finite automaton).
#[derive(Debug, Clone)]
pub struct Glob(GlobKind);

#[derive(Debug, Clone)]
enum GlobKind {
    Matcher(globset::GlobMatcher),
    /// A pattern `globset` refused: it matches itself only.
    Literal(String),
}

impl Glob {
    pub fn new(pattern: &str) -> Glob {
        // Brackets and braces are escaped as one-character classes, so only
        // `*`, `?` and `**` are special and every pattern compiles.
        let mut escaped = String::with_capacity(pattern.len());
        for c in pattern.chars() {
            match c {
                '[' | ']' | '{' | '}' => {
                    escaped.push('[');
                    escaped.push(c);
                    escaped.push(']');
                }
                c => escaped.push(c),
            }
        }
        let glob = globset::GlobBuilder::new(&escaped)
            .literal_separator(true)
            .backslash_escape(false)
            .build();
        Glob(match glob {
            Ok(g) => GlobKind::Matcher(g.compile_matcher()),
            Err(_) => GlobKind::Literal(pattern.to_string()),
        })
    }
    pub fn matches(&self, path: &str) -> bool {
        match &self.0 {
            GlobKind::Matcher(m) => m.is_match(path),
            GlobKind::Literal(p) => p == path,
        }
    }
}

/// Matches a `/`-separated path against a glob with `*`, `?` and `**`.
/// Compiling a pattern costs about 100 µs, so the last pattern compiled on
/// this thread is kept: a loop over many paths compiles it once. Code that
/// holds a pattern should build a [`Glob`] instead.
pub fn glob_match(pattern: &str, path: &str) -> bool {
    thread_local! {
        static LAST: std::cell::RefCell<Option<(String, Glob)>> =
            const { std::cell::RefCell::new(None) };
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if let Some((p, glob)) = last.as_ref()
            && p == pattern
        {
            return glob.matches(path);
        }
        let glob = Glob::new(pattern);
        let matched = glob.matches(path);
        *last = Some((pattern.to_string(), glob));
        matched
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("servers/*.kdl", "servers/web.kdl"));
        assert!(!glob_match("servers/*.kdl", "servers/a/web.kdl"));
        assert!(glob_match("servers/**/*.kdl", "servers/a/web.kdl"));
        assert!(glob_match("servers/**/*.kdl", "servers/web.kdl"));
        assert!(glob_match("m/w?b.csv", "m/web.csv"));
        assert!(!glob_match("*.kdl", "a.kdl.bak"));
        assert!(glob_match("**/*.csv", "m/a/b.csv"));
        assert!(glob_match("**/*.csv", "b.csv"));
        assert!(!glob_match("m/?.csv", "m/ab.csv"));
        assert!(!glob_match("m?x.csv", "m/x.csv"));
        // Brackets, braces and backslashes stand for themselves, as before
        // globset (which would read them as classes, choices and escapes).
        assert!(glob_match("m/[a].csv", "m/[a].csv"));
        assert!(!glob_match("m/[a].csv", "m/a.csv"));
        assert!(glob_match("m/{a,b}.csv", "m/{a,b}.csv"));
        assert!(!glob_match("m/{a,b}.csv", "m/a.csv"));
        assert!(glob_match("m/[.csv", "m/[.csv"));
        assert!(glob_match("m\\*.csv", "m\\x.csv"));
        // The pattern kept between calls is replaced when it changes.
        assert!(glob_match("a/*.csv", "a/x.csv"));
        assert!(!glob_match("b/*.csv", "a/x.csv"));
        assert!(glob_match("b/*.csv", "b/x.csv"));
        assert!(!glob_match("a/*.csv", "b/x.csv"));
    }

    #[test]
    fn many_double_stars_finish() {
        // The recursive matcher tried every split of the path among the
        // `**`s: C(30+14, 14) ways before failing on the last segment.
        let pattern = format!("{}nope.kdl", "**/".repeat(14));
        let path = format!("{}x.kdl", "d/".repeat(30));
        assert!(!glob_match(&pattern, &path));
        let glob = Glob::new(&pattern);
        assert!(glob.matches(&format!("{}nope.kdl", "d/".repeat(30))));
    }

    #[test]
    fn read_errors_have_listed_codes_and_say_what_happened() {
        let cases = [
            (ReadError::NotFound, "virtplan::load::read", "no such file"),
            (
                ReadError::OutsideProject,
                "virtplan::load::outside-project",
                "it resolves to a place outside the project",
            ),
            (
                ReadError::NotARegularFile {
                    kind: FileKind::Socket,
                },
                "virtplan::load::not-a-file",
                "it is a socket, not a regular file",
            ),
            (
                ReadError::TooLarge { size: 10, limit: 9 },
                "virtplan::load::too-large",
                "it holds 10 bytes, over the limit of 9 bytes",
            ),
            (
                ReadError::Io("Permission denied".into()),
                "virtplan::load::read",
                "Permission denied",
            ),
        ];
        for (e, code, text) in cases {
            assert_eq!(e.code(), code);
            assert!(crate::diag::CODES.iter().any(|(c, _)| *c == code), "{code}");
            assert_eq!(e.to_string(), text);
            assert_eq!(String::from(e), text);
        }
    }

    #[test]
    fn relative_paths() {
        assert_eq!(
            resolve_relative("a/b.kdl", "c/*.kdl").as_deref(),
            Some("a/c/*.kdl")
        );
        assert_eq!(
            resolve_relative("a/b.kdl", "../x.kdl").as_deref(),
            Some("x.kdl")
        );
        assert_eq!(resolve_relative("b.kdl", "../x.kdl"), None);
        assert_eq!(resolve_relative("b.kdl", "/etc/passwd"), None);
    }

    #[test]
    fn line_col() {
        let f = SourceFile::new("x".into(), "ab\ncd\n".into());
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(4), (2, 2));
        assert_eq!(f.line_col(6), (3, 1));
    }
}
