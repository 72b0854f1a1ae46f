// A chat UI as agent-chat-ui builds its own, for a real browser: the
// useStream hook of @langchain/langgraph-sdk, on a page served from another
// origin than the API's, with the key in `X-Api-Key`. It lists the
// assistant's threads (as agent-chat-ui's sidebar), renders the thread's
// messages and the question waiting, and hands the hook to the test as
// `window.chat`. Bundled for the browser by esbuild (tests/browser).
// Query: ?api=<Agent Server URL>&key=<token>&assistant=<graph id>[&thread=<id>][&rejoin=1]
// (rejoin: the hook keeps a run's id to rejoin it after a reload, and its
// stop() cancels the run; agent-chat-ui keeps none and stops by leaving.)
import React from "react";
import { createRoot } from "react-dom/client";
import { Client } from "@langchain/langgraph-sdk";
import { useStream } from "@langchain/langgraph-sdk/react";

const query = new URLSearchParams(location.search);
const apiUrl = query.get("api");
const apiKey = query.get("key");
const assistantId = query.get("assistant");
const client = new Client({ apiUrl, apiKey });

function text(message) {
  if (typeof message.content === "string") return message.content;
  return message.content.map((part) => (part.type === "text" ? part.text : `[${part.type}]`)).join(" ");
}

function Threads() {
  const [found, setFound] = React.useState(null);
  React.useEffect(() => {
    client.threads.search({ metadata: { graph_id: assistantId }, limit: 100 }).then(setFound, (e) => setFound(String(e)));
  }, []);
  if (found === null) return null;
  if (!Array.isArray(found)) return React.createElement("p", { id: "threads-error" }, found);
  return React.createElement("p", { id: "threads" }, String(found.length));
}

function Chat() {
  const [threadId, setThreadId] = React.useState(query.get("thread"));
  const stream = useStream({
    client,
    assistantId,
    threadId,
    onThreadId: (id) => {
      setThreadId(id);
      const url = new URL(location.href);
      url.searchParams.set("thread", id);
      history.replaceState(null, "", url);
    },
    messagesKey: "messages",
    fetchStateHistory: true,
    reconnectOnMount: query.get("rejoin") === "1",
  });
  // As agent-chat-ui submits: a resumable stream the run outlives.
  const send = (input, options = {}) =>
    stream.submit(input, { streamResumable: true, onDisconnect: "continue", ...options });
  window.chat = { stream, send, threadId };
  const items = stream.messages.map((m, i) =>
    React.createElement("li", { key: m.id ?? i, "data-type": m.type }, text(m)),
  );
  return React.createElement(
    "main",
    { "data-loading": String(stream.isLoading) },
    React.createElement(Threads),
    React.createElement("ul", { id: "messages" }, ...items),
    stream.interrupt ? React.createElement("pre", { id: "interrupt" }, JSON.stringify(stream.interrupt.value)) : null,
    stream.error ? React.createElement("p", { id: "error" }, String(stream.error)) : null,
  );
}

createRoot(document.getElementById("root")).render(React.createElement(Chat));
