//! Where webhooks may go (issue 15, "Safety"): `https://` only unless
//! `SCIMGATE_WEBHOOK_ALLOW_HTTP=true`; never to a loopback, private, link-local,
//! CGNAT, multicast, unspecified, broadcast, documentation or otherwise reserved
//! address (IPv4, IPv6, IPv4-mapped and -compatible IPv6) unless
//! `SCIMGATE_WEBHOOK_ALLOW_PRIVATE=true`. Checked when an endpoint is created or its
//! URL changed ([`check_url`], resolving its host), and again at every connection
//! ([`Resolver`]: the client resolves through it, so a name that resolves elsewhere
//! later — DNS rebinding — is refused too; a literal address is checked before the
//! request, [`Policy::check_literal`]).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use scimgate_core::service::webhooks::MAX_URL_LEN;

/// What the deployment allows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policy {
    /// `SCIMGATE_WEBHOOK_ALLOW_HTTP`
    pub allow_http: bool,
    /// `SCIMGATE_WEBHOOK_ALLOW_PRIVATE`
    pub allow_private: bool,
}

/// Why a target is refused (the 400's message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// Why an address is not a public unicast one (`None`: it is).
pub fn non_public(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => non_public_v4(v4),
        IpAddr::V6(v6) => non_public_v6(v6),
    }
}

fn non_public_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let o = ip.octets();
    Some(match o {
        _ if ip.is_unspecified() => "unspecified",
        [0, ..] => "unspecified (0.0.0.0/8)",
        _ if ip.is_loopback() => "loopback",
        _ if ip.is_private() => "private",
        _ if ip.is_link_local() => "link-local",
        [100, b, ..] if (64..128).contains(&b) => "CGNAT (100.64.0.0/10)",
        _ if ip.is_multicast() => "multicast",
        _ if ip.is_broadcast() => "broadcast",
        [192, 0, 0, _] => "reserved (192.0.0.0/24)",
        [192, 0, 2, _] | [198, 51, 100, _] | [203, 0, 113, _] => "documentation",
        [198, b, ..] if b == 18 || b == 19 => "benchmarking (198.18.0.0/15)",
        [a, ..] if a >= 240 => "reserved (240.0.0.0/4)",
        _ => return None,
    })
}

fn non_public_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return non_public_v4(v4).map(|_| "IPv4-mapped non-public");
    }
    let s = ip.segments();
    Some(match s {
        _ if ip.is_unspecified() => "unspecified",
        _ if ip.is_loopback() => "loopback",
        _ if ip.is_multicast() => "multicast",
        [a, ..] if a & 0xffc0 == 0xfe80 => "link-local",
        [a, ..] if a & 0xffc0 == 0xfec0 => "site-local",
        [a, ..] if a & 0xfe00 == 0xfc00 => "unique local (private)",
        [0x2001, 0xdb8, ..] => "documentation",
        // IPv4-compatible (deprecated) ::a.b.c.d, and NAT64 64:ff9b::/96 of a private v4
        [0, 0, 0, 0, 0, 0, ..] => "IPv4-compatible",
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => {
            let v4 = Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
            non_public_v4(v4).map(|_| "NAT64 of a non-public address")?
        }
        [0x100, 0, 0, 0, ..] => "discard-only (100::/64)",
        _ => return None,
    })
}

impl Policy {
    /// A literal address in a URL, checked like a resolved one.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), Refused> {
        if self.allow_private {
            return Ok(());
        }
        match non_public(ip) {
            Some(why) => Err(Refused(format!(
                "`endpoint_url` resolves to {ip}, a {why} address; webhooks go to public addresses only (SCIMGATE_WEBHOOK_ALLOW_PRIVATE=true allows others)"
            ))),
            None => Ok(()),
        }
    }

    /// A URL's literal host address, if it has one, checked (before each request: the
    /// client does not resolve literal addresses).
    pub fn check_literal(&self, url: &url::Url) -> Result<(), Refused> {
        match url.host() {
            Some(url::Host::Ipv4(ip)) => self.check_ip(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => self.check_ip(IpAddr::V6(ip)),
            _ => Ok(()),
        }
    }

    /// The URL's form: absolute, `https` (or `http` when allowed), a host, no
    /// credentials, no fragment, at most [`MAX_URL_LEN`] characters.
    pub fn check_form(&self, text: &str) -> Result<url::Url, Refused> {
        if text.len() > MAX_URL_LEN {
            return Err(Refused(format!(
                "`endpoint_url` must be at most {MAX_URL_LEN} characters"
            )));
        }
        let url = url::Url::parse(text)
            .map_err(|e| Refused(format!("`endpoint_url` is not an absolute URL: {e}")))?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            "http" => return Err(Refused(
                "`endpoint_url` must be https:// (SCIMGATE_WEBHOOK_ALLOW_HTTP=true allows http://)"
                    .into(),
            )),
            s => {
                return Err(Refused(format!(
                    "`endpoint_url` must be an https:// URL, not {s}:"
                )))
            }
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(Refused("`endpoint_url` has no host".into()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Refused(
                "`endpoint_url` must not carry credentials (user:password@)".into(),
            ));
        }
        if url.fragment().is_some() {
            return Err(Refused("`endpoint_url` must not have a #fragment".into()));
        }
        Ok(url)
    }
}

/// Check an endpoint URL at creation or change: its form, and every address its host
/// resolves to now (blocking DNS: call it on a thread that may wait). A host that
/// does not resolve is refused too.
pub fn check_url(policy: &Policy, text: &str) -> Result<String, Refused> {
    let url = policy.check_form(text)?;
    policy.check_literal(&url)?;
    if let Some(url::Host::Domain(host)) = url.host() {
        let port = url.port_or_known_default().unwrap_or(443);
        let addrs: Vec<SocketAddr> = (host, port)
            .to_socket_addrs()
            .map_err(|e| Refused(format!("`endpoint_url`: cannot resolve {host}: {e}")))?
            .collect();
        if addrs.is_empty() {
            return Err(Refused(format!(
                "`endpoint_url`: {host} resolves to no address"
            )));
        }
        for a in addrs {
            policy.check_ip(a.ip())?;
        }
    }
    Ok(url.to_string())
}

/// The delivery client's resolver: the system's answers, less every address the
/// policy refuses; none left is an error (the attempt fails as `refused_address`).
#[derive(Debug, Clone)]
pub struct Resolver {
    pub policy: Policy,
}

impl reqwest::dns::Resolve for Resolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| policy.check_ip(a.ip()).is_ok())
                .collect();
            if allowed.is_empty() {
                let err: Box<dyn std::error::Error + Send + Sync> = Box::new(Refused(format!(
                    "{host} resolves to no public address ({found:?})"
                )));
                return Err(err);
            }
            let addrs: reqwest::dns::Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

impl Resolver {
    pub fn shared(policy: Policy) -> Arc<Resolver> {
        Arc::new(Resolver { policy })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(s: &str) -> bool {
        non_public(s.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))).is_some()
    }

    #[test]
    fn non_public_addresses() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "224.0.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
        ] {
            assert!(refused(a), "{a} should be refused");
        }
        for a in [
            "93.184.216.34",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(!refused(a), "{a} should be allowed");
        }
    }

    #[test]
    fn url_forms() {
        let p = Policy::default();
        assert!(p.check_form("http://example.com/").is_err());
        assert!(p.check_form("ftp://example.com/").is_err());
        assert!(p.check_form("https://user:pw@example.com/").is_err());
        assert!(p.check_form("not a url").is_err());
        assert!(p
            .check_form(&format!("https://example.com/{}", "a".repeat(MAX_URL_LEN)))
            .is_err());
        assert!(p.check_form("https://example.com/hook").is_ok());
        let http = Policy {
            allow_http: true,
            allow_private: false,
        };
        assert!(http.check_form("http://example.com/").is_ok());
        assert!(check_url(&http, "http://127.0.0.1:9/").is_err());
        assert!(check_url(&http, "http://[::ffff:7f00:1]:9/").is_err());
        assert!(check_url(&http, "http://localhost:9/").is_err());
        let open = Policy {
            allow_http: true,
            allow_private: true,
        };
        assert!(check_url(&open, "http://127.0.0.1:9/").is_ok());
    }
}
