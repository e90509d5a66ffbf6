// A page's tabs (the WAI-ARIA tabs pattern over plain links): arrow keys, Home and End move
// between the tabs, Enter or Space opens one; a tab opens with the query the page shows now
// (the search box may have changed it without a reload), and with the All tab's inputs that
// tab takes (its data-carry). Without this file the tabs are links.
(function () {
  "use strict";
  var list = document.querySelector("[role=tablist]");
  if (!list) return;
  var tabs = Array.prototype.slice.call(list.querySelectorAll("[role=tab]"));

  function withQuery(tab) {
    var url = new URL(tab.href, location.href);
    var here = new URLSearchParams(location.search);
    var names = ["query"].concat((tab.getAttribute("data-carry") || "").split(" "));
    names.forEach(function (name) {
      if (!name) return;
      url.searchParams.delete(name);
      here.getAll(name).forEach(function (value) {
        if (value) url.searchParams.append(name, value);
      });
    });
    return url.pathname + url.search;
  }

  // A search in place (app.js) brings each tab's count with the results: the labels follow.
  var results = document.getElementById("results");
  function recount() {
    var found = results.querySelector("[data-tab-counts]");
    if (!found) return;
    var counts = JSON.parse(found.getAttribute("data-tab-counts"));
    tabs.forEach(function (tab) {
      var n = counts[tab.getAttribute("data-tab")], span = tab.querySelector(".tab-count");
      if (n === undefined) { if (span) span.remove(); return; }
      if (!span) {
        span = document.createElement("span");
        span.className = "tab-count";
        tab.appendChild(document.createTextNode(" "));
        tab.appendChild(span);
      }
      span.textContent = n.toLocaleString("en-US");
      var words = document.createElement("span");
      words.className = "visually-hidden";
      words.textContent = " results";
      span.appendChild(words);
    });
  }
  if (results && window.MutationObserver) new MutationObserver(recount).observe(results, { childList: true });

  list.addEventListener("keydown", function (event) {
    var at = tabs.indexOf(document.activeElement);
    if (at < 0) return;
    var to = null;
    if (event.key === "ArrowRight") to = (at + 1) % tabs.length;
    else if (event.key === "ArrowLeft") to = (at - 1 + tabs.length) % tabs.length;
    else if (event.key === "Home") to = 0;
    else if (event.key === "End") to = tabs.length - 1;
    else if (event.key === " " || event.key === "Enter") {
      event.preventDefault();
      location.href = withQuery(tabs[at]);
      return;
    }
    if (to === null) return;
    event.preventDefault();
    tabs[at].setAttribute("tabindex", "-1");
    tabs[to].removeAttribute("tabindex");
    tabs[to].focus();
  });

  list.addEventListener("click", function (event) {
    var tab = event.target.closest("[role=tab]");
    if (!tab || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    location.href = withQuery(tab);
  });
})();
