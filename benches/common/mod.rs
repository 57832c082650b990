//! Shared by the benchmarks: files on disk, as the CLI reads them.

use std::path::PathBuf;

use virtplan::source::{FileSource, ReadError};

/// The files of a converted trace: the top level and `metrics/`.
pub struct Disk(pub PathBuf);

impl FileSource for Disk {
    fn list(&self) -> Vec<String> {
        let mut out = Vec::new();
        for dir in ["", "metrics"] {
            let Ok(entries) = std::fs::read_dir(self.0.join(dir)) else {
                continue;
            };
            for e in entries.flatten() {
                if e.path().is_file() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    out.push(if dir.is_empty() {
                        name
                    } else {
                        format!("{dir}/{name}")
                    });
                }
            }
        }
        out.sort();
        out
    }
    fn read(&self, path: &str) -> Result<Vec<u8>, ReadError> {
        std::fs::read(self.0.join(path)).map_err(|e| ReadError::Io(e.to_string()))
    }
}
