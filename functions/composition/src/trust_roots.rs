//! The certificate roots this service trusts by default, embedded: read
//! by the configuration (Redis TLS, unless `REDIS_CA_FILE` names others)
//! and by the AWS wiring (the SDK's HTTPS client), so neither reaches into
//! the other for them.

/// The roots of Amazon Trust Services, to which every AWS service endpoint
/// chains (Amazon Root CA 1–4 and the Starfield Services G2 cross-sign), as
/// Debian's ca-certificates ships them. Trusted by the SDK's HTTPS client
/// (so a Lambda's init skips the system's whole bundle, ADR 11) and,
/// unless `REDIS_CA_FILE` names others, by `rediss://` connections: we read ElastiCache's in-transit certificates as Amazon-issued too, which
/// AWS's documentation does not state; the deploy's smoke test catches a
/// wrong reading (ADR 16).
pub(crate) const AMAZON_TRUST_SERVICES_ROOTS: &[u8] = include_bytes!("amazon_trust_services_roots.pem");

#[cfg(test)]
mod tests {
    use super::AMAZON_TRUST_SERVICES_ROOTS;
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;

    #[test]
    fn the_embedded_aws_trust_store_is_five_parsable_root_certificates() {
        // The SDK parses these lazily, with `expect`, on its first connection:
        // a broken file must fail here, not in a deployed Lambda.
        let certificates: Vec<CertificateDer<'_>> = CertificateDer::pem_slice_iter(AMAZON_TRUST_SERVICES_ROOTS)
            .collect::<Result<_, _>>()
            .unwrap_or_default();
        assert_eq!(
            certificates.len(),
            5,
            "Amazon Root CA 1-4 and Starfield Services Root G2"
        );
        let mut roots = rustls::RootCertStore::empty();
        let (valid, invalid) = roots.add_parsable_certificates(certificates);
        assert_eq!((valid, invalid), (5, 0));
    }
}
