// @langchain/langgraph-sdk's own Client against the Agent Server API: a chat
// turn streamed (values and message chunks), the research agent's interrupt,
// its resume with a Command, and a run's stream rejoined after its first
// events with Last-Event-ID. Prints what it saw as JSON.
// Usage: node langgraph_client.mjs <base url> <token>
import { Client } from "@langchain/langgraph-sdk";

const [base, token] = process.argv.slice(2);
const client = new Client({ apiUrl: `${base}/langgraph`, defaultHeaders: { Authorization: `Bearer ${token}` } });
const said = (text) => ({ messages: [{ type: "human", content: text }] });

async function collect(stream) {
  const events = [];
  for await (const { event, data, id } of stream) events.push({ event, data, id });
  return events;
}

const chat = await client.threads.create({ metadata: { from: "js" } });
const turn = await collect(
  client.runs.stream(chat.thread_id, "chat", { input: said("hello from js"), streamMode: ["values", "messages-tuple"] }),
);
const runId = turn[0].data.run_id;
const rejoined = await collect(client.runs.joinStream(chat.thread_id, runId, { lastEventId: turn[2].id }));

const research = await client.threads.create({ graphId: "research" });
const asked = await collect(
  client.runs.stream(research.thread_id, "research", {
    input: said("search for durable memory and save a note"),
    streamMode: ["values"],
  }),
);
const waiting = await client.threads.get(research.thread_id);
const resumed = await client.runs.wait(research.thread_id, "research", { command: { resume: { decisions: [{ type: "approve" }] } } });

console.log(
  JSON.stringify({
    chat: chat.thread_id,
    turn: turn.map(({ event, id }) => [event, id]),
    tokens: turn.filter((e) => e.event === "messages").map((e) => e.data[0].content).join(""),
    values: turn.filter((e) => e.event === "values").at(-1).data.messages.map((m) => [m.type, m.content]),
    rejoined: rejoined.map(({ event, id }) => [event, id]),
    expected: turn.slice(3).map(({ event, id }) => [event, id]),
    interrupt: asked.filter((e) => e.event === "values" && e.data.__interrupt__).at(-1)?.data.__interrupt__ ?? null,
    status: waiting.status,
    resumed: resumed.messages.map((m) => m.type),
    research: research.thread_id,
  }),
);
