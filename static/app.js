// Search-as-you-type, history, suggestion chips, interaction beacons and the embed's height.
// The page works without this file: every control is a plain form field or link.
(function () {
  "use strict";
  document.documentElement.className += " js";
  retryLater();
  var results = document.getElementById("results");
  if (!results) return;
  var form = document.getElementById("search");
  var name = results.getAttribute("data-public-name");
  var parentOrigin = results.getAttribute("data-parent-origin");
  var timer = null, controller = null, seen = {};

  function queryOf(f) {
    var params = new URLSearchParams();
    new FormData(f).forEach(function (value, key) {
      if (typeof value === "string" && value !== "") params.append(key, value);
    });
    return params.toString();
  }

  function load(qs, push) {
    var url = location.pathname + (qs ? "?" + qs : "");
    if (controller) controller.abort();
    controller = new AbortController();
    results.setAttribute("aria-busy", "true");
    fetch(url, {headers: {"X-Partial": "results"}, signal: controller.signal, credentials: "same-origin"})
      .then(function (response) {
        // Waits, passwords and errors get the full page, as without JavaScript.
        if (response.status === 429 || response.status === 401 || response.status >= 500) { location.href = url; return null; }
        return response.text();
      })
      .then(function (html) {
        if (html === null) return;
        results.innerHTML = html;
        results.removeAttribute("aria-busy");
        if (push && url !== location.pathname + location.search) history.pushState(null, "", url);
        watch();
      })
      .catch(function () { results.removeAttribute("aria-busy"); });
  }

  function fill(qs) {
    if (!form) return;
    var params = new URLSearchParams(qs);
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name) return;
      var values = params.getAll(el.name);
      if (el.type === "checkbox") el.checked = values.length > 0;
      else if (el.multiple) Array.prototype.forEach.call(el.options, function (o) { o.selected = values.indexOf(o.value) >= 0; });
      else if (el.type !== "file") el.value = values.length ? values[values.length - 1] : "";
    });
  }

  if (form) {
    form.addEventListener("input", function (event) {
      if (event.target.closest && event.target.closest(".range")) return;
      clearTimeout(timer);
      timer = setTimeout(function () { load(queryOf(form), true); }, 300);
    });
    // Filters and the sort menu belong to the form (form="search") from outside it, so their
    // changes are heard on the document.
    document.addEventListener("change", function (event) {
      var el = event.target;
      if (el.form !== form || el.type === "search" || el.type === "text") return;
      if (el.type === "number" && el.closest(".range")) { clearTimeout(timer); timer = setTimeout(function () { load(queryOf(form), true); }, 300); return; }
      load(queryOf(form), true);
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearTimeout(timer);
      load(queryOf(form), true);
    });
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a");
    if (!link) return;
    if (link.hasAttribute("data-field") && form) {
      event.preventDefault();
      var field = form.elements.namedItem(link.getAttribute("data-field"));
      if (field) { field.value = link.getAttribute("data-value"); field.focus(); }
      load(queryOf(form), true);
    } else if (link.closest(".paging") || link.closest(".active") || link.classList.contains("clear")) {
      event.preventDefault();
      fill(link.search);
      load(link.search.slice(1), true);
      if (link.closest(".paging")) results.scrollIntoView({block: "start"});
    } else if (link.hasAttribute("data-detail") && !event.ctrlKey && !event.metaKey && !event.shiftKey && window.HTMLDialogElement) {
      event.preventDefault();
      track(link.closest(".card"), "click");
      openDetail(link.href);
    } else if (link.closest(".card")) {
      track(link.closest(".card"), "click");
    }
  });

  // A card's details in a dialog over the results; the link is still the detail page's URL.
  var dialog = null, opener = null;
  function openDetail(href) {
    if (!dialog) {
      dialog = document.createElement("dialog");
      dialog.className = "detail-dialog";
      dialog.setAttribute("aria-labelledby", "detail-title");
      dialog.innerHTML = '<form method="dialog"><button class="close" aria-label="Close">\u00d7</button></form><div class="detail-body"></div>';
      document.body.appendChild(dialog);
      dialog.addEventListener("click", function (event) { if (event.target === dialog) dialog.close(); });
      dialog.addEventListener("close", function () { if (opener) opener.focus(); });
    }
    opener = document.activeElement;
    fetch(href, {headers: {"X-Partial": "detail"}, credentials: "same-origin"})
      .then(function (response) {
        if (!response.ok) { location.href = href; return null; }
        return response.text();
      })
      .then(function (html) {
        if (html === null) return;
        dialog.querySelector(".detail-body").innerHTML = html;
        dialog.showModal();
      })
      .catch(function () { location.href = href; });
  }

  window.addEventListener("popstate", function () {
    fill(location.search);
    load(location.search.slice(1), false);
  });

  function track(card, kind) {
    var list = card.closest(".results");
    if (!list || !navigator.sendBeacon) return;
    var body = JSON.stringify({
      document_id: card.getAttribute("data-document-id"),
      interaction_type: [kind],
      position: Number(card.getAttribute("data-position")),
      execution_id: list.getAttribute("data-execution-id")
    });
    navigator.sendBeacon("/v1/public/retrievers/" + name + "/interactions",
      new Blob([body], {type: "application/json"}));
  }

  // A "view" is a card at least half on screen for a second, once per search.
  var viewer = "IntersectionObserver" in window ? new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      var card = entry.target;
      clearTimeout(card._viewTimer);
      if (!entry.isIntersecting) return;
      card._viewTimer = setTimeout(function () {
        var key = card.closest(".results").getAttribute("data-execution-id") + card.getAttribute("data-position");
        if (seen[key]) return;
        seen[key] = true;
        viewer.unobserve(card);
        track(card, "view");
      }, 1000);
    });
  }, {threshold: 0.5}) : null;

  function watch() {
    if (viewer) results.querySelectorAll(".card").forEach(function (card) { viewer.observe(card); });
  }
  watch();

  if (parentOrigin && window.parent !== window && "ResizeObserver" in window) {
    var last = 0;
    new ResizeObserver(function () {
      var height = Math.ceil(document.documentElement.scrollHeight);
      if (height === last) return;
      last = height;
      window.parent.postMessage({type: "retriever-pages:height", name: name, height: height}, parentOrigin);
    }).observe(document.body);
  }

  // The 429 page: count down to the moment the limit allows another search, then try again.
  function retryLater() {
    var note = document.querySelector("[data-retry-after]");
    if (!note) return;
    var left = Math.max(1, Number(note.getAttribute("data-retry-after")) || 1);
    var shown = note.querySelector(".seconds");
    var tick = setInterval(function () {
      left -= 1;
      if (shown) shown.textContent = String(Math.max(left, 0));
      if (left <= 0) { clearInterval(tick); location.reload(); }
    }, 1000);
  }
})();
