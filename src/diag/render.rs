//! Rendering: rustc-style text through `annotate-snippets` (the renderer rustc
//! itself uses), and a flat JSON shape with resolved lines and columns.

use super::{Diagnostic, Severity};
use crate::span::SourceMap;
use annotate_snippets::{Level, Renderer, Snippet};
use serde::Serialize;

fn level(s: Severity) -> Level {
    match s {
        Severity::Error => Level::Error,
        Severity::Warning => Level::Warning,
        Severity::Note => Level::Note,
    }
}

/// `error[E0203]: message` / `--> file:line:col` / the source line / a caret.
pub fn render_text(d: &Diagnostic, sm: &SourceMap) -> String {
    let title = d.message.as_str();
    let mut msg = level(d.severity).title(title).id(d.code.0);
    let notes: Vec<String> = d.notes.clone();
    let mut snippet_holder = None;
    if let Some(span) = d.span {
        let file = sm.get(span.file);
        let (line, _) = file.line_col(span.start);
        let (end_line, _) = file.line_col(span.end.max(span.start));
        // Show the lines the span touches (and secondary spans in the same file).
        let mut first = line;
        let mut last = end_line;
        for (s, _) in &d.secondary {
            if s.file == span.file {
                first = first.min(file.line_col(s.start).0);
                last = last.max(file.line_col(s.end).0);
            }
        }
        let start = file.line_range(first).start;
        let end = file.line_range(last).end;
        snippet_holder = Some((span, file, start, end, first));
    }
    let mut snippets = Vec::new();
    if let Some((span, file, start, end, first)) = &snippet_holder {
        let src = &file.text[*start..*end];
        let clamp = |o: u32| (o as usize).clamp(*start, *end) - start;
        let (a, mut b) = (clamp(span.start), clamp(span.end));
        if b <= a {
            b = a; // annotate-snippets draws a caret for an empty range
        }
        let mut snip = Snippet::source(src)
            .line_start(*first)
            .origin(&file.path)
            .fold(false);
        snip = snip.annotation(
            level(d.severity)
                .span(a..b)
                .label(d.label.as_deref().unwrap_or("")),
        );
        for (s, l) in &d.secondary {
            if s.file == span.file {
                snip = snip.annotation(Level::Info.span(clamp(s.start)..clamp(s.end)).label(l));
            }
        }
        snippets.push(snip);
    }
    msg = msg.snippets(snippets);
    for n in &notes {
        msg = msg.footer(Level::Note.title(n));
    }
    let mut out = Renderer::plain().render(msg).to_string();
    if d.span.is_none() {
        // keep the file visible for file-level problems
    }
    out.push('\n');
    out
}

/// The JSON shape shared by `check --format json` and `convert --format json`.
#[derive(Debug, Serialize)]
pub struct JsonDiagnostic<'a> {
    pub code: &'a str,
    pub severity: &'a str,
    pub message: &'a str,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub end_line: Option<usize>,
    pub end_column: Option<usize>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<&'a str>,
}

pub fn to_json<'a>(d: &'a Diagnostic, sm: &SourceMap) -> JsonDiagnostic<'a> {
    let pos = d.span.map(|s| sm.resolve(s));
    JsonDiagnostic {
        code: d.code.0,
        severity: d.severity.as_str(),
        message: &d.message,
        line: pos.map(|p| p.line),
        column: pos.map(|p| p.column),
        end_line: pos.map(|p| p.end_line),
        end_column: pos.map(|p| p.end_column),
        notes: d.notes.iter().map(String::as_str).collect(),
    }
}
