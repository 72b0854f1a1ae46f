// The backend's HTTP API: JSON calls, typed errors, and the AI SDK UI message stream.

const TOKEN_KEY = "surfsense.token";

/** The server answered with an error: `{error, detail}`, the API's one error shape. */
export class ApiError extends Error {
  constructor(status, kind, detail) {
    super(detail);
    this.status = status;
    this.kind = kind;
  }
}

/** The server could not be reached at all: down, restarting, or no network. */
export class Unreachable extends Error {
  constructor() {
    super("Cannot reach the server. It may be down or restarting; your conversations are safe.");
  }
}

export const token = {
  get: () => localStorage.getItem(TOKEN_KEY),
  set: (value) => localStorage.setItem(TOKEN_KEY, value),
  clear: () => localStorage.removeItem(TOKEN_KEY),
};

async function send(method, path, { json, form, signal } = {}) {
  const headers = {};
  const bearer = token.get();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = new URLSearchParams(form);
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body, signal });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new Unreachable();
  }
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    // A gateway's own error page: the backend behind it is not answering.
    if (!problem.error && response.status >= 502) throw new Unreachable();
    throw new ApiError(response.status, problem.error ?? "Error", problem.detail ?? response.statusText);
  }

  return response;
}

/** A JSON call; resolves to the parsed body, or null for 204. */
export async function call(method, path, options) {
  const response = await send(method, path, options);
  return response.status === 204 ? null : response.json();
}

/** POST a message (`{content}`) or a resume (`{resume}`); yield the parts of the UI message stream. */
export async function* streamReply(conversationId, body) {
  const response = await send("POST", `/api/v1/conversations/${conversationId}/messages?stream=ui`, {
    json: body,
  });
  yield* uiParts(response);
}

/**
 * Join the conversation's active run (a reload mid-answer): the parts of its
 * UI message stream from the run's start, or null when no run is active.
 * Aborting `signal` ends the parts quietly.
 */
export async function joinRun(conversationId, signal) {
  const response = await send("GET", `/api/v1/conversations/${conversationId}/stream?stream=ui`, { signal });
  return response.status === 204 ? null : uiParts(response, signal);
}

/** The JSON parts of a UI message stream, frame by frame; comments (heartbeats) and ids are skipped. */
async function* uiParts(response, signal) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  for (;;) {
    let chunk;
    try {
      chunk = await reader.read();
    } catch {
      if (signal?.aborted) return;
      throw new Unreachable();
    }
    if (chunk.done) return;
    buffered += chunk.value;
    let end;
    while ((end = buffered.indexOf("\n\n")) >= 0) {
      const frame = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const data = frame
        .split("\n")
        .filter((line) => line.startsWith("data: "))
        .map((line) => line.slice("data: ".length))
        .join("\n");
      if (!data) continue;
      if (data === "[DONE]") return;
      yield JSON.parse(data);
    }
  }
}
