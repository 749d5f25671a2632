//! Configuration files as the values a script gets from loading them: mappings become dicts,
//! sequences lists, scalars the text Python would hold (`str(value)` for numbers).

use yaml_rust2::{Yaml, YamlLoader};

use super::dataflow::Value;

/// Nesting past this is not followed (a pathological file stays cheap).
const MAX_DEPTH: usize = 32;

/// The first document of a YAML file (`yaml.safe_load`).
pub fn yaml(text: &str) -> Option<Value> {
    let documents = YamlLoader::load_from_str(text).ok()?;
    documents.first().map(|d| from_yaml(d, 0))
}

fn from_yaml(node: &Yaml, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return Value::Unknown;
    }
    match node {
        Yaml::String(s) | Yaml::Real(s) => Value::Str(s.clone()),
        Yaml::Integer(i) => Value::Str(i.to_string()),
        Yaml::Boolean(b) => Value::Str(if *b { "True" } else { "False" }.to_string()),
        Yaml::Array(items) => Value::List(items.iter().map(|i| from_yaml(i, depth + 1)).collect()),
        Yaml::Hash(pairs) => Value::Dict(
            pairs
                .iter()
                .filter_map(|(k, v)| {
                    let Value::Str(key) = from_yaml(k, depth + 1) else { return None };
                    Some((key, from_yaml(v, depth + 1)))
                })
                .collect(),
        ),
        Yaml::Null | Yaml::Alias(_) | Yaml::BadValue => Value::Unknown,
    }
}

/// A JSON file (`json.load`).
pub fn json(text: &str) -> Option<Value> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    Some(from_json(&value, 0))
}

fn from_json(node: &serde_json::Value, depth: usize) -> Value {
    use serde_json::Value as J;
    if depth > MAX_DEPTH {
        return Value::Unknown;
    }
    match node {
        J::String(s) => Value::Str(s.clone()),
        J::Number(n) => Value::Str(n.to_string()),
        J::Bool(b) => Value::Str(if *b { "True" } else { "False" }.to_string()),
        J::Array(items) => Value::List(items.iter().map(|i| from_json(i, depth + 1)).collect()),
        J::Object(pairs) => {
            Value::Dict(pairs.iter().map(|(k, v)| (k.clone(), from_json(v, depth + 1))).collect())
        }
        J::Null => Value::Unknown,
    }
}

/// A TOML file (`tomllib.load`).
pub fn toml(text: &str) -> Option<Value> {
    let table: toml::Table = text.parse().ok()?;
    Some(from_toml(&toml::Value::Table(table), 0))
}

fn from_toml(node: &toml::Value, depth: usize) -> Value {
    use toml::Value as T;
    if depth > MAX_DEPTH {
        return Value::Unknown;
    }
    match node {
        T::String(s) => Value::Str(s.clone()),
        T::Integer(i) => Value::Str(i.to_string()),
        T::Float(f) => Value::Str(f.to_string()),
        T::Boolean(b) => Value::Str(if *b { "True" } else { "False" }.to_string()),
        T::Datetime(d) => Value::Str(d.to_string()),
        T::Array(items) => Value::List(items.iter().map(|i| from_toml(i, depth + 1)).collect()),
        T::Table(pairs) => {
            Value::Dict(pairs.iter().map(|(k, v)| (k.clone(), from_toml(v, depth + 1))).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'v>(value: &'v Value, key: &str) -> Option<&'v Value> {
        match value {
            Value::Dict(pairs) => pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    #[test]
    fn the_three_formats_give_nested_dicts_of_text() {
        let yaml = yaml("paths:\n  orders: data/orders.csv\nport: 5432\n").unwrap();
        assert_eq!(
            get(get(&yaml, "paths").unwrap(), "orders"),
            Some(&Value::Str("data/orders.csv".into()))
        );
        assert_eq!(get(&yaml, "port"), Some(&Value::Str("5432".into())));
        let json = json(r#"{"table": "sales.orders", "ids": [1, 2]}"#).unwrap();
        assert_eq!(get(&json, "table"), Some(&Value::Str("sales.orders".into())));
        let toml = toml("[db]\ntable = \"t\"\n").unwrap();
        assert_eq!(get(get(&toml, "db").unwrap(), "table"), Some(&Value::Str("t".into())));
    }

    #[test]
    fn broken_files_give_nothing() {
        assert_eq!(yaml("a: [1, 2"), None);
        assert_eq!(json("{"), None);
        assert_eq!(toml("a = "), None);
    }
}
