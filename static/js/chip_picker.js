/* Chip pickers for the multi-selects rendered by portal.widgets.ChipPicker.
 *
 * The plain <select multiple> stays in the form and keeps the selection, so the form posts
 * exactly the values it posted before; this script only hides it and drives it from a search
 * box (an ARIA combobox with a listbox popup) and a list of chips. Without JavaScript the
 * select is shown and works as it always did.
 *
 * The search filters the select's own options, which the server rendered from the field's
 * queryset: nothing is fetched, so the picker cannot offer what the form would refuse.
 *
 * Keys in the search box: typing filters, Down and Up move through the list, Enter chooses,
 * Escape closes the list, Backspace in the empty box removes the last chip that may be
 * removed. Every word a person reads comes from data attributes the template translated.
 */
(function () {
  "use strict";

  if (window.portalChipPicker) {
    return; // every form with a picker includes the script; one copy does the work
  }
  window.portalChipPicker = true;

  var LIMIT = 100; // options listed at once; the search narrows longer lists

  function fold(text) {
    return (text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function format(template, values) {
    return (template || "").replace(/%\((\w+)\)s/g, function (match, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? values[key] : match;
    });
  }

  function groupLabel(option) {
    var parent = option.parentNode;
    return parent && parent.tagName === "OPTGROUP" ? parent.label : "";
  }

  function enhance(root) {
    if (root.getAttribute("data-chip-picker-ready")) {
      return;
    }
    var select = root.querySelector("select[multiple]");
    var ui = root.querySelector(".chip-picker-ui");
    if (!select || !ui) {
      return;
    }
    root.setAttribute("data-chip-picker-ready", "true");

    var words = root.dataset;
    var chips = ui.querySelector(".chip-picker-chips");
    var input = ui.querySelector(".chip-picker-input");
    var listbox = ui.querySelector(".chip-picker-listbox");
    var note = document.createElement("p");
    var status = ui.querySelector(".chip-picker-status");
    var keys = document.getElementById(select.id + "_keys");
    var options = Array.prototype.slice.call(select.options);
    var shown = []; // the <option>s listed now, in order
    var active = -1;

    note.className = "chip-picker-note";
    note.hidden = true;
    listbox.parentNode.appendChild(note);

    // The field's <label for> names the search box now; the list and the chips share it.
    var label = select.id ? document.querySelector('label[for="' + CSS.escape(select.id) + '"]') : null;
    var name = select.getAttribute("aria-label") || "";
    if (label) {
      if (!label.id) {
        label.id = select.id + "_label";
      }
      label.htmlFor = input.id;
      var copy = label.cloneNode(true);
      Array.prototype.forEach.call(copy.querySelectorAll("[aria-hidden=true]"), function (node) {
        node.remove();
      });
      name = copy.textContent.trim();
      listbox.setAttribute("aria-labelledby", label.id);
    } else if (name) {
      input.setAttribute("aria-label", name);
      listbox.setAttribute("aria-label", name);
    }
    chips.setAttribute("aria-label", name);
    var described = [select.getAttribute("aria-describedby"), keys && keys.id].filter(Boolean);
    if (described.length) {
      input.setAttribute("aria-describedby", described.join(" "));
    }
    if (select.getAttribute("aria-invalid")) {
      input.setAttribute("aria-invalid", select.getAttribute("aria-invalid"));
    }
    if (select.required) {
      // A hidden control cannot be focused to report a browser's own "required": the server
      // says it instead, next to the field.
      select.required = false;
      input.setAttribute("aria-required", "true");
    }

    select.hidden = true;
    Array.prototype.forEach.call(root.querySelectorAll(".chip-picker-fallback"), function (node) {
      node.hidden = true;
    });
    ui.hidden = false;

    function announce(message) {
      status.textContent = "";
      window.setTimeout(function () {
        status.textContent = message;
      }, 50);
    }

    function changed() {
      select.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function isLocked(option) {
      return option.hasAttribute("data-locked");
    }

    function renderChips() {
      chips.textContent = "";
      options.forEach(function (option) {
        if (!option.selected) {
          return;
        }
        var chip = document.createElement("li");
        chip.className = "chip";
        var text = document.createElement("span");
        text.className = "chip-label";
        text.textContent = option.text;
        chip.appendChild(text);
        if (isLocked(option)) {
          chip.classList.add("chip-locked");
          var lock = document.createElement("span");
          lock.className = "chip-note";
          lock.textContent = words.lockedLabel;
          chip.appendChild(lock);
        } else {
          var button = document.createElement("button");
          button.type = "button";
          button.className = "chip-remove";
          button.setAttribute("aria-label", format(words.removeLabel, { label: option.text }));
          var cross = document.createElement("span");
          cross.setAttribute("aria-hidden", "true");
          cross.textContent = "×";
          button.appendChild(cross);
          button.addEventListener("click", function () {
            remove(option);
            input.focus();
          });
          chip.appendChild(button);
        }
        chips.appendChild(chip);
      });
      chips.hidden = !chips.children.length;
    }

    function matches(option, terms) {
      var haystack = fold([option.text, option.getAttribute("data-search"), groupLabel(option)].join(" "));
      return terms.every(function (term) {
        return haystack.indexOf(term) !== -1;
      });
    }

    function renderList() {
      var terms = fold(input.value).split(/\s+/).filter(Boolean);
      var candidates = options.filter(function (option) {
        return !option.selected && !option.disabled;
      });
      var found = candidates.filter(function (option) {
        return matches(option, terms);
      });
      shown = found.slice(0, LIMIT);
      listbox.textContent = "";
      var group = null;
      var groupName = null;
      shown.forEach(function (option) {
        var heading = groupLabel(option);
        var parent = listbox;
        if (heading) {
          if (heading !== groupName) {
            groupName = heading;
            group = document.createElement("div");
            group.setAttribute("role", "group");
            var title = document.createElement("div");
            title.className = "chip-picker-group";
            title.id = select.id + "_group_" + listbox.children.length;
            title.setAttribute("role", "presentation");
            title.textContent = heading;
            group.setAttribute("aria-labelledby", title.id);
            group.appendChild(title);
            listbox.appendChild(group);
          }
          parent = group;
        }
        var item = document.createElement("div");
        item.className = "chip-picker-option";
        item.id = select.id + "_option_" + option.index;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        item.textContent = option.text;
        var hint = option.getAttribute("data-search");
        if (hint) {
          var small = document.createElement("span");
          small.className = "chip-picker-hint";
          small.textContent = hint;
          item.appendChild(document.createTextNode(" "));
          item.appendChild(small);
        }
        item.addEventListener("mousedown", function (event) {
          event.preventDefault(); // keep the focus in the search box
        });
        item.addEventListener("click", function () {
          choose(option);
        });
        parent.appendChild(item);
      });
      var message = "";
      if (!candidates.length) {
        message = words.allChosenLabel;
      } else if (!found.length) {
        message = format(words.noMatchLabel, { query: input.value.trim() });
      } else if (found.length > LIMIT) {
        message = format(words.moreLabel, { count: String(LIMIT) });
      }
      note.textContent = message;
      note.hidden = !message;
      if (message && !found.length) {
        announce(message);
      }
    }

    function open(first) {
      renderList();
      listbox.hidden = !shown.length;
      input.setAttribute("aria-expanded", shown.length ? "true" : "false");
      setActive(first === "last" ? shown.length - 1 : shown.length ? 0 : -1);
    }

    function close() {
      listbox.hidden = true;
      note.hidden = true;
      input.setAttribute("aria-expanded", "false");
      setActive(-1);
    }

    function isOpen() {
      return input.getAttribute("aria-expanded") === "true";
    }

    function setActive(index) {
      var previous = document.getElementById(input.getAttribute("aria-activedescendant") || "");
      if (previous) {
        previous.classList.remove("is-active");
        previous.setAttribute("aria-selected", "false");
      }
      active = index;
      if (index < 0 || index >= shown.length) {
        active = -1;
        input.removeAttribute("aria-activedescendant");
        return;
      }
      var item = document.getElementById(select.id + "_option_" + shown[index].index);
      item.classList.add("is-active");
      item.setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", item.id);
      item.scrollIntoView({ block: "nearest" });
    }

    function choose(option) {
      var at = active;
      option.selected = true;
      changed();
      input.value = "";
      renderChips();
      open();
      setActive(Math.min(Math.max(at, 0), shown.length - 1));
      announce(format(words.addedLabel, { label: option.text }));
    }

    function remove(option) {
      if (isLocked(option)) {
        return;
      }
      option.selected = false;
      changed();
      renderChips();
      if (isOpen()) {
        open();
      }
      announce(format(words.removedLabel, { label: option.text }));
    }

    input.addEventListener("input", function () {
      open();
    });
    input.addEventListener("click", function () {
      if (!isOpen()) {
        open();
      }
    });
    input.addEventListener("keydown", function (event) {
      switch (event.key) {
        case "ArrowDown":
          event.preventDefault();
          if (!isOpen()) {
            open();
          } else if (shown.length) {
            setActive((active + 1) % shown.length);
          }
          break;
        case "ArrowUp":
          event.preventDefault();
          if (!isOpen()) {
            open("last");
          } else if (shown.length) {
            setActive(active <= 0 ? shown.length - 1 : active - 1);
          }
          break;
        case "Enter":
          if (isOpen() && active >= 0) {
            event.preventDefault();
            choose(shown[active]);
          } else if (input.value.trim()) {
            event.preventDefault(); // still searching: Enter does not send the form
          }
          break;
        case "Escape":
          if (isOpen() || input.value) {
            // Only the list closes; a dialog around the form stays open.
            event.preventDefault();
            event.stopPropagation();
            input.value = isOpen() ? input.value : "";
            close();
          }
          break;
        case "Backspace":
          if (!input.value) {
            var removable = options.filter(function (option) {
              return option.selected && !isLocked(option);
            });
            if (removable.length) {
              event.preventDefault();
              remove(removable[removable.length - 1]);
            }
          }
          break;
        case "Tab":
          close();
          break;
      }
    });
    root.addEventListener("focusout", function (event) {
      if (!event.relatedTarget || !root.contains(event.relatedTarget)) {
        close();
      }
    });

    renderChips();
  }

  function scan(container) {
    if (!container || !container.querySelectorAll) {
      return;
    }
    if (container.matches && container.matches("[data-chip-picker]")) {
      enhance(container);
    }
    Array.prototype.forEach.call(container.querySelectorAll("[data-chip-picker]"), enhance);
  }

  scan(document);
  // Forms that htmx brings in later (the share dialog) get their pickers too.
  document.addEventListener("htmx:load", function (event) {
    scan(event.detail && event.detail.elt);
  });
})();
