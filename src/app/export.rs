//! `mailprobe export ADDRESS --to FORMAT`: run a check (or, with `--from-discovery`, only
//! discovery) and write the settings as a client or server document ([`crate::report::export`]).
//! What is exported by default is what the check found working; a check that found nothing
//! exports nothing (a usage error saying why, rather than an untested file).

use std::io::Write;

use super::creds::{self, Need};
use super::{AppError, ExportTask, Io, Settings, check, discover_report};
use crate::model::{Candidate, Discovery, Report, Setting, Status};
use crate::net::Net;
use crate::report::export::{self, Export, Origin};

/// Run the export task, writing the document to `out`; the status is the check's (or the
/// discovery's).
pub async fn run(
    s: &Settings,
    t: &ExportTask,
    io: &mut Io<'_>,
    out: &mut dyn Write,
) -> Result<Status, AppError> {
    let addr = check::parse_address(&t.address)?;
    let mut creds = creds::credentials(&s.credentials, Need::IfGiven, io)?;
    let net = Net::new(s.net.clone())?;
    let (report, settings, origin) = if t.from_discovery {
        let r = discover_report(&net, &addr).await;
        let settings = top_candidates(&r.discovery);
        (r, settings, Origin::Discovery)
    } else {
        // `--oauth`: the check logs in with the stored token, so what is exported is what
        // that login verified; a token the provider refused exports nothing.
        if let Some(refused) = super::with_stored_token(s, &net, Some(&addr), &mut creds).await? {
            let hint = refused.hint.map(|h| format!(" ({h})")).unwrap_or_default();
            return Err(AppError::Usage(format!("{}{hint}", refused.message)));
        }
        let opts = check::probe_options(s, &creds, Some(&addr), &net);
        let mut r = check::check(&net, &addr, &opts).await;
        r.apply_thresholds(&s.thresholds);
        let settings = r.settings.clone().unwrap_or_default();
        (r, settings, Origin::Verified)
    };
    if settings.incoming.is_none() && settings.outgoing.is_none() {
        return Err(AppError::Usage(nothing_to_export(
            &report,
            t.from_discovery,
        )));
    }
    let password = if t.include_password {
        creds.password.as_ref().map(|p| p.expose())
    } else {
        None
    };
    let display_name = report
        .discovery
        .provider
        .as_ref()
        .map(|p| p.name.clone())
        .unwrap_or_else(|| addr.domain.clone());
    let doc = Export {
        local: &addr.local,
        domain: &addr.domain,
        display_name: &display_name,
        settings: &settings,
        origin,
        password,
    };
    out.write_all(export::render(&doc, t.format).as_bytes())
        .map_err(|e| AppError::Usage(format!("cannot write the export: {e}")))?;
    Ok(report.status)
}

/// The first incoming and the first outgoing candidate, in discovery's ranking order.
pub(crate) fn top_candidates(d: &Discovery) -> crate::model::Settings {
    let pick = |incoming: bool| {
        d.candidates
            .iter()
            .find(|c| c.protocol.is_incoming() == incoming)
            .map(setting_of)
    };
    crate::model::Settings {
        incoming: pick(true),
        outgoing: pick(false),
    }
}

fn setting_of(c: &Candidate) -> Setting {
    Setting {
        protocol: c.protocol,
        host: c.host.trim_end_matches('.').to_string(),
        port: c.port,
        security: c.security,
        username: c.username.clone(),
        auth: c.auth.clone(),
    }
}

fn nothing_to_export(r: &Report, from_discovery: bool) -> String {
    if from_discovery {
        format!(
            "nothing to export: discovery found no candidate for {}",
            r.domain.as_deref().unwrap_or("the domain")
        )
    } else {
        "nothing to export: the check found no working server (run `mailprobe check` to see why, or export the untested candidates with --from-discovery)".into()
    }
}
