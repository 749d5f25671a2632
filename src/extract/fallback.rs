//! Error-tolerant table recovery: the dataset names a SQL text reads and writes when
//! sqlparser-rs cannot parse it, for transformations marked `confidence: partial`.
//!
//! Why tree-sitter: its parser never fails. On a syntax error it wraps the bad region in an
//! `ERROR` node and keeps building the tree around it, so the relations before and after the
//! error survive. We parse with Derek Stride's grammar (`tree-sitter-sequel`) and pick datasets
//! out of the tree with the query file `grammars/sql/relations.scm` (writes, reads, CTE
//! names), compiled once.
//!
//! Three things help the grammar before and after parsing, all without moving a byte, so that
//! tree offsets are offsets in the caller's text:
//!
//! - **Masking** (`prepare`): Jinja (`{{ ... }}` becomes the placeholder identifier `__`,
//!   remembered with the dataset of `ref()` / `source()`; `{% ... %}` and `{# ... #}` become
//!   blanks), `` `a.b.c` `` and `[dbo].[t]` identifiers become `"..."` (the grammar knows only
//!   plain backtick names and no brackets), and Hive's `INSERT INTO|OVERWRITE TABLE t` loses
//!   its `TABLE` (which the grammar would read as a schema name).
//! - **Token scan** (`Scanner`): where the grammar could not structure the text (inside
//!   outermost `ERROR` nodes, or everywhere when the text is not parsed at all), a small
//!   keyword scan finds `FROM|JOIN|USING <name>` reads, `INSERT INTO|OVERWRITE`, `UPDATE`,
//!   `MERGE INTO`, `DELETE FROM`, `TRUNCATE`, `CREATE ... TABLE|VIEW <name>` writes and
//!   `WITH x AS (` names. It runs over the whole text (for context: parentheses, the statement
//!   verb) but reports only names that start inside an error region.
//! - **CTE scoping**: a CTE name hides tables of that name from the end of its body to the end
//!   of the statement or subquery that declares it (and in its own body with `RECURSIVE`), so
//!   `WITH q AS (...) SELECT * FROM q` reads no `q`, while `WITH orders AS (SELECT * FROM
//!   orders)` and a later statement's `q` read tables. `ref()` / `source()` are never hidden.
//!
//! Bounded work, never a panic: inputs over [`MAX_INPUT_BYTES`] are cut (at a line or
//! statement end), texts over [`MAX_PARSE_BYTES`] or nesting parentheses deeper than
//! [`MAX_PAREN_DEPTH`] skip tree-sitter for the linear token scan, and tree-sitter's parse is
//! cancelled by its progress callback, falling back to the scan, after a budget of parser
//! operations proportional to the input. There is no wall-clock deadline: output must not
//! depend on the machine's speed (snapshots are byte-identical). Instead [`MAX_PARSE_BYTES`]
//! is low enough that the worst measured error recovery (about 20 ms per KiB on texts like
//! `x. x. x. ...`; real SQL, even broken, parses at about 1 ms per KiB) stays a few seconds. Tree walks use `TreeCursor` /
//! `QueryCursor`, never Rust recursion.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::ops::{ControlFlow, Range};
use std::sync::OnceLock;

use tree_sitter::{
    Language, Node, ParseOptions, ParseState, Parser, Query, QueryCursor, StreamingIterator, Tree,
};

use crate::extract::sql::names::{normalize_dotted, normalize_part};
use crate::source::LineIndex;

/// The tree-sitter query that finds datasets; see the file for its captures.
const RELATIONS_QUERY: &str = include_str!("../../grammars/sql/relations.scm");

/// Text beyond this many bytes is ignored (the extractor never sends more; see
/// [`crate::extract::MAX_FILE_BYTES`]).
pub const MAX_INPUT_BYTES: usize = crate::extract::MAX_FILE_BYTES;

/// Texts longer than this are not given to tree-sitter (its error recovery can cost seconds
/// and hundreds of MB per MB of pathological input); the token scan handles them.
pub const MAX_PARSE_BYTES: usize = 256 * 1024;

/// Texts nesting parentheses deeper than this are not given to tree-sitter: no real query does,
/// and unbalanced nesting is the grammar's most expensive error recovery.
pub const MAX_PAREN_DEPTH: usize = 256;

/// Parser progress callbacks allowed: a fixed allowance plus this many per KiB of input.
/// tree-sitter calls back every 100 parse operations; measured on valid SQL, keyword soup,
/// binary garbage, deep parentheses and repeated broken tokens it needs at most about 50
/// callbacks per KiB, so the budget only stops a super-linear operation count.
const PARSE_CALLBACKS_BASE: usize = 10_000;
const PARSE_CALLBACKS_PER_KIB: usize = 200;

/// Most in-progress query matches (tree-sitter's own limit is 65,536).
const QUERY_MATCH_LIMIT: u32 = 4096;

/// Paren frames the token scan remembers; deeper levels are only counted.
const MAX_SCAN_FRAMES: usize = 1024;

/// A dataset name found by the fallback, with its 1-based position in the text given.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Recovered {
    pub name: String,
    pub line: usize,
    pub column: usize,
}

/// Datasets read and written, each sorted by name, one entry per name (its first position).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovery {
    pub reads: Vec<Recovered>,
    pub writes: Vec<Recovered>,
}

/// Table names read and written by the SQL in `text` (one or more statements), tolerating
/// syntax errors. CTE names are not datasets: leave them out. Names are normalized with
/// `crate::extract::sql::names::normalize_dotted` (unquoted lower-cased, quoted kept).
///
/// dbt's `{{ ref('x') }}` is reported as `x` (also `ref('pkg', 'x')`), `{{ source('s', 't') }}`
/// as `s.t`; other Jinja expressions in name position (`{{ this }}`) are skipped.
pub fn recover(text: &str) -> Recovery {
    recover_with(text, &Limits::default())
}

/// The bounds of [`recover`]; tests lower or raise them to reach each path.
#[derive(Debug, Clone, Copy)]
struct Limits {
    input_bytes: usize,
    parse_bytes: usize,
    paren_depth: usize,
    callbacks_per_kib: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            input_bytes: MAX_INPUT_BYTES,
            parse_bytes: MAX_PARSE_BYTES,
            paren_depth: MAX_PAREN_DEPTH,
            callbacks_per_kib: PARSE_CALLBACKS_PER_KIB,
        }
    }
}

fn recover_with(text: &str, limits: &Limits) -> Recovery {
    let text = cut(text, limits.input_bytes);
    let prepared = prepare(text);
    let mut found = Found::default();
    let tree = if text.len() <= limits.parse_bytes && prepared.max_paren_depth <= limits.paren_depth
    {
        parse(&prepared.masked, limits.callbacks_per_kib)
    } else {
        None
    };
    let error_regions = match &tree {
        Some(tree) => {
            collect_from_tree(tree, text, &prepared, &mut found);
            error_regions(tree)
        }
        None => std::iter::once(0..text.len()).collect(),
    };
    if !error_regions.is_empty() {
        // The grammar's error recovery can swallow a clause into a wrong but valid-looking
        // node outside the ERROR (`select a, from t` reads `from t` as a column and alias),
        // so once the tree has an error the scan reads the whole text.
        let whole: Vec<Range<usize>> = std::iter::once(0..text.len()).collect();
        Scanner::new(text, &prepared, &whole, &mut found).run();
    }
    found.finish(text)
}

/// At most `max` bytes of `text`, ending after its last `;` or line break if it has to be
/// cut, so that no name is cut in two.
fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let head = text.get(..text.floor_char_boundary(max)).unwrap_or_default();
    match head.rfind([';', '\n']) {
        Some(end) => head.get(..=end).unwrap_or_default(),
        None => head,
    }
}

// ---------------------------------------------------------------------------------------------
// What was found, before CTE filtering, positions and sorting.

#[derive(Debug, Default)]
struct Found {
    /// Every dataset read: name, byte offset, and whether a CTE of that name may hide it
    /// (not for `ref()` / `source()`, which always name datasets).
    reads: Vec<(String, usize, bool)>,
    /// (name, byte offset) of every dataset written.
    writes: Vec<(String, usize)>,
    /// CTE name -> byte ranges where it hides tables of that name.
    ctes: BTreeMap<String, Vec<Range<usize>>>,
}

impl Found {
    fn read(&mut self, name: String, offset: usize, jinja: bool) {
        self.reads.push((name, offset, !jinja));
    }

    fn finish(self, text: &str) -> Recovery {
        let scopes = CteScopes::new(self.ctes);
        let reads = self
            .reads
            .into_iter()
            .filter(|(name, offset, hideable)| !(*hideable && scopes.hides(name, *offset)))
            .map(|(name, offset, _)| (name, offset))
            .collect();
        let index = LineIndex::new(text);
        Recovery {
            reads: positioned(reads, text, &index),
            writes: positioned(self.writes, text, &index),
        }
    }
}

/// CTE scopes by name, sorted by start with the furthest end so far, so that "is this offset
/// inside a scope of that name" is a binary search (many CTEs must not make it quadratic).
struct CteScopes(BTreeMap<String, Vec<(usize, usize)>>);

impl CteScopes {
    fn new(ctes: BTreeMap<String, Vec<Range<usize>>>) -> Self {
        let by_name = ctes
            .into_iter()
            .map(|(name, mut scopes)| {
                scopes.sort_by_key(|s| (s.start, s.end));
                let mut furthest = 0;
                let starts_and_ends = scopes
                    .iter()
                    .map(|s| {
                        furthest = furthest.max(s.end);
                        (s.start, furthest)
                    })
                    .collect();
                (name, starts_and_ends)
            })
            .collect();
        Self(by_name)
    }

    fn hides(&self, name: &str, offset: usize) -> bool {
        let Some(scopes) = self.0.get(name) else { return false };
        let started = scopes.partition_point(|&(start, _)| start <= offset);
        started > 0 && scopes.get(started - 1).is_some_and(|&(_, end)| end > offset)
    }
}

/// Sorted by name, one entry per name with its first position.
fn positioned(mut names: Vec<(String, usize)>, text: &str, index: &LineIndex) -> Vec<Recovered> {
    names.sort();
    names.dedup_by(|later, first| later.0 == first.0);
    names
        .into_iter()
        .map(|(name, offset)| {
            let (line, column) = index.position(text, offset);
            Recovered { name, line, column }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Masking: the text the grammar sees, byte for byte as long as the caller's.

/// The caller's text made easier for the grammar, at identical byte offsets.
#[derive(Debug)]
struct Prepared {
    masked: String,
    /// Start offset of each `{{ ... }}` replaced by the placeholder identifier `__`, with the
    /// dataset it names (`ref()` / `source()`), or `None` when it names none we know.
    jinja: BTreeMap<usize, Option<String>>,
    /// Offsets of `;` outside strings and comments: where statements end.
    semicolons: Vec<usize>,
    /// Deepest nesting of parentheses outside strings and comments.
    max_paren_depth: usize,
}

impl Prepared {
    /// End of the statement that contains `offset`: the next `;`, or the end of the text.
    fn statement_end(&self, offset: usize) -> usize {
        let i = self.semicolons.partition_point(|&s| s < offset);
        self.semicolons.get(i).map_or(self.masked.len(), |&s| s + 1)
    }
}

fn prepare(text: &str) -> Prepared {
    let mut bytes = text.as_bytes().to_vec();
    let mut jinja = BTreeMap::new();
    let mut semicolons = Vec::new();
    let (mut depth, mut max_paren_depth) = (0usize, 0usize);
    // The last significant token, and whether it was INTO / OVERWRITE.
    let mut prev: Option<Token> = None;
    let mut after_into = false;
    for token in Lexer::new(text.as_bytes()) {
        let range = token.start..token.end;
        match token.kind {
            Kind::Comment => continue,
            Kind::JinjaBlock => {
                blank(&mut bytes, range);
                continue;
            }
            Kind::JinjaExpr => {
                let inner = text.get(token.start + 2..token.end - 2).unwrap_or_default();
                let dataset = jinja_dataset(inner);
                let statement_start = prev.is_none_or(|p| p.kind == Kind::Punct(b';'));
                blank(&mut bytes, range);
                if dataset.is_none() && (statement_start || is_jinja_config(inner)) {
                    continue;
                }
                if let Some(placeholder) = bytes.get_mut(token.start..token.start + 2) {
                    placeholder.copy_from_slice(b"__");
                }
                jinja.insert(token.start, dataset);
            }
            Kind::Quoted(open) => mask_quoted(&mut bytes, token, open),
            Kind::Punct(b'(') => {
                depth += 1;
                max_paren_depth = max_paren_depth.max(depth);
            }
            Kind::Punct(b')') => depth = depth.saturating_sub(1),
            Kind::Punct(b';') => semicolons.push(token.start),
            Kind::Word if after_into && word_is(text, token, "table") => {
                blank(&mut bytes, range);
                continue;
            }
            _ => {}
        }
        after_into = token.kind == Kind::Word
            && (word_is(text, token, "into") || word_is(text, token, "overwrite"))
            && prev.is_some_and(|p| word_is(text, p, "insert"));
        prev = Some(token);
    }
    match String::from_utf8(bytes) {
        Ok(masked) => Prepared { masked, jinja, semicolons, max_paren_depth },
        // Unreachable: only whole tokens, which start and end on ASCII bytes, are replaced,
        // and only with ASCII. Should it happen, the grammar gets the text as written.
        Err(_) => Prepared {
            masked: text.to_owned(),
            jinja: BTreeMap::new(),
            semicolons,
            max_paren_depth,
        },
    }
}

/// Make a quoted name one the grammar reads as one identifier: `"..."` delimiters (it knows
/// no brackets and no dots between backticks) and no doubled closing quote inside (it knows
/// no escapes: `"a""b"` would be two names). Names are read from the caller's text, so the
/// name keeps its escape.
fn mask_quoted(bytes: &mut [u8], token: Token, open: u8) {
    let close = if open == b'[' { b']' } else { open };
    let Some(quoted) = bytes.get_mut(token.start..token.end) else { return };
    let Some((first, rest)) = quoted.split_first_mut() else { return };
    let Some((last, inner)) = rest.split_last_mut() else { return };
    *first = b'"';
    *last = b'"';
    let mut i = 0;
    while let Some(pair) = inner.get_mut(i..i + 2) {
        if pair == [close, close] {
            pair.copy_from_slice(b"__");
            i += 2;
        } else {
            i += 1;
        }
    }
}

/// Replace a range with spaces, keeping line breaks so that lines stay where they were.
fn blank(bytes: &mut [u8], range: Range<usize>) {
    if let Some(slice) = bytes.get_mut(range) {
        for b in slice.iter_mut().filter(|b| **b != b'\n' && **b != b'\r') {
            *b = b' ';
        }
    }
}

/// `{{ config(...) }}`: model settings, never in name position.
fn is_jinja_config(inner: &str) -> bool {
    let inner = inner.trim_matches(['-', '+', '~']).trim_start();
    inner.strip_prefix("config").is_some_and(|rest| rest.trim_start().starts_with('('))
}

/// The dataset a Jinja expression names: `ref('x')` / `ref('pkg', 'x')` -> `x`,
/// `source('s', 't')` -> `s.t`. Keyword arguments (`v=2`) are ignored.
fn jinja_dataset(inner: &str) -> Option<String> {
    let inner = inner.trim_matches(['-', '+', '~']).trim();
    let open = inner.find('(')?;
    let function = inner.get(..open)?.trim();
    let args = inner.get(open + 1..)?.strip_suffix(')')?;
    let strings = string_arguments(args)?;
    let parts: Vec<&str> = match (function, strings.as_slice()) {
        ("ref", [name] | [_, name]) => vec![name],
        ("source", [source, table]) => vec![source, table],
        _ => return None,
    };
    if parts.iter().any(|p| p.trim().is_empty()) {
        return None;
    }
    Some(parts.iter().map(|p| normalize_part(p.trim(), None)).collect::<Vec<_>>().join("."))
}

/// The positional string literals of a Jinja argument list; `None` if a positional argument
/// is not a string literal (a variable: the name is unknown).
fn string_arguments(args: &str) -> Option<Vec<&str>> {
    let mut strings = Vec::new();
    let mut rest = args.trim_start();
    while !rest.is_empty() {
        let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"');
        if let Some(quote) = quote {
            let body = rest.get(1..)?;
            let close = body.find(quote)?;
            strings.push(body.get(..close)?);
            rest = body.get(close + 1..)?.trim_start();
        } else {
            // A keyword argument `name=value` (skipped), or something we cannot read.
            let eq = rest.find('=')?;
            let key = rest.get(..eq)?.trim();
            if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return None;
            }
            let value = rest.get(eq + 1..)?.trim_start();
            let end = match value.chars().next() {
                Some(q @ ('\'' | '"')) => value.get(1..)?.find(q)? + 2,
                _ => value.find(',').unwrap_or(value.len()),
            };
            rest = value.get(end..)?.trim_start();
        }
        match rest.strip_prefix(',') {
            Some(after) => rest = after.trim_start(),
            None if rest.is_empty() => {}
            None => return None,
        }
    }
    Some(strings)
}

// ---------------------------------------------------------------------------------------------
// Lexer: just enough SQL to skip strings and comments and to find words and punctuation.
// Token boundaries are always on ASCII bytes (or the ends), hence on char boundaries.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Identifier, keyword or number.
    Word,
    /// `"..."`, `` `...` `` or `[...]`, with the opening byte.
    Quoted(u8),
    /// `'...'` or `$tag$...$tag$`.
    Str,
    Comment,
    /// `{{ ... }}`
    JinjaExpr,
    /// `{% ... %}` or `{# ... #}`
    JinjaBlock,
    /// Any other single byte, including an unterminated quote.
    Punct(u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Token {
    kind: Kind,
    start: usize,
    end: usize,
}

/// What the lexer may search to the end of the text for. A failed search is not repeated
/// from a later offset, so `{{{{{{...` stays linear: for a closing sequence, a later search
/// would fail too; for a quote, every later quote is doubled, so all that is lost is `''`
/// read as two punctuation bytes instead of an empty string.
#[derive(Debug, Clone, Copy)]
enum Close {
    Jinja,
    JinjaBlock,
    JinjaComment,
    Single,
    Double,
    Backtick,
    Dollar,
}

struct Lexer<'a> {
    bytes: &'a [u8],
    pos: usize,
    end: usize,
    /// The previous token, to tell `a[1]` (subscript) from `[name]`.
    prev: Option<Token>,
    /// Per [`Close`]: searching from here on finds nothing.
    exhausted: [Option<usize>; 7],
}

impl<'a> Lexer<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0, end: bytes.len(), prev: None, exhausted: [None; 7] }
    }

    fn at(&self, i: usize) -> Option<u8> {
        if i < self.end { self.bytes.get(i).copied() } else { None }
    }

    /// Offset just after the first `needle` at or after `from`, before the end.
    fn find_from(&self, needle: &[u8], from: usize) -> Option<usize> {
        let hay = self.bytes.get(from..self.end)?;
        hay.windows(needle.len()).position(|w| w == needle).map(|i| from + i + needle.len())
    }

    /// Run `search` from `from` unless a search for `close` already failed at or before it.
    fn search(
        &mut self,
        close: Close,
        from: usize,
        search: impl FnOnce(&Self) -> Option<usize>,
    ) -> Option<usize> {
        let slot = close as usize;
        if self.exhausted.get(slot).copied().flatten().is_some_and(|failed| failed <= from) {
            return None;
        }
        let found = search(self);
        if found.is_none()
            && let Some(failed) = self.exhausted.get_mut(slot)
        {
            *failed = Some(from);
        }
        found
    }

    /// End of a quoted run opened at `start` and closed by `close`, where a doubled `close`
    /// is an escaped one.
    fn quoted_end(&self, start: usize, close: u8) -> Option<usize> {
        let mut i = start + 1;
        loop {
            match self.at(i)? {
                b if b == close && self.at(i + 1) == Some(close) => i += 2,
                b if b == close => return Some(i + 1),
                _ => i += 1,
            }
        }
    }

    /// `[name]` as a T-SQL identifier: on one line, not a subscript or a list literal.
    fn bracket_end(&self, start: usize) -> Option<usize> {
        let adjacent = self.prev.is_some_and(|p| {
            p.end == start
                && matches!(p.kind, Kind::Word | Kind::Quoted(_) | Kind::Punct(b')' | b']'))
        });
        let first = self.at(start + 1)?;
        if adjacent || first.is_ascii_digit() || first.is_ascii_whitespace() || first == b']' {
            return None;
        }
        let mut i = start + 1;
        loop {
            match self.at(i)? {
                b']' => return Some(i + 1),
                b'[' | b'"' | b'\'' | b',' | b'\n' | b'\r' => return None,
                _ => i += 1,
            }
        }
    }

    /// `$$...$$` or `$tag$...$tag$`. After one unterminated tag, dollar quoting is off for the
    /// rest of the text (tags differ, so the search could otherwise repeat for each).
    fn dollar_end(&self, start: usize) -> Option<usize> {
        let mut i = start + 1;
        while self.at(i).is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_') {
            i += 1;
        }
        if self.at(i) != Some(b'$') {
            return None;
        }
        let tag = self.bytes.get(start..=i)?;
        self.find_from(tag, i + 1)
    }

    fn token(&mut self) -> Option<Token> {
        while self.at(self.pos).is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
        let start = self.pos;
        let b = self.at(start)?;
        let next = self.at(start + 1);
        let (kind, end) = match (b, next) {
            (b'-', Some(b'-')) => {
                let end = self.find_from(b"\n", start).map_or(self.end, |e| e - 1);
                (Kind::Comment, end)
            }
            (b'/', Some(b'*')) => {
                (Kind::Comment, self.find_from(b"*/", start + 2).unwrap_or(self.end))
            }
            (b'{', Some(b'{')) => {
                match self.search(Close::Jinja, start, |l| l.find_from(b"}}", start + 2)) {
                    Some(end) => (Kind::JinjaExpr, end),
                    None => (Kind::Punct(b), start + 1),
                }
            }
            (b'{', Some(b'%' | b'#')) => {
                let (slot, close) = if next == Some(b'%') {
                    (Close::JinjaBlock, b"%}")
                } else {
                    (Close::JinjaComment, b"#}")
                };
                match self.search(slot, start, |l| l.find_from(close, start + 2)) {
                    Some(end) => (Kind::JinjaBlock, end),
                    None => (Kind::Punct(b), start + 1),
                }
            }
            (b'\'', _) => match self.search(Close::Single, start, |l| l.quoted_end(start, b)) {
                Some(end) => (Kind::Str, end),
                None => (Kind::Punct(b), start + 1),
            },
            (b'"' | b'`', _) => {
                let slot = if b == b'"' { Close::Double } else { Close::Backtick };
                match self.search(slot, start, |l| l.quoted_end(start, b)) {
                    // A backtick name with a double quote inside cannot become "...".
                    Some(end)
                        if b == b'"'
                            || !self.bytes.get(start..end).is_some_and(|s| s.contains(&b'"')) =>
                    {
                        (Kind::Quoted(b), end)
                    }
                    _ => (Kind::Punct(b), start + 1),
                }
            }
            (b'[', _) => match self.bracket_end(start) {
                Some(end) => (Kind::Quoted(b), end),
                None => (Kind::Punct(b), start + 1),
            },
            (b'$', _) => match self.search(Close::Dollar, start, |l| l.dollar_end(start)) {
                Some(end) => (Kind::Str, end),
                None => (Kind::Punct(b), start + 1),
            },
            _ if is_word_byte(b) => {
                let mut end = start + 1;
                while self.at(end).is_some_and(is_word_byte) {
                    end += 1;
                }
                (Kind::Word, end)
            }
            _ => (Kind::Punct(b), start + 1),
        };
        self.pos = end.max(start + 1);
        let token = Token { kind, start, end: self.pos };
        self.prev = Some(token);
        Some(token)
    }
}

impl Iterator for Lexer<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        self.token()
    }
}

/// Bytes of identifiers and numbers; any non-ASCII byte counts, so words end on ASCII.
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

fn word_is(text: &str, token: Token, keyword: &str) -> bool {
    token.kind == Kind::Word
        && text.get(token.start..token.end).is_some_and(|w| w.eq_ignore_ascii_case(keyword))
}

/// Words that are never a dataset name or an alias where the scan looks for one.
#[rustfmt::skip]
const RESERVED: &[&str] = &[
    "all", "alter", "and", "any", "as", "between", "by", "case", "create", "cross", "delete",
    "distinct", "do", "drop", "else", "end", "except", "exists", "fetch", "for", "from", "full",
    "group", "having", "if", "in", "inner", "insert", "intersect", "into", "is", "join", "lateral",
    "left", "like", "limit", "materialized", "matched", "merge", "minus", "natural", "not",
    "nothing", "null", "offset", "on", "only", "or", "order", "outer", "over", "overwrite",
    "partition", "pivot", "qualify", "recursive", "returning", "right", "select", "set", "some",
    "stdin", "stdout", "table", "tablesample", "then", "truncate", "union", "unpivot", "update",
    "using", "values", "view", "when", "where", "window", "with",
];

fn is_reserved(word: &str) -> bool {
    RESERVED.iter().any(|r| r.eq_ignore_ascii_case(word))
}

// ---------------------------------------------------------------------------------------------
// Tree-sitter: parse, query, error regions.

fn language() -> Language {
    tree_sitter_sequel::LANGUAGE.into()
}

/// The compiled [`RELATIONS_QUERY`] with its capture indices.
struct Relations {
    query: Query,
    read: u32,
    write: u32,
    cte: u32,
}

fn relations() -> &'static Relations {
    static RELATIONS: OnceLock<Relations> = OnceLock::new();
    RELATIONS.get_or_init(|| {
        let query = Query::new(&language(), RELATIONS_QUERY)
            .expect("grammars/sql/relations.scm is compiled in and compiles (unit-tested)");
        let index = |name: &str| {
            query
                .capture_index_for_name(name)
                .expect("grammars/sql/relations.scm declares @read, @write and @cte (unit-tested)")
        };
        let (read, write, cte) = (index("read"), index("write"), index("cte"));
        Relations { query, read, write, cte }
    })
}

/// The syntax tree of `text`, or `None` when the operation budget ran out.
fn parse(text: &str, callbacks_per_kib: usize) -> Option<Tree> {
    thread_local! {
        // One parser per thread: setting one up costs as much as parsing a short statement.
        static PARSER: std::cell::RefCell<Option<Parser>> = const { std::cell::RefCell::new(None) };
    }
    crate::extract::with_parser(&PARSER, language, |parser| {
        parse_with(parser, text, callbacks_per_kib)
    })
}

fn parse_with(parser: &mut Parser, text: &str, callbacks_per_kib: usize) -> Option<Tree> {
    let budget = if callbacks_per_kib == 0 {
        0
    } else {
        PARSE_CALLBACKS_BASE + text.len() / 1024 * callbacks_per_kib
    };
    let mut callbacks = 0usize;
    let mut progress = |_: &ParseState| {
        callbacks += 1;
        if callbacks > budget { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    };
    let bytes = text.as_bytes();
    parser.parse_with_options(
        &mut |offset, _| bytes.get(offset..).unwrap_or_default(),
        None,
        Some(ParseOptions::new().progress_callback(&mut progress)),
    )
}

fn collect_from_tree(tree: &Tree, text: &str, prepared: &Prepared, found: &mut Found) {
    let relations = relations();
    let mut cursor = QueryCursor::new();
    cursor.set_match_limit(QUERY_MATCH_LIMIT);
    let mut reads: Vec<Node> = Vec::new();
    let mut written: HashSet<Range<usize>> = HashSet::new();
    let mut matches =
        cursor.matches(&relations.query, tree.root_node(), prepared.masked.as_bytes());
    while let Some(m) = matches.next() {
        for capture in m.captures() {
            let node = capture.node;
            if capture.index == relations.read {
                reads.push(node);
            } else if capture.index == relations.write {
                if written.insert(node.byte_range())
                    && let Some(name) = reference_name(node, text, prepared)
                {
                    found.writes.push((name, node.start_byte()));
                }
            } else if capture.index == relations.cte {
                add_cte_from_tree(node, text, prepared, found);
            }
        }
    }
    for node in reads {
        // An UPDATE target is a relation too; it is written, not read.
        if !written.contains(&node.byte_range())
            && let Some(name) = reference_name(node, text, prepared)
        {
            found.read(name, node.start_byte(), prepared.jinja.contains_key(&node.start_byte()));
        }
    }
}

/// A CTE's name hides tables of that name after its body, up to the end of the statement or
/// subquery that declares it; with `RECURSIVE`, in its own body too. Inside its own body a
/// plain CTE's name is a table: `WITH orders AS (SELECT * FROM orders)` reads `orders`.
fn add_cte_from_tree(name: Node, text: &str, prepared: &Prepared, found: &mut Found) {
    let Some(raw) = text.get(name.byte_range()).filter(|_| !name.is_missing()) else { return };
    let Some(cte) = name.parent() else { return };
    let Some(parent) = cte.parent() else { return };
    let start = if is_recursive(parent) { cte.start_byte() } else { cte.end_byte() };
    let end = if parent.is_error() || parent.parent().is_none() {
        // The statement around the CTE is broken: hide the name up to the statement's end.
        prepared.statement_end(name.start_byte())
    } else {
        parent.end_byte()
    };
    found.ctes.entry(normalize_dotted(raw)).or_default().push(start..end);
}

/// `WITH RECURSIVE`: the keyword is a child of the node holding the CTEs, before the first.
fn is_recursive(parent: Node) -> bool {
    let mut cursor = parent.walk();
    if !cursor.goto_first_child() {
        return false;
    }
    loop {
        match cursor.node().kind() {
            "keyword_recursive" => return true,
            "cte" => return false,
            _ if !cursor.goto_next_sibling() => return false,
            _ => {}
        }
    }
}

/// The dataset an `object_reference` node names, or `None` when it is not one we can name:
/// broken by a syntax error, a Jinja expression other than `ref()` / `source()`, a keyword
/// taken for a name during error recovery, a T-SQL `@variable`.
fn reference_name(node: Node, text: &str, prepared: &Prepared) -> Option<String> {
    let mut parts: Vec<(usize, &str)> = Vec::new();
    let mut cursor = node.walk();
    if cursor.goto_first_child() {
        loop {
            let child = cursor.node();
            if child.is_error() || child.is_missing() {
                return None;
            }
            if child.kind() == "identifier" {
                if child.has_error() {
                    return None;
                }
                parts.push((child.start_byte(), text.get(child.byte_range())?));
            }
            if !cursor.goto_next_sibling() {
                break;
            }
        }
    }
    name_from_parts(&parts, prepared)
}

/// Join the parts of a dotted name as written and normalize it, resolving a lone Jinja
/// placeholder to its dataset.
fn name_from_parts(parts: &[(usize, &str)], prepared: &Prepared) -> Option<String> {
    if let [(start, _)] = parts
        && let Some(dataset) = prepared.jinja.get(start)
    {
        return dataset.clone();
    }
    if parts.is_empty() || parts.iter().any(|(start, _)| prepared.jinja.contains_key(start)) {
        return None;
    }
    if let [(_, word)] = parts
        && is_reserved(word)
    {
        return None;
    }
    if parts.iter().any(|(_, p)| p.trim().is_empty() || p.starts_with('@')) {
        return None;
    }
    let raw: Vec<&str> = parts.iter().map(|(_, p)| *p).collect();
    Some(normalize_dotted(&raw.join("."))).filter(|name| !name.is_empty())
}

/// Byte ranges of the outermost ERROR nodes, in text order.
fn error_regions(tree: &Tree) -> Vec<Range<usize>> {
    let mut regions = Vec::new();
    if !tree.root_node().has_error() {
        return regions;
    }
    let mut cursor = tree.walk();
    loop {
        let node = cursor.node();
        let descend = if node.is_error() {
            regions.push(node.byte_range());
            false
        } else {
            node.has_error()
        };
        if descend && cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return regions;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Token scan: the last resort where the grammar built no structure.

/// A parenthesis the scan is inside.
#[derive(Debug, Clone, Copy)]
struct Frame {
    /// `f(...)` rather than a subquery or a group: `extract(year FROM ts)` reads nothing.
    function: bool,
    /// `WITH x (a, b) AS (`: the `x` before this column list, if it may name a CTE.
    columns_of: Option<Token>,
    /// `WITH x AS (...)`: this is the body of CTE `x`.
    body_of: Option<Token>,
}

struct Scanner<'a, 'f> {
    text: &'a str,
    prepared: &'a Prepared,
    /// Where names are reported: sorted, disjoint.
    regions: &'a [Range<usize>],
    found: &'f mut Found,
    lexer: Lexer<'a>,
    ahead: VecDeque<Token>,
    /// The last three tokens consumed, most recent first.
    history: [Option<Token>; 3],
    frames: Vec<Frame>,
    /// Parenthesis levels deeper than [`MAX_SCAN_FRAMES`].
    overflow: usize,
    /// The statement's leading verb, lower case (`create`, `insert`, `truncate`, ...).
    verb: Option<&'static str>,
    /// `WITH RECURSIVE` seen in this statement.
    recursive: bool,
    /// The CTE whose body the next `(` opens.
    pending_body: Option<Token>,
}

/// Words that set the statement verb of the scan.
const VERBS: &[&str] =
    &["alter", "create", "delete", "drop", "insert", "merge", "select", "truncate", "update"];

impl<'a, 'f> Scanner<'a, 'f> {
    fn new(
        text: &'a str,
        prepared: &'a Prepared,
        regions: &'a [Range<usize>],
        found: &'f mut Found,
    ) -> Self {
        let masked = prepared.masked.as_bytes();
        Self {
            text,
            prepared,
            regions,
            found,
            lexer: Lexer::new(masked),
            ahead: VecDeque::new(),
            history: [None; 3],
            frames: Vec::new(),
            overflow: 0,
            verb: None,
            recursive: false,
            pending_body: None,
        }
    }

    fn peek(&mut self, k: usize) -> Option<Token> {
        while self.ahead.len() <= k {
            let token = self
                .lexer
                .by_ref()
                .find(|t| !matches!(t.kind, Kind::Comment | Kind::JinjaExpr | Kind::JinjaBlock))?;
            self.ahead.push_back(token);
        }
        self.ahead.get(k).copied()
    }

    fn bump(&mut self) -> Option<Token> {
        self.peek(0)?;
        let token = self.ahead.pop_front()?;
        self.history = [Some(token), self.history[0], self.history[1]];
        Some(token)
    }

    fn is(&self, token: Option<Token>, keyword: &str) -> bool {
        token.is_some_and(|t| word_is(self.text_of_masked(), t, keyword))
    }

    fn peek_is(&mut self, k: usize, keyword: &str) -> bool {
        let token = self.peek(k);
        self.is(token, keyword)
    }

    fn text_of_masked(&self) -> &'a str {
        &self.prepared.masked
    }

    /// Is `offset` inside an error region?
    fn in_region(&self, offset: usize) -> bool {
        let after = self.regions.partition_point(|r| r.start <= offset);
        after > 0 && self.regions.get(after - 1).is_some_and(|r| r.contains(&offset))
    }

    fn run(mut self) {
        while let Some(token) = self.bump() {
            match token.kind {
                Kind::Punct(b'(') => self.open_paren(),
                Kind::Punct(b')') => self.close_paren(token),
                Kind::Punct(b';') => {
                    self.verb = None;
                    self.recursive = false;
                }
                Kind::Word => self.word(token),
                _ => {}
            }
        }
    }

    fn open_paren(&mut self) {
        let before = self.history[1];
        let function = before.is_some_and(|t| match t.kind {
            Kind::Word => self.name_like(t),
            Kind::Quoted(_) => true,
            _ => false,
        }) && !self.peek_is(0, "select")
            && !self.peek_is(0, "with");
        let columns_of =
            before.filter(|b| self.name_like(*b) && self.may_precede_cte_name(self.history[2]));
        let body_of = self.pending_body.take();
        if self.frames.len() < MAX_SCAN_FRAMES {
            self.frames.push(Frame { function, columns_of, body_of });
        } else {
            self.overflow += 1;
        }
    }

    fn close_paren(&mut self, close: Token) {
        if self.overflow > 0 {
            self.overflow -= 1;
            return;
        }
        let Some(frame) = self.frames.pop() else { return };
        if let Some(name) = frame.columns_of
            && self.peek_is(0, "as")
            && self.cte_body_follows(1)
        {
            self.pending_body = Some(name);
        }
        if let Some(name) = frame.body_of {
            self.add_cte(name, close.end);
        }
    }

    fn in_function(&self) -> bool {
        self.overflow == 0 && self.frames.last().is_some_and(|f| f.function)
    }

    fn name_like(&self, token: Token) -> bool {
        match token.kind {
            Kind::Quoted(_) => true,
            Kind::Word => self
                .text_of_masked()
                .get(token.start..token.end)
                .is_some_and(|w| !is_reserved(w) && !w.starts_with(|c: char| c.is_ascii_digit())),
            _ => false,
        }
    }

    /// `WITH x`, `WITH RECURSIVE x`, `..., x`
    fn may_precede_cte_name(&self, token: Option<Token>) -> bool {
        self.is(token, "with")
            || self.is(token, "recursive")
            || token.is_some_and(|t| t.kind == Kind::Punct(b','))
    }

    /// `(`, `MATERIALIZED (` or `NOT MATERIALIZED (` at lookahead `k`.
    fn cte_body_follows(&mut self, k: usize) -> bool {
        let k = if self.peek_is(k, "not") { k + 1 } else { k };
        let k = if self.peek_is(k, "materialized") { k + 1 } else { k };
        self.peek(k).is_some_and(|t| t.kind == Kind::Punct(b'('))
    }

    fn word(&mut self, token: Token) {
        let masked = self.text_of_masked();
        let Some(word) = masked.get(token.start..token.end) else { return };
        let before = self.history[1];
        if let Some(verb) = VERBS.iter().find(|v| v.eq_ignore_ascii_case(word)) {
            // UPDATE inside ON CONFLICT DO UPDATE / WHEN MATCHED THEN UPDATE is no new statement.
            if self.verb.is_none() || !matches!(*verb, "update" | "delete" | "insert") {
                self.verb = Some(*verb);
            }
        }
        if word.len() > "overwrite".len() {
            return; // longer than any keyword below
        }
        match word.to_ascii_lowercase().as_str() {
            "from" if self.is(before, "delete") => self.write_names(false),
            "from" if !self.in_function() && !self.is(before, "distinct") => self.read_list(),
            "join" => {
                self.read_one();
            }
            // MERGE ... USING s, DELETE ... USING s (not JOIN ... USING (cols), not Spark's
            // CREATE TABLE ... USING parquet).
            "using" if matches!(self.verb, Some("merge" | "delete")) => {
                self.read_one();
            }
            "into" if self.is(before, "insert") || self.is(before, "merge") => {
                self.write_names(false);
            }
            "overwrite" if self.is(before, "insert") => self.write_names(false),
            // Not ON CONFLICT DO UPDATE SET, WHEN MATCHED THEN UPDATE SET, ON DUPLICATE KEY
            // UPDATE, SELECT ... FOR UPDATE.
            "update"
                if !["do", "then", "key", "for"].iter().any(|k| self.is(before, k))
                    && !self.peek_is(0, "set") =>
            {
                self.write_names(false);
            }
            "truncate" => self.write_names(true),
            "table" | "view" if self.verb == Some("create") => self.write_names(false),
            "recursive" if self.is(before, "with") => self.recursive = true,
            "as" if before.is_some_and(|b| self.name_like(b))
                && self.may_precede_cte_name(self.history[2])
                && self.cte_body_follows(0) =>
            {
                self.pending_body = before;
            }
            _ => {}
        }
    }

    /// A dotted name at the lookahead, consumed: `(name or None for a Jinja expression that
    /// names no dataset, start offset)`.
    fn take_name(&mut self) -> Option<(Option<String>, usize)> {
        let first = self.peek(0).filter(|t| self.name_like(*t))?;
        let mut parts = vec![(first.start, self.original(first)?)];
        self.bump();
        while self.peek(0).is_some_and(|t| t.kind == Kind::Punct(b'.'))
            && let Some(part) =
                self.peek(1).filter(|t| matches!(t.kind, Kind::Word | Kind::Quoted(_)))
        {
            parts.push((part.start, self.original(part)?));
            self.bump();
            self.bump();
        }
        Some((name_from_parts(&parts, self.prepared), first.start))
    }

    /// The caller's text of a token (backticks and brackets as written).
    fn original(&self, token: Token) -> Option<&'a str> {
        self.text.get(token.start..token.end)
    }

    /// Skip `TABLE`, `ONLY`, `IF [NOT] EXISTS` before a target name.
    fn skip_target_words(&mut self) {
        for word in ["table", "only", "if", "not", "exists"] {
            if self.peek_is(0, word) {
                self.bump();
            }
        }
    }

    fn write_names(&mut self, list: bool) {
        self.skip_target_words();
        while let Some((name, start)) = self.take_name() {
            if let Some(name) = name
                && self.in_region(start)
            {
                self.found.writes.push((name, start));
            }
            if !(list && self.peek(0).is_some_and(|t| t.kind == Kind::Punct(b','))) {
                break;
            }
            self.bump();
        }
    }

    /// One relation after JOIN / USING: a name not followed by `(` (a table function).
    fn read_one(&mut self) -> bool {
        if self.peek_is(0, "only") {
            self.bump();
        }
        let Some((name, start)) = self.take_name() else { return false };
        if self.peek(0).is_some_and(|t| t.kind == Kind::Punct(b'(')) {
            return false;
        }
        if let Some(name) = name
            && self.in_region(start)
        {
            self.found.read(name, start, self.prepared.jinja.contains_key(&start));
        }
        true
    }

    /// `FROM a [AS] x, b y, ...`
    fn read_list(&mut self) {
        while self.read_one() {
            if self.peek_is(0, "as") {
                self.bump();
            }
            if self.peek(0).is_some_and(|t| self.name_like(t)) {
                self.bump();
            }
            if !self.peek(0).is_some_and(|t| t.kind == Kind::Punct(b',')) {
                break;
            }
            self.bump();
        }
    }

    /// CTE `name`, whose body ends at `body_end`, hides tables of its name from there (from
    /// the name with `RECURSIVE`) to the end of the statement.
    fn add_cte(&mut self, name: Token, body_end: usize) {
        if !self.in_region(name.start) {
            return;
        }
        let Some(raw) = self.original(name) else { return };
        let start = if self.recursive { name.start } else { body_end };
        let scope = start..self.prepared.statement_end(name.start);
        self.found.ctes.entry(normalize_dotted(raw)).or_default().push(scope);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(found: &[Recovered]) -> Vec<&str> {
        found.iter().map(|r| r.name.as_str()).collect()
    }

    #[track_caller]
    fn check(sql: &str, reads: &[&str], writes: &[&str]) {
        let recovery = recover(sql);
        assert_eq!(names(&recovery.reads), reads, "reads of {sql:?}");
        assert_eq!(names(&recovery.writes), writes, "writes of {sql:?}");
    }

    /// [`check`] a statement the grammar parses without an ERROR node (once masked), so that
    /// the answer comes from the tree query alone, not from the token scan.
    #[track_caller]
    fn check_parsed(sql: &str, reads: &[&str], writes: &[&str]) {
        let prepared = prepare(sql);
        let tree = parse(&prepared.masked, PARSE_CALLBACKS_PER_KIB)
            .expect("a short text parses within budget");
        assert!(!tree.root_node().has_error(), "{sql:?} parses as {}", tree.root_node().to_sexp());
        check(sql, reads, writes);
    }

    #[test]
    fn query_file_compiles() {
        let query = Query::new(&language(), RELATIONS_QUERY)
            .unwrap_or_else(|e| panic!("grammars/sql/relations.scm: {e}"));
        for capture in ["read", "write", "cte"] {
            assert!(query.capture_index_for_name(capture).is_some(), "@{capture} is declared");
        }
        assert!(relations().query.pattern_count() > 0);
    }

    #[test]
    fn select_reads_from_and_join() {
        check_parsed(
            "SELECT a FROM Raw.Orders o JOIN s.t USING (x) LEFT JOIN db.s.u ON 1 = 1 \
             WHERE x IN (SELECT 1 FROM z)",
            &["db.s.u", "raw.orders", "s.t", "z"],
            &[],
        );
        check_parsed("select * from a, b x, (select 1 from c) s", &["a", "b", "c"], &[]);
    }

    #[test]
    fn insert_writes_its_target() {
        check_parsed("INSERT INTO tgt (a, b) SELECT a, b FROM src", &["src"], &["tgt"]);
        check_parsed("insert into tgt values (1, 2)", &[], &["tgt"]);
        check_parsed("INSERT OVERWRITE TABLE db.t SELECT * FROM s", &["s"], &["db.t"]);
        check_parsed("insert into table db.t select * from s", &["s"], &["db.t"]);
    }

    #[test]
    fn create_table_and_view_write() {
        check_parsed("CREATE TABLE x.y AS SELECT * FROM z", &["z"], &["x.y"]);
        check_parsed("create temporary table if not exists t (a int)", &[], &["t"]);
        check_parsed("CREATE OR REPLACE VIEW v AS SELECT * FROM w", &["w"], &["v"]);
        check_parsed("create materialized view mv as select * from m", &["m"], &["mv"]);
    }

    #[test]
    fn update_merge_delete_truncate_write() {
        check_parsed("UPDATE t SET a = s.a FROM s WHERE t.id = s.id", &["s"], &["t"]);
        check_parsed("update t1 join t2 on t1.a = t2.a set t1.b = t2.b", &["t2"], &["t1"]);
        check_parsed(
            "MERGE INTO tgt t USING src s ON t.id = s.id \
             WHEN MATCHED THEN UPDATE SET a = s.a WHEN NOT MATCHED THEN INSERT (a) VALUES (s.a)",
            &["src"],
            &["tgt"],
        );
        check_parsed(
            "merge into tgt using (select * from s) src on 1 = 1 when matched then delete",
            &["s"],
            &["tgt"],
        );
        check_parsed("DELETE FROM t WHERE id IN (SELECT id FROM u)", &["u"], &["t"]);
        check_parsed("TRUNCATE TABLE t1, t2", &[], &["t1", "t2"]);
    }

    #[test]
    fn a_table_both_read_and_written_is_in_both_lists() {
        check_parsed("insert into t select * from t", &["t"], &["t"]);
    }

    #[test]
    fn several_statements() {
        check_parsed(
            "insert into a select * from b;\nupdate c set x = 1;\nselect * from d",
            &["b", "d"],
            &["a", "c"],
        );
    }

    #[test]
    fn cte_names_are_not_datasets() {
        check_parsed(
            "WITH c AS (SELECT * FROM a), d AS (SELECT * FROM c JOIN b ON 1 = 1) \
             INSERT INTO tgt SELECT * FROM d",
            &["a", "b"],
            &["tgt"],
        );
        // A CTE declared in a subquery hides nothing outside it.
        check_parsed(
            "select * from (with q as (select 1 from r) select * from q) z join q on 1 = 1",
            &["q", "r"],
            &[],
        );
        // Nor in the next statement.
        check_parsed(
            "with q as (select 1 from r) select * from q; select * from q",
            &["q", "r"],
            &[],
        );
        // Inside its own body a plain CTE's name is the table.
        check_parsed(
            "with orders as (select * from orders) select * from orders",
            &["orders"],
            &[],
        );
        // A recursive one names itself.
        check_parsed(
            "with recursive t (n) as (select 1 from seed union all select n + 1 from t) \
             select * from t",
            &["seed"],
            &[],
        );
    }

    #[test]
    fn quoted_names_keep_their_case() {
        check_parsed(
            "SELECT * FROM \"My Schema\".\"Orders\" JOIN `proj.ds.Tbl` ON 1 = 1 \
             JOIN [dbo].[T] ON 1 = 1 JOIN `x`.`Y` ON 1 = 1 JOIN \"a\"\"b\" ON 1 = 1",
            &["My Schema.Orders", "a\"b", "dbo.T", "proj.ds.Tbl", "x.Y"],
            &[],
        );
        check_parsed("INSERT INTO `p.d.Out` SELECT * FROM `p.d.In`", &["p.d.In"], &["p.d.Out"]);
    }

    #[test]
    fn positions_are_one_based_lines_and_character_columns() {
        let recovery = recover("select 'é' as x\nfrom  a join b on 1=1 join a on 1=1");
        assert_eq!(
            recovery.reads,
            vec![
                Recovered { name: "a".into(), line: 2, column: 7 },
                Recovered { name: "b".into(), line: 2, column: 14 },
            ]
        );
        let recovery = recover("insert into é.t select 'é', é from é.s");
        assert_eq!(recovery.writes, vec![Recovered { name: "é.t".into(), line: 1, column: 13 }]);
        assert_eq!(recovery.reads, vec![Recovered { name: "é.s".into(), line: 1, column: 36 }]);
    }

    #[test]
    fn a_syntax_error_keeps_the_tables_around_it() {
        // The grammar has no DELETE ... USING: the token scan reads `s`.
        check("delete from t using s where t.id = s.id", &["s"], &["t"]);
        check(
            "insert into tgt select a +* b from s1 join s2 on x \
             qualify row_number() over (partition by a) = 1",
            &["s1", "s2"],
            &["tgt"],
        );
        check(
            "select a, from t1 join t2 on t1.x = t2.x where ((( garbage ;; select * from t3",
            &["t1", "t2", "t3"],
            &[],
        );
        check(
            "SELECT * FROM a LATERAL VIEW explode(x) t AS y JOIN b ON a.id = b.id",
            &["a", "b"],
            &[],
        );
        check(
            "insert into out select * from t1 where x = = = ) ( join (select 1 from t2) \
             ;;; insert into out2 select * from t3",
            &["t1", "t2", "t3"],
            &["out", "out2"],
        );
    }

    #[test]
    fn the_token_scan_alone_finds_each_kind_of_statement() {
        let scan_only = Limits { parse_bytes: 0, ..Limits::default() };
        let cases: &[(&str, &[&str], &[&str])] = &[
            (
                "select a from Raw.Orders o, u join s.t using (x) where x in (select 1 from z)",
                &["raw.orders", "s.t", "u", "z"],
                &[],
            ),
            ("insert into tgt (a) select a from src", &["src"], &["tgt"]),
            ("INSERT OVERWRITE TABLE db.t SELECT * FROM s", &["s"], &["db.t"]),
            ("create or replace temporary view v as select * from w", &["w"], &["v"]),
            ("create table if not exists x.y as select * from z", &["z"], &["x.y"]),
            ("update t set a = 1 from s where t.id = s.id", &["s"], &["t"]),
            (
                "merge into tgt using src on 1 = 1 when matched then update set a = 1 \
              when not matched then insert (a) values (1)",
                &["src"],
                &["tgt"],
            ),
            ("delete from t using s where t.id = s.id", &["s"], &["t"]),
            ("truncate table t1, t2", &[], &["t1", "t2"]),
            ("insert into t select * from s on conflict (a) do update set a = 1", &["s"], &["t"]),
            (
                "with c as (select * from a), d (x) as (select * from c) select * from d, c",
                &["a"],
                &[],
            ),
            ("with orders as (select * from orders) select * from orders", &["orders"], &[]),
            (
                "with recursive t as (select 1 from seed union all select 1 from t) \
              select * from t",
                &["seed"],
                &[],
            ),
            ("with q as (select 1 from r) select * from q; select * from q", &["q", "r"], &[]),
            (
                "select * from `p.d.T` join [dbo].[X] on 1 = 1 join \"Q\".r on 1 = 1",
                &["Q.r", "dbo.X", "p.d.T"],
                &[],
            ),
            ("select * from {{ ref('a') }} join {{ this }} on 1 = 1", &["a"], &[]),
            (
                "select * from generate_series(1, 3) join unnest(x) on 1 = 1 join t for update",
                &["t"],
                &[],
            ),
        ];
        for (sql, reads, writes) in cases {
            let recovery = recover_with(sql, &scan_only);
            assert_eq!(names(&recovery.reads), *reads, "reads of {sql:?}");
            assert_eq!(names(&recovery.writes), *writes, "writes of {sql:?}");
        }
    }

    #[test]
    fn the_token_scan_skips_functions_and_is_distinct_from() {
        check(
            "select extract(year from ts), substring(s from 2) from t \
             where a is distinct from b and %%%% from",
            &["t"],
            &[],
        );
    }

    #[test]
    fn dbt_refs_and_sources() {
        check(
            "select * from {{ ref('orders') }} o join {{ ref('pkg', 'Customers') }} c \
             on o.id = c.id join {{ source('raw', 'payments') }} p on 1 = 1",
            &["customers", "orders", "raw.payments"],
            &[],
        );
        check(
            "{{ config(materialized='table') }}\n\
             with orders as (select * from {{ ref(\"orders\", v=2) }}),\n\
             final as (select * from orders)\n\
             select a from final {% if is_incremental() %} where ts > \
             (select max(ts) from {{ this }}) {% endif %}",
            &["orders"],
            &[],
        );
        check("select * from {{ var('table') }} join {{ ref(name) }} on 1=1", &[], &[]);
        check("insert into {{ this }} select * from {{ ref('x') }}", &["x"], &[]);
    }

    #[test]
    fn dbt_refs_are_positioned_at_their_braces() {
        let recovery = recover("select *\n  from {{ ref('orders') }}");
        assert_eq!(recovery.reads, vec![Recovered { name: "orders".into(), line: 2, column: 8 }]);
    }

    #[test]
    fn jinja_expressions_are_parsed_without_evaluation() {
        assert_eq!(jinja_dataset(" ref('a') "), Some("a".into()));
        assert_eq!(jinja_dataset("- ref( 'p' , 'B' ) -"), Some("b".into()));
        assert_eq!(jinja_dataset("ref('a', version=3)"), Some("a".into()));
        assert_eq!(jinja_dataset("source(\"s\", \"t\")"), Some("s.t".into()));
        assert_eq!(jinja_dataset("source('s')"), None);
        assert_eq!(jinja_dataset("ref(x)"), None);
        assert_eq!(jinja_dataset("ref('')"), None);
        assert_eq!(jinja_dataset("this"), None);
        assert_eq!(jinja_dataset("ref('a') | upper"), None);
    }

    #[test]
    fn output_is_sorted_and_deduplicated_with_the_first_position() {
        let recovery = recover("select * from b join a on 1=1 join b on 1=1 join a on 1=1");
        assert_eq!(names(&recovery.reads), ["a", "b"]);
        assert_eq!(recovery.reads[0].column, 22);
        assert_eq!(recovery.reads[1].column, 15);
    }

    #[test]
    fn adversarial_inputs_do_not_panic() {
        assert_eq!(recover(""), Recovery::default());
        assert_eq!(recover("   \n\t "), Recovery::default());
        let _ = recover("select * from t where x = 'unterminated");
        let _ = recover("\"unterminated `also [too {{ {% {# /* -- $tag$");
        let _ = recover("'");
        let _ = recover("from");
        let _ = recover("select * from a.");
        let _ = recover(")))) select * from t ((((");
        let garbage: String = (0..20_000u32)
            .map(|i| char::from_u32((i.wrapping_mul(2_654_435_761) >> 7) % 0x2000).unwrap_or('?'))
            .collect();
        let _ = recover(&garbage);
        let bytes: Vec<u8> = (0..20_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13).to_le_bytes()[0])
            .collect();
        let _ = recover(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn deep_nesting_is_scanned_instead_of_parsed() {
        let deep =
            format!("select * from t where x in {}1{}", "(".repeat(10_000), ")".repeat(10_000));
        check(&deep, &["t"], &[]);
        let unbalanced = format!("select * from t join {}", "(".repeat(10_000));
        check(&unbalanced, &["t"], &[]);
    }

    #[test]
    fn deep_nesting_does_not_break_tree_sitter_either() {
        let limits = Limits { paren_depth: usize::MAX, ..Limits::default() };
        let deep = format!(
            "select * from t where x in {}select 1 from u{}",
            "(".repeat(10_000),
            ")".repeat(10_000)
        );
        let recovery = recover_with(&deep, &limits);
        assert!(names(&recovery.reads).contains(&"t"));
        let unbalanced = format!("select * from t join {}", "(".repeat(10_000));
        let recovery = recover_with(&unbalanced, &limits);
        assert_eq!(names(&recovery.reads), ["t"]);
    }

    #[test]
    fn long_inputs_are_scanned_and_huge_ones_cut_after_a_statement() {
        let limits = Limits { input_bytes: 64, parse_bytes: 32, ..Limits::default() };
        let sql = "insert into out select * from a join b on 1=1; select * from never_seen";
        let recovery = recover_with(sql, &limits);
        assert_eq!(names(&recovery.reads), ["a", "b"]);
        assert_eq!(names(&recovery.writes), ["out"]);
        assert_eq!(cut("abc", 2), "ab");
        assert_eq!(cut("a\nbc", 3), "a\n");
        assert_eq!(cut("é", 1), "");
    }

    #[test]
    fn a_parse_over_budget_falls_back_to_the_scan() {
        let limits = Limits { callbacks_per_kib: 0, ..Limits::default() };
        let sql = "with c as (select * from a) insert into t select * from c join b on 1=1";
        let recovery = recover_with(&sql.repeat(200), &limits);
        assert_eq!(names(&recovery.reads), ["a", "b"]);
        assert_eq!(names(&recovery.writes), ["t"]);
    }

    #[test]
    fn repeated_unterminated_openers_stay_linear() {
        for opener in ["{{", "{%", "{#", "'", "\"", "`", "$a$ ", "[x ", "/*"] {
            // The lexer alone, on a large text (quadratic would take minutes).
            let text = format!("select * from t {}", opener.repeat(1_000_000));
            let prepared = prepare(&text);
            assert_eq!(prepared.masked.len(), text.len());
            // The whole recovery, on a text small enough for tree-sitter in a debug build.
            let text = format!("select * from t {}", opener.repeat(2_000));
            assert_eq!(names(&recover(&text).reads), ["t"], "{opener}");
        }
    }

    #[test]
    fn many_ctes_of_one_name_stay_fast() {
        let text = "with a as (select 1 from b) select * from a; ".repeat(20_000);
        check(&text, &["b"], &[]);
    }

    #[test]
    fn a_50_mb_input_is_cut_and_scanned() {
        let statement = "insert into out select * from a join b on a.x = b.x where c > (1 + 2);\n";
        let text = statement.repeat(50 * 1024 * 1024 / statement.len() + 1);
        assert!(text.len() > 50 * 1024 * 1024);
        let recovery = recover(&text);
        assert_eq!(names(&recovery.reads), ["a", "b"]);
        assert_eq!(names(&recovery.writes), ["out"]);
    }

    #[test]
    fn a_clause_swallowed_by_error_recovery_is_still_read() {
        let recovery = recover("INSERT INTO reports.daily SELECT day, FROM events WHERE");
        assert_eq!(names(&recovery.reads), ["events"]);
        assert_eq!(names(&recovery.writes), ["reports.daily"]);
    }
}
