// 好差评 charts (ECharts): rates per day, and the level breakdown.
(function () {
  "use strict";
  if (!window.echarts) { return; }
  var en = document.body.getAttribute("data-lang") === "en";
  var s = JSON.parse(document.getElementById("series").textContent);
  function pct(v) { return v === null || v === undefined ? null : Math.round(v * 1000) / 10; }
  var base = {animation: false, tooltip: {trigger: "axis"}, legend: {top: 0},
              grid: {left: 48, right: 24, top: 32, bottom: 28},
              xAxis: {type: "category", data: s.days},
              yAxis: {type: "value", min: 0, max: 100, axisLabel: {formatter: "{value}%"}}};
  var sat = echarts.init(document.getElementById("chart-satisfaction"));
  sat.setOption(Object.assign({}, base, {series: [
    {name: en ? "Satisfaction" : "满意率", type: "line", data: s.satisfaction.map(pct), connectNulls: true},
    {name: en ? "Bad reviews" : "差评率", type: "line", data: s.bad.map(pct), connectNulls: true}]}));
  var act = echarts.init(document.getElementById("chart-active"));
  act.setOption(Object.assign({}, base, {series: [
    {name: en ? "Active evaluation rate" : "主动评价率", type: "bar", data: s.active.map(pct),
     markLine: {symbol: "none", data: [{yAxis: 60, name: en ? "target" : "目标"}]}}]}));
  var box = document.getElementById("chart-levels");
  var levels = JSON.parse(box.getAttribute("data-levels"));
  var lv = echarts.init(box);
  lv.setOption({animation: false, tooltip: {trigger: "item"},
    color: ["#17683a", "#5fa052", "#8a93a3", "#d9822b", "#a4161a"],
    series: [{type: "pie", radius: ["35%", "65%"], data: levels,
              label: {formatter: "{b}: {c}"}}]});
  document.querySelectorAll(".chart").forEach(function (c) { c.setAttribute("data-ready", "1"); });
  window.addEventListener("resize", function () { sat.resize(); act.resize(); lv.resize(); });
})();
