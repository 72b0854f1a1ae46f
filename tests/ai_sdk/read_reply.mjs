// Send a message and read the reply exactly as `useChat` does: the AI SDK's
// DefaultChatTransport (which validates every chunk against its schema), then
// readUIMessageStream. Prints the final UI message and any errors as JSON.
// Usage: node read_reply.mjs <package> <base url> <token> <conversation id> <text>

const [pkg, base, token, conversationId, text] = process.argv.slice(2);
const { DefaultChatTransport, readUIMessageStream } = await import(pkg);

const transport = new DefaultChatTransport({
  api: `${base}/api/v1/conversations/${conversationId}/messages?stream=ui`,
  headers: { Authorization: `Bearer ${token}` },
  // The history lives on the server: send only the new message's text.
  prepareSendMessagesRequest: ({ messages }) => ({
    body: { content: messages.at(-1).parts.find((part) => part.type === "text").text },
  }),
});

const stream = await transport.sendMessages({
  chatId: conversationId,
  trigger: "submit-message",
  messageId: undefined,
  abortSignal: undefined,
  messages: [{ id: "optimistic-1", role: "user", parts: [{ type: "text", text }] }],
});

const errors = [];
let message = null;
for await (const snapshot of readUIMessageStream({ stream, onError: (error) => errors.push(String(error)) })) {
  message = snapshot;
}
console.log(JSON.stringify({ message, errors }));
