"use strict";
// Reviewer pages: the source of a clicked cell or finding, the correction form filled from
// it, and the keys (j/k next/previous, a approve, r reject, e edit cell, ? the list of keys).
(() => {
  const panel = () => document.getElementById("review");

  function showText(view, data) {
    const box = document.createElement("pre");
    box.className = "source-text";
    box.append(data.text.slice(0, data.start));
    const mark = document.createElement("mark");
    mark.textContent = data.text.slice(data.start, data.end) || "␣";
    box.append(mark, data.text.slice(data.end));
    const where = document.createElement("p");
    where.className = "hint";
    where.textContent = [data.kind, data.line ?? data.row ?? "", data.cell].filter(String).join(" · ");
    view.replaceChildren(where, box);
  }

  async function showSource(key) {
    const review = panel();
    const view = document.getElementById("source-view");
    if (!review || !view) return;
    const url = `/desk/review/${review.dataset.documentId}/cells/${encodeURIComponent(key)}/source`;
    view.replaceChildren(Object.assign(document.createElement("p"), { className: "hint", textContent: "…" }));
    try {
      const answer = await fetch(url, { credentials: "same-origin" });
      if (!answer.ok) {
        const detail = (await answer.json().catch(() => ({}))).detail || answer.statusText;
        view.replaceChildren(Object.assign(document.createElement("p"), { className: "hint", textContent: `${key}: ${detail}` }));
      } else if ((answer.headers.get("content-type") || "").startsWith("image/")) {
        const image = Object.assign(document.createElement("img"), { src: url, alt: key, id: "source-crop" });
        view.replaceChildren(Object.assign(document.createElement("p"), { className: "hint", textContent: key }), image);
      } else {
        showText(view, await answer.json());
      }
    } catch (error) {
      view.replaceChildren(Object.assign(document.createElement("p"), { className: "hint", textContent: String(error) }));
    }
  }

  function choose(key, findingKey) {
    document.querySelectorAll(".desk-table td.selected").forEach((td) => td.classList.remove("selected"));
    const cell = document.getElementById(`cell-${key}`);
    if (cell) cell.classList.add("selected");
    const cellInput = document.getElementById("correct-cell");
    if (cellInput) {
      cellInput.value = key;
      document.getElementById("correct-value").value = cell ? cell.dataset.value || "" : "";
      document.getElementById("correct-finding").value = findingKey || "";
    }
    showSource(key);
  }

  function findingKeyOf(item) {
    if (item.dataset.finding) return item.dataset.finding;
    const twin = [...document.querySelectorAll("li.finding-decision")].find(
      (li) => li.dataset.rule === item.dataset.rule && li.dataset.cells === item.dataset.cells
    );
    return twin ? twin.dataset.finding : "";
  }

  function onClick(event) {
    if (event.target.closest("a, button, input, select, textarea, form")) return;
    const cell = event.target.closest(".desk-table td[data-key]");
    if (cell) return choose(cell.dataset.key, "");
    const item = event.target.closest("li.finding, li.finding-decision");
    if (item) {
      const key = item.dataset.culprit || (item.dataset.cells || "").split(" ")[0];
      if (key) choose(key, findingKeyOf(item));
    }
  }

  function onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest("input, textarea, select, [contenteditable]")) return;
    const click = (id) => document.getElementById(id)?.click();
    const focus = (id) => document.getElementById(id)?.focus();
    const actions = {
      j: () => click("queue-next"),
      k: () => click("queue-prev"),
      a: () => document.getElementById("approve-form")?.requestSubmit(),
      r: () => focus("reject-code"),
      e: () => focus(document.getElementById("correct-cell")?.value ? "correct-value" : "correct-cell"),
      "?": () => {
        const help = document.getElementById("key-help");
        if (help) help.hidden = !help.hidden;
      },
    };
    const action = actions[event.key];
    if (action && panel()) {
      event.preventDefault();
      action();
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (!panel()) return;
    document.addEventListener("click", onClick);
    document.addEventListener("keydown", onKey);
  });
})();
