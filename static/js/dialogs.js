/* Dialogs that htmx puts into a page (the share dialog, the sighting dialog) are shown open
 * in place, not as modals, so the browser does not close them on Escape: this does. Closing
 * one, by Escape or by its Close button, puts the focus back on the button that opened it.
 */
(function () {
  "use strict";

  // The element that loaded a dialog, by the slot it was loaded into: the dialog itself is
  // replaced when its form comes back with corrections.
  var openers = new WeakMap();

  function openDialogs() {
    return Array.prototype.slice.call(document.querySelectorAll("dialog[open]"));
  }

  function openerOf(dialog) {
    var slot = dialog.parentElement;
    if (!slot) return null;
    var opener = openers.get(slot);
    if (opener && document.contains(opener)) return opener;
    return slot.id ? document.querySelector('[hx-target="#' + slot.id + '"]') : null;
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    var opener = event.detail && event.detail.requestConfig && event.detail.requestConfig.elt;
    if (target && opener && target.querySelector && target.querySelector("dialog")) {
      openers.set(target, opener);
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || event.defaultPrevented) return;
    var dialogs = openDialogs();
    if (!dialogs.length) return;
    var active = document.activeElement;
    var dialog = dialogs.find(function (d) { return d.contains(active); }) || dialogs[dialogs.length - 1];
    dialog.close();
    event.preventDefault();
  });

  // "close" does not bubble: listen while it goes down to the dialog.
  document.addEventListener("close", function (event) {
    var dialog = event.target;
    if (!(dialog instanceof HTMLDialogElement)) return;
    var opener = openerOf(dialog);
    if (opener) opener.focus();
  }, true);
})();
