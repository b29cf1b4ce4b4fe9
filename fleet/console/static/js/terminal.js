// Terminal page: the 24 h / 7 d charts (ECharts).
(function () {
  "use strict";
  var en = document.body.getAttribute("data-lang") === "en";
  var loadBox = document.getElementById("chart-load");
  var diskBox = document.getElementById("chart-disk");
  if (!loadBox || !window.echarts) { return; }
  var terminal = loadBox.getAttribute("data-terminal");
  var load = echarts.init(loadBox);
  var disk = echarts.init(diskBox);
  var names = en ? {cpu: "CPU", memory: "Memory", disk: "Disk", outbox: "Outbox"}
                 : {cpu: "CPU", memory: "内存", disk: "磁盘", outbox: "待发数据"};
  function line(name, data, axis) {
    return {name: names[name], type: "line", showSymbol: data.length < 60, symbolSize: 4,
            data: data, yAxisIndex: axis || 0};
  }
  function first(d) {
    var all = [].concat(d.series.cpu, d.series.memory, d.series.disk, d.series.outbox);
    return all.length ? Math.min.apply(null, all.map(function (p) { return p[0]; })) : d.from;
  }
  // Times show in the site's time zone (China Standard Time, UTC+8, no daylight saving),
  // as everywhere else on the console, whatever the browser's own zone.
  var SHIFT = 8 * 3600000;
  function shift(d) {
    ["cpu", "memory", "disk", "outbox"].forEach(function (k) {
      d.series[k] = d.series[k].map(function (p) { return [p[0] + SHIFT, p[1]]; });
    });
    d.from += SHIFT; d.to += SHIFT;
    return d;
  }
  function draw(hours) {
    fetch("/terminals/" + encodeURIComponent(terminal) + "/health.json?hours=" + hours,
          {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (d) {
        d = shift(d);
        var base = {animation: false, useUTC: true, tooltip: {trigger: "axis"}, legend: {top: 0},
                    grid: {left: 48, right: 48, top: 32, bottom: 28},
                    // a terminal newer than the range: start at its first sample
                    xAxis: {type: "time", min: Math.max(d.from, first(d) - 5 * 60000),
                            max: d.to}};
        load.setOption(Object.assign({}, base, {
          yAxis: {type: "value", min: 0, max: 100},
          series: [line("cpu", d.series.cpu), line("memory", d.series.memory)]}), true);
        disk.setOption(Object.assign({}, base, {
          yAxis: [{type: "value", min: 0, max: 100}, {type: "value", min: 0}],
          series: [line("disk", d.series.disk), line("outbox", d.series.outbox, 1)]}), true);
        loadBox.setAttribute("data-points", String(d.series.cpu.length));
        loadBox.setAttribute("data-ready", "1");
        diskBox.setAttribute("data-ready", "1");
      });
  }
  document.querySelectorAll("[data-hours]").forEach(function (button) {
    button.addEventListener("click", function () {
      document.querySelectorAll("[data-hours]").forEach(function (b) {
        b.setAttribute("aria-pressed", String(b === button));
      });
      draw(parseInt(button.getAttribute("data-hours"), 10));
    });
  });
  window.addEventListener("resize", function () { load.resize(); disk.resize(); });
  draw(24);
})();
