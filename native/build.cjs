// Builds the addon with node-gyp at install time and never fails the install: where it cannot be
// built (no C++ compiler, no make, CONTRASTIVE_NATIVE_BUILD=0) it writes the reason to
// build-status.json, `--backend auto` reads it and falls back to wasm, saying why.
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync, writeFileSync } = require('node:fs');
const { dirname, join, resolve } = require('node:path');

const here = __dirname;
const statusFile = join(here, 'build-status.json');

function finish(ok, reason, log) {
  writeFileSync(statusFile, JSON.stringify({ ok, reason, node: process.version, log: (log || '').slice(-4000) }, null, 2) + '\n');
  process.stdout.write(`@contrastive/native: ${ok ? 'built' : `not built (${reason}); the native backend is unavailable, --backend auto will use wasm`}\n`);
  process.exit(0);
}

if (process.env.CONTRASTIVE_NATIVE_BUILD === '0') finish(false, 'CONTRASTIVE_NATIVE_BUILD=0 was set at install');

function findNodeGyp() {
  const candidates = [process.env.npm_config_node_gyp];
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js'));
  } catch {}
  // npm bundles node-gyp next to its own CLI.
  const npmCli = process.env.npm_execpath;
  if (npmCli) candidates.push(join(dirname(npmCli), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return candidates.find((c) => c && existsSync(c));
}

const nodeGyp = findNodeGyp();
if (nodeGyp == null) finish(false, 'node-gyp not found (it ships with npm)');

const args = [nodeGyp, 'rebuild', '--jobs', 'max'];
// Use the headers installed with this node (include/node) instead of downloading them: installs
// may have no access to nodejs.org.
const prefix = resolve(dirname(process.execPath), '..');
if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);

const r = spawnSync(process.execPath, args, { cwd: here, encoding: 'utf8', env: process.env });
const log = `${r.stdout || ''}\n${r.stderr || ''}`;
if (r.status === 0 && existsSync(join(here, 'build', 'Release', 'contrastive_native.node'))) finish(true, 'built', log);
// The missing tool, as node-gyp (`not found: make`), sh (`g++: not found`) or make (`make: g++: No such file`) says it.
const missing = /not found: (\S+)/.exec(log)?.[1] ?? /([\w.+-]+): (?:command )?not found/i.exec(log)?.[1] ?? /make: ([\w.+-]+): No such file/.exec(log)?.[1];
if (missing != null) finish(false, `no C++ toolchain: ${missing} not found (the addon needs a C++17 compiler, make and python3)`, log);
const lastError = log.split('\n').filter((l) => /error/i.test(l) && !/gyp ERR! (stack|cwd|node|System|command|not ok)/.test(l)).slice(0, 3).join(' | ');
finish(false, `node-gyp exited with ${r.status ?? r.signal}${lastError ? `: ${lastError.slice(0, 300)}` : ''}`, log);
