// capwatch account page: burndown and daily charts as SVG, hover and keyboard tooltips,
// "Poll now". Hand-written, no dependencies, no network beyond this server's own API.
"use strict";

(function () {
  const NS = "http://www.w3.org/2000/svg";
  const GB = 1e9, TB = 1e12;
  const page = document.querySelector("[data-account]");
  if (!page) return;
  const account = page.getAttribute("data-account");
  const api = "/api/v1/accounts/" + encodeURIComponent(account);

  // The same rules as capwatch.units (format_bytes, format_range, format_percent, format_pace):
  // a browser test holds them to the Python output.
  function fmtBytes(n) {
    if (n === null || n === undefined) return "-";
    const a = Math.abs(n);
    if (a >= TB) return (n / TB).toFixed(2) + " TB";
    if (a >= 100 * GB) return (n / GB).toFixed(0) + " GB";
    if (n === 0) return "0 GB";
    if (a >= GB) return (n / GB).toFixed(1) + " GB";
    return (n / 1e6).toFixed(0) + " MB";
  }
  function fmtRange(lo, hi) {
    const a = fmtBytes(lo), b = fmtBytes(hi);
    const na = a.split(" ")[0], ua = a.split(" ")[1], nb = b.split(" ")[0], ub = b.split(" ")[1];
    if (lo === 0 || ua === ub) return na === nb ? b : na + "\u2013" + b;
    return a + "\u2013" + b;
  }
  function fmtPercent(p) {
    if (p === null || p === undefined) return "-";
    let shown = p.toFixed(1);
    if (p < 100 && Number(shown) >= 100) shown = "99.9";
    return shown + "%";
  }
  function fmtPace(p) { return p === null || p === undefined ? "-" : p.toFixed(2) + "x"; }
  window.capwatchFormat = { bytes: fmtBytes, range: fmtRange, percent: fmtPercent, pace: fmtPace };
  function fmtTime(iso) {
    return new Date(iso).toLocaleString([], {
      month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
    });
  }
  function fmtDay(iso) {
    return new Date(iso + "T12:00:00").toLocaleDateString([], { month: "short", day: "numeric" });
  }
  function el(name, attrs, parent) {
    const node = document.createElementNS(NS, name);
    for (const key in attrs) node.setAttribute(key, attrs[key]);
    if (parent) parent.appendChild(node);
    return node;
  }
  function text(parent, x, y, value, anchor) {
    const t = el("text", { x: x, y: y, "text-anchor": anchor || "middle" }, parent);
    t.textContent = value;
    return t;
  }
  function niceStep(v) {
    const unit = Math.pow(10, Math.floor(Math.log10(Math.max(v, 1))));
    for (const m of [1, 2, 2.5, 5]) if (m * unit >= v) return m * unit;
    return 10 * unit;
  }
  function scale(top, ticks) {
    const step = niceStep(Math.max(top, GB) / ticks);
    return { step: step, max: step * Math.max(Math.ceil(top * 1.02 / step), 1) };
  }
  function fmtAxis(n) {
    if (n >= TB) return String(+(n / TB).toFixed(2)) + " TB";
    return String(+(n / GB).toFixed(1)) + " GB";
  }

  // Burndown -------------------------------------------------------------------------------
  // The SVG is drawn at the box's own width (1 unit = 1 px) so text stays readable on phones.
  let W = 800, H = 340;
  const M = { l: 60, r: 14, t: 14, b: 30 };
  function size(box, ratio, lo, hi) {
    W = Math.max(box.clientWidth || 800, 280);
    H = Math.round(Math.min(Math.max(W * ratio, lo), hi));
  }

  function frame(data) {
    const t0 = Date.parse(data.cycle.start), t1 = Date.parse(data.cycle.end);
    const f = data.forecast;
    const top = Math.max(data.cap_bytes || 0, f ? f.high_bytes : 0,
      ...data.used.map(function (p) { return p.bytes; }));
    const sc = scale(top, H < 300 ? 3 : 4), ymax = sc.max;
    const w = W, h = H;  // captured: W and H change when the next chart is drawn
    return {
      step: sc.step, w: w,
      x: function (t) { return M.l + (w - M.l - M.r) * (t - t0) / (t1 - t0); },
      y: function (b) { return h - M.b - (h - M.t - M.b) * b / ymax; },
      t0: t0, t1: t1, ymax: ymax,
    };
  }

  function axes(svg, fr) {
    const g = el("g", { class: "axis", "aria-hidden": "true" }, svg);
    for (let b = 0; b <= fr.ymax + 1; b += fr.step) {
      const y = fr.y(b);
      el("line", { class: "grid", x1: M.l, x2: W - M.r, y1: y, y2: y }, g);
      text(g, M.l - 6, y + 4, fmtAxis(b), "end");
    }
    const days = (fr.t1 - fr.t0) / 86400000;
    const every = Math.max(Math.ceil(days / Math.max(Math.floor((W - M.l) / 70), 1)), 1);
    for (let d = 0; d <= days; d += every) {
      const t = fr.t0 + d * 86400000, x = fr.x(t);
      el("line", { class: "grid", x1: x, x2: x, y1: H - M.b, y2: H - M.b + 4 }, g);
      text(g, x, H - M.b + 18, new Date(t).toLocaleDateString([], { month: "short", day: "numeric" }));
    }
  }

  function line(svg, cls, pts, fr) {
    if (!pts.length) return null;
    const d = pts.map(function (p) { return fr.x(Date.parse(p.t)) + "," + fr.y(p.bytes); });
    return el("polyline", { class: cls, points: d.join(" ") }, svg);
  }

  function forecastMarks(svg, data, fr) {
    const f = data.forecast, last = data.used[data.used.length - 1];
    if (!f || !last) return;
    const x0 = fr.x(Date.parse(last.t)), y0 = fr.y(last.bytes), x1 = fr.x(fr.t1);
    el("polygon", { class: "band", points: [x0 + "," + y0, x1 + "," + fr.y(f.high_bytes),
      x1 + "," + fr.y(f.low_bytes)].join(" ") }, svg);
    el("line", { class: "fc", x1: x0, y1: y0, x2: x1, y2: fr.y(f.expected_bytes) }, svg);
  }

  function dailyPoints(used) {
    const byDay = new Map();
    for (const p of used) byDay.set(new Date(p.t).toDateString(), p);
    return Array.from(byDay.values());
  }

  function drawBurndown(box, data) {
    box.textContent = "";
    size(box, 0.45, 220, 360);
    const svg = el("svg", { viewBox: "0 0 " + W + " " + H, role: "group",
      "aria-label": box.getAttribute("data-label") ||
        "Burndown of the current cycle: used bytes against the cap" }, box);
    const fr = frame(data);
    axes(svg, fr);
    if (data.cap_bytes) {
      el("line", { class: "cap", x1: M.l, x2: W - M.r, y1: fr.y(data.cap_bytes),
        y2: fr.y(data.cap_bytes) }, svg);
    }
    line(svg, "prorata", data.prorata, fr);
    line(svg, "alarm", data.alarm, fr);
    forecastMarks(svg, data, fr);
    line(svg, "used", data.used, fr);
    const cursor = el("line", { class: "cursor", y1: M.t, y2: H - M.b, visibility: "hidden" }, svg);
    const marker = el("circle", { class: "pt", r: 5, visibility: "hidden" }, svg);
    const tip = document.createElement("div");
    tip.className = "tooltip";
    tip.id = box.id + "-tip";
    tip.setAttribute("role", "status");
    tip.hidden = true;
    box.appendChild(tip);

    function show(p) {
      const x = fr.x(Date.parse(p.t)), y = fr.y(p.bytes);
      cursor.setAttribute("x1", x); cursor.setAttribute("x2", x);
      cursor.setAttribute("visibility", "visible");
      marker.setAttribute("cx", x); marker.setAttribute("cy", y);
      marker.setAttribute("visibility", "visible");
      tip.textContent = fmtTime(p.t) + " · " + fmtBytes(p.bytes) + " used";
      tip.hidden = false;
      const k = box.clientWidth / fr.w;
      const left = Math.min(Math.max(x * k - tip.offsetWidth / 2, 0),
        box.clientWidth - tip.offsetWidth);
      tip.style.left = left + "px";
      tip.style.top = Math.max(y * k - tip.offsetHeight - 12, 0) + "px";
    }
    function hide() {
      tip.hidden = true;
      cursor.setAttribute("visibility", "hidden");
      marker.setAttribute("visibility", "hidden");
    }
    function nearest(clientX) {
      const rect = svg.getBoundingClientRect();
      const x = (clientX - rect.left) * fr.w / rect.width;
      const t = fr.t0 + (x - M.l) / (fr.w - M.l - M.r) * (fr.t1 - fr.t0);
      let lo = 0, hi = data.used.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (Date.parse(data.used[mid].t) < t) lo = mid + 1; else hi = mid;
      }
      const prev = data.used[Math.max(lo - 1, 0)], here = data.used[lo];
      return Math.abs(Date.parse(prev.t) - t) < Math.abs(Date.parse(here.t) - t) ? prev : here;
    }
    if (data.used.length) {
      svg.addEventListener("mousemove", function (ev) { show(nearest(ev.clientX)); });
      svg.addEventListener("mouseleave", hide);
    }
    const g = el("g", { class: "points" }, svg);
    for (const p of dailyPoints(data.used)) {
      const c = el("circle", { class: "pt", r: 3.5, cx: fr.x(Date.parse(p.t)), cy: fr.y(p.bytes),
        tabindex: "0", role: "img",
        "aria-label": fmtTime(p.t) + ": " + fmtBytes(p.bytes) + " used" }, g);
      c.addEventListener("focus", function () { show(p); });
      c.addEventListener("blur", hide);
    }
  }

  // Daily bars -----------------------------------------------------------------------------
  // One slot per day of the whole cycle, so the first day's bar is a day wide, not the chart.
  function drawDaily(box, days, allowance, cycle) {
    box.textContent = "";
    size(box, 0.25, 150, 220);
    const h = H, m = { l: M.l, r: 8, t: 10, b: 26 };
    const svg = el("svg", { viewBox: "0 0 " + W + " " + h, role: "img",
      "aria-label": "Usage per day in the current cycle" }, box);
    const sc = scale(Math.max(...days.map(function (d) { return d.used_bytes; }), 0), 2);
    const top = sc.max;
    const y = function (b) { return h - m.b - (h - m.t - m.b) * b / top; };
    const g = el("g", { class: "axis" }, svg);
    for (let b = 0; b <= top + 1; b += sc.step) {
      el("line", { class: "grid", x1: m.l, x2: W - m.r, y1: y(b), y2: y(b) }, g);
      text(g, m.l - 6, y(b) + 4, fmtAxis(b), "end");
    }
    const cycleDays = cycle ? Math.round((Date.parse(cycle.end) - Date.parse(cycle.start)) / 864e5) : 0;
    const labelEvery = Math.max(Math.ceil(Math.max(days.length, cycleDays) /
      Math.max(Math.floor((W - m.l) / 60), 1)), 1);
    const slot = (W - m.l - m.r) / Math.max(days.length, cycleDays, 1);
    days.forEach(function (d, i) {
      const x = m.l + i * slot;
      const used = Math.max(d.used_bytes, 0);
      // on a plan with a window the bar's top part is what fell in it (free, or counted apart)
      const free = d.free_bytes === null || d.free_bytes === undefined ? 0 : Math.min(d.free_bytes, used);
      const counted = used - free;
      const over = allowance && d.used_bytes > allowance;
      const r = el("rect", { class: over ? "bar over" : "bar", x: x + slot * 0.15, width: slot * 0.7,
        y: y(counted), height: Math.max(y(0) - y(counted), 0) }, svg);
      let label = fmtDay(d.day) + ": " + fmtBytes(d.used_bytes);
      if (free > 0) {
        const f = el("rect", { class: "bar free", x: x + slot * 0.15, width: slot * 0.7,
          y: y(used), height: Math.max(y(counted) - y(used), 0) }, svg);
        label += " (" + fmtBytes(free) + " in the window)";
        el("title", {}, f).textContent = label;
      }
      el("title", {}, r).textContent = label;
      if (i % labelEvery === 0) text(g, x + slot / 2, h - 8, fmtDay(d.day));
    });
  }

  // Numbers and poll now -------------------------------------------------------------------
  const FIELDS = {
    used: function (s) { return [fmtBytes(s.used_bytes), s.used_bytes]; },
    cap: function (s) {
      if (!s.cap_bytes && s.allowances && s.allowances.length) return ["the plan's allowances", null];
      return [s.cap_bytes ? fmtBytes(s.cap_bytes) : "unlimited", s.cap_bytes];
    },
    percent: function (s) { return [fmtPercent(s.percent), null]; },
    pace: function (s) { return [fmtPace(s.pace), null]; },
    projected: function (s) {
      return s.forecast ? [fmtBytes(s.forecast.expected_bytes), s.forecast.expected_bytes] : ["-", null];
    },
    range: function (s) {
      return s.forecast ? [fmtRange(s.forecast.low_bytes, s.forecast.high_bytes), null] : ["", null];
    },
    shift: function (s) {
      return [s.forecast && s.forecast.shift ? s.forecast.shift.text : "", null];
    },
    allowance: function (s) {
      return [s.daily_allowance_bytes === null ? "-" : fmtBytes(s.daily_allowance_bytes) + "/day",
        s.daily_allowance_bytes];
    },
    days_left: function (s) { return [s.days_left.toFixed(1), null]; },
    last_reading: function (s) { return [s.last_reading_at ? fmtTime(s.last_reading_at) : "never", null]; },
    status: function (s) { return [s.status, null]; },
  };

  function showSummary(s) {
    for (const node of document.querySelectorAll("[data-field]")) {
      const f = FIELDS[node.getAttribute("data-field")];
      if (!f) continue;
      const [label, bytes] = f(s);
      node.textContent = label;
      if (bytes !== null && bytes !== undefined) node.setAttribute("data-bytes", String(bytes));
      if (node.getAttribute("data-field") === "status") node.className = "status " + s.status;
    }
    page.setAttribute("data-last-reading", s.last_reading_at || "");
  }

  async function getJSON(url) {
    const r = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!r.ok) throw new Error(url + ": HTTP " + r.status);
    return r.json();
  }

  let last = null;
  // one burndown per allowance of the plan (plan.html), from /burndown?allowance=
  const planCharts = Array.from(document.querySelectorAll("figure[data-allowance]"));
  function draw() {
    if (!last) return;
    const chart = document.getElementById("burndown");
    if (chart) drawBurndown(chart, last.bd);
    const daily = document.getElementById("daily");
    if (daily) drawDaily(daily, last.bd.daily, last.summary.daily_allowance_bytes, last.bd.cycle);
    planCharts.forEach(function (box, i) { drawBurndown(box, last.plan[i]); });
  }
  async function refresh() {
    const [summary, bd, ...plan] = await Promise.all([getJSON(api), getJSON(api + "/burndown"),
      ...planCharts.map(function (box) {
        return getJSON(api + "/burndown?allowance=" + encodeURIComponent(box.getAttribute("data-allowance")));
      })]);
    showSummary(summary);
    last = { summary: summary, bd: bd, plan: plan };
    draw();
    page.setAttribute("data-ready", "1");
  }
  let resizing = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizing);
    resizing = setTimeout(draw, 150);
  });

  async function pollNow(button, status) {
    button.disabled = true;
    status.textContent = "Polling…";
    try {
      const r = await fetch(api + "/poll", { method: "POST", credentials: "same-origin",
        headers: { "X-Capwatch-Request": "1", Accept: "application/json" } });
      const body = await r.json();
      if (!r.ok) throw new Error(body.detail || "HTTP " + r.status);
      status.textContent = body.stored ? "New reading stored." :
        (body.message || (body.outcome === "ok" ? "No new reading." : "Poll failed: " + body.outcome));
      await refresh();
    } catch (err) {
      status.textContent = "Poll failed: " + err.message;
    } finally {
      button.disabled = false;
    }
  }

  for (const t of document.querySelectorAll("time[datetime]")) t.textContent = fmtTime(t.getAttribute("datetime"));
  const button = document.getElementById("poll-now");
  if (button) button.addEventListener("click", function () {
    pollNow(button, document.getElementById("poll-status"));
  });
  refresh().catch(function (err) {
    const chart = document.getElementById("burndown");
    if (chart) chart.textContent = "Chart unavailable: " + err.message;
  });
  setInterval(function () { refresh().catch(function () {}); }, 60000);
})();
