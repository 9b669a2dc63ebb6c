// REST client: bearer token from sessionStorage (never in a URL, never logged), errors as ApiError.

const TOKEN_KEY = "viva.token";

export const auth = {
  get token() { return sessionStorage.getItem(TOKEN_KEY); },
  set token(value) {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  },
  signOut() { sessionStorage.removeItem(TOKEN_KEY); },
};

export class ApiError extends Error {
  constructor(status, message, details) {
    super(message);
    this.status = status;
    this.details = details || null;
  }

  /** One line for people: the message plus the first field error, when there is one. */
  get summary() {
    const details = this.details;
    if (details && typeof details === "object" && !Array.isArray(details)) {
      const [field, problems] = Object.entries(details)[0] || [];
      const first = Array.isArray(problems) ? problems[0] : problems;
      if (field && first && typeof first === "string") return `${this.message}: ${field.replaceAll("_", " ")} — ${first}`;
    }
    if (typeof details === "string" && details !== this.message) return `${this.message}: ${details}`;
    return this.message;
  }
}

/**
 * Call a Viva REST route. `json` sends JSON; `form` (FormData) sends multipart. Returns the parsed body
 * (null for 204). Throws ApiError with the server's message (`detail` or the seed-004 envelope).
 */
export async function api(path, { method = "GET", json, form, signal } = {}) {
  const headers = {};
  const token = auth.token;
  if (token) headers.Authorization = `Bearer ${token}`;
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form;
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body, signal, credentials: "omit", cache: "no-store" });
  } catch (error) {
    throw new ApiError(0, "The server cannot be reached. Check your connection and try again.");
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) throw errorOf(response.status, data);
  return data;
}

function errorOf(status, data) {
  if (data && typeof data === "object") {
    if (typeof data.detail === "string") return new ApiError(status, data.detail, data.errors);
    if (Array.isArray(data.detail)) {
      const first = data.detail[0] || {};
      const where = Array.isArray(first.loc) ? first.loc.slice(1).join(".") : "";
      return new ApiError(status, `Invalid data${where ? ` (${where})` : ""}: ${first.msg || "check the form"}`);
    }
    if (typeof data.message === "string") return new ApiError(status, data.message, data.details);
  }
  return new ApiError(status, status === 401 ? "Please sign in again." : `Request failed (${status})`);
}

/** POST /auth/login with JSON {email, password}; stores the token and returns GET /auth/me. */
export async function signIn(email, password) {
  auth.signOut();
  const { access_token: token } = await api("/auth/login", { method: "POST", json: { email, password } });
  auth.token = token;
  return api("/auth/me");
}

/** The signed-in user when the stored token is still valid, else null (and the token is dropped). */
export async function currentUser() {
  if (!auth.token) return null;
  try {
    return await api("/auth/me");
  } catch (error) {
    if (error.status === 401 || error.status === 403) auth.signOut();
    return null;
  }
}
