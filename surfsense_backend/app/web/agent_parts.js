// What an agent does besides answering: its tool calls, collapsed under the
// message that made them, and the approval card of an interrupt.
// Every piece of text goes in through textContent.

import { button, element } from "./dom.js";

const pretty = (value) => (typeof value === "string" ? value : JSON.stringify(value, null, 2));

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

/**
 * The card of an interrupt: what the agent wants to do and why. While it is
 * pending and `onAnswer` is given, Approve and Reject (with an optional
 * comment) resume the run; once answered it says what was answered.
 */
export function approvalCard(message, onAnswer) {
  const { value, pending, answer } = message.metadata;
  const card = element("section", { className: "approval", attrs: { "aria-label": "Approval needed" } });
  card.append(element("p", { className: "question", text: message.content }));
  if (value && typeof value === "object") {
    if (value.reason) card.append(element("p", { className: "reason", text: value.reason }));
    if (value.args) card.append(element("pre", { className: "args", text: pretty(value.args) }));
  }
  if (pending && onAnswer) {
    const id = `comment-${message.id}`;
    card.append(element("label", { text: "Comment (optional)", attrs: { for: id } }));
    const comment = element("textarea", { attrs: { id, rows: "2" } });
    const answerWith = (approved) => {
      approve.disabled = reject.disabled = true;
      onAnswer({ approved, comment: comment.value.trim() || null });
    };
    const approve = button("Approve", () => answerWith(true), { class: "approve" });
    const reject = button("Reject", () => answerWith(false), { class: "danger" });
    const buttons = element("div", { className: "actions" });
    buttons.append(approve, reject);
    card.append(comment, buttons);
  } else if (answer && typeof answer === "object") {
    const said = answer.approved ? "Approved" : "Rejected";
    card.append(element("p", { className: "answer", text: answer.comment ? `${said}: ${answer.comment}` : said }));
  } else if (!pending) {
    card.append(element("p", { className: "answer", text: `Answered: ${pretty(answer)}` }));
  }
  return card;
}
