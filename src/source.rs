//! Positions in analyzed text: byte offsets to 1-based lines and columns and back.

/// Start offsets of each line of a text, for converting between byte offsets and
/// 1-based (line, column) positions. Columns count characters, as sqlparser's do.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { starts }
    }

    /// 1-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        match self.starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }

    /// 1-based (line, column) of a byte offset; the column counts characters.
    pub fn position(&self, text: &str, offset: usize) -> (usize, usize) {
        let line = self.line_of(offset);
        let start = self.starts[line - 1];
        let column = text.get(start..offset.min(text.len())).map_or(1, |s| s.chars().count() + 1);
        (line, column)
    }

    /// Byte offset of a 1-based (line, column) position, clamped to the text.
    pub fn offset(&self, text: &str, line: usize, column: usize) -> usize {
        let Some(&start) = self.starts.get(line.saturating_sub(1)) else {
            return text.len();
        };
        let rest = &text[start..];
        rest.char_indices().nth(column.saturating_sub(1)).map_or(text.len(), |(i, _)| start + i)
    }

    pub fn line_count(&self) -> usize {
        self.starts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_round_trip() {
        let text = "select 1;\nselect é, 2\n\nx";
        let index = LineIndex::new(text);
        assert_eq!(index.position(text, 0), (1, 1));
        assert_eq!(index.position(text, 10), (2, 1));
        let off = text.find(", 2").unwrap();
        assert_eq!(index.position(text, off), (2, 9));
        assert_eq!(index.offset(text, 2, 9), off);
        assert_eq!(index.line_of(text.len() - 1), 4);
        assert_eq!(index.line_count(), 4);
    }
}
