// The ciyuan live dashboard: polls two JSON routes, draws SVG charts. No dependencies.
"use strict";
const POLL_MS = 5000;
const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9"];
const SVG = "http://www.w3.org/2000/svg";
const token = (() => {
  const m = location.hash.match(/token=([^&]+)/);
  if (m) sessionStorage.setItem("ciyuan-token", decodeURIComponent(m[1]));
  return sessionStorage.getItem("ciyuan-token");
})();

function el(tag, attrs = {}, text) {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVG, tag.slice(4))
                                      : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}
const fmt = (v) => v === null || v === undefined ? "n/a"
  : typeof v === "number" ? (Number.isInteger(v) ? v.toLocaleString("en-US")
                             : v.toLocaleString("en-US", {maximumFractionDigits: 4}))
  : typeof v === "object" ? (Object.entries(v).map(([c, a]) => `${a} ${c}`).join("; ") || "0")
  : String(v);

function card(label, value) {
  const c = el("div", {class: "card"});
  c.append(el("div", {class: "label"}, label), el("div", {class: "value"}, fmt(value)));
  return c;
}

function empty(target, text) {
  target.replaceChildren(el("div", {class: "empty"}, text));
}

function frame(title, unit, width, height) {
  const svg = el("svg:svg", {viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img",
                             style: `max-width:${width}px`,
                             "aria-label": title});
  svg.append(el("svg:title", {}, title),
             el("svg:text", {x: 8, y: 20, "font-size": 15, "font-weight": 600}, title),
             el("svg:text", {x: 8, y: 37, "font-size": 12, fill: "#5b6475"}, unit));
  return svg;
}

function lineChart(target, title, unit, labels, series) {
  const values = series.flatMap(([, pts]) => pts.filter((v) => v !== null));
  if (!labels.length || !values.length) return empty(target, `${title}: no data yet`);
  const W = 560, H = 260, L = 70, R = 16, T = 52, B = series.length > 1 ? 62 : 44;
  let lo = Math.min(...values), hi = Math.max(...values);
  if (lo >= 0 && lo < hi * 0.5) lo = 0;
  if (hi === lo) { hi = lo + 1; }
  const pw = W - L - R, ph = H - T - B;
  const x = (i) => L + pw * (i + 0.5) / labels.length;
  const y = (v) => T + ph * (1 - (v - lo) / (hi - lo));
  const svg = frame(title, unit, W, H);
  for (let k = 0; k <= 4; k++) {
    const v = lo + (hi - lo) * k / 4;
    svg.append(el("svg:line", {x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#e4e8ef"}),
               el("svg:text", {x: L - 6, y: y(v) + 4, "text-anchor": "end", "font-size": 11},
                  fmt(Math.round(v * 100) / 100)));
  }
  const every = Math.max(1, Math.ceil(labels.length / 8));
  labels.forEach((lab, i) => {
    if (i % every === 0) svg.append(el("svg:text", {x: x(i), y: T + ph + 16,
      "text-anchor": "middle", "font-size": 11}, lab));
  });
  series.forEach(([name, pts], s) => {
    const colour = PALETTE[s % PALETTE.length];
    let d = "", pen = "M";
    pts.forEach((v, i) => { if (v === null) { pen = "M"; return; }
      d += `${pen}${x(i).toFixed(1)},${y(v).toFixed(1)} `; pen = "L"; });
    svg.append(el("svg:path", {d, fill: "none", stroke: colour, "stroke-width": 2}));
    pts.forEach((v, i) => {
      if (v === null) return;
      const dot = el("svg:circle", {class: "mark", "data-value": v, cx: x(i), cy: y(v), r: 3.5,
                                    fill: colour});
      dot.append(el("svg:title", {}, `${name}, ${labels[i]}: ${fmt(v)}`));
      svg.append(dot);
    });
    if (series.length > 1) {
      svg.append(el("svg:rect", {x: L + s * 150, y: H - 16, width: 12, height: 4, fill: colour}),
                 el("svg:text", {x: L + s * 150 + 16, y: H - 11, "font-size": 12}, name));
    }
  });
  target.replaceChildren(svg);
}

function barChart(target, title, unit, bars) {
  if (!bars.length) return empty(target, `${title}: no data yet`);
  const W = 560, T = 50, BH = 22, LW = 150, VW = 90, H = T + bars.length * (BH + 6) + 10;
  const peak = Math.max(...bars.map(([, v]) => v), 0) || 1;
  const svg = frame(title, unit, W, H);
  bars.forEach(([label, v], i) => {
    const yy = T + i * (BH + 6), w = Math.max(0, v) / peak * (W - LW - VW);
    const rect = el("svg:rect", {class: "mark", "data-value": v, x: LW, y: yy, width: w,
                                 height: BH, fill: PALETTE[0]});
    rect.append(el("svg:title", {}, `${label}: ${fmt(v)}`));
    svg.append(el("svg:text", {x: LW - 6, y: yy + BH * 0.7, "text-anchor": "end",
                               "font-size": 12}, label.length > 22 ? label.slice(0, 21) + "…" : label),
               rect,
               el("svg:text", {x: LW + w + 6, y: yy + BH * 0.7, "font-size": 12}, fmt(v)));
  });
  target.replaceChildren(svg);
}

function table(target, columns, rows) {
  if (!rows.length) return empty(target, "no traffic yet today");
  const head = el("tr");
  columns.forEach(([label]) => head.append(el("th", {}, label)));
  const body = rows.map((row) => {
    const tr = el("tr");
    columns.forEach(([, get]) => tr.append(el("td", {}, fmt(get(row)))));
    return tr;
  });
  target.replaceChildren(head, ...body);
}

function renderLive(data) {
  const t = data.today;
  document.getElementById("today").replaceChildren(
    card("requests", t.requests), card("native tokens", t.native_tokens),
    card("standard tokens", t.standard_tokens), card("cost", t.cost));
  const hourly = data.hourly;
  barChart(document.getElementById("hourly"), "Standard tokens per hour today", "standard tokens",
           hourly.map((h) => [h.hour.slice(11, 16) + " UTC", h.standard_tokens]));
  const cols = [["requests", (r) => r.requests], ["standard tokens", (r) => r.standard_tokens],
                ["cost", (r) => r.cost]];
  table(document.getElementById("tenants"), [["tenant", (r) => r.tenant], ...cols],
        data.top_tenants);
  table(document.getElementById("agents"),
        [["agent", (r) => `${r.tenant} / ${r.agent}`], ...cols], data.top_agents);
  const budgets = document.getElementById("budgets");
  if (!data.budgets.length) return empty(budgets, "no budgets set (ciyuan budgets set …)");
  budgets.replaceChildren(...data.budgets.map((b) => {
    const row = el("div", {class: "budget"});
    const bar = el("div", {class: "bar"});
    const fill = Math.min(1, b.fill);
    bar.append(el("div", {class: fill >= 1 ? "full" : fill >= 0.8 ? "warn" : "",
                          style: `width:${(fill * 100).toFixed(1)}%`}));
    row.append(el("div", {}, `${b.scope} · ${b.period}`), bar,
               el("div", {}, `${b.spent} + ${b.reserved} held of ${b.limit} ${b.currency} ` +
                             `(${(b.fill * 100).toFixed(1)}%)`));
    return row;
  }));
}

function renderRelease(r) {
  const meta = document.getElementById("release-meta");
  if (!r) {
    meta.textContent = "no release published yet: run `ciyuan report --month YYYY-MM`";
    document.getElementById("release-headline").replaceChildren();
    empty(document.getElementById("release-index"), "no release yet");
    empty(document.getElementById("release-models"), "no release yet");
    return;
  }
  meta.textContent = `${r.month}, revision ${r.revision}, status ${r.status}, ` +
                     `generated ${r.generated_at}`;
  document.getElementById("release-headline").replaceChildren(
    ...Object.entries(r.headline).map(([k, c]) => card(`${k.replaceAll("_", " ")} (${c.flag})`,
                                                      c.value)));
  const s = r.series;
  lineChart(document.getElementById("release-index"), "Chained price index (base = 100)",
            "index points", s.months, [["Törnqvist", s.price_index_tornqvist],
                                       ["Fisher", s.price_index_fisher]]);
  const t = r.tables.volume_by_model;
  const at = t ? t.columns.indexOf("standard_tokens") : -1;
  barChart(document.getElementById("release-models"), `Volume by model, ${r.month}`,
           "standard tokens", t && at >= 0 ? t.rows.map((row) => [String(row[0]), row[at]]) : []);
}

async function get(path) {
  const headers = token ? {Authorization: `Bearer ${token}`} : {};
  const response = await fetch(path, {headers});
  const body = await response.json();
  if (!response.ok) throw new Error(body.error ? body.error.message : response.statusText);
  return body;
}

async function refresh() {
  const status = document.getElementById("status");
  try {
    const [live, release] = await Promise.all([get("/dashboard/api/live"),
                                               get("/dashboard/api/release")]);
    renderLive(live);
    renderRelease(release);
    status.textContent = `updated ${live.as_of}`;
  } catch (error) {
    status.textContent = `cannot load: ${error.message}`;
  }
}

refresh();
setInterval(refresh, POLL_MS);
