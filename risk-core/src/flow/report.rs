//! The result report of a request that went on to its handler: [`PendingReport`].

use std::fmt;
use std::sync::Arc;

use super::outcome::{Outcome, ReportDraft, ResultMapping};
use super::reporter::Reporter;
use super::shadow::TokenRendezvous;
use crate::models::ActionToken;

enum Target {
    Token(ActionToken),
    /// Shadow mode: the token arrives when the concurrent evaluation ends.
    Shadow(Arc<TokenRendezvous>),
}

struct Armed {
    target: Target,
    mapping: ResultMapping,
    reporter: Reporter,
}

/// The result report of a request that went through to its handler. Complete it with the
/// handler's status ([`complete`](Self::complete)); if it is dropped instead (client went
/// away, future dropped), `incomplete` is reported. Reporting never blocks: it only queues.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use risk_core::*;
/// use risk_core::testing::RecordingSink;
///
/// let sink = RecordingSink::new();
/// let reporter = Reporter::builder(sink.clone()).build();
/// let report = PendingReport::new(ActionToken::new("at-1"), ResultMapping::default(), reporter.clone());
/// report.complete(200, Some(&Outcome::success().with_user_id("u-1")));
/// reporter.flush(std::time::Duration::from_secs(5)).await.unwrap();
/// assert_eq!(sink.reports()[0].user_id.as_deref(), Some("u-1"));
/// # }
/// ```
#[must_use = "complete the report with the handler's status, or drop it to report `incomplete`"]
pub struct PendingReport {
    armed: Option<Armed>,
}

impl fmt::Debug for PendingReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let target = match self.armed.as_ref().map(|a| &a.target) {
            None => "none".to_owned(),
            Some(Target::Token(t)) => t.redacted(),
            Some(Target::Shadow(_)) => "shadow".to_owned(),
        };
        f.debug_struct("PendingReport")
            .field("target", &target)
            .finish()
    }
}

impl PendingReport {
    /// A report that sends nothing (no action to report on).
    pub(crate) fn none() -> Self {
        Self { armed: None }
    }

    /// A report for `action_token`, sent through `reporter`.
    pub fn new(action_token: ActionToken, mapping: ResultMapping, reporter: Reporter) -> Self {
        Self {
            armed: Some(Armed {
                target: Target::Token(action_token),
                mapping,
                reporter,
            }),
        }
    }

    pub(crate) fn shadow(
        slot: Arc<TokenRendezvous>,
        mapping: ResultMapping,
        reporter: Reporter,
    ) -> Self {
        Self {
            armed: Some(Armed {
                target: Target::Shadow(slot),
                mapping,
                reporter,
            }),
        }
    }

    /// Whether completing or dropping it will send a report.
    pub fn is_armed(&self) -> bool {
        self.armed.is_some()
    }

    /// The handler ran and answered `status`; `outcome` (if the handler attached one)
    /// overrides the mapped result and adds user id, challenge type and private identifier.
    pub fn complete(mut self, status: u16, outcome: Option<&Outcome>) {
        if let Some(armed) = self.armed.take() {
            let draft = ReportDraft::completed(&armed.mapping, status, outcome);
            Self::send(armed, draft);
        }
    }

    /// Sends nothing: for an application that reports this action itself (say, after its
    /// own step-up, with the challenge type).
    pub fn disarm(mut self) {
        self.armed = None;
    }

    fn send(armed: Armed, draft: ReportDraft) {
        match armed.target {
            Target::Token(token) => {
                // A full queue is counted and warned about by the reporter.
                let _ = armed.reporter.submit(draft.into_report(token));
            }
            Target::Shadow(slot) => slot.draft(draft, armed.reporter),
        }
    }
}

impl Drop for PendingReport {
    fn drop(&mut self) {
        if let Some(armed) = self.armed.take() {
            let draft = ReportDraft::of(armed.mapping.dropped());
            Self::send(armed, draft);
        }
    }
}
