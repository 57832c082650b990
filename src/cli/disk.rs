//! Project files on disk: the [`FileSource`] the command line reads through.

use std::path::{Path, PathBuf};

use virtplan::source::FileSource;

/// Files under a directory on disk.
pub struct DiskSource {
    pub root: PathBuf,
}

impl DiskSource {
    pub fn new(root: &Path) -> DiskSource {
        DiskSource {
            root: root.to_path_buf(),
        }
    }

    fn walk(&self, dir: &Path, prefix: &str, out: &mut Vec<String>, depth: usize) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut names: Vec<(String, PathBuf)> = entries
            .flatten()
            .filter_map(|e| Some((e.file_name().into_string().ok()?, e.path())))
            .filter(|(n, _)| !n.starts_with('.') && n != "target")
            .collect();
        names.sort();
        for (name, path) in names {
            let rel = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}/{name}")
            };
            let meta = std::fs::symlink_metadata(&path);
            match meta {
                Ok(m) if m.is_dir() && depth < 16 => self.walk(&path, &rel, out, depth + 1),
                Ok(m) if m.is_file() => out.push(rel),
                _ => {}
            }
        }
    }
}

impl FileSource for DiskSource {
    fn list(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.walk(&self.root, "", &mut out, 0);
        out
    }
    fn read(&self, path: &str) -> Result<Vec<u8>, String> {
        std::fs::read(self.root.join(path)).map_err(|e| e.to_string())
    }
}
