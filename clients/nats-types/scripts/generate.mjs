// Generate src/messages.ts: a TypeScript type for the payload of every JSON message of
// asyncapi.yaml (plain JSON Schema), by json-schema-to-typescript. Run by `uv run nox -s generate`;
// with --check (`uv run nox -s check_generated`) it only fails when the committed file differs.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { compile } from 'json-schema-to-typescript';
import { parse } from 'yaml';

const PACKAGE = new URL('../', import.meta.url);
const ASYNCAPI = new URL('../../server/src/pyoco_server/contracts/asyncapi.yaml', PACKAGE);
const OUTPUT = new URL('src/messages.ts', PACKAGE);
const BANNER = `/* eslint-disable */
/**
 * Payloads of pyoco-server's NATS messages, generated from asyncapi.yaml by
 * scripts/generate.mjs (\`uv run nox -s generate\`). Do not edit.
 */`;

// asyncapi.yaml's schemas become the root schema's definitions.
function localRefs(node) {
  if (Array.isArray(node)) return node.map(localRefs);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node).map(([key, value]) =>
      key === '$ref' && typeof value === 'string'
        ? [key, value.replace('#/components/schemas/', '#/definitions/')]
        : [key, localRefs(value)],
    ),
  );
}

const document = parse(await readFile(ASYNCAPI, 'utf8'));
const defaultType = document.defaultContentType ?? 'application/json';
const messages = Object.entries(document.components.messages)
  .filter(([, message]) => (message.contentType ?? defaultType) === 'application/json')
  .sort(([a], [b]) => (a < b ? -1 : 1));
const root = {
  title: 'NatsMessages',
  description: 'The payload of every JSON message of asyncapi.yaml, by message name.',
  type: 'object',
  additionalProperties: false,
  required: messages.map(([name]) => name),
  properties: Object.fromEntries(messages.map(([name, message]) => [name, localRefs(message.payload)])),
  definitions: localRefs(document.components.schemas),
};
const text = await compile(root, 'NatsMessages', {
  bannerComment: BANNER,
  additionalProperties: false, // fields the schema does not declare are not typed
  cwd: fileURLToPath(PACKAGE),
  declareExternallyReferenced: true,
  unreachableDefinitions: false,
});

if (process.argv.includes('--check')) {
  const committed = await readFile(OUTPUT, 'utf8').catch(() => '');
  if (committed !== text) {
    console.error('clients/nats-types/src/messages.ts is out of date; run `uv run nox -s generate`');
    process.exit(1);
  }
} else {
  await writeFile(OUTPUT, text);
}
