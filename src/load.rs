//! Loading a project: find its files, follow `include`s, parse them all.
//!
//! In: a [`FileSource`]. Out: a [`Loaded`] project: the source map, the
//! checked nodes of every file in a deterministic order, and diagnostics.
//! Entries the source's listing left out (a `target` folder, a link to
//! outside the project, ...) are reported as warnings; a file that cannot be
//! read gets the code of its [`ReadError`], at the `include` that named it.
//! The top-level `*.kdl` files are loaded in sorted order; each `include`
//! adds the files its path or glob matches (relative to the including file,
//! never outside the project), each file at most once. Files of one round
//! are parsed in parallel on scoped threads with a large stack; the result
//! does not depend on thread timing because outputs are put back in order.

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::{Diagnostic, Diagnostics};
use crate::source::{
    FileId, FileSource, Glob, ReadError, SkipReason, Skipped, SourceMap, Span, resolve_relative,
};
use crate::syntax::{self, Node, Val};

/// A parsed project.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub sources: SourceMap,
    /// Top-level nodes of every file, files in load order.
    pub nodes: Vec<Node>,
    pub diags: Diagnostics,
}

/// Threads used to parse files of one round.
const THREADS: usize = 2;
/// Stack of a parser thread: generous, since the KDL parser recurses.
const STACK: usize = 64 * 1024 * 1024;

/// Reads bytes as UTF-8, or reports where they stop being UTF-8.
pub fn decode(
    sources: &mut SourceMap,
    path: &str,
    bytes: Vec<u8>,
    diags: &mut Diagnostics,
) -> Option<FileId> {
    match String::from_utf8(bytes) {
        Ok(text) => Some(sources.add(path.to_string(), text)),
        Err(err) => {
            let valid = err.utf8_error().valid_up_to();
            let bytes = err.into_bytes();
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let id = sources.add(path.to_string(), text);
            diags.push(
                Diagnostic::error(
                    "virtplan::load::not-utf8",
                    format!("`{path}` is not valid UTF-8"),
                )
                .at(
                    Span::new(id, valid, valid + '\u{FFFD}'.len_utf8()),
                    "invalid bytes start here",
                )
                .help(
                    "virtplan reads UTF-8 text; re-save the file as UTF-8 (is it a binary file?)",
                ),
            );
            None
        }
    }
}

pub fn load(fs: &dyn FileSource) -> Loaded {
    let mut loaded = Loaded::default();
    let listing = fs.listing();
    let mut all = listing.files;
    all.sort();
    let mut skipped = listing.skipped;
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    for s in &skipped {
        loaded.diags.push(skipped_diagnostic(s));
    }
    let mut queue: Vec<String> = all
        .iter()
        .filter(|p| !p.contains('/') && p.ends_with(".kdl"))
        .cloned()
        .collect();
    if queue.is_empty() {
        loaded.diags.push(
            Diagnostic::error(
                "virtplan::load::no-files",
                "the project directory holds no .kdl file",
            )
            .help("a project is a directory of *.kdl files; point virtplan at that directory"),
        );
        return loaded;
    }
    let mut seen: BTreeSet<String> = queue.iter().cloned().collect();
    // Where each included file was first included, for read errors.
    let mut included_at: BTreeMap<String, Span> = BTreeMap::new();
    while !queue.is_empty() {
        let round = std::mem::take(&mut queue);
        let mut texts = Vec::new();
        for path in &round {
            match fs.read(path) {
                Ok(bytes) => {
                    if let Some(id) = decode(&mut loaded.sources, path, bytes, &mut loaded.diags) {
                        texts.push(id);
                    }
                }
                Err(e) => {
                    let mut d = read_diagnostic(path, &e);
                    if let Some(span) = included_at.get(path) {
                        d = d.at(*span, "included here");
                    }
                    loaded.diags.push(d);
                }
            }
        }
        let parsed = parse_parallel(&loaded.sources, &texts);
        for (id, (nodes, diags)) in texts.iter().zip(parsed) {
            loaded.diags.extend(diags);
            let from = loaded.sources.get(*id).name.clone();
            for inc in nodes.iter().filter(|n| n.name.value == "include") {
                let Some(arg) = inc.arg() else { continue };
                let Val::Str(pattern) = &arg.value else {
                    continue;
                };
                let Some(full) = resolve_relative(&from, pattern) else {
                    loaded.diags.push(
                        Diagnostic::error(
                            "virtplan::load::include",
                            format!("`{pattern}` leaves the project directory"),
                        )
                        .at(arg.span, "outside the project")
                        .help(
                            "include paths are relative to this file and stay inside the project",
                        ),
                    );
                    continue;
                };
                let glob = Glob::new(&full);
                let matched: Vec<&String> = all.iter().filter(|p| glob.matches(p)).collect();
                if matched.is_empty() {
                    loaded.diags.push(
                        Diagnostic::error(
                            "virtplan::load::include",
                            format!("`{pattern}` matches no file"),
                        )
                        .at(arg.span, "nothing here")
                        .help(format!("no file in the project matches `{full}`")),
                    );
                }
                for m in matched {
                    if seen.insert(m.clone()) {
                        included_at.insert(m.clone(), arg.span);
                        queue.push(m.clone());
                    }
                }
            }
            loaded.nodes.extend(nodes);
        }
    }
    loaded
}

/// The diagnostic for a file that could not be read: a code per cause.
/// The message names the path as written, never what the file holds or
/// where a link points.
pub fn read_diagnostic(path: &str, e: &ReadError) -> Diagnostic {
    Diagnostic::error(e.code(), format!("cannot read `{path}`: {e}")).help(e.help())
}

/// The diagnostic for an entry the listing left out: a warning, since the
/// project may still be complete without it.
fn skipped_diagnostic(s: &Skipped) -> Diagnostic {
    let path = &s.path;
    let (message, help) = match &s.reason {
        SkipReason::BuildOutput => (
            format!("folder `{path}` is skipped as build output"),
            "files in folders named `target` are never loaded; move project files elsewhere"
                .to_string(),
        ),
        SkipReason::TooDeep { limit } => (
            format!("folder `{path}` is more than {limit} folders deep and is skipped"),
            "move its files closer to the project root".to_string(),
        ),
        SkipReason::LinkedFolder => (
            format!("`{path}` links to a folder, which is not listed"),
            "globs and top-level files do not look through linked folders; \
             name a file in it by path, or include the folder's real path"
                .to_string(),
        ),
        SkipReason::OutsideProject => (
            format!("`{path}` links outside the project and is skipped"),
            "virtplan reads only files inside the project directory; \
             copy the file into the project instead of linking to it"
                .to_string(),
        ),
        SkipReason::BrokenLink => (
            format!("`{path}` is a link to nothing and is skipped"),
            "remove the link or restore the file it points to".to_string(),
        ),
        SkipReason::NotARegularFile { kind } => (
            format!("`{path}` is {kind} and is skipped"),
            "only regular files are read; pipes, sockets and devices never are".to_string(),
        ),
        SkipReason::Unreadable(e) => (
            format!("`{path}` cannot be listed: {e}"),
            "check its permissions".to_string(),
        ),
    };
    Diagnostic::warning("virtplan::load::skipped", message).help(help)
}

type Parsed = (Vec<Node>, Diagnostics);

fn parse_parallel(sources: &SourceMap, ids: &[FileId]) -> Vec<Parsed> {
    let parse_one = |id: FileId| {
        let mut diags = Diagnostics::default();
        let nodes = syntax::parse(id, &sources.get(id).text, &mut diags);
        (nodes, diags)
    };
    if ids.len() < 2 {
        return ids.iter().map(|id| parse_one(*id)).collect();
    }
    let chunk = ids.len().div_ceil(THREADS);
    std::thread::scope(|scope| {
        let handles: Vec<_> = ids
            .chunks(chunk)
            .map(|part| {
                std::thread::Builder::new()
                    .stack_size(STACK)
                    .spawn_scoped(scope, move || {
                        part.iter().map(|id| parse_one(*id)).collect::<Vec<_>>()
                    })
            })
            .collect();
        let mut out = Vec::new();
        for (h, part) in handles.into_iter().zip(ids.chunks(chunk)) {
            match h.map(|h| h.join()) {
                Ok(Ok(r)) => out.extend(r),
                // A thread that cannot start or that failed: parse here instead.
                _ => out.extend(part.iter().map(|id| parse_one(*id))),
            }
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Severity;
    use crate::source::{Listing, MemorySource};

    /// A memory project whose listing skips entries and whose reads of
    /// some paths fail, as a disk can.
    struct Faulty {
        files: MemorySource,
        skipped: Vec<Skipped>,
        fails: Vec<(&'static str, ReadError)>,
    }

    impl FileSource for Faulty {
        fn list(&self) -> Vec<String> {
            self.files.list()
        }
        fn listing(&self) -> Listing {
            Listing {
                files: self.list(),
                skipped: self.skipped.clone(),
            }
        }
        fn read(&self, path: &str) -> Result<Vec<u8>, ReadError> {
            match self.fails.iter().find(|(p, _)| *p == path) {
                Some((_, e)) => Err(e.clone()),
                None => self.files.read(path),
            }
        }
    }

    type CodeMessageSpan<'a> = (&'a str, &'a str, Option<(u32, u32)>);

    #[test]
    fn read_errors_get_their_code_and_the_include_site() {
        let fs = Faulty {
            files: MemorySource::new()
                .with("main.kdl", "include \"parts/*.kdl\"\n")
                .with("parts/big.kdl", "")
                .with("parts/pipe.kdl", ""),
            skipped: vec![],
            fails: vec![
                (
                    "parts/big.kdl",
                    ReadError::TooLarge {
                        size: 100,
                        limit: 10,
                    },
                ),
                (
                    "parts/pipe.kdl",
                    ReadError::NotARegularFile {
                        kind: crate::source::FileKind::Fifo,
                    },
                ),
            ],
        };
        let loaded = load(&fs);
        let got: Vec<CodeMessageSpan> = loaded
            .diags
            .items
            .iter()
            .map(|d| (d.code, d.message.as_str(), d.span.map(|s| (s.start, s.end))))
            .collect();
        // The include's argument `"parts/*.kdl"` is bytes 8..21 of main.kdl.
        assert_eq!(
            got,
            [
                (
                    "virtplan::load::too-large",
                    "cannot read `parts/big.kdl`: it holds 100 bytes, over the limit of 10 bytes",
                    Some((8, 21))
                ),
                (
                    "virtplan::load::not-a-file",
                    "cannot read `parts/pipe.kdl`: it is a named pipe (FIFO), not a regular file",
                    Some((8, 21))
                ),
            ]
        );
    }

    #[test]
    fn skipped_entries_are_warnings_in_path_order() {
        let fs = Faulty {
            files: MemorySource::new().with("main.kdl", ""),
            skipped: vec![
                Skipped {
                    path: "target".into(),
                    reason: SkipReason::BuildOutput,
                },
                Skipped {
                    path: "link.kdl".into(),
                    reason: SkipReason::OutsideProject,
                },
            ],
            fails: vec![],
        };
        let loaded = load(&fs);
        let got: Vec<(&str, Severity, &str)> = loaded
            .diags
            .items
            .iter()
            .map(|d| (d.code, d.severity, d.message.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "virtplan::load::skipped",
                    Severity::Warning,
                    "`link.kdl` links outside the project and is skipped"
                ),
                (
                    "virtplan::load::skipped",
                    Severity::Warning,
                    "folder `target` is skipped as build output"
                ),
            ]
        );
    }
}
