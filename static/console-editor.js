// The page editor, a little nicer with JavaScript: a colour picker beside each colour field
// (the text field stays the value sent), and a warning before leaving with unsaved changes.
(function () {
  "use strict";
  var HEX6 = /^#[0-9a-fA-F]{6}$/;

  document.querySelectorAll(".colour-pick").forEach(function (picker) {
    var field = document.getElementById(picker.getAttribute("data-for"));
    if (!field) return;
    picker.hidden = false;
    if (HEX6.test(field.value)) picker.value = field.value;
    picker.addEventListener("input", function () {
      field.value = picker.value.toUpperCase();
      field.dispatchEvent(new Event("input", {bubbles: true}));
    });
    field.addEventListener("input", function () {
      if (HEX6.test(field.value)) picker.value = field.value;
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
