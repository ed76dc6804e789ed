"use strict";
// Submit page: drop or choose files, upload each with its own progress bar
// (XMLHttpRequest upload events), then poll the documents' status until each settles.
(() => {
  const POLL_MS = 1500;
  const form = document.getElementById("upload-form");
  const zone = document.getElementById("dropzone");
  const input = document.getElementById("files");
  const section = document.getElementById("progress-section");
  const tbody = document.querySelector("#upload-table tbody");
  const overall = document.getElementById("overall");
  const receiptLink = document.getElementById("receipt-link");
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const t = form.dataset;
  const en = t.lang === "en";
  const maxBytes = Number(t.maxBytes);
  const documents = new Map(); // document id -> its table row
  const queue = [];
  let uploading = false;
  let polling = null;

  function randomKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function cell(row, text) {
    const td = document.createElement("td");
    if (text !== undefined) td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function fileRow(file) {
    const row = document.createElement("tr");
    row.className = "file-row";
    cell(row, file.name);
    const bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    const progressCell = cell(row);
    progressCell.appendChild(bar);
    const label = document.createElement("span");
    label.className = "upload-label";
    progressCell.appendChild(label);
    cell(row, "");
    cell(row, "");
    cell(row, "");
    tbody.appendChild(row);
    return { row, bar, label };
  }

  function documentRow(doc, afterRow) {
    const row = document.createElement("tr");
    row.className = "document-row";
    row.dataset.documentId = doc.id;
    const name = cell(row);
    const link = document.createElement("a");
    link.href = doc.url;
    link.textContent = doc.filename;
    name.appendChild(link);
    cell(row, "");
    cell(row, doc.submission_no || "");
    const status = cell(row);
    status.className = "doc-status";
    const next = cell(row);
    next.className = "doc-next";
    afterRow.after(row);
    documents.set(doc.id, row);
    show(doc);
    return row;
  }

  function show(doc) {
    const row = documents.get(doc.id);
    if (!row) return;
    row.dataset.status = doc.status;
    row.dataset.settled = doc.settled ? "1" : "0";
    row.querySelector(".doc-status").textContent = en ? doc.label_en : doc.label_zh;
    row.querySelector(".doc-next").textContent = en ? doc.next_en : doc.next_zh;
  }

  function updateSummary() {
    const rows = Array.from(documents.values());
    const settled = rows.filter((r) => r.dataset.settled === "1").length;
    overall.textContent = rows.length && settled === rows.length && !uploading && !queue.length
      ? t.tAllSettled
      : `${t.tWaiting} ${settled}/${rows.length}`;
    if (rows.length) {
      receiptLink.href = "/desk/receipt?ids=" + Array.from(documents.keys()).join(",");
      receiptLink.hidden = false;
    }
  }

  function poll() {
    const open = Array.from(documents.entries()).filter(([, r]) => r.dataset.settled !== "1").map(([id]) => id);
    if (!open.length) {
      polling = null;
      updateSummary();
      return;
    }
    fetch("/desk/api/documents/status?ids=" + open.join(","), { credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
      .then((answer) => answer.documents.forEach(show))
      .catch(() => {}) // a missed poll is retried on the next tick
      .finally(() => {
        updateSummary();
        polling = setTimeout(poll, POLL_MS);
      });
  }

  function startPolling() {
    if (polling === null) polling = setTimeout(poll, POLL_MS);
  }

  function uploadNext() {
    if (uploading || !queue.length) return;
    const { file, view } = queue.shift();
    uploading = true;
    const data = new FormData();
    data.append("files", file, file.name);
    const agency = document.getElementById("agency");
    const year = document.getElementById("year");
    if (agency && agency.value.trim()) data.append("agency", agency.value.trim());
    if (year && year.value.trim()) data.append("year", year.value.trim());
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/desk/api/uploads");
    xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.setRequestHeader("Idempotency-Key", randomKey());
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) view.bar.value = Math.round((100 * event.loaded) / event.total);
      view.label.textContent = " " + t.tUploading;
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300 && xhr.response) {
        view.bar.value = 100;
        view.label.textContent = " " + t.tUploaded;
        view.row.hidden = xhr.response.documents.length > 0;
        let after = view.row;
        xhr.response.documents.forEach((doc) => {
          after = documentRow(doc, after);
          after.querySelector("td:nth-child(2)").textContent = t.tUploaded;
        });
      } else {
        const detail = xhr.response && xhr.response.detail ? xhr.response.detail : xhr.status;
        view.label.textContent = ` ${t.tFailed}: ${typeof detail === "string" ? detail : JSON.stringify(detail)}`;
        view.row.classList.add("failed");
      }
      finished();
    });
    xhr.addEventListener("error", () => {
      view.label.textContent = " " + t.tFailed;
      view.row.classList.add("failed");
      finished();
    });
    xhr.send(data);
  }

  function finished() {
    uploading = false;
    updateSummary();
    startPolling();
    uploadNext();
  }

  function add(files) {
    section.hidden = false;
    Array.from(files).forEach((file) => {
      const view = fileRow(file);
      if (file.size > maxBytes) {
        view.label.textContent = " " + t.tTooBig;
        view.row.classList.add("failed");
        return;
      }
      queue.push({ file, view });
    });
    updateSummary();
    uploadNext();
  }

  zone.addEventListener("click", () => input.click());
  zone.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      input.click();
    }
  });
  ["dragenter", "dragover"].forEach((type) =>
    zone.addEventListener(type, (event) => {
      event.preventDefault();
      zone.classList.add("over");
    })
  );
  ["dragleave", "drop"].forEach((type) => zone.addEventListener(type, () => zone.classList.remove("over")));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    if (event.dataTransfer && event.dataTransfer.files.length) add(event.dataTransfer.files);
  });
  input.addEventListener("change", () => {
    if (input.files.length) add(input.files);
    input.value = "";
  });
  form.addEventListener("submit", (event) => event.preventDefault());
})();
