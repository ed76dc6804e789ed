"use strict";
// The receipt's print button (no inline script under the desk's CSP).
document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("print");
  if (button) button.addEventListener("click", () => window.print());
});
