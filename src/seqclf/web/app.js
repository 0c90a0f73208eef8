// The web page: the form, the requests, and the order of what is shown: the answer, the stages, the explanation.
"use strict";

function drawModel(model) {
  $("#model-name").textContent = model.name;
  $("#flow tbody").replaceChildren(...model.data_flow.rows.map((row) => element("tr", {}, [
    element("td", { text: row.stage }), element("td", { text: row.operation }),
    element("td", { class: "mono shape", text: row.shape.join(" × ") }),
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

// A problem with the text, shown under the form in place of any earlier answer.
function showProblem(message) {
  $("#answer").hidden = true;
  $("#stages").replaceChildren();
  $("#error").textContent = message;
  $("#error").hidden = false;
}

async function submit(event) {
  event.preventDefault();
  $("#error").hidden = true;
  const text = $("#text").value;
  if (!text.trim()) {  // `required` lets spaces through: not worth a request
    showProblem("the text is empty: type a few words");
    return;
  }
  try {
    const trace = await request("/v1/trace", { text });
    drawTrace(trace);
    await explainText(trace.text, null, trace.classes);
  } catch (failure) {
    showProblem(failure.message);
  }
}

function loadModel() {
  $("#model-error").textContent = "";
  request("/v1/model").then(drawModel).catch((failure) => { $("#model-error").textContent = failure.message; });
}

$("#trace-form").addEventListener("submit", submit);
$("#key-form").addEventListener("submit", useKey);
loadModel();
