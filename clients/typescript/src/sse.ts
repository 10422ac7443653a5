/**
 * A parser of `text/event-stream` bodies (the WHATWG server-sent events format): `event:`,
 * `id:`, `data:` and `retry:` fields, comments (`:`), events ended by a blank line, and lines
 * ended by CRLF, LF or CR.
 */

/** One event as it came over the wire. */
export interface ServerSentEvent {
  /** The event type (`message` when the event named none). */
  event: string;
  /** The data lines, joined by newlines. */
  data: string;
  /** The last event id seen on the stream so far (the `id:` of this event or an earlier one). */
  id: string | undefined;
  /** The reconnection time the server asked for, in milliseconds, if it did. */
  retry: number | undefined;
}

/** Decodes a stream of bytes into its events, as they complete. */
export async function* parseServerSentEvents(
  chunks: AsyncIterable<Uint8Array>,
): AsyncGenerator<ServerSentEvent, void, undefined> {
  const decoder = new TextDecoder("utf-8");
  const parser = new EventParser();
  for await (const chunk of chunks) {
    yield* parser.feed(decoder.decode(chunk, { stream: true }));
  }
  yield* parser.feed(decoder.decode());
  // an event not ended by a blank line is not dispatched (as in the spec)
}

class EventParser {
  private buffer = "";
  private type = "";
  private data: string[] = [];
  private hasData = false;
  private lastId: string | undefined = undefined;
  private retry: number | undefined = undefined;
  private pendingCr = false;

  *feed(text: string): Generator<ServerSentEvent> {
    if (this.pendingCr && text.startsWith("\n")) {
      text = text.slice(1); // the LF of a CRLF split between two chunks
    }
    this.pendingCr = false;
    this.buffer += text;
    for (;;) {
      const end = this.buffer.search(/[\r\n]/);
      if (end < 0) {
        return;
      }
      const line = this.buffer.slice(0, end);
      let rest = end + 1;
      if (this.buffer[end] === "\r") {
        if (end + 1 === this.buffer.length) {
          this.pendingCr = true;
        } else if (this.buffer[end + 1] === "\n") {
          rest += 1;
        }
      }
      this.buffer = this.buffer.slice(rest);
      const event = this.line(line);
      if (event) {
        yield event;
      }
    }
  }

  private line(line: string): ServerSentEvent | undefined {
    if (line === "") {
      return this.dispatch();
    }
    if (line.startsWith(":")) {
      return undefined;
    }
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) {
      value = value.slice(1);
    }
    switch (field) {
      case "event":
        this.type = value;
        break;
      case "data":
        this.data.push(value);
        this.hasData = true;
        break;
      case "id":
        if (!value.includes("\0")) {
          this.lastId = value;
        }
        break;
      case "retry":
        if (/^[0-9]+$/.test(value)) {
          this.retry = Number(value);
        }
        break;
      default:
        break; // unknown fields are ignored
    }
    return undefined;
  }

  private dispatch(): ServerSentEvent | undefined {
    const event = this.hasData
      ? { event: this.type || "message", data: this.data.join("\n"), id: this.lastId, retry: this.retry }
      : undefined;
    this.type = "";
    this.data = [];
    this.hasData = false;
    return event;
  }
}
