// emotunePoll(url, handle, everyMs): ask the device for `url`'s JSON every `everyMs` while the page is
// shown, and hand each answer to `handle`; a signed-out phone reloads (to the sign-in), and a busy device
// or an offline phone is simply asked again next time. Returns a function that stops the polling.
window.emotunePoll = function (url, handle, everyMs) {
  "use strict";
  function ask() {
    if (document.hidden) { return; }
    fetch(url, {credentials: "same-origin", cache: "no-store", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (response.status === 401) { window.location.reload(); return null; }
        return response.ok ? response.json() : null;
      })
      .then(function (data) { if (data) { handle(data); } })
      .catch(function () { /* the device is busy or the phone is offline: try again next time */ });
  }
  var timer = window.setInterval(ask, everyMs);
  document.addEventListener("visibilitychange", ask);
  ask();
  return function () { window.clearInterval(timer); document.removeEventListener("visibilitychange", ask); };
};
