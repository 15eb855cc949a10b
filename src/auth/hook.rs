//! The probe's login hook: [`Authenticator`] logs in on the probe's own [`Session`] (so the
//! attempts land in the probe's transcript, redacted), through the protocol layer's `Wire`.

use std::future::Future;
use std::pin::Pin;

use super::{Authenticator, Target};
use crate::model::AuthAttempt;
use crate::model::Candidate;
use crate::proto::LoginHook;
use crate::proto::Session;

impl LoginHook for Authenticator {
    fn login<'a>(
        &'a self,
        session: &'a mut Session,
        candidate: &'a Candidate,
        caps: &'a [String],
        sasl: &'a [String],
    ) -> Pin<Box<dyn Future<Output = Vec<AuthAttempt>> + Send + 'a>> {
        Box::pin(async move {
            let target = Target {
                protocol: candidate.protocol,
                host: &candidate.host,
                port: candidate.port,
                security: candidate.security,
                discovered_user: candidate.username.as_deref(),
                sources: &candidate.sources,
            };
            self.login_on(session, &target, caps, sasl).await
        })
    }
}
