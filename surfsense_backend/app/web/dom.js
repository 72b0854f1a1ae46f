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

// Images the page shows inline: raster types only, from base64 data in the
// message itself (the page's policy allows data: images and nothing remote).
const IMAGE_TYPE = /^image\/(png|jpeg|gif|webp)$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function imageSource(block) {
  if (typeof block.url === "string" && block.url.startsWith("data:")) return block.url;
  const url = block.image_url?.url ?? block.image_url;
  if (typeof url === "string" && url.startsWith("data:")) return url;
  const type = block.mimeType ?? block.mime_type;
  const data = block.data ?? block.base64;
  if (typeof type !== "string" || typeof data !== "string" || !BASE64.test(data)) return null;
  return `data:${type};base64,${data}`;
}

function attachmentName(block) {
  for (const where of [block.metadata, block.extras, block]) {
    const name = where?.filename ?? where?.name;
    if (typeof name === "string" && name.trim()) return name;
  }
  return block.type;
}

/**
 * A message's content in `body`: text as text; content blocks in their order,
 * text blocks as text, an image as an image, any other block (a PDF, say) as
 * its file name.
 */
export function showContent(body, content) {
  if (typeof content === "string") {
    body.textContent = content;
    return;
  }
  body.replaceChildren();
  for (const block of content) {
    if (typeof block === "string" || block.type === "text") {
      body.append(typeof block === "string" ? block : String(block.text ?? ""));
      continue;
    }
    const name = attachmentName(block);
    const source = block.type === "image" || block.type === "image_url" ? imageSource(block) : null;
    const type = source?.match(/^data:([^;,]+)/)?.[1];
    if (source && IMAGE_TYPE.test(type ?? "")) {
      body.append(element("img", { className: "attachment", attrs: { src: source, alt: name } }));
    } else {
      body.append(element("span", { className: "attachment file", text: name }));
    }
  }
}
