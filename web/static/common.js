// Helpers shared by the sign-in page and the app: DOM building without innerHTML (text is always
// text), and the API call that turns an error answer into its one-line message.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export class APIError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// api calls the Mission Control API with the session cookie; changes carry the header the server
// asks of cookie-authenticated changes.
export async function api(method, path, body) {
  const init = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (method !== "GET") init.headers["X-Mission-Control"] = "1";
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new APIError(0, `the Mission Control API did not answer: ${e.message}`);
  }
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    throw new APIError(res.status, `the API answered ${res.status} with something that is not JSON`);
  }
  if (!res.ok) throw new APIError(res.status, (data && data.error) || `the API answered ${res.status}`);
  return data;
}

// showError puts message into the page's alert region, where a screen reader announces it.
export function showError(region, message) {
  region.replaceChildren(message ? h("p", {}, message) : "");
  region.hidden = !message;
}
