// The dashboard's charts: each .chart element carries its data (labels already in the
// reader's language, the same numbers as the table below it) in data-chart; ECharts draws it
// with its own Chinese or English texts (tooltips, toolbox) after the page's language.
(function () {
  "use strict";

  var PALETTE = ["#5470c6", "#91cc75", "#fac858", "#ee6666", "#73c0de", "#3ba272"];

  // A few categories (the quadrants) are all labelled, smaller on a phone; months may thin out.
  function axisCategory(labels, name) {
    var few = labels.length <= 6;
    var label = few ? { interval: 0, fontSize: window.innerWidth < 480 ? 10 : 12 } : { hideOverlap: true };
    return { type: "category", data: labels, name: name || "", axisLabel: label };
  }

  function axisValue(name, percent) {
    var axis = { type: "value", name: name, nameTextStyle: { align: "left" } };
    if (percent) {
      axis.max = function (extent) { return Math.max(100, Math.ceil(extent.max)); };
    }
    return axis;
  }

  function common(spec) {
    return {
      color: PALETTE,
      tooltip: { trigger: spec.kind === "heatmap" ? "item" : "axis", confine: true },
      legend: { type: "scroll", top: 0 },
      grid: { left: 8, right: 16, top: 56, bottom: 8, containLabel: true },
    };
  }

  function series(spec) {
    return spec.series.map(function (s) {
      var one = {
        name: s.name,
        type: spec.kind === "line" ? "line" : "bar",
        data: s.data,
        connectNulls: true,
      };
      if (spec.kind === "stacked-bar") { one.stack = "total"; }
      if (s.target !== undefined && s.target !== null) {
        one.markLine = {
          symbol: "none",
          silent: true,
          lineStyle: { type: "dashed" },
          label: { show: false },
          data: [{ yAxis: s.target }],
        };
      }
      return one;
    });
  }

  function heatmap(spec) {
    var highest = 1;
    spec.data.forEach(function (cell) { highest = Math.max(highest, cell[2]); });
    return {
      tooltip: { position: "top", confine: true },
      // Room above the grid for the rows' axis name (moved from) and below it for the
      // columns' (moved to), under their labels: containLabel leaves axis names out.
      grid: { left: 8, right: 16, top: 40, bottom: 80, containLabel: true },
      xAxis: Object.assign(axisCategory(spec.x, spec.x_name), {
        splitArea: { show: true },
        nameLocation: "middle",
        nameGap: 28,
      }),
      yAxis: Object.assign(axisCategory(spec.y, spec.y_name), { splitArea: { show: true } }),
      visualMap: {
        min: 0,
        max: highest,
        calculable: false,
        orient: "horizontal",
        left: "center",
        bottom: 0,
        itemHeight: 120,
      },
      series: [{
        name: spec.series_name,
        type: "heatmap",
        data: spec.data,
        label: { show: true },
      }],
    };
  }

  function option(spec) {
    if (spec.kind === "heatmap") { return heatmap(spec); }
    var result = common(spec);
    result.xAxis = axisCategory(spec.x);
    result.yAxis = axisValue(spec.y_name, spec.percent);
    result.series = series(spec);
    return result;
  }

  function draw() {
    if (typeof echarts === "undefined") { return; } // the tables still carry every number
    var locale = document.documentElement.lang === "zh-CN" ? "ZH" : "EN";
    var drawn = [];
    document.querySelectorAll(".chart[data-chart]").forEach(function (element) {
      var chart = echarts.init(element, null, { locale: locale, renderer: "canvas" });
      chart.setOption(option(JSON.parse(element.dataset.chart)));
      element.dataset.drawn = "true";
      drawn.push(chart);
    });
    window.addEventListener("resize", function () {
      drawn.forEach(function (chart) { chart.resize(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
