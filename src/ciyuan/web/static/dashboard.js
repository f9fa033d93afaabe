// The ciyuan live dashboard: polls two JSON routes and draws SVG charts. No dependencies.
// The charts look like those of ciyuan/web/charts.py (the release report): keep them alike.
// Every drawn data mark has class "mark" and a data-value attribute.
"use strict";

const POLL_MS = 5000;
const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000"];
const MUTED = "#5b6475", GRID = "#e4e8ef";
const SVG = "http://www.w3.org/2000/svg";
const HEADLINE = {
  requests: "Requests", native_tokens: "Native tokens", standard_tokens: "Standard tokens",
  spend: "Spend", price_index_tornqvist: "Price index (Törnqvist)",
  price_index_fisher: "Price index (Fisher)", productive_share_tokens: "Productive share",
  mom_growth_standard_tokens: "Growth on last month",
  value_per_million_tokens: "Value per M native tokens",
};

// The admin token: from #token=… once, then kept for this tab only, and out of the URL.
const token = (() => {
  const m = location.hash.match(/token=([^&]+)/);
  if (m) {
    sessionStorage.setItem("ciyuan-token", decodeURIComponent(m[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
  return sessionStorage.getItem("ciyuan-token");
})();

function el(tag, attrs = {}, text) {
  const svg = tag.startsWith("svg:");
  const node = svg ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}
const $ = (id) => document.getElementById(id);

function formatNumber(v) {
  if (!Number.isFinite(v)) return "n/a";
  if (Number.isInteger(v)) return v.toLocaleString("en-US");
  if (Math.abs(v) >= 1000) return v.toLocaleString("en-US", {maximumFractionDigits: 1});
  return String(Number(v.toPrecision(4)));
}
const money = (cost) => Object.entries(cost || {}).map(([c, a]) => `${a} ${c}`).join("; ") || "0";
const fmt = (v) => v === null || v === undefined ? "n/a"
  : typeof v === "number" ? formatNumber(v) : typeof v === "object" ? money(v) : String(v);
function tickLabel(v) {
  for (const [scale, suffix] of [[1e12, "T"], [1e9, "B"], [1e6, "M"]]) {
    if (Math.abs(v) >= scale) return `${Number((v / scale).toPrecision(6))}${suffix}`;
  }
  return formatNumber(v);
}

// Round ticks (1, 2, 2.5 or 5 × 10ⁿ) covering lo..hi, as charts.nice_ticks.
function niceTicks(lo, hi, count = 5) {
  if (hi === lo) {
    if (lo === 0) hi = 1;
    else { const pad = 10 ** Math.floor(Math.log10(Math.abs(lo))); lo -= pad; hi += pad; }
  }
  const raw = (hi - lo) / count, mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw * 0.999);
  const first = Math.floor(lo / step + 1e-9), last = Math.ceil(hi / step - 1e-9);
  const places = Math.max(0, 1 - Math.floor(Math.log10(step)));
  const ticks = [];
  for (let i = first; i <= Math.min(last, first + 12); i++) {
    ticks.push(Number((i * step).toFixed(places)));
  }
  return ticks;
}

// An empty state: what is missing, and the command that fills it (if any).
function empty(target, text, command) {
  const p = el("p", {class: "empty"}, text);
  if (command) p.append(" ", el("code", {}, command));
  target.replaceChildren(p);
}

function frame(title, unit, width, height) {
  const svg = el("svg:svg", {viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img",
                             "aria-label": title});
  svg.style.maxWidth = `${width}px`;
  svg.append(el("svg:title", {}, title),
             el("svg:text", {x: 8, y: 20, "font-size": 15, "font-weight": 600}, title),
             el("svg:text", {x: 8, y: 38, "font-size": 12, fill: MUTED}, unit));
  return svg;
}

function mark(tag, attrs, value, tip) {
  const node = el(`svg:${tag}`, {class: "mark", "data-value": value, ...attrs});
  node.append(el("svg:title", {}, tip));
  return node;
}

// A y axis with gridlines; returns the value → y function.
function yAxis(svg, values, L, R, T, plotH) {
  let lo = Math.min(...values), hi = Math.max(...values);
  if (lo >= 0 && lo <= hi * 0.5) lo = 0;
  const ticks = niceTicks(lo, hi), y0 = ticks[0], y1 = ticks[ticks.length - 1];
  const y = (v) => T + plotH * (1 - (v - y0) / (y1 - y0));
  for (const t of ticks) {
    svg.append(el("svg:line", {x1: L, x2: R, y1: y(t), y2: y(t), stroke: GRID}),
               el("svg:text", {x: L - 6, y: y(t) + 4, "text-anchor": "end", "font-size": 11,
                               fill: MUTED}, tickLabel(t)));
  }
  svg.append(el("svg:line", {x1: L, x2: R, y1: T + plotH, y2: T + plotH, stroke: MUTED}));
  return y;
}

function xLabels(svg, labels, x, y, plotW) {
  const every = Math.max(1, Math.ceil(labels.length * 44 / plotW));
  labels.forEach((label, i) => {
    if (i % every === 0) {
      svg.append(el("svg:text", {x: x(i), y, "text-anchor": "middle", "font-size": 11,
                                 fill: MUTED}, label));
    }
  });
}

function lineChart(target, title, unit, labels, series, emptyText) {
  series = series.map(([name, pts]) => [name, (pts || []).map(
    (v) => typeof v === "number" && Number.isFinite(v) ? v : null)]);
  const values = series.flatMap(([, pts]) => pts.filter((v) => v !== null));
  if (!labels.length || !values.length) return empty(target, emptyText);
  const W = 640, H = 320, L = 78, R = 18, T = 54, B = series.length > 1 ? 64 : 40;
  const plotW = W - L - R, plotH = H - T - B;
  const x = (i) => L + plotW * (i + 0.5) / labels.length;
  const svg = frame(title, unit, W, H);
  const y = yAxis(svg, values, L, W - R, T, plotH);
  xLabels(svg, labels, x, T + plotH + 17, plotW);
  let lx = L;
  series.forEach(([name, pts], s) => {
    const colour = PALETTE[s % PALETTE.length];
    let d = "", pen = "M";
    pts.forEach((v, i) => {
      if (v === null) { pen = "M"; return; }
      d += `${pen}${x(i).toFixed(1)},${y(v).toFixed(1)} `;
      pen = "L";
    });
    svg.append(el("svg:path", {d: d.trim(), fill: "none", stroke: colour, "stroke-width": 2.5,
                               "stroke-linejoin": "round"}));
    pts.forEach((v, i) => {
      if (v !== null) {
        svg.append(mark("circle", {cx: x(i), cy: y(v), r: 4, fill: colour}, v,
                        `${name}, ${labels[i]}: ${formatNumber(v)}`));
      }
    });
    if (series.length > 1) {
      svg.append(el("svg:rect", {x: lx, y: H - 16, width: 14, height: 4, fill: colour}),
                 el("svg:text", {x: lx + 19, y: H - 10, "font-size": 12}, name));
      lx += 19 + 7 * name.length + 22;
    }
  });
  target.replaceChildren(svg);
}

// Vertical columns over labels (the hours of today).
function columnChart(target, title, unit, columns, emptyText) {
  if (!columns.length || columns.every(([, v]) => v === 0)) return empty(target, emptyText);
  const W = 1100, H = 280, L = 78, R = 18, T = 54, B = 40;
  const plotW = W - L - R, plotH = H - T - B, slot = plotW / columns.length;
  const x = (i) => L + slot * (i + 0.5);
  const svg = frame(title, unit, W, H);
  const y = yAxis(svg, columns.map(([, v]) => v), L, W - R, T, plotH);
  xLabels(svg, columns.map(([label]) => label), x, T + plotH + 17, plotW);
  columns.forEach(([label, v, tip], i) => {
    const top = y(Math.max(0, v)), bw = Math.min(36, slot * 0.7);
    svg.append(mark("rect", {x: x(i) - bw / 2, y: top, width: bw, height: T + plotH - top,
                             fill: PALETTE[0]}, v, tip || `${label}: ${formatNumber(v)}`));
  });
  target.replaceChildren(svg);
}

// Horizontal bars in the order given, each labelled with its value (as charts.bar_chart).
function barChart(target, title, unit, bars, emptyText) {
  if (!bars.length) return empty(target, emptyText);
  const W = 640, T = 52, BH = 22, GAP = 6, H = T + bars.length * (BH + GAP) + 10;
  const short = (s) => s.length > 26 ? s.slice(0, 25) + "…" : s;
  const LW = Math.min(200, 12 + 7 * Math.max(...bars.map(([l]) => short(l).length)));
  const VW = 14 + 7 * Math.max(...bars.map(([, v]) => formatNumber(v).length));
  const peak = Math.max(...bars.map(([, v]) => Number.isFinite(v) ? v : 0), 0) || 1;
  const svg = frame(title, unit, W, H);
  bars.forEach(([label, v], i) => {
    const top = T + i * (BH + GAP);
    const w = Number.isFinite(v) ? Math.max(0, v) / peak * (W - LW - VW - 8) : 0;
    svg.append(el("svg:text", {x: LW - 6, y: top + BH * 0.7, "text-anchor": "end",
                               "font-size": 12}, short(label)),
               mark("rect", {x: LW, y: top, width: w, height: BH, fill: PALETTE[0]}, v,
                    `${label}: ${formatNumber(v)}`),
               el("svg:text", {x: LW + w + 6, y: top + BH * 0.7, "font-size": 12},
                  formatNumber(v)));
  });
  target.replaceChildren(svg);
}

function card(label, value, flag) {
  const c = el("div", {class: "card"});
  c.append(el("div", {class: "label"}, label), el("div", {class: "value"}, value));
  if (flag) c.append(el("span", {class: "flag", title: "status flag"}, flag));
  return c;
}

function table(target, columns, rows, emptyText) {
  if (!rows.length) return empty(target, emptyText);
  const t = el("table"), head = el("tr");
  columns.forEach(([label]) => head.append(el("th", {scope: "col"}, label)));
  t.append(el("thead"), el("tbody"));
  t.tHead.append(head);
  rows.forEach((row) => {
    const tr = el("tr");
    columns.forEach(([, get]) => tr.append(el("td", {}, fmt(get(row)))));
    t.tBodies[0].append(tr);
  });
  target.replaceChildren(t);
}

function renderBudgets(budgets) {
  const target = $("budgets");
  if (!budgets.length) {
    return empty(target, "no budgets set: set one with",
                 "ciyuan budgets set --tenant T --period month --amount 100");
  }
  target.replaceChildren(...budgets.map((b) => {
    const row = el("div", {class: "budget"}), pct = (b.fill * 100).toFixed(1);
    const bar = el("div", {class: "bar", role: "progressbar", "aria-valuemin": 0,
                           "aria-valuemax": 100, "aria-valuenow": pct,
                           "aria-label": `${b.scope} ${b.period}`});
    const fill = el("div", {class: b.fill >= 1 ? "full" : b.fill >= 0.8 ? "warn" : "ok"});
    fill.style.width = `${Math.min(100, b.fill * 100)}%`;
    bar.append(fill);
    row.append(el("div", {class: "scope"}, `${b.scope} · ${b.period}`), bar,
               el("div", {class: "amounts"},
                  `${b.spent} spent + ${b.reserved} held of ${b.limit} ${b.currency} (${pct}%)`));
    return row;
  }));
}

function renderLive(data) {
  const t = data.today, quiet = "no traffic yet today";
  const costs = Object.entries(t.cost);
  $("today").replaceChildren(
    card("Requests", fmt(t.requests)), card("Native tokens", fmt(t.native_tokens)),
    card("Standard tokens", fmt(t.standard_tokens)),
    ...(costs.length ? costs.map(([c, a]) => card(`Cost (${c})`, a)) : [card("Cost", "0")]));
  columnChart($("hourly"), "Standard tokens per hour today", "standard tokens, hours in UTC",
              data.hourly.map((h) => [h.hour.slice(11, 13), h.standard_tokens,
                `${h.hour.slice(11, 16)} UTC: ${formatNumber(h.standard_tokens)} standard ` +
                `tokens, ${formatNumber(h.requests)} requests`]), quiet);
  const cols = [["requests", (r) => r.requests], ["standard tokens", (r) => r.standard_tokens],
                ["cost", (r) => r.cost]];
  table($("tenants"), [["tenant", (r) => r.tenant], ...cols], data.top_tenants, quiet);
  table($("agents"), [["tenant", (r) => r.tenant], ["agent", (r) => r.agent], ...cols],
        data.top_agents, quiet);
  renderBudgets(data.budgets);
}

function headlineValue(key, value) {
  if (typeof value === "number" && /share|growth/.test(key)) {
    const pct = `${(value * 100).toFixed(1)}%`;
    return key.includes("growth") && value > 0 ? `+${pct}` : pct;
  }
  return fmt(value);
}

function renderRelease(r) {
  if (!r) {
    $("release-meta").textContent = "";
    empty($("release-headline"), "no release published yet: run",
          "ciyuan report --month YYYY-MM --out releases");
    $("release-charts").replaceChildren();
    return;
  }
  $("release-meta").textContent = `${r.month}, revision ${r.revision}, status ${r.status}, ` +
                                  `generated ${r.generated_at}`;
  $("release-headline").replaceChildren(...Object.entries(r.headline || {}).map(([k, c]) =>
    card(HEADLINE[k] || k.replaceAll("_", " "), headlineValue(k, c.value), c.flag)));
  const s = r.series || {}, months = s.months || [];
  const index = el("figure", {id: "release-index", class: "chart"});
  const models = el("figure", {id: "release-models", class: "chart"});
  $("release-charts").replaceChildren(index, models);
  lineChart(index, "Chained price index (base = 100)", "index points", months,
            [["Törnqvist", s.price_index_tornqvist], ["Fisher", s.price_index_fisher]],
            "no price index in this release");
  const t = (r.tables || {}).volume_by_model;
  const at = t ? t.columns.indexOf("standard_tokens") : -1;
  const bars = t && at >= 0 ? t.rows.map((row) => [String(row[0]), row[at]]) : [];
  bars.sort((a, b) => b[1] - a[1]);
  barChart(models, `Volume by model, ${r.month}`, "standard tokens", bars.slice(0, 12),
           "no volume by model in this release");
}

async function get(path) {
  const headers = token ? {Authorization: `Bearer ${token}`} : {};
  const response = await fetch(path, {headers, cache: "no-store"});
  const body = await response.json();
  if (!response.ok) throw new Error(body.error ? body.error.message : response.statusText);
  return body;
}

async function refresh() {
  try {
    const [live, release] = await Promise.all([get("/dashboard/api/live"),
                                               get("/dashboard/api/release")]);
    renderLive(live);
    renderRelease(release);
    $("problem").hidden = true;
    $("status").textContent = `updated ${live.as_of.replace("T", " ").replace("Z", " UTC")}`;
  } catch (error) {
    $("problem").textContent = `cannot load the dashboard's data: ${error.message}`;
    $("problem").hidden = false;
    $("status").textContent = "not updated";
  }
}

refresh();
setInterval(refresh, POLL_MS);
