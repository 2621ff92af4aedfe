//! The registry of diagnostic codes. A code names one kind of problem for good:
//! never reuse or renumber one. `E01xx` files and documents, `E02xx` query
//! syntax, `E03xx` lowering (meaning), `E04xx` field mapping, `E05xx`
//! conversion refusals. Warnings use the same registry (`W` codes).

/// A stable diagnostic code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct Code(pub &'static str);

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

macro_rules! codes {
    ($($name:ident = $code:literal : $doc:literal;)*) => {
        $(#[doc = $doc] pub const $name: Code = Code($code);)*
        /// Every code with its one-line meaning (for `siemc explain --codes` and docs).
        pub const ALL: &[(Code, &str)] = &[$(($name, $doc)),*];
    };
}

codes! {
    // files and documents
    IO_ERROR = "E0101": "the file could not be read";
    INVALID_UTF8 = "E0102": "the file is not valid UTF-8";
    TOML_SYNTAX = "E0103": "the file is not valid TOML";
    YAML_SYNTAX = "E0104": "the file is not valid YAML";
    MISSING_KEY = "E0105": "a required key is missing";
    WRONG_TYPE = "E0106": "a key has a value of the wrong type";
    UNKNOWN_LANGUAGE = "E0107": "the rule's query language is not known";
    BAD_VALUE = "E0108": "a key has a value that is not allowed";
    UNKNOWN_MACRO = "E0109": "a macro is not defined";
    MACRO_ARITY = "E0110": "a macro is called with the wrong number of arguments";
    UNKNOWN_KEY = "W0111": "a key is not known for this file format";
    NOT_A_RULE = "E0112": "the file is not a rule of a known format";
    // query syntax
    SYNTAX = "E0201": "the query is not valid syntax";
    UNEXPECTED_TOKEN = "E0202": "an unexpected token";
    UNCLOSED = "E0203": "an unclosed string, bracket or parenthesis";
    BAD_ESCAPE = "E0204": "an invalid escape sequence";
    TOO_DEEP = "E0205": "the query nests too deeply";
    BAD_NUMBER = "E0206": "a number or duration is not valid";
    UNKNOWN_FUNCTION = "E0207": "a function is not known";
    FUNCTION_ARITY = "E0208": "a function is called with the wrong number of arguments";
    BAD_REGEX = "E0209": "a regular expression is not valid";
    TRAILING_INPUT = "E0210": "input remains after a complete query";
    EMPTY_QUERY = "E0211": "the query is empty";
    // lowering
    UNSUPPORTED_CONSTRUCT = "E0301": "a construct has no meaning in the IR yet";
    TYPE_MISMATCH = "E0302": "an operand has the wrong type";
    UNSUPPORTED_COMMAND = "W0303": "a pipeline command is kept as an opaque stage";
    LOWERING_CAVEAT = "W0304": "the meaning depends on something the rule does not say";
    BEHAVIOURAL_ANALYTICS = "W0305": "a Splunk Behavioral Analytics (SSA) search";
    UNKNOWN_IDENTIFIER = "E0306": "a Sigma condition names a search identifier that is not defined";
    UNKNOWN_MODIFIER = "E0307": "a Sigma value modifier is not known";
    MODIFIER_MISUSE = "E0308": "a Sigma value modifier does not apply to this value or combination";
    UNRESOLVED_RULE = "W0309": "a Sigma correlation or filter names a rule that is not loaded";
    // mapping
    UNMAPPED_FIELD = "E0401": "a field has no mapping for the target";
    UNMAPPED_SOURCE = "E0402": "a log source has no mapping for the target";
    // conversion
    REFUSED = "E0501": "the target cannot express a construct";
    APPROXIMATE = "W0502": "the conversion is approximate";
    APPROXIMATE_REFUSED = "E0503": "an approximate conversion was refused under --strict";
}
