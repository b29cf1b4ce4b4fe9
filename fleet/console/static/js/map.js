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
    leafletBox.setAttribute("data-ready", "1");
    return;
  }
  var box = document.getElementById("coordmap");
  if (!box || !window.echarts) { return; }
  // Without tiles: a longitude/latitude plot of the province, with the prefecture seats as
  // landmarks (approximate coordinates), zoomable with the mouse wheel or a pinch.
  var seats = [["济南", 117.00, 36.65], ["青岛", 120.38, 36.07], ["淄博", 118.05, 36.81],
               ["枣庄", 117.32, 34.81], ["东营", 118.67, 37.43], ["烟台", 121.45, 37.46],
               ["潍坊", 119.16, 36.71], ["济宁", 116.59, 35.41], ["泰安", 117.09, 36.20],
               ["威海", 122.12, 37.51], ["日照", 119.53, 35.42], ["临沂", 118.36, 35.10],
               ["德州", 116.36, 37.44], ["聊城", 115.98, 36.46], ["滨州", 117.97, 37.38],
               ["菏泽", 115.48, 35.23]];
  var chart = echarts.init(box);
  var byStatus = {};
  features.forEach(function (f) {
    (byStatus[f.status] = byStatus[f.status] || []).push({value: [f.lon, f.lat], f: f});
  });
  var bounds = {x0: 114, x1: 123, y0: 34, y1: 38.5};  // Shandong
  features.forEach(function (f) {
    bounds.x0 = Math.min(bounds.x0, Math.floor(f.lon)); bounds.x1 = Math.max(bounds.x1, Math.ceil(f.lon));
    bounds.y0 = Math.min(bounds.y0, Math.floor(f.lat)); bounds.y1 = Math.max(bounds.y1, Math.ceil(f.lat));
  });
  var series = [{name: en ? "Cities" : "地市", type: "scatter", symbol: "diamond", symbolSize: 7,
                 silent: true, itemStyle: {color: "#8a93a3"}, z: 1,
                 label: {show: true, position: "bottom", color: "#4f5868", fontSize: 12,
                         formatter: function (p) { return p.data.name; }},
                 data: seats.map(function (c) { return {name: c[0], value: [c[1], c[2]]}; })}];
  Object.keys(byStatus).forEach(function (s) {
    series.push({name: byStatus[s][0].f.status_label, type: "scatter", symbolSize: 12, z: 3,
                 itemStyle: {color: colours[s] || "#0b4f9c", borderColor: "#fff", borderWidth: 1},
                 data: byStatus[s], labelLayout: {hideOverlap: true},
                 label: {show: true, position: "right", fontSize: 11,
                         formatter: function (p) { return p.data.f.id; }}});
  });
  chart.setOption({
    animation: false,
    legend: {top: 0},
    tooltip: {trigger: "item", formatter: function (p) { return p.data.f ? popup(p.data.f) : p.data.name; }},
    grid: {left: 64, right: 96, top: 36, bottom: 56},
    dataZoom: [{type: "inside", xAxisIndex: 0, filterMode: "none"},
               {type: "inside", yAxisIndex: 0, filterMode: "none"}],
    xAxis: {type: "value", name: en ? "Longitude (°E)" : "经度（东经）", nameLocation: "middle",
            nameGap: 30, min: bounds.x0, max: bounds.x1, interval: 1},
    yAxis: {type: "value", name: en ? "Latitude (°N)" : "纬度（北纬）", nameLocation: "middle",
            nameGap: 40, min: bounds.y0, max: bounds.y1, interval: 0.5},
    series: series
  });
  box.setAttribute("data-ready", "1");
  window.addEventListener("resize", function () { chart.resize(); });
})();
