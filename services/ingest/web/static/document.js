"use strict";
// Document page: show every cell's parse confidence on demand.
document.addEventListener("DOMContentLoaded", () => {
  const toggle = document.getElementById("show-confidence");
  const tables = document.getElementById("report-tables");
  if (toggle && tables) {
    toggle.addEventListener("change", () => tables.classList.toggle("show-confidence", toggle.checked));
  }
});
