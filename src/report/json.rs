//! JSON renderer: one pretty document per report (the schema is the serde model; see
//! `schema/report.schema.json` and the README).

use super::Report;

pub fn render(report: &Report) -> String {
    let mut s =
        serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

/// A JSON document for a run that could not start (exit 3): monitoring jobs still get JSON.
pub fn render_error(message: &str, hint: Option<&str>) -> String {
    let v = serde_json::json!({
        "schema_version": super::SCHEMA_VERSION,
        "status": "unknown",
        "error": message,
        "hint": hint,
    });
    format!("{}\n", serde_json::to_string_pretty(&v).unwrap_or_default())
}
