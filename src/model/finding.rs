//! Findings: what a helpdesk should know, each with a [`Severity`] and a stable [`FindingCode`].
//!
//! The codes are public (JSON `findings[].code`, the Nagios long text, the batch table): a code
//! is only ever added, never renamed, within a `schema_version`. The README's "Finding codes"
//! section lists every one with its severity; a test keeps the two in step.

use std::fmt;

use serde::{Deserialize, Serialize};

mod item;
pub use item::{Finding, Severity};

/// Declares [`FindingCode`]: each variant with its doc comment, wire name and the severity it is
/// reported with (as the README lists it).
macro_rules! finding_codes {
    ($($(#[doc = $doc:literal])+ $name:ident = $code:literal, $sev:literal;)+) => {
        /// The stable identifier of a finding, serialised kebab-case.
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
            schemars::JsonSchema,
        )]
        pub enum FindingCode {
            $($(#[doc = $doc])+ #[serde(rename = $code)] $name,)+
        }

        impl FindingCode {
            /// Every code, in declaration order (grouped by the stage that reports it).
            pub const ALL: &'static [FindingCode] = &[$(FindingCode::$name),+];

            /// The wire name, e.g. `sources-disagree`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(FindingCode::$name => $code,)+
                }
            }

            /// The severity it is reported with, as the README lists it: `info`, `warning`,
            /// `critical`, or two of them joined by ` or ` when it depends on the case.
            pub fn documented_severity(self) -> &'static str {
                match self {
                    $(FindingCode::$name => $sev,)+
                }
            }
        }
    };
}

finding_codes! {
    // Discovery.
    /// Two sources suggest different settings for the same protocol.
    SourcesDisagree = "sources-disagree", "warning";
    /// Only unencrypted settings are published for a protocol.
    PlaintextOnly = "plaintext-only", "warning";
    /// A protocol's settings come only from plain-http autoconfig, which anyone could alter
    /// (warning); the verdict recommends such a server because no trusted one works (critical).
    UntrustedSourceOnly = "untrusted-source-only", "warning or critical";
    /// No source names any server: nothing to probe.
    NoSettingsFound = "no-settings-found", "critical";
    /// The DNS resolver failed (SERVFAIL, REFUSED, no answer), so nothing could be looked up.
    DnsFailure = "dns-failure", "critical";
    /// No source names an IMAP or POP3 server.
    NoIncomingFound = "no-incoming-found", "critical";
    /// No source names an SMTP server.
    NoOutgoingFound = "no-outgoing-found", "critical";
    /// One source offered more targets or servers than mailprobe tries; the rest were dropped.
    SourceCapped = "source-capped", "warning";
    /// Part of an autoconfig document was malformed and skipped.
    AutoconfigSectionIgnored = "autoconfig-section-ignored", "info";
    /// Autodiscover redirected to a host outside the address's domain.
    AutodiscoverLeavesDomain = "autodiscover-leaves-domain", "warning";
    /// An SRV record says the service is not offered (target `.`, RFC 6186 §4).
    SrvNotOffered = "srv-not-offered", "info";
    /// An SRV record points outside the address's domain.
    SrvTargetOutsideDomain = "srv-target-outside-domain", "info";
    /// The provider announces OAuth2 sign-in.
    Oauth2Available = "oauth2-available", "info";
    /// Mail-client access must be switched on (in the web settings) before the first login.
    EnableImapFirst = "enable-imap-first", "info";

    // The provider database.
    /// The provider requires an app-specific password for mail clients.
    AppPasswordRequired = "app-password-required", "info";
    /// The provider requires an app password once two-factor authentication is on.
    AppPasswordWith2fa = "app-password-with-2fa", "info";
    /// The provider accepts only OAuth2 sign-in; passwords are refused.
    Oauth2Required = "oauth2-required", "info";
    /// The provider is reached through a local bridge program, not over the Internet.
    BridgeRequired = "bridge-required", "info";
    /// The provider offers no IMAP, POP3 or SMTP access at all.
    NoStandardAccess = "no-standard-access", "critical";
    /// The built-in entry was not checked against the provider's published pages.
    ProviderEntryUnverified = "provider-entry-unverified", "info";

    // Probing: TLS and certificates.
    /// The certificate has expired (for an MX: also RFC 8460's result type, weighed by MTA-STS).
    CertificateExpired = "certificate-expired", "warning; audit: info to critical";
    /// The certificate is not valid yet (often a wrong server clock).
    CertificateNotYetValid = "certificate-not-yet-valid", "warning";
    /// The certificate is for another name.
    CertificateHostnameMismatch = "certificate-hostname-mismatch", "warning";
    /// The certificate is signed by an unknown authority.
    CertificateUnknownIssuer = "certificate-unknown-issuer", "warning";
    /// The certificate is self-signed.
    CertificateSelfSigned = "certificate-self-signed", "warning";
    /// The server does not send the intermediate certificates.
    CertificateIncompleteChain = "certificate-incomplete-chain", "warning";
    /// The certificate has been revoked.
    CertificateRevoked = "certificate-revoked", "warning";
    /// The certificate does not verify, for another reason.
    CertificateInvalid = "certificate-invalid", "warning";
    /// The certificate expires within `--warn-cert-days`.
    CertificateExpiresSoon = "certificate-expires-soon", "warning";
    /// The certificate expires within `--crit-cert-days`.
    CertificateExpiresCritical = "certificate-expires-critical", "critical";
    /// Two ports of one host present different certificates.
    CertificateDiffers = "certificate-differs", "info or warning";
    /// No working server of a kind has a valid certificate: mail clients will refuse it.
    NoValidCertificate = "no-valid-certificate", "critical";
    /// The server only speaks TLS 1.0 or 1.1 (deprecated, RFC 8996).
    TlsLegacyOnly = "tls-legacy-only", "warning";
    /// STARTTLS is advertised but fails.
    StarttlsFailed = "starttls-failed", "warning";
    /// The server does not offer STARTTLS on a plain port.
    StarttlsMissing = "starttls-missing", "warning";

    // Probing: the servers.
    /// Authentication is offered before TLS: credentials could travel in clear.
    AuthBeforeTls = "auth-before-tls", "warning";
    /// An IMAP server accepts LOGIN in clear (no LOGINDISABLED before TLS, RFC 9051 §6.2.3).
    ImapNoLogindisabled = "imap-no-logindisabled", "warning";
    /// The server's greeting was slow.
    SlowGreeting = "slow-greeting", "warning";
    /// The host's IPv6 addresses fail while IPv4 works.
    Ipv6Broken = "ipv6-broken", "warning";
    /// Port 25 is unreachable from here while 587/465 work (an ISP block).
    Port25Blocked = "port25-blocked", "info";
    /// The only working server of a kind has no TLS.
    PlaintextChosen = "plaintext-chosen", "warning";
    /// A source suggests a server that does not work while another one works.
    SourceWrong = "source-wrong", "warning";
    /// No incoming (IMAP or POP3) server works.
    NoIncoming = "no-incoming", "critical";
    /// No outgoing (SMTP) server works.
    NoOutgoing = "no-outgoing", "critical";
    /// A server of the chosen settings failed (`check`).
    ProbeFailed = "probe-failed", "critical";

    // Logging in.
    /// The server works, but the login failed.
    AuthLoginFailed = "auth-login-failed", "critical";
    /// A mechanism is offered but failed while another worked.
    AuthMechanismFailed = "auth-mechanism-failed", "warning";
    /// No offered mechanism could be used.
    AuthNoMechanism = "auth-no-mechanism", "warning";
    /// Credentials were sent without TLS (`--allow-plaintext-auth`).
    AuthPlaintext = "auth-plaintext", "critical";
    /// Credentials were sent over TLS whose certificate did not verify
    /// (`--allow-invalid-cert-auth`).
    AuthInvalidCert = "auth-invalid-cert", "critical";
    /// Credentials were not sent: the certificate did not verify.
    AuthSkippedInvalidCert = "auth-skipped-invalid-cert", "warning";
    /// Credentials were not sent: only plain-http autoconfig names the server
    /// (`--allow-untrusted-auth`).
    AuthSkippedUntrusted = "auth-skipped-untrusted", "warning";
    /// Credentials were not sent: the connection is not encrypted.
    AuthSkippedNoTls = "auth-skipped-no-tls", "warning";
    /// The login works with this user name form (full address or local part).
    AuthUsernameForm = "auth-username-form", "info";
    /// The server rejected the user name or password.
    AuthWrongPassword = "auth-wrong-password", "critical";
    /// The account is locked or disabled.
    AuthAccountLocked = "auth-account-locked", "critical";
    /// The provider requires an app password.
    AuthAppPasswordRequired = "auth-app-password-required", "critical";
    /// This protocol is disabled for the account.
    AuthProtocolDisabled = "auth-protocol-disabled", "critical";
    /// Password (basic) authentication is disabled for the account.
    AuthBasicDisabled = "auth-basic-disabled", "critical";
    /// The provider wants a login in the web browser first.
    AuthWebLoginRequired = "auth-web-login-required", "critical";
    /// The server requires encryption before login.
    AuthTlsRequired = "auth-tls-required", "critical";
    /// The server considers the login mechanism too weak.
    AuthMechanismTooWeak = "auth-mechanism-too-weak", "critical";
    /// The password has expired.
    AuthPasswordExpired = "auth-password-expired", "critical";
    /// The credentials are valid but may not be used here.
    AuthNotAuthorized = "auth-not-authorized", "critical";
    /// The OAuth2 token was refused.
    AuthTokenInvalid = "auth-token-invalid", "critical";
    /// The OAuth2 token lacks a scope the server needs (RFC 6750 `insufficient_scope`).
    AuthTokenScopeMissing = "auth-token-scope-missing", "critical";
    /// The server refused an OAuth2 login without saying the token was bad: the protocol may
    /// be disabled for the mailbox, or the organisation blocks the application.
    AuthOauthRefused = "auth-oauth-refused", "critical";
    /// The authorization server refused the stored refresh token (`invalid_grant`,
    /// `expired_token`: revoked, expired or issued to another client); no login was tried.
    Oauth2GrantInvalid = "oauth2-grant-invalid", "critical";
    /// The token endpoint does not know the client or its secret (`invalid_client`).
    Oauth2ClientInvalid = "oauth2-client-invalid", "critical";
    /// The client may not use this grant (`unauthorized_client`).
    Oauth2ClientUnauthorized = "oauth2-client-unauthorized", "critical";
    /// The user or an administrator refused the sign-in (`access_denied`).
    Oauth2AccessDenied = "oauth2-access-denied", "critical";
    /// The token endpoint answered another OAuth error (e.g. `invalid_scope`, `server_error`).
    Oauth2TokenError = "oauth2-token-error", "critical";
    /// The token endpoint could not be reached, answered an HTTP error without an OAuth error,
    /// or answered something unreadable.
    Oauth2TokenEndpointFailed = "oauth2-token-endpoint-failed", "critical";
    /// The login failed temporarily.
    AuthTemporaryFailure = "auth-temporary-failure", "warning";
    /// The server failed while checking the login.
    AuthServerError = "auth-server-error", "critical";
    /// The server closed the connection during login.
    AuthConnectionDropped = "auth-connection-dropped", "critical";
    /// The login was refused for a reason the reply does not say.
    AuthFailed = "auth-failed", "critical";

    // The round trip.
    /// No working incoming and outgoing pair to test with.
    RoundtripNotStarted = "roundtrip-not-started", "critical";
    /// The test message was not accepted for delivery.
    RoundtripSubmitFailed = "roundtrip-submit-failed", "critical";
    /// The message was accepted but not fetched back (`--to` without its credentials).
    RoundtripAcceptedOnly = "roundtrip-accepted-only", "info";
    /// The test message did not arrive within `--wait`.
    RoundtripNotArrived = "roundtrip-not-arrived", "critical";
    /// The mailbox could not be opened or searched.
    RoundtripFetchFailed = "roundtrip-fetch-failed", "critical";
    /// The test message arrived in a Junk folder, not in INBOX.
    RoundtripJunk = "roundtrip-junk", "warning";
    /// The test message was left in the mailbox (deleting it could have expunged others).
    RoundtripMessageLeft = "roundtrip-message-left", "info";
    /// The test message could not be deleted.
    RoundtripDeleteFailed = "roundtrip-delete-failed", "warning";
    /// An `Authentication-Results` verdict (SPF, DKIM, DMARC) failed.
    RoundtripAuthResults = "roundtrip-auth-results", "warning";

    // Monitoring thresholds.
    /// The round trip took longer than `--warn-latency` / `--crit-latency`.
    LatencyThreshold = "latency-threshold", "warning or critical";
    /// The whole check took longer than `--warn-time` / `--crit-time`.
    TimeThreshold = "time-threshold", "warning or critical";

    // Input.
    /// A batch line could not be checked (bad address or domain, missing password variable).
    InvalidInput = "invalid-input", "critical";
    /// `mailprobe serve`: a probe gave no result within its module's deadline.
    ExporterTimeout = "exporter-timeout", "critical";

    // The inbound audit: MX.
    /// The domain does not exist (NXDOMAIN): mail to it bounces, and `check` / `discover` say
    /// so first (most often a typo in the address).
    DomainNotFound = "domain-not-found", "critical";
    /// The resolver could not be reached: nothing could be checked.
    DnsUnavailable = "dns-unavailable", "critical";
    /// The MX lookup failed.
    MxLookupFailed = "mx-lookup-failed", "critical";
    /// The domain has neither an MX record nor an address: it receives no mail.
    MxNone = "mx-none", "warning or critical";
    /// The domain has no MX record: senders fall back to its address (RFC 5321 §5.1).
    MxImplicit = "mx-implicit", "warning";
    /// The domain publishes a null MX (RFC 7505): it accepts no mail.
    MxNull = "mx-null", "info or warning";
    /// A null MX is mixed with other MX records.
    MxNullMixed = "mx-null-mixed", "warning or critical";
    /// An MX target is an IP address, not a host name.
    MxIpLiteral = "mx-ip-literal", "warning or critical";
    /// An MX target is an alias (CNAME).
    MxCname = "mx-cname", "warning";
    /// A host is listed more than once in the MX set.
    MxDuplicate = "mx-duplicate", "warning";
    /// MX hosts without an address.
    MxUnresolvable = "mx-unresolvable", "warning or critical";
    /// The domain has a single MX host.
    MxSingle = "mx-single", "info";
    /// No MX host has an IPv6 address.
    MxNoIpv6 = "mx-no-ipv6", "info";

    // The inbound audit: port 25 of every MX address.
    /// No MX address accepts mail on port 25: senders queue and then bounce.
    MxUnreachable = "mx-unreachable", "critical";
    /// An MX address refuses or drops the TCP connection on port 25.
    MxConnectFailed = "mx-connect-failed", "warning";
    /// An MX address sends no greeting in time (an overloaded server or a tarpit).
    MxBannerTimeout = "mx-banner-timeout", "warning";
    /// An MX address does not answer EHLO with 250 (RFC 5321 §4.1.1.1).
    MxEhloFailed = "mx-ehlo-failed", "warning";
    /// An MX address refuses the session at the greeting (421 or 554).
    MxBannerRefused = "mx-banner-refused", "warning";
    /// An MX address greets late (a greet pause or tarpit).
    MxBannerSlow = "mx-banner-slow", "info";
    /// An MX address accepts mail for a foreign domain: it may be an open relay.
    MxOpenRelay = "mx-open-relay", "critical";
    /// An MX address does not offer STARTTLS: mail to it travels in clear text.
    MxStarttlsMissing = "mx-starttls-missing", "warning or critical";
    /// An MX address offers STARTTLS but it fails.
    MxStarttlsFailed = "mx-starttls-failed", "warning or critical";
    /// An MX certificate does not name the MX host (RFC 8460 §4.3 result type).
    CertificateHostMismatch = "certificate-host-mismatch", "info to critical";
    /// An MX certificate does not chain to a trusted CA (RFC 8460 §4.3 result type).
    CertificateNotTrusted = "certificate-not-trusted", "info to critical";
    /// An MX certificate does not validate for another reason (RFC 8460 §4.3 result type).
    ValidationFailure = "validation-failure", "info to critical";
    /// An MX certificate expires within `--warn-cert-days` / `--crit-cert-days`.
    MxCertificateExpiring = "mx-certificate-expiring", "warning or critical";
    /// An MX address has no reverse DNS (PTR).
    MxPtrMissing = "mx-ptr-missing", "info";
    /// No PTR name of an MX address resolves back to it (forward-confirmed reverse DNS).
    MxFcrdnsFailed = "mx-fcrdns-failed", "info";
    /// An MX greets with a name that is neither the MX name nor its PTR.
    MxBannerNameMismatch = "mx-banner-name-mismatch", "info";

    // The inbound audit: MTA-STS and TLS-RPT.
    /// The domain publishes no MTA-STS policy (RFC 8461).
    MtaStsNone = "mta-sts-none", "info";
    /// The MTA-STS record lookup failed.
    MtaStsLookupFailed = "mta-sts-lookup-failed", "warning";
    /// More than one `v=STSv1` record: senders ignore the policy.
    MtaStsMultipleRecords = "mta-sts-multiple-records", "warning";
    /// The MTA-STS record is not valid.
    MtaStsRecordInvalid = "mta-sts-record-invalid", "warning";
    /// No `mx` pattern of the MTA-STS policy covers an MX host.
    MtaStsMxNotCovered = "mta-sts-mx-not-covered", "warning or critical";
    /// The MTA-STS policy could not be fetched (RFC 8460 §4.3 result type).
    StsPolicyFetchError = "sts-policy-fetch-error", "warning";
    /// The MTA-STS policy does not parse (RFC 8460 §4.3 result type).
    StsPolicyInvalid = "sts-policy-invalid", "warning";
    /// The MTA-STS policy host's certificate does not verify (RFC 8460 §4.3 result type).
    StsWebpkiInvalid = "sts-webpki-invalid", "warning";
    /// The MTA-STS policy's `max_age` is short: senders forget it quickly.
    MtaStsMaxAgeShort = "mta-sts-max-age-short", "warning";
    /// The MTA-STS policy has mode `none`: it is being withdrawn.
    MtaStsModeNone = "mta-sts-mode-none", "info";
    /// The MTA-STS policy has mode `testing`: failures are only reported.
    MtaStsTesting = "mta-sts-testing", "info";
    /// The domain asks for no SMTP TLS reports (RFC 8460).
    TlsRptNone = "tls-rpt-none", "info";
    /// The TLS-RPT record lookup failed.
    TlsRptLookupFailed = "tls-rpt-lookup-failed", "warning";
    /// More than one `v=TLSRPTv1` record: senders send no report.
    TlsRptMultipleRecords = "tls-rpt-multiple-records", "warning";
    /// The TLS-RPT record is not valid.
    TlsRptInvalid = "tls-rpt-invalid", "warning";

    // The inbound audit: DANE (RFC 7672).
    /// Every address of an MX host with TLSA records presents a certificate a usable record matches (RFC 7672).
    DaneValid = "dane-valid", "info";
    /// The MX or its host's zone is not DNSSEC-signed: DANE needs DNSSEC (RFC 7672 §2.2).
    DaneNotPossible = "dane-not-possible", "info";
    /// An MX host in a signed zone publishes no TLSA record at `_25._tcp.<host>`.
    DaneNoTlsa = "dane-no-tlsa", "info";
    /// No usable TLSA record matches the certificate an MX address presents: DANE senders do not deliver to it.
    DaneTlsaMismatch = "dane-tlsa-mismatch", "critical";
    /// A DANE-TA record matches, but the MX certificate names neither the MX host nor the TLSA base domain (RFC 7672 §3.2.2).
    DaneNameMismatch = "dane-name-mismatch", "critical";
    /// An MX host publishes only TLSA records SMTP cannot use (usage 0/1, unknown parameters; RFC 7672 §3.1).
    DaneTlsaUnusable = "dane-tlsa-unusable", "warning";
    /// The MX or TLSA answer fails DNSSEC validation: validating senders do not deliver.
    DaneBogus = "dane-bogus", "critical";
    /// The TLSA lookup of an MX host failed: DANE senders defer mail to it (RFC 7672 §2.2); a warning when the MX answer itself could not be validated.
    DaneLookupFailed = "dane-lookup-failed", "warning or critical";
    /// DNSSEC cannot be validated through the DNS servers asked (no chain of trust reaches the domain): DANE not checked.
    DaneNotChecked = "dane-not-checked", "info";
    /// An MX host publishes TLSA records but an address offers no working STARTTLS: DANE senders do not deliver.
    DaneStarttlsMissing = "dane-starttls-missing", "critical";

    // The inbound audit: SPF.
    /// The domain publishes no SPF record: anyone may send as it.
    SpfNone = "spf-none", "warning";
    /// The SPF lookup failed.
    SpfLookupFailed = "spf-lookup-failed", "warning";
    /// The SPF record does not parse.
    SpfInvalid = "spf-invalid", "critical";
    /// More than one SPF record: receivers return permerror.
    SpfMultipleRecords = "spf-multiple-records", "critical";
    /// SPF needs more than 10 DNS lookups (RFC 7208 §4.6.4): permerror.
    SpfTooManyLookups = "spf-too-many-lookups", "critical";
    /// SPF needs close to the 10-lookup limit.
    SpfLookupsNearLimit = "spf-lookups-near-limit", "info";
    /// More than two SPF lookups find nothing (RFC 7208 §4.6.4).
    SpfTooManyVoidLookups = "spf-too-many-void-lookups", "critical";
    /// An `mx` mechanism names a domain with more than 10 MX hosts (RFC 7208 §4.6.4): the
    /// mechanism is a permerror.
    SpfMxTooManyLookups = "spf-mx-too-many-lookups", "critical";
    /// The SPF includes loop.
    SpfLoop = "spf-loop", "critical";
    /// An SPF include names a domain without SPF record: permerror.
    SpfIncludeMissing = "spf-include-missing", "critical";
    /// The SPF record (or an include) ends in `+all`: every sender passes.
    SpfAllPass = "spf-all-pass", "critical";
    /// The SPF record ends in `?all`: it asserts nothing about other senders.
    SpfAllNeutral = "spf-all-neutral", "warning";
    /// The SPF record has no `all` mechanism.
    SpfAllMissing = "spf-all-missing", "warning";
    /// The SPF record uses the `ptr` mechanism (RFC 7208 §5.5).
    SpfPtr = "spf-ptr", "warning";

    // The inbound audit: DMARC.
    /// The domain publishes no DMARC record.
    DmarcNone = "dmarc-none", "warning";
    /// The DMARC lookup failed.
    DmarcLookupFailed = "dmarc-lookup-failed", "warning";
    /// More than one `v=DMARC1` record: receivers apply none.
    DmarcMultipleRecords = "dmarc-multiple-records", "warning";
    /// The DMARC record is not valid.
    DmarcInvalid = "dmarc-invalid", "warning";
    /// The DMARC policy is `none`: forged mail is only reported.
    DmarcPolicyNone = "dmarc-policy-none", "warning";
    /// The DMARC record has `sp=none`: subdomains can be forged freely.
    DmarcSubdomainPolicyNone = "dmarc-subdomain-policy-none", "warning";
    /// The DMARC policy applies to part of the failing mail only (`pct`).
    DmarcPctPartial = "dmarc-pct-partial", "warning";
    /// A DMARC report destination does not agree to receive reports for the domain.
    DmarcReportUnauthorized = "dmarc-report-unauthorized", "warning";
    /// The DMARC record asks for no aggregate reports (`rua=`).
    DmarcNoRua = "dmarc-no-rua", "info";
    /// The domain has no DMARC record of its own: its organisational domain's applies.
    DmarcInherited = "dmarc-inherited", "info";

    // The inbound audit: DKIM.
    /// The domain publishes no DKIM key: its mail is never DKIM-signed.
    DkimNone = "dkim-none", "warning";
    /// No DKIM key under the named selector.
    DkimSelectorMissing = "dkim-selector-missing", "warning";
    /// No DKIM key under the common selectors (name one with `--dkim-selector`).
    DkimSelectorUnknown = "dkim-selector-unknown", "info";
    /// The DKIM key record is not valid.
    DkimKeyInvalid = "dkim-key-invalid", "warning";
    /// The DKIM key is revoked (empty `p=`).
    DkimKeyRevoked = "dkim-key-revoked", "info or warning";
    /// The DKIM key has `t=y`: verifiers treat its signatures as absent.
    DkimKeyTesting = "dkim-key-testing", "warning";
    /// The DKIM key is RSA shorter than 1024 bits: rejected and factorable (RFC 8301 §3.2).
    DkimKeyWeak = "dkim-key-weak", "critical";
    /// The DKIM key is RSA shorter than 2048 bits.
    DkimKeyShort = "dkim-key-short", "warning";
}

impl fmt::Display for FindingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests;
