// Roster console: small enhancements only. Every flow works without this file.
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
