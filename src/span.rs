//! Source positions. Every AST and IR node carries a [`Span`]: a byte range in
//! one file of the [`SourceMap`]. Queries embedded in TOML/YAML are parsed from
//! their *decoded* text; an [`Origin`] maps offsets in that text back to the file.

use serde::{Serialize, Serializer};

/// Index of a file in the [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// A byte range `[start, end)` in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span {
            file,
            start: start as u32,
            end: end.max(start) as u32,
        }
    }
    /// The span covering both `self` and `other` (same file assumed).
    pub fn to(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
    pub fn is_dummy(&self) -> bool {
        self.start == 0 && self.end == 0
    }
}

/// Spans serialize as `"start..end"` so IR snapshots stay readable; line and
/// column are resolved against the [`SourceMap`] where a person reads them.
impl Serialize for Span {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{}..{}", self.start, self.end))
    }
}

/// One loaded file.
#[derive(Debug)]
pub struct SourceFile {
    pub path: String,
    pub text: String,
    line_starts: Vec<u32>,
}

impl SourceFile {
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> SourceFile {
        let text = text.into();
        let mut line_starts = vec![0u32];
        line_starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i as u32 + 1));
        SourceFile {
            path: path.into(),
            text,
            line_starts,
        }
    }

    /// 1-based line and column (column counted in characters) of a byte offset.
    pub fn line_col(&self, offset: u32) -> (usize, usize) {
        let offset = offset.min(self.text.len() as u32);
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line] as usize;
        let mut end = offset as usize;
        while !self.text.is_char_boundary(end) {
            end -= 1;
        }
        (line + 1, self.text[start..end].chars().count() + 1)
    }

    /// Byte range of the 1-based line `line`, without its line break.
    pub fn line_range(&self, line: usize) -> std::ops::Range<usize> {
        let start = self.line_starts[line - 1] as usize;
        let end = self
            .line_starts
            .get(line)
            .map(|e| *e as usize - 1)
            .unwrap_or(self.text.len());
        let end = if end > start && self.text.as_bytes().get(end - 1) == Some(&b'\r') {
            end - 1
        } else {
            end
        };
        start..end.max(start)
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }
}

/// All files of one run.
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn new() -> SourceMap {
        SourceMap::default()
    }
    pub fn add(&mut self, path: impl Into<String>, text: impl Into<String>) -> FileId {
        self.add_file(SourceFile::new(path, text))
    }
    /// Register a file made elsewhere (e.g. on a loading thread).
    pub fn add_file(&mut self, file: SourceFile) -> FileId {
        self.files.push(file);
        FileId(self.files.len() as u32 - 1)
    }
    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }
    /// `(line, column)` of the start and end of a span.
    pub fn resolve(&self, span: Span) -> Position {
        let f = self.get(span.file);
        let (line, column) = f.line_col(span.start);
        let (end_line, end_column) = f.line_col(span.end);
        Position {
            line,
            column,
            end_line,
            end_column,
        }
    }
}

/// A span resolved to 1-based lines and columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

/// Where an embedded text (a query inside a TOML or YAML value, a macro
/// expansion) came from: a piecewise-linear map from offsets in the decoded
/// text to offsets in the file.
///
/// `segments` holds `(text_offset, file_offset)` pairs sorted by text offset;
/// a text offset maps through the last segment at or before it. A decoded
/// escape (`\"` is one byte of text, two of file) starts a new segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: FileId,
    segments: Vec<(u32, u32)>,
}

impl Origin {
    /// Text that stands verbatim in the file from `file_offset` on.
    pub fn verbatim(file: FileId, file_offset: usize) -> Origin {
        Origin {
            file,
            segments: vec![(0, file_offset as u32)],
        }
    }
    /// From explicit segments (`(text_offset, file_offset)`, sorted).
    pub fn from_segments(file: FileId, mut segments: Vec<(u32, u32)>) -> Origin {
        if segments.first().map(|s| s.0) != Some(0) {
            segments.insert(0, (0, segments.first().map(|s| s.1).unwrap_or(0)));
        }
        Origin { file, segments }
    }
    /// Rewrite every file offset (when the text was parsed from a modified copy).
    /// Segments are kept, so offsets inside one segment stay contiguous.
    pub fn remap(&mut self, f: impl Fn(usize) -> usize) {
        for s in &mut self.segments {
            s.1 = f(s.1 as usize) as u32;
        }
    }
    /// File offset of a text offset.
    pub fn map(&self, text_offset: usize) -> usize {
        let t = text_offset as u32;
        let i = match self.segments.binary_search_by_key(&t, |s| s.0) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let (ts, fs) = self.segments[i];
        (fs + (t - ts)) as usize
    }
    /// The file span of the text range `[start, end)`.
    pub fn span(&self, start: usize, end: usize) -> Span {
        let s = self.map(start);
        let e = if end > start {
            self.map(end - 1) + 1
        } else {
            s
        };
        Span::new(self.file, s, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_chars() {
        let f = SourceFile::new("x", "ab\nçd\n");
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(3), (2, 1));
        assert_eq!(f.line_col(5), (2, 2)); // after the two-byte ç
        assert_eq!(f.line_range(2), 3..6);
    }

    #[test]
    fn origin_maps_across_escapes() {
        // file: q = "a\"b"   text: a"b ; text 0 -> file 5, text 1 (") -> file 6..8, text 2 -> 8
        let o = Origin::from_segments(FileId(0), vec![(0, 5), (1, 6), (2, 8)]);
        assert_eq!(o.map(0), 5);
        assert_eq!(o.map(2), 8);
        assert_eq!(o.span(0, 3), Span::new(FileId(0), 5, 9));
    }
}
