//! The JSON Schema of the report, generated from the Rust types (schemars) so the two cannot
//! drift; `schema/report.schema.json` is the committed copy, checked by a test.

/// The schema as pretty JSON.
pub fn report_schema() -> String {
    let schema = schemars::schema_for!(crate::model::Report);
    let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
    s.push('\n');
    s
}
