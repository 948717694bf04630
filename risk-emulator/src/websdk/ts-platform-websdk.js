/*
 * ts-platform-websdk.js: the risk emulator's stand-in for Mosaic's (Transmit Security's)
 * Platform web SDK. It exposes the same surface (`window.tsPlatform.initialize` and
 * `window.tsPlatform.drs.*`) but, instead of the vendor's telemetry channel, it talks to
 * the emulator's `/emulator/v1/*` endpoints on the origin this script was loaded from.
 * Plain ES2018, no build step, no dependencies.
 */
(function () {
  "use strict";

  const script = document.currentScript || document.getElementById("ts-platform-script");
  const base = new URL((script && script.src) || location.href, location.href).origin;
  const FINGERPRINT_KEY = "ts_drs_device_fingerprint";
  const SDK_VERSION = "1.x-emulator";
  const FLUSH_DELAY_MS = 300;

  let initPromise = null; // resolves to the session: { session_token, device_id }
  let sessionEnabled = false;
  let memoryFingerprint = null;

  // ---- HTTP ----------------------------------------------------------------------------

  async function request(method, path, body) {
    const init = { method, mode: "cors", credentials: "omit", headers: {} };
    if (body !== undefined) {
      init.headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const res = await fetch(base + path, init);
    const text = await res.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch (_) {
        data = null;
      }
    }
    if (!res.ok) {
      const detail = (data && data.message) || text || res.statusText;
      // The path is redacted: a session token must not end up in an error shown to users.
      const route = path.replace(/\/sessions\/[^/]+/, "/sessions/{token}");
      const err = new Error(`tsPlatform: ${method} ${route} failed (${res.status}): ${detail}`);
      err.status = res.status;
      err.body = data;
      throw err;
    }
    return data;
  }

  function sessionPath(token, suffix) {
    return `/emulator/v1/sessions/${encodeURIComponent(token)}${suffix || ""}`;
  }

  // ---- Device fingerprint --------------------------------------------------------------

  function randomHex(bytes) {
    const buf = new Uint8Array(bytes);
    crypto.getRandomValues(buf);
    return Array.from(buf, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function deviceFingerprint() {
    let id = null;
    try {
      id = localStorage.getItem(FINGERPRINT_KEY);
    } catch (_) {
      id = null;
    }
    if (!id) {
      id = memoryFingerprint || randomHex(16);
      try {
        localStorage.setItem(FINGERPRINT_KEY, id);
      } catch (_) {
        // Storage unavailable (private mode, sandboxed frame): keep it in memory.
      }
    }
    memoryFingerprint = id;
    return id;
  }

  // ---- Interaction tracking ------------------------------------------------------------

  const behaviour = { keystrokes: 0, firstKeyAt: null, lastKeyAt: null, pointer: 0, pasted: false };
  let dirty = false;
  let flushTimer = null;
  let flushChain = Promise.resolve();

  function changed() {
    dirty = true;
    clearTimeout(flushTimer);
    flushTimer = setTimeout(() => flush().catch(warnNotSent), FLUSH_DELAY_MS);
  }

  function onKeyDown(e) {
    const key = typeof e.key === "string" ? e.key : "";
    if (key.length !== 1 && key !== "Backspace") return;
    const now = performance.now();
    if (behaviour.firstKeyAt === null) behaviour.firstKeyAt = now;
    behaviour.lastKeyAt = now;
    behaviour.keystrokes += 1;
    changed();
  }

  function onPaste() {
    behaviour.pasted = true;
    changed();
  }

  function onPointer() {
    behaviour.pointer += 1;
    changed();
  }

  function startTracking() {
    const opts = { capture: true, passive: true };
    document.addEventListener("keydown", onKeyDown, opts);
    document.addEventListener("paste", onPaste, opts);
    for (const type of ["pointermove", "mousemove", "pointerdown", "touchstart"]) {
      document.addEventListener(type, onPointer, opts);
    }
  }

  function typingVelocity() {
    if (behaviour.keystrokes < 2) return null;
    const seconds = (behaviour.lastKeyAt - behaviour.firstKeyAt) / 1000;
    if (!(seconds > 0)) return null;
    return Math.round((behaviour.keystrokes / seconds) * 100) / 100;
  }

  function snapshot() {
    return {
      no_user_interaction: behaviour.keystrokes === 0 && behaviour.pointer === 0 && !behaviour.pasted,
      pasted_input: behaviour.pasted,
      typing_velocity: typingVelocity(),
    };
  }

  // Sends the behaviour to the session if it changed; flushes run one after another.
  function flush() {
    clearTimeout(flushTimer);
    const run = flushChain.then(async () => {
      if (!dirty || !initPromise) return;
      const session = await initPromise;
      if (!dirty) return;
      dirty = false;
      try {
        await request("PATCH", sessionPath(session.session_token), snapshot());
      } catch (err) {
        dirty = true;
        throw err;
      }
    });
    flushChain = run.catch(() => {});
    return run;
  }

  // ---- Public API ----------------------------------------------------------------------

  // Telemetry is best effort, as the vendor's SDK: a failed send never fails a token.
  function warnNotSent(err) {
    console.warn("tsPlatform: the page's interaction was not sent (retried with the next call)", err);
  }

  async function session() {
    if (!initPromise) throw new Error("tsPlatform: call tsPlatform.initialize() before using drs");
    const s = await initPromise;
    await flush().catch(warnNotSent);
    return s.session_token;
  }

  async function sessionTokenAllowed() {
    if (initPromise && !sessionEnabled) {
      throw new Error("tsPlatform: initialize() was not called with drs.enableSessionToken: true");
    }
    return session();
  }

  function requireString(value, name) {
    if (typeof value !== "string" || value === "") {
      throw new Error(`tsPlatform: ${name} must be a non-empty string`);
    }
  }

  let tracking = false;

  function initialize(options) {
    if (initPromise) return initPromise;
    const opts = options || {};
    sessionEnabled = !!(opts.drs && opts.drs.enableSessionToken === true);
    if (!tracking) {
      tracking = true;
      startTracking();
    }
    const attempt = (async () => {
      requireString(opts.clientId, "clientId");
      const languages =
        Array.isArray(navigator.languages) && navigator.languages.length
          ? Array.from(navigator.languages)
          : [navigator.language].filter(Boolean);
      const created = await request("POST", "/emulator/v1/sessions", {
        client_id: opts.clientId,
        device_fingerprint: deviceFingerprint(),
        user_agent: navigator.userAgent,
        timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
        languages,
        location: location.href,
        sdk_version: SDK_VERSION,
        webdriver: navigator.webdriver === true,
        no_user_interaction: true,
      });
      if (!created || typeof created.session_token !== "string") {
        throw new Error("tsPlatform: the session answer has no session_token");
      }
      return created;
    })();
    initPromise = attempt;
    // A failed initialize can be called again.
    attempt.catch(() => {
      if (initPromise === attempt) initPromise = null;
    });
    return attempt;
  }

  const drs = {
    getSessionToken() {
      return sessionTokenAllowed();
    },

    async getSecureSessionToken(actionType) {
      const token = await sessionTokenAllowed();
      const res = await request("POST", sessionPath(token, "/secure"), { action_type: actionType });
      if (!res || typeof res.secured_session_token !== "string") {
        throw new Error("tsPlatform: the answer has no secured_session_token");
      }
      return res.secured_session_token;
    },

    async triggerActionEvent(actionType, options) {
      requireString(actionType, "actionType");
      const opts = options || {};
      const token = await session();
      const body = { session_token: token, action_type: actionType };
      if (opts.correlationId != null) body.correlation_id = opts.correlationId;
      if (opts.claimedUserId != null) body.claimed_user_id = opts.claimedUserId;
      const res = await request("POST", "/emulator/v1/sdk/trigger-action", body);
      if (!res || typeof res.action_token !== "string") {
        throw new Error("tsPlatform: the answer has no action_token");
      }
      return { actionToken: res.action_token };
    },

    async setAuthenticatedUser(userId) {
      requireString(userId, "userId");
      const token = await session();
      await request("PUT", sessionPath(token, "/user"), { user_id: userId });
      return true;
    },

    async clearUser() {
      const token = await session();
      await request("DELETE", sessionPath(token, "/user"));
      return true;
    },
  };

  window.tsPlatform = { initialize, drs };
})();
