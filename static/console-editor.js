// The page editor, a little nicer with JavaScript: a colour picker beside each colour field
// (the text field stays the value sent), and a warning before leaving with unsaved changes.
(function () {
  "use strict";
  var HEX6 = /^#[0-9a-fA-F]{6}$/;

  document.querySelectorAll(".colour-pick").forEach(function (picker) {
    var field = document.getElementById(picker.getAttribute("data-for"));
    if (!field) return;
    picker.hidden = false;
    // A colour not set shows the page's own (the placeholder): the picker cannot be empty.
    // One that follows another colour when empty (the second colour) shows that one's.
    var followed = document.getElementById(field.getAttribute("data-follows") || "");
    function own(input) {
      if (HEX6.test(input.value)) return input.value;
      return HEX6.test(input.placeholder) ? input.placeholder : null;
    }
    function follow() {
      var unset = followed ? own(followed) : own({value: "", placeholder: field.placeholder});
      var set = HEX6.test(field.value);
      if (set) picker.value = field.value;
      else if (unset) picker.value = unset;
      picker.classList.toggle("colour-pick--unset", !set && !unset);
    }
    follow();
    picker.addEventListener("input", function () {
      field.value = picker.value.toUpperCase();
      field.dispatchEvent(new Event("input", {bubbles: true}));
    });
    field.addEventListener("input", follow);
    if (followed) followed.addEventListener("input", follow);
  });

  // The groups a publisher opened stay open after a save reloads the page.
  var KEPT = "rp-editor-open:" + location.pathname;
  var groups = document.querySelectorAll("details.group");
  try {
    var open = JSON.parse(sessionStorage.getItem(KEPT) || "null");
    if (Array.isArray(open)) {
      groups.forEach(function (group) {
        if (open.indexOf(group.id) >= 0) group.open = true;
      });
    }
  } catch (ignored) { /* storage off: the server's choice stands */ }
  groups.forEach(function (group) {
    group.addEventListener("toggle", function () {
      var ids = [];
      groups.forEach(function (g) { if (g.open) ids.push(g.id); });
      try { sessionStorage.setItem(KEPT, JSON.stringify(ids)); } catch (ignored) { /* off */ }
    });
  });

  var changed = false;
  document.querySelectorAll("form.editor, .json-view form").forEach(function (form) {
    form.addEventListener("input", function () { changed = true; });
    form.addEventListener("submit", function () { changed = false; });
  });
  window.addEventListener("beforeunload", function (event) {
    if (changed) event.preventDefault();
  });
})();
