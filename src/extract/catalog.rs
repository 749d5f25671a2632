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

    /// An index for [`Reach::restricted_to`], made once for many lookups.
    pub fn reach(&self) -> Reach<'_> {
        let mut by_last: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for table in self.tables.keys() {
            if let Some((_, last)) = table.rsplit_once('.') {
                by_last.entry(last).or_default().push(table);
            }
        }
        Reach { catalog: self, by_last }
    }
}

/// Which tables of a catalog names can reach, the way [`Catalog::columns`] looks them up.
pub struct Reach<'a> {
    catalog: &'a Catalog,
    by_last: BTreeMap<&'a str, Vec<&'a str>>,
}

impl Reach<'_> {
    /// The part of the catalog that [`Catalog::columns`] can give for these names: each
    /// name's own entry and, for an unqualified name, the qualified tables it may stand for.
    pub fn restricted_to<'n>(&self, names: impl IntoIterator<Item = &'n str>) -> Catalog {
        let mut out = Catalog::new();
        for name in names {
            let qualified = self.by_last.get(name).filter(|_| !name.contains('.'));
            for table in std::iter::once(name).chain(qualified.into_iter().flatten().copied()) {
                if let Some(columns) = self.catalog.tables.get(table) {
                    out.tables.insert(table.to_string(), columns.clone());
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restricted_to_keeps_what_the_names_can_find() {
        let mut catalog = Catalog::new();
        for table in ["raw.orders", "orders", "mart.orders", "raw.customers", "x.y.items"] {
            catalog.insert(table.into(), vec!["id".into()]);
        }
        let reach = catalog.reach();
        let tables = |names: &[&str]| -> Vec<String> {
            reach.restricted_to(names.iter().copied()).tables().map(|(t, _)| t.clone()).collect()
        };
        assert_eq!(tables(&["orders"]), ["mart.orders", "orders", "raw.orders"]);
        assert_eq!(tables(&["raw.orders", "items"]), ["raw.orders", "x.y.items"]);
        assert_eq!(tables(&["y.items", "nothing"]), Vec::<String>::new());
    }

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
