// Search-as-you-type, history, suggestion chips, interaction beacons and the embed's height.
// The page works without this file: every control is a plain form field or link.
(function () {
  "use strict";
  var results = document.getElementById("results");
  if (!results) return;
  var form = document.querySelector("form.search");
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
        if (response.status === 429 || response.status === 401) { location.href = url; return null; }
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
    form.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { load(queryOf(form), true); }, 300);
    });
    form.addEventListener("change", function (event) {
      if (event.target.type !== "search" && event.target.type !== "text") load(queryOf(form), true);
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
    if (link.classList.contains("chip") && form) {
      event.preventDefault();
      var field = form.elements.namedItem(link.getAttribute("data-field"));
      if (field) { field.value = link.getAttribute("data-value"); field.focus(); }
      load(queryOf(form), true);
    } else if (link.closest(".paging")) {
      event.preventDefault();
      load(link.search.slice(1), true);
      results.scrollIntoView({block: "start"});
    } else if (link.closest(".card")) {
      track(link.closest(".card"), "click");
    }
  });

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
})();
