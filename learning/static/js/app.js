// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  // Confirm buttons marked data-confirm (no inline handlers: the CSP forbids them).
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });
})();
