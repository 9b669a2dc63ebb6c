// Score charts as inline SVG (no libraries): overall bars and per-question grouped bars, 0-100.

const NS = "http://www.w3.org/2000/svg";
export const SERIES = [
  { key: "accuracy", label: "Technical", color: "#3b5bdb" },
  { key: "communication", label: "Communication", color: "#0ca678" },
  { key: "behavior", label: "Behaviour", color: "#f08c00" },
];

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

const clamp = (value) => Math.max(0, Math.min(100, Number(value) || 0));

/** Horizontal bars: `rows` = [{label, value (0-100), color}]. */
export function barChart(rows, title) {
  const width = 520, rowH = 34, left = 130, right = 48, top = 8;
  const height = top * 2 + rows.length * rowH;
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title });
  root.append(svg("title", {}, title));
  const span = width - left - right;
  for (const x of [0, 25, 50, 75, 100]) {
    const gx = left + (span * x) / 100;
    root.append(svg("line", { x1: gx, x2: gx, y1: top, y2: height - top, stroke: "#e6eaf0" }));
  }
  rows.forEach((row, n) => {
    const y = top + n * rowH;
    const value = clamp(row.value);
    root.append(svg("text", { x: left - 10, y: y + rowH / 2 + 5, "text-anchor": "end", "font-size": 13, fill: "#1b2330" }, row.label));
    root.append(svg("rect", { x: left, y: y + 7, width: span, height: rowH - 14, rx: 5, fill: "#f0f3f8" }));
    root.append(svg("rect", { x: left, y: y + 7, width: (span * value) / 100, height: rowH - 14, rx: 5, fill: row.color }));
    root.append(svg("text", { x: left + (span * value) / 100 + 6, y: y + rowH / 2 + 5, "font-size": 13, "font-weight": 600, fill: "#1b2330" }, Math.round(value)));
  });
  return root;
}

/** Grouped vertical bars per question: `questions` = [{label, accuracy, communication, behavior}]. */
export function questionChart(questions, title) {
  const width = 520, height = 200, left = 34, bottom = 26, top = 10;
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title });
  root.append(svg("title", {}, title));
  const plotH = height - top - bottom;
  for (const v of [0, 50, 100]) {
    const y = top + plotH - (plotH * v) / 100;
    root.append(svg("line", { x1: left, x2: width, y1: y, y2: y, stroke: "#e6eaf0" }));
    root.append(svg("text", { x: left - 6, y: y + 4, "text-anchor": "end", "font-size": 11, fill: "#5d6b7e" }, v));
  }
  const groupW = (width - left) / Math.max(1, questions.length);
  const barW = Math.min(26, (groupW - 16) / SERIES.length);
  questions.forEach((question, n) => {
    const x0 = left + n * groupW + (groupW - barW * SERIES.length) / 2;
    SERIES.forEach((series, k) => {
      const value = clamp(question[series.key]);
      const h = (plotH * value) / 100;
      const bar = svg("rect", { x: x0 + k * barW, y: top + plotH - h, width: barW - 3, height: h, rx: 3, fill: series.color });
      bar.append(svg("title", {}, `${question.label} ${series.label}: ${Math.round(value)}`));
      root.append(bar);
    });
    root.append(svg("text", { x: left + n * groupW + groupW / 2, y: height - 8, "text-anchor": "middle", "font-size": 12, fill: "#1b2330" }, question.label));
  });
  return root;
}
