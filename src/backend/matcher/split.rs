//! The streaming splitter: cuts NDJSON, a JSON array, or JSON objects
//! written one after another (evtx dumps, pretty-printed) into records,
//! without recursion and without buffering more than one record; a record
//! that is not an event is reported with the line it starts on.

use super::linescan::line_object;
use memchr::memchr3;
use std::io::Read;

/// Records larger than this are reported and skipped (never buffered whole).
pub const MAX_RECORD: usize = 64 << 20;

/// One record cut from the input: its bytes, or why it is not an event.
pub struct Record {
    pub line: usize,
    pub result: Result<Vec<u8>, String>,
}

enum Mode {
    /// Between records.
    Between,
    /// Inside an object record.
    Object,
    /// A record that does not start with `{`: skipped to the end of its line.
    Junk,
}

/// A record placed in a caller's buffer: the line it starts on and its
/// byte range there, or why it is not an event.
pub type Placed = (usize, Result<(usize, usize), String>);

/// A record cut: built in the record buffer, or a whole line still in the
/// read buffer (`buf[a..z]`, the NDJSON fast path).
enum Cut {
    Whole(Record),
    InBuf { line: usize, a: usize, z: usize },
}

/// The streaming splitter.
pub struct Splitter<R: Read> {
    input: R,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    eof: bool,
    line: usize,
    /// Inside a top-level JSON array (records are its elements).
    in_array: bool,
    seen_any: bool,
    mode: Mode,
    rec: Vec<u8>,
    rec_line: usize,
    oversize: bool,
    depth: usize,
    in_string: bool,
    escaped: bool,
    at_line_start: bool,
    /// The token bits of the last line the fast path cut (`linescan`).
    tokens: Vec<u64>,
    /// The record `next_record_into` returned last has them.
    has_tokens: bool,
}

impl<R: Read> Splitter<R> {
    pub fn new(input: R) -> Splitter<R> {
        Splitter {
            input,
            buf: vec![0; 1 << 18],
            pos: 0,
            len: 0,
            eof: false,
            line: 1,
            in_array: false,
            seen_any: false,
            mode: Mode::Between,
            rec: Vec::with_capacity(4096),
            rec_line: 1,
            oversize: false,
            depth: 0,
            in_string: false,
            escaped: false,
            at_line_start: true,
            tokens: Vec::new(),
            has_tokens: false,
        }
    }

    fn fill(&mut self) -> Result<bool, String> {
        if self.pos < self.len {
            return Ok(true);
        }
        if self.eof {
            return Ok(false);
        }
        loop {
            match self.input.read(&mut self.buf) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.pos = 0;
                    self.len = n;
                    return Ok(true);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.eof = true;
                    return Err(e.to_string());
                }
            }
        }
    }

    fn push_range(&mut self, a: usize, b: usize) {
        if self.oversize {
            return;
        }
        if self.rec.len() + (b - a) > MAX_RECORD {
            self.oversize = true;
            self.rec = Vec::new();
            return;
        }
        self.rec.extend_from_slice(&self.buf[a..b]);
    }

    fn start(&mut self, mode: Mode) {
        self.mode = mode;
        self.rec.clear();
        self.rec_line = self.line;
        self.oversize = false;
        self.depth = 0;
        self.in_string = false;
        self.escaped = false;
        self.seen_any = true;
    }

    /// Whether the next record needs a read from the input (nothing but
    /// blanks is buffered): a batching caller hands on what it has before
    /// it waits.
    pub fn drained(&self) -> bool {
        !self.eof
            && self.buf[self.pos..self.len]
                .iter()
                .all(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
    }

    /// Give back a record's buffer for reuse (saves an allocation per record).
    pub fn recycle(&mut self, mut buf: Vec<u8>) {
        if self.rec.is_empty() && self.rec.capacity() < buf.capacity() && buf.capacity() <= 1 << 20
        {
            buf.clear();
            self.rec = buf;
        }
    }

    fn finish(&mut self, err: Option<String>) -> Record {
        self.mode = Mode::Between;
        let line = self.rec_line;
        let result = if self.oversize {
            Err(format!(
                "record larger than {} MiB: skipped",
                MAX_RECORD >> 20
            ))
        } else if let Some(e) = err {
            Err(e)
        } else {
            Ok(std::mem::take(&mut self.rec))
        };
        Record { line, result }
    }

    /// The next record, `None` at the end of the input.
    pub fn next_record(&mut self) -> Option<Record> {
        Some(match self.next_cut()? {
            Cut::Whole(r) => r,
            Cut::InBuf { line, a, z } => {
                let mut v = std::mem::take(&mut self.rec);
                v.clear();
                v.extend_from_slice(&self.buf[a..z]);
                Record {
                    line,
                    result: Ok(v),
                }
            }
        })
    }

    /// [`Splitter::next_record`] with the record's bytes appended to `out`:
    /// the line it starts on and its range there, or why it is not an
    /// event. A whole line in the read buffer is copied once, straight
    /// into `out`.
    pub fn next_record_into(&mut self, out: &mut Vec<u8>) -> Option<Placed> {
        let at = out.len();
        self.has_tokens = false;
        Some(match self.next_cut()? {
            Cut::InBuf { line, a, z } => {
                out.extend_from_slice(&self.buf[a..z]);
                self.has_tokens = !self.tokens.is_empty();
                (line, Ok((at, out.len())))
            }
            Cut::Whole(Record { line, result }) => (
                line,
                result.map(|v| {
                    out.extend_from_slice(&v);
                    self.recycle(v);
                    (at, out.len())
                }),
            ),
        })
    }

    /// The token bits of the record [`Splitter::next_record_into`] returned
    /// last, one word per 64 bytes (`blocks::Tokens::scanned`), when the
    /// line check classified it.
    pub fn tokens(&self) -> Option<&[u64]> {
        self.has_tokens.then_some(self.tokens.as_slice())
    }

    /// The next record cut, `None` at the end of the input.
    fn next_cut(&mut self) -> Option<Cut> {
        loop {
            match self.fill() {
                Ok(true) => {}
                Ok(false) => {
                    return match self.mode {
                        Mode::Between => None,
                        Mode::Object => Some(Cut::Whole(self.finish(Some(
                            "truncated JSON: the input ends inside this record".into(),
                        )))),
                        Mode::Junk => {
                            Some(Cut::Whole(self.finish(Some("not a JSON object".into()))))
                        }
                    };
                }
                Err(e) => {
                    return Some(Cut::Whole(Record {
                        line: self.line,
                        result: Err(format!("read error: {e}")),
                    }))
                }
            }
            if let Some(r) = self.step() {
                return Some(r);
            }
        }
    }

    /// Consume buffered bytes; returns a record when one completes.
    fn step(&mut self) -> Option<Cut> {
        while self.pos < self.len {
            match self.mode {
                Mode::Between => {
                    let b = self.buf[self.pos];
                    self.pos += 1;
                    match b {
                        b'\n' => {
                            self.line += 1;
                            self.at_line_start = true;
                        }
                        b' ' | b'\t' | b'\r' => {}
                        b',' if self.in_array => {}
                        b']' if self.in_array => self.in_array = false,
                        b'[' if !self.in_array && !self.seen_any => {
                            self.in_array = true;
                            self.seen_any = true;
                        }
                        b'{' => {
                            let at = self.pos - 1;
                            self.start(Mode::Object);
                            // Fast path: a whole one-object line already in
                            // the buffer (NDJSON) is the record; anything
                            // else goes through the state machine below.
                            self.tokens.clear();
                            if let Some(n) = line_object(&self.buf[at..self.len], &mut self.tokens)
                            {
                                self.pos = at + n;
                                self.at_line_start = false;
                                self.mode = Mode::Between;
                                return Some(Cut::InBuf {
                                    line: self.rec_line,
                                    a: at,
                                    z: at + n,
                                });
                            }
                            self.depth = 1;
                            self.push_range(at, self.pos);
                            self.at_line_start = false;
                        }
                        _ => {
                            self.start(Mode::Junk);
                            self.at_line_start = false;
                        }
                    }
                }
                Mode::Junk => {
                    let rest = &self.buf[self.pos..self.len];
                    match memchr::memchr(b'\n', rest) {
                        Some(i) => {
                            self.pos += i;
                            return Some(Cut::Whole(self.finish(Some("not a JSON object".into()))));
                        }
                        None => self.pos = self.len,
                    }
                }
                Mode::Object => {
                    if let Some(r) = self.step_object() {
                        return Some(Cut::Whole(r));
                    }
                }
            }
        }
        None
    }

    fn step_object(&mut self) -> Option<Record> {
        if self.in_string {
            if self.escaped {
                self.escaped = false;
                let b = self.buf[self.pos];
                self.pos += 1;
                if b == b'\n' {
                    self.line += 1;
                    self.at_line_start = true;
                    return Some(self.finish(Some("unterminated string".into())));
                }
                self.push_range(self.pos - 1, self.pos);
                return None;
            }
            let at = self.pos;
            match memchr3(b'"', b'\\', b'\n', &self.buf[at..self.len]) {
                None => {
                    self.push_range(at, self.len);
                    self.pos = self.len;
                }
                Some(i) => {
                    let b = self.buf[at + i];
                    self.pos = at + i + 1;
                    if b == b'\n' {
                        self.line += 1;
                        self.at_line_start = true;
                        return Some(self.finish(Some("unterminated string".into())));
                    }
                    self.push_range(at, at + i + 1);
                    if b == b'"' {
                        self.in_string = false;
                    } else {
                        self.escaped = true;
                    }
                }
            }
            return None;
        }
        let seg = self.pos;
        while self.pos < self.len {
            let b = self.buf[self.pos];
            match b {
                b'\n' => {
                    self.line += 1;
                    self.at_line_start = true;
                    self.pos += 1;
                    continue;
                }
                b' ' | b'\t' | b'\r' => {
                    self.pos += 1;
                    continue;
                }
                _ => {}
            }
            // A `{` at the start of a line while a record is open: the open
            // record was truncated (NDJSON, evtx dumps put records there).
            if b == b'{' && self.at_line_start && !self.in_array {
                self.push_range(seg, self.pos);
                let r = self.finish(Some("truncated JSON: a new record starts here".into()));
                self.start(Mode::Object);
                self.depth = 1;
                self.push_range(self.pos, self.pos + 1);
                self.pos += 1;
                self.at_line_start = false;
                return Some(r);
            }
            self.at_line_start = false;
            self.pos += 1;
            match b {
                b'"' => {
                    self.in_string = true;
                    self.push_range(seg, self.pos);
                    return None;
                }
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth -= 1;
                    if self.depth == 0 {
                        self.push_range(seg, self.pos);
                        return Some(self.finish(None));
                    }
                }
                _ => {}
            }
        }
        self.push_range(seg, self.pos);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out one byte per read: a line is never whole in
    /// the buffer, so the splitter's state machine cuts every record.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            match (self.0.split_first(), buf.first_mut()) {
                (Some((b, rest)), Some(slot)) => {
                    *slot = *b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    #[test]
    fn the_line_fast_path_cuts_as_the_state_machine_does() {
        let inputs = [
            "{\"a\":1}\n{\"b\":\"}{\"}\r\n",
            "{\"a\":1} {\"b\":2}\n{\"c\":[1,{\"d\":2}]}  \n",
            "[{\"a\":1},\n{\"b\":2}\n]\n",
            "{\"a\":\"x\\\"}\"}\n{\"t\":\n1}\n",
            "{\"a\":1]\n{\"a\":{}}}\nnot json\n{\"open\":\n{\"next\":1}\n",
            "{\"s\":\"unterminated\n{\"x\":2}\n",
        ];
        for input in inputs {
            let fast = split(input);
            let mut s = Splitter::new(Trickle(input.as_bytes()));
            let mut slow = Vec::new();
            while let Some(r) = s.next_record() {
                slow.push((
                    r.line,
                    r.result.map(|b| String::from_utf8_lossy(&b).into_owned()),
                ));
            }
            assert_eq!(fast, slow, "{input:?}");
            // Appended to one buffer, by either path: the same records.
            assert_eq!(split_into(input.as_bytes()), fast, "{input:?}");
            assert_eq!(split_into(Trickle(input.as_bytes())), fast, "{input:?}");
        }
    }

    fn split_into(input: impl Read) -> Vec<(usize, Result<String, String>)> {
        let mut s = Splitter::new(input);
        let mut buf = b"earlier records".to_vec();
        let mut out = Vec::new();
        while let Some((line, r)) = s.next_record_into(&mut buf) {
            let r = r.map(|(a, z)| String::from_utf8_lossy(&buf[a..z]).into_owned());
            out.push((line, r));
        }
        out
    }

    fn split(input: &str) -> Vec<(usize, Result<String, String>)> {
        let mut s = Splitter::new(input.as_bytes());
        let mut out = Vec::new();
        while let Some(r) = s.next_record() {
            out.push((
                r.line,
                r.result.map(|b| String::from_utf8_lossy(&b).into_owned()),
            ));
        }
        out
    }

    #[test]
    fn ndjson_array_and_concatenated() {
        let r = split("{\"a\":1}\n{\"b\":\"}\"}\n");
        assert_eq!(r.len(), 2);
        assert_eq!(r[1], (2, Ok("{\"b\":\"}\"}".to_string())));
        let r = split("[{\"a\":1},\n {\"a\":2}]");
        assert_eq!(r.len(), 2);
        assert!(r.iter().all(|x| x.1.is_ok()));
        let r = split("{\n  \"a\": {\n    \"b\": 1\n  }\n}\n{\n  \"c\": 2\n}\n");
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].0, 6);
    }

    #[test]
    fn truncated_and_junk_records_do_not_swallow_others() {
        let r = split("{\"a\":1}\n{\"a\": \"tru\n{\"a\":3}\nnot json\n{\"a\":\n{\"a\":5}");
        let oks: Vec<_> = r.iter().filter(|x| x.1.is_ok()).map(|x| x.0).collect();
        let bad: Vec<_> = r.iter().filter(|x| x.1.is_err()).map(|x| x.0).collect();
        assert_eq!(oks, vec![1, 3, 6]);
        assert_eq!(bad, vec![2, 4, 5]);
    }
}
