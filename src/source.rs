//! Sources: the files of a project, the spans into them, and how they are found.
//!
//! The library never touches the file system. It asks a [`FileSource`] for
//! the list of files under the project root and for their bytes; the CLI
//! provides one backed by the disk, tests provide [`MemorySource`]. Every
//! file read gets a [`FileId`] in the [`SourceMap`], and every [`Span`] is a
//! byte range in one of those files.

use std::collections::BTreeMap;

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

/// Where project files come from. The CLI reads the disk; tests use memory.
pub trait FileSource: Sync {
    /// Every file under the project root, as `/`-separated relative paths,
    /// sorted. Hidden entries (starting with `.`) are left out.
    fn list(&self) -> Vec<String>;
    /// The bytes of one file, by relative path.
    fn read(&self, path: &str) -> Result<Vec<u8>, String>;
    /// A stream over one file, for readers that must not hold the whole
    /// file in memory (measurements). The default reads the file whole.
    fn open(&self, path: &str) -> Result<Box<dyn std::io::Read + Send + '_>, String> {
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
    fn read(&self, path: &str) -> Result<Vec<u8>, String> {
        self.files
            .get(path)
            .cloned()
            .ok_or_else(|| "no such file".to_string())
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

/// Matches a `/`-separated path against a glob with `*`, `?` and `**`.
pub fn glob_match(pattern: &str, path: &str) -> bool {
    let pat: Vec<&str> = pattern.split('/').collect();
    let segs: Vec<&str> = path.split('/').collect();
    match_segments(&pat, &segs)
}

fn match_segments(pat: &[&str], segs: &[&str]) -> bool {
    match pat.split_first() {
        None => segs.is_empty(),
        Some((&"**", rest)) => (0..=segs.len()).any(|i| match_segments(rest, &segs[i..])),
        Some((p, rest)) => match segs.split_first() {
            Some((s, srest)) => {
                match_one(p.as_bytes(), s.as_bytes()) && match_segments(rest, srest)
            }
            None => false,
        },
    }
}

/// Wildcard match of one segment, iterative (no exponential backtracking).
fn match_one(p: &[u8], s: &[u8]) -> bool {
    let (mut pi, mut si) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while si < s.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
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
