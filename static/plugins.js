// Renderer plugins: each .plugin wrapper holds the field's text, a sandboxed frame and the
// message the frame gets. The frame has an opaque origin (sandbox without allow-same-origin),
// so it is told things only by postMessage, and is believed only when a message comes from
// its own window (event.source): never by origin, which every sandboxed frame shares ("null").
//
// Protocol (see the README's "Renderer plugins"):
//   frame -> page  {type: "retriever-pages:plugin-ready"}            ask for the message
//   page -> frame  {type: "retriever-pages:plugin-render", field, value, parameters,
//                   document?, document_id?}                        draw this
//   frame -> page  {type: "retriever-pages:plugin-height", height}   show me at this height
(function () {
  "use strict";
  var PREFIX = "retriever-pages:plugin-";
  var MAX_HEIGHT = 600;

  function frames() { return document.querySelectorAll("iframe.plugin-frame"); }

  function frameOf(source) {
    var list = frames();
    for (var i = 0; i < list.length; i++) if (list[i].contentWindow === source) return list[i];
    return null;
  }

  function send(frame) {
    var box = frame.closest(".plugin");
    if (!box || !frame.contentWindow) return;
    var message;
    try { message = JSON.parse(box.getAttribute("data-message")); } catch (e) { return; }
    message.type = PREFIX + "render";
    // "*": a sandboxed frame's origin is opaque, so no other target reaches it. The message
    // holds only what the card already shows.
    frame.contentWindow.postMessage(message, "*");
  }

  function show(frame, reported) {
    var box = frame.closest(".plugin");
    var fixed = Number(box.getAttribute("data-height")) || 0;
    var height = fixed || Math.ceil(Number(reported));
    if (!(height > 0)) return;
    frame.height = String(Math.min(height, fixed || MAX_HEIGHT));
    frame.removeAttribute("tabindex");
    box.classList.add("plugin--ready");
  }

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || typeof data.type !== "string" || data.type.indexOf(PREFIX) !== 0) return;
    var frame = frameOf(event.source);
    if (!frame) return; // not one of this page's plugin frames
    if (data.type === PREFIX + "ready") send(frame);
    else if (data.type === PREFIX + "height") show(frame, data.height);
  });

  // A frame that loaded before this script ran, or came with new results, is told on load.
  document.addEventListener("load", function (event) {
    var target = event.target;
    if (target && target.classList && target.classList.contains("plugin-frame")) send(target);
  }, true);
  Array.prototype.forEach.call(frames(), send);
})();
