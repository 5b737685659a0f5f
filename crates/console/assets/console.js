// Roster console: small enhancements, and the passkey ceremonies. Every flow but passkeys
// works without this file; passkeys need the browser's WebAuthn API, so their buttons show
// only where it exists.
"use strict";

// Emailed links carry their token in the fragment (never sent to a server): put it into the
// form's token field, hide what only someone pasting by hand needs, and take the token out of
// the address bar and history. The form is still sent only by the user's click.
function takeTokenFromFragment() {
  const form = document.querySelector("form[data-fragment-token]");
  const fragment = window.location.hash.slice(1);
  if (!form || !fragment.startsWith(form.dataset.fragmentToken)) return;
  const field = form.querySelector("input[name=token]");
  if (field) {
    field.value = fragment;
    for (const element of document.querySelectorAll("[data-hide-with-token]")) {
      element.hidden = true;
    }
    const next = form.querySelector("input[type=password]");
    if (next) next.focus();
  }
  history.replaceState(null, "", window.location.pathname + window.location.search);
}

// ---- Passkeys (WebAuthn) ------------------------------------------------------------------
// The server speaks JSON with base64url for bytes (as webauthn-rs writes and reads it); the
// browser's API takes and gives ArrayBuffers. The ceremony's start and finish are console
// routes answering JSON; they take the page's CSRF token in a header.

function bytesOf(base64url) {
  const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0)).buffer;
}

function base64urlOf(buffer) {
  let binary = "";
  for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

// The server's options for navigator.credentials.create / .get, with bytes where bytes go.
function browserOptions(options) {
  const publicKey = structuredClone(options.publicKey);
  publicKey.challenge = bytesOf(publicKey.challenge);
  if (publicKey.user) publicKey.user.id = bytesOf(publicKey.user.id);
  for (const list of [publicKey.excludeCredentials, publicKey.allowCredentials]) {
    for (const credential of list || []) credential.id = bytesOf(credential.id);
  }
  return { publicKey };
}

// The browser's PublicKeyCredential as the JSON the server reads.
function credentialJson(credential) {
  const response = credential.response;
  const json = {
    id: credential.id,
    rawId: base64urlOf(credential.rawId),
    type: credential.type,
    response: { clientDataJSON: base64urlOf(response.clientDataJSON) },
    clientExtensionResults: credential.getClientExtensionResults(),
  };
  if (response.attestationObject) {
    json.response.attestationObject = base64urlOf(response.attestationObject);
    if (response.getTransports) json.response.transports = response.getTransports();
  } else {
    json.response.authenticatorData = base64urlOf(response.authenticatorData);
    json.response.signature = base64urlOf(response.signature);
    json.response.userHandle = response.userHandle ? base64urlOf(response.userHandle) : null;
  }
  return json;
}

// A POST of `body` as JSON to a console route; the answer's status and JSON body.
async function postJson(url, body) {
  const token = document.querySelector("meta[name=csrf-token]");
  const reply = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: {
      "Content-Type": "application/json",
      "X-CSRF-Token": token ? token.content : "",
    },
    body: JSON.stringify(body),
  });
  let json = {};
  try {
    json = await reply.json();
  } catch {
    // An HTML page (the session ended, a refused request): said below.
  }
  return { ok: reply.ok, json };
}

// Runs the ceremony of `button` (data-passkey: get, create or step-up). Problems show in the
// box's error line; success goes where the server says (a sign-in, a new passkey) or sends
// the form that waited for the step-up.
async function passkeyCeremony(button) {
  const box = button.closest("[data-passkey-box]");
  const error = box.querySelector("[data-passkey-error]");
  const show = (message) => {
    error.textContent = message;
    error.hidden = false;
  };
  error.hidden = true;
  const ceremony = button.dataset.passkey;
  const extra = {};
  if (button.dataset.next) extra.next = button.dataset.next;
  if (ceremony === "create") {
    const name = box.querySelector("input[name=name]");
    extra.name = name.value.trim();
    if (!extra.name) {
      show("Give the passkey a name first, such as the device it is on.");
      name.focus();
      return;
    }
  }
  const waiting = document.querySelector("form[data-step-up]");
  if (ceremony === "step-up") {
    for (const field of waiting.querySelectorAll("input[data-retype]")) {
      if (!field.reportValidity()) return;
    }
  }
  const failed = (answer) => {
    if (answer.json.location) {
      window.location.assign(answer.json.location);
    } else {
      show(answer.json.message || "That did not work. Reload the page and try again.");
    }
  };
  button.disabled = true;
  try {
    const started = await postJson(button.dataset.start, {});
    if (!started.ok) return failed(started);
    const options = browserOptions(started.json);
    const credential = ceremony === "create"
      ? await navigator.credentials.create(options)
      : await navigator.credentials.get(options);
    const finished = await postJson(button.dataset.finish, {
      ...extra,
      credential: credentialJson(credential),
    });
    if (!finished.ok) return failed(finished);
    if (ceremony === "step-up" && waiting.dataset.stepUp) {
      // The step-up is recorded: send the form that waited for it, as it was filled in.
      waiting.action = waiting.dataset.stepUp;
      waiting.submit();
    } else if (ceremony === "step-up") {
      window.location.assign(waiting.dataset.back);
    } else {
      window.location.assign(finished.json.location);
    }
  } catch (problem) {
    show(problem && problem.name === "NotAllowedError"
      ? "The passkey was not used (cancelled, or it took too long). Try again."
      : problem && problem.name === "InvalidStateError"
        ? "This passkey is on your account already."
        : "The passkey did not work here. Try again, or use another way.");
  } finally {
    button.disabled = false;
  }
}

function setUpPasskeys() {
  if (!window.PublicKeyCredential || !navigator.credentials) return;
  for (const element of document.querySelectorAll("[data-passkey-box]")) element.hidden = false;
  for (const element of document.querySelectorAll("[data-passkey-missing]")) element.hidden = true;
  for (const button of document.querySelectorAll("[data-passkey]")) {
    if (button.form && button.type === "submit") {
      button.form.addEventListener("submit", (event) => {
        event.preventDefault();
        passkeyCeremony(button);
      });
    } else {
      button.addEventListener("click", () => passkeyCeremony(button));
    }
  }
}

document.addEventListener("DOMContentLoaded", () => {
  // Ask before a destructive form is sent (revoke, delete, disable).
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
      }
    });
  }
  takeTokenFromFragment();
  setUpPasskeys();
  // Print buttons (the recovery codes): hidden without script, shown here.
  for (const button of document.querySelectorAll("button[data-print]")) {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  }
  // The link opened in a tab already showing the page changes only the fragment.
  window.addEventListener("hashchange", takeTokenFromFragment);
  // Copy buttons: <button data-copy="element-id">. Hidden without script, shown here.
  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.hidden = false;
    button.addEventListener("click", async () => {
      const source = document.getElementById(button.dataset.copy);
      if (!source) return;
      try {
        await navigator.clipboard.writeText(source.textContent.trim());
        button.textContent = "Copied";
      } catch {
        // No clipboard access (an http page other than localhost): select the text instead.
        const range = document.createRange();
        range.selectNodeContents(source);
        const selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        button.textContent = "Selected: press Ctrl+C";
      }
    });
  }
});
