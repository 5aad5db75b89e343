// "Teach emotune your face": while a calibration runs, ask the device how it goes once a second and show
// it; when it ends, load the page again, which draws the decision and the way back (webconfig/teach.py).
(function () {
  "use strict";
  var section = document.getElementById("teach");
  if (!section || section.dataset.active !== "yes") { return; }
  var url = section.dataset.url;
  var bar = document.getElementById("teach-bar");
  var rows = document.getElementById("teach-rows");
  var request = document.getElementById("teach-request");
  function show(data) {
    section.querySelectorAll("#teach-progress [data-teach]").forEach(function (element) {
      var value = data[element.dataset.teach];
      if (typeof value === "string" && element.textContent !== value) { element.textContent = value; }
    });
    section.dataset.phase = data.phase;
    bar.value = data.bar;
    request.value = data.request_id;
    var items = data.rows.map(function (row) { return row.text; });
    var shown = Array.prototype.map.call(rows.children, function (item) { return item.textContent; });
    if (items.join("\n") !== shown.join("\n")) {
      rows.replaceChildren.apply(rows, items.map(function (text) {
        var item = document.createElement("li");
        item.textContent = text;
        return item;
      }));
    }
  }
  var stop = window.emotunePoll(url, function (data) {
    if (!data.active) { stop(); window.location.reload(); return; }
    show(data);
  }, 1000);
  if (window.location.hash === "#teach") { section.scrollIntoView({block: "start"}); }
})();
