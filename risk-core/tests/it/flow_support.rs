//! A [`Decision`] taken apart for assertions: the flow tests ask about the verdict, the
//! response and the report of either arm alike.

use std::sync::Arc;

use risk_core::{Assessment, Decision, PendingReport, ResponseSpec, Verdict};

/// A decision's parts; `report` is `None` for [`Decision::Respond`].
#[derive(Debug)]
pub(crate) struct Checked {
    pub(crate) verdict: Verdict,
    pub(crate) assessment: Arc<Assessment>,
    pub(crate) response: Option<ResponseSpec>,
    pub(crate) report: Option<PendingReport>,
}

impl Checked {
    /// Whether completing or dropping the report sends one.
    pub(crate) fn armed(&self) -> bool {
        self.report.as_ref().is_some_and(PendingReport::is_armed)
    }
}

impl From<Decision> for Checked {
    fn from(decision: Decision) -> Self {
        match decision {
            Decision::Proceed { assessment, report } => Self {
                verdict: assessment.verdict().clone(),
                assessment,
                response: None,
                report: Some(report),
            },
            Decision::Respond {
                assessment,
                response,
            } => Self {
                verdict: assessment.verdict().clone(),
                assessment,
                response: Some(response),
                report: None,
            },
        }
    }
}
