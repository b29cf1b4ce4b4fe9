// Confirmations: a button with data-confirm="ID" opens <dialog id="ID">; data-close closes it.
(function () {
  "use strict";
  document.querySelectorAll("[data-confirm]").forEach(function (button) {
    button.addEventListener("click", function () {
      var dialog = document.getElementById(button.getAttribute("data-confirm"));
      if (dialog && dialog.showModal) { dialog.showModal(); }
    });
  });
  document.querySelectorAll("dialog [data-close]").forEach(function (button) {
    button.addEventListener("click", function () { button.closest("dialog").close(); });
  });

})();
