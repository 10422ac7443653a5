// Server-sent events read with fetch(), so the API key travels in its header (EventSource
// cannot send headers, and a key in a URL ends up in logs and history). The reader resumes
// with Last-Event-ID after a drop or the server's deadline, backs off while the server is
// unreachable, and lets go of its connection while the tab is hidden (browsers allow six
// connections per server across all tabs): it resumes where it left off once shown again.

const HIDDEN_GRACE_MS = 10_000;
const MAX_BACKOFF_MS = 30_000;

export class Follow {
  /**
   * @param {import("./api.js").Api} api
   * @param {string} url path and query
   * @param {{onEvent: Function, onState?: Function, onError?: Function}} handlers
   */
  constructor(api, url, handlers) {
    this.api = api;
    this.url = url;
    this.handlers = handlers;
    this.lastEventId = null;
    this.stopped = false;
    this.backoff = 1000;
    this.controller = null;
    this.hiddenTimer = null;
    this.paused = false;
    this.onVisibility = () => this.visibilityChanged();
    document.addEventListener("visibilitychange", this.onVisibility);
    this.run();
  }

  state(name) {
    this.handlers.onState?.(name);
  }

  /** Stop for good (the view is gone, or the stream has said all it will). */
  close() {
    this.stopped = true;
    document.removeEventListener("visibilitychange", this.onVisibility);
    clearTimeout(this.hiddenTimer);
    this.controller?.abort();
  }

  visibilityChanged() {
    if (document.visibilityState === "hidden") {
      this.hiddenTimer = setTimeout(() => {
        this.paused = true;
        this.state("paused");
        this.controller?.abort();
      }, HIDDEN_GRACE_MS);
    } else {
      clearTimeout(this.hiddenTimer);
      if (this.paused) {
        this.paused = false;
        this.run();
      }
    }
  }

  async run() {
    while (!this.stopped && !this.paused) {
      this.controller = new AbortController();
      let retryAfter = null;
      try {
        retryAfter = await this.connect(this.controller.signal);
      } catch (error) {
        if (this.stopped || this.paused) return;
        if (error.auth || error.status === 404 || error.status === 400) {
          this.handlers.onError?.(error);
          this.state("stopped");
          return;
        }
        retryAfter = error.retryAfter ? error.retryAfter * 1000 : this.backoff;
        this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
      }
      if (this.stopped || this.paused) return;
      this.state("reconnecting");
      await new Promise((resolve) => setTimeout(resolve, retryAfter ?? 500));
    }
  }

  /** One connection; returns when the server ends the stream (a resume is due). */
  async connect(signal) {
    const headers = this.api.headers({ Accept: "text/event-stream" });
    if (this.lastEventId !== null) headers["Last-Event-ID"] = this.lastEventId;
    const response = await fetch(this.url, { headers, signal, cache: "no-store" });
    if (!response.ok) throw await this.api.failure(response);
    this.backoff = 1000;
    this.state("live");
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    let event = { event: "message", data: [], id: null };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return null;
      buffer += decoder.decode(value, { stream: true });
      let newline;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline).replace(/\r$/, "");
        buffer = buffer.slice(newline + 1);
        if (line === "") {
          if (event.data.length) this.dispatch(event);
          event = { event: "message", data: [], id: null };
        } else if (!line.startsWith(":")) {
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "data") event.data.push(text);
          else if (field === "event") event.event = text;
          else if (field === "id") event.id = text;
        }
        if (this.stopped) return null;
      }
    }
  }

  dispatch(event) {
    if (event.id !== null) this.lastEventId = event.id;
    let data;
    try {
      data = JSON.parse(event.data.join("\n"));
    } catch {
      return;
    }
    this.handlers.onEvent({ event: event.event, data, id: event.id });
  }
}
