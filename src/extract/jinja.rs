//! dbt Jinja templates rendered to plain SQL without executing them.
//!
//! Why no Jinja engine: the tool runs in CI on untrusted pull requests and never executes code
//! from the analyzed repository (DESIGN, Principles). A model's lineage only needs what dbt
//! defines statically — `ref()`, `source()`, `this`, `config()` — plus literal `set` values
//! and `for` loops over literal lists. Any other expression becomes the placeholder identifier
//! `__jinja__`, so the SQL still parses, with a diagnostic saying what was not evaluated.
//!
//! Three passes, none of them recursive over the template's nesting, because input may be
//! adversarial (10,000 nested `{% if %}` must not overflow the stack):
//! 1. `lex`: text, `{{ }}`, `{% %}` and `{# #}` tokens, with whitespace control applied the
//!    way Jinja's lexer applies it;
//! 2. `match_blocks`: pairs block tags with their `elif`/`else`/`end…` on an explicit stack;
//! 3. `Renderer::run`: walks the tokens with an explicit frame stack, unrolling loops and
//!    rendering the first branch of each `if`. A work budget and an output cap bound the time
//!    and memory that nested loops could otherwise blow up exponentially.
//!
//! Deliberate limits: no operators, filters, tests, dict literals, `range()` or macro calls are
//! evaluated; conditions are evaluated only for `[not] loop.first` / `[not] loop.last`, so
//! `{% if true %}` still renders its first branch like any unknown condition. A template's
//! single trailing newline is kept (Jinja drops it) so `line_map` covers every line.

use std::borrow::Cow;
use std::collections::HashSet;

use crate::diagnostic::Diagnostic;
use crate::source::LineIndex;

/// What an expression that is not evaluated renders as: a valid SQL identifier.
const PLACEHOLDER: &str = "__jinja__";
/// Rendered SQL larger than any file we accept means a template multiplies its input.
const MAX_OUTPUT: usize = super::MAX_FILE_BYTES;
/// Tokens (weighted by size) the renderer may visit, loop iterations included: this much on top
/// of a few passes over the template. Real models unroll a few thousand tokens; nested loops
/// over literal lists could otherwise multiply without bound.
const MAX_EXTRA_WORK: usize = 2_000_000;
/// Nesting of list literals and call arguments that values may have.
const MAX_VALUE_DEPTH: usize = 32;
/// Tokens between a `ref(`/`source(` and its `)` worth looking at: real arguments are short,
/// and a bound keeps adversarial expressions linear.
const MAX_CALL_TOKENS: usize = 64;

/// Is there any Jinja in this text (`{{`, `{%`, `{#`)?
pub fn is_templated(text: &str) -> bool {
    text.contains("{{") || text.contains("{%") || text.contains("{#")
}

/// What `{{ config(...) }}` said with literal values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelConfig {
    pub schema: Option<String>,
    pub alias: Option<String>,
    pub database: Option<String>,
    pub materialized: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Plain SQL that sqlparser can parse.
    pub sql: String,
    /// For each line of `sql` (index 0 = line 1), the 1-based line of the template it came
    /// from: the line of the first non-blank character rendered on it. It has exactly
    /// `sql.matches('\n').count() + 1` entries.
    pub line_map: Vec<usize>,
    pub config: ModelConfig,
    /// Datasets referenced in template branches that were not rendered into `sql`
    /// (e.g. `{% else %}` branches), with their template line: the caller adds them as reads.
    /// Names are written as they would be rendered into SQL (`m`, `"my-model"`, `s.t`), ready
    /// for `sql::names::normalize_dotted`; each appears once.
    pub extra_reads: Vec<(String, usize)>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Render `text` to plain SQL. `this` is the dataset name that `{{ this }}` stands for (the
/// model's own relation). Never fails: problems become diagnostics and rendering goes on.
pub fn render(text: &str, this: &str) -> Rendered {
    let mut diagnostics = Vec::new();
    let tokens = lex(text, &mut diagnostics);
    let roles = match_blocks(&tokens, &mut diagnostics);
    let mut renderer = Renderer {
        tokens: &tokens,
        roles: &roles,
        this,
        outs: vec![Out::new(1)],
        frames: Vec::new(),
        vars: Vec::new(),
        config: ModelConfig::default(),
        extra_reads: Vec::new(),
        seen_reads: HashSet::new(),
        diagnostics,
        overflow: false,
    };
    renderer.run();
    let Renderer { mut outs, config, extra_reads, diagnostics, .. } = renderer;
    outs.truncate(1);
    let out = outs.pop().unwrap_or_else(|| Out::new(1));
    let mut seen = HashSet::new();
    let diagnostics = diagnostics.into_iter().filter(|d| seen.insert(d.clone())).collect();
    Rendered { sql: out.sql, line_map: out.line_map, config, extra_reads, diagnostics }
}

// ---------------------------------------------------------------------------------------------
// Pass 1: template tokens.

#[derive(Debug)]
enum Token<'a> {
    /// Template text, already trimmed by whitespace control; `line` is its first character's.
    Text {
        text: Cow<'a, str>,
        line: usize,
    },
    Expr {
        toks: Vec<ETok>,
        source: &'a str,
        line: usize,
        column: usize,
    },
    Tag {
        name: &'a str,
        rest: &'a str,
        toks: Vec<ETok>,
        line: usize,
        column: usize,
    },
}

impl Token<'_> {
    fn cost(&self) -> usize {
        match self {
            Token::Text { text, .. } => text.len() / 16 + 1,
            Token::Expr { toks, .. } | Token::Tag { toks, .. } => toks.len() + 1,
        }
    }
}

/// Split `src` into tokens. `{{`/`{%` end at the first `}}`/`%}` outside quotes and brackets,
/// as in Jinja's lexer, so `{{ ref('a}}') }}` is one expression.
fn lex<'a>(src: &'a str, diagnostics: &mut Vec<Diagnostic>) -> Vec<Token<'a>> {
    let index = LineIndex::new(src);
    let bytes = src.as_bytes();
    let mut tokens = Vec::new();
    let mut pos = 0;
    let mut strip_next = false;
    loop {
        let opener = find_opener(src, pos);
        let text_end = opener.map_or(src.len(), |(o, _)| o);
        let strip_before = opener.is_some_and(|(o, _)| bytes.get(o + 2) == Some(&b'-'));
        push_text(&mut tokens, src, &index, pos..text_end, strip_next, strip_before);
        let Some((open, kind)) = opener else { break };
        let (line, column) = index.position(src, open);
        let mut from = open + 2;
        if matches!(bytes.get(from), Some(b'-' | b'+')) {
            from += 1;
        }
        if kind == b'#' {
            // Comments vanish but keep their newlines, so most lines keep their numbers.
            let close = src[from..].find("#}").map(|off| from + off);
            if close.is_none() {
                diagnostics.push(Diagnostic::error(line, column, "`{#` comment is never closed"));
            }
            let inner = &src[from..close.unwrap_or(src.len())];
            let newlines = inner.matches('\n').count();
            if newlines > 0 {
                tokens.push(Token::Text { text: Cow::Owned("\n".repeat(newlines)), line });
            }
            strip_next = inner.ends_with('-');
            pos = close.map_or(src.len(), |c| c + 2);
            continue;
        }
        let (close_byte, close_str) = if kind == b'{' { (b'}', "}}") } else { (b'%', "%}") };
        let close = find_close(bytes, from, close_byte).or_else(|| {
            let naive = src[from..].find(close_str).map(|off| from + off);
            if naive.is_some() {
                let msg = format!("unbalanced quote or bracket before `{close_str}`");
                diagnostics.push(Diagnostic::error(line, column, msg));
            }
            naive
        });
        let Some(close) = close else {
            let opener_str = if kind == b'{' { "{{" } else { "{%" };
            let msg = format!("`{opener_str}` is never closed: the rest of the line is dropped");
            diagnostics.push(Diagnostic::error(line, column, msg));
            pos = src[open..].find('\n').map_or(src.len(), |n| open + n);
            strip_next = false;
            continue;
        };
        let right_strip = close > from && bytes[close - 1] == b'-';
        let inner = &src[from..close - usize::from(right_strip)];
        pos = close + 2;
        strip_next = right_strip;
        if kind == b'{' {
            tokens.push(Token::Expr { toks: lex_expr(inner), source: inner.trim(), line, column });
            continue;
        }
        let inner = inner.trim();
        let name_len =
            inner.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(inner.len());
        let (name, rest) = (&inner[..name_len], inner[name_len..].trim());
        if name == "raw" {
            // The body of `{% raw %}` is text, whatever it contains.
            match find_endraw(src, pos) {
                Some((start, end, lstrip, rstrip)) => {
                    push_text(&mut tokens, src, &index, pos..start, strip_next, lstrip);
                    pos = end;
                    strip_next = rstrip;
                }
                None => {
                    let msg = "`{% raw %}` is never closed by `{% endraw %}`";
                    diagnostics.push(Diagnostic::error(line, column, msg));
                    push_text(&mut tokens, src, &index, pos..src.len(), strip_next, false);
                    pos = src.len();
                }
            }
            continue;
        }
        tokens.push(Token::Tag { name, rest, toks: lex_expr(rest), line, column });
    }
    tokens
}

/// Offset and kind (`{`, `%` or `#`) of the next `{{`, `{%` or `{#` at or after `from`.
fn find_opener(src: &str, from: usize) -> Option<(usize, u8)> {
    let bytes = src.as_bytes();
    let mut i = from;
    while let Some(off) = src.get(i..)?.find('{') {
        let at = i + off;
        match bytes.get(at + 1) {
            Some(&k @ (b'{' | b'%' | b'#')) => return Some((at, k)),
            _ => i = at + 1,
        }
    }
    None
}

/// Offset of the closing `}}` (`close` = `}`) or `%}` (`close` = `%`) outside quoted strings
/// and brackets, scanning from `from`.
fn find_close(bytes: &[u8], from: usize, close: u8) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            q @ (b'\'' | b'"') => {
                i += 1;
                while i < bytes.len() && bytes[i] != q {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' => depth = depth.saturating_sub(1),
            b'}' if depth > 0 => depth -= 1,
            c if c == close && depth == 0 && bytes.get(i + 1) == Some(&b'}') => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// `(start, end, strip_before, strip_after)` of the `{% endraw %}` tag after `from`.
fn find_endraw(src: &str, from: usize) -> Option<(usize, usize, bool, bool)> {
    let bytes = src.as_bytes();
    let skip_ws = |mut j: usize| {
        while bytes.get(j).is_some_and(u8::is_ascii_whitespace) {
            j += 1;
        }
        j
    };
    let mut search = from;
    while let Some(off) = src.get(search..)?.find("{%") {
        let start = search + off;
        let lstrip = bytes.get(start + 2) == Some(&b'-');
        let j = skip_ws(start + 2 + usize::from(lstrip));
        if src.get(j..).is_some_and(|s| s.starts_with("endraw")) {
            let j = skip_ws(j + 6);
            let rstrip = bytes.get(j) == Some(&b'-');
            let j = j + usize::from(rstrip);
            if src.get(j..).is_some_and(|s| s.starts_with("%}")) {
                return Some((start, j + 2, lstrip, rstrip));
            }
        }
        search = start + 2;
    }
    None
}

/// Push `src[range]` as text, stripped of leading / trailing whitespace (newlines included)
/// when the neighbouring tags ask for it with `-`.
fn push_text<'a>(
    tokens: &mut Vec<Token<'a>>,
    src: &'a str,
    index: &LineIndex,
    range: std::ops::Range<usize>,
    lstrip: bool,
    rstrip: bool,
) {
    let mut text = &src[range.clone()];
    let mut start = range.start;
    if lstrip {
        let trimmed = text.trim_start();
        start += text.len() - trimmed.len();
        text = trimmed;
    }
    if rstrip {
        text = text.trim_end();
    }
    if !text.is_empty() {
        tokens.push(Token::Text { text: Cow::Borrowed(text), line: index.line_of(start) });
    }
}

/// A token of a Jinja expression.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ETok {
    Ident(String),
    Str(String),
    Num(String),
    Punct(char),
    Op(&'static str),
}

fn lex_expr(s: &str) -> Vec<ETok> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(c) = s.get(i..).and_then(|rest| rest.chars().next()) {
        let start = i;
        i += c.len_utf8();
        let word = |mut j: usize, ok: fn(u8) -> bool| {
            while bytes.get(j).copied().is_some_and(ok) {
                j += 1;
            }
            j
        };
        match c {
            c if c.is_whitespace() => {}
            '\'' | '"' => {
                let mut value = String::new();
                let mut chars = s[i..].chars();
                while let Some(d) = chars.next() {
                    i += d.len_utf8();
                    if d == c {
                        break;
                    }
                    if d != '\\' {
                        value.push(d);
                        continue;
                    }
                    let Some(e) = chars.next() else { break };
                    i += e.len_utf8();
                    value.push(match e {
                        'n' => '\n',
                        't' => '\t',
                        e => e,
                    });
                }
                out.push(ETok::Str(value));
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                i = word(i, |b| b.is_ascii_alphanumeric() || b == b'_');
                out.push(ETok::Ident(s[start..i].to_string()));
            }
            c if c.is_ascii_digit() => {
                i = word(i, |b| b.is_ascii_digit() || b == b'_');
                if bytes.get(i) == Some(&b'.') && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
                    i = word(i + 1, |b| b.is_ascii_digit() || b == b'_');
                }
                out.push(ETok::Num(s[start..i].to_string()));
            }
            _ => match ["==", "!=", "<=", ">=", "//", "**"]
                .into_iter()
                .find(|op| s[start..].starts_with(*op))
            {
                Some(op) => {
                    i = start + 2;
                    out.push(ETok::Op(op));
                }
                None => out.push(ETok::Punct(c)),
            },
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Pass 2: block structure.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    If,
    For,
    /// `{% set x %}…{% endset %}`: the body is captured, not emitted.
    SetBlock,
    /// Definitions (`macro`, `test`, `materialization`, `docs`): nothing is emitted.
    Skip,
    /// `{% call m() %}…{% endcall %}`: output depends on the macro; only its reads are kept.
    Call,
    /// Blocks whose body is rendered as is (`snapshot`, `filter`, `with`, …).
    Body,
}

#[derive(Debug)]
enum Role {
    /// A text, an expression or a standalone tag (`set x = …`, `do`, …).
    Plain,
    /// A tag that is out of place or unknown: reported and ignored.
    Stray,
    /// A block opener; `mids` are its `elif`/`else` tags, `end` its end tag (or where it had
    /// to be closed: a later end tag of an enclosing block, or the end of the tokens).
    Open {
        kind: Kind,
        mids: Vec<usize>,
        end: usize,
    },
    Mid {
        open: usize,
    },
    End {
        open: usize,
    },
}

fn block_kind(name: &str, toks: &[ETok]) -> Option<Kind> {
    Some(match name {
        "if" => Kind::If,
        "for" => Kind::For,
        "set" if find_top(toks, |t| *t == ETok::Punct('=')).is_none() => Kind::SetBlock,
        "macro" | "test" | "materialization" | "docs" => Kind::Skip,
        "call" => Kind::Call,
        "snapshot" | "filter" | "with" | "autoescape" | "block" => Kind::Body,
        _ => return None,
    })
}

/// Pair block tags on an explicit stack. An end tag closes the innermost open block of its
/// name; blocks left open inside it are reported and closed there.
fn match_blocks(tokens: &[Token<'_>], diagnostics: &mut Vec<Diagnostic>) -> Vec<Role> {
    let end_names: HashSet<&str> = tokens
        .iter()
        .filter_map(|t| match t {
            Token::Tag { name, .. } => name.strip_prefix("end"),
            _ => None,
        })
        .collect();
    let tag_name = |i: usize| match tokens.get(i) {
        Some(Token::Tag { name, .. }) => *name,
        _ => "",
    };
    let mut roles: Vec<Role> = Vec::with_capacity(tokens.len());
    let mut stack: Vec<usize> = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        roles.push(Role::Plain);
        let Token::Tag { name, toks, line, column, .. } = token else { continue };
        let (name, line, column) = (*name, *line, *column);
        if let Some(kind) = block_kind(name, toks) {
            roles[i] = Role::Open { kind, mids: Vec::new(), end: tokens.len() };
            stack.push(i);
            continue;
        }
        match name {
            "elif" | "else" => {
                let top = stack.last().copied();
                let accepts = top.is_some_and(|top| match &roles[top] {
                    Role::Open { kind: Kind::If, mids, .. } => {
                        mids.last().is_none_or(|&m| tag_name(m) != "else")
                    }
                    Role::Open { kind: Kind::For, mids, .. } => name == "else" && mids.is_empty(),
                    _ => false,
                });
                match top {
                    Some(top) if accepts => {
                        if let Role::Open { mids, .. } = &mut roles[top] {
                            mids.push(i);
                        }
                        roles[i] = Role::Mid { open: top };
                    }
                    _ => {
                        let msg = format!("`{{% {name} %}}` outside of an `{{% if %}}` block");
                        diagnostics.push(Diagnostic::error(line, column, msg));
                        roles[i] = Role::Stray;
                    }
                }
            }
            "set" | "do" | "include" | "import" | "from" | "extends" => {}
            _ if name.starts_with("end") => {
                let want = &name[3..];
                let Some(p) = stack.iter().rposition(|&o| tag_name(o) == want) else {
                    let msg = format!("`{{% {name} %}}` does not close any open block");
                    diagnostics.push(Diagnostic::error(line, column, msg));
                    roles[i] = Role::Stray;
                    continue;
                };
                for &inner in &stack[p + 1..] {
                    close_unterminated(tokens, &mut roles, inner, i, diagnostics);
                }
                if let Role::Open { end, .. } = &mut roles[stack[p]] {
                    *end = i;
                }
                roles[i] = Role::End { open: stack[p] };
                stack.truncate(p);
            }
            _ if end_names.contains(name) => {
                let msg = format!("unknown block `{{% {name} %}}`: its body is rendered as is");
                diagnostics.push(Diagnostic::warning(line, column, msg));
                roles[i] = Role::Open { kind: Kind::Body, mids: Vec::new(), end: tokens.len() };
                stack.push(i);
            }
            _ => {
                let msg = format!("unknown tag `{{% {name} %}}` ignored");
                diagnostics.push(Diagnostic::error(line, column, msg));
                roles[i] = Role::Stray;
            }
        }
    }
    for &open in &stack {
        close_unterminated(tokens, &mut roles, open, tokens.len(), diagnostics);
    }
    roles
}

fn close_unterminated(
    tokens: &[Token<'_>],
    roles: &mut [Role],
    open: usize,
    at: usize,
    diagnostics: &mut Vec<Diagnostic>,
) {
    if let (Some(Token::Tag { name, line, column, .. }), Some(Role::Open { end, .. })) =
        (tokens.get(open), roles.get_mut(open))
    {
        *end = at;
        let msg = format!("`{{% {name} %}}` is never closed by `{{% end{name} %}}`");
        diagnostics.push(Diagnostic::error(*line, *column, msg));
    }
}

// ---------------------------------------------------------------------------------------------
// Pass 3: rendering.

/// Values a template can hold statically.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Str(String),
    Num(String),
    Bool(bool),
    None,
    List(Vec<Value>),
    /// Renders as the identifier it holds (`__var_x__`, or a loop variable's own name).
    Placeholder(String),
    /// Bound to an expression that was not evaluated: renders as `PLACEHOLDER`.
    Unknown,
}

impl Value {
    /// Text as Jinja prints it: strings unquoted, lists as Python reprs.
    fn text(&self) -> Cow<'_, str> {
        match self {
            Value::Str(s) | Value::Num(s) | Value::Placeholder(s) => Cow::Borrowed(s),
            Value::Bool(true) => Cow::Borrowed("True"),
            Value::Bool(false) => Cow::Borrowed("False"),
            Value::None => Cow::Borrowed("None"),
            Value::Unknown => Cow::Borrowed(PLACEHOLDER),
            Value::List(items) => {
                let items: Vec<String> = items.iter().map(Value::repr).collect();
                Cow::Owned(format!("[{}]", items.join(", ")))
            }
        }
    }

    fn repr(&self) -> String {
        match self {
            Value::Str(s) => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
            other => other.text().into_owned(),
        }
    }
}

/// Rendered text with, for each of its lines, the template line it came from.
#[derive(Debug)]
struct Out {
    sql: String,
    line_map: Vec<usize>,
    /// Whether the current line's entry in `line_map` already comes from non-blank text.
    fixed: bool,
}

impl Out {
    fn new(line: usize) -> Self {
        Self { sql: String::new(), line_map: vec![line], fixed: false }
    }

    /// Append `text` that starts on template line `line`; `advance` says whether its newlines
    /// are the template's own (text) or belong to a value spliced in at `line`.
    fn push(&mut self, text: &str, mut line: usize, advance: bool) {
        for (n, segment) in text.split('\n').enumerate() {
            if n > 0 {
                self.sql.push('\n');
                line += usize::from(advance);
                self.line_map.push(line);
                self.fixed = false;
            }
            if !self.fixed && !segment.trim().is_empty() {
                if let Some(last) = self.line_map.last_mut() {
                    *last = line;
                }
                self.fixed = true;
            }
            self.sql.push_str(segment);
        }
    }
}

#[derive(Debug)]
struct Frame {
    /// Index of the opening tag.
    open: usize,
    /// Length of `vars` when the block opened: loop-local bindings go when it closes.
    vars_mark: usize,
    kind: FrameKind,
}

#[derive(Debug)]
enum FrameKind {
    If,
    Body,
    Capture { name: Option<String> },
    For { targets: Vec<String>, items: Vec<Value>, next: usize },
}

struct Renderer<'t, 'a> {
    tokens: &'t [Token<'a>],
    roles: &'t [Role],
    this: &'t str,
    /// Output buffers: the SQL, then one per open `{% set x %}` capture.
    outs: Vec<Out>,
    frames: Vec<Frame>,
    /// Bindings from `set` and loop variables; the last binding of a name wins.
    vars: Vec<(String, Value)>,
    config: ModelConfig,
    extra_reads: Vec<(String, usize)>,
    seen_reads: HashSet<String>,
    diagnostics: Vec<Diagnostic>,
    overflow: bool,
}

impl Renderer<'_, '_> {
    fn run(&mut self) {
        let (tokens, roles) = (self.tokens, self.roles);
        let mut i = 0;
        let mut work = 0usize;
        let budget = MAX_EXTRA_WORK + 4 * tokens.iter().map(Token::cost).sum::<usize>();
        while !self.overflow {
            let Some(token) = tokens.get(i) else {
                // End of input: close what is still open (loops still iterate).
                match self.frames.last() {
                    Some(frame) => i = self.close(frame.open, tokens.len()),
                    None => break,
                }
                continue;
            };
            work += token.cost();
            if work > budget {
                let (line, column) = position(token);
                let msg = "template too expensive to render (nested loops?): rendering stopped";
                self.diagnostics.push(Diagnostic::error(line, column, msg));
                break;
            }
            i = match (token, &roles[i]) {
                (Token::Text { text, line }, _) => {
                    self.push(text, *line, true);
                    i + 1
                }
                (Token::Expr { toks, source, line, column }, _) => {
                    self.expr(toks, source, *line, *column);
                    i + 1
                }
                (Token::Tag { .. }, Role::Open { .. }) => self.open(i),
                (Token::Tag { .. }, Role::Mid { open } | Role::End { open }) => {
                    self.close(*open, i)
                }
                (Token::Tag { name, toks, line, column, .. }, Role::Plain) => {
                    self.statement(name, toks, *line, *column);
                    i + 1
                }
                (Token::Tag { .. }, Role::Stray) => i + 1,
            };
        }
    }

    fn push(&mut self, text: &str, line: usize, advance: bool) {
        let Some(out) = self.outs.last_mut() else { return };
        if out.sql.len() + text.len() > MAX_OUTPUT {
            let msg = format!("rendered SQL would exceed {MAX_OUTPUT} bytes: rendering stopped");
            self.diagnostics.push(Diagnostic::error(line, 1, msg));
            self.overflow = true;
            return;
        }
        out.push(text, line, advance);
    }

    fn add_read(&mut self, name: String, line: usize) {
        if self.seen_reads.insert(name.clone()) {
            self.extra_reads.push((name, line));
        }
    }

    /// Where the renderer goes after the block opened at `open`.
    fn after(&self, open: usize) -> usize {
        let Some(Role::Open { end, .. }) = self.roles.get(open) else { return open + 1 };
        match self.roles.get(*end) {
            Some(Role::End { open: o }) if *o == open => end + 1,
            _ => *end,
        }
    }

    fn open(&mut self, i: usize) -> usize {
        let (tokens, roles) = (self.tokens, self.roles);
        let (
            Some(Token::Tag { toks, line, column, rest, .. }),
            Some(Role::Open { kind, mids, end }),
        ) = (tokens.get(i), roles.get(i))
        else {
            return i + 1;
        };
        let (line, column, vars_mark) = (*line, *column, self.vars.len());
        match kind {
            Kind::If => self.open_if(i, toks, rest, mids, *end, line, column),
            Kind::For => self.open_for(i, toks, rest, mids, line, column),
            Kind::SetBlock => {
                let name = match toks.first() {
                    Some(ETok::Ident(name)) => Some(name.clone()),
                    _ => None,
                };
                self.outs.push(Out::new(line));
                self.frames.push(Frame { open: i, vars_mark, kind: FrameKind::Capture { name } });
                i + 1
            }
            Kind::Skip => self.after(i),
            Kind::Call => {
                self.scan_reads(i, self.after(i));
                let msg = "`{% call %}` block not evaluated: only the datasets it names are kept";
                self.diagnostics.push(Diagnostic::info(line, column, msg));
                self.after(i)
            }
            Kind::Body => {
                self.frames.push(Frame { open: i, vars_mark, kind: FrameKind::Body });
                i + 1
            }
        }
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "the opening tag's parts, destructured by `open`"
    )]
    fn open_if(
        &mut self,
        i: usize,
        toks: &[ETok],
        rest: &str,
        mids: &[usize],
        end: usize,
        line: usize,
        column: usize,
    ) -> usize {
        // Branches as (condition, first token, end token); `else` has no condition.
        let mut branches: Vec<(Option<&[ETok]>, usize, usize)> = Vec::with_capacity(mids.len() + 1);
        let mut cond = Some(toks);
        let mut start = i + 1;
        for &m in mids {
            branches.push((cond, start, m));
            cond = match self.tokens.get(m) {
                Some(Token::Tag { name: "elif", toks, .. }) => Some(toks.as_slice()),
                _ => None,
            };
            start = m + 1;
        }
        branches.push((cond, start, end));
        let mut chosen = None;
        let mut certain = true;
        for (b, (cond, ..)) in branches.iter().enumerate() {
            match cond.map(|c| self.loop_condition(c)) {
                None | Some(Some(true)) => {}
                Some(Some(false)) => continue,
                Some(None) => certain = false,
            }
            chosen = Some(b);
            break;
        }
        if !certain {
            let msg = format!(
                "`{{% if {} %}}` not evaluated: its first branch is rendered; datasets named in \
                 the other branches are added as reads",
                snippet(rest)
            );
            self.diagnostics.push(Diagnostic::info(line, column, msg));
            for (b, (cond, start, stop)) in branches.iter().enumerate() {
                if let Some(cond) = cond {
                    self.collect_refs(cond, line);
                }
                if Some(b) != chosen {
                    self.scan_reads(*start, *stop);
                }
            }
        }
        match chosen.and_then(|b| branches.get(b)) {
            Some(&(_, start, _)) => {
                let vars_mark = self.vars.len();
                self.frames.push(Frame { open: i, vars_mark, kind: FrameKind::If });
                start
            }
            None => self.after(i),
        }
    }

    fn open_for(
        &mut self,
        i: usize,
        toks: &[ETok],
        rest: &str,
        mids: &[usize],
        line: usize,
        column: usize,
    ) -> usize {
        let in_at = find_top(toks, |t| is_ident(t, "in"));
        let targets: Vec<String> = toks[..in_at.unwrap_or(toks.len())]
            .iter()
            .filter_map(|t| match t {
                ETok::Ident(name) => Some(name.clone()),
                _ => None,
            })
            .collect();
        let iterable = in_at.map_or(&[][..], |k| &toks[k + 1..]);
        if in_at.is_none() || targets.is_empty() {
            let msg = format!("malformed `{{% for {} %}}`", snippet(rest));
            self.diagnostics.push(Diagnostic::error(line, column, msg));
        }
        let items = match self.eval(iterable, 0) {
            Some(Value::List(items)) => items,
            _ => {
                let names = targets.join(", ");
                let msg = format!(
                    "`{{% for {} %}}`: the iterable is not known statically; the body is \
                     rendered once with `{names}` as placeholder",
                    snippet(rest)
                );
                self.diagnostics.push(Diagnostic::warning(line, column, msg));
                self.collect_refs(iterable, line);
                vec![Value::Unknown]
            }
        };
        let vars_mark = self.vars.len();
        let Some(first) = items.first() else {
            // `{% for %}…{% else %}…{% endfor %}`: the else branch is for empty loops.
            return match mids.first() {
                Some(&m) => {
                    self.frames.push(Frame { open: i, vars_mark, kind: FrameKind::Body });
                    m + 1
                }
                None => self.after(i),
            };
        };
        bind(&mut self.vars, &targets, first);
        self.frames.push(Frame {
            open: i,
            vars_mark,
            kind: FrameKind::For { targets, items, next: 1 },
        });
        i + 1
    }

    /// Reached a `elif`/`else`/`end…` tag (at `i`) of the block opened at `open`, or the end of
    /// input: finish the blocks opened inside it, then that block. Returns the next token.
    fn close(&mut self, open: usize, i: usize) -> usize {
        while let Some(mut frame) = self.frames.pop() {
            let matched = frame.open == open;
            match &mut frame.kind {
                FrameKind::If | FrameKind::Body => {}
                FrameKind::Capture { name } => {
                    let text = self.outs.pop().map(|o| o.sql).unwrap_or_default();
                    self.vars.truncate(frame.vars_mark);
                    if let Some(name) = name.take() {
                        self.vars.push((name, Value::Str(text)));
                    }
                }
                FrameKind::For { targets, items, next } => {
                    self.vars.truncate(frame.vars_mark);
                    if matched && let Some(item) = items.get(*next) {
                        bind(&mut self.vars, targets, item);
                        *next += 1;
                        self.frames.push(frame);
                        return open + 1;
                    }
                }
            }
            if matched {
                return self.after(open);
            }
        }
        i + 1
    }

    /// Standalone tags: `set x = …`, `do`, `include`, `import`, `from`, `extends`.
    fn statement(&mut self, name: &str, toks: &[ETok], line: usize, column: usize) {
        if name != "set" {
            self.collect_refs(toks, line);
            let msg = format!("`{{% {name} %}}` not evaluated");
            self.diagnostics.push(Diagnostic::info(line, column, msg));
            return;
        }
        let Some(eq) = find_top(toks, |t| *t == ETok::Punct('=')) else { return };
        let (targets, expr) = (&toks[..eq], &toks[eq + 1..]);
        let names: Vec<String> = targets
            .iter()
            .filter_map(|t| match t {
                ETok::Ident(n) => Some(n.clone()),
                _ => None,
            })
            .collect();
        if targets.contains(&ETok::Punct('.')) || names.is_empty() {
            let msg = "`{% set %}` of an attribute not evaluated";
            self.diagnostics.push(Diagnostic::info(line, column, msg));
            return;
        }
        let value = self.eval(expr, 0).unwrap_or_else(|| {
            self.collect_refs(expr, line);
            let msg = format!(
                "`{{% set {} = … %}}` is not a literal: it renders as `{PLACEHOLDER}`",
                names.join(", ")
            );
            self.diagnostics.push(Diagnostic::info(line, column, msg));
            Value::Unknown
        });
        match (names.as_slice(), value) {
            ([one], value) => self.vars.push((one.clone(), value)),
            (many, value) => {
                let parts = match value {
                    Value::List(parts) if parts.len() == many.len() => parts,
                    _ => vec![Value::Unknown; many.len()],
                };
                self.vars.extend(many.iter().cloned().zip(parts));
            }
        }
    }

    fn expr(&mut self, toks: &[ETok], source: &str, line: usize, column: usize) {
        if toks.is_empty() {
            self.diagnostics.push(Diagnostic::error(line, column, "empty `{{ }}` expression"));
            return;
        }
        if let [ETok::Ident(f), ETok::Punct('('), args @ ..] = toks
            && f == "config"
        {
            // `config()` renders nothing, even when its arguments cannot be read.
            let args = call_args(toks, f).unwrap_or_else(|| {
                let args = args.strip_suffix(&[ETok::Punct(')')]).unwrap_or(args);
                split_top(args).into_iter().map(keyword_arg).collect()
            });
            self.config(&args, line, column);
            return;
        }
        // `{{ ',' if not loop.last }}` and `{{ a if cond else b }}`.
        let mut toks = toks;
        if let Some(k) = find_top(toks, |t| is_ident(t, "if")).filter(|&k| k > 0) {
            let (then, rest) = (&toks[..k], &toks[k + 1..]);
            let (cond, otherwise) = match find_top(rest, |t| is_ident(t, "else")) {
                Some(e) => (&rest[..e], &rest[e + 1..]),
                None => (rest, &[][..]),
            };
            toks = match self.loop_condition(cond) {
                Some(true) => then,
                Some(false) => otherwise,
                None => {
                    self.collect_refs(rest, line);
                    let msg = format!(
                        "condition of `{{{{ {} }}}}` not evaluated: its first value is rendered",
                        snippet(source)
                    );
                    self.diagnostics.push(Diagnostic::info(line, column, msg));
                    then
                }
            };
            if toks.is_empty() {
                return;
            }
        }
        match self.eval(toks, 0) {
            Some(value) => self.push(&value.text(), line, false),
            None => {
                self.push(PLACEHOLDER, line, false);
                self.collect_refs(toks, line);
                let msg = format!(
                    "`{}` not evaluated: `{{{{ {} }}}}` rendered as `{PLACEHOLDER}`",
                    callee(toks),
                    snippet(source)
                );
                self.diagnostics.push(Diagnostic::info(line, column, msg));
            }
        }
    }

    fn config(&mut self, args: &[(Option<&str>, &[ETok])], line: usize, column: usize) {
        for &(key, value) in args {
            let Some(key @ ("schema" | "alias" | "database" | "materialized")) = key else {
                continue;
            };
            let Some(Value::Str(value)) = self.eval(value, 0) else {
                let msg = format!("`config({key}=…)` is not a literal string: ignored");
                self.diagnostics.push(Diagnostic::info(line, column, msg));
                continue;
            };
            let slot = match key {
                "schema" => &mut self.config.schema,
                "alias" => &mut self.config.alias,
                "database" => &mut self.config.database,
                _ => &mut self.config.materialized,
            };
            *slot = Some(value);
        }
    }

    /// Add the datasets that `ref()`, `source()` and `this` name anywhere in tokens
    /// `from..to` to `extra_reads`: they are branches that were not rendered.
    fn scan_reads(&mut self, from: usize, to: usize) {
        let tokens = self.tokens;
        for token in tokens.get(from..to.min(tokens.len())).unwrap_or_default() {
            if let Token::Expr { toks, line, .. } | Token::Tag { toks, line, .. } = token {
                self.collect_refs(toks, *line);
            }
        }
    }

    fn collect_refs(&mut self, toks: &[ETok], line: usize) {
        for (i, tok) in toks.iter().enumerate() {
            let after_dot = i > 0 && toks[i - 1] == ETok::Punct('.');
            let next = toks.get(i + 1);
            let name = match tok {
                ETok::Ident(f) if (f == "ref" || f == "source") && !after_dot => {
                    let Some(close) = matching(toks, i + 1, MAX_CALL_TOKENS) else { continue };
                    match self.eval(&toks[i..=close], 0) {
                        Some(Value::Str(name)) => name,
                        _ => continue,
                    }
                }
                ETok::Ident(t)
                    if t == "this"
                        && !after_dot
                        && !matches!(next, Some(ETok::Punct('.' | '('))) =>
                {
                    self.this.to_string()
                }
                _ => continue,
            };
            self.add_read(name, line);
        }
    }

    fn lookup(&self, name: &str) -> Option<&Value> {
        self.vars.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// `loop.first`, `loop.last`, `loop.index`, … of the innermost loop. A loop over an
    /// unknown iterable is rendered once, so it is both first and last.
    fn loop_attr(&self, attr: &str) -> Option<Value> {
        let (index0, len, known) = self.frames.iter().rev().find_map(|f| match &f.kind {
            FrameKind::For { items, next, .. } => {
                let known = !matches!(items.as_slice(), [Value::Unknown]);
                Some((next.saturating_sub(1), items.len(), known))
            }
            _ => None,
        })?;
        let num = |n: usize| known.then(|| Value::Num(n.to_string()));
        match attr {
            "first" => Some(Value::Bool(index0 == 0)),
            "last" => Some(Value::Bool(index0 + 1 == len)),
            "index" => num(index0 + 1),
            "index0" => num(index0),
            "revindex" => num(len - index0),
            "revindex0" => num(len - index0 - 1),
            "length" => num(len),
            _ => None,
        }
    }

    /// `[not] loop.first` / `[not] loop.last`: the only conditions evaluated.
    fn loop_condition(&self, toks: &[ETok]) -> Option<bool> {
        let (negate, toks) = match toks {
            [first, rest @ ..] if is_ident(first, "not") => (true, rest),
            _ => (false, toks),
        };
        let [ETok::Ident(l), ETok::Punct('.'), ETok::Ident(attr)] = toks else { return None };
        if l != "loop" || !(attr == "first" || attr == "last") {
            return None;
        }
        match self.loop_attr(attr)? {
            Value::Bool(b) => Some(b != negate),
            _ => None,
        }
    }

    /// The value of a literal, a list or tuple of values, a bound name, a loop attribute, or
    /// a call of `ref`, `source`, `var` or `env_var` with such arguments; `None` for anything
    /// else (nothing else is evaluated).
    fn eval(&self, toks: &[ETok], depth: usize) -> Option<Value> {
        if depth > MAX_VALUE_DEPTH {
            return None;
        }
        let last = toks.len().checked_sub(1)?;
        match toks {
            [ETok::Str(s)] => Some(Value::Str(s.clone())),
            [ETok::Num(n)] => Some(Value::Num(n.clone())),
            [ETok::Punct('-'), ETok::Num(n)] => Some(Value::Num(format!("-{n}"))),
            [ETok::Ident(word)] => match word.as_str() {
                "true" | "True" => Some(Value::Bool(true)),
                "false" | "False" => Some(Value::Bool(false)),
                "none" | "None" => Some(Value::None),
                "this" => Some(Value::Str(self.this.to_string())),
                name => self.lookup(name).cloned(),
            },
            [ETok::Ident(l), ETok::Punct('.'), ETok::Ident(attr)] if l == "loop" => {
                self.loop_attr(attr)
            }
            [ETok::Punct(open @ ('[' | '(')), .., ETok::Punct(']' | ')')]
                if matching(toks, 0, usize::MAX) == Some(last) =>
            {
                let inner = &toks[1..last];
                let parts = split_top(inner);
                let tuple_comma = inner.last() == Some(&ETok::Punct(','));
                if *open == '(' && parts.len() == 1 && !tuple_comma {
                    return self.eval(inner, depth + 1);
                }
                let items = parts.iter().map(|p| self.eval(p, depth + 1));
                items.collect::<Option<Vec<_>>>().map(Value::List)
            }
            [ETok::Ident(f), ..] => {
                let args = call_args(toks, f)?;
                self.call(f, &args, depth)
            }
            _ => None,
        }
    }

    fn call(&self, f: &str, args: &[(Option<&str>, &[ETok])], depth: usize) -> Option<Value> {
        let positional: Vec<&[ETok]> = args.iter().filter(|a| a.0.is_none()).map(|a| a.1).collect();
        let keyword = |k: &str| args.iter().find(|a| a.0 == Some(k)).map(|a| a.1);
        let string = |toks: &[ETok]| match self.eval(toks, depth + 1) {
            Some(Value::Str(s)) => Some(s),
            _ => None,
        };
        match f {
            // ref('model'), ref('package', 'model'), ref('model', v=2)
            "ref" if matches!(positional.len(), 1 | 2) => {
                Some(Value::Str(quote_ident(&string(positional.last()?)?)))
            }
            "source" if positional.len() == 2 => {
                let (schema, table) = (string(positional[0])?, string(positional[1])?);
                Some(Value::Str(format!("{}.{}", quote_ident(&schema), quote_ident(&table))))
            }
            "var" | "env_var" => {
                let name = string(positional.first()?)?;
                let default = positional.get(1).copied().or_else(|| keyword("default"));
                if let Some(value) = default.and_then(|d| self.eval(d, depth + 1)) {
                    return Some(value);
                }
                Some(Value::Placeholder(if f == "var" {
                    let safe: String = name
                        .chars()
                        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                        .collect();
                    format!("__var_{safe}__")
                } else {
                    "__env_var__".to_string()
                }))
            }
            _ => None,
        }
    }
}

/// Bind loop targets to an item: `for x in …` binds the item, `for k, v in …` unpacks it; a
/// target whose value is not known renders as its own name.
fn bind(vars: &mut Vec<(String, Value)>, targets: &[String], item: &Value) {
    match (targets, item) {
        ([one], Value::Unknown) => vars.push((one.clone(), Value::Placeholder(one.clone()))),
        ([one], item) => vars.push((one.clone(), item.clone())),
        (many, Value::List(parts)) if parts.len() == many.len() => {
            vars.extend(many.iter().cloned().zip(parts.iter().cloned()));
        }
        (many, _) => {
            vars.extend(many.iter().map(|t| (t.clone(), Value::Placeholder(t.clone()))));
        }
    }
}

fn position(token: &Token<'_>) -> (usize, usize) {
    match token {
        Token::Text { line, .. } => (*line, 1),
        Token::Expr { line, column, .. } | Token::Tag { line, column, .. } => (*line, *column),
    }
}

fn is_ident(tok: &ETok, word: &str) -> bool {
    matches!(tok, ETok::Ident(w) if w == word)
}

/// Index of the bracket closing the one at `open`, looking at most `limit` tokens ahead.
fn matching(toks: &[ETok], open: usize, limit: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, tok) in toks.iter().enumerate().skip(open).take(limit) {
        match tok {
            ETok::Punct('(' | '[' | '{') => depth += 1,
            ETok::Punct(')' | ']' | '}') => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ if depth == 0 => return None,
            _ => {}
        }
    }
    None
}

/// Index of the first token outside brackets for which `pred` holds.
fn find_top(toks: &[ETok], pred: impl Fn(&ETok) -> bool) -> Option<usize> {
    let mut depth = 0usize;
    for (i, tok) in toks.iter().enumerate() {
        match tok {
            ETok::Punct('(' | '[' | '{') => depth += 1,
            ETok::Punct(')' | ']' | '}') => depth = depth.saturating_sub(1),
            t if depth == 0 && pred(t) => return Some(i),
            _ => {}
        }
    }
    None
}

/// `toks` split at commas outside brackets; a trailing comma adds no empty part.
fn split_top(toks: &[ETok]) -> Vec<&[ETok]> {
    let mut parts = Vec::new();
    let mut rest = toks;
    while !rest.is_empty() {
        let at = find_top(rest, |t| *t == ETok::Punct(',')).unwrap_or(rest.len());
        parts.push(&rest[..at]);
        rest = rest.get(at + 1..).unwrap_or_default();
    }
    parts
}

/// The arguments of `toks` when they are exactly a call `name(…)`: `(keyword, value)` pairs.
fn call_args<'t>(toks: &'t [ETok], name: &str) -> Option<Vec<(Option<&'t str>, &'t [ETok])>> {
    let [ETok::Ident(f), ETok::Punct('('), .., ETok::Punct(')')] = toks else { return None };
    if f != name || matching(toks, 1, usize::MAX) != Some(toks.len() - 1) {
        return None;
    }
    Some(split_top(&toks[2..toks.len() - 1]).into_iter().map(keyword_arg).collect())
}

/// `key=value` as `(Some(key), value)`, a positional argument as `(None, value)`.
fn keyword_arg(arg: &[ETok]) -> (Option<&str>, &[ETok]) {
    match arg {
        [ETok::Ident(k), ETok::Punct('='), value @ ..] => (Some(k.as_str()), value),
        value => (None, value),
    }
}

/// The dotted name an expression starts with, for messages: `dbt_utils.star`.
fn callee(toks: &[ETok]) -> String {
    let mut name = String::new();
    for (i, tok) in toks.iter().enumerate() {
        match tok {
            ETok::Ident(w) if i % 2 == 0 => name.push_str(w),
            ETok::Punct('.') if i % 2 == 1 => name.push('.'),
            _ => break,
        }
    }
    if name.is_empty() { "expression".to_string() } else { name }
}

/// A model name as SQL text: plain identifiers as written, anything else double-quoted.
fn quote_ident(name: &str) -> String {
    if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// Template source for messages, cut short.
fn snippet(s: &str) -> String {
    const MAX: usize = 60;
    let s = s.trim();
    match s.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Severity;

    fn sql(text: &str) -> String {
        render(text, "my_model").sql
    }

    fn has(r: &Rendered, severity: Severity, needle: &str) -> bool {
        r.diagnostics.iter().any(|d| d.severity == severity && d.message.contains(needle))
    }

    fn reads(r: &Rendered) -> Vec<&str> {
        r.extra_reads.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// Every line of the output maps to a template line holding its first non-blank text.
    fn assert_line_map(template: &str, r: &Rendered) {
        let lines: Vec<&str> = template.split('\n').collect();
        assert_eq!(r.line_map.len(), r.sql.matches('\n').count() + 1, "{r:?}");
        for (out, &src) in r.sql.split('\n').zip(&r.line_map) {
            assert!(src >= 1 && src <= lines.len().max(1), "{out:?} -> {src}");
            let word: String = out.trim().chars().take_while(|c| c.is_alphanumeric()).collect();
            if !word.is_empty() && !word.starts_with("__") {
                assert!(
                    lines[src - 1].contains(&word),
                    "{out:?} -> line {src}: {:?}",
                    lines[src - 1]
                );
            }
        }
    }

    #[test]
    fn detects_templates() {
        assert!(is_templated("select {{ x }}"));
        assert!(is_templated("{% if a %}"));
        assert!(is_templated("{# c #}"));
        assert!(!is_templated("select '{' from t"));
    }

    #[test]
    fn plain_sql_is_unchanged() {
        let r = render("select a\nfrom t\n", "m");
        assert_eq!(r.sql, "select a\nfrom t\n");
        assert_eq!(r.line_map, vec![1, 2, 3]);
        assert!(r.diagnostics.is_empty());
        let empty = render("", "m");
        assert_eq!((empty.sql.as_str(), empty.line_map), ("", vec![1]));
    }

    #[test]
    fn ref_forms() {
        assert_eq!(sql("{{ ref('m') }} {{ ref(\"n\") }}"), "m n");
        assert_eq!(sql("{{ ref('pkg', 'm') }}"), "m");
        assert_eq!(sql("{{ ref('m', v=2) }} {{ref('m', version=3)}}"), "m m");
        assert_eq!(sql("{{ ref('Stg_Orders') }}"), "Stg_Orders");
        assert_eq!(sql("{{ ref('my-model') }}"), "\"my-model\"");
        assert_eq!(sql("{{ ref('a\"b') }}"), "\"a\"\"b\"");
    }

    #[test]
    fn source_and_this() {
        assert_eq!(sql("select * from {{ source('raw', 'orders') }}"), "select * from raw.orders");
        assert_eq!(sql("{{ source('raw', 'my table') }}"), "raw.\"my table\"");
        assert_eq!(sql("insert into {{ this }}"), "insert into my_model");
    }

    #[test]
    fn config_is_read_and_removed() {
        let r = render(
            "{{ config(materialized='table', schema=\"mart\", alias='o', database='db', tags=['x']) }}\nselect 1",
            "m",
        );
        assert_eq!(r.sql, "\nselect 1");
        assert_eq!(r.line_map, vec![1, 2]);
        let expected = ModelConfig {
            schema: Some("mart".into()),
            alias: Some("o".into()),
            database: Some("db".into()),
            materialized: Some("table".into()),
        };
        assert_eq!(r.config, expected);
        let r = render("{{ config(schema=target.schema ~ '_x', materialized='view') }}", "m");
        assert_eq!(r.config.schema, None);
        assert_eq!(r.config.materialized.as_deref(), Some("view"));
        assert!(has(&r, Severity::Info, "config(schema=…)"));
        let r = render("{{ config(materialized='table', x=f( }}select 1", "m");
        assert_eq!(r.sql, "select 1");
        assert_eq!(r.config.materialized.as_deref(), Some("table"));
    }

    #[test]
    fn comments_vanish_but_keep_their_newlines() {
        let t = "select a, {# one\ntwo\nthree #} b\nfrom t";
        let r = render(t, "m");
        assert_eq!(r.sql, "select a, \n\n b\nfrom t");
        assert_eq!(r.line_map, vec![1, 2, 3, 4]);
    }

    #[test]
    fn set_literals_and_blocks() {
        let t = "{% set s = 'x' %}{% set n = 42 %}{% set l = ['a', 1] %}{% set tup = ('b',) %}\
                 {{ s }} {{ n }} {{ l }} {{ tup }}";
        assert_eq!(sql(t), "x 42 ['a', 1] ['b']");
        let t = "{% set cols %}a,\nb{% endset %}select {{ cols }} from t";
        let r = render(t, "m");
        assert_eq!(r.sql, "select a,\nb from t");
        assert_eq!(r.line_map, vec![2, 2]);
        assert_eq!(sql("{% set rel = ref('a') %}select * from {{ rel }}"), "select * from a");
    }

    #[test]
    fn set_of_a_non_literal_renders_a_placeholder() {
        let r = render("{% set cols = get_cols(ref('a')) %}select {{ cols }}", "m");
        assert_eq!(r.sql, "select __jinja__");
        assert_eq!(reads(&r), ["a"]);
        assert!(has(&r, Severity::Info, "set cols"));
    }

    #[test]
    fn for_loops_unroll_with_loop_last() {
        let t = "select\n{% for c in ['a', 'b', 'c'] %}  {{ c }}_x{% if not loop.last %},{% endif %}\n{% endfor %}from t";
        let r = render(t, "m");
        assert_eq!(r.sql, "select\n  a_x,\n  b_x,\n  c_x\nfrom t");
        assert_eq!(r.line_map, vec![1, 2, 2, 2, 3]);
        assert!(r.diagnostics.is_empty(), "{:?}", r.diagnostics);
        let t =
            "{% set xs = [1, 2] %}{% for x in xs %}{{ x }}{{ ',' if not loop.last }}{% endfor %}";
        assert_eq!(sql(t), "1,2");
        let t = "{% for x in xs %}{% if loop.first %}({% endif %}{{ loop.index }}{% endfor %}";
        assert_eq!(sql(t), "(__jinja__");
        let t = "{% for k, v in [('a', 1), ('b', 2)] %}{{ k }}={{ v }} {% endfor %}";
        assert_eq!(sql(t), "a=1 b=2 ");
        assert_eq!(sql("{% for x in [] %}a{% else %}none{% endfor %}"), "none");
        assert_eq!(sql("{% for x in [1] %}{% set y = 2 %}{% endfor %}{{ y }}"), "__jinja__");
    }

    #[test]
    fn unknown_iterable_renders_the_body_once_with_a_placeholder() {
        let t = "select {% for col in get_columns(ref('src')) %}{{ col }}{% if not loop.last %},{% endif %}{% endfor %} from t";
        let r = render(t, "m");
        assert_eq!(r.sql, "select col from t");
        assert_eq!(reads(&r), ["src"]);
        assert!(has(&r, Severity::Warning, "not known statically"));
    }

    #[test]
    fn if_renders_the_first_branch_and_reads_the_others() {
        let t = "select * from {{ ref('a') }}\n{% if is_incremental() %}\nwhere t > (select max(t) from {{ this }})\n\
                 {% elif var('full') %}\nunion all select * from {{ source('s', 't') }}\n{% else %}\n\
                 union all select * from {{ ref('b') }}\n{% endif %}";
        let r = render(t, "m");
        assert_eq!(r.sql, "select * from a\n\nwhere t > (select max(t) from m)\n");
        assert_eq!(r.extra_reads, vec![("s.t".to_string(), 5), ("b".to_string(), 7)]);
        assert!(has(&r, Severity::Info, "if is_incremental()"));
        assert_line_map(t, &r);
    }

    #[test]
    fn nested_blocks() {
        let t = "{% if a %}{% for x in ['p', 'q'] %}{% if b %}{{ x }}{% else %}{{ ref('z') }}{% endif %}{% endfor %}\
                 {% else %}{% if c %}{{ ref('y') }}{% endif %}{% endif %}";
        let r = render(t, "m");
        assert_eq!(r.sql, "pq");
        assert_eq!(reads(&r), ["y", "z"]);
    }

    #[test]
    fn whitespace_control_keeps_the_line_map_true() {
        let t = "select\n    a,\n    {%- if x -%}\n    b,\n    {%- endif %}\n    c\nfrom t";
        let r = render(t, "m");
        assert_eq!(r.sql, "select\n    a,b,\n    c\nfrom t");
        assert_eq!(r.line_map, vec![1, 2, 6, 7]);
        assert_eq!(sql("a  {{- 'b' -}}  \n c"), "abc");
        assert_eq!(sql("a {#- c -#} b"), "ab");
    }

    #[test]
    fn definitions_raw_do_call_snapshot() {
        assert_eq!(sql("{% macro m(x) %}select {{ ref('q') }}{% endmacro %}select 1"), "select 1");
        assert_eq!(sql("{% test t(model) %}select 1{% endtest %}x"), "x");
        assert_eq!(
            sql("{% raw %}{{ not jinja }} {% if %}{% endraw %}"),
            "{{ not jinja }} {% if %}"
        );
        assert_eq!(sql("{%- raw -%}  a  {%- endraw -%} b"), "ab");
        let r = render(
            "{% do run_query(ref('q')) %}{% call statement('s') %}select * from {{ ref('r') }}{% endcall %}x",
            "m",
        );
        assert_eq!(r.sql, "x");
        assert_eq!(reads(&r), ["q", "r"]);
        let t = "{% snapshot snap %}\n{{ config(unique_key='id') }}\nselect * from {{ source('s', 't') }}\n{% endsnapshot %}";
        assert_eq!(sql(t), "\n\nselect * from s.t\n");
    }

    #[test]
    fn vars_and_env_vars() {
        assert_eq!(sql("{{ var('start') }}"), "__var_start__");
        assert_eq!(sql("{{ var('start-date', '2020-01-01') }} {{ var('n', 3) }}"), "2020-01-01 3");
        assert_eq!(sql("{{ env_var('DBT_X') }} {{ env_var('Y', 'dflt') }}"), "__env_var__ dflt");
    }

    #[test]
    fn unknown_macros_become_placeholders() {
        let r = render("select {{ dbt_utils.star(ref('a')) }} from {{ ref('a') }}", "m");
        assert_eq!(r.sql, "select __jinja__ from a");
        assert_eq!(reads(&r), ["a"]);
        assert!(has(&r, Severity::Info, "`dbt_utils.star` not evaluated"));
        let r = render("{{ adapter.quote('x') }} {{ is_incremental() }} {{ this.schema }}", "m");
        assert_eq!(r.sql, "__jinja__ __jinja__ __jinja__");
        assert!(reads(&r).is_empty());
    }

    #[test]
    fn quoted_strings_may_hold_closers() {
        assert_eq!(sql("{{ ref('a}}b') }} x"), "\"a}}b\" x");
        assert_eq!(sql("{% set s = '%}' %}{{ s }}"), "%}");
        assert_eq!(sql("{{ {'k': 1} }}y"), "__jinja__y");
    }

    #[test]
    fn malformed_templates_give_located_errors() {
        let r = render("select 1\nfrom {{ ref('a')\nwhere x", "m");
        assert_eq!(r.sql, "select 1\nfrom \nwhere x");
        assert!(
            r.diagnostics
                .iter()
                .any(|d| d.severity == Severity::Error && (d.line, d.column) == (2, 6))
        );

        let r = render("a\n  {% if x %}b", "m");
        assert_eq!(r.sql, "a\n  b");
        assert!(
            r.diagnostics
                .iter()
                .any(|d| d.message.contains("never closed") && (d.line, d.column) == (2, 3))
        );

        let r = render("{% frobnicate %}a{% endif %}{% else %}", "m");
        assert_eq!(r.sql, "a");
        assert_eq!(r.diagnostics.iter().filter(|d| d.severity == Severity::Error).count(), 3);

        let r = render("{% for x in [1, 2] %}{% if a %}{{ x }}{% endfor %}z", "m");
        assert_eq!(r.sql, "12z");
        assert!(has(&r, Severity::Error, "`{% if %}` is never closed"));

        for bad in [
            "{{",
            "{%",
            "{#",
            "{{ 'a",
            "{% raw %}x",
            "{{ }}",
            "{% %}",
            "{% for %}x{% endfor %}",
            "{%- -%}",
        ] {
            let r = render(bad, "m");
            assert!(r.diagnostics.iter().any(|d| d.severity == Severity::Error), "{bad}: {r:?}");
        }
    }

    #[test]
    fn adversarial_nesting_and_blowup_are_bounded() {
        let n = 10_000;
        let deep = format!("{}x{}", "{% if a %}".repeat(n), "{% endif %}".repeat(n));
        let r = render(&deep, "m");
        assert_eq!(r.sql, "x");
        let unclosed = render(&"{% if a %}{% for x in [1] %}".repeat(n), "m");
        assert!(unclosed.diagnostics.len() >= n);
        let list = format!("{{% set x = {}1{} %}}{{{{ x }}}}", "[".repeat(n), "]".repeat(n));
        assert_eq!(render(&list, "m").sql, "__jinja__");
        let blowup =
            format!("{}x{}", "{% for i in [1, 2, 3, 4] %}".repeat(40), "{% endfor %}".repeat(40));
        let r = render(&blowup, "m");
        assert!(has(&r, Severity::Error, "too expensive"));
        let doubling: String = (0..64).map(|_| "{% set s %}{{ s }}{{ s }}{% endset %}").collect();
        let r = render(&format!("{{% set s = 'abcdefgh' %}}{doubling}{{{{ s }}}}"), "m");
        assert!(r.sql.len() <= MAX_OUTPUT);
        assert!(has(&r, Severity::Error, "would exceed"));
    }

    #[test]
    fn jaffle_shop_models_render_to_parseable_sql() {
        use sqlparser::dialect::DuckDbDialect;
        use sqlparser::parser::Parser;
        let dir = std::path::Path::new("/work/shared/corpus/jaffle_shop_duckdb/models");
        if !dir.exists() {
            return;
        }
        let mut seen = 0;
        for entry in walkdir::WalkDir::new(dir) {
            let path = entry.unwrap().into_path();
            if path.extension().is_none_or(|e| e != "sql") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let r = render(&text, "model");
            assert!(!r.sql.contains("{{") && !r.sql.contains("{%"), "{}", r.sql);
            assert!(r.diagnostics.is_empty(), "{path:?}: {:?}", r.diagnostics);
            Parser::parse_sql(&DuckDbDialect {}, &r.sql)
                .unwrap_or_else(|e| panic!("{path:?}: {e}\n{}", r.sql));
            assert_line_map(&text, &r);
            if path.ends_with("orders.sql") {
                for col in ["credit_card", "coupon", "bank_transfer", "gift_card"] {
                    assert!(
                        r.sql
                            .contains(&format!("'{col}' then amount else 0 end) as {col}_amount,"))
                    );
                    assert!(r.sql.contains(&format!("order_payments.{col}_amount,")));
                }
                let from = r.sql.lines().position(|l| l.contains("from stg_orders")).unwrap();
                assert_eq!(r.line_map[from], 5);
            }
            seen += 1;
        }
        assert!(seen >= 5);
    }
}
