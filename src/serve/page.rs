//! The small HTML pages: `/` lists the modules and the recent probes, `/report?id=N` shows one
//! probe's full JSON report. Every string is HTML-escaped (targets and reports hold text from
//! the network and from whoever sent the scrape).

use std::fmt::Write;
use std::time::SystemTime;

use super::Exporter;
use super::exporter::Recent;

/// `&`, `<`, `>`, `"`, `'` as character references (HTML Living Standard, "Escaping a string").
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn head(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}</title></head><body>\n",
        escape(title)
    )
}

fn age(at: SystemTime) -> String {
    let s = at.elapsed().map(|d| d.as_secs()).unwrap_or(0);
    format!("{s} s ago")
}

/// `GET /`.
pub fn index(e: &Exporter) -> String {
    let mut out = head("mailprobe exporter");
    out.push_str("<h1>mailprobe exporter</h1>\n<p><a href=\"/metrics\">Exporter metrics</a></p>\n");
    out.push_str("<h2>Modules</h2>\n<table border=\"1\"><tr><th>module</th><th>command</th><th>timeout</th><th>deadline</th><th>min interval</th></tr>\n");
    for m in e.modules() {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{} s</td><td>{} s</td><td>{} s</td></tr>",
            escape(&m.name),
            format!("{:?}", m.command).to_lowercase(),
            m.settings.net.timeout.as_secs_f64(),
            m.settings.net.deadline.as_secs_f64(),
            m.min_interval.as_secs_f64()
        );
    }
    out.push_str("</table>\n<h2>Recent probes</h2>\n<table border=\"1\"><tr><th>when</th><th>module</th><th>target</th><th>status</th><th>ms</th><th>report</th></tr>\n");
    for r in e.recent() {
        row(&mut out, &r);
    }
    out.push_str("</table>\n</body></html>\n");
    out
}

fn row(out: &mut String, r: &Recent) {
    let _ = writeln!(
        out,
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><a href=\"/report?id={}\">JSON</a></td></tr>",
        age(r.at),
        escape(&r.module),
        escape(&r.target),
        r.report.status.as_str(),
        r.report.elapsed_ms,
        r.id
    );
}

/// `GET /report?id=N`: the JSON report inside `<pre>`, escaped.
pub fn report(r: &Recent) -> String {
    let mut out = head(&format!("mailprobe {} {}", r.module, r.target));
    let _ = writeln!(
        out,
        "<h1>{} — {}</h1>\n<p>module {}, {}, status {} (<a href=\"/report?id={}&amp;format=json\">raw JSON</a>, <a href=\"/\">back</a>)</p>",
        escape(&r.report.command),
        escape(&r.target),
        escape(&r.module),
        age(r.at),
        r.report.status.as_str(),
        r.id
    );
    let json = serde_json::to_string_pretty(&*r.report).unwrap_or_default();
    let _ = writeln!(out, "<pre>{}</pre>\n</body></html>", escape(&json));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<script>alert('x')</script>&\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"
        );
    }
}
