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

function heatmap(rows, label) {
  const height = rows.length, width = rows[0].length, cell = Math.max(2, Math.min(12, Math.floor(600 / width)));
  const canvas = element("canvas", { width: width * cell, height: height * cell, role: "img", "aria-label": label });
  const context = canvas.getContext("2d");
  const scale = Math.max(...rows.flat().map(Math.abs));
  rows.forEach((row, y) => row.forEach((value, x) => {
    context.fillStyle = color(value, scale);
    context.fillRect(x * cell, y * cell, cell, cell);
  }));
  return element("div", { class: "scroll" }, [canvas]);
}

function bars(entries, highlighted) {
  return element("ul", { class: "bars" }, entries.map(([name, value]) => element("li",
    { class: name === highlighted ? "predicted" : "", "data-label": name }, [
      element("span", { text: name }),
      element("span", {}, [element("div", { class: "bar", style: `width:${(100 * value).toFixed(1)}%` })]),
      element("span", { class: "mono", text: value.toFixed(3) }),
    ])));
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
      heatmap(trace.embedding, "embedding heat map: one row per position, one column per feature")),
    card("encoder", "stage 4 · encoder", `Sequence vector (${trace.pooling} pooling, ${trace.sequence_vector.length} features)`,
      heatmap([trace.sequence_vector], "sequence vector heat strip")),
    ...combinedCards(trace),
    card("probabilities", trace.models ? "stage 5 · combination" : "stage 5 · fully connected + softmax",
      `Predicted: ${trace.label}`,
      bars(trace.classes.map((name, i) => [name, trace.probabilities[i]]), trace.label)),
  ];
  $("#stages").replaceChildren(...stages);
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

function drawCurve(records) {
  const box = $("#curve");
  const history = records.filter((r) => (r.member ?? 0) === 0);  // an ensemble's first sequence model
  if (!history.length) { box.textContent = "no training history recorded"; return; }
  const width = 560, height = 180, margin = 28;
  const x = (i) => margin + (history.length === 1 ? 0 : i * (width - 2 * margin) / (history.length - 1));
  const maxLoss = Math.max(...history.flatMap((r) => [r.train_loss, r.valid_loss ?? 0]));
  const y = (value, top) => height - margin - (value / top) * (height - 2 * margin);
  const line = (values, top, stroke) => `<polyline fill="none" stroke="${stroke}" stroke-width="2" points="${
    values.map((v, i) => `${x(i)},${y(v, top)}`).join(" ")}"/>`;
  const series = [line(history.map((r) => r.train_loss), maxLoss, "#2f6fde")];
  if (history[0].valid_accuracy !== null) series.push(line(history.map((r) => r.valid_accuracy), 1, "#1f8a4c"));
  box.innerHTML = `<svg viewBox="0 0 ${width} ${height}" width="100%" style="max-width:${width}px">
    <line x1="${margin}" y1="${height - margin}" x2="${width - margin}" y2="${height - margin}" stroke="#ccc"/>
    ${series.join("")}
    <text x="${margin}" y="14">— train loss (blue), validation accuracy (green), epochs 1–${history.length}</text>
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

async function request(path, body) {
  const response = await fetch(path, body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const data = await response.json();
  if (!response.ok) throw new Error(data.error ? data.error.message : response.statusText);
  return data;
}

async function submit(event) {
  event.preventDefault();
  const problem = $("#error");
  problem.hidden = true;
  try {
    drawTrace(await request("/v1/trace", { text: $("#text").value }));
  } catch (failure) {
    problem.textContent = failure.message;
    problem.hidden = false;
  }
}

$("#trace-form").addEventListener("submit", submit);
request("/v1/model").then(drawModel).catch((failure) => { $("#model-card").append(failure.message); });
