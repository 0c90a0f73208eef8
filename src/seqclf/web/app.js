// The web page: asks /v1/trace for one text and draws each stage as a card, in pipeline order.
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

// Blue for negative, red for positive values, scaled by the largest magnitude.
function color(value, scale) {
  const t = Math.max(-1, Math.min(1, value / (scale || 1)));
  const strength = Math.round(255 * (1 - Math.abs(t)));
  return t >= 0 ? `rgb(255,${strength},${strength})` : `rgb(${strength},${strength},255)`;
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
    context.fillStyle = color(value, scale);
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

// The embedding's rows, labelled by token; the padding rows (all alike) collapsed into one band.
function embeddingRows(trace) {
  const rows = trace.embedding.slice(0, trace.length).map((values, i) => ({
    label: trace.tokens[i].known ? trace.tokens[i].text : `${trace.tokens[i].text} (<unk>)`,
    title: `token ${i + 1} '${trace.tokens[i].text}' (id ${trace.ids[i]})`, values }));
  const padding = trace.max_len - trace.length;
  if (padding > 0) {
    rows.push({ label: `<pad> × ${padding}`, values: trace.embedding[trace.length],
      title: `<pad> rows, positions ${trace.length + 1}–${trace.max_len} (all the same)` });
  }
  return rows;
}

// One bar per class; `highlighted`: the predicted class, or a multi-label model's predicted labels (an array);
// `thresholds` (multi-label): a mark on each bar where its label's threshold lies.
function bars(entries, highlighted, thresholds) {
  const chosen = Array.isArray(highlighted) ? highlighted : [highlighted];
  return element("ul", { class: "bars" }, entries.map(([name, value], i) => element("li",
    { class: chosen.includes(name) ? "predicted" : "", "data-label": name }, [
      element("span", { text: name }),
      element("span", {}, [element("div", { class: "bar", style: `width:${(100 * value).toFixed(1)}%` }),
        ...(thresholds ? [element("div", { class: "threshold", style: `left:${(100 * thresholds[i]).toFixed(1)}%`,
          title: `threshold ${thresholds[i].toFixed(3)}` })] : [])]),
      element("span", { class: "mono", text: value.toFixed(3) }),
    ])));
}

// The last card: softmax over the classes, or a multi-label model's sigmoids and thresholds.
function probabilitiesCard(trace) {
  const temperature = trace.temperature ? [element("p", { class: "muted temperature",
    text: `logits divided by the temperature ${trace.temperature.toFixed(3)} (calibrated on validation data), then softmax` })] : [];
  const entries = trace.classes.map((name, i) => [name, trace.probabilities[i]]);
  if (!trace.multi_label) {
    return card("probabilities", trace.models ? "stage 5 · combination" : "stage 5 · fully connected + softmax",
      `Predicted: ${trace.label}`, ...temperature, bars(entries, trace.label));
  }
  return card("probabilities", "stage 5 · fully connected + sigmoid per label",
    trace.labels.length ? `Predicted: ${trace.labels.join(", ")}` : "Predicted: no label (none reaches its threshold)",
    element("p", { class: "muted independent", text: "multi-label: each bar is its label's own probability, so they " +
      "do not sum to 1; a label is predicted when its bar reaches its threshold (the tick)" }),
    bars(entries, trace.labels, trace.thresholds));
}

// A long text read in windows: each window's tokens and logits, and how they were pooled.
function windowsCards(trace) {
  if (!trace.windows) return [];
  const row = (logits) => trace.classes.map((name, i) => `${name} ${logits[i] >= 0 ? "+" : ""}${logits[i].toFixed(3)}`).join("  ");
  return [card("windows", "stage 2-5 · windows of a long text",
    `${trace.windows.length} windows of ${trace.max_len} tokens (the stages above show the first)`,
    element("ul", { class: "windows mono" }, [
      ...trace.windows.map((w) => element("li", { text: `tokens ${w.start + 1}-${w.end}: ${row(w.logits)}` })),
      element("li", { class: "pooled", text: `${trace.window_pooling} of the windows: ${row(trace.pooled_logits)}` }),
    ]))];
}

function drawTrace(trace) {
  const padding = trace.max_len - trace.length;
  const stages = [
    card("tokens", "stage 1 · raw text → tokens", `Tokens (${trace.tokens.length})`,
      element("ul", { class: "tokens" }, trace.tokens.map((t) => element("li",
        { class: t.known ? "" : "unknown", title: t.known ? `id ${t.id}` : "not in the vocabulary: <unk>" },
        [t.known ? t.text : `${t.text} (<unk>)`])))),
    card("ids", "stage 2 · ids, padded / truncated", `Ids: true length ${trace.length} of ${trace.max_len}`,
      element("ul", { class: "ids" }, trace.ids.map((id, i) => element("li",
        { class: (i >= trace.length ? "pad" : "") + (i === trace.length - 1 ? " end" : ""),
          title: i >= trace.length ? "padding" : `token ${i + 1}` }, [String(id)]))),
      element("p", { class: "muted", text: padding > 0 ? `${padding} padding ids after the marked end`
        : "no padding" })),
    card("embedding", "stage 3 · embedding",
      `Embedding matrix ${trace.embedding.length} × ${trace.embedding[0].length}`,
      matrix(embeddingRows(trace), "embedding: one row per token, one column per feature", "feature")),
    card("encoder", "stage 4 · encoder", `Sequence vector (${trace.pooling} pooling, ${trace.sequence_vector.length} features)`,
      matrix([{ label: "sequence", title: "the sequence vector", values: trace.sequence_vector }],
        "the sequence vector: one cell per feature", "feature")),
    ...combinedCards(trace),
    ...windowsCards(trace),
    probabilitiesCard(trace),
  ];
  $("#stages").replaceChildren(...stages, element("article", { class: "card", id: "explain", "data-stage": "explain" }));
}

// An ensemble's models, each with its weight and probabilities, and the n-grams that pushed the decision.
function combinedCards(trace) {
  if (!trace.models) return [];
  const cards = [];
  if (trace.ngrams) {
    const label = trace.classes.indexOf(trace.label);
    const scale = Math.max(...trace.ngrams.map((g) => Math.abs(g.evidence[label])));
    cards.push(card("ngrams", "stage 5 · n-gram evidence", `N-grams for ${trace.label} (red) and against it (blue)`,
      element("ul", { class: "tokens ngrams" }, trace.ngrams.map((g) => element("li",
        { style: `background:${color(g.evidence[label], scale)}`, "data-evidence": g.evidence[label].toFixed(3),
          title: trace.classes.map((c, i) => `${c} ${g.evidence[i] >= 0 ? "+" : ""}${g.evidence[i].toFixed(3)}`).join(", ") },
        [`${g.ngram} ${g.evidence[label] >= 0 ? "+" : ""}${g.evidence[label].toFixed(2)}`])))));
  }
  cards.push(card("models", "stage 5 · models", `${trace.models.length} models, ${trace.combination} mean`,
    ...trace.models.map((m) => element("div", { class: "model", "data-model": m.name }, [
      element("h3", { text: `${m.name} (weight ${m.weight.toFixed(2)})` }),
      bars(trace.classes.map((name, i) => [name, m.probabilities[i]]),
        trace.classes[m.probabilities.indexOf(Math.max(...m.probabilities))]),
    ]))));
  return cards;
}

// Training loss (left axis) and validation accuracy (right axis, 0-1) per epoch, with ticks.
function drawCurve(records) {
  const box = $("#curve");
  const history = records.filter((r) => (r.member ?? 0) === 0);  // an ensemble's first sequence model
  if (!history.length) { box.textContent = "no training history recorded"; return; }
  const width = Math.max(300, Math.min(560, box.clientWidth || 560)), height = 240;  // drawn at the box's width
  const left = 48, right = 48, top = 28, bottom = 40;
  const n = history.length;
  const x = (i) => left + (n === 1 ? (width - left - right) / 2 : i * (width - left - right) / (n - 1));
  const maxLoss = Math.max(...history.flatMap((r) => [r.train_loss, r.valid_loss ?? 0])) * 1.05;
  const y = (value, topValue) => height - bottom - (value / topValue) * (height - top - bottom);
  const line = (values, topValue, stroke, name) => `<polyline class="${name}" fill="none" stroke="${stroke}"
    stroke-width="2" points="${values.map((v, i) => `${x(i)},${y(v, topValue)}`).join(" ")}"/>` +
    values.map((v, i) => `<circle cx="${x(i)}" cy="${y(v, topValue)}" r="3" fill="${stroke}"><title>epoch ${i + 1}: ${
      v.toFixed(4)}</title></circle>`).join("");
  const every = Math.ceil(n / 12);  // at most about 12 epoch numbers
  const xTicks = history.map((_, i) => i).filter((i) => i % every === 0 || i === n - 1).map((i) =>
    `<line x1="${x(i)}" y1="${height - bottom}" x2="${x(i)}" y2="${height - bottom + 4}" stroke="#888"/>
     <text class="tick x" x="${x(i)}" y="${height - bottom + 16}" text-anchor="middle">${i + 1}</text>`).join("");
  const fractions = [0, 0.25, 0.5, 0.75, 1];
  const lossTicks = fractions.map((f) => `<line x1="${left - 4}" y1="${y(f * maxLoss, maxLoss)}" x2="${width - right}"
    y2="${y(f * maxLoss, maxLoss)}" stroke="#eee"/><text class="tick loss" x="${left - 6}" y="${y(f * maxLoss, maxLoss) + 4}"
    text-anchor="end">${(f * maxLoss).toFixed(2)}</text>`).join("");
  const validated = history[0].valid_accuracy !== null && history[0].valid_accuracy !== undefined;
  const accuracyTicks = validated ? fractions.map((f) => `<text class="tick accuracy" x="${width - right + 6}"
    y="${y(f, 1) + 4}">${f.toFixed(2)}</text>`).join("") : "";
  const series = [line(history.map((r) => r.train_loss), maxLoss, "#2f6fde", "train-loss")];
  if (validated) series.push(line(history.map((r) => r.valid_accuracy), 1, "#1f8a4c", "valid-accuracy"));
  box.innerHTML = `<svg viewBox="0 0 ${width} ${height}" width="100%" style="max-width:${width}px">
    ${lossTicks}${accuracyTicks}
    <line x1="${left}" y1="${height - bottom}" x2="${width - right}" y2="${height - bottom}" stroke="#888"/>
    <line x1="${left}" y1="${top}" x2="${left}" y2="${height - bottom}" stroke="#888"/>
    ${validated ? `<line x1="${width - right}" y1="${top}" x2="${width - right}" y2="${height - bottom}" stroke="#888"/>` : ""}
    ${xTicks}${series.join("")}
    <text x="${(left + width - right) / 2}" y="${height - 6}" text-anchor="middle">epoch</text>
    <text x="${left}" y="16" fill="#2f6fde">● train loss (left)</text>
    ${validated ? `<text x="${width - right}" y="16" text-anchor="end" fill="#1f8a4c">● validation accuracy (right)</text>` : ""}
  </svg>`;
}

function drawModel(model) {
  $("#model-name").textContent = model.name;
  $("#flow tbody").replaceChildren(...model.data_flow.rows.map((row) => element("tr", {}, [
    element("td", { text: row.stage }), element("td", { text: row.operation }),
    element("td", { class: "mono", text: row.shape.join(" × ") }),
  ])));
  $("#flow-summary").textContent = model.data_flow.summary;
  drawCurve(model.history);
}

// The API key, when the server asks for one: kept in this tab only (sessionStorage), sent as a bearer token.
const KEY = "seqclf-api-key";

async function request(path, body) {
  const headers = body === undefined ? {} : { "Content-Type": "application/json" };
  const key = sessionStorage.getItem(KEY);
  if (key) headers.Authorization = `Bearer ${key}`;
  const response = await fetch(path, body === undefined ? { headers } : {
    method: "POST", headers, body: JSON.stringify(body),
  });
  const data = await response.json();
  if (response.status === 401) {
    askForKey(data.error ? data.error.message : "this server needs an API key");
    throw new Error("an API key is needed: enter it above");
  }
  if (!response.ok) throw new Error(data.error ? data.error.message : response.statusText);
  return data;
}

function askForKey(message) {
  $("#key-message").textContent = message;
  $("#key-form").hidden = false;
  $("#key").focus();
}

function useKey(event) {
  event.preventDefault();
  sessionStorage.setItem(KEY, $("#key").value.trim());
  $("#key").value = "";
  $("#key-form").hidden = true;
  loadModel();
}

// Why this label: each token coloured by its attribution to the chosen class's logit.
function drawExplanation(explanation, classes) {
  const scale = Math.max(...explanation.tokens.map((t) => Math.abs(t.attribution))) || 1;
  const choice = element("select", { id: "explain-label", "aria-label": "class to explain" }, classes.map((name) =>
    element("option", { value: name, text: name === explanation.predicted ? `${name} (predicted)` : name })));
  choice.value = explanation.label;
  choice.addEventListener("change", () => explainText(explanation.text, choice.value, classes));
  const total = explanation.tokens.reduce((sum, t) => sum + t.attribution, 0);
  const sign = (v) => `${v >= 0 ? "+" : "−"}${Math.abs(v).toFixed(3)}`;
  $("#explain").replaceChildren(
    element("div", { class: "step", text: "why this label · integrated gradients on the embeddings" }),
    element("h2", { text: explanation.label === explanation.predicted ? `Why ${explanation.label}`
      : `What speaks for ${explanation.label}`, "data-label": explanation.label,
      "data-predicted": explanation.predicted }),
    element("p", {}, [`Predicted: ${explanation.predicted} (${explanation.probabilities[explanation.predicted].toFixed(3)}). `,
      "Explain the logit of ", choice]),
    element("ul", { class: "tokens attributions" }, explanation.tokens.map((t) => element("li", {
      style: `background:${color(t.attribution, scale)}`, "data-attribution": t.attribution.toFixed(4),
      title: `${t.text}: ${sign(t.attribution)}` }, [t.text]))),
    legend(scale, `attribution to the logit of ${explanation.label}: red for, blue against`),
    element("p", { class: "muted", text: `sum ${sign(total)} = logit ${sign(explanation.logit)} − baseline (every ` +
      `token <pad>) ${sign(explanation.baseline_logit)}, convergence delta ${sign(explanation.delta)}; ` +
      `${explanation.steps} steps` + (explanation.truncated ? `; ${explanation.truncated} tokens after max_len ` +
      "are not read" : "") + (explanation.note ? `. ${explanation.note}` : "") }),
  );
}

async function explainText(text, label, classes) {
  const box = $("#explain");
  try {
    drawExplanation(await request("/v1/explain", label ? { text, label } : { text }), classes);
  } catch (failure) {
    box.replaceChildren(element("p", { class: "error", text: `no explanation: ${failure.message}` }));
  }
}

async function submit(event) {
  event.preventDefault();
  const problem = $("#error");
  problem.hidden = true;
  try {
    const trace = await request("/v1/trace", { text: $("#text").value });
    drawTrace(trace);
    await explainText(trace.text, null, trace.classes);
  } catch (failure) {
    problem.textContent = failure.message;
    problem.hidden = false;
  }
}

function loadModel() {
  $("#model-error").textContent = "";
  request("/v1/model").then(drawModel).catch((failure) => { $("#model-error").textContent = failure.message; });
}

$("#trace-form").addEventListener("submit", submit);
$("#key-form").addEventListener("submit", useKey);
loadModel();
