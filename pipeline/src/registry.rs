//! Typed columns for the properties the schema registry declares.
//!
//! Every property of every `schemas/events/*.json` becomes one column of the
//! raw table, named in snake_case and typed from its JSON Schema `type`.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use serde_json::Value;

use crate::error::PipelineError;

/// Column names of the raw table that typed columns must not take.
pub const BASE_COLUMNS: &[&str] = &[
    "event_id",
    "event_name",
    "type",
    "user_id",
    "anonymous_id",
    "person_id",
    "session_id",
    "event_time",
    "client_timestamp",
    "sent_at",
    "received_at",
    "source",
    "properties",
    "context",
    "traits",
    "previous_id",
    "group_id",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "referrer",
    "late",
    "log_offset",
    "date",
    "hour",
    "event",
];

/// The Parquet type of a typed column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// UTF-8 text.
    Text,
    /// 64-bit integer.
    Integer,
    /// 64-bit float.
    Number,
    /// Boolean.
    Boolean,
}

/// One typed column: the property it comes from and its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypedColumn {
    /// Property name in `properties` (camelCase as sent).
    pub property: String,
    /// Column name (snake_case).
    pub column: String,
    /// Value type.
    pub kind: ColumnType,
}

/// The typed columns, in column order, with a lookup by property name.
#[derive(Debug, Clone, Default)]
pub struct TypedColumns {
    columns: Vec<TypedColumn>,
    by_property: FxHashMap<String, usize>,
}

impl TypedColumns {
    /// The columns of the schemas embedded at build time (`spoor_schemas`).
    pub fn embedded() -> Result<Self, PipelineError> {
        Self::from_files(spoor_schemas::EMBEDDED_SCHEMAS.iter().copied())
    }

    /// Columns from `(file name, JSON text)` schema files.
    pub fn from_files<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, PipelineError> {
        let mut kinds: BTreeMap<String, Option<ColumnType>> = BTreeMap::new();
        for (file, text) in files {
            let schema: Value = serde_json::from_str(text).map_err(|e| PipelineError::Schema {
                file: file.to_string(),
                message: e.to_string(),
            })?;
            let Some(props) = schema["properties"].as_object() else {
                continue;
            };
            for (name, prop) in props {
                let kind = match prop["type"].as_str() {
                    Some("string") => Some(ColumnType::Text),
                    Some("integer") => Some(ColumnType::Integer),
                    Some("number") => Some(ColumnType::Number),
                    Some("boolean") => Some(ColumnType::Boolean),
                    _ => None,
                };
                let merged = match kinds.get(name) {
                    None => kind,
                    Some(prev) => merge(*prev, kind),
                };
                kinds.insert(name.clone(), merged);
            }
        }
        let mut columns: Vec<TypedColumn> = kinds
            .into_iter()
            .filter(|(name, _)| name != "referrer")
            .map(|(property, kind)| {
                let mut column = snake_case(&property);
                if BASE_COLUMNS.contains(&column.as_str()) {
                    column = format!("prop_{column}");
                }
                TypedColumn {
                    property,
                    column,
                    kind: kind.unwrap_or(ColumnType::Text),
                }
            })
            .collect();
        columns.sort_by(|a, b| a.column.cmp(&b.column));
        columns.dedup_by(|a, b| a.column == b.column);
        let by_property = columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.property.clone(), i))
            .collect();
        Ok(TypedColumns {
            columns,
            by_property,
        })
    }

    /// The columns in order.
    pub fn columns(&self) -> &[TypedColumn] {
        &self.columns
    }

    /// Index of the column fed by `property`.
    pub fn index_of(&self, property: &str) -> Option<usize> {
        self.by_property.get(property).copied()
    }
}

fn merge(a: Option<ColumnType>, b: Option<ColumnType>) -> Option<ColumnType> {
    use ColumnType::*;
    match (a, b) {
        (Some(x), Some(y)) if x == y => Some(x),
        (Some(Integer | Number), Some(Integer | Number)) => Some(Number),
        _ => Some(Text),
    }
}

/// `productId` → `product_id`, `cartValue` → `cart_value`, `utm-source` → `utm_source`.
pub fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut prev_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
            prev_lower = true;
        } else {
            out.push('_');
            prev_lower = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_plan_has_typed_columns() {
        let cols = TypedColumns::embedded().unwrap();
        let find = |c: &str| cols.columns().iter().find(|x| x.column == c).cloned();
        assert_eq!(find("product_id").unwrap().kind, ColumnType::Text);
        assert_eq!(find("revenue").unwrap().kind, ColumnType::Number);
        assert_eq!(find("items").unwrap().kind, ColumnType::Integer);
        assert!(
            find("referrer").is_none(),
            "referrer feeds the campaign column"
        );
        assert_eq!(
            cols.index_of("productId"),
            cols.columns().iter().position(|c| c.column == "product_id")
        );
    }

    #[test]
    fn conflicting_types_widen() {
        let cols = TypedColumns::from_files([
            ("a", r#"{"properties": {"n": {"type": "integer"}, "s": {"type": "string"}, "source": {"type": "string"}}}"#),
            ("b", r#"{"properties": {"n": {"type": "number"}, "s": {"type": "integer"}}}"#),
        ])
        .unwrap();
        let kinds: Vec<_> = cols
            .columns()
            .iter()
            .map(|c| (c.column.as_str(), c.kind))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("n", ColumnType::Number),
                ("prop_source", ColumnType::Text),
                ("s", ColumnType::Text)
            ]
        );
        assert_eq!(snake_case("cartValue"), "cart_value");
    }
}
