// "Copy" buttons of the command centre: a button with data-copy="<id of a textarea>" copies its
// text. Without JavaScript the button stays hidden and the textarea is there to select by hand.
(function () {
  "use strict";
  function copy(button) {
    var area = document.getElementById(button.getAttribute("data-copy"));
    if (!area) { return; }
    var status = document.getElementById(area.id.replace(/-text$/, "") + "-copied");
    function done() { if (status) { status.textContent = button.getAttribute("data-done"); } }
    area.focus();
    area.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(area.value).then(done, function () {
        if (document.execCommand("copy")) { done(); }
      });
    } else if (document.execCommand("copy")) {
      done();
    }
  }
  function ready() {
    var buttons = document.querySelectorAll("button[data-copy]");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].hidden = false;
      buttons[i].addEventListener("click", function (event) { copy(event.currentTarget); });
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
