// The sidebar's Memory panel: what the agent remembers about the user (their
// store, /api/v1/memories), searched as they type, each forgotten with a click.

import { ApiError, call } from "./api.js";
import { button, element } from "./dom.js";

const DEBOUNCE_MS = 250;
const SHOWN = 50;

/** A memory as the panel shows it: its text, else its stored value as JSON. */
function memoryText(value) {
  return typeof value?.text === "string" ? value.text : JSON.stringify(value);
}

/**
 * Wire the panel (a <details>): it loads when opened and after each reply
 * (`refresh()`), while open; `attempt` runs a call the page reports errors of.
 */
export function memoryPanel({ panel, input, list, attempt }) {
  let timer = null;
  let latest = 0;

  async function refresh() {
    if (!panel.open) return;
    const asked = ++latest;
    const q = input.value.trim();
    const params = new URLSearchParams({ limit: String(SHOWN), ...(q ? { q } : {}) });
    const page = await attempt(() => call("GET", `/api/v1/memories?${params}`));
    if (!page || asked !== latest) return; // a newer load went out meanwhile
    list.replaceChildren(...(page.items.length ? page.items.map(item) : [nothing(q)]));
  }

  function item(memory) {
    const text = memoryText(memory.value);
    const node = element("li", { className: "memory" });
    node.append(
      element("span", { className: "memory-text", text }),
      button("Forget", () => forget(memory, node), { "aria-label": `Forget: ${text}`, class: "link" }),
    );
    return node;
  }

  async function forget(memory, node) {
    const params = new URLSearchParams(memory.namespace.map((label) => ["namespace", label]));
    params.append("key", memory.key);
    const done = await attempt(async () => {
      try {
        await call("DELETE", `/api/v1/memories/item?${params}`);
      } catch (error) {
        // Forgotten already (another tab): gone all the same.
        if (!(error instanceof ApiError && error.status === 404)) throw error;
      }
      return true;
    });
    if (done) node.remove();
    if (!list.children.length) list.replaceChildren(nothing(input.value.trim()));
  }

  function nothing(q) {
    const text = q ? "No memories match." : "Nothing yet. Say “remember that …” and the agent will.";
    return element("li", { className: "memory-none", text });
  }

  panel.addEventListener("toggle", refresh);
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, DEBOUNCE_MS);
  });
  return { refresh };
}
