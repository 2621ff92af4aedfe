//! The fast path against `saphyr-parser` (`parse_exact`): wherever it
//! answers, it must build the very tree the full parser builds.

use super::super::parse_exact;
use super::parse;
use crate::source::yaml::{YamlKind, YamlNode};
use crate::span::FileId;
use std::path::{Path, PathBuf};

const F: FileId = FileId(0);

/// `Some` from the fast path means the full parser accepts the text and
/// builds the same tree. Returns whether the fast path answered.
fn agrees(text: &str, what: &str) -> bool {
    let Some(fast) = parse(F, text) else {
        return false;
    };
    match parse_exact(F, text) {
        Ok(exact) => {
            if fast != exact {
                let d = diff(&fast, &exact).unwrap_or_default();
                panic!("{what}: the fast path differs: {d}\n{text}");
            }
        }
        Err(d) => panic!("{what}: the fast path accepts what saphyr rejects ({d:?})\n{text}"),
    }
    true
}

/// The first node where two trees differ, to read a failure.
fn diff(a: &[YamlNode], b: &[YamlNode]) -> Option<String> {
    if a.len() != b.len() {
        return Some(format!("{} nodes vs {}", a.len(), b.len()));
    }
    for (x, y) in a.iter().zip(b) {
        let kids = |n: &YamlNode| -> Vec<YamlNode> {
            match &n.kind {
                YamlKind::Scalar(_) => vec![],
                YamlKind::Seq(v) => v.clone(),
                YamlKind::Map(m) => m.iter().flat_map(|(k, v)| [k.clone(), v.clone()]).collect(),
            }
        };
        if let Some(d) = diff(&kids(x), &kids(y)) {
            return Some(d);
        }
        if x != y {
            let show = |n: &YamlNode| match &n.kind {
                YamlKind::Scalar(s) => format!("{:?} {:?} {:?}", n.span, s.value, s.origin),
                _ => format!("{} {:?}", n.kind_name(), n.span),
            };
            return Some(format!("fast {} / saphyr {}", show(x), show(y)));
        }
    }
    None
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "yml" || x == "yaml") {
            out.push(p);
        }
    }
}

const SAMPLE: &str = "\
# leading comment
title: Some rule # trailing
id: 0e1a2b3c-0000-4000-8000-000000000001
status: 'test' # it's a comment
tags:
    - attack.t1114.002
    - 'attack.collection'
    - \"quoted \\\\ with \\\"escapes\\\" \\u00e9\"
description: |
    First line
      indented more

    after a blank line
logsource:
  product: windows
  category: process_creation
detection:
  selection:
    - Image|endswith: '\\cmd.exe'
      CommandLine|contains|all:
        - ' /c '
        - 'it''s'
    - OriginalFileName: Cmd.Exe
  filter:
  - ParentImage: C:\\Windows\\explorer.exe
  condition: selection and not filter
falsepositives:
- Unknown
level: high
note: |-
  kept
  # not a comment
emoji: '😀 ünïcode'
url: https://example.com/a?b=c#frag
";

#[test]
fn the_common_shapes_take_the_fast_path() {
    assert!(agrees(SAMPLE, "sample"), "the sample fell back to saphyr");
    for text in [
        "a: b\n",
        "a: b",
        "a:\n  - x\n  - y\nb: c\n",
        "a:\n- x\nb: c\n\n\n# end\n",
        "a: |\n  last",
        "a: |-\n    t1\n\n    t2\n  # c\nb: x\n",
        "k:\n  - a: 1\n    b: 2\n  - c: 3\n",
    ] {
        assert!(agrees(text, "shape"), "fell back on {text:?}");
    }
}

#[test]
fn what_it_does_not_read_goes_to_saphyr() {
    for text in [
        "a: [x, y]\n",
        "a: {x: 1}\n",
        "a: &x b\nc: *x\n",
        "a: !tag b\n",
        "a: >\n  folded\n",
        "a: |+\n  keep\n\n",
        "a: |2\n   x\n",
        "a: plain\n  continued\n",
        "a: 'multi\n  line'\n",
        "a:\nb: c\n",
        "---\na: b\n",
        "a: b\r\n",
        "a:\tb\n",
        "- top level\n",
        "a: b: c\n",
        "'q': v\n",
        "a: \"\\N\"\n",
        "a: -1\n",
        "a: |\n\n  x\n",
        "a: |\n  x\n   \n  y\n",
        "a: x\u{feff}y\n",
    ] {
        assert!(parse(F, text).is_none(), "took the fast path on {text:?}");
    }
}

/// A deterministic generator (no dependency for it).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }
}

/// Mutants of `text`: a piece inserted or removed, a line repeated or
/// re-indented; each either agrees with saphyr or falls back.
fn mutate(text: &str, rng: &mut Lcg) -> String {
    const BITS: &[&str] = &[
        " ", "  ", ":", ": ", "- ", "-", "#", " #", "'", "''", "\"", "\\", "\\u00", "|", "|-",
        "\n", "\n  ", "\n- ", "x", "é", "---\n", "[", "{", "&a ", "*a", "!", ">", "?", "%", "\t",
        "\r", "\u{feff}", "\u{85}", "\u{2028}", "\u{a0}", "\u{1}",
    ];
    let mut at = rng.next() % (text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let mut t = text.to_string();
    match rng.next() % 5 {
        0 | 1 => t.insert_str(at, BITS[rng.next() % BITS.len()]),
        2 => {
            let mut e = (at + 1 + rng.next() % 4).min(t.len());
            while !t.is_char_boundary(e) {
                e += 1;
            }
            t.replace_range(at..e, "");
        }
        _ => {
            let ls = t[..at].rfind('\n').map_or(0, |n| n + 1);
            let le = t[at..].find('\n').map_or(t.len(), |n| at + n);
            let line = t[ls..le].to_string();
            match rng.next() % 3 {
                0 => t.insert_str(le, &format!("\n{line}")),
                1 => t.insert_str(ls, "  "),
                _ if line.starts_with("  ") => t.replace_range(ls..ls + 2, ""),
                _ => t.insert(ls, ' '),
            }
        }
    }
    t
}

/// Mutants per base text (`SIEMC_YAML_MUTANTS` for a longer run).
fn mutants() -> usize {
    std::env::var("SIEMC_YAML_MUTANTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(if cfg!(debug_assertions) { 300 } else { 3000 })
}

#[test]
fn mutants_agree_or_fall_back() {
    let mut bases = vec![SAMPLE.to_string()];
    let mut files = Vec::new();
    yaml_files(
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/rules")),
        &mut files,
    );
    files.sort();
    bases.extend(files.iter().filter_map(|p| std::fs::read_to_string(p).ok()));
    let mut rng = Lcg(0x5eed);
    let (mut tried, mut fast) = (0, 0);
    for base in &bases {
        for _ in 0..mutants() {
            let mut t = mutate(base, &mut rng);
            if rng.next() % 2 == 0 {
                t = mutate(&t, &mut rng);
            }
            tried += 1;
            fast += agrees(&t, "mutant") as usize;
        }
    }
    println!("yaml fast path: {fast} of {tried} mutants agreed, the rest fell back");
    // The mutants must exercise the fast path, not only its refusals.
    assert!(
        fast * 4 > tried,
        "only {fast} of {tried} mutants took the fast path"
    );
}

#[test]
fn agrees_with_saphyr_on_the_corpora() {
    let Ok(root) = std::env::var("SIEMC_CORPORA") else {
        println!("SIEMC_CORPORA unset: skipping the YAML fast-path corpus test");
        return;
    };
    for (dir, at_least) in [("sigma", 95), ("splunk", 0), ("sigma-regression", 90)] {
        let mut files = Vec::new();
        yaml_files(&Path::new(&root).join(dir), &mut files);
        let mut fast = 0;
        let mut rng = Lcg(files.len() as u64);
        for p in &files {
            let Ok(text) = std::fs::read_to_string(p) else {
                continue;
            };
            let what = p.display().to_string();
            fast += agrees(&text, &what) as usize;
            // and a mutant of each
            agrees(&mutate(&text, &mut rng), &what);
        }
        println!(
            "yaml fast path: {dir}: {fast} of {} files, the rest read by saphyr",
            files.len()
        );
        assert!(!files.is_empty(), "no YAML under {dir}");
        assert!(
            fast * 100 >= files.len() * at_least,
            "{dir}: fast path on {fast} of {}",
            files.len()
        );
    }
}
