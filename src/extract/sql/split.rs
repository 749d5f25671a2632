//! Splitting a script into statements before parsing, so that one statement that does not
//! parse costs only itself: sqlparser stops at the first error of a script.
//!
//! The splitter knows just enough lexing to not split inside strings, quoted identifiers,
//! comments and dollar-quoted bodies. Procedural blocks (`BEGIN … END`) contain semicolons;
//! the caller re-joins chunks when a lone chunk does not parse.

/// One statement's text and where it starts in the script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk<'a> {
    pub text: &'a str,
    /// Byte offset of `text` in the script.
    pub start: usize,
}

/// Split at top-level semicolons. Chunks that hold only white space and comments are dropped;
/// each chunk keeps its semicolon out. Never fails: an unterminated string or comment runs to
/// the end of the text, as it would for the database.
pub fn split(text: &str) -> Vec<Chunk<'_>> {
    let bytes = text.as_bytes();
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if let Some(after) = skip_opaque(bytes, i) {
            i = after;
            continue;
        }
        match bytes[i] {
            b';' => {
                push(text, start, i, &mut chunks);
                i += 1;
                start = i;
            }
            _ => i += 1,
        }
    }
    push(text, start, text.len(), &mut chunks);
    chunks
}

fn push<'a>(text: &'a str, start: usize, end: usize, chunks: &mut Vec<Chunk<'a>>) {
    let Some(piece) = text.get(start..end) else { return };
    if has_code(piece) {
        chunks.push(Chunk { text: piece, start });
    }
}

/// Whether the text holds anything but white space and comments.
pub fn has_code(text: &str) -> bool {
    code_start(text) < text.len()
}

/// Offset of the first byte of code (after white space and comments) in `text`.
pub fn code_start(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b if b.is_ascii_whitespace() => i += 1,
            b'-' if bytes.get(i + 1) == Some(&b'-') => i = skip_line(bytes, i),
            b'/' if bytes.get(i + 1) == Some(&b'*') => i = skip_block_comment(bytes, i),
            _ => return i,
        }
    }
    text.len()
}

/// The words of code (identifiers and keywords outside strings, quoted names and comments),
/// with their byte offsets.
pub fn words(text: &str) -> Vec<(usize, &str)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if let Some(after) = skip_opaque(bytes, i) {
            i = after;
            continue;
        }
        match bytes[i] {
            b if b.is_ascii_alphabetic() || b == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                out.push((start, &text[start..i]));
            }
            _ => i += 1,
        }
    }
    out
}

/// Where a string, quoted name, comment or dollar-quoted body that starts at `i` ends; `None`
/// when code starts there. The one lexing rule that the splitter and the word scan share.
fn skip_opaque(bytes: &[u8], i: usize) -> Option<usize> {
    let next = bytes.get(i + 1).copied();
    match bytes[i] {
        b'\'' | b'"' | b'`' => Some(skip_quoted(bytes, i, bytes[i])),
        b'[' => Some(skip_quoted(bytes, i, b']')),
        b'-' if next == Some(b'-') => Some(skip_line(bytes, i)),
        b'#' if i == 0 || bytes[i - 1] == b'\n' => Some(skip_line(bytes, i)),
        b'/' if next == Some(b'*') => Some(skip_block_comment(bytes, i)),
        b'$' => Some(skip_dollar(bytes, i)),
        _ => None,
    }
}

fn skip_quoted(bytes: &[u8], open: usize, close: u8) -> usize {
    let mut i = open + 1;
    while i < bytes.len() {
        if bytes[i] == b'\\' && close != b']' {
            i += 2;
            continue;
        }
        if bytes[i] == close {
            // A doubled quote is an escaped quote inside the string.
            if bytes.get(i + 1) == Some(&close) && close != b']' {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

fn skip_line(bytes: &[u8], from: usize) -> usize {
    bytes[from..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |p| from + p + 1)
}

fn skip_block_comment(bytes: &[u8], from: usize) -> usize {
    bytes[from + 2..].windows(2).position(|w| w == b"*/").map_or(bytes.len(), |p| from + 2 + p + 2)
}

/// `$$ … $$` or `$tag$ … $tag$` (Postgres, Snowflake). A `$` that does not open such a quote
/// (a `$1` parameter) is one byte.
fn skip_dollar(bytes: &[u8], from: usize) -> usize {
    let tag_end = bytes[from + 1..]
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_'))
        .map(|p| from + 1 + p);
    let Some(tag_end) = tag_end else { return from + 1 };
    if bytes[tag_end] != b'$' || bytes.get(from + 1).is_some_and(u8::is_ascii_digit) {
        return from + 1;
    }
    let tag = &bytes[from..=tag_end];
    bytes[tag_end + 1..]
        .windows(tag.len())
        .position(|w| w == tag)
        .map_or(bytes.len(), |p| tag_end + 1 + p + tag.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<&str> {
        split(sql).into_iter().map(|c| c.text.trim()).collect()
    }

    #[test]
    fn splits_at_top_level_semicolons_only() {
        assert_eq!(
            texts(
                "select ';' from a; -- x;\nselect \"a;b\" from b /* ; */;\n\n-- only a comment;\n"
            ),
            vec!["select ';' from a", "-- x;\nselect \"a;b\" from b /* ; */"]
        );
        assert_eq!(
            texts("create function f() as $$ a; b $$; select 1"),
            vec!["create function f() as $$ a; b $$", "select 1"]
        );
        assert_eq!(texts("select $1; select 'it''s;'"), vec!["select $1", "select 'it''s;'"]);
    }

    #[test]
    fn words_skip_strings_and_comments() {
        let w: Vec<&str> = words("select 'begin' -- end\n from t /* case */ begin")
            .into_iter()
            .map(|(_, w)| w)
            .collect();
        assert_eq!(w, vec!["select", "from", "t", "begin"]);
    }

    #[test]
    fn unterminated_constructs_run_to_the_end() {
        assert_eq!(texts("select 'abc; select 1"), vec!["select 'abc; select 1"]);
        assert_eq!(texts("select 1 /* ; "), vec!["select 1 /* ;"]);
        assert!(split("").is_empty());
        assert_eq!(code_start("  -- c\n  select"), 9);
    }
}
