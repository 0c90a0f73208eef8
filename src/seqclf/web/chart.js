// The training curves of the model card: loss and accuracy per epoch, training and validation, each on an axis
// scaled to its values, with the epoch whose weights training kept marked on both.
"use strict";

const SERIES = [
  { split: "train", name: "training", colour: "rgb(47, 111, 222)" },
  { split: "valid", name: "validation", colour: "rgb(217, 72, 15)" },
];
const KEPT_COLOUR = "rgb(85, 85, 85)";
const CHART = { height: 200, left: 46, right: 12, top: 10, bottom: 36 };

function svg(tag, attributes = {}, children = []) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

// From a little below the lowest value to a little above the highest, within [floor, ceiling].
function axisRange(values, floor, ceiling) {
  const low = Math.min(...values), high = Math.max(...values);
  const margin = (high - low || Math.abs(high) || 1) * 0.1;
  return [Math.max(floor, low - margin), Math.min(ceiling, high + margin)];
}

// Five ticks across the range, with as many decimals as tell them apart.
function valueTicks([low, high]) {
  const step = (high - low) / 4;
  const digits = Math.max(2, Math.min(4, Math.ceil(-Math.log10(step))));
  return [0, 1, 2, 3, 4].map((i) => ({ value: low + i * step, text: (low + i * step).toFixed(digits) }));
}

// The drawing's scales: epoch index to x, value to y, for a chart `width` wide.
function scales(width, epochs, [low, high]) {
  const plotWidth = width - CHART.left - CHART.right, plotHeight = CHART.height - CHART.top - CHART.bottom;
  return {
    x: (i) => CHART.left + (epochs === 1 ? plotWidth / 2 : i * plotWidth / (epochs - 1)),
    y: (value) => CHART.top + (high - value) / (high - low || 1) * plotHeight,
    every: Math.ceil(epochs / Math.max(1, Math.floor(plotWidth / 28))),  // epoch numbers at least 28 px apart
  };
}

function axes(metric, width, history, range, { x, y, every }) {
  const bottom = CHART.height - CHART.bottom, right = width - CHART.right;
  const grid = valueTicks(range).flatMap(({ value, text }) => [
    svg("line", { x1: CHART.left - 4, y1: y(value), x2: right, y2: y(value), stroke: "#e4e7ec" }),
    svg("text", { class: `tick ${metric}`, x: CHART.left - 6, y: y(value) + 4, "text-anchor": "end", text })]);
  const epochs = history.map((_, i) => i).filter((i) => i % every === 0 || i === history.length - 1);
  const xTicks = epochs.flatMap((i) => [
    svg("line", { x1: x(i), y1: bottom, x2: x(i), y2: bottom + 4, stroke: "#888" }),
    svg("text", { class: "tick x", x: x(i), y: bottom + 16, "text-anchor": "middle", text: history[i].epoch })]);
  return [...grid, ...xTicks,
    svg("line", { x1: CHART.left, y1: bottom, x2: right, y2: bottom, stroke: "#888" }),
    svg("line", { x1: CHART.left, y1: CHART.top, x2: CHART.left, y2: bottom, stroke: "#888" }),
    svg("text", { class: "axis-title", x: (CHART.left + right) / 2, y: CHART.height - 4, "text-anchor": "middle",
      text: "epoch" })];
}

function seriesLine(series, metric, history, { x, y }) {
  const values = history.map((r) => r[`${series.split}_${metric}`]);
  const points = values.map((v, i) => `${x(i)},${y(v)}`).join(" ");
  return svg("g", {}, [
    svg("polyline", { class: `${series.split}-${metric}`, fill: "none", stroke: series.colour, "stroke-width": 2, points }),
    ...values.map((v, i) => svg("circle", { cx: x(i), cy: y(v), r: 3, fill: series.colour }, [
      svg("title", { text: `epoch ${history[i].epoch}, ${series.name} ${metric}: ${v.toFixed(4)}` })])),
  ]);
}

function keptMark(kept, history, { x }) {
  const i = history.indexOf(kept);
  return svg("line", { class: "best-epoch", x1: x(i), y1: CHART.top, x2: x(i), y2: CHART.height - CHART.bottom,
    stroke: KEPT_COLOUR, "stroke-width": 1.5, "stroke-dasharray": "4 3" }, [
    svg("title", { text: `epoch ${kept.epoch}: its weights were kept` })]);
}

function chartLegend(metric, shown, kept) {
  const item = (swatchClass, colour, text, series) => element("li", series ? { "data-series": series } : {}, [
    element("span", { class: `swatch ${swatchClass}`, style: `--swatch:${colour}`, "aria-hidden": "true" }), text]);
  return element("ul", { class: "chart-legend" }, [
    ...shown.map((s) => item("line", s.colour, `${s.name} ${metric}`, `${s.split}-${metric}`)),
    ...(kept ? [item("kept", KEPT_COLOUR, `epoch ${kept.epoch}: weights kept`)] : []),
  ]);
}

// One chart (loss or accuracy) in its figure, drawn as wide as the figure is.
function drawMetric(figure, history, kept, [floor, ceiling]) {
  const metric = figure.dataset.metric;
  const shown = SERIES.filter((s) => history.every((r) => typeof r[`${s.split}_${metric}`] === "number"));
  const width = Math.max(240, Math.round(figure.clientWidth));
  const range = axisRange(shown.flatMap((s) => history.map((r) => r[`${s.split}_${metric}`])), floor, ceiling);
  const scale = scales(width, history.length, range);
  const drawing = svg("svg", { viewBox: `0 0 ${width} ${CHART.height}`, width: "100%", role: "img",
    "aria-label": `${metric} per epoch: ${shown.map((s) => s.name).join(" and ")}` }, [
    ...axes(metric, width, history, range, scale),
    ...(kept ? [keptMark(kept, history, scale)] : []),
    ...shown.map((s) => seriesLine(s, metric, history, scale)),
  ]);
  figure.append(drawing, chartLegend(metric, shown, kept));
}

function drawCurve(records) {
  const box = $("#curve");
  const history = records.filter((r) => (r.member ?? 0) === 0);  // an ensemble's first sequence model
  if (!history.length) { box.textContent = "no training history recorded"; return; }
  const kept = history.find((r) => r.best);
  const figure = (metric, caption) => element("figure", { class: `chart ${metric}`, "data-metric": metric },
    [element("figcaption", { text: caption })]);
  const loss = figure("loss", "Loss"), accuracy = figure("accuracy", "Accuracy");
  box.replaceChildren(loss, accuracy);  // both in place first: each is drawn at its own laid-out width
  drawMetric(loss, history, kept, [0, Infinity]);
  drawMetric(accuracy, history, kept, [0, 1]);
}
