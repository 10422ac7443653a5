import type { Problem } from "./generated/types.gen.js";

/**
 * An error answer of the gateway (an RFC 7807 `application/problem+json` document), thrown by
 * every call of `PyocoClient`. `reason`, when the server gives one, is a stable machine-readable
 * code (`run_not_found`, `invalid_yaml`, `api_key_required`, ...).
 */
export class PyocoProblem extends Error {
  override readonly name = "PyocoProblem";
  /** The HTTP status code. */
  readonly status: number;
  /** Short summary of the problem type. */
  readonly title: string;
  /** What went wrong and how to fix it, when the server says. */
  readonly detail: string | undefined;
  /** The stable machine-readable code, when there is one. */
  readonly reason: string | undefined;
  /** The problem document as received (or, for an answer that was not one, as made up here). */
  readonly problem: Problem;
  /** The answer's headers (`Retry-After` on 429 and 503, say). */
  readonly headers: Headers;

  constructor(problem: Problem, headers: Headers = new Headers()) {
    const reason = typeof problem.reason === "string" ? problem.reason : undefined;
    const summary = problem.detail ? `${problem.title}: ${problem.detail}` : problem.title;
    super(`${problem.status} ${summary}${reason ? ` (${reason})` : ""}`);
    this.status = problem.status;
    this.title = problem.title;
    this.detail = problem.detail;
    this.reason = reason;
    this.problem = problem;
    this.headers = headers;
  }

  /** Seconds the server asks to wait before trying again (`Retry-After`), if it says. */
  get retryAfterSec(): number | undefined {
    const value = this.headers.get("Retry-After");
    if (value === null || value.trim() === "") {
      return undefined;
    }
    const seconds = Number(value);
    return Number.isFinite(seconds) ? seconds : undefined;
  }

  /**
   * The problem of an error answer: its body when that is a problem document, otherwise one
   * made up from the status line and the body's text (a proxy's HTML page, say).
   */
  static fromResponse(response: Response, body: unknown): PyocoProblem {
    if (isProblem(body)) {
      return new PyocoProblem(body, response.headers);
    }
    const text = typeof body === "string" ? body.trim().slice(0, 500) : "";
    const problem: Problem = {
      title: response.statusText || `HTTP ${response.status}`,
      status: response.status,
      ...(text ? { detail: text } : {}),
    };
    return new PyocoProblem(problem, response.headers);
  }

  /** The problem of an error answer whose body has not been read yet. */
  static async read(response: Response): Promise<PyocoProblem> {
    const text = await response.text().catch(() => "");
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return PyocoProblem.fromResponse(response, body);
  }
}

function isProblem(body: unknown): body is Problem {
  if (typeof body !== "object" || body === null) {
    return false;
  }
  const candidate = body as Record<string, unknown>;
  return typeof candidate.title === "string" && typeof candidate.status === "number";
}
