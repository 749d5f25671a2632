//! A statement's tokens with their byte ranges, for turning AST nodes into edit ranges: the
//! AST knows where expressions are, the tokens know where the keywords around them are.

use sqlparser::ast::Spanned;
use sqlparser::dialect::Dialect;
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Location, Token, Tokenizer, Whitespace};

use crate::source::LineIndex;

/// Keywords that end a WHERE clause.
pub const AFTER_WHERE: &[Keyword] = &[
    Keyword::GROUP,
    Keyword::HAVING,
    Keyword::WINDOW,
    Keyword::QUALIFY,
    Keyword::ORDER,
    Keyword::LIMIT,
    Keyword::OFFSET,
    Keyword::FETCH,
    Keyword::UNION,
    Keyword::EXCEPT,
    Keyword::INTERSECT,
];

/// Keywords that end a HAVING clause.
pub const AFTER_HAVING: &[Keyword] = &[
    Keyword::WINDOW,
    Keyword::QUALIFY,
    Keyword::ORDER,
    Keyword::LIMIT,
    Keyword::OFFSET,
    Keyword::FETCH,
    Keyword::UNION,
    Keyword::EXCEPT,
    Keyword::INTERSECT,
];

/// Keywords that end a join's ON clause.
pub const AFTER_ON: &[Keyword] = &[
    Keyword::JOIN,
    Keyword::INNER,
    Keyword::LEFT,
    Keyword::RIGHT,
    Keyword::FULL,
    Keyword::CROSS,
    Keyword::NATURAL,
    Keyword::WHERE,
    Keyword::GROUP,
    Keyword::HAVING,
    Keyword::WINDOW,
    Keyword::QUALIFY,
    Keyword::ORDER,
    Keyword::LIMIT,
    Keyword::UNION,
    Keyword::EXCEPT,
    Keyword::INTERSECT,
];

/// How [`Tokens::pieces`] cuts a clause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Split {
    /// One piece: the whole clause.
    Never,
    /// At commas: a list's items.
    AtCommas,
    /// At ANDs (not a BETWEEN's): a condition's parts.
    AtAnds,
}

/// One token and the bytes it covers in the statement's text.
#[derive(Debug, Clone)]
pub struct Tok {
    pub token: Token,
    pub start: usize,
    pub end: usize,
}

impl Tok {
    pub fn is_keyword(&self, keyword: Keyword) -> bool {
        matches!(&self.token, Token::Word(w) if w.keyword == keyword)
    }

    /// White space and comments.
    pub fn is_trivia(&self) -> bool {
        matches!(self.token, Token::Whitespace(_))
    }
}

/// The tokens of one statement's text.
pub struct Tokens<'a> {
    text: &'a str,
    lines: LineIndex,
    pub list: Vec<Tok>,
}

impl<'a> Tokens<'a> {
    /// `None` when the text does not tokenize (then it did not parse either).
    pub fn new(text: &'a str, dialect: &dyn Dialect) -> Option<Tokens<'a>> {
        let lines = LineIndex::new(text);
        let raw = Tokenizer::new(dialect, text).tokenize_with_location().ok()?;
        let list = raw
            .into_iter()
            .filter(|t| t.token != Token::EOF)
            .map(|t| Tok {
                start: lines.offset(
                    text,
                    to_usize(t.span.start.line),
                    to_usize(t.span.start.column),
                ),
                end: lines.offset(text, to_usize(t.span.end.line), to_usize(t.span.end.column)),
                token: t.token,
            })
            .collect();
        Some(Tokens { text, lines, list })
    }

    /// The byte offset of a parser location; `None` for the empty location of nodes the
    /// parser did not place.
    pub fn offset(&self, location: Location) -> Option<usize> {
        (location.line > 0).then(|| {
            self.lines.offset(self.text, to_usize(location.line), to_usize(location.column))
        })
    }

    /// Where a node starts.
    pub fn start_of(&self, node: &impl Spanned) -> Option<usize> {
        self.offset(node.span().start)
    }

    /// The index of the token that starts at `offset`, or the first after it.
    pub fn index_at(&self, offset: usize) -> usize {
        self.list.partition_point(|t| t.start < offset)
    }

    /// The last `keyword` token that starts before `offset`.
    pub fn keyword_before(&self, offset: usize, keyword: Keyword) -> Option<usize> {
        self.list[..self.index_at(offset)].iter().rposition(|t| t.is_keyword(keyword))
    }

    /// The first `keyword` token at or after `offset`.
    pub fn keyword_after(&self, offset: usize, keyword: Keyword) -> Option<usize> {
        let from = self.index_at(offset);
        self.list[from..].iter().position(|t| t.is_keyword(keyword)).map(|i| from + i)
    }

    /// From token `i`, the end of the clause it opens: the last significant token before a
    /// `)` that closes an enclosing parenthesis, a `;`, one of `stops` at depth 0, or the end.
    pub fn clause_end(&self, i: usize, stops: &[Keyword]) -> usize {
        self.pieces(i, stops, Split::Never)
            .last()
            .map_or_else(|| self.list.get(i).map_or(0, |t| t.end), |&(_, end)| end)
    }

    /// Where the white space before token `i` starts (comments are kept, and so is the line
    /// break that ends a `--` comment: without it the comment would swallow what follows).
    pub fn space_before(&self, i: usize) -> usize {
        let blank = |t: &Tok| {
            matches!(
                t.token,
                Token::Whitespace(Whitespace::Space | Whitespace::Tab | Whitespace::Newline)
            )
        };
        let mut k = i.min(self.list.len());
        while k > 0 && blank(&self.list[k - 1]) {
            k -= 1;
        }
        let end_of_text = self.text.len();
        let start_of = |j: usize| self.list.get(j).map_or(end_of_text, |t| t.start);
        let after_line_comment = k > 0
            && matches!(&self.list[k - 1].token, Token::Whitespace(Whitespace::SingleLineComment { comment, .. }) if !comment.ends_with('\n'));
        if after_line_comment {
            return (k..i)
                .find(|&j| matches!(self.list[j].token, Token::Whitespace(Whitespace::Newline)))
                .map_or(start_of(i), |j| self.list[j].end);
        }
        start_of(k)
    }

    /// `start..end` widened to the parentheses right around it, if there are.
    pub fn widen_to_parens(&self, start: usize, end: usize) -> (usize, usize) {
        let before = self.list[..self.index_at(start)].iter().rev().find(|t| !t.is_trivia());
        let after = self.list[self.index_at(end)..].iter().find(|t| !t.is_trivia());
        match (before, after) {
            (Some(open), Some(close))
                if open.token == Token::LParen && close.token == Token::RParen =>
            {
                (open.start, close.end)
            }
            _ => (start, end),
        }
    }

    /// The byte ranges of a comma-separated list that starts at token `i` and ends before
    /// `stop` (or a `)` or `;`) at depth 0: a select list's items, comments around them
    /// left out. The parser's spans cannot say this: a CAST's span starts inside it.
    pub fn list_items(&self, i: usize, stop: Keyword) -> Vec<(usize, usize)> {
        self.pieces(i, &[stop], Split::AtCommas)
    }

    /// The AND-ed parts of the condition after token `i` (a WHERE, HAVING or ON keyword), to
    /// the end of its clause (`)`, `;`, `,`, or one of `stops` at depth 0): their byte
    /// ranges. The parser's spans cannot give these: a `NOT x`'s span starts at `x`. The AND
    /// of a BETWEEN does not split.
    pub fn conjuncts(&self, i: usize, stops: &[Keyword]) -> Vec<(usize, usize)> {
        self.pieces(i + 1, stops, Split::AtAnds)
    }

    /// The pieces of the clause from token `from` to a `)` that closes an enclosing
    /// parenthesis, a `;`, or one of `stops` at depth 0, cut as `split` says: each from its
    /// first significant token to its last.
    fn pieces(&self, from: usize, stops: &[Keyword], split: Split) -> Vec<(usize, usize)> {
        let mut pieces = Vec::new();
        let mut depth = 0usize;
        let mut between = false;
        let mut current: Option<(usize, usize)> = None;
        for t in self.list.iter().skip(from) {
            let top = depth == 0;
            match &t.token {
                Token::LParen => depth += 1,
                Token::RParen if top => break,
                Token::RParen => depth -= 1,
                Token::SemiColon if top => break,
                // A condition has no comma at its top: one ends it (`FROM a JOIN b ON …, c`).
                Token::Comma if top && split == Split::AtAnds => break,
                Token::Comma if top && split == Split::AtCommas => {
                    pieces.extend(current.take());
                    continue;
                }
                Token::Word(w) if top && stops.contains(&w.keyword) => break,
                Token::Word(w)
                    if top && split == Split::AtAnds && w.keyword == Keyword::BETWEEN =>
                {
                    between = true;
                }
                Token::Word(w) if top && split == Split::AtAnds && w.keyword == Keyword::AND => {
                    if between {
                        between = false;
                    } else {
                        pieces.extend(current.take());
                        continue;
                    }
                }
                _ => {}
            }
            if !t.is_trivia() {
                current = Some(current.map_or((t.start, t.end), |(s, _)| (s, t.end)));
            }
        }
        pieces.extend(current);
        pieces
    }

    /// The text between two byte offsets.
    pub fn text_of(&self, start: usize, end: usize) -> &'a str {
        self.text.get(start..end).unwrap_or_default()
    }

    /// Where the white space after byte `offset` ends.
    pub fn space_after(&self, offset: usize) -> usize {
        let rest = &self.text[offset.min(self.text.len())..];
        offset + (rest.len() - rest.trim_start_matches([' ', '\t']).len())
    }
}

fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}
