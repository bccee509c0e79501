/* The invite form's username, suggested from the name as it is typed.
 *
 * The box marked data-suggest-url takes the portal's suggestion (free, ASCII, from the first
 * and last name) for as long as the admin has not typed in it; once they have, what they
 * typed stays. An answer that arrives after a newer question is dropped. Without
 * JavaScript the box stays empty and the portal suggests one when the invitation is sent.
 */
(function () {
  "use strict";

  var DELAY = 300;

  function init(box) {
    var form = box.form;
    var url = box.getAttribute("data-suggest-url");
    var own = box.value !== ""; // a value the form came back with is the admin's
    var asked = 0;
    var timer = null;

    function field(name) {
      var input = form.elements.namedItem(name);
      return input ? input.value : "";
    }

    function ask() {
      var number = ++asked;
      var query = new URLSearchParams({
        first_name: field("first_name"),
        last_name: field("last_name"),
        email: field("email"),
      });
      fetch(url + "?" + query.toString(), { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (answer) {
          if (answer && number === asked && !own) box.value = answer.username;
        })
        .catch(function () { /* no suggestion: the portal suggests one on sending */ });
    }

    box.addEventListener("input", function () { own = box.value !== ""; });
    ["first_name", "last_name"].forEach(function (name) {
      var input = form.elements.namedItem(name);
      if (!input) return;
      input.addEventListener("input", function () {
        if (own) return;
        clearTimeout(timer);
        timer = setTimeout(ask, DELAY);
      });
    });
    // A name typed before this script ran (a quick typist, a slow network) still counts.
    if (!own && (field("first_name") || field("last_name"))) ask();
  }

  document.querySelectorAll("input[data-suggest-url]").forEach(init);
})();
