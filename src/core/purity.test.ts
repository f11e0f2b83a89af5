/**
 * src/core is pure (shared by the CLI, the server, workers and the browser): no Node built-ins,
 * no process/env, no wall clock, and no imports of the outer layers. ESLint enforces this too; this
 * test keeps it true when lint is skipped. Comments and strings are ignored: files are parsed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const CORE_DIR = dirname(fileURLToPath(import.meta.url));
const SRC_DIR = dirname(CORE_DIR);

const BUILTINS = new Set(builtinModules);
const OUTER_LAYERS = /(?:^|\/)(?:adapters|server|cli|worker)(?:\/|$)/;
const CONFIG = /(?:^|\/)config(?:\.[jt]s)?$/;

/** Why an import specifier is not allowed in src/core, or undefined when it is. */
function importProblem(specifier: string): string | undefined {
  if (specifier.startsWith('node:')) return `imports Node built-in "${specifier}"`;
  if (BUILTINS.has(specifier) || BUILTINS.has(specifier.split('/')[0]!)) return `imports Node built-in "${specifier}"`;
  if (OUTER_LAYERS.test(specifier)) return `imports outer layer "${specifier}"`;
  if (CONFIG.test(specifier)) return `imports config "${specifier}"`;
  return undefined;
}

/** Purity problems in one source text, as `file:line: problem`. */
function purityProblems(fileName: string, text: string): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const problems: string[] = [];
  const report = (node: ts.Node, problem: string): void => {
    const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
    problems.push(`${fileName}:${line + 1}: ${problem}`);
  };
  const checkSpecifier = (node: ts.Node, spec: ts.Expression | undefined): void => {
    if (!spec || !ts.isStringLiteralLike(spec)) return;
    const problem = importProblem(spec.text);
    if (problem) report(node, problem);
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) checkSpecifier(node, node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) checkSpecifier(node, node.moduleReference.expression);
    else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      if (callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require')) checkSpecifier(node, node.arguments[0]);
      if (ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression) && callee.expression.text === 'Date' && callee.name.text === 'now') report(node, 'calls Date.now()');
    } else if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'Date' && (node.arguments?.length ?? 0) === 0) {
      report(node, 'calls new Date() (the wall clock)');
    } else if ((ts.isPropertyAccessExpression(node) || ts.isElementAccessExpression(node)) && ts.isIdentifier(node.expression) && node.expression.text === 'process') {
      report(node, 'uses process');
    } else if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'globalThis' && node.name.text === 'process') {
      report(node, 'uses process');
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return problems;
}

function coreSourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...coreSourceFiles(p));
    else if (e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out.sort();
}

describe('src/core purity', () => {
  it('has no Node built-ins, outer-layer or config imports, process use or wall-clock reads in any source file', () => {
    const files = coreSourceFiles(CORE_DIR);
    expect(files.length).toBeGreaterThan(0);
    const problems = files.flatMap((f) => purityProblems(relative(SRC_DIR, f), readFileSync(f, 'utf8')));
    expect(problems).toEqual([]);
  });

  it('catches each kind of violation and names the file', () => {
    const text = [
      "import { readFileSync } from 'node:fs';",
      "import path from 'path';",
      "import { x } from 'fs/promises';",
      "export { y } from '../adapters/line-source.js';",
      "import type { Z } from '../../server/app.js';",
      "import { run } from '../cli/main.js';",
      "import { cfg } from '../config.js';",
      "const m = await import('node:crypto');",
      'const env = process.env.HOME;',
      'const now = Date.now();',
      'const d = new Date();',
      "const p = globalThis.process;",
    ].join('\n');
    const problems = purityProblems('core/bad.ts', text);
    expect(problems).toHaveLength(12);
    expect(problems.every((p) => p.startsWith('core/bad.ts:'))).toBe(true);
    expect(problems[0]).toBe('core/bad.ts:1: imports Node built-in "node:fs"');
  });

  it('allows pure code, and ignores comments and strings that mention forbidden names', () => {
    const text = [
      "import { maskMessage } from './parse/mask.js';",
      "import { readWithShape } from '../parse/header.js';",
      '// never call process.exit() or Date.now() here',
      "const s = 'process.env and node:fs';",
      'const d = new Date(0);',
      'const o = { process: 1 }; const q = o.process;',
    ].join('\n');
    expect(purityProblems('core/good.ts', text)).toEqual([]);
  });
});
