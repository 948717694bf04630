//! The demo page (`GET /` on both example servers): login, step-up and transfer forms that
//! load the web SDK the way the vendor's quick start shows, send the SDK's session token (or
//! an action token the page triggered) in the headers, and show the outcome.

use crate::backend::Backend;

/// The page, with `{{SDK_URL}}` and `{{CLIENT_ID}}` to fill in.
const TEMPLATE: &str = include_str!("page/index.html");

/// Where the vendor serves the Platform web SDK (major version 1).
pub const VENDOR_SDK_URL: &str =
    "https://platform-websdk.transmitsecurity.io/platform-websdk/1.x/ts-platform-websdk.js";

/// The demo page for `backend`: the web SDK of the risk API it talks to (the emulator's
/// stand-in, or the vendor's SDK for a Transmit Security region) and its client id.
pub fn html(backend: &Backend) -> String {
    render(
        &sdk_url(backend.base_url()),
        backend.risk.client().client_id(),
    )
}

/// The SDK to load for a risk API at `base_url`.
pub fn sdk_url(base_url: &str) -> String {
    let vendor = url::Url::parse(base_url)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| h == "transmitsecurity.io" || h.ends_with(".transmitsecurity.io"))
        })
        .unwrap_or(false);
    if vendor {
        VENDOR_SDK_URL.to_owned()
    } else {
        // The emulator serves its stand-in at the vendor's path.
        format!(
            "{}{}",
            base_url.trim_end_matches('/'),
            risk_emulator::WEB_SDK_PATH
        )
    }
}

/// The page with its SDK (in an HTML attribute) and client id (in a JS string of a
/// `<script>`), each escaped for where it goes.
fn render(sdk_url: &str, client_id: &str) -> String {
    TEMPLATE
        .replace("{{SDK_URL}}", &escape_html(sdk_url))
        .replace("{{CLIENT_ID}}", &escape_js_string(client_id))
}

/// Text for the inside of a double-quoted JS string in a `<script>` element: JSON escaping,
/// and `<` as `\u003c` so the text cannot end the element.
fn escape_js_string(text: &str) -> String {
    let quoted = serde_json::Value::from(text).to_string();
    quoted
        .get(1..quoted.len().saturating_sub(1))
        .unwrap_or_default()
        .replace('<', "\\u003c")
}

/// Escapes text for an HTML attribute.
fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\\' => out.push_str("&#92;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sdk_comes_from_the_emulator_or_the_vendor() {
        assert_eq!(
            sdk_url("http://127.0.0.1:8787/"),
            "http://127.0.0.1:8787/platform-websdk/1.x/ts-platform-websdk.js"
        );
        assert_eq!(
            sdk_url("https://api.eu.transmitsecurity.io"),
            VENDOR_SDK_URL
        );
    }

    #[test]
    fn the_page_loads_the_sdk_as_the_quick_start_shows() {
        let page = render("http://127.0.0.1:1/sdk.js", "dev-client");
        assert!(page.contains(
            r#"<script src="http://127.0.0.1:1/sdk.js" defer="true" id="ts-platform-script"></script>"#
        ));
        assert!(page.contains(r#"clientId: "dev-client""#));
        assert!(!page.contains("{{"));
        // A client id cannot end the string or the script element.
        let page = render("x", "a\"b\\c\n</script>");
        assert!(
            page.contains(r#"clientId: "a\"b\\c\n\u003c/script>""#),
            "{page}"
        );
        assert!(render("\"><x", "id").contains(r#"src="&quot;&gt;&lt;x""#));
    }
}
