// The page editor, a little nicer with JavaScript: a colour picker beside each colour field
// (the text field stays the value sent), a warning before leaving with unsaved changes, and
// a preview that follows the form as it is typed in.
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

  // After a refused save the page shows what was sent, not what is saved: still unsaved.
  var changed = !!document.querySelector("form.editor .field-error, .json-view .alert--error");
  document.querySelectorAll("form.editor, .json-view form").forEach(function (form) {
    form.addEventListener("input", function () { changed = true; });
    form.addEventListener("submit", function () { changed = false; });
  });
  window.addEventListener("beforeunload", function (event) {
    if (changed) event.preventDefault();
  });

  // With the form changed, the publish button saves it and publishes, in one step: the
  // editor's form is sent with the address typed and then=publish (a refusal is told beside
  // its field, and nothing is published).
  var editorForm = document.querySelector("form.editor");
  var publishForm = document.querySelector("form.publish-form");
  if (editorForm && publishForm) {
    var publishButton = publishForm.querySelector("button[data-save-label]");
    var publishHelp = document.getElementById("publish-help");
    var shown = {
      label: publishButton.textContent,
      help: publishHelp ? publishHelp.textContent : "",
      disabled: publishButton.disabled
    };
    var asSave = function () {
      publishButton.disabled = false;
      publishButton.textContent = publishButton.getAttribute("data-save-label");
      if (publishHelp) publishHelp.textContent = publishHelp.getAttribute("data-save-help");
    };
    // As the server drew it: "Publish the draft", or with nothing to publish "Published",
    // disabled, the reason beside it.
    var asDrawn = function () {
      publishButton.disabled = shown.disabled;
      publishButton.textContent = shown.label;
      if (publishHelp) publishHelp.textContent = shown.help;
    };
    var sent = function () { return new URLSearchParams(new FormData(editorForm)).toString(); };
    var saved = sent();
    // The form's own changes (the JSON view's are saved by its own button): a form drawn
    // again after a refused save is unsaved; a change undone is no change.
    var refused = !!editorForm.querySelector(".field-error");
    var formChanged = refused;
    if (formChanged) asSave();
    var edit = function () {
      formChanged = refused || sent() !== saved;
      if (formChanged) asSave();
      else asDrawn();
    };
    editorForm.addEventListener("input", edit);
    editorForm.addEventListener("change", edit);
    publishForm.addEventListener("submit", function (event) {
      if (!formChanged) return;
      event.preventDefault();
      var extra = {then: "publish"};
      var address = publishForm.querySelector("[name=public_name]");
      if (address) extra.public_name = address.value;
      Object.keys(extra).forEach(function (name) {
        var input = editorForm.querySelector("input[type=hidden][name=" + name + "]");
        if (!input) {
          input = document.createElement("input");
          input.type = "hidden";
          input.name = name;
          editorForm.appendChild(input);
        }
        input.value = extra[name];
      });
      changed = false;
      editorForm.submit();
    });
  }

  // The preview follows the form: a moment after a change, the unsaved values are checked as
  // saving checks them (each error told beside its field) and, once all are right, drawn by
  // the public page's renderer into each preview. Nothing is saved.
  var editor = document.querySelector("form.editor[data-check]");
  var live = document.getElementById("preview-live");
  if (editor && live && window.fetch && window.URLSearchParams) {
    var timer = null;
    var asked = 0;
    document.querySelectorAll(".live-only").forEach(function (el) { el.hidden = false; });
    var schedule = function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, 500);
    };
    editor.addEventListener("input", schedule);
    editor.addEventListener("change", schedule);

    var clearErrors = function () {
      // Those told on the last save too: the live check tells them again if they stand.
      editor.querySelectorAll(".field-error").forEach(function (el) {
        var field = el.id ? document.getElementById(el.id.replace(/-error$/, "")) : null;
        if (field) {
          field.removeAttribute("aria-invalid");
          var ids = (field.getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
            return id && id !== el.id;
          });
          if (ids.length) field.setAttribute("aria-describedby", ids.join(" "));
          else field.removeAttribute("aria-describedby");
        }
        el.remove();
      });
    };
    var showErrors = function (errors, labels) {
      clearErrors();
      var elsewhere = [];
      Object.keys(errors).forEach(function (name) {
        var id = "f-" + name.replace(/\./g, "-");
        var field = document.getElementById(id);
        if (!field || name === "form") {
          elsewhere.push((labels[name] ? labels[name] + ": " : "") + errors[name]);
          return;
        }
        var message = document.createElement("p");
        message.className = "field-error";
        message.id = id + "-error";
        message.setAttribute("data-live", "");
        message.textContent = errors[name];
        (field.closest(".field") || field.parentNode).appendChild(message);
        field.setAttribute("aria-invalid", "true");
        var ids = (field.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
        ids.push(message.id);
        field.setAttribute("aria-describedby", ids.join(" "));
      });
      return elsewhere;
    };
    var into = function (target, scheme) {
      var action = editor.getAttribute("action");
      editor.setAttribute("action", editor.getAttribute("data-live") + "?scheme=" +
        encodeURIComponent(scheme));
      editor.setAttribute("target", target);
      editor.submit();  // into the frame or tab: no submit event, this page stays
      editor.setAttribute("action", action);
      editor.removeAttribute("target");
    };
    // The frames shown (none on a phone, where the preview opens a tap away): true if any.
    var draw = function () {
      var shown = 0;
      document.querySelectorAll(".preview iframe[name]").forEach(function (frame) {
        if (!frame.getClientRects().length) return;
        into(frame.name, frame.getAttribute("data-scheme"));
        shown += 1;
      });
      return shown > 0;
    };
    // Once the form has changed, the preview a tap away shows it too, in a tab of its own.
    var edited = false;
    editor.addEventListener("input", function () { edited = true; });
    document.querySelectorAll(".preview-wide a").forEach(function (link) {
      link.addEventListener("click", function (event) {
        if (!edited) return;
        event.preventDefault();
        into("_blank", new URL(link.href).searchParams.get("scheme") || "auto");
      });
    });
    var refresh = function () {
      var mine = ++asked;
      var body = new URLSearchParams(new FormData(editor));
      fetch(editor.getAttribute("data-check"), {
        method: "POST", body: body, credentials: "same-origin",
        headers: {"Accept": "application/json"}
      }).then(function (answer) {
        if (!answer.ok) throw new Error(answer.status);
        return answer.json().then(function (found) { return {ok: found.valid, found: found}; });
      }).then(function (result) {
        if (mine !== asked) return;  // a later change is on its way
        var errors = result.found.errors || {};
        var elsewhere = showErrors(errors, result.found.labels || {});
        var count = Object.keys(errors).length;
        if (result.ok) {
          live.textContent = draw() ? "The preview shows your changes, not saved yet." :
            "Your changes are valid: Open the preview shows them, not saved yet.";
        } else {
          // Each field named, a link to it (its group opened on the way).
          var labels = result.found.labels || {};
          live.textContent = "The preview waits: " + count + (count === 1 ? " value" : " values") +
            " to fix: ";
          var named = Object.keys(errors).filter(function (name) {
            return labels[name] && document.getElementById("f-" + name.replace(/\./g, "-"));
          });
          named.forEach(function (name, index) {
            var link = document.createElement("a");
            var id = "f-" + name.replace(/\./g, "-");
            link.href = "#" + id;
            link.textContent = labels[name];
            link.addEventListener("click", function () {
              var group = document.getElementById(id).closest("details");
              while (group) {
                group.open = true;
                group = group.parentElement.closest("details");
              }
            });
            if (index) live.appendChild(document.createTextNode(", "));
            live.appendChild(link);
          });
          if (!named.length) live.appendChild(document.createTextNode("marked beside the fields"));
          live.appendChild(document.createTextNode(
            (elsewhere.length ? " (" + elsewhere.join("; ") + ")" : "") + "."));
        }
        live.hidden = false;
      }).catch(function () {
        if (mine !== asked) return;
        live.textContent = "The preview could not be updated; save the draft to see it.";
        live.hidden = false;
      });
    };
  }
})();
