//! Reading macro definitions (`macros/*.yml`: `name`, `definition`,
//! `arguments`) once per folder and run, and finding the folder for a
//! detection: the nearest ancestor folder that has a `macros/` folder.

use super::Options;
use crate::lang::spl::macros::{MacroDef, MacroTable};
use crate::source::yaml;
use crate::span::FileId;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

type Cache = Mutex<HashMap<PathBuf, Arc<MacroTable>>>;

fn tables() -> &'static Cache {
    static C: OnceLock<Cache> = OnceLock::new();
    C.get_or_init(Default::default)
}

fn dirs() -> &'static Mutex<HashMap<PathBuf, Option<PathBuf>>> {
    static D: OnceLock<Mutex<HashMap<PathBuf, Option<PathBuf>>>> = OnceLock::new();
    D.get_or_init(Default::default)
}

/// Every definition in `dir/*.yml` (files that do not read as a macro are skipped).
pub fn load_macro_dir(dir: &Path) -> MacroTable {
    let mut t = MacroTable::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return t;
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yml" | "yaml")))
        .collect();
    paths.sort();
    for p in paths {
        let Ok(text) = std::fs::read_to_string(&p) else {
            continue;
        };
        let Ok(docs) = yaml::parse(FileId(u32::MAX), &text) else {
            continue;
        };
        for d in docs {
            let (Some(name), Some(def)) = (
                d.get("name").and_then(|n| n.as_str()),
                d.get("definition").and_then(|n| n.as_str()),
            ) else {
                continue;
            };
            let args = d
                .get("arguments")
                .map(|a| a.as_str_list().into_iter().map(str::to_string).collect())
                .unwrap_or_default();
            t.insert(MacroDef {
                name: name.to_string(),
                args,
                definition: def.to_string(),
            });
        }
    }
    t
}

/// The cached table of a macros folder.
fn table(dir: &Path) -> Arc<MacroTable> {
    let key = dir.to_path_buf();
    let mut c = tables().lock().unwrap_or_else(|e| e.into_inner());
    c.entry(key)
        .or_insert_with(|| Arc::new(load_macro_dir(dir)))
        .clone()
}

/// The nearest ancestor of `start` holding a `macros/` folder, cached per folder.
fn find_macros_dir(start: &Path) -> Option<PathBuf> {
    let key = start.to_path_buf();
    if let Some(hit) = dirs().lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return hit.clone();
    }
    let abs = std::fs::canonicalize(start).unwrap_or_else(|_| start.to_path_buf());
    let found = abs
        .ancestors()
        .map(|a| a.join("macros"))
        .find(|m| m.is_dir());
    dirs()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, found.clone());
    found
}

/// The macro table for a detection at `path`.
pub fn macro_table_for(path: &str, opts: &Options) -> Arc<MacroTable> {
    let dir = match &opts.macros_dir {
        Some(d) => Some(d.clone()),
        None => {
            let parent = Path::new(path).parent().unwrap_or(Path::new("."));
            let parent = if parent.as_os_str().is_empty() {
                Path::new(".")
            } else {
                parent
            };
            find_macros_dir(parent)
        }
    };
    match dir {
        Some(d) => table(&d),
        None => Arc::new(MacroTable::new()),
    }
}
