//! How a triggered action is assessed: the signals of its session and history, the facts
//! rules match against, the score and recommendation (a production rule's, else the
//! engine's); and the recommendation answered for a kept action, rebuilt from what it keeps.

use risk_core::{
    PreviewRule, RecommendationContext, RecommendationResponse, RecommendationType, RiskSignals,
    TriggerActionRequest,
};

use crate::config::Thresholds;
use crate::engine::{self, Assessment, History, Signals};
use crate::rules::{Facts, RuleHit, RuleOutcome};

use super::{Action, Decided, Session};

/// An action being triggered: the request, its session, the calling client, and whom the
/// action is about.
pub(super) struct NewAction<'a> {
    req: &'a TriggerActionRequest,
    session: &'a Session,
    client: Option<&'a str>,
    /// `user_id`, else the session's user.
    pub(super) user_id: Option<String>,
    /// `user_id`, else `claimed_user_id`, else the session's user.
    pub(super) subject: Option<String>,
    now: i64,
}

/// The ids a recommendation carries (derived from its action token's key).
pub(super) struct RecommendationIds {
    pub(super) action_id: String,
    pub(super) recommendation_id: String,
}

impl<'a> NewAction<'a> {
    pub(super) fn new(
        req: &'a TriggerActionRequest,
        session: &'a Session,
        session_user: Option<&str>,
        client: Option<&'a str>,
        now: i64,
    ) -> Self {
        let session_user = || session_user.map(str::to_owned);
        let subject = req
            .user_id
            .clone()
            .or_else(|| req.claimed_user_id.clone())
            .or_else(session_user);
        let user_id = req.user_id.clone().or_else(session_user);
        Self {
            req,
            session,
            client,
            user_id,
            subject,
            now,
        }
    }

    /// The signals of the action: its session's telemetry and network, what `history` knew
    /// of the device and subject before it, and the history counts once it is recorded.
    pub(super) fn signals(&self, history: &mut History) -> Signals {
        let session = self.session;
        let device = session.device_id.as_str();
        let subject = self.subject.as_deref();
        let device_new = !history.device_seen(device);
        let profile_device_new =
            subject.is_some_and(|u| history.user_known(u) && !history.linked(u, device));
        let trusted = subject.is_some_and(|u| history.trusted(u, device));
        let counts = history.record_action(self.now, &session.ip, subject, device);
        let t = &session.t;
        Signals {
            headless: t.headless,
            webdriver: t.webdriver,
            no_user_interaction: t.no_user_interaction,
            vpn: t.vpn,
            tor: t.tor,
            hosting: session.hosting,
            proxy: t.proxy,
            anonymizer: session.anonymizer,
            incognito: t.incognito,
            private_browser: t.private_browser,
            device_new,
            profile_device_new,
            trusted,
            history: counts,
        }
    }

    /// What rules match against.
    pub(super) fn facts(&self) -> Facts<'_> {
        let t = &self.session.t;
        Facts {
            ip: self.session.ip_addr,
            user_id: self.user_id.as_deref(),
            claimed_user_id: self.req.claimed_user_id.as_deref(),
            device_id: Some(self.session.device_id.as_str()),
            fingerprint: t.device_fingerprint.as_deref(),
            public_key: t.device_public_key.as_deref(),
            country: Some(&self.session.country),
            browser_name: t.browser_name.as_deref(),
            os_version: t.os_version.as_deref(),
            action_type: Some(self.req.action_type.as_str()),
            client_id: self.client,
            device_platform: t.device_platform.as_deref(),
            user_agent: t.user_agent.as_deref(),
            location: t.location.as_deref(),
        }
    }

    /// What the engine and the rules decide for the action.
    pub(super) fn decide(
        &self,
        signals: &Signals,
        outcome: RuleOutcome,
        thresholds: &Thresholds,
    ) -> Decided {
        let assessment = engine::assess(signals, thresholds);
        let (recommendation, score) =
            decision(outcome.production.as_ref(), &assessment, thresholds);
        Decided {
            recommendation,
            score,
            preview: outcome
                .preview
                .map(|p| Box::new(preview_rule(p, assessment.score, thresholds))),
            reasons: assessment.reasons.into_boxed_slice(),
        }
    }
}

impl Action {
    /// The recommendation answered for the action (the same every time it is asked).
    pub(super) fn response(&self, ids: RecommendationIds) -> RecommendationResponse {
        let d = &self.decided;
        let mut rec = RecommendationResponse::new(d.recommendation.clone(), d.score);
        rec.id = ids.recommendation_id;
        rec.issued_at = Some(self.created);
        rec.reasons = d.reasons.to_vec();
        rec.transaction_data = self.request.transaction_data().cloned();
        rec.custom_attributes = self.request.custom_attributes().cloned();
        rec.preview_rule = d.preview.as_deref().cloned();
        rec.context = self.context(ids.action_id);
        // Fetched after its result was reported: the answer says which (as the API does).
        rec.context.action_result = self.result.map(|r| r.as_str().to_owned());
        self.fill_risk_signals(&mut rec.risk_signals);
        rec
    }

    /// The recommendation's context: the action, the client, and the session's telemetry
    /// (what the emulator cannot know, such as the IP's city or domain, is left out).
    fn context(&self, action_id: String) -> RecommendationContext {
        let (req, session) = (&self.request, &self.session);
        let t = &session.t;
        let mut c = RecommendationContext::default();
        c.action_id = Some(action_id);
        c.action_type = Some(req.action_type.clone());
        c.action_performed_at = Some(self.created);
        c.client_id = self.client_id.as_deref().map(str::to_owned);
        c.application_id.clone_from(&c.client_id);
        c.tenant_id = Some("emulator".to_owned());
        c.device_id = Some(session.device_id.clone());
        c.correlation_id = req.correlation_id().cloned();
        c.device_fingerprint.clone_from(&t.device_fingerprint);
        c.user_id.clone_from(&self.user_id);
        c.claimed_user_id = req.claimed_user_id().cloned();
        c.ip = Some(session.ip.clone());
        c.ip_country = Some(session.country.clone());
        c.ip_organization_type = Some(if session.hosting { "hosting" } else { "isp" }.to_owned());
        c.device_timezone.clone_from(&t.timezone);
        c.device_platform.clone_from(&t.device_platform);
        c.os_name.clone_from(&t.os_name);
        c.os_version.clone_from(&t.os_version);
        c.browser_name.clone_from(&t.browser_name);
        c.browser_version.clone_from(&t.browser_version);
        c.user_agent.clone_from(&t.user_agent);
        c.device_public_key.clone_from(&t.device_public_key);
        c.device_languages.clone_from(&t.languages);
        c.location.clone_from(&t.location);
        c.sdk_version.clone_from(&t.sdk_version);
        c
    }

    /// The recommendation's risk signals: device, network, behaviour and history.
    fn fill_risk_signals(&self, rs: &mut RiskSignals) {
        let session = &self.session;
        let counts = &self.signals.history;
        let t = &session.t;
        rs.device.incognito = Some(t.incognito);
        rs.device.private_browser = Some(t.private_browser);
        rs.device.tampered = Some(false);
        rs.device.emulated = Some(false);
        rs.device.spoofed = Some(false);
        rs.device.tz_mismatch = Some(false);
        rs.device.navigator_useragent.clone_from(&t.user_agent);
        rs.network.x_forwarded_for.clone_from(&t.x_forwarded_for);
        rs.network.vpn = Some(t.vpn);
        rs.network.tor = Some(t.tor);
        rs.network.hosting = Some(session.hosting);
        rs.network.proxy = Some(t.proxy);
        rs.network.anonymizer = Some(session.anonymizer || t.vpn || t.tor || t.proxy);
        rs.behavior.typing_velocity = t.typing_velocity;
        rs.behavior.no_user_interaction = Some(t.no_user_interaction);
        if !t.no_user_interaction {
            rs.behavior.input_method.push("is_typing".to_owned());
        }
        if t.pasted_input {
            rs.behavior.input_method.push("is_paste".to_owned());
        }
        let h = &mut rs.history;
        h.ip_action_rate_60_sec = Some(counts.ip_action_rate_60_sec);
        h.user_action_rate_60_sec = Some(counts.user_action_rate_60_sec);
        h.device_action_rate_60_sec = Some(counts.device_action_rate_60_sec);
        h.ip_user_count_last_hour = Some(counts.ip_user_count_last_hour);
        h.ip_device_count_last_hour = Some(counts.ip_device_count_last_hour);
        h.linking_user_to_device_count = Some(counts.linking_user_to_device_count);
        h.linking_device_to_users_count = Some(counts.linking_device_to_users_count);
    }
}

/// The recommendation and score: a matching production rule's (scored for it), else the
/// engine's.
fn decision(
    production: Option<&RuleHit>,
    assessment: &Assessment,
    thresholds: &Thresholds,
) -> (RecommendationType, f64) {
    match production {
        Some(hit) => (
            hit.recommendation.clone(),
            engine::rule_score(&hit.recommendation, assessment.score, thresholds),
        ),
        None => (assessment.recommendation.clone(), assessment.score),
    }
}

/// What a matching preview rule would have recommended, scored for it.
fn preview_rule(hit: RuleHit, score: f64, thresholds: &Thresholds) -> PreviewRule {
    let mut preview = PreviewRule::default();
    preview.risk_score = Some(engine::rule_score(&hit.recommendation, score, thresholds));
    preview.rule_name = Some(hit.name);
    preview.recommendation = Some(hit.recommendation);
    preview
}
