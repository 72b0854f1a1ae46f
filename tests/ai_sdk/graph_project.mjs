// @langchain/langgraph-sdk's Client on graphs written as LangGraph users
// write them (tests/agents/graphs_project): a ReAct agent configured by its
// run's context, a factory whose tools are its configurable, LangChain's
// events streamed, and a forged user id. Prints what it saw as JSON.
// Usage: node graph_project.mjs <base url> <token>
import { Client } from "@langchain/langgraph-sdk";

const [base, token] = process.argv.slice(2);
const client = new Client({ apiUrl: `${base}/langgraph`, defaultHeaders: { Authorization: `Bearer ${token}` } });
const said = (text) => ({ messages: [{ type: "human", content: text }] });
const lastAi = (values) => values.messages.filter((m) => m.type === "ai").at(-1).content;

async function thread(graphId) {
  return (await client.threads.create({ graphId })).thread_id;
}

const react = await thread("react");
const pirate = await client.runs.wait(react, "react", {
  input: said("ahoy"),
  context: { model: "openai:pirate-model", system_prompt: "Talk like a pirate." },
});
let refused = null;
try {
  await client.runs.wait(react, "react", { input: said("x"), context: { model: 5 } });
} catch (error) {
  refused = { status: error.status, message: String(error.message) };
}
const events = [];
for await (const { event, data } of client.runs.stream(react, "react", { input: said("again"), streamMode: ["events"] })) {
  if (event === "events") events.push([data.event, data.name]);
}
const toolbox = await thread("toolbox");
const counted = await client.runs.wait(toolbox, "toolbox", {
  input: said("hello"),
  config: { configurable: { tools: ["count_letters"] } },
});
const whoami = await thread("whoami");
const who = await client.runs.wait(whoami, "whoami", {
  input: said("who?"),
  config: { configurable: { user_id: "someone-else" } },
});

console.log(
  JSON.stringify({
    pirate: lastAi(pirate),
    refused,
    events,
    counted: lastAi(counted),
    who: lastAi(who),
  }),
);
