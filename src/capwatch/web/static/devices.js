// capwatch account page, "Who used it": rename a device in place through the devices API
// (PUT .../devices/{key}/name with the X-Capwatch-Request header it asks for). Without this
// script the rename controls stay hidden. Hand-written, no dependencies.
"use strict";

(function () {
  const page = document.querySelector("[data-account]");
  if (!page) return;
  const api = "/api/v1/accounts/" + encodeURIComponent(page.getAttribute("data-account"));

  async function save(box, form, status) {
    const input = form.querySelector("input");
    const button = form.querySelector("button");
    const shown = box.parentElement.querySelector(".dev-name");
    const summary = box.querySelector("summary");
    const wanted = input.value.trim();
    button.disabled = true;
    status.textContent = "Saving…";
    try {
      const r = await fetch(api + "/devices/" + encodeURIComponent(box.dataset.key) + "/name", {
        method: "PUT",
        credentials: "same-origin",
        headers: { "X-Capwatch-Request": "1", "Content-Type": "application/json",
          Accept: "application/json" },
        body: JSON.stringify({ name: wanted || null }),
      });
      const body = await r.json();
      if (!r.ok) throw new Error(typeof body.detail === "string" ? body.detail : "HTTP " + r.status);
      const name = body.name || box.dataset.unrenamed;
      shown.textContent = name;
      summary.setAttribute("aria-label", "Rename " + name);
      input.value = body.name || "";
      box.open = false;
      status.textContent = body.name ? "Renamed to " + name + "." : "Name cleared: " + name + ".";
      summary.focus();
    } catch (err) {
      status.textContent = "Not renamed: " + err.message;
    } finally {
      button.disabled = false;
    }
  }

  for (const box of document.querySelectorAll("details.rename[data-key]")) {
    const form = box.querySelector("form");
    const status = box.parentElement.querySelector(".rename-status");
    box.hidden = false;
    box.addEventListener("toggle", function () {
      if (box.open) form.querySelector("input").focus();
    });
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      save(box, form, status);
    });
  }
})();
