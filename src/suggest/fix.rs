//! Fixes as byte-range edits of the file's text, never a re-printed AST: sqlparser's
//! printer drops comments and the user's layout, and a patch should touch only what the rule
//! is about. Patches are rendered from the edits with `similar`.

use serde::Serialize;

/// What a user risks by applying a fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Applicability {
    /// Shown, never applied: the rule cannot be sure of the rewrite.
    DisplayOnly,
    /// The same results under an assumption the rule states (applied with `--unsafe`).
    Unsafe,
    /// The same results, guaranteed by SQL's semantics.
    Safe,
}

/// Replace `start..end` (bytes of the file) with `content`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edit {
    pub start: usize,
    pub end: usize,
    pub content: String,
}

impl Edit {
    pub fn deletion(start: usize, end: usize) -> Edit {
        Edit { start, end, content: String::new() }
    }

    pub fn replacement(start: usize, end: usize, content: impl Into<String>) -> Edit {
        Edit { start, end, content: content.into() }
    }

    fn shifted(&self, by: usize) -> Edit {
        Edit { start: self.start + by, end: self.end + by, content: self.content.clone() }
    }
}

/// A rule's rewrite: its edits (sorted, not overlapping) and how safe it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fix {
    pub title: String,
    pub applicability: Applicability,
    pub edits: Vec<Edit>,
    /// The assumption an unsafe fix rests on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assumes: Option<String>,
}

impl Fix {
    pub fn safe(title: impl Into<String>, edits: Vec<Edit>) -> Fix {
        Fix::new(title, Applicability::Safe, edits, None)
    }

    pub fn unsafe_because(title: impl Into<String>, edits: Vec<Edit>, assumes: &str) -> Fix {
        Fix::new(title, Applicability::Unsafe, edits, Some(assumes.to_string()))
    }

    fn new(
        title: impl Into<String>,
        applicability: Applicability,
        mut edits: Vec<Edit>,
        assumes: Option<String>,
    ) -> Fix {
        edits.sort_by_key(|e| (e.start, e.end));
        Fix { title: title.into(), applicability, edits, assumes }
    }

    /// The same fix for text that starts `by` bytes later in the file.
    #[must_use]
    pub fn shifted(&self, by: usize) -> Fix {
        Fix { edits: self.edits.iter().map(|e| e.shifted(by)).collect(), ..self.clone() }
    }

    fn span(&self) -> (usize, usize) {
        let start = self.edits.iter().map(|e| e.start).min().unwrap_or(0);
        let end = self.edits.iter().map(|e| e.end).max().unwrap_or(0);
        (start, end)
    }
}

/// `text` with the fixes applied, and which were (their positions in `fixes`): a fix whose
/// edits overlap one taken before it, or fall outside the text, is left for the next round.
pub fn apply<'a>(text: &str, fixes: impl IntoIterator<Item = &'a Fix>) -> (String, Vec<usize>) {
    let mut taken: Vec<&Fix> = Vec::new();
    let mut which = Vec::new();
    for (k, fix) in fixes.into_iter().enumerate() {
        let (start, end) = fix.span();
        let fits = end <= text.len()
            && fix.edits.iter().all(|e| {
                e.start <= e.end && text.is_char_boundary(e.start) && text.is_char_boundary(e.end)
            });
        let overlaps = taken.iter().any(|t| {
            let (s, e) = t.span();
            start < e && s < end
        });
        if fits && !overlaps {
            taken.push(fix);
            which.push(k);
        }
    }
    let mut edits: Vec<&Edit> = taken.iter().flat_map(|f| &f.edits).collect();
    edits.sort_by_key(|e| (e.start, e.end));
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for edit in edits {
        if edit.start < at {
            continue;
        }
        out.push_str(&text[at..edit.start]);
        out.push_str(&edit.content);
        at = edit.end;
    }
    out.push_str(&text[at..]);
    (out, which)
}

/// A unified diff of one file, as `git diff` shows it.
pub fn unified_diff(path: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlapping_fixes_wait_for_the_next_round() {
        let text = "select distinct a from t order by a";
        let first = Fix::safe("drop distinct", vec![Edit::deletion(7, 16)]);
        let inside = Fix::safe("overlaps", vec![Edit::replacement(10, 12, "x")]);
        let last = Fix::safe("drop order", vec![Edit::deletion(24, 35)]);
        let (out, applied) = apply(text, [&first, &inside, &last]);
        assert_eq!(out, "select a from t");
        assert_eq!(applied, [0, 2]);
        let outside = Fix::safe("past the end", vec![Edit::deletion(30, 99)]);
        assert_eq!(apply(text, [&outside]), (text.to_string(), Vec::new()));
    }

    #[test]
    fn diffs_name_both_sides() {
        let diff = unified_diff("m.sql", "select 1\nfrom t\n", "select 2\nfrom t\n");
        assert!(diff.starts_with("--- a/m.sql\n+++ b/m.sql\n"), "{diff}");
        assert!(diff.contains("-select 1\n+select 2\n"), "{diff}");
    }
}
