// 服务地图: Leaflet with the configured tiles, or an ECharts longitude/latitude plot without.
(function () {
  "use strict";
  var en = document.body.getAttribute("data-lang") === "en";
  var features = JSON.parse(document.getElementById("features").textContent);
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"}[c];
    });
  }
  function popup(f) {
    return "<strong>" + esc(f.id) + "</strong> " + esc(f.name || "") + "<br>" + esc(f.site || "") +
      "<br>" + (en ? "Hours: " : "开放时间：") + esc(f.hours) +
      "<br>" + (en ? "Services: " : "服务：") + esc(f.services.join(en ? ", " : "、")) +
      "<br>" + esc(f.status_label);
  }
  var rows = document.getElementById("map-rows");
  rows.innerHTML = features.map(function (f) {
    return "<tr><td><a href=\"/terminals/" + encodeURIComponent(f.id) + "\">" + esc(f.id) + "</a></td><td>" +
      esc(f.site || "—") + "</td><td>" + esc(f.hours) + "</td><td>" +
      esc(f.services.join(en ? ", " : "、")) + "</td><td><span class=\"badge state-" + esc(f.status) +
      "\">" + esc(f.status_label) + "</span></td></tr>";
  }).join("");
  var colours = {online: "#17683a", offline: "#3b4250", stale: "#b87400"};
  var leafletBox = document.getElementById("map");
  if (leafletBox && window.L) {
    var map = L.map(leafletBox);
    L.tileLayer(leafletBox.getAttribute("data-tiles"),
                {attribution: leafletBox.getAttribute("data-attribution") || "", maxZoom: 18}).addTo(map);
    var bounds = [];
    features.forEach(function (f) {
      L.circleMarker([f.lat, f.lon], {radius: 8, color: colours[f.status] || "#0b4f9c",
                                      fillOpacity: .8}).bindPopup(popup(f)).addTo(map);
      bounds.push([f.lat, f.lon]);
    });
    if (bounds.length) { map.fitBounds(bounds, {padding: [30, 30], maxZoom: 14}); }
    else { map.setView([36.65, 117.0], 7); }
    return;
  }
  var box = document.getElementById("coordmap");
  if (!box || !window.echarts) { return; }
  var chart = echarts.init(box);
  var byStatus = {};
  features.forEach(function (f) {
    (byStatus[f.status] = byStatus[f.status] || []).push({value: [f.lon, f.lat], f: f});
  });
  var lons = features.map(function (f) { return f.lon; });
  var lats = features.map(function (f) { return f.lat; });
  var pad = 0.05;
  chart.setOption({
    animation: false,
    legend: {top: 0},
    tooltip: {trigger: "item", formatter: function (p) { return popup(p.data.f); }},
    grid: {left: 64, right: 32, top: 36, bottom: 48},
    xAxis: {type: "value", name: en ? "Longitude" : "经度", nameLocation: "middle", nameGap: 28,
            min: lons.length ? Math.floor((Math.min.apply(null, lons) - pad) * 100) / 100 : 114.8,
            max: lons.length ? Math.ceil((Math.max.apply(null, lons) + pad) * 100) / 100 : 122.7,
            scale: true},
    yAxis: {type: "value", name: en ? "Latitude" : "纬度", nameLocation: "middle", nameGap: 44,
            min: lats.length ? Math.floor((Math.min.apply(null, lats) - pad) * 100) / 100 : 34.4,
            max: lats.length ? Math.ceil((Math.max.apply(null, lats) + pad) * 100) / 100 : 38.4,
            scale: true},
    series: Object.keys(byStatus).map(function (s) {
      return {name: byStatus[s][0].f.status_label, type: "scatter", symbolSize: 14,
              itemStyle: {color: colours[s] || "#0b4f9c"}, data: byStatus[s],
              label: {show: true, position: "right", formatter: function (p) { return p.data.f.id; }}};
    })
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
