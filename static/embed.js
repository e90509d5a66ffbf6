// Embed a retriever-pages search on any site the publisher allows:
//   <script src="https://SERVER/embed.js" data-retriever="PUBLIC_NAME" async></script>
// or a page of tabs: data-page="SLUG" instead of data-retriever.
// The iframe is sized to its content from the messages it posts, and only messages from this
// script's own server and this very iframe are believed.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var page = script.getAttribute("data-page");
  var name = page || script.getAttribute("data-retriever");
  if (!name || !/^[a-z0-9][a-z0-9-]*[a-z0-9]$/.test(name)) return;
  var server = new URL(script.src).origin;
  var frame = document.createElement("iframe");
  frame.src = server + (page ? "/p/" : "/r/") + name + "/embed?origin=" + encodeURIComponent(location.origin);
  frame.title = script.getAttribute("data-title") || "Search";
  frame.loading = "lazy";
  frame.style.width = "100%";
  frame.style.border = "0";
  frame.style.height = (script.getAttribute("data-height") || "600") + "px";
  script.parentNode.insertBefore(frame, script.nextSibling);
  window.addEventListener("message", function (event) {
    if (event.origin !== server || event.source !== frame.contentWindow) return;
    var data = event.data;
    if (!data || data.type !== "retriever-pages:height" || (page ? data.page : data.name) !== name) return;
    var height = Number(data.height);
    if (height > 0 && height < 100000) frame.style.height = Math.ceil(height) + "px";
  });
})();
