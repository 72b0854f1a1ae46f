// useStream, the React hook of @langchain/langgraph-sdk, rendered in Node as a
// chat UI renders it (its messages and the question waiting), against the
// Agent Server API: a message submitted, then optionally a second submit,
// `{"resume": value}` answering the interrupt with a Command (as
// agent-chat-ui's approval controls do), or `{"say": text}` typed instead of
// answering: a result for each call left without one, then the message (as
// agent-chat-ui sends it). Prints what the hook showed as JSON.
// Usage: node use_stream.mjs <base url> <token> <assistant> <text> [then JSON]
// A <text> that is a JSON array is sent as content blocks, as agent-chat-ui sends an upload.
import React from "react";
import TestRenderer, { act } from "react-test-renderer";
import { Client } from "@langchain/langgraph-sdk";
import { useStream } from "@langchain/langgraph-sdk/react";

globalThis.IS_REACT_ACT_ENVIRONMENT = true;
const [base, token, assistantId, text, then] = process.argv.slice(2);
const client = new Client({ apiUrl: `${base}/langgraph`, defaultHeaders: { Authorization: `Bearer ${token}` } });

let latest = null;
let threadId = null;
function Chat() {
  // As an app keeps it: the thread in React state, set when the first submit makes one.
  const [thread, setThread] = React.useState(null);
  threadId = thread;
  latest = useStream({ client, assistantId, threadId: thread, onThreadId: setThread, messagesKey: "messages" });
  // A chat UI renders the messages and the question waiting: the hook streams what is read.
  return React.createElement("ul", null, ...latest.messages.map((m, i) => React.createElement("li", { key: i }, String(m.content))), latest.interrupt ? "waiting" : null);
}

// Until the hook is done with a submit: it loaded, and shows an answer, a question or an error.
async function settle(count) {
  for (let i = 0; i < 1200; i++) {
    await act(async () => { await new Promise((r) => setTimeout(r, 50)); });
    const shown = latest.messages.length >= count || latest.interrupt || latest.error;
    if (!latest.isLoading && shown) return;
  }
  throw new Error("useStream never finished its submit");
}

let renderer;
await act(async () => { renderer = TestRenderer.create(React.createElement(Chat)); });
const content = text.startsWith("[") ? JSON.parse(text) : text;
await act(async () => { latest.submit({ messages: [{ type: "human", content }] }); });
await settle(2);
const first = { messages: latest.messages.map((m) => [m.type, m.content]), interrupt: latest.interrupt?.value ?? null, error: latest.error ? String(latest.error) : null };
// agent-chat-ui's placeholder results: each call of an AI message that no tool message follows.
function placeholders(messages) {
  return messages.flatMap((m, i) =>
    m.type === "ai" && m.tool_calls?.length && messages[i + 1]?.type !== "tool"
      ? m.tool_calls.map((call) => ({ type: "tool", tool_call_id: call.id, id: `do-not-render-${i}-${call.id}`, name: call.name, content: "Successfully handled tool call." }))
      : [],
  );
}

let second = null;
if (then) {
  const { resume, say } = JSON.parse(then);
  const before = latest.messages.length;
  const added = resume === undefined ? placeholders(latest.messages).length + 2 : 1;
  await act(async () => {
    if (resume !== undefined) latest.submit(undefined, { command: { resume } });
    else latest.submit({ messages: [...placeholders(latest.messages), { type: "human", content: say }] });
  });
  await settle(before + added);
  second = { messages: latest.messages.map((m) => [m.type, m.content]), interrupt: latest.interrupt?.value ?? null, error: latest.error ? String(latest.error) : null };
}
await act(async () => renderer.unmount());
console.log(JSON.stringify({ threadId, first, second }));
