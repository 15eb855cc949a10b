//! A checker of /work/shared/autoconfig/autoconfig.rnc (the draft's RELAX NG compact schema),
//! translated rule by rule for the export tests: required attributes (`version`, `id`,
//! `type`, `url`), which known element may appear under which, `port` as
//! `xsd:positiveInteger` within 1–65535, text-only elements without element children, no
//! text in the structural elements, and the must-ignore rule (an unknown element is accepted
//! anywhere an extension may stand, with any content).

use quick_xml::events::Event;
use quick_xml::reader::Reader;

/// Every element name the schema defines (`extensionElement` excludes exactly these).
const KNOWN: &[&str] = &[
    "clientConfig",
    "emailProvider",
    "domain",
    "displayName",
    "displayShortName",
    "documentation",
    "descr",
    "incomingServer",
    "outgoingServer",
    "calendar",
    "addressbook",
    "fileShare",
    "chatServer",
    "videoConference",
    "setupServer",
    "url",
    "hostname",
    "port",
    "socketType",
    "authentication",
    "username",
    "oAuth2",
    "authURL",
    "tokenURL",
    "issuer",
    "scope",
    "clientID",
    "clientSecret",
    "clientConfigUpdate",
];

const SERVER_SECTIONS: &[&str] = &[
    "incomingServer",
    "outgoingServer",
    "calendar",
    "addressbook",
    "fileShare",
    "chatServer",
    "videoConference",
    "setupServer",
];

/// Known children a known element may have; `None` for a text-only element.
fn children(el: &str) -> Option<&'static [&'static str]> {
    Some(match el {
        "clientConfig" => &[
            "emailProvider",
            "calendar",
            "addressbook",
            "fileShare",
            "chatServer",
            "videoConference",
            "setupServer",
            "oAuth2",
            "clientConfigUpdate",
        ],
        "emailProvider" => &[
            "domain",
            "displayName",
            "displayShortName",
            "documentation",
            "incomingServer",
            "outgoingServer",
        ],
        "documentation" => &["descr"],
        "oAuth2" => &[
            "authURL",
            "tokenURL",
            "issuer",
            "scope",
            "clientID",
            "clientSecret",
        ],
        "clientConfigUpdate" => &[],
        s if SERVER_SECTIONS.contains(&s) => &[
            "url",
            "hostname",
            "port",
            "socketType",
            "authentication",
            "username",
        ],
        _ => return None,
    })
}

/// The attribute a known element must carry.
fn required_attr(el: &str) -> Option<&'static str> {
    match el {
        "clientConfig" => Some("version"),
        "emailProvider" => Some("id"),
        "documentation" | "clientConfigUpdate" => Some("url"),
        s if SERVER_SECTIONS.contains(&s) => Some("type"),
        _ => None,
    }
}

/// `Ok(())` when `xml` is valid against the schema; else the first violation.
pub fn check(xml: &str) -> Result<(), String> {
    let mut r = Reader::from_str(xml);
    // (name, inside an extension subtree, text seen)
    let mut stack: Vec<(String, bool, String)> = Vec::new();
    let mut root_seen = false;
    loop {
        match r.read_event().map_err(|e| format!("not XML: {e}"))? {
            Event::Start(e) => {
                open(&mut stack, &mut root_seen, &e)?;
            }
            Event::Empty(e) => {
                open(&mut stack, &mut root_seen, &e)?;
                close(&mut stack)?;
            }
            Event::End(_) => close(&mut stack)?,
            Event::Text(t) => {
                if let Some(top) = stack.last_mut() {
                    top.2 += &t.into_inner();
                }
            }
            Event::GeneralRef(_) | Event::CData(_) => {
                if let Some(top) = stack.last_mut() {
                    top.2 += "x";
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !root_seen {
        return Err("no root element".into());
    }
    Ok(())
}

fn open(
    stack: &mut Vec<(String, bool, String)>,
    root_seen: &mut bool,
    e: &quick_xml::events::BytesStart<'_>,
) -> Result<(), String> {
    let name = e.name().as_ref().to_string();
    let attrs: Vec<String> = e
        .attributes()
        .map(|a| a.map(|a| a.key.as_ref().to_string()))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("bad attribute: {e}"))?;
    let in_extension = match stack.last() {
        None => {
            if name != "clientConfig" || *root_seen {
                return Err(format!("root element <{name}> is not <clientConfig>"));
            }
            *root_seen = true;
            false
        }
        Some((_, true, _)) => true,
        Some((parent, false, _)) => match children(parent) {
            None => return Err(format!("<{parent}> holds text only, not <{name}>")),
            Some(allowed) if allowed.contains(&name.as_str()) => false,
            Some(_) if KNOWN.contains(&name.as_str()) => {
                return Err(format!("<{name}> is not allowed in <{parent}>"));
            }
            Some(_) => true,
        },
    };
    if !in_extension
        && let Some(req) = required_attr(&name)
        && !attrs.iter().any(|a| a == req)
    {
        return Err(format!("<{name}> lacks its {req} attribute"));
    }
    stack.push((name, in_extension, String::new()));
    Ok(())
}

fn close(stack: &mut Vec<(String, bool, String)>) -> Result<(), String> {
    let (name, ext, text) = stack.pop().ok_or("unbalanced end tag")?;
    if ext {
        return Ok(());
    }
    let text = text.trim();
    if children(&name).is_some() && !text.is_empty() {
        return Err(format!("<{name}> may not hold text ('{text}')"));
    }
    if name == "port" && !matches!(text.parse::<u32>(), Ok(1..=65535)) {
        return Err(format!("<port> '{text}' is not a positive integer port"));
    }
    Ok(())
}
