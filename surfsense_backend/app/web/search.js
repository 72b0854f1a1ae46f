// The sidebar's search box: results with their snippets as you type
// (debounced, the last request wins), opened with a click or the keyboard.

import { call } from "./api.js";
import { WHO, button, element } from "./dom.js";

const DEBOUNCE_MS = 250;
const RESULTS = 10;

/**
 * Wire the box: `archived()` says which conversations to search ("false" or
 * "all"); `open(conversationId, messageId)` opens a result (a title's has no
 * message); `attempt` runs a call the page reports errors of.
 */
export function searchBox({ input, results, archived, open, attempt }) {
  let timer = null;
  let latest = 0;

  async function search() {
    const q = input.value;
    const asked = ++latest;
    if (!q.trim()) {
      results.replaceChildren();
      results.hidden = true;
      return;
    }
    const params = new URLSearchParams({ q, limit: String(RESULTS), archived: archived() });
    const page = await attempt(() => call("GET", `/api/v1/search?${params}`));
    if (!page || asked !== latest) return; // a newer search went out meanwhile
    results.replaceChildren(...(page.items.length ? page.items.map(result) : [nothing()]));
    results.hidden = false;
  }

  function result(hit) {
    const where = hit.conversation.title ?? "New conversation";
    const who = hit.message ? WHO[hit.message.role] ?? hit.message.role : "Title";
    const control = button("", () => open(hit.conversation.id, hit.message?.id ?? null), {
      class: "search-hit",
      "data-message": hit.message ? String(hit.message.id) : "",
    });
    control.append(
      element("span", { className: "search-where", text: `${where} · ${who}` }),
      snippet(hit.snippet),
    );
    const item = element("li");
    item.append(control);
    return item;
  }

  function nothing() {
    return element("li", { className: "search-none", text: "No messages match." });
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(search, DEBOUNCE_MS);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown") {
      event.preventDefault();
      results.querySelector("button")?.focus();
    } else if (event.key === "Escape") {
      input.value = "";
      search();
    }
  });
  results.addEventListener("keydown", (event) => {
    const hits = [...results.querySelectorAll("button")];
    const at = hits.indexOf(document.activeElement);
    if (event.key === "ArrowDown" && at < hits.length - 1) hits[at + 1].focus();
    else if (event.key === "ArrowUp") (at > 0 ? hits[at - 1] : input).focus();
    else if (event.key === "Escape") input.focus();
    else return;
    event.preventDefault();
  });
}

/** The snippet's parts as text, the matches in <mark>: never parsed as markup. */
function snippet(parts) {
  const node = element("span", { className: "search-snippet" });
  for (const part of parts) node.append(part.match ? element("mark", { text: part.text }) : part.text);
  return node;
}
