//! The client address of a request, for rate limits and the audit log.
//!
//! It is the socket's peer address, unless that peer is one of
//! `SCIMGATE_TRUSTED_PROXIES` (addresses or CIDR ranges of the load balancers in
//! front of scimgate): then `X-Forwarded-For` is read from the right, skipping trusted
//! proxies, and the first address that is not one of them is the client. Entries
//! further left were written by the client itself and are never believed.

use std::net::IpAddr;
use std::str::FromStr;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use ipnet::IpNet;

/// The trusted proxies (`SCIMGATE_TRUSTED_PROXIES`).
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parse a comma-separated list of addresses and CIDR ranges.
    pub fn parse(list: &str) -> Result<TrustedProxies, String> {
        let mut nets = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let net = match IpNet::from_str(item) {
                Ok(n) => n,
                Err(_) => match IpAddr::from_str(item) {
                    Ok(ip) => IpNet::from(ip),
                    Err(_) => {
                        return Err(format!(
                            "`{item}` is neither an IP address nor a CIDR range"
                        ))
                    }
                },
            };
            nets.push(net);
        }
        Ok(TrustedProxies(nets))
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|n| n.contains(&ip))
    }

    /// The client of a request from `peer` carrying these `X-Forwarded-For` values.
    pub fn client_of<'a>(
        &self,
        peer: Option<IpAddr>,
        forwarded_for: impl Iterator<Item = &'a str>,
    ) -> Option<IpAddr> {
        let peer = canonical(peer?);
        if !self.contains(peer) {
            return Some(peer);
        }
        let hops: Vec<&str> = forwarded_for
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            let Some(ip) = parse_hop(hop) else {
                // an unparsable entry: nothing further left can be trusted
                break;
            };
            client = ip;
            if !self.contains(ip) {
                break;
            }
        }
        Some(client)
    }
}

/// An IPv4-mapped IPv6 address as the IPv4 address it carries.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5`,
/// `[::1]:5`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = IpAddr::from_str(hop) {
        return Some(canonical(ip));
    }
    if let Ok(sa) = std::net::SocketAddr::from_str(hop) {
        return Some(canonical(sa.ip()));
    }
    None
}

/// The client address of a request (see the module documentation); `None` when the
/// server has no peer address (in-process tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub Option<IpAddr>);

impl ClientAddr {
    pub fn of(req: &HttpRequest) -> ClientAddr {
        let peer = req.peer_addr().map(|a| a.ip());
        let Some(trusted) = req.app_data::<actix_web::web::Data<TrustedProxies>>() else {
            return ClientAddr(peer.map(canonical));
        };
        let xff = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok());
        ClientAddr(trusted.client_of(peer, xff))
    }
}

impl FromRequest for ClientAddr {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(ClientAddr::of(req)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        IpAddr::from_str(s).unwrap_or(IpAddr::from([0, 0, 0, 0]))
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let t = TrustedProxies::parse("10.0.0.0/8").unwrap_or_default();
        assert_eq!(
            t.client_of(Some(ip("203.0.113.7")), ["1.1.1.1"].into_iter()),
            Some(ip("203.0.113.7"))
        );
        assert_eq!(
            TrustedProxies::default().client_of(Some(ip("10.1.1.1")), ["1.1.1.1"].into_iter()),
            Some(ip("10.1.1.1"))
        );
    }

    #[test]
    fn a_trusted_peer_names_the_rightmost_untrusted_hop() {
        let t = TrustedProxies::parse("10.0.0.0/8, 192.0.2.1").unwrap_or_default();
        // the client wrote 6.6.6.6 itself; 198.51.100.4 reached the first proxy
        assert_eq!(
            t.client_of(
                Some(ip("10.0.0.2")),
                ["6.6.6.6, 198.51.100.4", "192.0.2.1"].into_iter()
            ),
            Some(ip("198.51.100.4"))
        );
        // only proxies: the leftmost of them
        assert_eq!(
            t.client_of(Some(ip("10.0.0.2")), ["10.9.9.9"].into_iter()),
            Some(ip("10.9.9.9"))
        );
        // no header: the proxy itself
        assert_eq!(
            t.client_of(Some(ip("10.0.0.2")), std::iter::empty()),
            Some(ip("10.0.0.2"))
        );
        // garbage stops the walk
        assert_eq!(
            t.client_of(Some(ip("10.0.0.2")), ["1.2.3.4, nonsense"].into_iter()),
            Some(ip("10.0.0.2"))
        );
        // ports and IPv4-mapped IPv6
        assert_eq!(
            t.client_of(
                Some(ip("::ffff:10.0.0.2")),
                ["[2001:db8::1]:443"].into_iter()
            ),
            Some(ip("2001:db8::1"))
        );
    }

    #[test]
    fn bad_lists_are_refused() {
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.internal").is_err());
        assert!(TrustedProxies::parse("").is_ok());
    }
}
