/**
 * The web UI's one script (no inline script: the Content-Security-Policy forbids it). Every
 * page works without it; it adds sorting of table columns, live search while typing, a
 * confirmation before destructive forms, and a copy button for a new API key.
 */
export const SCRIPT = `"use strict";
(function () {
  function cellValue(row, index) {
    var cell = row.cells[index];
    if (!cell) return "";
    var value = cell.getAttribute("data-sort");
    return value === null ? cell.textContent.trim().toLowerCase() : value;
  }
  function compare(a, b) {
    var x = Number(a), y = Number(b);
    if (a !== "" && b !== "" && !isNaN(x) && !isNaN(y)) return x - y;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  function sortBy(table, th) {
    var index = Array.prototype.indexOf.call(th.parentNode.children, th);
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(table.querySelectorAll("thead th"), function (other) {
      if (other !== th) other.removeAttribute("aria-sort");
    });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (r1, r2) {
      var group = compare(r1.getAttribute("data-group") || "", r2.getAttribute("data-group") || "");
      if (group !== 0) return group;
      var order = compare(cellValue(r1, index), cellValue(r2, index));
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }
  function enableSorting(root) {
    Array.prototype.forEach.call(root.querySelectorAll("table.sortable thead th"), function (th) {
      if (th.hasAttribute("data-nosort") || th.querySelector("button.sort")) return;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      while (th.firstChild) button.appendChild(th.firstChild);
      th.appendChild(button);
      button.addEventListener("click", function () { sortBy(th.closest("table"), th); });
    });
  }

  function enableLiveSearch(form) {
    var target = document.getElementById(form.getAttribute("data-live"));
    if (!target) return;
    var timer = 0, controller = null;
    function run() {
      var params = new URLSearchParams(new FormData(form));
      var query = params.toString();
      if (controller) controller.abort();
      controller = new AbortController();
      target.setAttribute("aria-busy", "true");
      fetch(form.action + "?" + query + (query ? "&" : "") + "fragment=1", {
        credentials: "same-origin", signal: controller.signal, headers: { accept: "text/html" }
      }).then(function (response) {
        if (response.redirected || response.status >= 500) {
          window.location.href = form.action + "?" + query;
          return null;
        }
        return response.text();
      }).then(function (html) {
        if (html === null) return;
        target.innerHTML = html;
        target.removeAttribute("aria-busy");
        enableSorting(target);
        history.replaceState(null, "", form.action + (query ? "?" + query : ""));
      }).catch(function (error) {
        if (error && error.name === "AbortError") return;
        target.removeAttribute("aria-busy");
      });
    }
    form.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(run, 250);
    });
  }

  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) event.preventDefault();
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) return;
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      button.textContent = "Copied";
    }, function () {});
  });
  enableSorting(document);
  Array.prototype.forEach.call(document.querySelectorAll("form[data-live]"), enableLiveSearch);
})();
`;
