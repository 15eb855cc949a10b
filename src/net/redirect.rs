//! Which redirects discovery may follow: the pure rules, apart from the fetching in [`super::http`].
//!
//! 1. Never from https down to plain http: the document would lose the protection that made its
//!    source trusted (an on-path attacker answers the http request), yet keep the label.
//! 2. Never from a public name to a loopback, private, link-local or unspecified address
//!    (RFC 6890 special-purpose ranges, RFC 4193 unique-local), unless the user chose that
//!    address: a `--connect-to` or `--resolve` rule, or an answer from the `--dns` servers they
//!    named. Otherwise any web server on the internet could make mailprobe fetch, and report,
//!    pages only reachable from the user's machine or network (a cloud metadata service at
//!    169.254.169.254, a router at 192.168.1.1). An IP literal in a `Location` or
//!    `RedirectUrl` is the server's choice, never the user's.
//!
//! A redirect from a name that the system resolver itself put on a private address (a company
//! network's own autoconfig) may go on to private addresses: nothing public is crossing in.

use std::net::{IpAddr, SocketAddr};

/// Where a connection goes, and whether the user chose it (see [`super::Net::route`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub addrs: Vec<SocketAddr>,
    pub users_choice: bool,
}

impl Route {
    /// Does this route stand for a public name? Its addresses are all public, or the user
    /// pointed the name at them (a test world or a migration puts public names on 127.0.0.x).
    pub fn is_public(&self, host_is_ip: bool) -> bool {
        (self.users_choice && !host_is_ip) || self.addrs.iter().all(|a| is_public(a.ip()))
    }
}

/// Why a redirect is not followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// https → http.
    PlainHttp,
    /// A public name redirected to this non-public address.
    Private(IpAddr),
}

/// Rule 1, on the URLs alone.
pub(crate) fn scheme_allowed(from_scheme: &str, to_scheme: &str) -> Result<(), Refusal> {
    if from_scheme.eq_ignore_ascii_case("https") && !to_scheme.eq_ignore_ascii_case("https") {
        return Err(Refusal::PlainHttp);
    }
    Ok(())
}

/// Rule 2: may a redirect from a place that `from_public` go to `to`?
pub(crate) fn target_allowed(from_public: bool, to: &Route) -> Result<(), Refusal> {
    if !from_public || to.users_choice {
        return Ok(());
    }
    match to
        .addrs
        .iter()
        .map(SocketAddr::ip)
        .find(|ip| !is_public(*ip))
    {
        Some(ip) => Err(Refusal::Private(ip)),
        None => Ok(()),
    }
}

/// Not loopback, private, shared (CGNAT), link-local, unspecified, "this network", broadcast or
/// unique-local; IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry.
pub(crate) fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || o[0] == 0
                // RFC 6598 shared address space 100.64.0.0/10.
                || (o[0] == 100 && (o[1] & 0xc0) == 64))
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public(IpAddr::V4(v4)),
            None => {
                !(v6.is_loopback()
                    || v6.is_unspecified()
                    || v6.is_unique_local()
                    || v6.is_unicast_link_local())
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(addrs: &[&str], users_choice: bool) -> Route {
        Route {
            addrs: addrs
                .iter()
                .map(|a| SocketAddr::new(a.parse().unwrap(), 443))
                .collect(),
            users_choice,
        }
    }

    #[test]
    fn public_and_special_addresses() {
        for ip in ["8.8.8.8", "2a00:1450::1", "100.128.0.1", "172.32.0.1"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "127.0.0.2",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "0.1.2.3",
            "100.64.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn https_never_goes_down_to_http() {
        assert_eq!(scheme_allowed("https", "http"), Err(Refusal::PlainHttp));
        assert_eq!(scheme_allowed("HTTPS", "http"), Err(Refusal::PlainHttp));
        assert_eq!(scheme_allowed("https", "https"), Ok(()));
        assert_eq!(scheme_allowed("http", "https"), Ok(()));
        assert_eq!(scheme_allowed("http", "http"), Ok(()));
    }

    #[test]
    fn private_targets_need_the_users_choice() {
        // A public name redirecting to a private address the server picked: refused.
        let metadata = route(&["169.254.169.254"], false);
        let ip = "169.254.169.254".parse().unwrap();
        assert_eq!(target_allowed(true, &metadata), Err(Refusal::Private(ip)));
        // One private address among public ones is enough to refuse.
        let mixed = route(&["93.184.216.34", "127.0.0.1"], false);
        assert!(target_allowed(true, &mixed).is_err());
        // The user's --connect-to / --resolve / --dns put it there: followed.
        assert_eq!(target_allowed(true, &route(&["127.0.0.1"], true)), Ok(()));
        // Public targets are always fine; a private origin may stay private.
        assert_eq!(target_allowed(true, &route(&["8.8.8.8"], false)), Ok(()));
        assert_eq!(target_allowed(false, &metadata), Ok(()));
    }

    #[test]
    fn which_origins_count_as_public_names() {
        // A name the user mapped to loopback stands for the public name it is.
        assert!(route(&["127.0.0.1"], true).is_public(false));
        // The user's own IP literal (e.g. --ispdb-url http://127.0.0.1:8080/) is not public.
        assert!(!route(&["127.0.0.1"], false).is_public(true));
        assert!(!route(&["127.0.0.1"], true).is_public(true));
        // The system resolver put the name on a private address: a private network.
        assert!(!route(&["10.0.0.5"], false).is_public(false));
        assert!(route(&["8.8.8.8"], false).is_public(false));
    }
}
