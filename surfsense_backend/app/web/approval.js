// The card of an interrupt: what the agent asks, and the controls to answer it.
// An approval request is LangChain's HumanInTheLoopMiddleware format (the one
// agent-chat-ui answers too): `action_requests` [{name, args, description}]
// with `review_configs` [{action_name, allowed_decisions}], answered with
// `{decisions: [...]}`, one decision per action, in order.
// Every piece of text goes in through textContent.

import { pretty } from "./agent_parts.js";
import { button, element } from "./dom.js";

const isApprovalRequest = (value) =>
  Boolean(value) && Array.isArray(value.action_requests) && Array.isArray(value.review_configs);

function allowedFor(value, name) {
  return value.review_configs.find((config) => config.action_name === name)?.allowed_decisions ?? [];
}

/** What was answered, in words. */
function answered(metadata) {
  const { answer, passed_by: passedBy } = metadata;
  if (passedBy) return "Not answered: the conversation went on without it.";
  if (!Array.isArray(answer?.decisions)) return `Answered: ${pretty(answer)}`;
  const said = { approve: "Approved", edit: "Approved with edits", reject: "Rejected" };
  return answer.decisions
    .map((d) => (d.type === "reject" && d.message ? `Rejected: ${d.message}` : said[d.type] ?? d.type))
    .join("; ");
}

/**
 * One action's arguments: a field per argument where the action may be
 * edited (text as typed, anything else as JSON), otherwise shown as they are.
 * Returns the element and a function reading the arguments back (or throwing).
 */
function argumentFields(action, editable, where) {
  if (!editable) return [element("pre", { className: "args", text: pretty(action.args) }), () => action.args];
  const fields = element("div", { className: "args" });
  const readers = [];
  for (const [key, value] of Object.entries(action.args)) {
    const id = `arg-${where}-${key}`;
    const text = typeof value === "string";
    const input = element("textarea", { attrs: { id, rows: "2" } });
    input.value = text ? value : JSON.stringify(value, null, 2);
    fields.append(element("label", { text: `${action.name}: ${key}`, attrs: { for: id } }), input);
    readers.push(() => [key, text ? input.value : JSON.parse(input.value)]);
  }
  return [fields, () => Object.fromEntries(readers.map((read) => read()))];
}

/** The controls of a pending approval request: Approve (edits included) and Reject with a reason. */
function approvalControls(card, value, onAnswer, where) {
  const actions = value.action_requests;
  const reads = actions.map((action, i) => {
    const allowed = allowedFor(value, action.name);
    const [fields, read] = argumentFields(action, allowed.includes("edit"), `${where}-${i}`);
    card.append(fields);
    return { action, allowed, read };
  });
  const reasonId = `reason-${where}`;
  const reason = element("textarea", { attrs: { id: reasonId, rows: "2" } });
  const problem = element("p", { className: "problem", attrs: { role: "alert" } });
  const send = (decisions) => {
    approve.disabled = reject.disabled = true;
    onAnswer({ decisions });
  };
  const approve = button(
    "Approve",
    () => {
      let decisions;
      try {
        decisions = reads.map(({ action, allowed, read }) => {
          const args = read();
          const same = JSON.stringify(args) === JSON.stringify(action.args);
          if (same && allowed.includes("approve")) return { type: "approve" };
          return { type: "edit", edited_action: { name: action.name, args } };
        });
      } catch (error) {
        problem.textContent = `An argument is not valid JSON: ${error.message}`;
        return;
      }
      send(decisions);
    },
    { class: "approve" },
  );
  const reject = button(
    "Reject",
    () => {
      const message = reason.value.trim();
      send(actions.map(() => (message ? { type: "reject", message } : { type: "reject" })));
    },
    { class: "danger" },
  );
  approve.disabled = !reads.every(({ allowed }) => allowed.includes("approve") || allowed.includes("edit"));
  reject.disabled = !reads.every(({ allowed }) => allowed.includes("reject"));
  const buttons = element("div", { className: "actions" });
  buttons.append(approve, reject);
  card.append(element("label", { text: "Reason, if you reject (the agent reads it)", attrs: { for: reasonId } }));
  card.append(reason, problem, buttons);
}

/** The controls of any other pending interrupt: an answer, as JSON or as text. */
function answerControls(card, onAnswer, where) {
  const id = `answer-${where}`;
  const input = element("textarea", { attrs: { id, rows: "2" } });
  const send = button(
    "Send answer",
    () => {
      send.disabled = true;
      let answer;
      try {
        answer = JSON.parse(input.value);
      } catch {
        answer = input.value;
      }
      onAnswer(answer);
    },
    { class: "approve" },
  );
  card.append(element("label", { text: "Your answer", attrs: { for: id } }), input, send);
}

/**
 * The card of an interrupt: what the agent asks (and, for an approval
 * request, the arguments of each action). While it is pending and
 * `onAnswer` is given, its controls resume the run; once answered it says
 * what was answered.
 */
export function approvalCard(message, onAnswer) {
  const { value, pending } = message.metadata;
  const approval = isApprovalRequest(value);
  const card = element("section", { className: "approval", attrs: { "aria-label": "Approval needed" } });
  card.append(element("p", { className: "question", text: message.content }));
  if (pending && onAnswer) {
    if (approval) approvalControls(card, value, onAnswer, message.id);
    else answerControls(card, onAnswer, message.id);
    return card;
  }
  if (approval) {
    for (const action of value.action_requests) {
      card.append(element("pre", { className: "args", text: pretty(action.args) }));
    }
  }
  if (!pending) card.append(element("p", { className: "answer", text: answered(message.metadata) }));
  return card;
}
