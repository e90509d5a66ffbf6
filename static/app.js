// Search-as-you-type, history, suggestion chips, the detail dialog, the filters sheet on a phone,
// waits for the rate limit, interaction beacons and the embed's height.
// The page works without this file: every control is a plain form field or link.
(function () {
  "use strict";
  document.documentElement.className += " js";
  var PAUSE = 500; // ms without a keystroke that make a pause: one search a pause, not a key
  var results = document.getElementById("results");
  var wait = document.querySelector("[data-retry-after]");
  if (!results) {
    // A bare error page (a refused detail page): count down, then try again.
    if (wait) countdown(wait, wait.getAttribute("data-retry-after"), function () { location.reload(); });
    return;
  }
  var form = document.getElementById("search");
  var name = results.getAttribute("data-public-name");
  var parentOrigin = results.getAttribute("data-parent-origin");
  var framed = window.parent !== window;
  var timer = null, controller = null, seen = {};
  // Searches are known by their query: the one on screen, the one in flight, and while the
  // limit makes the page wait, the one to run when the wait is over.
  var shown = keyOf(location.search), asked = null, held = false, next = null;

  function keyOf(qs) {
    var out = new URLSearchParams();
    new URLSearchParams(qs).forEach(function (value, key) { if (value !== "") out.append(key, value); });
    return out.toString();
  }

  function typed(el) {
    return /^(search|text|textarea|number|email|url|tel)$/.test(el.type);
  }

  function queryOf(f) {
    var params = new URLSearchParams(), words = {};
    Array.prototype.forEach.call(f.elements, function (el) { if (typed(el)) words[el.name] = true; });
    new FormData(f).forEach(function (value, key) {
      if (typeof value !== "string") return;
      // "desk  lamp " is the search "desk lamp": spaces alone never cost a search.
      if (words[key]) value = value.replace(/\s+/g, " ").trim();
      if (value !== "") params.append(key, value);
    });
    return params.toString();
  }

  function stop() {
    clearTimeout(timer);
    if (controller) controller.abort();
    controller = null;
    asked = null;
    results.removeAttribute("aria-busy");
  }

  function load(qs, push) {
    qs = keyOf(qs);
    if (held) { next = qs; return; }
    if (qs === asked || (asked === null && qs === shown)) return;
    var url = location.pathname + (qs ? "?" + qs : "");
    stop();
    var mine = controller = new AbortController();
    asked = qs;
    results.setAttribute("aria-busy", "true");
    fetch(url, {headers: {"X-Partial": "results"}, signal: mine.signal, credentials: "same-origin"})
      .then(function (response) {
        if (response.status === 429) { hold(qs, response.headers.get("Retry-After")); return null; }
        // A password, or a page that is gone: the whole page, as without JavaScript.
        if (!/html/.test(response.headers.get("Content-Type") || "") || response.status === 401 || response.status === 404) {
          location.href = url;
          return null;
        }
        return response.text();
      })
      .then(function (html) {
        if (html === null || controller !== mine) return;
        var refocus = document.activeElement && document.activeElement.classList.contains("filters-button");
        controller = asked = null;
        shown = qs;
        results.innerHTML = html;
        results.removeAttribute("aria-busy");
        if (push && keyOf(location.search) !== qs) history.pushState(null, "", url);
        if (refocus) results.querySelector(".filters-button").focus({preventScroll: true});
        watch();
      })
      .catch(function () { if (controller === mine) stop(); });
  }

  // Over the rate limit: the page, its query and results stay; a line in the results' own
  // (polite) status counts down, then the latest search asked for (if any) runs.
  function hold(qs, seconds, where) {
    stop();
    held = true;
    next = qs;
    var note = where;
    if (!note) {
      var left = Math.max(1, Number(seconds) || 1);
      note = document.createElement("span");
      note.className = "notice";
      note.innerHTML = "<strong>Too many searches just now.</strong> Searching again in " +
        '<span aria-hidden="true"><span class="seconds">' + left + "</span> s</span>" +
        '<span class="visually-hidden">' + left + " seconds</span>.";
      (results.querySelector(".status") || results).appendChild(note);
    }
    countdown(note, seconds, function () {
      held = false;
      if (!where) note.remove();
      if (next !== null) load(next, true);
    });
  }

  function countdown(note, seconds, done) {
    var end = Date.now() + Math.max(1, Number(seconds) || 1) * 1000;
    var shownSeconds = note.querySelector(".seconds");
    var tick = setInterval(function () {
      var left = Math.ceil((end - Date.now()) / 1000);
      if (shownSeconds) shownSeconds.textContent = String(Math.max(left, 0));
      if (left <= 0) { clearInterval(tick); done(); }
    }, 1000);
  }

  function fill(qs) {
    if (!form) return;
    var params = new URLSearchParams(qs);
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name) return;
      var values = params.getAll(el.name);
      if (el.type === "checkbox") el.checked = values.indexOf(el.value) >= 0 || (values.length > 0 && el.value === "on");
      else if (el.multiple) Array.prototype.forEach.call(el.options, function (o) { o.selected = values.indexOf(o.value) >= 0; });
      else if (el.type !== "file") el.value = values.length ? values[values.length - 1] : "";
    });
  }

  if (form) {
    // Filters and the sort menu belong to the form (form="search") from outside it, so their
    // events are heard on the document. Words wait for a pause; a box or a menu searches now.
    document.addEventListener("input", function (event) {
      var el = event.target;
      if (el.form !== form || !typed(el) || event.isComposing || (sheet && sheet.open)) return;
      clearTimeout(timer);
      // What is in flight is for words already changed.
      if (asked !== null && keyOf(queryOf(form)) !== asked) stop();
      timer = setTimeout(function () { load(queryOf(form), true); }, PAUSE);
    });
    document.addEventListener("change", function (event) {
      var el = event.target;
      if (el.form !== form || typed(el) || (sheet && sheet.open)) return;
      load(queryOf(form), true);
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearTimeout(timer);
      if (sheet && sheet.open) sheet.close(); // its Apply: closing runs the search
      else load(queryOf(form), true);
    });
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest(".filters-button")) { openSheet(); return; }
    var cta = document.querySelector(".cta[open]");
    if (cta && !cta.contains(event.target)) cta.open = false;
    var link = event.target.closest("a");
    if (!link) return;
    if (sheet && sheet.contains(link)) sheet.close();
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
      openDetail(link.href, true);
    } else if (link.closest(".card")) {
      track(link.closest(".card"), "click");
    }
  });

  document.addEventListener("keydown", function (event) {
    var cta = document.querySelector(".cta[open]");
    if (event.key === "Escape" && cta) { cta.open = false; cta.querySelector("summary").focus(); }
  });

  function modal(className, label) {
    var box = document.createElement("dialog");
    box.className = className;
    box.setAttribute("aria-labelledby", label);
    box.innerHTML = '<form method="dialog"><button class="close" aria-label="Close">\u00d7</button></form>';
    document.body.appendChild(box);
    box.addEventListener("click", function (event) { if (event.target === box) box.close(); });
    return box;
  }

  // A card's details in a dialog over the results, at the detail page's own URL: back closes
  // it, and a reload there shows that page. In an embed the URL stays the embed's (a reload
  // keeps the frame's page), and the dialog goes where the frame is seen.
  var dialog = null, opener = null, seenPart = null;
  function openDetail(href, push) {
    if (!dialog) {
      dialog = modal("detail-dialog", "detail-title");
      dialog.insertAdjacentHTML("beforeend", '<div class="detail-body"></div>');
      dialog.addEventListener("close", function () {
        if (history.state && history.state.detail) history.back();
        if (opener) opener.focus();
      });
    }
    opener = document.activeElement;
    if (framed) visiblePart();
    fetch(href, {headers: {"X-Partial": "detail"}, credentials: "same-origin"})
      .then(function (response) {
        if (response.status === 429) { hold(null, response.headers.get("Retry-After")); return null; }
        if (!response.ok) { location.href = href; return null; }
        return response.text();
      })
      .then(function (html) {
        if (html === null) return;
        dialog.querySelector(".detail-body").innerHTML = html;
        if (push) history.pushState({detail: href}, "", framed ? location.href : href);
        if (seenPart) place(dialog, seenPart);
        if (!dialog.open) dialog.showModal();
      })
      .catch(function () { location.href = href; });
  }

  // The part of this frame the reader sees, in the frame's own coordinates: an intersection
  // observer reports it even when the host page is of another origin.
  function visiblePart() {
    if (!("IntersectionObserver" in window)) return;
    var watcher = new IntersectionObserver(function (entries) {
      watcher.disconnect();
      var part = entries[0].intersectionRect;
      seenPart = part.height > 0 ? part : null;
    });
    watcher.observe(document.documentElement);
  }

  function place(box, part) {
    var margin = 12;
    box.style.margin = "0 auto";
    box.style.top = Math.round(part.top + margin) + "px";
    box.style.bottom = "auto";
    box.style.maxHeight = Math.max(160, Math.round(part.height - 2 * margin)) + "px";
  }

  // On a phone the filters open as a sheet over the results. Ticks there wait; closing it
  // (Apply, the close button, Escape) runs the search they make and lands on the results.
  var sheet = null;
  function openSheet() {
    var panel = results.querySelector(".filters");
    if (!panel || !window.HTMLDialogElement) { location.hash = "filters"; return; }
    if (!sheet) {
      sheet = modal("sheet", "filters-title");
      sheet.addEventListener("close", closeSheet);
    }
    sheet.appendChild(panel);
    sheet.showModal();
  }

  function closeSheet() {
    var panel = sheet.querySelector(".filters");
    if (panel && results.querySelector(".filters")) panel.remove(); // new results brought their own
    else if (panel) results.insertBefore(panel, results.firstChild);
    clearTimeout(timer);
    load(queryOf(form), true);
    results.scrollIntoView({block: "start"});
    var button = results.querySelector(".filters-button");
    if (button) button.focus({preventScroll: true});
  }

  window.addEventListener("popstate", function (event) {
    var state = event.state;
    if (state && state.detail) { openDetail(state.detail, false); return; }
    if (dialog && dialog.open) dialog.close();
    if (sheet && sheet.open) sheet.close();
    fill(location.search);
    load(location.search.slice(1), false);
  });

  function track(card, kind) {
    // A card of a page's merged tab names its own retriever and search.
    var list = card.closest("[data-execution-id]");
    var owner = card.closest("[data-public-name]");
    var whose = owner ? owner.getAttribute("data-public-name") : name;
    if (!list || !whose || !navigator.sendBeacon) return;
    if (results.hasAttribute("data-preview")) return;  // the console's preview of a draft
    var body = JSON.stringify({
      document_id: card.getAttribute("data-document-id"),
      interaction_type: [kind],
      position: Number(card.getAttribute("data-position")),
      execution_id: list.getAttribute("data-execution-id")
    });
    navigator.sendBeacon("/v1/public/retrievers/" + whose + "/interactions",
      new Blob([body], {type: "application/json"}));
  }

  // A "view" is a card at least half on screen for a second, once per search.
  var viewer = "IntersectionObserver" in window ? new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      var card = entry.target;
      clearTimeout(card._viewTimer);
      if (!entry.isIntersecting) return;
      card._viewTimer = setTimeout(function () {
        var key = card.closest("[data-execution-id]").getAttribute("data-execution-id") + card.getAttribute("data-position");
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

  // The page itself was refused (a 429 on loading it): count down in its own line, then search.
  if (wait) { shown = null; hold(keyOf(location.search), wait.getAttribute("data-retry-after"), wait); }

  if (parentOrigin && framed && "ResizeObserver" in window) {
    var last = 0;
    new ResizeObserver(function () {
      var height = Math.ceil(document.documentElement.scrollHeight);
      if (height === last) return;
      last = height;
      window.parent.postMessage({type: "retriever-pages:height", name: name, page: results.getAttribute("data-page"), height: height}, parentOrigin);
    }).observe(document.body);
  }
})();
