// Building the page's elements. Every piece of text goes in through textContent.

export function element(tag, { className, text, attrs = {} } = {}) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  return node;
}

export function button(label, onClick, attrs = {}) {
  const node = element("button", { text: label, attrs: { type: "button", ...attrs } });
  node.addEventListener("click", onClick);
  return node;
}

/** Who said a message, as the page names each role. */
export const WHO = { user: "You", assistant: "Agent", tool: "Tool", interrupt: "Agent asks" };
