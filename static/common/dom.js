// Small DOM helpers. Every string goes in as text (textContent / attributes), never as HTML.

/**
 * Create an element. `props`: `class`, `text`, `attrs` (attributes), `data` (dataset), `on` (events),
 * anything else is set as a property (e.g. `type`, `value`, `disabled`). Children: nodes or strings.
 */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = String(value);
    else if (key === "attrs") for (const [a, v] of Object.entries(value)) { if (v !== null && v !== undefined) node.setAttribute(a, String(v)); }
    else if (key === "data") Object.assign(node.dataset, value);
    else if (key === "on") for (const [event, handler] of Object.entries(value)) node.addEventListener(event, handler);
    else node[key] = value;
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace a node's children. */
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

/** Show exactly one of `sections` (elements), hide the others; focus its first heading for screen readers. */
export function showOnly(sections, visible) {
  for (const section of sections) section.hidden = section !== visible;
  const heading = visible && visible.querySelector("h1, h2");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: false });
  }
}

/** Put a message in an alert element (`kind`: error | ok | info | warn); empty text hides it. */
export function say(node, text, kind = "info") {
  node.textContent = text || "";
  node.className = `alert ${kind}`;
  node.hidden = !text;
}

export function formatTime(seconds) {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

export function formatDate(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "—" : date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function wsUrl(path) {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`;
}

/** The last path segment (the interview id of /room/{id} and /monitor/{id}), when it looks like an id. */
export function idFromPath() {
  const last = location.pathname.replace(/\/+$/, "").split("/").pop() || "";
  return /^[A-Za-z0-9_-]{1,64}$/.test(last) ? decodeURIComponent(last) : null;
}
