/* Upload progress for forms marked data-upload-progress.
 *
 * The form is sent as it would be without JavaScript (same fields, CSRF token included), but
 * through XMLHttpRequest so the upload's progress can be shown. The server's answer (the
 * resource page after a redirect, or the form again with its errors) then replaces the page,
 * so it is fetched once: no second request, no second "viewed" event, no lost message.
 * Without JavaScript, or without FormData, the form simply posts.
 */
(function () {
  "use strict";

  var STEP = 10; // announce progress to screen readers every 10 %

  function formatBytes(bytes) {
    if (bytes >= 1e9) return (bytes / 1e9).toFixed(1) + " GB";
    if (bytes >= 1e6) return (bytes / 1e6).toFixed(1) + " MB";
    if (bytes >= 1e3) return Math.round(bytes / 1e3) + " kB";
    return bytes + " bytes";
  }

  function csrfToken(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function setBusy(form, busy) {
    form.setAttribute("aria-busy", busy ? "true" : "false");
    form.classList.toggle("is-uploading", busy);
    Array.prototype.forEach.call(form.querySelectorAll("button[type=submit]"), function (button) {
      button.disabled = busy;
    });
  }

  /* Show the server's HTML as the new page, keeping this window (and its scripts). */
  function showResponse(xhr, form) {
    var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
    var redirected = xhr.responseURL && xhr.responseURL !== new URL(form.action, document.baseURI).href;
    if (redirected) {
      window.history.replaceState(null, "", xhr.responseURL);
    }
    document.title = doc.title;
    document.body.replaceWith(document.adoptNode(doc.body));
    if (window.htmx) {
      window.htmx.process(document.body);
    }
    // Take the reader to what matters: the first field in error, else the page itself.
    var target =
      document.querySelector(".field-invalid input, .field-invalid select, .field-invalid textarea") ||
      document.getElementById("main");
    if (target) {
      target.focus();
    }
    window.scrollTo(0, 0);
  }

  function fail(form, status, text, message) {
    setBusy(form, false);
    status.classList.add("upload-failed");
    text.textContent = message;
  }

  function upload(form, submitter) {
    var status = form.querySelector("[data-upload-status]");
    var bar = status.querySelector("progress");
    var text = status.querySelector("[data-upload-text]");
    var data = new FormData(form);
    if (submitter && submitter.name) {
      data.append(submitter.name, submitter.value);
    }
    var announced = -STEP;

    status.hidden = false;
    status.classList.remove("upload-failed");
    bar.value = 0;
    text.textContent = "Uploading…";
    setBusy(form, true);

    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-CSRFToken", csrfToken(form));
    xhr.upload.addEventListener("progress", function (event) {
      if (!event.lengthComputable) return;
      var percent = Math.floor((event.loaded / event.total) * 100);
      bar.value = percent;
      bar.textContent = percent + "%";
      if (percent - announced >= STEP || percent === 100) {
        announced = percent;
        text.textContent =
          "Uploading: " + percent + "% (" + formatBytes(event.loaded) + " of " + formatBytes(event.total) + ")";
      }
    });
    xhr.upload.addEventListener("load", function () {
      bar.value = 100;
      text.textContent = "Uploaded. Checking the file…";
    });
    xhr.addEventListener("load", function () {
      var type = xhr.getResponseHeader("Content-Type") || "";
      if (type.indexOf("text/html") === 0) {
        showResponse(xhr, form);
      } else {
        fail(form, status, text, "The upload failed (" + xhr.status + "). Try again.");
      }
    });
    xhr.addEventListener("error", function () {
      fail(form, status, text, "The upload failed: the connection was lost. Try again.");
    });
    xhr.addEventListener("abort", function () {
      fail(form, status, text, "The upload was cancelled.");
    });
    xhr.send(data);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-upload-progress")) return;
    if (!window.FormData || !window.DOMParser || !form.querySelector("[data-upload-status]")) return;
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") return; // one upload at a time
    upload(form, event.submitter);
  });
})();
