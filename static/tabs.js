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
