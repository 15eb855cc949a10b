//! Merging and ranking candidates, and the findings from comparing sources, on hand-made lists.

use super::*;

fn c(p: Protocol, host: &str, port: u16, sec: Security, src: &[Source]) -> Candidate {
    Candidate {
        protocol: p,
        host: host.into(),
        port,
        security: sec,
        username: None,
        auth: vec![],
        sources: src.to_vec(),
    }
}

#[test]
fn merges_and_ranks() {
    let v = merge(vec![
        c(
            Protocol::Smtp,
            "mail.example.com",
            25,
            Security::Starttls,
            &[Source::Guess],
        ),
        c(
            Protocol::Imap,
            "imap.example.com",
            143,
            Security::Starttls,
            &[Source::Autoconfig],
        ),
        c(
            Protocol::Imap,
            "IMAP.example.com.",
            993,
            Security::Tls,
            &[Source::Srv],
        ),
        c(
            Protocol::Imap,
            "imap.example.com",
            993,
            Security::Tls,
            &[Source::Autoconfig],
        ),
        c(
            Protocol::Smtp,
            "smtp.example.com",
            587,
            Security::Starttls,
            &[Source::Autoconfig],
        ),
        c(
            Protocol::Smtp,
            "smtp.example.com",
            465,
            Security::Tls,
            &[Source::AutoconfigHttp],
        ),
    ]);
    let keys: Vec<String> = v.iter().map(|c| format!("{}:{}", c.host, c.port)).collect();
    assert_eq!(
        keys,
        [
            "imap.example.com:993",
            "imap.example.com:143",
            "smtp.example.com:587",
            "smtp.example.com:465",
            "mail.example.com:25"
        ]
    );
    assert_eq!(v[0].sources, vec![Source::Autoconfig, Source::Srv]);
}

#[test]
fn disagreement_and_plaintext() {
    let v = merge(vec![
        c(
            Protocol::Imap,
            "mail.example.com",
            143,
            Security::Plain,
            &[Source::Autoconfig],
        ),
        c(
            Protocol::Imap,
            "imap.example.com",
            993,
            Security::Tls,
            &[Source::Srv],
        ),
        c(
            Protocol::Pop3,
            "pop.example.com",
            110,
            Security::Plain,
            &[Source::Autoconfig],
        ),
    ]);
    let f = findings(&v);
    let codes: Vec<&str> = f.iter().map(|f| f.code.as_str()).collect();
    assert_eq!(codes, ["sources-disagree", "plaintext-only"]);
    assert!(
        f[0].message
            .contains("autoconfig says imap mail.example.com:143"),
        "{}",
        f[0].message
    );
}

fn hosts(v: &[Candidate]) -> Vec<String> {
    v.iter().map(|c| format!("{}:{}", c.host, c.port)).collect()
}

/// (input, in each source's own order) → expected ranking.
#[test]
fn each_source_keeps_its_own_order() {
    use Protocol::{Imap, Smtp};
    use Security::{Starttls, Tls};
    use Source::{Autoconfig, AutoconfigHttp, Guess, ProviderDb, Srv};
    let table: Vec<(&str, Vec<Candidate>, Vec<&str>)> = vec![
        (
            "SRV: priority 0 before priority 10, whatever the names",
            vec![
                c(Imap, "store.example", 993, Tls, &[Srv]),
                c(Imap, "backup.example", 993, Tls, &[Srv]),
            ],
            vec!["store.example:993", "backup.example:993"],
        ),
        (
            "provider file: its first server first",
            vec![
                c(Imap, "imap.mail.yahoo.com", 993, Tls, &[ProviderDb]),
                c(Imap, "export.imap.mail.yahoo.com", 993, Tls, &[ProviderDb]),
                c(Smtp, "smtp.mail.yahoo.com", 465, Tls, &[ProviderDb]),
            ],
            vec![
                "imap.mail.yahoo.com:993",
                "export.imap.mail.yahoo.com:993",
                "smtp.mail.yahoo.com:465",
            ],
        ),
        (
            "autoconfig: document order; positions count per protocol",
            vec![
                c(Smtp, "z-out.example", 465, Tls, &[Autoconfig]),
                c(Imap, "z-in.example", 993, Tls, &[Autoconfig]),
                c(Imap, "a-in.example", 993, Tls, &[Autoconfig]),
            ],
            vec!["z-in.example:993", "a-in.example:993", "z-out.example:465"],
        ),
        (
            "Autodiscover: the order of its Protocol elements",
            vec![
                c(Imap, "z-in.example", 993, Tls, &[Source::Autodiscover]),
                c(Imap, "a-in.example", 993, Tls, &[Source::Autodiscover]),
            ],
            vec!["z-in.example:993", "a-in.example:993"],
        ),
        (
            "sources that agree beat a source's first position",
            vec![
                c(Imap, "first.example", 993, Tls, &[Autoconfig]),
                c(Imap, "second.example", 993, Tls, &[Autoconfig]),
                c(Imap, "second.example", 993, Tls, &[Srv]),
            ],
            vec!["second.example:993", "first.example:993"],
        ),
        (
            "the most trusted source's position counts, not a later source's",
            vec![
                c(Imap, "b.example", 993, Tls, &[Srv]),
                c(Imap, "a.example", 993, Tls, &[Srv]),
                c(Imap, "a.example", 993, Tls, &[ProviderDb]),
                c(Imap, "b.example", 993, Tls, &[ProviderDb]),
            ],
            vec!["a.example:993", "b.example:993"],
        ),
        (
            "trusted STARTTLS before untrusted TLS; security before position",
            vec![
                c(Imap, "evil.example", 993, Tls, &[AutoconfigHttp]),
                c(Imap, "plainer.example", 143, Starttls, &[Srv]),
                c(Imap, "tls.example", 993, Tls, &[Srv]),
                c(Imap, "guess.example", 993, Tls, &[Guess]),
            ],
            vec![
                "tls.example:993",
                "plainer.example:143",
                "evil.example:993",
                "guess.example:993",
            ],
        ),
        (
            "the host name only breaks a tie between equal positions",
            vec![
                c(Imap, "b.example", 993, Tls, &[Guess]),
                c(Imap, "a.example", 993, Tls, &[Guess]),
            ],
            vec!["b.example:993", "a.example:993"],
        ),
    ];
    for (what, input, want) in table {
        assert_eq!(hosts(&merge(input)), want, "{what}");
    }
}

#[test]
fn unverified_provider_entries_rank_below_confirmed_sources() {
    let unverified = vec![
        c(
            Protocol::Imap,
            "imap.db.test",
            993,
            Security::Tls,
            &[Source::ProviderDb],
        ),
        c(
            Protocol::Imap,
            "imap.both.test",
            993,
            Security::Tls,
            &[Source::ProviderDb],
        ),
    ];
    let all = vec![
        c(
            Protocol::Imap,
            "imap.srv.test",
            143,
            Security::Starttls,
            &[Source::Srv],
        ),
        c(
            Protocol::Imap,
            "imap.guess.test",
            993,
            Security::Tls,
            &[Source::Guess],
        ),
        c(
            Protocol::Imap,
            "imap.both.test",
            993,
            Security::Tls,
            &[Source::Ispdb],
        ),
    ];
    let v = merge_weighed(all.clone(), unverified.clone());
    // A fetched source confirms imap.both.test; STARTTLS from SRV still beats the
    // unconfirmed implicit-TLS entry, which beats a guess (untrusted).
    assert_eq!(
        hosts(&v),
        [
            "imap.both.test:993",
            "imap.srv.test:143",
            "imap.db.test:993",
            "imap.guess.test:993"
        ]
    );
    // The same entry, verified, ranks by security as usual.
    let mut verified = all;
    verified.extend(unverified);
    assert_eq!(
        hosts(&merge(verified)),
        [
            "imap.both.test:993",
            "imap.db.test:993",
            "imap.srv.test:143",
            "imap.guess.test:993"
        ]
    );
}

#[test]
fn merging_a_merged_list_keeps_its_order() {
    let v = merge(vec![
        c(
            Protocol::Imap,
            "store.example",
            993,
            Security::Tls,
            &[Source::Srv],
        ),
        c(
            Protocol::Imap,
            "backup.example",
            993,
            Security::Tls,
            &[Source::Srv],
        ),
    ]);
    assert_eq!(merge(v.clone()), v);
}
