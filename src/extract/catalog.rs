//! Known table columns: what `--schema` gives and what CREATE TABLE statements in the analyzed
//! files say. With it, `SELECT *` expands to columns and an unqualified column in a join
//! resolves to the one table that has it.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::extract::sql::names::normalize_dotted;

/// Columns of tables, by canonical dataset name (`schema.table`, lower case unless quoted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    tables: BTreeMap<String, Vec<String>>,
}

/// A `--schema` file that is neither a JSON object of column lists nor SQL.
#[derive(Debug, thiserror::Error)]
#[error("not a schema: expected JSON {{\"schema.table\": [\"col\", …]}} ({0})")]
pub struct SchemaError(#[from] serde_json::Error);

impl Catalog {
    pub fn new() -> Self {
        Self::default()
    }

    /// `{"schema.table": ["col", …]}`. Names are normalized like names in SQL.
    pub fn from_json(text: &str) -> Result<Self, SchemaError> {
        #[derive(Deserialize)]
        #[serde(transparent)]
        struct Raw(BTreeMap<String, Vec<String>>);
        let Raw(raw) = serde_json::from_str(text)?;
        let mut catalog = Self::new();
        for (table, columns) in raw {
            catalog.insert(
                normalize_dotted(&table),
                columns.iter().map(|c| normalize_dotted(c)).collect(),
            );
        }
        Ok(catalog)
    }

    pub fn insert(&mut self, table: String, columns: Vec<String>) {
        self.tables.insert(table, columns);
    }

    pub fn extend(&mut self, other: &Catalog) {
        for (t, c) in &other.tables {
            self.tables.insert(t.clone(), c.clone());
        }
    }

    pub fn remove(&mut self, table: &str) {
        self.tables.remove(table);
    }

    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    pub fn len(&self) -> usize {
        self.tables.len()
    }

    /// Columns of a table by its canonical name. An unqualified name also finds a qualified
    /// table whose last part it is, when exactly one does (`orders` finds `raw.orders`).
    pub fn columns(&self, table: &str) -> Option<&[String]> {
        if let Some(columns) = self.tables.get(table) {
            return Some(columns);
        }
        if table.contains('.') {
            return None;
        }
        let suffix = format!(".{table}");
        let mut found = self.tables.iter().filter(|(name, _)| name.ends_with(&suffix));
        match (found.next(), found.next()) {
            (Some((_, columns)), None) => Some(columns),
            _ => None,
        }
    }

    /// Datasets whose columns differ between two catalogs.
    pub fn changed(&self, other: &Catalog) -> std::collections::BTreeSet<String> {
        let mut names: std::collections::BTreeSet<String> = self.tables.keys().cloned().collect();
        names.extend(other.tables.keys().cloned());
        names.retain(|n| self.tables.get(n) != other.tables.get(n));
        names
    }

    pub fn tables(&self) -> impl Iterator<Item = (&String, &Vec<String>)> {
        self.tables.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_schema_is_normalized_and_found_by_last_part() {
        let catalog = Catalog::from_json(r#"{"Raw.Orders": ["ID", "amount"]}"#).unwrap();
        assert_eq!(
            catalog.columns("raw.orders"),
            Some(&["id".to_string(), "amount".to_string()][..])
        );
        assert_eq!(catalog.columns("orders").map(<[String]>::len), Some(2));
        assert_eq!(catalog.columns("other"), None);
        assert!(Catalog::from_json("[1]").is_err());
    }
}
