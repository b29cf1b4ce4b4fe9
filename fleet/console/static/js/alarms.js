// Alarms: "select all unacknowledged" for the group acknowledgement.
(function () {
  "use strict";
  var button = document.getElementById("select-all");
  if (!button) { return; }
  button.addEventListener("click", function () {
    document.querySelectorAll("input[name=ids][form=bulk-ack]").forEach(function (box) {
      box.checked = true;
    });
  });
})();
