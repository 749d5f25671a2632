//! Dataset and column names as the user means them: unquoted parts lower-cased, quoted parts
//! kept as written, joined with dots.
//!
//! SQL engines disagree on case folding (Snowflake folds up, Postgres down), but lineage only
//! needs one canonical spelling per name: lower case for unquoted identifiers is what
//! sqllineage, OpenLineage and dbt print, so the same table written `Orders` and `orders` meets
//! in one node. A quoted identifier keeps its case because the engine keeps it.

/// Canonical form of one identifier part. `quote` is the quote character it was written
/// with, if any.
pub fn normalize_part(value: &str, quote: Option<char>) -> String {
    match quote {
        Some(_) => value.to_string(),
        None => value.to_lowercase(),
    }
}

/// Parse a dotted name as written in text (`Raw.Orders`, `"My Schema".t`, `` `a.b` ``,
/// `[dbo].[T]`) into its canonical form. Used where names come from outside sqlparser's AST:
/// templates, the tree-sitter fallback, `--schema` files.
pub fn normalize_dotted(raw: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut chars = raw.trim().chars().peekable();
    let mut current = String::new();
    let mut quoted: Option<char> = None;
    while let Some(c) = chars.next() {
        match c {
            '"' | '`' | '[' if current.is_empty() && quoted.is_none() => {
                let close = if c == '[' { ']' } else { c };
                let mut value = String::new();
                while let Some(d) = chars.next() {
                    if d == close {
                        if chars.peek() == Some(&close) && close != ']' {
                            value.push(d);
                            chars.next();
                            continue;
                        }
                        break;
                    }
                    value.push(d);
                }
                current = value;
                quoted = Some(c);
            }
            '.' => {
                parts.push(normalize_part(current.trim(), quoted));
                current.clear();
                quoted = None;
            }
            _ => current.push(c),
        }
    }
    parts.push(normalize_part(current.trim(), quoted));
    parts.join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquoted_parts_fold_and_quoted_parts_keep_case() {
        assert_eq!(normalize_dotted("Raw.Orders"), "raw.orders");
        assert_eq!(normalize_dotted("\"My\".T"), "My.t");
        assert_eq!(normalize_dotted("`a.B`"), "a.B");
        assert_eq!(normalize_dotted("[dbo].[T]"), "dbo.T");
        assert_eq!(normalize_dotted("\"a\"\"b\""), "a\"b");
    }
}
