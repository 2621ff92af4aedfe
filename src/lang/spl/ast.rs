//! The SPL syntax tree. Every node carries the file [`Span`] it was parsed from
//! (macro expansions map to the macro call that produced them).

use crate::span::Span;

/// `cmd | cmd | ...`: a whole search or a subsearch.
#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    pub commands: Vec<Command>,
    /// Whether the text started with `|` (a generating command comes first).
    pub leading_pipe: bool,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    /// The command name in lower case (`search` for the implicit first search).
    pub name: String,
    pub name_span: Span,
    pub kind: CommandKind,
    /// The command's text as written (for opaque stages).
    pub text: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CommandKind {
    /// `search <expr>`; `None` for an empty search.
    Search(Option<SearchExpr>),
    Tstats(Tstats),
    Stats(Stats),
    Eval(Vec<(Word, EvalExpr)>),
    Where(EvalExpr),
    Rename(Vec<(Word, Word)>),
    /// `table` and `fields [+|-]`.
    Fields {
        drop: bool,
        fields: Vec<Word>,
    },
    Spath {
        input: Option<Word>,
        output: Option<Word>,
        path: Option<Word>,
    },
    Rex {
        field: Option<Word>,
        regex: Word,
        sed: bool,
    },
    Regex {
        field: Option<Word>,
        negate: bool,
        regex: Word,
    },
    Lookup {
        table: Word,
        inputs: Vec<(Word, Word)>,
        outputs: Vec<(Word, Word)>,
    },
    InputLookup {
        table: Word,
    },
    Bin {
        field: Word,
        span: Option<Word>,
        alias: Option<Word>,
    },
    FillNull {
        value: Option<Word>,
        fields: Vec<Word>,
    },
    Dedup {
        count: u64,
        fields: Vec<Word>,
    },
    Sort {
        keys: Vec<(Word, bool)>,
    },
    Limit {
        count: u64,
        from_end: bool,
    },
    MvExpand {
        field: Word,
    },
    /// Commands read from their argument tokens by the lowering (`makemv`,
    /// `convert`, `iplocation`, `join`, `append`); subsearches are parsed.
    Tokens(Vec<Tok>),
    /// Any other command: only its extent is known.
    Other,
}

/// A token of a command's arguments.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Word(Word),
    /// `=`, `!=`, `==`, `<`, `<=`, `>`, `>=`, `,`, `(`, `)`.
    Sym(&'static str, Span),
    /// A parsed `[subsearch]`.
    Sub(Pipeline),
    /// A bracketed group kept verbatim (for commands whose brackets are not searches).
    Group(Word),
}

impl Tok {
    pub fn span(&self) -> Span {
        match self {
            Tok::Word(w) | Tok::Group(w) => w.span,
            Tok::Sym(_, s) => *s,
            Tok::Sub(p) => p.span,
        }
    }
    pub fn word(&self) -> Option<&Word> {
        match self {
            Tok::Word(w) => Some(w),
            _ => None,
        }
    }
    pub fn is_sym(&self, s: &str) -> bool {
        matches!(self, Tok::Sym(x, _) if *x == s)
    }
}

/// A word of a command's arguments: the decoded text and its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    pub text: String,
    pub quoted: bool,
    pub span: Span,
}

/// The search-command language (`NOT` > `OR` > `AND`).
#[derive(Debug, Clone, PartialEq)]
pub struct SearchExpr {
    pub kind: SearchKind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SearchKind {
    And(Vec<SearchExpr>),
    Or(Vec<SearchExpr>),
    Not(Box<SearchExpr>),
    /// `field op value`.
    Compare {
        field: Word,
        op: SearchOp,
        value: Word,
    },
    /// `field IN (v1, v2, ...)`.
    In {
        field: Word,
        values: Vec<Word>,
    },
    /// A bare or quoted term; `TERM(x)` sets `term`, `CASE(x)` sets `cased`.
    Term {
        value: Word,
        cased: bool,
    },
    /// `[ subsearch ]`.
    Subsearch(Box<Pipeline>),
}

/// `tstats [options] aggs [from datamodel=M[.D]] [where expr] [by fields [span=d]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Tstats {
    pub options: Vec<(Word, Word)>,
    pub aggs: Vec<AggCall>,
    pub datamodel: Option<Word>,
    pub filter: Option<SearchExpr>,
    pub by: Vec<Word>,
    pub span: Option<Word>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsMode {
    Stats,
    EventStats,
    StreamStats,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    pub mode: StatsMode,
    pub options: Vec<(Word, Word)>,
    pub aggs: Vec<AggCall>,
    pub by: Vec<Word>,
    pub span: Option<Word>,
}

/// `func[(arg)] [as alias]`.
#[derive(Debug, Clone, PartialEq)]
pub struct AggCall {
    /// Lower-case function name as written (`dc`, `perc95`, `count`).
    pub func: String,
    pub arg: Option<AggArg>,
    pub alias: Option<Word>,
    /// The text as written, Splunk's default output name (`sum(bytes)`).
    pub text: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AggArg {
    Field(Word),
    Eval(EvalExpr),
}

/// The eval/where expression language (`AND` before `OR`).
#[derive(Debug, Clone, PartialEq)]
pub struct EvalExpr {
    pub kind: EvalKind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Or,
    Xor,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Like,
    Add,
    Sub,
    Concat,
    Mul,
    Div,
    Mod,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EvalKind {
    Field(String),
    Str(String),
    Num(String),
    Bool(bool),
    Null,
    Not(Box<EvalExpr>),
    Neg(Box<EvalExpr>),
    Bin(BinOp, Box<EvalExpr>, Box<EvalExpr>),
    Call(String, Vec<EvalExpr>),
}
