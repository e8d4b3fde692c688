// The API the page talks to: same origin as the page (the local gateway, or your API Gateway stage),
// bearer ID token from dev sign-in. Every refusal becomes an ApiError with a readable message.

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || [];
  }
}

const REFUSALS = {
  401: "You are signed out (no valid token). Sign in again.",
  403: "Not available on this server.",
  404: "Not found (or not yours).",
  409: "That upload is no longer pending.",
  413: "Too large.",
  415: "File type not allowed.",
  422: "The request breaks a rule.",
};

/** A person-readable sentence for an ApiError (or any error). */
export function describe(error) {
  if (!(error instanceof ApiError)) return error && error.message ? error.message : String(error);
  const prefix = {
    401: "Signed out",
    413: "Too large",
    415: "Type not allowed",
    422: "Refused",
  }[error.status];
  // A 415 names every allowed type after "; allowed:": the first clause is the readable part.
  const text = (error.message || REFUSALS[error.status] || `HTTP ${error.status}`).split("; allowed:")[0];
  return prefix && !text.toLowerCase().startsWith(prefix.toLowerCase()) ? `${prefix}: ${text}` : text;
}

export class Api {
  constructor(base = "") {
    this.base = base;
    this.token = null;
    this.onUnauthorized = () => {};
  }

  async request(method, path, body) {
    const headers = {};
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(this.base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new ApiError(0, "network", `The API did not answer (${err.message}).`);
    }
    if (response.status === 204) return null;
    let payload = null;
    try {
      payload = await response.json();
    } catch {
      payload = null;
    }
    if (!response.ok) {
      const error = new ApiError(
        response.status,
        (payload && payload.error) || `http_${response.status}`,
        (payload && payload.message) || REFUSALS[response.status] || `HTTP ${response.status}`,
        payload && payload.details,
      );
      if (response.status === 401) {
        error.message = REFUSALS[401];
        this.onUnauthorized(error);
      }
      throw error;
    }
    return payload;
  }

  signIn(username, admin) {
    return this.request("POST", "/_local/token", { username, admin });
  }
  createUpload(request) {
    return this.request("POST", "/uploads", request);
  }
  completeUpload(mediaId, parts) {
    return this.request("POST", `/uploads/${mediaId}/complete`, { parts });
  }
  abortUpload(mediaId) {
    return this.request("DELETE", `/uploads/${mediaId}`);
  }
  getMedia(mediaId) {
    return this.request("GET", `/media/${mediaId}`);
  }
  listMedia({ pageSize = 12, kind, status, tag, next } = {}) {
    const query = new URLSearchParams({ page_size: String(pageSize) });
    if (kind) query.set("kind", kind);
    if (status) query.set("status", status);
    if (tag) query.set("tag", tag);
    if (next) query.set("cursor", next); // the API takes the previous page's `next` as `cursor`
    return this.request("GET", `/media?${query}`);
  }
  deleteMedia(mediaId) {
    return this.request("DELETE", `/media/${mediaId}`);
  }
}
