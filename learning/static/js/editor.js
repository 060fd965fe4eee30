// The course editor without round trips where a browser can help; every form works without it.
(function () {
  "use strict";
  // Show only the answer inputs that fit each question's type.
  function sync(select) {
    var question = select.closest("[data-question]");
    question.querySelectorAll("[data-for]").forEach(function (part) {
      part.hidden = part.getAttribute("data-for").split(" ").indexOf(select.value) === -1;
    });
  }
  document.querySelectorAll("[data-question-type]").forEach(function (select) {
    sync(select);
    select.addEventListener("change", function () { sync(select); });
  });
  // A confirmation for single buttons (app.js confirms whole forms).
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-confirm-click]");
    if (button && !window.confirm(button.getAttribute("data-confirm-click"))) { event.preventDefault(); }
  });
})();
