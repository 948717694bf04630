//! `risk assess` and `risk evaluate ip`: one assessment, printed for support work.

use std::process::ExitCode;

use clap::Args;
use risk_core::{
    ActionResult, ActionResultReport, ActionToken, ActionType, EvaluateRequest,
    RecommendationResponse, RiskClient, TriggerActionRequest,
};
use serde::Serialize;

use crate::exit::Failure;
use crate::output::{self, Format};

/// What to assess.
#[derive(Debug, Args)]
pub(crate) struct AssessArgs {
    /// A session token from the web or mobile SDK: the action is triggered for it.
    #[arg(
        long,
        conflicts_with = "action_token",
        required_unless_present = "action_token"
    )]
    session_token: Option<String>,
    /// An action token the front end triggered: its recommendation is read.
    #[arg(long)]
    action_token: Option<String>,
    /// The action type (login, register, transaction, ... or a custom name).
    #[arg(long, default_value = "login")]
    action: String,
    /// The user the request claims to be.
    #[arg(long)]
    claimed_user: Option<String>,
    /// Reports this result for the action afterwards.
    #[arg(long, value_parser = ["success", "failure", "incomplete"])]
    report: Option<String>,
}

/// What is printed of an assessment (tokens shortened).
#[derive(Debug, Serialize)]
struct Printed<'a> {
    action_token: String,
    recommendation: &'a str,
    risk_score: Option<f64>,
    reasons: Vec<&'a str>,
    action_type: Option<&'a str>,
    device_id: Option<&'a str>,
    ip: Option<&'a str>,
    ip_country: Option<&'a str>,
    user_id: Option<&'a str>,
    reported: Option<&'a str>,
}

pub(crate) async fn run(
    client: &RiskClient,
    args: &AssessArgs,
    format: Format,
) -> Result<ExitCode, Failure> {
    let (token, recommendation) = match (&args.session_token, &args.action_token) {
        (Some(session), _) => {
            let mut request =
                TriggerActionRequest::new(session.as_str(), ActionType::from(args.action.as_str()));
            request.claimed_user_id.clone_from(&args.claimed_user);
            client.trigger_action_with_recommendation(&request).await?
        }
        (None, Some(token)) => {
            let token = ActionToken::new(token.clone());
            let recommendation = client.get_recommendation(&token).await?;
            (token, recommendation)
        }
        (None, None) => return Err(Failure::refused("give --session-token or --action-token")),
    };
    if let Some(result) = &args.report {
        let result = match result.as_str() {
            "success" => ActionResult::Success,
            "failure" => ActionResult::Failure,
            _ => ActionResult::Incomplete,
        };
        client
            .report_action_result(&ActionResultReport::new(token.clone(), result))
            .await?;
    }
    print(&token, &recommendation, args.report.as_deref(), format);
    Ok(ExitCode::SUCCESS)
}

fn print(token: &ActionToken, r: &RecommendationResponse, reported: Option<&str>, format: Format) {
    let c = &r.context;
    let printed = Printed {
        action_token: output::short_token(token.expose()),
        recommendation: r.recommendation_type().as_str(),
        risk_score: r.risk_score,
        reasons: r.reasons.iter().map(|reason| reason.as_str()).collect(),
        action_type: c.action_type.as_ref().map(|t| t.as_str()),
        device_id: c.device_id.as_deref(),
        ip: c.ip.as_deref(),
        ip_country: c.ip_country.as_deref(),
        user_id: c.user_id.as_deref(),
        reported,
    };
    match format {
        Format::Json => output::json(&printed),
        Format::Table => {
            let opt = |v: Option<&str>| v.unwrap_or("-").to_owned();
            let rows = vec![
                vec!["action token".to_owned(), printed.action_token.clone()],
                vec![
                    "recommendation".to_owned(),
                    printed.recommendation.to_owned(),
                ],
                vec![
                    "risk score".to_owned(),
                    printed
                        .risk_score
                        .map_or_else(|| "-".to_owned(), |s| format!("{s}")),
                ],
                vec!["reasons".to_owned(), printed.reasons.join(", ")],
                vec!["action type".to_owned(), opt(printed.action_type)],
                vec!["device".to_owned(), opt(printed.device_id)],
                vec!["ip".to_owned(), opt(printed.ip)],
                vec!["country".to_owned(), opt(printed.ip_country)],
                vec!["user".to_owned(), opt(printed.user_id)],
                vec!["reported".to_owned(), opt(printed.reported)],
            ];
            output::table(&["field", "value"], &rows);
        }
    }
}

pub(crate) async fn evaluate_ip(
    client: &RiskClient,
    address: &str,
    format: Format,
) -> Result<ExitCode, Failure> {
    let answer = client.evaluate(&EvaluateRequest::ip(address)).await?;
    match format {
        Format::Json => output::json(&answer),
        Format::Table => output::table(
            &["ip", "recommendation", "rule"],
            &[vec![
                address.to_owned(),
                answer
                    .recommendation
                    .recommendation_type
                    .as_str()
                    .to_owned(),
                answer.rule_name.clone().unwrap_or_else(|| "-".to_owned()),
            ]],
        ),
    }
    Ok(ExitCode::SUCCESS)
}
