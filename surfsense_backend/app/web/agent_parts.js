// What an agent does besides answering: its tool calls, collapsed under the
// message that made them.
// Every piece of text goes in through textContent.

import { element } from "./dom.js";

export const pretty = (value) => (typeof value === "string" ? value : JSON.stringify(value, null, 2));

/** One collapsed tool call: its name, arguments and (once known) result. */
function toolCall(call) {
  const details = element("details", { className: "tool-call", attrs: { "data-call-id": call.id } });
  details.append(element("summary", { text: `Tool: ${call.name}` }));
  const fields = element("dl");
  fields.append(element("dt", { text: "Arguments" }), element("dd", { className: "args" }));
  fields.lastChild.append(element("pre", { text: pretty(call.args) }));
  fields.append(element("dt", { text: "Result" }), element("dd", { className: "result", text: "Running…" }));
  details.append(fields);
  return details;
}

/** The calls of a message, in a list that results are filled into. */
export function toolCalls(calls) {
  const list = element("div", { className: "tool-calls" });
  for (const call of calls) list.append(toolCall(call));
  return list;
}

/** Add a call to a message's list (a streamed call), once. */
export function addToolCall(list, call) {
  if (!list.querySelector(`[data-call-id="${CSS.escape(call.id)}"]`)) list.append(toolCall(call));
}

/** Fill in a call's result; `status` "error" marks it failed. */
export function setToolResult(list, callId, content, status) {
  const call = list.querySelector(`[data-call-id="${CSS.escape(callId)}"]`);
  if (!call) return false;
  const result = call.querySelector(".result");
  result.replaceChildren(element("pre", { text: content }));
  call.dataset.status = status;
  return true;
}
