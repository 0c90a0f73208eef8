// Why this label: each token coloured by its attribution to the chosen class's score, with its number.
"use strict";

function attributionChips(tokens) {
  const scale = Math.max(...tokens.map((t) => Math.abs(t.attribution))) || 1;
  const chips = element("ul", { class: "tokens attributions" }, tokens.map((t) => element("li", {
    style: heatStyle(t.attribution, scale), "data-attribution": t.attribution.toFixed(4),
    title: `${t.text}: ${signed(t.attribution, 4)}` }, [`${t.text} `,
    element("span", { class: "attribution mono", text: signed(t.attribution) })])));
  return [chips, scale];
}

function classChoice(explanation, classes) {
  const choice = element("select", { id: "explain-label", "aria-label": "class to explain" }, classes.map((name) =>
    element("option", { value: name, text: name === explanation.predicted ? `${name} (predicted)` : name })));
  choice.value = explanation.label;
  choice.addEventListener("change", () => explainText(explanation.text, choice.value, classes));
  return choice;
}

// How the attributions add up: to the explained score minus the all-<pad> baseline's, up to the convergence delta.
function attributionSum(explanation) {
  const total = explanation.tokens.reduce((sum, t) => sum + t.attribution, 0);
  const truncated = explanation.truncated ? `; ${explanation.truncated} tokens after max_len are not read` : "";
  return `sum ${signed(total)} = ${explanation.score_name} ${signed(explanation.score)} − baseline (every token ` +
    `<pad>) ${signed(explanation.baseline_score)}, convergence delta ${signed(explanation.delta)}; ` +
    `${explanation.steps} steps${truncated}${explanation.note ? `. ${explanation.note}` : ""}`;
}

function drawExplanation(explanation, classes) {
  const [chips, scale] = attributionChips(explanation.tokens);
  const predicted = explanation.probabilities[explanation.predicted].toFixed(3);
  $("#explain").replaceChildren(
    element("div", { class: "step", text: "why this label · integrated gradients on the embeddings" }),
    element("h2", { text: explanation.label === explanation.predicted ? `Why ${explanation.label}`
      : `What speaks for ${explanation.label}`, "data-label": explanation.label,
      "data-predicted": explanation.predicted }),
    element("p", {}, [`Predicted: ${explanation.predicted} (${predicted}). Class explained: `,
      classChoice(explanation, classes)]),
    chips,
    legend(scale, `attribution to the score of ${explanation.label}: red for, blue against`),
    element("p", { class: "muted", text: attributionSum(explanation) }),
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
