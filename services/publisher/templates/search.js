// The portal's agency search (search.html): folds the query like the server folded the
// names and matches substrings of the folded names in search-index.json.
"use strict";
(function () {
  var LIMIT = 200;
  var input = document.getElementById("q");
  var status = document.getElementById("status");
  var body = document.querySelector("#results tbody");
  var index = null;
  document.getElementById("search-form").addEventListener("submit", function (event) { event.preventDefault(); });
  // Fold the query as the server folded the names: width (NFKC), case, spaces, 繁→简.
  function fold(text) {
    var narrow = text.normalize("NFKC").toLowerCase().replace(/\s+/g, "");
    var out = "";
    for (var ch of narrow) { out += index.t2s[ch] || ch; }
    return out;
  }
  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text;  // never innerHTML: names are data, not markup
    row.appendChild(td);
    return td;
  }
  function show() {
    var query = fold(input.value);
    body.textContent = "";
    if (!query) { status.textContent = "共 " + index.reports.length + " 份报告。"; return; }
    var hits = index.reports.filter(function (r) { return r.folded.indexOf(query) !== -1; });
    status.textContent = "找到 " + hits.length + " 份报告" + (hits.length > LIMIT ? "，显示前 " + LIMIT + " 份" : "") + "。";
    hits.slice(0, LIMIT).forEach(function (r) {
      var row = document.createElement("tr");
      row.className = "hit";
      var link = document.createElement("a");
      link.href = r.url;
      link.textContent = r.agency;
      cell(row, "").appendChild(link);
      cell(row, String(r.year));
      cell(row, r.government);
      cell(row, r.kind === "summary" ? "政府汇总报告" : "部门报告");
      body.appendChild(row);
    });
  }
  fetch("search-index.json").then(function (response) {
    if (!response.ok) { throw new Error(response.status); }
    return response.json();
  }).then(function (data) {
    index = data;
    var initial = new URLSearchParams(location.search).get("q");
    if (initial) { input.value = initial; }
    input.addEventListener("input", show);
    show();
  }).catch(function (error) {
    status.textContent = "索引加载失败：" + error;
  });
})();
