// 积分兑换: count the member's code down, and draw a new one when it expires (only while the
// page is visible, so a phone in a pocket does not keep minting codes).
(function () {
  "use strict";
  var note = document.getElementById("code-expiry");
  var form = document.getElementById("code-refresh");
  if (!note || !form) return;
  var expires = Date.parse(note.getAttribute("data-expires"));
  if (isNaN(expires)) return;
  var sent = false;

  function tick() {
    var left = Math.round((expires - Date.now()) / 1000);
    if (left > 0) {
      note.textContent = note.getAttribute("data-left").replace("{s}", String(left));
      return;
    }
    note.textContent = note.getAttribute("data-expired");
    if (!sent && document.visibilityState === "visible") {
      sent = true;
      form.submit();
    }
  }

  tick();
  setInterval(tick, 1000);
  document.addEventListener("visibilitychange", tick);
})();
