// @langchain/langgraph-sdk's own store client against the Agent Server API:
// an item put, read, searched with a filter, its namespaces listed, and a key
// of its own put and one read that another user may have put. Prints what it saw as JSON.
// Usage: node store_client.mjs <base url> <token> <a key to put> <a key to read>
import { Client } from "@langchain/langgraph-sdk";

const [base, token, own, other] = process.argv.slice(2);
const client = new Client({ apiUrl: `${base}/langgraph`, defaultHeaders: { Authorization: `Bearer ${token}` } });

await client.store.putItem(["prefs", "js"], "tea", { likes: "green tea", cups: 10 });
await client.store.putItem(["prefs", "js"], "coffee", { likes: "black coffee", cups: 9 });
await client.store.putItem(["secrets"], own, { text: `only ${own} knows` });
const item = await client.store.getItem(["prefs", "js"], "tea");
const found = await client.store.searchItems(["prefs"], { filter: { cups: { $gt: 9 } } });
const namespaces = await client.store.listNamespaces({ maxDepth: 1 });
const theirs = await client.store.getItem(["secrets"], other);

console.log(
  JSON.stringify({
    item: item && { namespace: item.namespace, key: item.key, value: item.value },
    found: found.items.map((i) => i.key),
    namespaces: namespaces.namespaces,
    theirs: theirs && theirs.value,
  }),
);
