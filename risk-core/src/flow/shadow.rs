//! Shadow mode, whole: the request proceeds at once while its evaluation runs in a task of
//! its own (traced, never deciding anything), and the result report meets the action token
//! in a [`TokenRendezvous`] when both are known, whichever comes first.

use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tracing::Instrument;

use super::evaluation::Evaluation;
use super::outcome::ReportDraft;
use super::reporter::Reporter;
use crate::models::ActionToken;

/// Where a shadow evaluation's action token and the handler's report draft meet: the second
/// to arrive sends the report.
#[derive(Debug, Default)]
pub(crate) struct TokenRendezvous {
    state: Mutex<Rendezvous>,
}

#[derive(Debug, Default)]
enum Rendezvous {
    #[default]
    Empty,
    /// The evaluation finished first (`None`: no action was created).
    Token(Option<ActionToken>),
    /// The handler finished first.
    Draft(Box<ReportDraft>, Reporter),
    Sent,
}

impl TokenRendezvous {
    fn lock(&self) -> MutexGuard<'_, Rendezvous> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The evaluation's action token (`None`: no action to report on). Called once.
    fn token(&self, token: Option<ActionToken>) {
        let mut state = self.lock();
        match std::mem::take(&mut *state) {
            Rendezvous::Empty => *state = Rendezvous::Token(token),
            Rendezvous::Draft(draft, reporter) => {
                *state = Rendezvous::Sent;
                drop(state);
                if let Some(token) = token {
                    let _ = reporter.submit(draft.into_report(token));
                }
            }
            other => *state = other,
        }
    }

    /// The handler's report draft. Called once.
    pub(crate) fn draft(&self, draft: ReportDraft, reporter: Reporter) {
        let mut state = self.lock();
        match std::mem::take(&mut *state) {
            Rendezvous::Empty => *state = Rendezvous::Draft(Box::new(draft), reporter),
            Rendezvous::Token(token) => {
                *state = Rendezvous::Sent;
                drop(state);
                if let Some(token) = token {
                    let _ = reporter.submit(draft.into_report(token));
                }
            }
            other => *state = other,
        }
    }
}

/// Hands the evaluation's token to the rendezvous exactly once: with [`deliver`](Self::deliver),
/// or as "no token" when the evaluation task is dropped first (runtime shut down), so the
/// handler's draft is never left waiting.
struct TokenHandOver {
    rendezvous: Arc<TokenRendezvous>,
    delivered: bool,
}

impl TokenHandOver {
    fn new(rendezvous: Arc<TokenRendezvous>) -> Self {
        Self {
            rendezvous,
            delivered: false,
        }
    }

    fn deliver(mut self, token: Option<ActionToken>) {
        self.delivered = true;
        self.rendezvous.token(token);
    }
}

impl Drop for TokenHandOver {
    fn drop(&mut self) {
        if !self.delivered {
            self.rendezvous.token(None);
        }
    }
}

/// Runs `evaluation` in a task of its own (on the current tokio runtime), in `span`, and
/// returns the rendezvous where its action token will meet the handler's report.
pub(crate) fn evaluate_aside(
    evaluation: impl Future<Output = Evaluation> + Send + 'static,
    span: tracing::Span,
) -> Arc<TokenRendezvous> {
    let rendezvous = Arc::new(TokenRendezvous::default());
    let hand_over = TokenHandOver::new(rendezvous.clone());
    tokio::spawn(
        async move {
            let evaluation = evaluation.await;
            hand_over.deliver(evaluation.action_token().cloned());
        }
        .instrument(span),
    );
    rendezvous
}
