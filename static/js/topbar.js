/* The top bar's menus: the main menu (under 768 px) and the user menu.
 *
 * Each button marked data-disclosure shows or hides the element its aria-controls names, and
 * says so in aria-expanded; the stylesheet does the showing. Without JavaScript the buttons
 * stay hidden and the menus show in the bar as it wraps. Escape closes an open menu and puts
 * the focus back on its button; a click elsewhere closes it too.
 */
(function () {
  "use strict";

  function buttons() {
    return Array.prototype.slice.call(document.querySelectorAll("button[data-disclosure]"));
  }

  function setOpen(button, open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }

  function isOpen(button) {
    return button.getAttribute("aria-expanded") === "true";
  }

  function panelOf(button) {
    return document.getElementById(button.getAttribute("aria-controls"));
  }

  function init() {
    buttons().forEach(function (button) {
      setOpen(button, false);
      button.hidden = false;
      button.addEventListener("click", function () {
        setOpen(button, !isOpen(button));
      });
    });

    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape" || event.defaultPrevented) return;
      // The innermost open menu first: the user menu sits inside the main one on a phone.
      var open = buttons().filter(isOpen).reverse();
      if (!open.length) return;
      var active = document.activeElement;
      var target = open.find(function (button) {
        var panel = panelOf(button);
        return button === active || (panel && panel.contains(active));
      }) || open[0];
      setOpen(target, false);
      target.focus();
      event.preventDefault();
    });

    document.addEventListener("click", function (event) {
      buttons().filter(isOpen).forEach(function (button) {
        var panel = panelOf(button);
        if (button.contains(event.target) || (panel && panel.contains(event.target))) return;
        setOpen(button, false);
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
