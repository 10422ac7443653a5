// Offline tests of the event-stream parser and of the watch's resumption (a local fake server).
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";

import { parseServerSentEvents, PyocoClient, PyocoProblem, type ServerSentEvent } from "../src/index.js";

async function parse(...chunks: string[]): Promise<ServerSentEvent[]> {
  const encoder = new TextEncoder();
  async function* bytes(): AsyncGenerator<Uint8Array> {
    for (const chunk of chunks) {
      yield encoder.encode(chunk);
    }
  }
  const events: ServerSentEvent[] = [];
  for await (const event of parseServerSentEvents(bytes())) {
    events.push(event);
  }
  return events;
}

describe("parseServerSentEvents", () => {
  test("reads fields, multi-line data, comments and keeps the last id", async () => {
    const events = await parse(
      ": a comment\nid: 7\nevent: snapshot\ndata: {\"a\":\ndata: 1}\n\n",
      "event: heartbeat\ndata:{}\n\n",
    );
    assert.deepEqual(events, [
      { event: "snapshot", data: '{"a":\n1}', id: "7", retry: undefined },
      { event: "heartbeat", data: "{}", id: "7", retry: undefined },
    ]);
  });

  test("handles CRLF and CR line ends split across chunks", async () => {
    const events = await parse("id: 1\r", "\nevent: x\r\ndata: y\r", "\r", "data: z\rdata: w\r\r");
    assert.deepEqual(
      events.map((event) => [event.event, event.data, event.id]),
      [
        ["x", "y", "1"],
        ["message", "z\nw", "1"],
      ],
    );
  });

  test("does not dispatch an event the stream cut off", async () => {
    const events = await parse("data: whole\n\ndata: cut");
    assert.deepEqual(
      events.map((event) => event.data),
      ["whole"],
    );
  });
});

/** A fake watch endpoint: each connection gets the next scripted body, then the stream ends. */
type Script = (headers: IncomingHttpHeaders) => [number, string] | [number, string, "hold"];

function fakeGateway(bodies: Script[]): {
  server: Server;
  seen: IncomingHttpHeaders[];
} {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((request, response) => {
    if (!request.url?.endsWith("/watch")) {
      // GET /runs/{run_id}: what the watch checks when a resumed stream ends at once
      response.writeHead(200, { "Content-Type": "application/json" });
      response.end(JSON.stringify(snapshot("PENDING")));
      return;
    }
    seen.push(request.headers);
    const script = bodies[Math.min(seen.length - 1, bodies.length - 1)];
    const [status, body, hold] = script ? script(request.headers) : [500, ""];
    const type = status === 200 ? "text/event-stream" : "application/problem+json";
    response.writeHead(status, { "Content-Type": type, ...(status === 503 ? { "Retry-After": "0" } : {}) });
    if (hold) {
      response.write(body); // and stay silent, as a stalled connection would
    } else {
      response.end(body);
    }
  });
  return { server, seen };
}

function snapshot(status: string): Record<string, unknown> {
  return { run_id: "r1", flow_name: "main", tag: "default", tags: [], status, params: {}, tasks: {}, updated_at: 1 };
}

function snapshotEvent(revision: number, status: string): string {
  return `id: ${revision}\nevent: snapshot\ndata: ${JSON.stringify({ run_id: "r1", snapshot: snapshot(status), ts: 1 })}\n\n`;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe("PyocoClient.watch against a fake gateway", () => {
  const { server, seen } = fakeGateway([
    () => [200, snapshotEvent(3, "PENDING") + 'event: heartbeat\ndata: {"run_id":"r1","ts":2}\n\n'],
    () => [200, ""], // a stream that ends at once (a gateway restart, say)
    () => [200, snapshotEvent(5, "RUNNING")],
    () => [200, snapshotEvent(6, "COMPLETED") + snapshotEvent(7, "RUNNING")],
  ]);
  let url = "";
  before(async () => {
    url = await listen(server);
  });
  after(() => {
    server.close();
  });

  test("resumes with Last-Event-ID after each end and stops at the terminal snapshot", async () => {
    const client = new PyocoClient({ baseUrl: url, apiKey: "k", apiKeyHeader: "X-Custom-Key" });
    const statuses: string[] = [];
    for await (const snapshot of client.watch("r1", { reconnectDelayMs: 1 })) {
      statuses.push(snapshot.status);
    }
    assert.deepEqual(statuses, ["PENDING", "RUNNING", "COMPLETED"]);
    assert.deepEqual(
      seen.map((headers) => headers["last-event-id"]),
      [undefined, "3", "3", "5"],
    );
    assert.ok(seen.every((headers) => headers["x-custom-key"] === "k"));
  });
});

describe("PyocoProblem from a watch", () => {
  const problem = { title: "Not Found", status: 404, detail: "no run r2", reason: "run_not_found" };
  const { server } = fakeGateway([() => [404, JSON.stringify(problem)]]);
  let url = "";
  before(async () => {
    url = await listen(server);
  });
  after(() => {
    server.close();
  });

  test("an error answer is thrown as a PyocoProblem", async () => {
    const client = new PyocoClient({ baseUrl: url });
    await assert.rejects(client.waitForRun("r2"), (error: unknown) => {
      assert.ok(error instanceof PyocoProblem);
      assert.equal(error.status, 404);
      assert.equal(error.reason, "run_not_found");
      assert.equal(error.detail, "no run r2");
      assert.deepEqual(error.problem, problem);
      return true;
    });
  });
});

describe("PyocoClient.watch on a stalled or unavailable gateway", () => {
  const { server, seen } = fakeGateway([
    () => [200, snapshotEvent(3, "RUNNING"), "hold"],
    () => [503, JSON.stringify({ title: "Service Unavailable", status: 503, reason: "backend_unavailable" })],
    () => [200, snapshotEvent(4, "FAILED")],
  ]);
  let url = "";
  before(async () => {
    url = await listen(server);
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  test("reconnects when the stream goes quiet and retries a 503", async () => {
    const client = new PyocoClient({ baseUrl: url });
    const events = [];
    for await (const event of client.watchEvents("r1", { idleTimeoutMs: 200, reconnectDelayMs: 1 })) {
      events.push(event.type === "snapshot" ? `${event.revision}:${event.snapshot.status}` : event.type);
    }
    assert.deepEqual(events, ["3:RUNNING", "4:FAILED"]);
    assert.deepEqual(
      seen.map((headers) => headers["last-event-id"]),
      [undefined, "3", "3"],
    );
  });
});
