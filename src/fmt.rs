//! Canonical formatting of virtplan files.
//!
//! In: a file's text. Out: the same document in canonical form (four-space
//! indent, one node per line, one space between entries), or diagnostics.
//!
//! The formatter is lossless by construction: it cuts the text into KDL v2
//! tokens and prints every token again, as written, in the same order; only
//! whitespace, newlines and `;` terminators change. So every comment and
//! every slashdash (`/-`) stays where KDL allows it (before a node, between
//! entries, between the last entry and `{`, after `}`, a slashdashed node,
//! entry or children block), values keep their spelling (`"EUR"` stays
//! quoted, `2.50` keeps its zero), and a slashdashed block is indented like
//! any other block. What the layout does:
//!
//! - a node starts a line, indented four spaces per block level; a line
//!   continued with `\` is indented one level more than its node;
//! - entries are one space apart (none around `=`, inside a type annotation
//!   or after it); a comment after a node, a `{` or a `}` stays on that line;
//! - a `;` between nodes becomes a line break; `{` ends its line and `}`
//!   stands on its own line;
//! - runs of blank lines between nodes become one blank line; none at the
//!   start of a block or the file, before a `}` or at the end of the file;
//! - block comments and multi-line strings keep their inside as written.
//!
//! The file's line endings stay: LF stays LF, CRLF stays CRLF. A file that
//! mixes them, or uses another ending KDL allows (a lone CR, NEL, VT, FF,
//! LS, PS), is written with the more common of LF and CRLF (LF when tied)
//! and the warning `virtplan::fmt::mixed-line-endings` says so. A leading
//! byte order mark stays as it was.
//!
//! Before returning, the formatter checks its own output: it must hold the
//! same tokens (whitespace, newlines and `;` aside), and the `kdl` crate
//! must read the same node structure from it (compared on skeletons where
//! each value is a short numbered name, since that parser is slow on long
//! tokens; on a file of many short tokens the two skeleton parses make fmt
//! about three times as slow as one parse). If not, the file is refused with
//! `virtplan::fmt::refused` rather than changed. Formatting is idempotent: a
//! test formats every output again.

use kdl::KdlDocument;

use crate::diag::{Diagnostic, Diagnostics};
use crate::source::{FileId, Span};

/// One level of indentation.
const INDENT: &str = "    ";
/// The byte order mark, kept as it was.
const BOM: char = '\u{FEFF}';

/// Formats one file, or returns `None` with diagnostics when it does not
/// parse or cannot be formatted safely.
pub fn format(file: FileId, text: &str, diags: &mut Diagnostics) -> Option<String> {
    let bom = text
        .strip_prefix(BOM)
        .map_or("", |_| &text[..BOM.len_utf8()]);
    let body = &text[bom.len()..];
    if parse(body).is_none() {
        // Report why with the checker's own messages.
        let count = diags.items.len();
        crate::syntax::parse(file, text, diags);
        if diags.items.len() == count {
            diags.push(
                Diagnostic::error("virtplan::parse::syntax", "the file cannot be formatted")
                    .at(Span::new(file, 0, 0), "this file")
                    .help("fix the syntax errors first"),
            );
        }
        return None;
    }
    let refuse = |diags: &mut Diagnostics, at: usize, why: &str| {
        let at = bom.len() + at;
        diags.push(
            Diagnostic::error(
                "virtplan::fmt::refused",
                format!("fmt leaves this file unchanged: {why}"),
            )
            .at(Span::new(file, at, at), "here")
            .help("this is a bug in virtplan fmt; please report it with the file"),
        );
    };
    let tokens = match lex(body) {
        Ok(tokens) => tokens,
        Err(at) => {
            refuse(diags, at, "a token it does not know");
            return None;
        }
    };
    let newline = line_ending(file, bom.len(), body, diags);
    let out = match print(&tokens, newline) {
        Ok(out) => out,
        Err(at) => {
            refuse(diags, at, "a `}` without its `{`");
            return None;
        }
    };
    if let Err(why) = verify(&tokens, &out, newline) {
        refuse(diags, 0, why.text());
        return None;
    }
    Some(format!("{bom}{out}"))
}

/// The document, or `None` when the text is not KDL v2 (or too deep for the
/// parser).
fn parse(text: &str) -> Option<KdlDocument> {
    if crate::syntax::too_deep(text).is_some() {
        return None;
    }
    // The kdl parser is not ours: a panic inside it must not take the run down.
    std::panic::catch_unwind(|| KdlDocument::parse_v2(text))
        .ok()?
        .ok()
}

/// Why an output is refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Unsafe {
    /// A comment, slashdash or value is missing, added or changed.
    Tokens,
    /// The output parses to another document, or not at all.
    Meaning,
}

impl Unsafe {
    fn text(self) -> &'static str {
        match self {
            Unsafe::Tokens => "the output would lose or change a comment, slashdash or value",
            Unsafe::Meaning => "the output would mean another document",
        }
    }
}

/// Checks an output against the tokens it was printed from: the same
/// tokens (whitespace, newlines and `;` aside), and the same document
/// structure. The structure is compared on skeletons, where each value or
/// name is a short identifier numbered in order: the kdl parser is slow on
/// long tokens, and the tokens are already known to be equal.
fn verify(tokens: &[Token<'_>], out: &str, newline: Newline) -> Result<(), Unsafe> {
    let after = lex(out).map_err(|_| Unsafe::Tokens)?;
    let kept: Vec<(Kind, &str)> = significant(&after).map(|t| (t.kind, t.text)).collect();
    let expected: Vec<(Kind, String)> = significant(tokens)
        .map(|t| (t.kind, convert(t.text, newline)))
        .collect();
    let same = kept.len() == expected.len()
        && kept
            .iter()
            .zip(&expected)
            .all(|(a, b)| a.0 == b.0 && a.1 == b.1.as_str());
    if !same {
        return Err(Unsafe::Tokens);
    }
    let before = parse(&skeleton(tokens)).map(cleared);
    if before.is_none() || parse(&skeleton(&after)).map(cleared) != before {
        return Err(Unsafe::Meaning);
    }
    Ok(())
}

/// The tokens with every value or name as `w` and its number, comments
/// empty: the document's structure, quick to parse.
fn skeleton(tokens: &[Token<'_>]) -> String {
    let mut out = String::new();
    let mut words = 0usize;
    for token in tokens {
        match token.kind {
            Kind::Word => {
                words += 1;
                out.push('w');
                out.push_str(&words.to_string());
            }
            Kind::BlockComment => out.push_str("/**/"),
            Kind::LineComment => out.push_str("//"),
            Kind::Newline => out.push('\n'),
            Kind::Space => out.push(' '),
            _ => out.push_str(token.text),
        }
    }
    out
}

/// A document without its formatting: what it means.
fn cleared(mut doc: KdlDocument) -> KdlDocument {
    doc.clear_format_recursive();
    doc
}

// ------------------------------------------------------------ line endings

/// The line endings KDL v2 knows, as fmt tells them apart.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Newline {
    Lf,
    CrLf,
    /// CR alone, NEL, VT, FF, LS or PS: written as the file's main ending.
    Other,
}

impl Newline {
    fn text(self) -> &'static str {
        match self {
            Newline::CrLf => "\r\n",
            Newline::Lf | Newline::Other => "\n",
        }
    }
    fn name(self) -> &'static str {
        match self {
            Newline::Lf => "LF",
            Newline::CrLf => "CRLF",
            Newline::Other => "other",
        }
    }
}

/// The newline at the start of `text`, with its length.
fn newline_at(text: &str) -> Option<(Newline, usize)> {
    if text.starts_with("\r\n") {
        return Some((Newline::CrLf, 2));
    }
    let c = text.chars().next()?;
    match c {
        '\n' => Some((Newline::Lf, 1)),
        '\r' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}' => {
            Some((Newline::Other, c.len_utf8()))
        }
        _ => None,
    }
}

/// The newlines of a text, with their offsets.
fn newlines(text: &str) -> impl Iterator<Item = (usize, Newline, usize)> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < text.len() {
            let at = i;
            match newline_at(&text[i..]) {
                Some((kind, len)) => {
                    i += len;
                    return Some((at, kind, len));
                }
                None => i += text[i..].chars().next().map_or(1, char::len_utf8),
            }
        }
        None
    })
}

/// The line ending to write: the file's, or its majority (LF when tied) with
/// a warning when it mixes them.
fn line_ending(file: FileId, offset: usize, text: &str, diags: &mut Diagnostics) -> Newline {
    let (mut lf, mut crlf, mut other) = (0usize, 0usize, 0usize);
    for (_, kind, _) in newlines(text) {
        match kind {
            Newline::Lf => lf += 1,
            Newline::CrLf => crlf += 1,
            Newline::Other => other += 1,
        }
    }
    let chosen = if crlf > lf {
        Newline::CrLf
    } else {
        Newline::Lf
    };
    if let Some((at, kind, len)) = newlines(text).find(|(_, kind, _)| *kind != chosen) {
        diags.push(
            Diagnostic::warning(
                "virtplan::fmt::mixed-line-endings",
                format!(
                    "the file's line endings are not all of one kind ({crlf} CRLF, {lf} LF, \
                     {other} other); fmt writes {} everywhere",
                    chosen.name()
                ),
            )
            .at(
                Span::new(file, offset + at, offset + at + len),
                format!("the first {} line ending", kind.name()),
            )
            .help(format!(
                "fmt keeps a file's line endings when they are all LF or all CRLF; here it \
                 takes the more common of the two ({}, LF when tied)",
                chosen.name()
            )),
        );
    }
    chosen
}

/// A token's text with every newline written as `newline`.
fn convert(text: &str, newline: Newline) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (at, _, len) in newlines(text) {
        out.push_str(&text[last..at]);
        out.push_str(newline.text());
        last = at + len;
    }
    out.push_str(&text[last..]);
    out
}

// ------------------------------------------------------------------ tokens

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// Spaces and tabs (any Unicode space KDL knows).
    Space,
    Newline,
    /// `// ...` up to, not including, the newline.
    LineComment,
    /// `/* ... */`, nested.
    BlockComment,
    /// `/-`
    Slashdash,
    /// `\`, which continues a line.
    Escline,
    Open,
    Close,
    Semi,
    Equals,
    LParen,
    RParen,
    /// A string, identifier, number or keyword, as written.
    Word,
}

#[derive(Clone, Copy, Debug)]
struct Token<'a> {
    kind: Kind,
    text: &'a str,
    /// Offset in the text.
    at: usize,
}

/// The tokens that carry content: all but whitespace, newlines and `;`.
fn significant<'a, 't>(tokens: &'t [Token<'a>]) -> impl Iterator<Item = &'t Token<'a>> {
    tokens
        .iter()
        .filter(|t| !matches!(t.kind, Kind::Space | Kind::Newline | Kind::Semi))
}

const SPACES: [char; 18] = [
    '\u{0009}', '\u{0020}', '\u{00A0}', '\u{1680}', '\u{2000}', '\u{2001}', '\u{2002}', '\u{2003}',
    '\u{2004}', '\u{2005}', '\u{2006}', '\u{2007}', '\u{2008}', '\u{2009}', '\u{200A}', '\u{202F}',
    '\u{205F}', '\u{3000}',
];

fn is_ident(c: char) -> bool {
    !SPACES.contains(&c)
        && !matches!(
            c,
            '\\' | '/'
                | '('
                | ')'
                | '{'
                | '}'
                | '['
                | ']'
                | ';'
                | '"'
                | '#'
                | '='
                | '\r'
                | '\n'
                | '\u{0B}'
                | '\u{0C}'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        )
        && !c.is_control()
        && c != BOM
}

/// Length of the leading run of chars that satisfy `f`.
fn run(text: &str, f: impl Fn(char) -> bool) -> usize {
    text.find(|c| !f(c)).unwrap_or(text.len())
}

/// Cuts a text that parses as KDL v2 into tokens; the offset where it
/// cannot, should it not parse after all.
fn lex(text: &str) -> Result<Vec<Token<'_>>, usize> {
    let mut tokens = Vec::new();
    let mut at = 0;
    while let Some(c) = text[at..].chars().next() {
        let rest = &text[at..];
        let (kind, len) = if let Some((_, len)) = newline_at(rest) {
            (Kind::Newline, len)
        } else if SPACES.contains(&c) {
            (Kind::Space, run(rest, |c| SPACES.contains(&c)))
        } else if rest.starts_with("//") {
            // Up to the newline; spaces at its end are whitespace.
            let end = newlines(rest).next().map_or(rest.len(), |(i, _, _)| i);
            let text = rest[..end].trim_end_matches(|c| SPACES.contains(&c));
            (Kind::LineComment, text.len())
        } else if rest.starts_with("/*") {
            (Kind::BlockComment, block_comment(rest).ok_or(at)?)
        } else if rest.starts_with("/-") {
            (Kind::Slashdash, 2)
        } else {
            match c {
                '\\' => (Kind::Escline, 1),
                '{' => (Kind::Open, 1),
                '}' => (Kind::Close, 1),
                ';' => (Kind::Semi, 1),
                '=' => (Kind::Equals, 1),
                '(' => (Kind::LParen, 1),
                ')' => (Kind::RParen, 1),
                '"' => (Kind::Word, quoted(rest).ok_or(at)?),
                '#' => (Kind::Word, hashed(rest).ok_or(at)?),
                c if is_ident(c) => (Kind::Word, run(rest, is_ident)),
                _ => return Err(at),
            }
        };
        tokens.push(Token {
            kind,
            text: &rest[..len],
            at,
        });
        at += len;
    }
    Ok(tokens)
}

/// Length of the (nested) block comment at the start of `text`.
fn block_comment(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let (mut depth, mut i) = (0usize, 0);
    while i + 1 < bytes.len() {
        match (bytes[i], bytes[i + 1]) {
            (b'/', b'*') => {
                depth += 1;
                i += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// Length of the quoted string (`"..."` or `"""..."""`) at the start of `text`.
fn quoted(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let close: &[u8] = if text.starts_with("\"\"\"") {
        b"\"\"\""
    } else {
        b"\""
    };
    let mut i = close.len();
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            i += 2;
        } else if bytes[i..].starts_with(close) {
            return Some(i + close.len());
        } else {
            i += 1;
        }
    }
    None
}

/// Length of the raw string (`#"..."#`, `##"""..."""##`) or keyword
/// (`#true`) at the start of `text`.
fn hashed(text: &str) -> Option<usize> {
    let hashes = run(text, |c| c == '#');
    let rest = &text[hashes..];
    if !rest.starts_with('"') {
        return (hashes == 1).then(|| 1 + run(rest, is_ident));
    }
    let quotes = if rest.starts_with("\"\"\"") { 3 } else { 1 };
    let close = format!("{}{}", "\"".repeat(quotes), "#".repeat(hashes));
    rest[quotes..]
        .find(&close)
        .map(|i| hashes + quotes + i + close.len())
}

// --------------------------------------------------------------- printing

/// What the current output line holds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Line {
    Empty,
    /// Block comments before a node: the node may follow on the line.
    Comments,
    /// A node, or a `}`, still open.
    Node,
    /// A node ended by `;`, or a line ended by `{`: only comments may follow.
    Done,
}

struct Printer {
    newline: Newline,
    out: String,
    line: String,
    state: Line,
    /// Indentation level of the current line.
    indent: usize,
    /// Block depth.
    depth: usize,
    /// Inside a node: its name (or slashdash) is printed, its end is not.
    in_node: bool,
    /// The text had whitespace (or a newline inside a node) since the last
    /// printed token.
    space: bool,
    /// The last token printed on the line.
    last: Option<Kind>,
    /// A blank line was seen between nodes.
    blank: bool,
    /// Nothing printed yet in this block (or file).
    first: bool,
    /// After `\`, before the newline it escapes.
    escline: bool,
    /// After `/-`, before what it comments out.
    slashdash: bool,
}

/// Prints the tokens in canonical layout; the offset of a `}` without its
/// `{`, should there be one.
fn print(tokens: &[Token<'_>], newline: Newline) -> Result<String, usize> {
    let mut p = Printer {
        newline,
        out: String::new(),
        line: String::new(),
        state: Line::Empty,
        indent: 0,
        depth: 0,
        in_node: false,
        space: false,
        last: None,
        blank: false,
        first: true,
        escline: false,
        slashdash: false,
    };
    for token in tokens {
        match token.kind {
            Kind::Space => p.space = true,
            Kind::Newline => p.newline(),
            Kind::Semi => {
                if p.in_node {
                    p.in_node = false;
                    p.state = Line::Done;
                }
            }
            Kind::Word | Kind::LParen | Kind::Slashdash => {
                if !p.in_node {
                    if matches!(p.state, Line::Done | Line::Node) {
                        p.end_line();
                    }
                    p.put(token.kind, token.text);
                    p.in_node = true;
                    p.state = Line::Node;
                } else {
                    p.put(token.kind, token.text);
                }
                p.slashdash = token.kind == Kind::Slashdash;
            }
            Kind::RParen | Kind::Equals => p.put(token.kind, token.text),
            Kind::Escline => {
                p.put(token.kind, token.text);
                p.escline = true;
            }
            Kind::LineComment => p.put(token.kind, token.text),
            Kind::BlockComment => {
                if p.state == Line::Empty {
                    p.put(token.kind, token.text);
                    if !p.in_node {
                        p.state = Line::Comments;
                    }
                } else {
                    p.put(token.kind, token.text);
                }
            }
            Kind::Open => {
                p.slashdash = false;
                p.put(token.kind, token.text);
                p.state = Line::Done;
                p.depth += 1;
                p.in_node = false;
                p.first = true;
                p.blank = false;
            }
            Kind::Close => {
                p.end_line();
                p.blank = false;
                p.depth = p.depth.checked_sub(1).ok_or(token.at)?;
                p.in_node = false;
                p.put(token.kind, token.text);
                p.in_node = true;
                p.state = Line::Node;
            }
        }
    }
    p.end_line();
    if p.out.is_empty() {
        p.out.push_str(newline.text());
    }
    Ok(p.out)
}

impl Printer {
    /// Appends a token to the current line, starting the line if need be.
    fn put(&mut self, kind: Kind, text: &str) {
        if self.line.is_empty() {
            if self.blank && !self.first {
                self.out.push_str(self.newline.text());
            }
            self.blank = false;
            self.first = false;
            self.indent = self.depth + usize::from(self.in_node);
        } else if self.space_before(kind) {
            self.line.push(' ');
        }
        self.line.push_str(&convert(text, self.newline));
        self.last = Some(kind);
        self.space = false;
    }

    /// Whether one space separates the token from the one before it on the
    /// line.
    fn space_before(&self, kind: Kind) -> bool {
        let last = self.last;
        match kind {
            Kind::LineComment => true,
            Kind::Open => self.space || last != Some(Kind::Slashdash),
            _ if !self.space => false,
            Kind::BlockComment => true,
            _ if last == Some(Kind::BlockComment) => true,
            Kind::Equals | Kind::RParen => false,
            _ => !matches!(last, Some(Kind::Equals | Kind::LParen | Kind::RParen)),
        }
    }

    fn newline(&mut self) {
        if self.escline {
            // The node goes on, on the next line.
            self.escline = false;
            self.end_line();
        } else if self.slashdash {
            // `/-` may be followed by newlines and comments.
            if self.last == Some(Kind::LineComment) {
                self.end_line();
            } else {
                self.space = true;
            }
        } else if self.in_node {
            self.in_node = false;
            self.end_line();
        } else if self.line.is_empty() {
            self.blank = !self.first;
        } else {
            self.end_line();
        }
    }

    fn end_line(&mut self) {
        if !self.line.is_empty() {
            for _ in 0..self.indent {
                self.out.push_str(INDENT);
            }
            self.out.push_str(&self.line);
            self.out.push_str(self.newline.text());
            self.line.clear();
        }
        self.last = None;
        self.space = false;
        self.state = Line::Empty;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `verify` on an input and a candidate output.
    fn verdict(input: &str, out: &str) -> Result<(), Unsafe> {
        let tokens = lex(input).expect("input lexes");
        assert!(parse(input).is_some(), "input parses");
        verify(&tokens, out, Newline::Lf)
    }

    #[test]
    fn verify_accepts_a_relayout() {
        assert_eq!(
            verdict("a 1; b { c /* x */ 2 }\n", "a 1\nb {\n    c /* x */ 2\n}\n"),
            Ok(())
        );
    }

    #[test]
    fn verify_refuses_a_lost_comment_or_slashdash() {
        assert_eq!(
            verdict("a 1 /* x */ {\n}\n", "a 1 {\n}\n"),
            Err(Unsafe::Tokens)
        );
        assert_eq!(verdict("a 1 /-2\n", "a 1\n"), Err(Unsafe::Tokens));
        assert_eq!(verdict("a 1 // x\n", "a 1\n"), Err(Unsafe::Tokens));
    }

    #[test]
    fn verify_refuses_another_meaning() {
        // Same tokens, but the terminators between the nodes are gone.
        assert_eq!(verdict("a; b\n", "a b\n"), Err(Unsafe::Meaning));
        assert_eq!(verdict("a 1\nb 2\n", "a 1 b 2\n"), Err(Unsafe::Meaning));
    }

    #[test]
    fn print_reports_a_close_without_open() {
        // Cannot happen in valid KDL; `print` says where instead of
        // underflowing.
        let tokens = lex("}").expect("lexes");
        assert_eq!(print(&tokens, Newline::Lf), Err(0));
    }
}
