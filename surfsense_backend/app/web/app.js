// The chat page: sign up and log in, conversations, history, streaming replies.
// Plain DOM, no build step; every piece of user text goes in through textContent.

import { addToolCall, setToolResult, toolCalls } from "./agent_parts.js";
import { approvalCard } from "./approval.js";
import { ApiError, Unreachable, call, joinRun, streamReply, token } from "./api.js";
import { WHO, button, element, showContent } from "./dom.js";
import { memoryPanel } from "./memory.js";
import { searchBox } from "./search.js";

const PAGE_SIZE = 20;
// A reply left streaming with no run to join (its process died): look again after this.
const REJOIN_MS = 1000;

const $ = (id) => document.getElementById(id);
const state = {
  signingUp: false,
  conversationId: null,
  nextBefore: null,
  nextAfter: null, // set while the list is a page opened at a search result, not the newest
  nextCursor: null,
  feedback: new Map(), // run id -> "positive" | "negative" | null
  sending: false,
  running: null, // the promise of the run being sent, settled once its reply is shown
  joining: null, // the AbortController of a join in progress
  assistants: new Map(), // id -> {name, description, ...}
  memory: null, // the Memory panel's { refresh }
};

// ---- errors: one place decides what the user is told ----

function showBanner(text) {
  $("banner-text").textContent = text;
  $("banner").hidden = false;
}

function hideBanner() {
  $("banner").hidden = true;
}

/** Run an action; report what went wrong instead of leaving the page blank. */
async function attempt(action, { inline } = {}) {
  try {
    const result = await action();
    hideBanner();
    return result;
  } catch (error) {
    if (error instanceof Unreachable) {
      showBanner(error.message);
    } else if (error instanceof ApiError && error.status === 401 && token.get()) {
      token.clear();
      showAuth("Your session has expired. Please log in again.");
    } else if (inline) {
      inline.textContent = error.message;
    } else {
      showBanner(error.message);
    }
    return undefined;
  }
}

// ---- signing in ----

function showAuth(message = "") {
  stopJoining();
  $("chat-view").hidden = true;
  $("auth-view").hidden = false;
  $("auth-error").textContent = message;
  $("email").focus();
}

function setAuthMode(signingUp) {
  state.signingUp = signingUp;
  $("auth-title").textContent = signingUp ? "Sign up" : "Log in";
  $("auth-submit").textContent = signingUp ? "Sign up" : "Log in";
  $("auth-switch").textContent = signingUp ? "Have an account? Log in" : "No account yet? Sign up";
  $("password").autocomplete = signingUp ? "new-password" : "current-password";
  $("auth-error").textContent = "";
}

async function submitAuth(event) {
  event.preventDefault();
  const email = $("email").value.trim();
  const password = $("password").value;
  if (!email || !password) {
    $("auth-error").textContent = "Enter your email and a password.";
    return;
  }
  $("auth-error").textContent = "";
  const signedIn = await attempt(async () => {
    if (state.signingUp) await call("POST", "/auth/register", { json: { email, password } });
    const login = await call("POST", "/auth/jwt/login", { form: { username: email, password } });
    token.set(login.access_token);
    return true;
  }, { inline: $("auth-error") });
  if (signedIn) {
    $("password").value = "";
    await showChat();
  }
}

// ---- conversations ----

async function showChat() {
  const me = await attempt(() => call("GET", "/users/me"));
  if (!me) return;
  $("me").textContent = me.email;
  $("auth-view").hidden = true;
  $("chat-view").hidden = false;
  await loadAssistants();
  await loadConversations();
  await openFromAddress();
  await state.memory.refresh();
  $("message-input").focus();
}

/** Reopen the conversation named in the address: after a reload, or logging in again. */
async function openFromAddress() {
  const id = location.hash.slice(1);
  if (!id) return;
  const conversation = await attempt(async () => {
    try {
      return await call("GET", `/api/v1/conversations/${id}`);
    } catch (error) {
      // Gone, someone else's, or not an id at all: forget it quietly.
      if (!(error instanceof ApiError && [404, 422].includes(error.status))) throw error;
      history.replaceState(null, "", location.pathname);
      return null;
    }
  });
  if (conversation) await openConversation(conversation);
}

/** The assistant picker of "New conversation": the graphs, then the user's own assistants. */
async function loadAssistants() {
  const found = await attempt(() => call("GET", "/api/v1/assistants"));
  if (!found) return;
  const picker = $("assistant");
  const chosen = picker.value;
  state.assistants = new Map(found.items.map((assistant) => [assistant.id, assistant]));
  const option = (assistant) =>
    element("option", { text: assistant.name, attrs: { value: assistant.id, title: assistant.description } });
  const group = (label, assistants) => {
    const made = element("optgroup", { attrs: { label } });
    made.replaceChildren(...assistants.map(option));
    return made;
  };
  const graphs = found.items.filter((assistant) => !assistant.stored);
  const mine = found.items.filter((assistant) => assistant.stored);
  picker.replaceChildren(group("Graphs", graphs), ...(mine.length ? [group("Your assistants", mine)] : []));
  if (state.assistants.has(chosen)) picker.value = chosen;
}

/** What a conversation runs with: the user's assistant it keeps, else its graph. */
function assistantLabel(conversation) {
  const stored = state.assistants.get(conversation.stored_assistant_id);
  if (stored) return `with ${stored.name} (${stored.graph_id})`;
  const graph = state.assistants.get(conversation.assistant_id);
  return graph ? `with ${graph.name}` : "";
}

function newConversationBody() {
  return { assistant_id: $("assistant").value || "chat" };
}

async function loadConversations({ more = false } = {}) {
  const archived = $("show-archived").checked ? "true" : "false";
  const params = new URLSearchParams({ limit: String(PAGE_SIZE), archived });
  if (more && state.nextCursor) params.set("cursor", state.nextCursor);
  const page = await attempt(() => call("GET", `/api/v1/conversations?${params}`));
  if (!page) return;
  const list = $("conversation-list");
  if (!more) list.replaceChildren();
  for (const conversation of page.items) {
    list.append(conversationItem(conversation));
    // The first message may have given the open conversation its title.
    if (conversation.id === state.conversationId) {
      $("conversation-title").textContent = conversation.title ?? "New conversation";
    }
  }
  state.nextCursor = page.next_cursor;
  $("more-conversations").hidden = !page.next_cursor;
}

function conversationItem(conversation) {
  const item = element("li", { className: "conversation", attrs: { "data-id": conversation.id } });
  if (conversation.id === state.conversationId) item.classList.add("current");
  const open = button(conversation.title ?? "New conversation", () => openConversation(conversation), {
    class: "open",
    "aria-current": conversation.id === state.conversationId ? "true" : "false",
  });
  const preview = element("span", { className: "preview", text: conversation.last_message_preview ?? "" });
  // A fork keeps its source's title; the mark tells the two apart.
  if (conversation.forked_from) open.prepend(element("span", { className: "fork-mark", text: "Fork · " }));
  const archive = button(conversation.archived ? "Unarchive" : "Archive", () =>
    attempt(async () => {
      await call("PATCH", `/api/v1/conversations/${conversation.id}`, {
        json: { archived: !conversation.archived },
      });
      if (conversation.id === state.conversationId) closeConversation();
      await loadConversations();
    }), { "aria-label": `${conversation.archived ? "Unarchive" : "Archive"} ${conversation.title ?? "conversation"}` });
  const remove = button("Delete", () => confirmDelete(remove, conversation), {
    class: "danger",
    "aria-label": `Delete ${conversation.title ?? "conversation"}`,
  });
  item.append(open, preview, element("span", { className: "actions" }));
  item.lastChild.append(archive, remove);
  return item;
}

/** Deleting asks twice, on the same button: no dialog, and the keyboard stays put. */
async function confirmDelete(control, conversation) {
  if (control.dataset.armed !== "true") {
    control.dataset.armed = "true";
    control.textContent = "Really delete?";
    control.setAttribute("aria-label", `Really delete ${conversation.title ?? "conversation"}?`);
    return;
  }
  await attempt(async () => {
    await call("DELETE", `/api/v1/conversations/${conversation.id}`);
    if (conversation.id === state.conversationId) closeConversation();
    await loadConversations();
  });
}

function closeConversation() {
  stopJoining();
  state.conversationId = null;
  history.replaceState(null, "", location.pathname);
  $("conversation-title").textContent = "Start a conversation";
  $("conversation-assistant").textContent = "";
  $("messages").replaceChildren();
  $("load-older").hidden = true;
  $("load-newer").hidden = true;
}

async function newConversation() {
  const created = await attempt(() => call("POST", "/api/v1/conversations", { json: newConversationBody() }));
  if (created) {
    await openConversation(created);
    await loadConversations();
  }
}

/** Open it at its newest messages, or at message `at` (a search result) highlighted. */
async function openConversation(conversation, at = null) {
  stopJoining();
  state.conversationId = conversation.id;
  // In the address, so a reload opens the same conversation.
  history.replaceState(null, "", `#${conversation.id}`);
  $("conversation-title").textContent = conversation.title ?? "New conversation";
  $("conversation-assistant").textContent = assistantLabel(conversation);
  $("messages").replaceChildren();
  $("composer-error").textContent = "";
  for (const item of $("conversation-list").children) {
    const current = item.dataset.id === conversation.id;
    item.classList.toggle("current", current);
    item.querySelector(".open").setAttribute("aria-current", current ? "true" : "false");
  }
  await attempt(async () => {
    await loadFeedback();
    await (at ? loadAround(at) : loadNewest());
  });
  if (!at) $("message-input").focus();
}

/** A search result: its conversation, opened at the message. */
async function openResult(conversationId, messageId) {
  const conversation = await attempt(() => call("GET", `/api/v1/conversations/${conversationId}`));
  if (conversation) await openConversation(conversation, messageId);
}

// ---- history ----

/** A page of history: the newest, or the one `before`, `after` or `around` a message id names. */
async function historyPage(cursor = {}) {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  for (const [name, id] of Object.entries(cursor)) if (id) params.set(name, String(id));
  return call("GET", `/api/v1/conversations/${state.conversationId}/messages?${params}`);
}

function setCursors(page) {
  state.nextBefore = page.next_before;
  state.nextAfter = page.next_after;
  $("load-older").hidden = !page.next_before;
  $("load-newer").hidden = !page.next_after;
}

async function loadFeedback() {
  const runs = await call("GET", `/api/v1/conversations/${state.conversationId}/runs`);
  state.feedback = new Map(runs.items.map((run) => [run.run_id, run.sentiment]));
}

/** The newest page; a reply still streaming (a reload mid-answer) goes on live: its run is joined. */
async function loadNewest() {
  const conversationId = state.conversationId;
  const page = await historyPage();
  if (conversationId !== state.conversationId) return;
  $("messages").replaceChildren(...keepPendingCards(historyItems(page.items)));
  setCursors(page);
  scrollToEnd();
  const streaming = page.items.findLast((message) => message.status === "streaming");
  // Not awaited: the page is usable while the reply goes on.
  if (streaming && !state.sending) attempt(() => rejoin(conversationId, streaming));
}

/**
 * Stream the run still writing `message`, from its start (the text so far is
 * replayed), into its item; once it ends, show what was stored.
 */
async function rejoin(conversationId, message) {
  stopJoining();
  const joining = new AbortController();
  state.joining = joining;
  const parts = await joinRun(conversationId, joining.signal);
  const reply = $("messages").querySelector(`[data-id="${message.id}"]`);
  if (parts && reply) {
    reply.querySelector(".body").textContent = "";
    await foldReply(parts, null, reply);
  } else if (!joining.signal.aborted) {
    await new Promise((resolve) => setTimeout(resolve, REJOIN_MS));
  }
  if (joining.signal.aborted || conversationId !== state.conversationId) return;
  state.joining = null;
  await loadNewest();
}

function stopJoining() {
  state.joining?.abort();
  state.joining = null;
}

/** The page around a search result's message, which is highlighted and focused. */
async function loadAround(messageId) {
  const conversationId = state.conversationId;
  const page = await historyPage({ around: messageId });
  if (conversationId !== state.conversationId) return;
  $("messages").replaceChildren(...keepPendingCards(historyItems(page.items)));
  setCursors(page);
  const found = $("messages").querySelector(`[data-id="${messageId}"]`);
  if (!found) return;
  found.classList.add("found");
  found.tabIndex = -1;
  found.scrollIntoView?.({ block: "center" });
  found.focus();
}

async function loadNewer() {
  const page = await attempt(() => historyPage({ after: state.nextAfter }));
  if (!page) return;
  $("messages").append(...historyItems(page.items));
  state.nextAfter = page.next_after;
  $("load-newer").hidden = !page.next_after;
}

async function loadOlder() {
  const page = await attempt(() => historyPage({ before: state.nextBefore }));
  if (!page) return;
  const list = $("messages");
  const first = list.firstChild;
  list.prepend(...historyItems(page.items));
  state.nextBefore = page.next_before;
  $("load-older").hidden = !page.next_before;
  (first ?? list).scrollIntoView?.({ block: "start" });
  if (!page.next_before) $("message-input").focus();
}

/**
 * A page of history as list items: a tool result goes inside the call that
 * asked for it (collapsed under that message), unless the call is on an
 * older page; an interrupt is an approval card.
 */
function historyItems(messages) {
  const items = [];
  const calls = new Map(); // tool call id -> the list its result goes into
  for (const message of messages) {
    if (message.role === "tool" && calls.has(message.metadata.tool_call_id)) {
      const { tool_call_id: callId, status } = message.metadata;
      setToolResult(calls.get(callId), callId, message.content, status);
      continue;
    }
    const item = messageItem(message);
    for (const call of message.metadata?.tool_calls ?? []) calls.set(call.id, item.querySelector(".tool-calls"));
    items.push(item);
  }
  return items;
}

/**
 * The pending approval cards already shown stay as they are when the list is
 * drawn again (a run's end redraws it): what the user typed in them is kept.
 */
function keepPendingCards(items) {
  return items.map((item) => {
    const shown = $("messages").querySelector(`li.interrupt[data-id="${item.dataset.id}"]`);
    const pending = item.classList.contains("interrupt") && item.querySelector(".approval button");
    return pending && shown?.querySelector(".approval button") ? shown : item;
  });
}

function messageItem(message) {
  const item = element("li", { className: `message ${message.role}` });
  item.append(element("span", { className: "who", text: WHO[message.role] ?? message.role }));
  if (message.role === "interrupt") {
    item.append(approvalCard(message, answerInterrupt));
    item.dataset.id = String(message.id);
    return item;
  }
  if (message.role === "tool") {
    const { tool_call_id: id, name, args, status } = message.metadata;
    const list = toolCalls([{ id, name, args }]);
    setToolResult(list, id, message.content, status);
    item.append(list);
    item.dataset.id = String(message.id);
    return item;
  }
  const body = element("div", { className: "body" });
  showContent(body, message.content);
  item.append(body);
  if (message.metadata?.tool_calls?.length) item.append(toolCalls(message.metadata.tool_calls));
  setMessage(item, message);
  return item;
}

/** Bring an item up to date with the stored message: id, status, actions. */
function setMessage(item, message) {
  item.dataset.id = String(message.id);
  item.dataset.status = message.status;
  item.setAttribute("aria-busy", message.status === "streaming" ? "true" : "false");
  showContent(item.querySelector(".body"), message.content);
  item.querySelector(".actions")?.remove();
  if (message.status !== "complete") return;
  if (message.role !== "assistant") return;
  const actions = element("div", { className: "actions" });
  // Feedback is on the run's answer, not on each step that called a tool.
  if (message.run_id && !message.metadata?.tool_calls?.length) actions.append(...feedbackButtons(message.run_id));
  // An answer's checkpoint holds the conversation up to and including it.
  if (message.checkpoint_id) {
    actions.append(button("Fork from here", () => fork(message.checkpoint_id), {
      class: "fork", "aria-label": "Fork the conversation from this message",
    }));
  }
  item.append(actions);
}

// A thumb, drawn inline: emoji fonts are not on every machine.
const THUMB = "M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 "
  + "7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z";

function thumb(down) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  if (down) svg.setAttribute("transform", "rotate(180)");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", THUMB);
  svg.append(path);
  return svg;
}

function feedbackButtons(runId) {
  const choices = [["positive", false, "Good answer"], ["negative", true, "Bad answer"]];
  const buttons = choices.map(([sentiment, down, label]) =>
    button("", async () => {
      const next = state.feedback.get(runId) === sentiment ? null : sentiment;
      const run = await attempt(() => call("PUT", `/api/v1/runs/${runId}/feedback`, { json: { sentiment: next } }));
      if (run === undefined) return;
      state.feedback.set(runId, run.sentiment);
      for (const [i, [value]] of choices.entries()) {
        buttons[i].setAttribute("aria-pressed", String(run.sentiment === value));
      }
    }, { class: `feedback ${sentiment}`, "aria-label": label, "aria-pressed": String(state.feedback.get(runId) === sentiment) }));
  buttons.forEach((control, i) => control.append(thumb(choices[i][1])));
  return buttons;

}

async function fork(checkpointId) {
  const created = await attempt(() =>
    call("POST", `/api/v1/conversations/${state.conversationId}/fork`, { json: { checkpoint_id: checkpointId } }));
  if (created) {
    await openConversation(created);
    await loadConversations();
  }
}

function scrollToEnd() {
  const list = $("messages");
  list.lastElementChild?.scrollIntoView?.({ block: "end" });
}

// ---- sending ----

async function sendMessage(event) {
  event.preventDefault();
  const input = $("message-input");
  const content = input.value.trim();
  if (!content || state.sending) return;
  $("composer-error").textContent = "";
  if (!state.conversationId) {
    const created = await attempt(() => call("POST", "/api/v1/conversations", { json: newConversationBody() }));
    if (!created) return;
    await openConversation(created);
  }
  // Opened at a search result: the reply goes under the newest messages.
  if (state.nextAfter) await attempt(loadNewest);
  input.value = "";
  const user = messageItem({ id: "pending", role: "user", content, status: "streaming", metadata: {} });
  $("messages").append(user);
  const sent = await run({ content }, user);
  if (sent === undefined) {
    // Not sent: the text goes back in the box, nothing is lost.
    user.remove();
    input.value = content;
  }
  input.focus();
}

/**
 * Answer the interrupt the agent waits at: the run resumes from it. The card
 * shows while the stream that brought it is still closing; an answer given
 * then waits for it rather than being dropped.
 */
async function answerInterrupt(answer) {
  await state.running;
  await run({ resume: answer }, null);
}

/**
 * Send a message or a resume and show the run as it streams; then show what
 * was stored (the user's message has its checkpoint now), and the
 * conversation moved to the top of the list.
 */
function run(body, user) {
  const running = sendAndShow(body, user);
  state.running = running.catch(() => {});
  return running;
}

async function sendAndShow(body, user) {
  stopJoining();
  state.sending = true;
  $("send").disabled = true;
  const reply = messageItem({ id: "pending", role: "assistant", content: "", status: "streaming", metadata: {} });
  $("messages").append(reply);
  scrollToEnd();
  const sent = await attempt(() => readReply(body, user, reply), { inline: $("composer-error") });
  if (sent === undefined) reply.remove();
  state.sending = false;
  $("send").disabled = false;
  await attempt(loadNewest);
  await loadConversations();
  await state.memory.refresh(); // a reply may have remembered something
  return sent;
}

async function readReply(body, user, reply) {
  return foldReply(streamReply(state.conversationId, body), user, reply);
}

/** Fold a run's UI message stream into its items: tokens, tool calls, interrupts. */
async function foldReply(parts, user, reply) {
  const text = reply.querySelector(".body");
  const tools = toolCalls([]);
  reply.append(tools);
  for await (const part of parts) {
    switch (part.type) {
      case "data-user-message":
        if (user) setMessage(user, part.data);
        break;
      case "start":
        if (part.messageId) reply.dataset.id = part.messageId;
        break;
      case "text-delta":
        text.textContent += part.delta;
        scrollToEnd();
        break;
      case "tool-input-available":
        addToolCall(tools, { id: part.toolCallId, name: part.toolName, args: part.input });
        break;
      case "tool-output-available":
        setToolResult(tools, part.toolCallId, String(part.output), "success");
        break;
      case "tool-output-error":
        setToolResult(tools, part.toolCallId, part.errorText, "error");
        break;
      case "data-interrupt":
        reply.after(messageItem(part.data));
        scrollToEnd();
        break;
      case "data-assistant-message":
        setMessage(reply, part.data);
        break;
      case "error":
        reply.remove();
        $("composer-error").textContent = `The reply failed: ${part.errorText}`;
        break;
    }
  }
  return true;
}

// ---- wiring ----

function wire() {
  $("auth-form").addEventListener("submit", submitAuth);
  $("auth-switch").addEventListener("click", () => setAuthMode(!state.signingUp));
  $("logout").addEventListener("click", () => {
    // The server ends the token too; the page logs out even if it cannot be told.
    call("POST", "/auth/jwt/logout").catch(() => {});
    token.clear();
    closeConversation();
    $("memory-panel").open = false;
    $("memory-list").replaceChildren(); // the next user's are not these
    showAuth();
  });
  $("new-conversation").addEventListener("click", newConversation);
  $("show-archived").addEventListener("change", () => loadConversations());
  $("more-conversations").addEventListener("click", () => loadConversations({ more: true }));
  $("load-older").addEventListener("click", loadOlder);
  $("load-newer").addEventListener("click", loadNewer);
  searchBox({
    input: $("search-input"),
    results: $("search-results"),
    archived: () => ($("show-archived").checked ? "all" : "false"),
    open: openResult,
    attempt,
  });
  state.memory = memoryPanel({
    panel: $("memory-panel"),
    input: $("memory-search"),
    list: $("memory-list"),
    attempt,
  });
  $("composer").addEventListener("submit", sendMessage);
  $("message-input").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("banner-retry").addEventListener("click", boot);
}

async function boot() {
  hideBanner();
  if (!token.get()) {
    showAuth();
    return;
  }
  await showChat();
}

wire();
boot();
