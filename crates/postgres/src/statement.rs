//! Hand-written SQL whose values are all bound, and which a connection may keep prepared.
//!
//! diesel marks raw SQL (`sql`, `sql_query`) unsafe to cache, so every execution of it is parsed and planned
//! afresh and costs an extra round trip to prepare; a search made of such statements spent more time planning
//! than running. A [`Statement`] built with [`Statement::prepared`] has a text that depends only on its shape,
//! so diesel-async prepares it once per connection (keyed by the text) and PostgreSQL can settle on a generic
//! plan. [`Statement::one_off`] is for statements whose best plan depends on the values (how common a pattern
//! is): they are planned for each execution.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::marker::PhantomData;

use diesel::QueryResult;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Double, Integer, Nullable, Text, Untyped};
use uuid::Uuid;

/// A value bound to a statement.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Bind {
    Text(String),
    Texts(Vec<String>),
    Uuid(Uuid),
    Double(f64),
    BigInt(i64),
    // Columns of a batch, one element per row (see `foods::upsert_foods`).
    Uuids(Vec<Uuid>),
    OptionalTexts(Vec<Option<String>>),
    OptionalDoubles(Vec<Option<f64>>),
    Integers(Vec<i32>),
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Sql(Cow<'static, str>),
    Bind(Bind),
}

/// SQL text and bound values, in order. `Row` is the SQL type of its rows when they are read by position
/// (cheaper than by column name, which looks each column up among all of them), `Untyped` otherwise.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Statement<Row = Untyped> {
    parts: Vec<Part>,
    cacheable: bool,
    row: PhantomData<Row>,
}

impl Statement {
    /// A statement to keep prepared on the connection.
    pub(crate) fn prepared() -> Self {
        Self {
            parts: Vec::new(),
            cacheable: true,
            row: PhantomData,
        }
    }

    /// A statement planned with its values at every execution.
    pub(crate) fn one_off() -> Self {
        Self {
            parts: Vec::new(),
            cacheable: false,
            row: PhantomData,
        }
    }

    /// The statement, its rows read by position as `Row`: the select list must match it column for column.
    pub(crate) fn returning<Row>(self) -> Statement<Row> {
        Statement {
            parts: self.parts,
            cacheable: self.cacheable,
            row: PhantomData,
        }
    }
}

impl<Row> Statement<Row> {
    pub(crate) fn sql(&mut self, sql: impl Into<Cow<'static, str>>) -> &mut Self {
        self.parts.push(Part::Sql(sql.into()));
        self
    }

    pub(crate) fn bind(&mut self, value: Bind) -> &mut Self {
        self.parts.push(Part::Bind(value));
        self
    }

    /// The text with `$n` placeholders and the values as SQL literals, for `PREPARE … AS` and `EXECUTE …(…)`:
    /// how tests see the plan PostgreSQL makes for the statement without knowing its values.
    pub(crate) fn with_literals(&self) -> (String, Vec<String>) {
        let mut text = String::new();
        let mut literals = Vec::new();
        for part in &self.parts {
            match part {
                Part::Sql(sql) => text.push_str(sql),
                Part::Bind(value) => {
                    literals.push(literal(value));
                    let _ = write!(text, "${}", literals.len());
                }
            }
        }
        (text, literals)
    }
}

fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn literal(value: &Bind) -> String {
    match value {
        Bind::Text(text) => format!("{}::text", quoted(text)),
        Bind::Texts(texts) => array_literal(texts, |text| quoted(text), "text"),
        Bind::Uuid(id) => format!("'{id}'::uuid"),
        Bind::Double(value) => format!("{value:?}::float8"),
        Bind::BigInt(value) => format!("{value}::int8"),
        Bind::Uuids(ids) => array_literal(ids, |id| format!("'{id}'"), "uuid"),
        Bind::OptionalTexts(texts) => array_literal(
            texts,
            |text| text.as_deref().map_or_else(|| "NULL".to_owned(), quoted),
            "text",
        ),
        Bind::OptionalDoubles(values) => array_literal(
            values,
            |value| value.map_or_else(|| "NULL".to_owned(), |v| format!("{v:?}")),
            "float8",
        ),
        Bind::Integers(values) => array_literal(values, ToString::to_string, "int4"),
    }
}

fn array_literal<T>(items: &[T], literal: impl Fn(&T) -> String, sql_type: &str) -> String {
    let items: Vec<String> = items.iter().map(literal).collect();
    format!("ARRAY[{}]::{sql_type}[]", items.join(", "))
}

impl<Row> QueryFragment<Pg> for Statement<Row> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        if !self.cacheable {
            out.unsafe_to_cache_prepared();
        }
        for part in &self.parts {
            match part {
                Part::Sql(sql) => out.push_sql(sql),
                Part::Bind(Bind::Text(value)) => out.push_bind_param::<Text, _>(value)?,
                Part::Bind(Bind::Texts(values)) => {
                    out.push_bind_param::<Array<Text>, _>(values)?;
                }
                Part::Bind(Bind::Uuid(value)) => {
                    out.push_bind_param::<diesel::sql_types::Uuid, _>(value)?;
                }
                Part::Bind(Bind::Double(value)) => out.push_bind_param::<Double, _>(value)?,
                Part::Bind(Bind::BigInt(value)) => out.push_bind_param::<BigInt, _>(value)?,
                Part::Bind(Bind::Uuids(values)) => {
                    out.push_bind_param::<Array<diesel::sql_types::Uuid>, _>(values)?;
                }
                Part::Bind(Bind::OptionalTexts(values)) => {
                    out.push_bind_param::<Array<Nullable<Text>>, _>(values)?;
                }
                Part::Bind(Bind::OptionalDoubles(values)) => {
                    out.push_bind_param::<Array<Nullable<Double>>, _>(values)?;
                }
                Part::Bind(Bind::Integers(values)) => {
                    out.push_bind_param::<Array<Integer>, _>(values)?;
                }
            }
        }
        Ok(())
    }
}

impl<Row> QueryId for Statement<Row> {
    type QueryId = ();
    // The text varies with the shape: diesel-async then caches by text.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Row: 'static> Query for Statement<Row> {
    type SqlType = Row;
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn literals_number_the_placeholders_in_order_and_quote_text() {
        let mut statement = Statement::prepared();
        statement
            .sql("SELECT 1 WHERE a = ")
            .bind(Bind::Text("it's".into()))
            .sql(" AND b && ")
            .bind(Bind::Texts(vec!["x".into(), "y".into()]))
            .sql(" LIMIT ")
            .bind(Bind::BigInt(21));
        let (text, literals) = statement.with_literals();
        assert_eq!(text, "SELECT 1 WHERE a = $1 AND b && $2 LIMIT $3");
        assert_eq!(
            literals,
            ["'it''s'::text", "ARRAY['x', 'y']::text[]", "21::int8"]
        );
    }

    #[test]
    fn only_one_off_statements_are_kept_from_the_statement_cache() {
        let mut prepared = Statement::prepared();
        prepared.sql("SELECT ").bind(Bind::Double(1.5));
        let mut one_off = Statement::one_off();
        one_off.sql("SELECT ").bind(Bind::Double(1.5));
        assert!(prepared.is_safe_to_cache_prepared(&Pg).unwrap());
        assert!(!one_off.is_safe_to_cache_prepared(&Pg).unwrap());
    }
}
