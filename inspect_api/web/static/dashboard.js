/* Dashboard (统计看板): fetches the page's data-src JSON and draws it with Apache ECharts.
 * External file: the portal's CSP forbids inline script. */
(function () {
  "use strict";
  var root = document.getElementById("dashboard");
  if (!root || typeof echarts === "undefined") { return; }
  var statusEl = document.getElementById("dash-status");
  var charts = {};

  function fmt(value, kind) {
    if (value === null || value === undefined) { return "—"; }
    if (kind === "wan") { return Number(value).toFixed(2); }
    if (kind === "rate" || kind === "days") { return Number(value).toFixed(2); }
    return String(value);
  }

  function cell(tr, text) {
    var td = document.createElement("td");
    td.textContent = text;
    tr.appendChild(td);
    return td;
  }

  function chart(id, option) {
    var el = document.getElementById(id);
    var c = echarts.getInstanceByDom(el) || echarts.init(el, null, { renderer: "canvas" });
    c.setOption(option, true);
    charts[id] = c;
    return c;
  }

  function kpis(hz, enf) {
    var kinds = {};
    hz.columns.concat(enf.columns).forEach(function (c) { kinds[c.key] = c.kind; });
    document.querySelectorAll("[data-kpi]").forEach(function (el) {
      var key = el.getAttribute("data-kpi");
      var value = key in hz.total ? hz.total[key] : enf.total[key];
      el.textContent = fmt(value, kinds[key]);
    });
  }

  function monthly(t) {
    var months = t.rows.map(function (r) { return r.label; });
    chart("chart-monthly", {
      tooltip: { trigger: "axis" },
      legend: { data: ["发现隐患", "销号隐患"] },
      grid: { left: 40, right: 16, top: 36, bottom: 28 },
      xAxis: { type: "category", data: months },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: "发现隐患", type: "bar", data: t.rows.map(function (r) { return r.hazards_found; }), itemStyle: { color: "#0b5cad" } },
        { name: "销号隐患", type: "line", data: t.rows.map(function (r) { return r.closed_in_period; }), itemStyle: { color: "#1a7f37" } }
      ]
    });
  }

  function countyRates(t) {
    var rows = t.rows;
    chart("chart-county", {
      tooltip: {
        trigger: "axis",
        formatter: function (p) {
          var r = rows[p[0].dataIndex];
          return r.label + "<br>整改率 " + fmt(r.closure_rate, "rate") + "%（" + r.hazards_closed + "/" + r.hazards_found + "）";
        }
      },
      grid: { left: 64, right: 24, top: 12, bottom: 28 },
      xAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      yAxis: { type: "category", data: rows.map(function (r) { return r.label; }), inverse: true },
      series: [{ name: "整改率(%)", type: "bar", data: rows.map(function (r) { return r.closure_rate; }),
                 itemStyle: { color: "#e8a317" }, label: { show: true, position: "right", formatter: function (p) { return p.value === null ? "—" : p.value + "%"; } } }]
    });
  }

  function enforcement(t) {
    var names = [["inspections", "检查(次)"], ["notices_issued", "指令书(份)"], ["cases_opened", "立案(起)"], ["penalties", "处罚(份)"]];
    chart("chart-enforcement", {
      tooltip: { trigger: "axis" },
      legend: { data: names.map(function (n) { return n[1]; }) },
      grid: { left: 40, right: 16, top: 36, bottom: 48 },
      xAxis: { type: "category", data: t.rows.map(function (r) { return r.label; }), axisLabel: { interval: 0, rotate: 30 } },
      yAxis: { type: "value", minInterval: 1 },
      series: names.map(function (n) { return { name: n[1], type: "bar", data: t.rows.map(function (r) { return r[n[0]]; }) }; })
    });
    var table = document.getElementById("enforcement-table");
    var head = document.createElement("tr");
    [t.group_label].concat(t.columns.map(function (c) { return c.label; })).forEach(function (label) {
      var th = document.createElement("th");
      th.textContent = label;
      head.appendChild(th);
    });
    table.tHead.replaceChildren(head);
    var body = table.tBodies[0];
    body.replaceChildren();
    t.rows.concat([t.total]).forEach(function (r) {
      var tr = document.createElement("tr");
      if (r === t.total) { tr.className = "total"; }
      cell(tr, r.label);
      t.columns.forEach(function (c) { cell(tr, fmt(r[c.key], c.kind)); });
      body.appendChild(tr);
    });
  }

  function lists(data) {
    var body = document.querySelector("#overdue-table tbody");
    body.replaceChildren();
    if (!data.overdue.length) {
      var tr = document.createElement("tr");
      cell(tr, "没有逾期未整改的隐患").colSpan = 6;
      body.appendChild(tr);
    }
    data.overdue.forEach(function (h) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-hazard", h.id);
      [h.enterprise, h.county, h.description, h.grade_label, h.deadline, String(h.days_overdue)].forEach(function (v) { cell(tr, v); });
      body.appendChild(tr);
    });
    var listed = document.querySelector("#listed-table tbody");
    listed.replaceChildren();
    if (!data.listed.length) {
      var empty = document.createElement("tr");
      cell(empty, "没有挂牌督办的重大隐患").colSpan = 4;
      listed.appendChild(empty);
    }
    data.listed.forEach(function (h) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-hazard", h.id);
      [h.enterprise, h.description, h.listing_label, h.deadline || "—"].forEach(function (v) { cell(tr, v); });
      listed.appendChild(tr);
    });
  }

  function load() {
    fetch(root.getAttribute("data-src"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (resp) {
        return resp.json().then(function (body) {
          if (!resp.ok) { throw new Error(body.message || ("HTTP " + resp.status)); }
          return body;
        });
      })
      .then(function (data) {
        kpis(data.hazards_by_county, data.enforcement_by_county);
        monthly(data.hazards_by_month);
        countyRates(data.hazards_by_county);
        enforcement(data.enforcement_by_county);
        lists(data);
        statusEl.textContent = "统计截至 " + beijing(data.hazards_by_county.as_of) + "（北京时间）";
        root.setAttribute("data-ready", "1");
      })
      .catch(function (err) {
        statusEl.textContent = "统计数据加载失败：" + err.message;
        statusEl.className = "error";
        root.setAttribute("data-ready", "error");
      });
  }

  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (k) { charts[k].resize(); });
  });
  load();

  // One date format everywhere in the portal: YYYY-MM-DD HH:MM, Beijing time (UTC+8, no DST since 1991).
  function beijing(value) {
    var t = new Date(new Date(value).getTime() + 8 * 3600 * 1000);
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return t.getUTCFullYear() + "-" + two(t.getUTCMonth() + 1) + "-" + two(t.getUTCDate()) + " " +
      two(t.getUTCHours()) + ":" + two(t.getUTCMinutes());
  }
}());
