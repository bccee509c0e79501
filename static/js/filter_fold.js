// On a phone the filter bar's filters fold under the search box, so the list is the first
// thing on the screen; a bar with a filter in use stays open. Wider screens never fold it
// (the summary is hidden there by the stylesheet).
(function () {
  "use strict";
  var narrow = window.matchMedia("(max-width: 600px)");
  function fold(root) {
    if (!narrow.matches) return;
    root.querySelectorAll("details[data-filter-fold]:not([data-filter-active])").forEach(
      function (details) { details.open = false; }
    );
  }
  document.addEventListener("DOMContentLoaded", function () { fold(document); });
})();
