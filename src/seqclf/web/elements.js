// The page's building blocks: elements, stage cards, the blue-white-red colour scale, heat maps.
"use strict";

const $ = (selector) => document.querySelector(selector);

function element(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function card(id, step, title, ...body) {
  return element("article", { class: "card", id, "data-stage": id }, [
    element("div", { class: "step", text: step }),
    element("h2", { text: title }),
    ...body,
  ]);
}

// A signed number with a true minus sign: +0.123, −0.045.
function signed(value, digits = 3) {
  return `${value >= 0 ? "+" : "−"}${Math.abs(value).toFixed(digits)}`;
}

// Blue for negative, red for positive values, scaled by the largest magnitude: [red, green, blue].
function heat(value, scale) {
  const t = Math.max(-1, Math.min(1, value / (scale || 1)));
  const strength = Math.round(255 * (1 - Math.abs(t)));
  return t >= 0 ? [255, strength, strength] : [strength, strength, 255];
}

const rgb = ([red, green, blue]) => `rgb(${red},${green},${blue})`;

// WCAG relative luminance of an sRGB colour.
function luminance(channels) {
  const linear = channels.map((c) => c / 255).map((c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2];
}

// White text on a dark background, black on a light one: whichever contrasts more (at least 4.58:1 on any colour).
function inkOn(background) {
  const light = luminance(background);
  return 1.05 / (light + 0.05) > (light + 0.05) / 0.05 ? "#fff" : "#000";
}

// A chip's style: the heat colour of its value, and text readable on it.
function heatStyle(value, scale) {
  const background = heat(value, scale);
  return `background:${rgb(background)};color:${inkOn(background)}`;
}

// A colour scale: a gradient from -scale (blue) through 0 (white) to +scale (red), with its numbers.
function legend(scale, caption) {
  return element("div", { class: "legend", "data-scale": scale.toFixed(4) }, [
    element("span", { class: "mono", text: (-scale).toFixed(3) }),
    element("span", { class: "gradient", "aria-hidden": "true" }),
    element("span", { class: "mono", text: `+${scale.toFixed(3)}` }),
    element("span", { class: "muted", text: caption }),
  ]);
}

// A matrix as labelled rows of cells (one canvas), with a colour legend and the hovered cell's value.
// rows: [{label, title, values}]; each row is drawn CELL_HEIGHT pixels high, each value CELL_WIDTH wide.
const CELL_WIDTH = 8, CELL_HEIGHT = 18;
function matrix(rows, label, columnName) {
  const width = rows[0].values.length;
  const canvas = element("canvas", { width: width * CELL_WIDTH, height: rows.length * CELL_HEIGHT, role: "img",
    "aria-label": label });
  const context = canvas.getContext("2d");
  const scale = Math.max(...rows.flatMap((r) => r.values.map(Math.abs))) || 1;
  rows.forEach((row, y) => row.values.forEach((value, x) => {
    context.fillStyle = rgb(heat(value, scale));
    context.fillRect(x * CELL_WIDTH, y * CELL_HEIGHT, CELL_WIDTH - 1, CELL_HEIGHT - 1);
  }));
  const readout = element("p", { class: "readout mono", text: "hover over a cell for its value" });
  canvas.addEventListener("mousemove", (event) => {
    const box = canvas.getBoundingClientRect();
    const x = Math.floor((event.clientX - box.left) * canvas.width / box.width / CELL_WIDTH);
    const y = Math.floor((event.clientY - box.top) * canvas.height / box.height / CELL_HEIGHT);
    const row = rows[y];
    if (!row || x < 0 || x >= width) return;
    readout.textContent = `${row.title}, ${columnName} ${x + 1}: ${row.values[x].toFixed(4)}`;
    canvas.title = readout.textContent;
  });
  const labels = element("ol", { class: "row-labels" }, rows.map((row) => element("li",
    { title: row.title, style: `height:${CELL_HEIGHT}px` }, [row.label])));
  return element("div", { class: "matrix" }, [
    element("div", { class: "matrix-body" }, [labels, element("div", { class: "scroll" }, [canvas])]),
    legend(scale, `${columnName} values; blue negative, red positive`),
    readout,
  ]);
}
