// Reconnect to a conversation's stream exactly as `useChat({ resume: true })`
// does on mount: DefaultChatTransport.reconnectToStream, whose default URL is
// `${api}/${chatId}/stream` (a 204 means nothing to resume, and gives null),
// then readUIMessageStream. Prints the final UI message (or null) and errors.
// Usage: node read_resume.mjs <package> <base url> <token> <conversation id>

const [pkg, base, token, conversationId] = process.argv.slice(2);
const { DefaultChatTransport, readUIMessageStream } = await import(pkg);

const transport = new DefaultChatTransport({
  api: `${base}/api/v1/conversations`,
  headers: { Authorization: `Bearer ${token}` },
});

const stream = await transport.reconnectToStream({ chatId: conversationId });
const errors = [];
let message = null;
if (stream !== null) {
  for await (const snapshot of readUIMessageStream({ stream, onError: (error) => errors.push(String(error)) })) {
    message = snapshot;
  }
}
console.log(JSON.stringify({ resumed: stream !== null, message, errors }));
