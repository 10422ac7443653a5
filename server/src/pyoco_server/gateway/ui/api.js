// The HTTP API as the page uses it: the API key (typed once, kept for this tab only in
// sessionStorage) is sent in the server's key header on every call, never in a URL.

const STORED_KEY = "pyoco.api_key";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.reason = problem.reason || null;
    this.detail = problem.detail || problem.title || "";
    this.retryAfter = problem.retryAfter || null;
  }

  /** The API key is missing, wrong, or lacks the admin role. */
  get auth() {
    return this.status === 401 || (this.status === 403 && this.reason !== "forbidden_tenant");
  }
}

export class Api {
  constructor(keyHeader, keysOn) {
    this.keyHeader = keyHeader;
    this.keysOn = keysOn;
    this.onAuthError = () => {};
  }

  get key() {
    return sessionStorage.getItem(STORED_KEY) || "";
  }

  set key(value) {
    if (value) sessionStorage.setItem(STORED_KEY, value);
    else sessionStorage.removeItem(STORED_KEY);
  }

  headers(extra = {}) {
    const headers = { ...extra };
    if (this.keysOn && this.key) headers[this.keyHeader] = this.key;
    return headers;
  }

  url(path, query) {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query || {})) {
      if (value !== undefined && value !== null && value !== "") params.set(name, String(value));
    }
    const text = params.toString();
    return text ? `${path}?${text}` : path;
  }

  async request(method, path, { query, json, form, signal } = {}) {
    const init = { method, headers: this.headers({ Accept: "application/json" }), signal };
    if (json !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(json);
    } else if (form !== undefined) {
      init.body = form;
    }
    const response = await fetch(this.url(path, query), init);
    if (!response.ok) throw await this.failure(response);
    return response.status === 204 ? null : response.json();
  }

  async failure(response) {
    let problem = {};
    try {
      problem = await response.json();
    } catch {
      problem = {};
    }
    problem.retryAfter = Number(response.headers.get("Retry-After")) || null;
    const error = new ApiError(response.status, problem);
    if (error.auth) this.onAuthError(error);
    return error;
  }

  get(path, query, signal) {
    return this.request("GET", path, { query, signal });
  }

  post(path, json) {
    return this.request("POST", path, { json });
  }

  patch(path, json) {
    return this.request("PATCH", path, { json });
  }

  upload(path, form) {
    return this.request("POST", path, { form });
  }
}
