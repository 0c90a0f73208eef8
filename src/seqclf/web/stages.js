// One text's trace: the answer first, then a card per stage of the pipeline, in its order.
"use strict";

// The predicted label (or a multi-label model's labels) with its probability, right under the form.
function drawAnswer(trace) {
  const probability = (name) => trace.probabilities[trace.classes.indexOf(name)];
  const chosen = trace.multi_label ? trace.labels : [trace.label];
  const parts = chosen.flatMap((name, i) => [...(i ? [", "] : []),
    element("strong", { class: "answer-label", "data-label": name, text: name }), " ",
    element("span", { class: "probability mono", text: probability(name).toFixed(3) })]);
  $("#answer").replaceChildren(element("h2", {}, ["Predicted: ",
    ...(parts.length ? parts : ["no label (none reaches its threshold)"])]));
  $("#answer").hidden = false;
}

// The ids as cells: the text's own, then all the padding as one "<pad> (id) × n" cell that shows them on a click.
function idCells(trace) {
  const own = trace.ids.slice(0, trace.length).map((id, i) => element("li",
    { class: i === trace.length - 1 ? "end" : "", title: `token ${i + 1}` }, [String(id)]));
  const padding = trace.max_len - trace.length;
  return element("ul", { class: "ids" }, padding > 0 ? [...own, ...paddingCells(trace.ids[trace.length], padding)] : own);
}

function paddingCells(id, count) {
  const cells = Array.from({ length: count }, () => element("li", { class: "pad", title: "padding", hidden: "" },
    [String(id)]));
  const toggle = element("button", { type: "button", class: "pad-toggle", "aria-expanded": "false",
    title: "show or hide every padding id", text: `<pad> (${id}) × ${count}` });
  toggle.addEventListener("click", () => {
    const expanded = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(expanded));
    cells.forEach((cell) => { cell.hidden = !expanded; });
  });
  return [element("li", { class: "pad band" }, [toggle]), ...cells];
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

// The last stage: softmax over the classes, or a multi-label model's sigmoids and thresholds.
function probabilitiesCard(trace) {
  const temperature = trace.temperature ? [element("p", { class: "muted temperature",
    text: `logits divided by the temperature ${trace.temperature.toFixed(3)} (calibrated on validation data), then softmax` })] : [];
  const entries = trace.classes.map((name, i) => [name, trace.probabilities[i]]);
  if (!trace.multi_label) {
    return card("probabilities", trace.models ? "stage 5 · combination" : "stage 5 · fully connected + softmax",
      "Probability of each class", ...temperature, bars(entries, trace.label));
  }
  return card("probabilities", "stage 5 · fully connected + sigmoid per label", "Probability of each label",
    element("p", { class: "muted independent", text: "multi-label: each bar is its label's own probability, so they " +
      "do not sum to 1; a label is predicted when its bar reaches its threshold (the tick)" }),
    bars(entries, trace.labels, trace.thresholds));
}

// A long text read in windows: each window's tokens and logits, and how they were pooled.
function windowsCards(trace) {
  if (!trace.windows) return [];
  const row = (logits) => trace.classes.map((name, i) => `${name} ${signed(logits[i])}`).join("  ");
  return [card("windows", "stage 2-5 · windows of a long text",
    `${trace.windows.length} windows of ${trace.max_len} tokens (the stages above show the first)`,
    element("ul", { class: "windows mono" }, [
      ...trace.windows.map((w) => element("li", { text: `tokens ${w.start + 1}-${w.end}: ${row(w.logits)}` })),
      element("li", { class: "pooled", text: `${trace.window_pooling} of the windows: ${row(trace.pooled_logits)}` }),
    ]))];
}

// An ensemble's n-grams that pushed the decision, each chip with its evidence for the predicted class.
function ngramCards(trace) {
  if (!trace.ngrams) return [];
  const label = trace.classes.indexOf(trace.label);
  const scale = Math.max(...trace.ngrams.map((g) => Math.abs(g.evidence[label])));
  return [card("ngrams", "stage 5 · n-gram evidence", `N-grams for ${trace.label} (red) and against it (blue)`,
    element("ul", { class: "tokens ngrams" }, trace.ngrams.map((g) => element("li",
      { style: heatStyle(g.evidence[label], scale), "data-evidence": g.evidence[label].toFixed(3),
        title: trace.classes.map((c, i) => `${c} ${signed(g.evidence[i])}`).join(", ") },
      [`${g.ngram} ${signed(g.evidence[label], 2)}`]))))];
}

// An ensemble's models, each with its weight and probabilities.
function modelsCards(trace) {
  if (!trace.models) return [];
  return [card("models", "stage 5 · models", `${trace.models.length} models, ${trace.combination} mean`,
    ...trace.models.map((m) => element("div", { class: "model", "data-model": m.name }, [
      element("h3", { text: `${m.name} (weight ${m.weight.toFixed(2)})` }),
      bars(trace.classes.map((name, i) => [name, m.probabilities[i]]),
        trace.classes[m.probabilities.indexOf(Math.max(...m.probabilities))]),
    ])))];
}

function drawTrace(trace) {
  const padding = trace.max_len - trace.length;
  const stages = [
    card("tokens", "stage 1 · raw text → tokens", `Tokens (${trace.tokens.length})`,
      element("ul", { class: "tokens" }, trace.tokens.map((t) => element("li",
        { class: t.known ? "" : "unknown", title: t.known ? `id ${t.id}` : "not in the vocabulary: <unk>" },
        [t.known ? t.text : `${t.text} (<unk>)`])))),
    card("ids", "stage 2 · ids, padded / truncated", `Ids: true length ${trace.length} of ${trace.max_len}`,
      idCells(trace), element("p", { class: "muted", text: padding > 0 ? `${padding} padding ids after the marked ` +
        "end, shown as one cell: select it to see them all" : "no padding" })),
    card("embedding", "stage 3 · embedding",
      `Embedding matrix ${trace.embedding.length} × ${trace.embedding[0].length}`,
      matrix(embeddingRows(trace), "embedding: one row per token, one column per feature", "feature")),
    card("encoder", "stage 4 · encoder", `Sequence vector (${trace.pooling} pooling, ${trace.sequence_vector.length} features)`,
      matrix([{ label: "sequence", title: "the sequence vector", values: trace.sequence_vector }],
        "the sequence vector: one cell per feature", "feature")),
    ...ngramCards(trace),
    ...modelsCards(trace),
    ...windowsCards(trace),
    probabilitiesCard(trace),
  ];
  drawAnswer(trace);
  $("#stages").replaceChildren(...stages, element("article", { class: "card", id: "explain", "data-stage": "explain" }));
}
