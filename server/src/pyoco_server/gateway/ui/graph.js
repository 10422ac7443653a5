// A task graph drawn as SVG by a small layered layout: each task's layer is its longest path
// from a task with nothing before it, tasks within a layer are ordered to cut crossings
// (a few sweeps of the barycentre heuristic), layers run left to right, edges are curves.
// A graph without edges (tasks known, order not) is laid out as a grid.

import { svg } from "./dom.js";
import { term } from "./i18n.js";

const NODE_W = 168;
const NODE_H = 46;
const GAP_X = 64;
const GAP_Y = 18;
const PAD = 12;
const GRID_COLUMNS = 4;

function layers(names, edges) {
  const incoming = new Map(names.map((name) => [name, []]));
  const outgoing = new Map(names.map((name) => [name, []]));
  for (const { source, target } of edges) {
    if (incoming.has(source) && incoming.has(target) && source !== target) {
      incoming.get(target).push(source);
      outgoing.get(source).push(target);
    }
  }
  const layer = new Map();
  const remaining = new Map(names.map((name) => [name, incoming.get(name).length]));
  const ready = names.filter((name) => remaining.get(name) === 0);
  while (ready.length) {
    const name = ready.shift();
    const depth = Math.max(0, ...incoming.get(name).map((source) => (layer.get(source) ?? -1) + 1));
    layer.set(name, depth);
    for (const target of outgoing.get(name)) {
      remaining.set(target, remaining.get(target) - 1);
      if (remaining.get(target) === 0) ready.push(target);
    }
  }
  for (const name of names) if (!layer.has(name)) layer.set(name, 0); // in a cycle: never here
  return { layer, incoming, outgoing };
}

function order(columns, incoming, outgoing) {
  const position = new Map();
  const index = () => columns.forEach((column) => column.forEach((name, i) => position.set(name, i)));
  const centre = (name, neighbours) => {
    const places = neighbours.get(name).map((other) => position.get(other)).filter((p) => p !== undefined);
    return places.length ? places.reduce((a, b) => a + b, 0) / places.length : position.get(name);
  };
  index();
  for (let sweep = 0; sweep < 4; sweep += 1) {
    const down = sweep % 2 === 0;
    const sequence = down ? columns.slice(1) : columns.slice(0, -1).reverse();
    for (const column of sequence) {
      const weights = new Map(column.map((name) => [name, centre(name, down ? incoming : outgoing)]));
      column.sort((a, b) => weights.get(a) - weights.get(b));
      column.forEach((name, i) => position.set(name, i));
    }
  }
}

/** Positions of the nodes: {x, y} of each node's top-left corner, and the drawing's size. */
export function layout(names, edges) {
  const at = new Map();
  if (!edges.length) {
    names.forEach((name, i) => at.set(name, {
      x: PAD + (i % GRID_COLUMNS) * (NODE_W + GAP_X / 2),
      y: PAD + Math.floor(i / GRID_COLUMNS) * (NODE_H + GAP_Y),
    }));
    const columns = Math.min(names.length, GRID_COLUMNS);
    return { at, width: PAD * 2 + columns * NODE_W + Math.max(0, columns - 1) * (GAP_X / 2), height: PAD * 2 + Math.ceil(names.length / GRID_COLUMNS) * (NODE_H + GAP_Y) - GAP_Y };
  }
  const { layer, incoming, outgoing } = layers(names, edges);
  const columns = [];
  for (const name of names) (columns[layer.get(name)] ||= []).push(name);
  const filled = columns.filter(Boolean);
  order(filled, incoming, outgoing);
  const tallest = Math.max(...filled.map((column) => column.length));
  const height = PAD * 2 + tallest * NODE_H + (tallest - 1) * GAP_Y;
  filled.forEach((column, c) => {
    const offset = (height - (column.length * NODE_H + (column.length - 1) * GAP_Y)) / 2;
    column.forEach((name, r) => at.set(name, { x: PAD + c * (NODE_W + GAP_X), y: offset + r * (NODE_H + GAP_Y) }));
  });
  return { at, width: PAD * 2 + filled.length * NODE_W + (filled.length - 1) * GAP_X, height };
}

function clipped(name, limit = 20) {
  return name.length > limit ? `${name.slice(0, limit - 1)}…` : name;
}

/** Draw `graph` ({nodes: [{name, state}], edges}); `update(states)` recolours it in place. */
export function drawGraph(graph, label) {
  const names = graph.nodes.map((node) => node.name);
  const { at, width, height } = layout(names, graph.edges);
  const marker = svg(
    "marker",
    { id: "arrow", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" },
    svg("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrow" }),
  );
  const edges = graph.edges
    .filter(({ source, target }) => at.has(source) && at.has(target))
    .map(({ source, target }) => {
      const a = at.get(source);
      const b = at.get(target);
      const x1 = a.x + NODE_W;
      const y1 = a.y + NODE_H / 2;
      const x2 = b.x - 2;
      const y2 = b.y + NODE_H / 2;
      const bend = Math.max(24, (x2 - x1) / 2);
      return svg("path", {
        class: "edge",
        d: `M ${x1} ${y1} C ${x1 + bend} ${y1}, ${x2 - bend} ${y2}, ${x2} ${y2}`,
        "marker-end": "url(#arrow)",
        dataset: { source, target },
      });
    });
  const nodes = new Map();
  const groups = graph.nodes.map((node) => {
    const { x, y } = at.get(node.name);
    const state = svg("text", { x: x + 12, y: y + 36, class: "node-state" }, term("task", node.state));
    const group = svg(
      "g",
      { class: `node node-${node.state.toLowerCase()}`, dataset: { task: node.name, state: node.state } },
      svg("title", {}, node.name),
      svg("rect", { x, y, width: NODE_W, height: NODE_H, rx: 8 }),
      svg("text", { x: x + 12, y: y + 19, class: "node-name" }, clipped(node.name)),
      state,
    );
    nodes.set(node.name, { group, state });
    return group;
  });
  const picture = svg(
    "svg",
    { class: "graph", viewBox: `0 0 ${Math.max(width, 10)} ${Math.max(height, 10)}`, width, height, role: "img", "aria-label": label },
    svg("defs", {}, marker),
    edges,
    groups,
  );
  return {
    node: picture,
    names: new Set(names),
    update(states) {
      for (const [name, value] of Object.entries(states)) {
        const node = nodes.get(name);
        if (!node || node.group.dataset.state === value) continue;
        node.group.dataset.state = value;
        node.group.setAttribute("class", `node node-${value.toLowerCase()} changed`);
        node.state.textContent = term("task", value);
      }
    },
  };
}
