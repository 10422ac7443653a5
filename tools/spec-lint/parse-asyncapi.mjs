// Parse an AsyncAPI document with the official parser; print every diagnostic and exit 1 when
// any is an error (severity 0). Usage: node parse-asyncapi.mjs <asyncapi.yaml>
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Parser, DiagnosticSeverity } from '@asyncapi/parser';

const file = path.resolve(process.argv[2] ?? 'asyncapi.yaml');
const { document, diagnostics } = await new Parser().parse(await readFile(file, 'utf8'), {
  source: file,
});
const names = { 0: 'error', 1: 'warning', 2: 'information', 3: 'hint' };
for (const { severity, code, message, path: where } of diagnostics) {
  console.log(`${names[severity] ?? severity} ${code} at ${where.join('.') || '(root)'}: ${message}`);
}
const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error).length;
console.log(`${file}: ${errors} error(s), ${diagnostics.length - errors} other diagnostic(s)`);
if (errors > 0 || document === undefined) process.exit(1);
