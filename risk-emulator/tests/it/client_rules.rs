//! `RiskClient` against the emulator: rules in both shapes (seed and current), their
//! statuses, and their effect on recommendations (production and preview).

use risk_core::{
    ClaimedUserIdType, Error, LegacyRecommendation, LegacyRule, LegacyRuleMode, Matcher,
    RecommendationType, Rule, RuleMatcher, RuleMode, RuleRecommendation,
};

use crate::common::client::{client, login, session, start};

#[tokio::test]
async fn legacy_rules_create_list_get_update_delete_and_errors() {
    let (emu, _) = start().await;
    let client = client(&emu);
    let rule = LegacyRule::new(
        "block test net",
        10,
        Matcher::IpCidrs(vec!["198.51.100.0/24".into()]),
        LegacyRecommendation::Deny,
        LegacyRuleMode::Production,
    );
    let created = client.create_legacy_rule(&rule).await.unwrap();
    assert!(!created.rule_id.is_empty());
    assert_eq!(created.message, "rule created");
    let id = created.rule_id;

    let list = client.list_legacy_rules().await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].id, id);
    assert_eq!(list[0].rule, rule);

    let got = client.get_legacy_rule(&id).await.unwrap();
    assert_eq!(got.id, id);
    assert_eq!(got.data, rule);

    // The same rule in the current shape.
    let current = client.get_rule(&id).await.unwrap();
    assert_eq!(current.rule.name.as_deref(), Some("block test net"));
    assert_eq!(current.rule.priority, 10);
    assert_eq!(current.rule.recommendation, RuleRecommendation::Deny);
    assert_eq!(current.rule.mode, RuleMode::Production);
    assert!(current.rule.enabled);
    assert_eq!(
        current.rule.matchers,
        vec![RuleMatcher::from(Matcher::IpCidrs(vec![
            "198.51.100.0/24".into()
        ]))]
    );
    assert_eq!(client.list_rules().await.unwrap(), vec![current]);

    // Unique name and unique priority: 409.
    let mut same_name = rule.clone();
    same_name.priority = 11;
    let err = client.create_legacy_rule(&same_name).await.unwrap_err();
    match &err {
        Error::Conflict { message } => assert!(message.contains("block test net"), "{message}"),
        other => panic!("expected Conflict, got {other:?}"),
    }
    let mut same_priority = rule.clone();
    same_priority.name = Some("another".into());
    let err = client.create_legacy_rule(&same_priority).await.unwrap_err();
    match &err {
        Error::Conflict { message } => assert!(message.contains("priority 10"), "{message}"),
        other => panic!("expected Conflict, got {other:?}"),
    }
    // An invalid rule: 400 with the reason.
    let mut invalid = rule.clone();
    invalid.name = Some("bad priority".into());
    invalid.priority = 0;
    let err = client.create_legacy_rule(&invalid).await.unwrap_err();
    assert!(matches!(err, Error::BadRequest { .. }), "{err:?}");

    // Update: PUT replaces it.
    let mut updated = rule.clone();
    updated.recommendation = LegacyRecommendation::Challenge;
    updated.mode = LegacyRuleMode::Preview;
    updated.enabled = false;
    let msg = client.update_legacy_rule(&id, &updated).await.unwrap();
    assert_eq!(msg.message, "rule updated");
    assert_eq!(client.get_legacy_rule(&id).await.unwrap().data, updated);
    let current = client.get_rule(&id).await.unwrap();
    assert_eq!(current.rule.recommendation, RuleRecommendation::Challenge);
    assert_eq!(current.rule.mode, RuleMode::Preview);
    assert!(!current.rule.enabled);
    // Updating a second rule onto the first one's name collides.
    let mut second = same_priority.clone();
    second.priority = 20;
    let other_id = client.create_legacy_rule(&second).await.unwrap().rule_id;
    let mut onto_first = second.clone();
    onto_first.name = Some("block test net".into());
    let err = client
        .update_legacy_rule(&other_id, &onto_first)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err:?}");

    // Unknown ids: 404.
    let err = client
        .update_legacy_rule("rule-does-not-exist", &updated)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    let err = client
        .get_legacy_rule("rule-does-not-exist")
        .await
        .unwrap_err();
    match err {
        Error::NotFound { message } => assert!(message.contains("rule-does-not-exist")),
        other => panic!("expected NotFound, got {other:?}"),
    }

    // Delete; then it is gone from both shapes.
    let msg = client.delete_legacy_rule(&id).await.unwrap();
    assert_eq!(msg.message, "rule deleted");
    let err = client.get_legacy_rule(&id).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    let err = client.get_rule(&id).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    let err = client.delete_legacy_rule(&id).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    let remaining = client.list_legacy_rules().await.unwrap();
    assert_eq!(remaining.len(), 1);
    assert_eq!(remaining[0].id, other_id);
    // 409/404/400 are answers, not failures: none was retried.
    let stats = emu.stats();
    assert_eq!(stats.responses("rules", 409), 3);
    assert_eq!(stats.responses("rules", 404), 5);
    assert_eq!(stats.responses("rules", 400), 1);
}

#[tokio::test]
async fn current_rules_create_list_get_update_delete_and_errors() {
    let (emu, _) = start().await;
    let client = client(&emu);
    let rule = Rule::new("known bad devices", 5, RuleRecommendation::Deny)
        .with_matcher(Matcher::DeviceIds(vec!["evil-1".into(), "evil-2".into()]))
        .with_matcher(Matcher::CountryCodes(vec!["US".into()]))
        .with_mode(RuleMode::Production)
        .with_description("devices seen in fraud cases")
        .enabled(true);
    let stored = client.create_rule(&rule).await.unwrap();
    assert!(!stored.id.is_empty());
    assert_eq!(stored.rule, rule);
    let id = stored.id.clone();

    assert_eq!(client.list_rules().await.unwrap(), vec![stored.clone()]);
    assert_eq!(client.get_rule(&id).await.unwrap(), stored);

    // Visible in the seed shape (with its first matcher).
    let legacy = client.get_legacy_rule(&id).await.unwrap();
    assert_eq!(legacy.id, id);
    assert_eq!(legacy.data.name.as_deref(), Some("known bad devices"));
    assert_eq!(legacy.data.priority, 5);
    assert_eq!(legacy.data.recommendation, LegacyRecommendation::Deny);
    assert_eq!(legacy.data.mode, LegacyRuleMode::Production);
    assert!(legacy.data.enabled);
    assert_eq!(
        legacy.data.matcher,
        Matcher::DeviceIds(vec!["evil-1".into(), "evil-2".into()])
    );
    let legacy_list = client.list_legacy_rules().await.unwrap();
    assert_eq!(legacy_list.len(), 1);
    assert_eq!(legacy_list[0].id, id);

    // Conflicts, also across the two shapes.
    let dup_name = Rule::new("known bad devices", 6, RuleRecommendation::Challenge)
        .with_matcher(Matcher::UserIds(vec!["x".into()]));
    let err = client.create_rule(&dup_name).await.unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
    let dup_priority = Rule::new("other", 5, RuleRecommendation::Challenge)
        .with_matcher(Matcher::UserIds(vec!["x".into()]));
    let err = client.create_rule(&dup_priority).await.unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
    let legacy_dup = LegacyRule::new(
        "known bad devices",
        99,
        Matcher::UserIds(vec!["x".into()]),
        LegacyRecommendation::Challenge,
        LegacyRuleMode::Preview,
    );
    let err = client.create_legacy_rule(&legacy_dup).await.unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
    // Invalid: no matcher, or an unknown matcher kind.
    let err = client
        .create_rule(&Rule::new("empty", 7, RuleRecommendation::Allow))
        .await
        .unwrap_err();
    match err {
        Error::BadRequest { message } => assert!(message.contains("matchers"), "{message}"),
        other => panic!("expected BadRequest, got {other:?}"),
    }
    // A field (or an operator) this version does not know is kept, never a reason to refuse
    // or drop the rule: it round-trips, and the rule lists.
    let mystery = Rule::new("mystery", 8, RuleRecommendation::Allow).with_matcher(Matcher::Other {
        kind: "moon_phase".into(),
        value: serde_json::json!(["full"]),
    });
    let kept = client.create_rule(&mystery).await.unwrap();
    assert_eq!(kept.rule, mystery);
    assert!(client
        .list_rules()
        .await
        .unwrap()
        .iter()
        .any(|r| r.id == kept.id));
    client.delete_rule(&kept.id).await.unwrap();

    // Update returns the new rule.
    let changed = Rule::new("known bad devices", 3, RuleRecommendation::Challenge)
        .with_matcher(Matcher::DeviceIds(vec!["evil-3".into()]))
        .with_mode(RuleMode::Preview)
        .enabled(true);
    let updated = client.update_rule(&id, &changed).await.unwrap();
    assert_eq!(updated.id, id);
    assert_eq!(updated.rule, changed);
    assert_eq!(client.get_rule(&id).await.unwrap().rule, changed);
    assert_eq!(
        client.get_legacy_rule(&id).await.unwrap().data.mode,
        LegacyRuleMode::Preview
    );
    let err = client
        .update_rule("rule-does-not-exist", &changed)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");

    // Delete; a rule created in the seed shape is deleted through the current API too.
    let legacy_id = client
        .create_legacy_rule(&LegacyRule::new(
            "legacy one",
            50,
            Matcher::UserIds(vec!["mallory".into()]),
            LegacyRecommendation::Challenge,
            LegacyRuleMode::Production,
        ))
        .await
        .unwrap()
        .rule_id;
    let listed: Vec<String> = client
        .list_rules()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(listed, vec![id.clone(), legacy_id.clone()], "by priority");
    assert_eq!(
        client.delete_rule(&legacy_id).await.unwrap().message,
        "rule deleted"
    );
    client.delete_rule(&id).await.unwrap();
    let err = client.get_rule(&id).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    let err = client.delete_rule(&id).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    assert!(client.list_rules().await.unwrap().is_empty());
    assert!(client.list_legacy_rules().await.unwrap().is_empty());
    // Ids are checked before sending.
    let err = client.get_rule(" ").await.unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
}

#[tokio::test]
async fn a_production_deny_rule_changes_the_recommendation() {
    let (emu, _) = start().await;
    let client = client(&emu);
    let s = session(&emu, "dev-mallory", "203.0.113.66");
    let before = client
        .trigger_action_with_recommendation(&login(&s).with_user_id("mallory"))
        .await
        .unwrap()
        .1;
    assert_eq!(*before.recommendation_type(), RecommendationType::Allow);

    let rule = client
        .create_rule(
            &Rule::new("deny mallory", 1, RuleRecommendation::Deny)
                .with_matcher(Matcher::UserIds(vec!["mallory".into()]))
                .with_mode(RuleMode::Production)
                .enabled(true),
        )
        .await
        .unwrap();
    let a = client
        .trigger_action(&login(&s).with_user_id("mallory"))
        .await
        .unwrap();
    let rec = client.get_recommendation(&a.action_token).await.unwrap();
    assert_eq!(*rec.recommendation_type(), RecommendationType::Deny);
    assert!(
        rec.risk_score.is_some_and(|s| s >= 90.0),
        "{:?}",
        rec.risk_score
    );
    assert!(rec.preview_rule.is_none());
    // A claimed user matches too; another user does not.
    let claimed = client
        .trigger_action_with_recommendation(
            &login(&s).with_claimed_user_id("mallory", ClaimedUserIdType::Email),
        )
        .await
        .unwrap()
        .1;
    assert_eq!(*claimed.recommendation_type(), RecommendationType::Deny);
    let other = client
        .trigger_action_with_recommendation(&login(&s).with_user_id("alice"))
        .await
        .unwrap()
        .1;
    assert_eq!(*other.recommendation_type(), RecommendationType::Allow);

    // Disabled: no effect.
    let mut disabled = rule.rule.clone();
    disabled.enabled = false;
    client.update_rule(&rule.id, &disabled).await.unwrap();
    let rec = client
        .trigger_action_with_recommendation(&login(&s).with_user_id("mallory"))
        .await
        .unwrap()
        .1;
    assert_eq!(*rec.recommendation_type(), RecommendationType::Allow);

    // A seed-shape production rule on the IP range works the same way.
    client
        .create_legacy_rule(&LegacyRule::new(
            "deny test net",
            2,
            Matcher::IpCidrs(vec!["203.0.113.0/24".into()]),
            LegacyRecommendation::Deny,
            LegacyRuleMode::Production,
        ))
        .await
        .unwrap();
    let rec = client
        .trigger_action_with_recommendation(&login(&s).with_user_id("alice"))
        .await
        .unwrap()
        .1;
    assert_eq!(*rec.recommendation_type(), RecommendationType::Deny);
    let elsewhere = session(&emu, "dev-elsewhere", "192.0.2.10");
    let rec = client
        .trigger_action_with_recommendation(&login(&elsewhere))
        .await
        .unwrap()
        .1;
    assert_eq!(*rec.recommendation_type(), RecommendationType::Allow);
}

#[tokio::test]
async fn a_preview_rule_is_reported_without_changing_the_decision() {
    let (emu, _) = start().await;
    let client = client(&emu);
    client
        .create_legacy_rule(&LegacyRule::new(
            "would challenge the kiosk",
            10,
            Matcher::DeviceIds(vec!["kiosk-1".into()]),
            LegacyRecommendation::Challenge,
            LegacyRuleMode::Preview,
        ))
        .await
        .unwrap();
    let s = session(&emu, "kiosk-1", "203.0.113.80");
    let a = client.trigger_action(&login(&s)).await.unwrap();
    let rec = client.get_recommendation(&a.action_token).await.unwrap();
    assert_eq!(*rec.recommendation_type(), RecommendationType::Allow);
    assert_eq!(rec.risk_score, Some(10.0));
    let preview = rec.preview_rule.expect("preview_rule is reported");
    assert_eq!(
        preview.rule_name.as_deref(),
        Some("would challenge the kiosk")
    );
    assert_eq!(preview.recommendation, Some(RecommendationType::Challenge));
    assert_eq!(preview.risk_score, Some(50.0));

    // A preview rule ranked before a matching production rule: both take effect their way.
    client
        .create_rule(
            &Rule::new("trust the kiosk", 20, RuleRecommendation::Trust)
                .with_matcher(Matcher::DeviceIds(vec!["kiosk-1".into()]))
                .with_mode(RuleMode::Production)
                .enabled(true),
        )
        .await
        .unwrap();
    let (_, rec) = client
        .trigger_action_with_recommendation(&login(&s))
        .await
        .unwrap();
    assert_eq!(*rec.recommendation_type(), RecommendationType::Trust);
    assert_eq!(
        rec.preview_rule.and_then(|p| p.rule_name).as_deref(),
        Some("would challenge the kiosk")
    );
    // Another device: no rule matches.
    let other = session(&emu, "desk-2", "203.0.113.80");
    let (_, rec) = client
        .trigger_action_with_recommendation(&login(&other))
        .await
        .unwrap();
    assert!(rec.preview_rule.is_none());
    assert_eq!(*rec.recommendation_type(), RecommendationType::Allow);
}
