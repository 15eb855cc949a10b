//! `check`, `probe` and `roundtrip`: discovery, then probing (with logins when credentials are
//! given), then the verdict; the round trip on top of a working pair of servers.

use std::sync::Arc;
use std::time::Instant;

use futures::FutureExt;
use tokio::sync::watch;

use crate::address::{self, Address};
use crate::audit::receiving::{self, ReceivingOptions};
use crate::auth::{self, Authenticator, Credentials};
use crate::discover::{self, Discovered};
use crate::model::{Candidate, Finding, FindingCode, Outcome, Report, Severity, Status};
use crate::net::Net;
use crate::probe::schedule::hold_until;
use crate::probe::{self, Feed, ProbeOptions, ProbeRun};
use crate::roundtrip::{self, RoundtripOptions};

use super::{AppError, Settings};

/// Probe options shared by `check`, `probe`, `roundtrip` and batch mode; logins when `creds`
/// has something to log in with and `addr` gives the user names.
pub(crate) fn probe_options(
    s: &Settings,
    creds: &Credentials,
    addr: Option<&Address>,
    net: &Arc<Net>,
) -> ProbeOptions {
    let login: Option<Arc<dyn probe::LoginHook>> = match addr {
        Some(a) if creds.present() => Some(Arc::new(
            Authenticator::new(creds.clone(), a).with_net(net.clone()),
        )),
        _ => None,
    };
    ProbeOptions {
        transcript: s.output.transcript,
        warn_cert_days: s.thresholds.warn_cert_days,
        concurrency: s.net.concurrency.max(1),
        per_host: s.per_host.max(1),
        login,
        ..ProbeOptions::default()
    }
}

/// Fold a probe run into the report: probes, settings (login-checked when credentials were
/// given), findings and the status.
pub(crate) fn apply_run(report: &mut Report, run: ProbeRun, with_login: bool) {
    let status = probe::status_of(&run);
    let settings = if with_login {
        auth::settings_with_login(&run.probes, run.settings)
    } else {
        run.settings
    };
    report.findings.extend(run.findings);
    if with_login {
        report.findings.extend(auth::login_findings(&run.probes));
    }
    report.probes = run.probes;
    let none = |s: &Option<crate::model::Setting>| s.is_none();
    let critical = none(&settings.incoming) || none(&settings.outgoing);
    report.settings = Some(settings);
    report.status = if critical {
        Status::Critical
    } else {
        status.max(report.status_from_findings())
    };
}

/// `mailprobe check ADDRESS` with a discovery already done (batch mode: cached per domain).
pub(crate) async fn check_address(
    net: &Arc<Net>,
    addr: &Address,
    discovered: Discovered,
    opts: &ProbeOptions,
    started: Instant,
) -> Report {
    let run = probe::probe_all(net.clone(), &discovered.discovery.candidates, opts).await;
    check_report(addr, discovered, run, opts, started)
}

fn check_report(
    addr: &Address,
    discovered: Discovered,
    run: ProbeRun,
    opts: &ProbeOptions,
    started: Instant,
) -> Report {
    let mut report = Report::new("check", &addr.ascii(), &addr.domain);
    report.domain_unicode = addr.domain_unicode.clone();
    report.discovery = discovered.discovery;
    report.findings = discovered.findings;
    apply_run(&mut report, run, opts.login.is_some());
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    report
}

/// `mailprobe check ADDRESS`: discovery pipelined into probing — each source's candidates are
/// probed as soon as that source answers, and the run ends when the slowest source and the
/// slowest probe it needs are done. With `--concurrency 1` (one lookup or connection at a time)
/// discovery finishes before the first probe starts. No Receiving section (see
/// [`check_receiving`]).
pub async fn check(net: &Arc<Net>, addr: &Address, opts: &ProbeOptions) -> Report {
    check_with(net, addr, opts, Instant::now(), |_| {}).await
}

/// [`check`] with the Receiving section (`receiving`: None with `--no-receiving`): the MX
/// hosts of the address's domain probed on port 25 beside the check, from the start, and cut
/// once the verdict is ready and its hold has passed ([`hold_until`]: with the report and the
/// exit, at most [`PORT25_HOLD`](crate::probe::schedule::PORT25_HOLD) past the verdict) — port
/// 25 is information, not the verdict. Its findings are weighed by [`receiving::for_check`] and
/// join the report's.
pub async fn check_receiving(
    net: &Arc<Net>,
    addr: &Address,
    opts: &ProbeOptions,
    receiving: Option<&ReceivingOptions>,
) -> Report {
    let started = Instant::now();
    let Some(ro) = receiving else {
        return check_with(net, addr, opts, started, |_| {}).await;
    };
    let (tx, rx) = watch::channel(false);
    let opts = ProbeOptions {
        verdict_ready: Some(Arc::new(tx)),
        ..opts.clone()
    };
    let stop = async move {
        let mut rx = rx;
        // The sender gone without the signal: the run is over, so the verdict is ready too.
        let _ = rx.wait_for(|ready| *ready).await;
        tokio::time::sleep_until(hold_until(tokio::time::Instant::now())).await;
    }
    .boxed()
    .shared();
    let section = receiving::receiving(net, &addr.domain, ro, stop);
    let (mut report, (inbound, findings)) = if net.cfg.concurrency <= 1 || opts.concurrency <= 1 {
        // One lookup or connection at a time: the section comes after the verdict.
        let report = check_with(net, addr, &opts, started, |_| {}).await;
        (report, section.await)
    } else {
        tokio::join!(check_with(net, addr, &opts, started, |_| {}), section)
    };
    report.inbound = Some(inbound);
    report.findings.extend(findings);
    report.status = report.status.max(report.status_from_findings());
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    report
}

/// [`check`], handing the finished discovery to `publish` as soon as it is complete, while the
/// probes may still run (batch mode shares it with the other addresses of the domain).
pub(crate) async fn check_with(
    net: &Arc<Net>,
    addr: &Address,
    opts: &ProbeOptions,
    started: Instant,
    publish: impl FnOnce(&Discovered) + Send,
) -> Report {
    if net.cfg.concurrency <= 1 || opts.concurrency <= 1 {
        let discovered = discover::discover(net, addr).await;
        publish(&discovered);
        return check_address(net, addr, discovered, opts, started).await;
    }
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let discovery = async {
        let found = |v: Vec<Candidate>| {
            let _ = tx.send(Feed::Found(v));
        };
        let d = discover::discover_with(net, addr, &found).await;
        let _ = tx.send(Feed::Settled(d.discovery.candidates.clone()));
        publish(&d);
        d
    };
    let (discovered, run) = tokio::join!(discovery, probe::probe_feed(net.clone(), rx, opts));
    check_report(addr, discovered, run, opts, started)
}

/// `mailprobe probe URL…`: the given servers only; OK when every one works with valid TLS.
pub(crate) async fn probe_urls(
    net: &Arc<Net>,
    urls: &[String],
    opts: &ProbeOptions,
) -> Result<Report, AppError> {
    let started = Instant::now();
    let cands: Vec<Candidate> = urls
        .iter()
        .map(|u| probe::parse_url(u).map_err(|e| AppError::Usage(e.to_string())))
        .collect::<Result<_, _>>()?;
    // No address and no domain: the report is about the servers named.
    let mut report = Report::for_servers("probe");
    report.discovery.candidates = cands.clone();
    let run = probe::probe_all(net.clone(), &cands, opts).await;
    report.findings.extend(
        run.findings
            .iter()
            .filter(|f| !matches!(f.code, FindingCode::NoIncoming | FindingCode::NoOutgoing))
            .cloned(),
    );
    if opts.login.is_some() {
        report.findings.extend(auth::login_findings(&run.probes));
    }
    for p in &run.probes {
        if let Outcome::Failed { phase, error, hint } = &p.outcome {
            let mut f = Finding::new(
                Severity::Critical,
                FindingCode::ProbeFailed,
                format!(
                    "{}://{}:{} failed at {phase}: {error}",
                    p.protocol.as_str(),
                    p.host,
                    p.port
                ),
            );
            f.hint = hint.clone();
            report.findings.push(f);
        }
    }
    // The settings the named servers make up: the best working one of each direction (null
    // when none of the named servers works for it, or none was named).
    report.settings = Some(if opts.login.is_some() {
        auth::settings_with_login(&run.probes, run.settings)
    } else {
        run.settings
    });
    report.probes = run.probes;
    report.status = report.status_from_findings();
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(report)
}

/// `mailprobe roundtrip ADDRESS`: check with login, then send and fetch back.
pub async fn roundtrip(
    net: &Arc<Net>,
    addr: &Address,
    creds: &Credentials,
    opts: &ProbeOptions,
    rt: &RoundtripOptions,
) -> Report {
    let started = Instant::now();
    let mut report = check(net, addr, opts).await;
    report.command = "roundtrip".into();
    let settings = report.settings.clone().unwrap_or_default();
    match (settings.outgoing, settings.incoming) {
        (Some(out), Some(inc)) => {
            let r = roundtrip::run(net.clone(), addr, &out, &inc, creds, rt).await;
            report.findings.extend(r.findings.iter().cloned());
            report.roundtrip = Some(r);
            report.status = report.status.max(report.status_from_findings());
        }
        _ => {
            report.findings.push(
                Finding::new(Severity::Critical, FindingCode::RoundtripNotStarted, "no working incoming and outgoing pair to test with")
                    .hint("Fix the settings `mailprobe check` reports first; a round trip needs both to log in."),
            );
            report.status = Status::Critical;
        }
    }
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    report
}

/// `roundtrip --oauth` whose access token could not be refreshed: the check without a login,
/// and no test message sent (a submission without credentials would only be refused).
pub async fn roundtrip_without_token(
    net: &Arc<Net>,
    addr: &Address,
    opts: &ProbeOptions,
) -> Report {
    let mut report = check(net, addr, opts).await;
    report.command = "roundtrip".into();
    report.findings.push(
        Finding::new(
            Severity::Critical,
            FindingCode::RoundtripNotStarted,
            "no OAuth2 access token to log in with: no test message was sent",
        )
        .hint(format!(
            "Sign in again with `mailprobe oauth login {}`, then run the round trip.",
            addr.ascii()
        )),
    );
    report.status = Status::Critical;
    report
}

/// Parse the address or fail as a usage error.
pub(crate) fn parse_address(s: &str) -> Result<Address, AppError> {
    Ok(address::parse(s)?)
}
