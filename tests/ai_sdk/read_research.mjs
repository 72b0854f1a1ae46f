// The research agent through the AI SDK's own client, as `useChat` drives it:
// send a message (the run stops at an interrupt), then answer the interrupt
// with `sendMessage(..., { body: { resume } })`. Every chunk is validated by
// DefaultChatTransport and folded by readUIMessageStream. Prints both final
// UI messages and any errors as JSON.
// Usage: node read_research.mjs <package> <base url> <token> <conversation id> <text> <resume json>

const [pkg, base, token, conversationId, text, resume] = process.argv.slice(2);
const { DefaultChatTransport, readUIMessageStream } = await import(pkg);

const transport = new DefaultChatTransport({
  api: `${base}/api/v1/conversations/${conversationId}/messages?stream=ui`,
  headers: { Authorization: `Bearer ${token}` },
  // The history lives on the server: send the new message's text, or the answer to the interrupt.
  prepareSendMessagesRequest: ({ messages, body }) => ({
    body: body?.resume !== undefined
      ? { resume: body.resume }
      : { content: messages.at(-1).parts.find((part) => part.type === "text").text },
  }),
});

async function send(messages, body) {
  const stream = await transport.sendMessages({
    chatId: conversationId,
    trigger: "submit-message",
    messageId: undefined,
    abortSignal: undefined,
    messages,
    body,
  });
  const errors = [];
  let message = null;
  for await (const snapshot of readUIMessageStream({ stream, onError: (error) => errors.push(String(error)) })) {
    message = snapshot;
  }
  return { message, errors };
}

const asked = { id: "optimistic-1", role: "user", parts: [{ type: "text", text }] };
const first = await send([asked]);
const second = await send([asked, first.message], { resume: JSON.parse(resume) });
console.log(JSON.stringify({ first, second }));
