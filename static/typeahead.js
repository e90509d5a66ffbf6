// The search box suggests as one types: the WAI-ARIA combobox pattern (APG's list autocomplete,
// manual selection) over the public typeahead. Down/Up move (wrapping), Enter searches the one
// chosen, Escape closes (a second clears the box), Tab leaves. Without this file the box is a
// plain search field.
(function () {
  "use strict";
  var box = document.querySelector("input[data-typeahead]");
  if (!box || !box.form || !window.AbortController) return;
  var PAUSE = 150; // ms after the last key is let go
  var id = box.id + "-suggestions", framed = window.parent !== window;
  var list = document.createElement("ul"), live = document.createElement("div");
  // Answers by words; the keys down now; words typed since the last question; the question in
  // flight; no question before `quiet` (after a 429), nor ever once refused (`off`).
  var answers = {}, held = {}, changed = false, timer, controller = null, asked = null;
  var quiet = 0, off = false, options = [], active = -1;

  function set(el, attributes) {
    for (var name in attributes) el.setAttribute(name, attributes[name]);
  }
  set(list, {id: id, class: "suggestions", role: "listbox", "aria-label": "Suggestions", hidden: ""});
  set(live, {class: "visually-hidden", "aria-live": "polite", "aria-atomic": "true"});
  box.parentNode.append(list, live);
  set(box, {role: "combobox", "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": id});

  function words() { return box.value.replace(/\s+/g, " ").trim(); }

  function abort() {
    if (controller) controller.abort();
    controller = asked = null;
  }

  function ask() {
    for (var key in held) if (held[key]) return; // a key still down: letting go asks
    if (!changed) return;
    changed = false;
    var q = words();
    if (q === asked) return;
    abort();
    if (!q || q.length > 100 || off || Date.now() < quiet) return close();
    if (answers[q]) return show(q, answers[q]);
    var mine = controller = new AbortController();
    asked = q;
    fetch(url(q), {signal: mine.signal, credentials: "same-origin"})
      .then(function (response) {
        if (response.status === 429) quiet = Date.now() + 1000 * (+response.headers.get("Retry-After") || 60);
        else if (response.status < 500) off = !response.ok; // a password now, or none to give
        return response.ok ? response.json() : {};
      })
      .then(function (body) {
        if (controller !== mine) return; // a newer question was asked: this answer is old
        controller = asked = null;
        // Never the words typed themselves: Enter searches those already.
        var seen = {}, typed = q.toLowerCase(), found = (body.suggestions || []).filter(function (s) {
          var key = String(s).replace(/\s+/g, " ").trim().toLowerCase();
          return seen[key] || key === typed ? false : (seen[key] = true);
        }).slice(0, 8);
        if (body.suggestions) answers[q] = found;
        if (words() === q) show(q, found);
      })
      .catch(function () { if (controller === mine) controller = asked = null; });
  }

  function url(q) {
    return box.getAttribute("data-typeahead") + "?" + new URLSearchParams({q: q, limit: 8});
  }

  // What was typed plain, the rest of each suggestion in bold.
  function show(q, found) {
    options = found;
    list.textContent = "";
    if (!found.length || document.activeElement !== box) return close();
    found.forEach(function (text, n) {
      var option = document.createElement("li"), rest = document.createElement("b");
      var start = text.toLowerCase().indexOf(q.toLowerCase()) ? 0 : q.length;
      set(option, {id: id + "-" + n, role: "option", "aria-selected": "false"});
      rest.textContent = text.slice(start);
      option.append(text.slice(0, start), rest);
      list.append(option);
    });
    mark(-1);
    list.hidden = false;
    box.setAttribute("aria-expanded", "true");
    live.textContent = found.length + (found.length > 1 ? " suggestions" : " suggestion");
    if (framed) {
      // A frame is as tall as its page, which the list may outgrow: it scrolls within.
      list.style.maxHeight = "";
      var room = innerHeight - list.getBoundingClientRect().top - 8;
      if (room < list.offsetHeight) list.style.maxHeight = Math.max(room, 132) + "px";
    }
  }

  function close() {
    list.hidden = true;
    mark(-1);
    box.setAttribute("aria-expanded", "false");
    live.textContent = "";
  }

  function mark(n) {
    active = n;
    [].forEach.call(list.children, function (option, i) { option.setAttribute("aria-selected", i === n); });
    var option = list.children[n];
    if (!option) return box.removeAttribute("aria-activedescendant");
    box.setAttribute("aria-activedescendant", option.id);
    // Within the list only: scrollIntoView would scroll an embedding page too.
    var top = option.offsetTop, bottom = top + option.offsetHeight;
    if (top < list.scrollTop) list.scrollTop = top;
    else if (bottom > list.scrollTop + list.clientHeight) list.scrollTop = bottom - list.clientHeight;
  }

  // A suggestion chosen goes in the box and is searched as if typed and sent.
  function pick(n) {
    box.value = options[n];
    clearTimeout(timer);
    changed = false;
    abort();
    close();
    if (box.form.requestSubmit) box.form.requestSubmit();
    else box.form.submit();
  }

  box.addEventListener("keydown", function (event) {
    var key = event.key, open = !list.hidden;
    if (!/^(Shift|Control|Alt|AltGraph|Meta|CapsLock)$/.test(key)) held[event.code || key] = true;
    if (event.isComposing) return; // the keys belong to the input method until it is done
    if (key === "ArrowDown" || key === "ArrowUp") {
      var step = key === "ArrowDown" ? 1 : -1, q = words();
      if (!open && answers[q]) show(q, answers[q]);
      if (list.hidden) return;
      event.preventDefault();
      var n = options.length;
      mark(active < 0 ? (step > 0 ? 0 : n - 1) : (active + step + n) % n);
    } else if (key === "Enter") {
      if (open && active >= 0) { event.preventDefault(); pick(active); } else close();
    } else if (key === "Escape") {
      if (open || box.value) event.preventDefault();
      if (open) close();
      else if (box.value) { box.value = ""; box.dispatchEvent(new Event("input", {bubbles: true})); }
    } else if (key === "Tab") close();
    else if (/^(ArrowLeft|ArrowRight|Home|End)$/.test(key) && open) mark(-1); // back to the words
  });

  box.addEventListener("keyup", function (event) {
    held[event.code || event.key] = false;
    if (changed) later();
  });

  function later() {
    clearTimeout(timer);
    timer = setTimeout(ask, PAUSE);
  }

  box.addEventListener("input", function (event) {
    if (event.isComposing) return;
    var q = words(), lower = q.toLowerCase();
    changed = true;
    if (asked !== null && asked !== q) abort(); // in flight for words already changed
    // Until the answer comes, only what still fits the words.
    if (!list.hidden) show(q, options.filter(function (s) { return q && !s.toLowerCase().indexOf(lower); }));
    later();
  });
  box.addEventListener("compositionend", function () { changed = true; later(); });

  box.addEventListener("blur", function () {
    held = {};
    clearTimeout(timer);
    changed = false;
    abort();
    close();
  });

  // A press on the list keeps the focus in the box; a click picks.
  list.addEventListener("mousedown", function (event) { event.preventDefault(); });
  list.addEventListener("click", function (event) {
    var option = event.target.closest("[role=option]");
    if (option) pick([].indexOf.call(list.children, option));
  });
})();
