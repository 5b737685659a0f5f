// Roster console: small enhancements only. Every flow works without this file.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Ask before a destructive form is sent (revoke, delete, disable).
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
      }
    });
  }
  // Emailed links carry their token in the fragment (never sent to a server): put it into
  // the form's token field, hide what only someone pasting by hand needs, and take the token
  // out of the address bar and history. The form is still sent only by the user's click.
  const fragmentForm = document.querySelector("form[data-fragment-token]");
  const fragment = window.location.hash.slice(1);
  if (fragmentForm && fragment.startsWith(fragmentForm.dataset.fragmentToken)) {
    const field = fragmentForm.querySelector("input[name=token]");
    if (field) {
      field.value = fragment;
      for (const element of document.querySelectorAll("[data-hide-with-token]")) {
        element.hidden = true;
      }
      const next = fragmentForm.querySelector("input[type=password]");
      if (next) next.focus();
    }
    history.replaceState(null, "", window.location.pathname + window.location.search);
  }
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
