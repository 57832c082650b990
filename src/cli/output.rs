//! Writing outputs without losing data.
//!
//! `plan` renders into a temporary folder beside `--out` and swaps it in with
//! two renames; `fmt` replaces each file through a temporary file in its own
//! folder. Every change to the disk goes through [`Ops`], so a test can make
//! any single step fail (or every step from one on, like a crash) and check
//! that the previous state survives.
//!
//! The rules for `--out`:
//! - a manifest, [`MANIFEST`], lists the files virtplan wrote (with length
//!   and SHA-256) and the user files it keeps;
//! - files virtplan wrote and no longer produces are removed;
//! - a file virtplan did not write (no manifest, not listed, or edited since)
//!   stops the run, unless `--force`: then such files are kept (carried into
//!   the new folder by hard link and listed as kept), except those with the
//!   name of an output, which are replaced;
//! - symlinks anywhere in `--out`, or `--out` itself a symlink, stop the run,
//!   with or without `--force`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The manifest's file name, at the top of `--out`.
pub const MANIFEST: &str = ".virtplan-manifest";
const MANIFEST_VERSION: u32 = 1;

/// The operations that change the disk. The provided methods are the real
/// ones; [`Disk`] uses them as they are.
pub trait Ops {
    fn create_dir(&mut self, path: &Path) -> io::Result<()> {
        fs::create_dir(path)
    }
    /// Creates a new file; fails if anything exists at `path`. The file is
    /// readable by its owner only until [`Ops::set_permissions`].
    fn create(&mut self, path: &Path) -> io::Result<File> {
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options.open(path)
    }
    fn write(&mut self, file: &mut File, bytes: &[u8]) -> io::Result<()> {
        file.write_all(bytes)
    }
    fn set_permissions(&mut self, file: &File, permissions: Permissions) -> io::Result<()> {
        file.set_permissions(permissions)
    }
    fn chown(&mut self, file: &File, uid: u32, gid: u32) -> io::Result<()> {
        #[cfg(unix)]
        return std::os::unix::fs::fchown(file, Some(uid), Some(gid));
        #[cfg(not(unix))]
        {
            let _ = (file, uid, gid);
            Ok(())
        }
    }
    fn sync(&mut self, file: &File) -> io::Result<()> {
        file.sync_all()
    }
    fn sync_dir(&mut self, path: &Path) -> io::Result<()> {
        File::open(path)?.sync_all()
    }
    fn link(&mut self, from: &Path, to: &Path) -> io::Result<()> {
        fs::hard_link(from, to)
    }
    fn rename(&mut self, from: &Path, to: &Path) -> io::Result<()> {
        fs::rename(from, to)
    }
    /// Removes a file, or a symlink itself (never what it points to).
    fn remove_file(&mut self, path: &Path) -> io::Result<()> {
        fs::remove_file(path)
    }
    fn remove_dir(&mut self, path: &Path) -> io::Result<()> {
        fs::remove_dir(path)
    }
}

/// The real disk.
pub struct Disk;

impl Ops for Disk {}

/// Why a file of `--out` stops the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotOurs {
    /// The folder has no manifest.
    NoManifest,
    /// Not listed in the manifest.
    Unlisted,
    /// Listed as written, but its content changed since.
    Edited,
    /// Listed as a kept user file, and an output now has its name.
    OutputName,
}

/// Why output could not be written. Nothing was changed when one of these is
/// returned, except by [`OutputError::Io`] from [`replace_files`]'s final
/// folder sync (the file is then already replaced).
#[derive(Debug)]
pub enum OutputError {
    /// `--out` and the project folder are the same or one holds the other.
    Overlap { out: PathBuf, project: PathBuf },
    /// A symlink where virtplan would write.
    Symlink(PathBuf),
    /// Something that is neither a regular file nor a folder.
    Special(PathBuf),
    /// `--out` exists and is not a folder.
    NotAFolder(PathBuf),
    /// `--out` names no folder (`/`, `..`).
    BadOut(PathBuf),
    /// Files virtplan did not write, without `--force`.
    NotOurs {
        out: PathBuf,
        files: Vec<(String, NotOurs)>,
    },
    /// Another virtplan holds the lock on `--out`'s parent folder.
    Busy(PathBuf),
    /// The manifest cannot be read, without `--force`.
    Manifest { path: PathBuf, reason: String },
    Io {
        doing: &'static str,
        path: PathBuf,
        error: io::Error,
    },
}

fn io_err(doing: &'static str, path: &Path) -> impl FnOnce(io::Error) -> OutputError {
    let path = path.to_path_buf();
    move |error| OutputError::Io { doing, path, error }
}

impl std::fmt::Display for OutputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OutputError::Overlap { out, project } => write!(
                f,
                "--out `{}` and the project `{}` overlap (the same folder, or one inside the other); \
                 write the plan to a folder outside the project",
                out.display(),
                project.display()
            ),
            OutputError::Symlink(p) => write!(
                f,
                "`{}` is a symlink; virtplan never writes through symlinks (not even with --force): \
                 remove it, or choose another --out",
                p.display()
            ),
            OutputError::Special(p) => write!(
                f,
                "`{}` is neither a file nor a folder; remove it, or choose another --out",
                p.display()
            ),
            OutputError::NotAFolder(p) => {
                write!(f, "--out `{}` exists and is not a folder", p.display())
            }
            OutputError::BadOut(p) => write!(f, "--out `{}` does not name a folder", p.display()),
            OutputError::NotOurs { out, files } => {
                let no_manifest = files.iter().any(|(_, why)| *why == NotOurs::NoManifest);
                if no_manifest {
                    write!(
                        f,
                        "--out `{}` is not empty and has no {MANIFEST}, so virtplan did not write it: ",
                        out.display()
                    )?;
                } else {
                    write!(
                        f,
                        "--out `{}` holds files virtplan did not write: ",
                        out.display()
                    )?;
                }
                for (i, (name, why)) in files.iter().take(8).enumerate() {
                    let sep = if i == 0 { "" } else { ", " };
                    let why = match why {
                        NotOurs::NoManifest => "",
                        NotOurs::Unlisted => " (not in the manifest)",
                        NotOurs::Edited => " (edited since virtplan wrote it)",
                        NotOurs::OutputName => " (your file, with the name of an output)",
                    };
                    write!(f, "{sep}{name}{why}")?;
                }
                if files.len() > 8 {
                    write!(f, " and {} more", files.len() - 8)?;
                }
                write!(
                    f,
                    "; virtplan does not overwrite or delete them. Move them away, or pass --force \
                     to keep them in the plan folder (those with an output's name are replaced)"
                )
            }
            OutputError::Busy(out) => write!(
                f,
                "another virtplan is writing `{}` (or a folder beside it); wait for it to finish",
                out.display()
            ),
            OutputError::Manifest { path, reason } => write!(
                f,
                "cannot read `{}`: {reason}; pass --force to take the folder over",
                path.display()
            ),
            OutputError::Io { doing, path, error } => {
                write!(f, "cannot {doing} `{}`: {error}", path.display())
            }
        }
    }
}

/// What [`write_plan`] did.
#[derive(Debug, Default, PartialEq)]
pub struct Written {
    /// Output files written.
    pub files: usize,
    /// Files of the previous plan that are no longer produced, now removed.
    pub removed: Vec<String>,
    /// Files virtplan did not write, kept in the folder.
    pub kept: Vec<String>,
    /// Things that went wrong after the plan was in place.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    bytes: u64,
    sha256: String,
}

impl Entry {
    fn of(bytes: &[u8]) -> Entry {
        let digest = Sha256::digest(bytes);
        Entry {
            bytes: bytes.len() as u64,
            sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    virtplan_manifest: u32,
    /// Files virtplan wrote.
    written: BTreeMap<String, Entry>,
    /// Files of the user that virtplan keeps (taken over with `--force`).
    kept: BTreeSet<String>,
}

/// `--out` made absolute without writing anything: its longest existing
/// part canonical, the missing rest (plain names only) appended. Refuses a
/// symlink as `--out`.
pub fn resolve_out(out: &Path) -> Result<PathBuf, OutputError> {
    let mut missing = Vec::new();
    let mut existing = out;
    loop {
        match fs::symlink_metadata(existing) {
            Ok(m) if existing == out && m.file_type().is_symlink() => {
                return Err(OutputError::Symlink(out.into()));
            }
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let Some(Component::Normal(name)) = existing.components().next_back() else {
                    return Err(OutputError::BadOut(out.into()));
                };
                missing.push(name);
                existing = match existing.parent() {
                    Some(p) if !p.as_os_str().is_empty() => p,
                    _ => Path::new("."),
                };
            }
            Err(e) => return Err(io_err("read", existing)(e)),
        }
    }
    let mut path = fs::canonicalize(existing).map_err(io_err("resolve", existing))?;
    path.extend(missing.iter().rev());
    if path.file_name().is_none() {
        return Err(OutputError::BadOut(out.into()));
    }
    Ok(path)
}

/// Refuses an `--out` (from [`resolve_out`]) that is the project folder,
/// inside it, or holds it.
pub fn check_apart(out: &Path, project: &Path) -> Result<(), OutputError> {
    let project = fs::canonicalize(project).map_err(io_err("resolve", project))?;
    if out.starts_with(&project) || project.starts_with(out) {
        return Err(OutputError::Overlap {
            out: out.into(),
            project,
        });
    }
    Ok(())
}

/// The files and folders under a folder, as `/`-joined relative names.
#[derive(Debug, Default)]
struct Tree {
    /// Name → path relative to the folder.
    files: BTreeMap<String, PathBuf>,
    dirs: BTreeMap<String, PathBuf>,
}

fn scan(root: &Path) -> Result<Tree, OutputError> {
    fn walk(root: &Path, rel: &Path, tree: &mut Tree) -> Result<(), OutputError> {
        let dir = root.join(rel);
        let mut entries = fs::read_dir(&dir)
            .map_err(io_err("read", &dir))?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(io_err("read", &dir))?;
        entries.sort();
        for name in entries {
            let rel = rel.join(&name);
            let path = root.join(&rel);
            let meta = fs::symlink_metadata(&path).map_err(io_err("read", &path))?;
            let key = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            if meta.file_type().is_symlink() {
                return Err(OutputError::Symlink(path));
            } else if meta.is_dir() {
                tree.dirs.insert(key, rel.clone());
                walk(root, &rel, tree)?;
            } else if meta.is_file() {
                tree.files.insert(key, rel);
            } else {
                return Err(OutputError::Special(path));
            }
        }
        Ok(())
    }
    let mut tree = Tree::default();
    walk(root, Path::new(""), &mut tree)?;
    Ok(tree)
}

fn read_manifest(out: &Path) -> Result<Manifest, String> {
    let text = fs::read_to_string(out.join(MANIFEST)).map_err(|e| e.to_string())?;
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    if manifest.virtplan_manifest != MANIFEST_VERSION {
        return Err(format!(
            "manifest version {}, this virtplan reads version {MANIFEST_VERSION}",
            manifest.virtplan_manifest
        ));
    }
    Ok(manifest)
}

/// Removes a file or a folder with everything in it, never following a
/// symlink (a symlink is removed itself).
fn remove_tree(ops: &mut dyn Ops, path: &Path) -> io::Result<()> {
    let meta = fs::symlink_metadata(path)?;
    if meta.is_dir() {
        let mut entries = fs::read_dir(path)?
            .map(|e| e.map(|e| e.path()))
            .collect::<io::Result<Vec<_>>>()?;
        entries.sort();
        for entry in entries {
            remove_tree(ops, &entry)?;
        }
        ops.remove_dir(path)
    } else {
        ops.remove_file(path)
    }
}

fn exists(path: &Path) -> Result<bool, OutputError> {
    match fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_err("read", path)(e)),
    }
}

/// The temporary and backup folders beside `out`.
fn siblings(out: &Path) -> Result<(PathBuf, PathBuf, PathBuf), OutputError> {
    let (Some(parent), Some(name)) = (out.parent(), out.file_name()) else {
        return Err(OutputError::BadOut(out.into()));
    };
    let name = name.to_string_lossy();
    Ok((
        parent.to_path_buf(),
        parent.join(format!(".{name}.virtplan-new")),
        parent.join(format!(".{name}.virtplan-old")),
    ))
}

/// Finishes or undoes what an interrupted run left: a backup with no
/// `--out` is the previous plan, put back; a backup beside `--out` is the
/// previous plan after a finished swap, removed; a temporary folder is
/// removed.
fn recover(ops: &mut dyn Ops, out: &Path, temp: &Path, backup: &Path) -> Result<(), OutputError> {
    for leftover in [backup, temp] {
        if let Ok(m) = fs::symlink_metadata(leftover)
            && !m.is_dir()
        {
            return Err(OutputError::NotAFolder(leftover.into()));
        }
    }
    if exists(backup)? {
        if exists(out)? {
            remove_tree(ops, backup).map_err(io_err("remove", backup))?;
        } else {
            ops.rename(backup, out).map_err(io_err("restore", backup))?;
        }
    }
    if exists(temp)? {
        remove_tree(ops, temp).map_err(io_err("remove", temp))?;
    }
    Ok(())
}

/// Creates the folders of `rel` under `root` that `made` does not hold yet.
fn make_dirs(
    ops: &mut dyn Ops,
    root: &Path,
    rel: &Path,
    made: &mut BTreeSet<PathBuf>,
) -> Result<(), OutputError> {
    let mut dir = PathBuf::new();
    for c in rel.components() {
        dir.push(c);
        if made.insert(dir.clone()) {
            let path = root.join(&dir);
            ops.create_dir(&path).map_err(io_err("create", &path))?;
        }
    }
    Ok(())
}

fn new_file(ops: &mut dyn Ops, path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    let mut file = ops.create(path).map_err(io_err("create", path))?;
    ops.write(&mut file, bytes).map_err(io_err("write", path))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        ops.set_permissions(&file, Permissions::from_mode(0o644))
            .map_err(io_err("set the mode of", path))?;
    }
    ops.sync(&file).map_err(io_err("sync", path))
}

/// A relative output name made of plain components only.
fn safe_name(name: &str) -> Option<PathBuf> {
    let path = Path::new(name);
    (!name.is_empty() && path.components().all(|c| matches!(c, Component::Normal(_))))
        .then(|| path.to_path_buf())
}

/// What `out` holds now, and what of it goes into the new plan.
#[derive(Debug, Default)]
struct Inspection {
    /// Whether `out` exists.
    exists: bool,
    /// User files carried into the new folder (name → relative path).
    carry: BTreeMap<String, PathBuf>,
    /// Folders kept (those not made only for virtplan's files).
    keep_dirs: Vec<PathBuf>,
    /// virtplan's files no longer produced.
    removed: Vec<String>,
}

/// Reads `out` and sorts its files into virtplan's and the user's, against
/// the names of the new outputs; refuses what the module comment says.
fn inspect<T>(
    out: &Path,
    outputs: &BTreeMap<String, T>,
    force: bool,
) -> Result<Inspection, OutputError> {
    let mut found = Inspection::default();
    match fs::symlink_metadata(out) {
        Ok(m) if m.file_type().is_symlink() => return Err(OutputError::Symlink(out.into())),
        Ok(m) if !m.is_dir() => return Err(OutputError::NotAFolder(out.into())),
        Ok(_) => found.exists = true,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(io_err("read", out)(e)),
    }
    let old = scan(out)?;
    let manifest = if old.files.contains_key(MANIFEST) {
        match read_manifest(out) {
            Ok(m) => Some(m),
            Err(reason) if !force => {
                return Err(OutputError::Manifest {
                    path: out.join(MANIFEST),
                    reason,
                });
            }
            Err(_) => None,
        }
    } else {
        None
    };
    let mut foreign = Vec::new();
    for (name, rel) in &old.files {
        if name == MANIFEST {
            continue;
        }
        let why = match &manifest {
            None => Some(NotOurs::NoManifest),
            Some(m) => match m.written.get(name) {
                Some(entry) => {
                    let path = out.join(rel);
                    let bytes = fs::read(&path).map_err(io_err("read", &path))?;
                    if Entry::of(&bytes) == *entry {
                        if !outputs.contains_key(name) {
                            found.removed.push(name.clone());
                        }
                        None
                    } else {
                        Some(NotOurs::Edited)
                    }
                }
                None if m.kept.contains(name) && !outputs.contains_key(name) => {
                    found.carry.insert(name.clone(), rel.clone());
                    None
                }
                None if m.kept.contains(name) => Some(NotOurs::OutputName),
                None => Some(NotOurs::Unlisted),
            },
        };
        if let Some(why) = why {
            foreign.push((name.clone(), why));
            if !outputs.contains_key(name) {
                found.carry.insert(name.clone(), rel.clone());
            }
        }
    }
    if !foreign.is_empty() && !force {
        return Err(OutputError::NotOurs {
            out: out.into(),
            files: foreign,
        });
    }
    // Folders that held only files virtplan wrote go with them; others stay.
    let ours: BTreeSet<&str> = manifest
        .iter()
        .flat_map(|m| m.written.keys())
        .map(String::as_str)
        .collect();
    for (name, rel) in &old.dirs {
        let prefix = format!("{name}/");
        if !ours.iter().any(|f| f.starts_with(&prefix)) {
            found.keep_dirs.push(rel.clone());
        }
    }
    Ok(found)
}

/// Before compiling: whether [`write_plan`] will refuse `out` (from
/// [`resolve_out`]) whatever the outputs are. Writes nothing. Only a kept
/// user file with the name of an output is found later.
pub fn precheck(out: &Path, force: bool) -> Result<(), OutputError> {
    inspect::<()>(out, &BTreeMap::new(), force).map(|_| ())
}

/// An exclusive lock on the folder holding `--out`, held while a plan is
/// written there, so that two runs never interleave their renames.
pub struct Lock {
    #[cfg(unix)]
    _dir: File,
}

/// Takes the lock on `out`'s parent folder (`flock` on the folder itself, so
/// no lock file is left), or says another virtplan holds it. Without
/// `flock`, nothing is locked.
pub fn lock(out: &Path) -> Result<Lock, OutputError> {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        // The nearest existing folder: the parent, unless it is still to be made.
        let mut parent = out
            .parent()
            .ok_or_else(|| OutputError::BadOut(out.into()))?;
        while !exists(parent)? {
            parent = parent
                .parent()
                .ok_or_else(|| OutputError::BadOut(out.into()))?;
        }
        let dir = File::open(parent).map_err(io_err("open", parent))?;
        // SAFETY: `dir` is an open descriptor for the duration of the call.
        let r = unsafe { libc::flock(dir.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if r != 0 {
            let e = io::Error::last_os_error();
            return Err(if e.kind() == io::ErrorKind::WouldBlock {
                OutputError::Busy(out.into())
            } else {
                io_err("lock", parent)(e)
            });
        }
        Ok(Lock { _dir: dir })
    }
    #[cfg(not(unix))]
    {
        let _ = out;
        Ok(Lock {})
    }
}

/// Writes `files` (relative names, contents) as the whole content of `out`
/// (from [`resolve_out`]), with the manifest; see the module comment.
/// Either `out` ends up as the new plan, or it is left as it was (missing
/// parent folders of `out` may stay created).
pub fn write_plan(
    ops: &mut dyn Ops,
    out: &Path,
    files: &[(String, String)],
    force: bool,
) -> Result<Written, OutputError> {
    let (parent, temp, backup) = siblings(out)?;
    recover(ops, out, &temp, &backup)?;
    let mut outputs = BTreeMap::new();
    for (name, text) in files {
        let rel = safe_name(name).ok_or_else(|| OutputError::BadOut(out.join(name)))?;
        outputs.insert(name.clone(), (rel, text.as_bytes()));
    }
    let found = inspect(out, &outputs, force)?;
    let written = Written {
        files: outputs.len(),
        removed: found.removed,
        kept: found.carry.keys().cloned().collect(),
        warnings: Vec::new(),
    };
    let new_manifest = Manifest {
        virtplan_manifest: MANIFEST_VERSION,
        written: outputs
            .iter()
            .map(|(name, (_, bytes))| (name.clone(), Entry::of(bytes)))
            .collect(),
        kept: found.carry.keys().cloned().collect(),
    };
    let mut manifest_text = serde_json::to_string_pretty(&new_manifest)
        .map_err(|e| io_err("write", &temp.join(MANIFEST))(io::Error::other(e)))?;
    manifest_text.push('\n');

    // Missing parent folders, from the top.
    let mut missing = Vec::new();
    let mut dir = parent.as_path();
    while !exists(dir)? {
        missing.push(dir);
        dir = dir
            .parent()
            .ok_or_else(|| OutputError::BadOut(out.into()))?;
    }
    for dir in missing.iter().rev() {
        ops.create_dir(dir).map_err(io_err("create", dir))?;
    }

    if let Err(e) = build(
        ops,
        out,
        &temp,
        &outputs,
        &found.carry,
        &found.keep_dirs,
        &manifest_text,
    ) {
        let _ = remove_tree(ops, &temp);
        return Err(e);
    }
    let mut written = written;
    swap(
        ops,
        out,
        &parent,
        &temp,
        &backup,
        found.exists,
        &mut written,
    )?;
    Ok(written)
}

/// Fills the temporary folder and syncs it, files then folders.
fn build(
    ops: &mut dyn Ops,
    out: &Path,
    temp: &Path,
    outputs: &BTreeMap<String, (PathBuf, &[u8])>,
    carry: &BTreeMap<String, PathBuf>,
    keep_dirs: &[PathBuf],
    manifest: &str,
) -> Result<(), OutputError> {
    ops.create_dir(temp).map_err(io_err("create", temp))?;
    if let Ok(meta) = fs::symlink_metadata(out)
        && meta.is_dir()
    {
        // The new folder gets the permissions of the one it replaces.
        let dir = File::open(temp).map_err(io_err("open", temp))?;
        ops.set_permissions(&dir, meta.permissions())
            .map_err(io_err("set the mode of", temp))?;
    }
    let mut made = BTreeSet::new();
    for rel in keep_dirs {
        make_dirs(ops, temp, rel, &mut made)?;
    }
    for (rel, bytes) in outputs.values() {
        if let Some(dir) = rel.parent() {
            make_dirs(ops, temp, dir, &mut made)?;
        }
        new_file(ops, &temp.join(rel), bytes)?;
    }
    for rel in carry.values() {
        if let Some(dir) = rel.parent() {
            make_dirs(ops, temp, dir, &mut made)?;
        }
        let to = temp.join(rel);
        ops.link(&out.join(rel), &to).map_err(io_err("keep", &to))?;
    }
    new_file(ops, &temp.join(MANIFEST), manifest.as_bytes())?;
    // Deepest first: `a/b` sorts after `a`.
    for dir in made.iter().rev() {
        let path = temp.join(dir);
        ops.sync_dir(&path).map_err(io_err("sync", &path))?;
    }
    ops.sync_dir(temp).map_err(io_err("sync", temp))
}

/// Puts the temporary folder in place of `out`; on failure puts the previous
/// plan back and removes the temporary folder.
fn swap(
    ops: &mut dyn Ops,
    out: &Path,
    parent: &Path,
    temp: &Path,
    backup: &Path,
    had_old: bool,
    written: &mut Written,
) -> Result<(), OutputError> {
    if had_old && let Err(e) = ops.rename(out, backup) {
        let _ = remove_tree(ops, temp);
        return Err(io_err("move aside", out)(e));
    }
    let undo = |ops: &mut dyn Ops, new_in_place: bool| {
        let moved = !new_in_place || ops.rename(out, temp).is_ok();
        if moved && had_old {
            let _ = ops.rename(backup, out);
        }
        let _ = remove_tree(ops, temp);
    };
    if let Err(e) = ops.rename(temp, out) {
        undo(ops, false);
        return Err(io_err("move into place", temp)(e));
    }
    if let Err(e) = ops.sync_dir(parent) {
        undo(ops, true);
        return Err(io_err("sync", parent)(e));
    }
    if had_old && let Err(e) = remove_tree(ops, backup) {
        written.warnings.push(format!(
            "the plan is written, but the previous one is left at `{}` ({e}); the next run removes it",
            backup.display()
        ));
    }
    Ok(())
}

/// Replaces several regular files (or writes them, where there is none
/// yet), all or none as far as a file system allows: every new text is
/// first written beside its file and synced; a
/// failure then removes those temporary files and leaves every file as it
/// was. Only then are they renamed over their files, one by one (a rename
/// within a folder, which fails only with the disk itself).
pub fn replace_files(ops: &mut dyn Ops, files: &[(PathBuf, Vec<u8>)]) -> Result<(), OutputError> {
    let mut staged: Vec<(PathBuf, PathBuf)> = Vec::new();
    for (path, bytes) in files {
        match stage(ops, path, bytes) {
            Ok(temp) => staged.push((temp, path.clone())),
            Err(e) => {
                for (temp, _) in &staged {
                    let _ = ops.remove_file(temp);
                }
                return Err(e);
            }
        }
    }
    for (k, (temp, path)) in staged.iter().enumerate() {
        if let Err(e) = ops.rename(temp, path) {
            for (temp, _) in &staged[k..] {
                let _ = ops.remove_file(temp);
            }
            return Err(io_err("replace", path)(e));
        }
    }
    let dirs: BTreeSet<PathBuf> = staged.iter().map(|(_, p)| folder_of(p)).collect();
    for dir in dirs {
        ops.sync_dir(&dir).map_err(io_err("sync", &dir))?;
    }
    Ok(())
}

fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Writes `bytes` beside `path`, under a temporary name, synced; returns
/// the temporary path. When `path` is a regular file the new one gets its
/// permissions and owner; when there is none yet, mode 0644. A failure
/// removes the temporary file.
fn stage(ops: &mut dyn Ops, path: &Path, bytes: &[u8]) -> Result<PathBuf, OutputError> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            return Err(OutputError::Symlink(path.into()));
        }
        Ok(meta) if !meta.is_file() => return Err(OutputError::Special(path.into())),
        Ok(meta) => Some(meta),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(io_err("read", path)(e)),
    };
    let Some(name) = path.file_name() else {
        return Err(OutputError::Special(path.into()));
    };
    let temp = folder_of(path).join(format!(".{}.virtplan-tmp", name.to_string_lossy()));
    if let Ok(m) = fs::symlink_metadata(&temp) {
        // A leftover of an interrupted run (or a symlink: removed itself).
        if m.is_dir() {
            return Err(OutputError::Special(temp));
        }
        ops.remove_file(&temp).map_err(io_err("remove", &temp))?;
    }
    let result = (|| {
        let Some(meta) = meta else {
            new_file(ops, &temp, bytes)?;
            return Ok(());
        };
        let mut file = ops.create(&temp).map_err(io_err("create", &temp))?;
        ops.write(&mut file, bytes)
            .map_err(io_err("write", &temp))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let now = file.metadata().map_err(io_err("read", &temp))?;
            if (now.uid(), now.gid()) != (meta.uid(), meta.gid()) {
                ops.chown(&file, meta.uid(), meta.gid())
                    .map_err(io_err("keep the owner of", path))?;
            }
        }
        ops.set_permissions(&file, meta.permissions())
            .map_err(io_err("keep the permissions of", path))?;
        ops.sync(&file).map_err(io_err("sync", &temp))
    })();
    match result {
        Ok(()) => Ok(temp),
        Err(e) => {
            let _ = ops.remove_file(&temp);
            Err(e)
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    //! Failure injection: every run of [`write_plan`] and [`replace_files`]
    //! is repeated with its N-th disk operation failing, for N = 0, 1, 2, …
    //! until a run gets through without reaching N. After a failed step the
    //! previous state must be there byte for byte, with nothing left behind;
    //! after a crash (every step from N on failing, so no clean-up runs
    //! either) the folder is the old or the new plan, never a mix, and the
    //! next run finishes the job.

    use super::*;

    /// One file through [`replace_files`].
    fn replace_file(ops: &mut dyn Ops, path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
        replace_files(ops, &[(path.to_path_buf(), bytes.to_vec())])
    }

    /// [`Disk`], except that operation number `fail_at` fails (a write
    /// writes half its bytes first, like a full disk), and with `crash` every
    /// later one too.
    struct Faulty {
        fail_at: usize,
        crash: bool,
        count: usize,
        fired: bool,
    }

    impl Faulty {
        fn new(fail_at: usize, crash: bool) -> Faulty {
            Faulty {
                fail_at,
                crash,
                count: 0,
                fired: false,
            }
        }
        fn step(&mut self) -> io::Result<()> {
            let n = self.count;
            self.count += 1;
            if n == self.fail_at || (self.crash && n > self.fail_at) {
                self.fired = true;
                Err(io::Error::other(format!("injected failure at step {n}")))
            } else {
                Ok(())
            }
        }
    }

    impl Ops for Faulty {
        fn create_dir(&mut self, path: &Path) -> io::Result<()> {
            self.step()?;
            Disk.create_dir(path)
        }
        fn create(&mut self, path: &Path) -> io::Result<File> {
            self.step()?;
            Disk.create(path)
        }
        fn write(&mut self, file: &mut File, bytes: &[u8]) -> io::Result<()> {
            if let Err(e) = self.step() {
                file.write_all(&bytes[..bytes.len() / 2])?;
                return Err(e);
            }
            Disk.write(file, bytes)
        }
        fn set_permissions(&mut self, file: &File, permissions: Permissions) -> io::Result<()> {
            self.step()?;
            Disk.set_permissions(file, permissions)
        }
        fn chown(&mut self, file: &File, uid: u32, gid: u32) -> io::Result<()> {
            self.step()?;
            Disk.chown(file, uid, gid)
        }
        fn sync(&mut self, file: &File) -> io::Result<()> {
            self.step()?;
            Disk.sync(file)
        }
        fn sync_dir(&mut self, path: &Path) -> io::Result<()> {
            self.step()?;
            Disk.sync_dir(path)
        }
        fn link(&mut self, from: &Path, to: &Path) -> io::Result<()> {
            self.step()?;
            Disk.link(from, to)
        }
        fn rename(&mut self, from: &Path, to: &Path) -> io::Result<()> {
            self.step()?;
            Disk.rename(from, to)
        }
        fn remove_file(&mut self, path: &Path) -> io::Result<()> {
            self.step()?;
            Disk.remove_file(path)
        }
        fn remove_dir(&mut self, path: &Path) -> io::Result<()> {
            self.step()?;
            Disk.remove_dir(path)
        }
    }

    /// Every file under `dir` with its bytes, and every folder (as `name/`).
    fn contents(dir: &Path) -> BTreeMap<String, Vec<u8>> {
        let tree = scan(dir).unwrap();
        let mut all: BTreeMap<String, Vec<u8>> = tree
            .files
            .iter()
            .map(|(name, rel)| (name.clone(), fs::read(dir.join(rel)).unwrap()))
            .collect();
        for name in tree.dirs.keys() {
            all.insert(format!("{name}/"), Vec::new());
        }
        all
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn files(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect()
    }

    fn old_plan() -> Vec<(String, String)> {
        files(&[
            ("plan.json", "{\"format\": 1, \"old\": true}\n"),
            ("costs.md", "# Costs, old\n"),
            ("ansible/inventory.yml", "old: inventory\n"),
            ("ansible/wave-1.yml", "- old wave 1\n"),
            ("ansible/wave-2.yml", "- old wave 2\n"),
            ("capacity-main-01.svg", "<svg>old</svg>"),
        ])
    }

    fn new_plan() -> Vec<(String, String)> {
        files(&[
            (
                "plan.json",
                "{\"format\": 1, \"new\": true, \"longer\": \"yes\"}\n",
            ),
            ("costs.md", "# Costs, old\n"),
            ("runbook.md", "# Runbook\n"),
            ("ansible/inventory.yml", "new: inventory\n"),
            ("ansible/wave-1.yml", "- new wave 1\n"),
            ("charts/host-1.svg", "<svg>new</svg>"),
        ])
    }

    /// A fresh folder holding `project/` and `out/`, where `out/` is the old
    /// plan with a user file taken over earlier (`notes/mine.txt`, kept).
    fn setup(root: &Path) -> (PathBuf, PathBuf) {
        let _ = fs::remove_dir_all(root);
        let project = root.join("project");
        fs::create_dir_all(&project).unwrap();
        fs::write(project.join("estate.kdl"), "project \"p\"\n").unwrap();
        let out = root.join("out");
        write_plan(&mut Disk, &out, &old_plan(), false).unwrap();
        fs::create_dir(out.join("notes")).unwrap();
        fs::write(out.join("notes/mine.txt"), "my notes\n").unwrap();
        write_plan(&mut Disk, &out, &old_plan(), true).unwrap();
        (project, out)
    }

    fn temp_root(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target")
            .join("tmp")
            .join(name)
    }

    /// The old and the new plan, as written by runs that do not fail.
    fn expected(root: &Path) -> (BTreeMap<String, Vec<u8>>, BTreeMap<String, Vec<u8>>) {
        let (_, out) = setup(root);
        let old = contents(&out);
        write_plan(&mut Disk, &out, &new_plan(), false).unwrap();
        let new = contents(&out);
        (old, new)
    }

    #[test]
    fn the_expected_plans_are_what_the_rules_say() {
        let (old, new) = expected(&temp_root("output-expected"));
        assert_eq!(old["notes/mine.txt"], b"my notes\n");
        assert_eq!(new["notes/mine.txt"], b"my notes\n");
        assert!(old.contains_key("ansible/wave-2.yml"));
        assert!(old.contains_key("capacity-main-01.svg"));
        // No longer produced: removed.
        assert!(!new.contains_key("ansible/wave-2.yml"));
        assert!(!new.contains_key("capacity-main-01.svg"));
        assert_eq!(new["runbook.md"], b"# Runbook\n");
        let manifest: Manifest = serde_json::from_slice(&new[MANIFEST]).expect("a manifest");
        assert_eq!(
            manifest.written.keys().collect::<Vec<_>>(),
            [
                "ansible/inventory.yml",
                "ansible/wave-1.yml",
                "charts/host-1.svg",
                "costs.md",
                "plan.json",
                "runbook.md"
            ]
        );
        assert_eq!(manifest.written["runbook.md"].bytes, 10);
        assert_eq!(manifest.kept.iter().collect::<Vec<_>>(), ["notes/mine.txt"]);
    }

    #[test]
    fn a_failed_step_leaves_the_previous_plan() {
        let root = temp_root("output-fail-step");
        let (old, new) = expected(&root.join("expected"));
        let run = root.join("run");
        let mut n = 0;
        loop {
            let (project, out) = setup(&run);
            let mut ops = Faulty::new(n, false);
            let result = write_plan(&mut ops, &out, &new_plan(), false);
            if !ops.fired {
                assert!(result.is_ok(), "{result:?}");
                assert_eq!(contents(&out), new);
                break;
            }
            match result {
                Err(e) => {
                    assert!(matches!(e, OutputError::Io { .. }), "step {n}: {e}");
                    assert_eq!(contents(&out), old, "step {n}: {e}");
                }
                // Only removing the previous plan may fail after the swap.
                Ok(written) => {
                    assert_eq!(written.warnings.len(), 1, "step {n}");
                    assert_eq!(contents(&out), new, "step {n}");
                    write_plan(&mut Disk, &out, &new_plan(), false).unwrap();
                }
            }
            assert_eq!(names(&run), ["out", "project"], "step {n}: leftovers");
            assert_eq!(names(&project), ["estate.kdl"]);
            assert_eq!(
                fs::read(project.join("estate.kdl")).unwrap(),
                b"project \"p\"\n"
            );
            n += 1;
        }
        // 6 files of 4 steps, their folders, the kept file, the manifest,
        // syncs and two renames: the loop went through all of them.
        assert!(n > 40, "only {n} steps");
    }

    #[test]
    fn a_crash_at_any_step_leaves_the_old_or_the_new_plan() {
        let root = temp_root("output-crash");
        let (old, new) = expected(&root.join("expected"));
        let run = root.join("run");
        let mut n = 0;
        loop {
            let (project, out) = setup(&run);
            let mut ops = Faulty::new(n, true);
            let _ = write_plan(&mut ops, &out, &new_plan(), false);
            if !ops.fired {
                assert_eq!(contents(&out), new);
                break;
            }
            // Between the two renames the previous plan sits under the
            // backup name; the next run puts it back before anything else.
            let visible = if out.exists() {
                contents(&out)
            } else {
                contents(&run.join(".out.virtplan-old"))
            };
            assert!(visible == old || visible == new, "step {n}: a mixed folder");
            write_plan(&mut Disk, &out, &new_plan(), false).unwrap();
            assert_eq!(contents(&out), new, "step {n}");
            assert_eq!(names(&run), ["out", "project"], "step {n}: leftovers");
            assert_eq!(names(&project), ["estate.kdl"]);
            n += 1;
        }
        assert!(n > 40, "only {n} steps");
    }

    #[test]
    fn a_crash_between_the_renames_is_undone_by_the_next_run() {
        let root = temp_root("output-between");
        let (old, _) = expected(&root.join("expected"));
        let run = root.join("run");
        let (_, out) = setup(&run);
        fs::rename(&out, run.join(".out.virtplan-old")).unwrap();
        fs::create_dir(run.join(".out.virtplan-new")).unwrap();
        fs::write(run.join(".out.virtplan-new/half"), "ha").unwrap();
        // Steps 0-2 recover (put the plan back, remove the half-built
        // folder); step 3, the first of the new build, fails.
        let mut ops = Faulty::new(3, false);
        assert!(write_plan(&mut ops, &out, &new_plan(), false).is_err());
        assert_eq!(contents(&out), old);
        assert_eq!(names(&run), ["out", "project"]);
    }

    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn replacing_a_file_is_all_or_nothing_and_keeps_its_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_root("output-replace");
        let path = dir.join("servers.kdl");
        let old = "server   \"a\"\n".repeat(1000);
        let new = "server \"a\"\n".repeat(1000);
        for crash in [false, true] {
            let mut n = 0;
            loop {
                let _ = fs::remove_dir_all(&dir);
                fs::create_dir_all(&dir).unwrap();
                fs::write(&path, &old).unwrap();
                // A mode the umask would change on a new file.
                fs::set_permissions(&path, Permissions::from_mode(0o664)).unwrap();
                let mut ops = Faulty::new(n, crash);
                let result = replace_file(&mut ops, &path, new.as_bytes());
                let now = fs::read_to_string(&path).unwrap();
                assert_eq!(mode(&path), 0o664, "step {n}");
                if !ops.fired {
                    assert!(result.is_ok());
                    assert_eq!(now, new);
                    assert_eq!(names(&dir), ["servers.kdl"]);
                    break;
                }
                assert!(result.is_err(), "step {n}");
                assert!(now == old || now == new, "step {n}: a cut file");
                if crash {
                    // The next run removes the leftover temporary file.
                    replace_file(&mut Disk, &path, new.as_bytes()).unwrap();
                    assert_eq!(fs::read_to_string(&path).unwrap(), new);
                } else {
                    // Only the final folder sync comes after the rename.
                    let synced = n == ops.count - 1;
                    assert_eq!(&now, if synced { &new } else { &old }, "step {n}");
                }
                assert_eq!(names(&dir), ["servers.kdl"], "step {n}: leftovers");
                n += 1;
            }
            // create, write, permissions, sync, rename, folder sync.
            assert_eq!(n, 6);
        }
    }

    #[test]
    fn replacing_several_files_changes_none_unless_all_are_written() {
        let dir = temp_root("output-replace-many");
        let names_in = ["a.kdl", "b.kdl", "c.kdl"];
        let old = |k: usize| format!("a   {k}\n");
        let new = |k: usize| format!("a {k}\n");
        let mut n = 0;
        loop {
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            let files: Vec<(PathBuf, Vec<u8>)> = names_in
                .iter()
                .enumerate()
                .map(|(k, name)| {
                    fs::write(dir.join(name), old(k)).unwrap();
                    (dir.join(name), new(k).into_bytes())
                })
                .collect();
            let mut ops = Faulty::new(n, false);
            let result = replace_files(&mut ops, &files);
            let now: Vec<String> = names_in
                .iter()
                .map(|name| fs::read_to_string(dir.join(name)).unwrap())
                .collect();
            assert_eq!(names(&dir), names_in, "step {n}: leftovers");
            if !ops.fired {
                assert!(result.is_ok());
                assert_eq!(now, (0..3).map(new).collect::<Vec<_>>());
                break;
            }
            assert!(result.is_err(), "step {n}");
            // 3 × (create, write, permissions, sync) stage every file: a
            // failure there leaves all three as they were. Then 3 renames,
            // then the folder sync.
            let renamed = n.saturating_sub(12).min(3);
            for (k, text) in now.iter().enumerate() {
                let want = if k < renamed { new(k) } else { old(k) };
                assert_eq!(text, &want, "step {n}, file {k}");
            }
            n += 1;
        }
        assert_eq!(n, 16);
    }

    #[test]
    fn replacing_refuses_a_symlink() {
        let dir = temp_root("output-replace-symlink");
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("target.kdl"), "a 1\n").unwrap();
        std::os::unix::fs::symlink("target.kdl", dir.join("link.kdl")).unwrap();
        let err = replace_file(&mut Disk, &dir.join("link.kdl"), b"b 2\n").unwrap_err();
        assert!(matches!(err, OutputError::Symlink(_)), "{err}");
        assert_eq!(fs::read(dir.join("target.kdl")).unwrap(), b"a 1\n");
    }
}
