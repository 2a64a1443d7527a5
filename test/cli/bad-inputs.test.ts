/**
 * Bad inputs across every command, table-driven (issue 10, part 7): each case runs the built CLI and
 * asserts exit code 2, exactly one line on stderr (`contrastive: …`, no stack trace; commands that fail
 * after starting work may print their `backend:`/progress lines first, marked `preamble`), that the line
 * names the offending file (and field or line where there is one), and that nothing was created or left
 * behind: every case gets its own folder, snapshotted (names, sizes, contents) before and after — an
 * output must stay absent, a prepared folder unchanged, and no temp siblings may remain. The shared
 * fixtures are checked unchanged at the end.
 *
 * Operating-system cases: an unreadable input and a read-only output folder (run as uid 65534 when the
 * suite runs as root, since root ignores permission bits), an output below a regular file or under
 * /proc, missing inputs, a full disk through /dev/full (ENOSPC) and a file-size limit (`ulimit -f`, EFBIG).
 * Config-error cases assert the file and the field name only, not the wording (the validation is moving to a schema).
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir, tinyPairs, tinyConfig } from '../helpers/tiny-run.js';
import { prepare } from '../../src/data/prepare.js';

const BIN = join(process.cwd(), 'dist/src/cli/main.js');
const root = await tempDir('contrastive-bad-');
chmodSync(root, 0o755); // uid 65534 must reach the fixtures for the permission cases
after(() => rm(root, { recursive: true, force: true }));
const fx = join(root, 'fx');
mkdirSync(fx);
const F = (name: string) => join(fx, name);
const isRoot = process.getuid?.() === 0;
const home = join(root, 'home'); // uid 65534's HOME (onnxruntime writes a telemetry id there, and warns when it cannot)
mkdirSync(home);
chmodSync(home, 0o777);
const NOBODY = 65534;
/** Why the permission cases cannot run here (root, but uid 65534 cannot read the checkout, e.g. below a 0700 home), else false. */
const noUnprivileged = (() => {
  if (!isRoot) return false;
  const probe = spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(BIN)}); require('fs').accessSync(${JSON.stringify(join(process.cwd(), 'node_modules'))})`], { uid: NOBODY, gid: NOBODY });
  return probe.status === 0 ? false : `uid ${NOBODY} cannot read ${process.cwd()}, and root ignores permission bits`;
})();

// ---- fixtures (inputs only; no case writes here) ----
const pairLines = Array.from({ length: 8 }, (_, i) => JSON.stringify({ anchor: `query ${i} about topic ${i % 3}`, positive: `document ${i} on topic ${i % 3}` }));
writeFileSync(F('ok.jsonl'), pairLines.join('\n') + '\n');
writeFileSync(F('bad.jsonl'), 'not json\n');
writeFileSync(F('line3.jsonl'), pairLines.slice(0, 2).join('\n') + '\n{"anchor": "x", "positive": \n');
writeFileSync(F('empty.jsonl'), '');
writeFileSync(F('latin1.jsonl'), Buffer.from('{"anchor":"caf\xe9","positive":"b"}\n', 'latin1'));
writeFileSync(F('array-line.jsonl'), '[1, 2]\n');
writeFileSync(F('nested.jsonl'), '{"anchor": {"x": 1}, "positive": "b"}\n');
writeFileSync(F('no-positive.jsonl'), '{"anchor": "a"}\n{"anchor": "b"}\n');
writeFileSync(F('unclosed.csv'), 'anchor,positive\n"a,b\n');
writeFileSync(F('after-quote.csv'), 'anchor,positive\n"a"x,b\n');
writeFileSync(F('ragged.csv'), 'anchor,positive\na,b\nc,d,e\n');
writeFileSync(F('labelled-bad.csv'), 'text1,text2,score\na,b,0.5\nc,d,high\n');
writeFileSync(F('sts-nan.csv'), 'a cat,a dog,1\na car,a bus,NaN\n');
writeFileSync(F('data.txt'), 'anchor\tpositive\n');
writeFileSync(F('broken.json'), '{');
writeFileSync(F('big.jsonl'), Array.from({ length: 400 }, (_, i) => JSON.stringify({ anchor: `query ${i} `.repeat(8), positive: `document ${i} `.repeat(12) })).join('\n') + '\n');
mkdirSync(F('dir.jsonl'));
writeFileSync(F('array.json'), '[1]');
writeFileSync(F('unreadable.jsonl'), pairLines.join('\n') + '\n');
chmodSync(F('unreadable.jsonl'), 0o000);
await prepare({ input: F('ok.jsonl'), output: F('ok.arrow') });
writeFileSync(F('truncated.arrow'), readFileSync('data/eval.arrow').subarray(0, 100));
writeFileSync(F('cut.arrow'), readFileSync(F('ok.arrow')).subarray(0, Math.floor(readFileSync(F('ok.arrow')).length * 0.7)));
{
  const bytes = Buffer.from(readFileSync(F('ok.arrow')));
  const at = bytes.indexOf(Buffer.from('document 3'));
  bytes[at] = 0xff; // not UTF-8
  writeFileSync(F('bad-utf8.arrow'), bytes);
}
writeFileSync(F('unreadable.arrow'), readFileSync(F('ok.arrow')));
chmodSync(F('unreadable.arrow'), 0o000);
const pairsArrow = await tinyPairs(fx); // pairs.arrow (title/abstract → anchor/positive), 24 rows
const recipe = (over: Parameters<typeof tinyConfig>[1] = {}) => JSON.parse(JSON.stringify(tinyConfig(pairsArrow, over))) as Record<string, any>;
const writeRecipe = (name: string, value: unknown) => writeFileSync(F(name), JSON.stringify(value, null, 2));
writeRecipe('recipe.json', recipe({ train: { batchSize: 4, maxSteps: 2, checkpointEvery: 1 } }));
writeRecipe('recipe-unreadable.json', recipe());
chmodSync(F('recipe-unreadable.json'), 0o000);
writeRecipe('recipe-lr.json', { ...recipe(), train: { ...recipe().train, lr: 'fast' } });
writeRecipe('recipe-batch.json', { ...recipe(), train: { ...recipe().train, batchSize: -4 } });
writeRecipe('recipe-loss.json', { ...recipe(), datasets: [{ ...recipe().datasets[0], loss: { name: 'hinge' } }] });
writeRecipe('recipe-heads.json', { ...recipe(), model: { ...recipe().model, numHeads: 3 } });
writeRecipe('recipe-missing-data.json', { ...recipe(), datasets: [{ ...recipe().datasets[0], path: F('nope.arrow') }] });
writeRecipe('recipe-damaged-data.json', { ...recipe(), datasets: [{ ...recipe().datasets[0], path: F('truncated.arrow') }] });
writeRecipe('recipe-tokenizer.json', { ...recipe(), tokenizer: F('broken.json') });
writeRecipe('recipe-maxlen.json', { ...recipe(), data: { ...recipe().data, maxLength: 4096 } });
writeRecipe('recipe-unknown-key.json', { ...recipe(), trian: {} });
writeRecipe('recipe-eval-missing.json', { ...recipe(), data: { ...recipe().data, eval: F('nope-eval.arrow') } });
writeFileSync(F('pipeline-missing.json'), JSON.stringify({ stages: [{ name: 'a', train: F('missing-recipe.json') }] }));
writeFileSync(F('pipeline-empty.json'), JSON.stringify({ stages: [] }));
writeFileSync(F('pipeline-from.json'), JSON.stringify({ stages: [{ name: 'b', from: 'nowhere', train: F('recipe.json') }] }));
writeFileSync(F('pipeline-twice.json'), JSON.stringify({ stages: [{ name: 'a', train: F('recipe.json') }, { name: 'a', train: F('recipe.json') }] }));
writeFileSync(F('pipeline-ok.json'), JSON.stringify({ stages: [{ name: 'a', train: F('recipe.json') }] }));

// model folders: a good one and damaged copies
const MODEL = 'test/fixtures/lm-cocktail/models/a';
const M = F('model');
cpSync(MODEL, M, { recursive: true });
const damagedModel = (name: string, damage: (dir: string) => void): string => {
  const dir = F(name);
  cpSync(MODEL, dir, { recursive: true });
  damage(dir);
  return dir;
};
const editJson = (path: string, edit: (v: Record<string, unknown>) => void) => {
  const v = JSON.parse(readFileSync(path, 'utf8'));
  edit(v);
  writeFileSync(path, JSON.stringify(v));
};
const mConfigBroken = damagedModel('m-config-broken', (d) => writeFileSync(join(d, 'config.json'), '{"hidden_size": 32,'));
const mHeads = damagedModel('m-heads', (d) => editJson(join(d, 'config.json'), (c) => (c.num_attention_heads = 3)));
const mSeqLen = damagedModel('m-seqlen', (d) => editJson(join(d, 'sentence_bert_config.json'), (c) => (c.max_seq_length = 'long')));
const mCutWeights = damagedModel('m-cut-weights', (d) => writeFileSync(join(d, 'model.safetensors'), readFileSync(join(d, 'model.safetensors')).subarray(0, 300)));
const mTokenizer = damagedModel('m-tokenizer', (d) => writeFileSync(join(d, 'tokenizer.json'), '{"model": {"type": "WordPiece", "vocab": '));
const mNoWeights = damagedModel('m-no-weights', (d) => rmSync(join(d, 'model.safetensors')));
const mNaN = damagedModel('m-nan', (d) => {
  // every float32 of the first tensor's data set to NaN (0x7fc00000, little-endian)
  const bytes = Buffer.from(readFileSync(join(d, 'model.safetensors')));
  const headerLen = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLen).toString('utf8'));
  const [name] = Object.keys(header).filter((k) => k !== '__metadata__');
  const [b, e] = header[name].data_offsets as [number, number];
  for (let o = 8 + headerLen + b; o < 8 + headerLen + e; o += 4) bytes.writeUInt32LE(0x7fc00000, o);
  writeFileSync(join(d, 'model.safetensors'), bytes);
});
const mUnreadable = damagedModel('m-unreadable', (d) => chmodSync(join(d, 'model.safetensors'), 0o000));
const mOther = damagedModel('m-other-arch', (d) => {
  editJson(join(d, 'config.json'), (c) => (c.num_hidden_layers = 1));
});

/** The tree below `dir`: relative path → kind, size and content hash (links as their target). */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(p);
      if (st.isSymbolicLink()) out[r] = `link → ${readlinkSync(p)}`;
      else if (st.isDirectory()) {
        out[r] = `dir ${(st.mode & 0o777).toString(8)}`;
        if (st.mode & 0o500) walk(p, r);
      } else {
        let hash = 'unreadable';
        try {
          hash = createHash('sha1').update(readFileSync(p)).digest('hex');
        } catch {
          /* a chmod 000 file as non-root */
        }
        out[r] = `file ${st.size} ${hash}`;
      }
    }
  };
  walk(dir, '');
  return out;
}

interface Case {
  args: (dir: string) => string[];
  /** Each must match the one error line: the file's name, and the field or line where there is one. */
  want: RegExp[];
  /** Prepare the case's own folder (an existing output, a read-only folder, a symlink to /dev/full). */
  setup?: (dir: string) => void;
  /** Run as uid 65534 when the suite runs as root (permission bits do not stop root). */
  unprivileged?: boolean;
  /** Run under bash with this prefix, e.g. `ulimit -f 16` (a file-size limit: writes fail with EFBIG). */
  shell?: string;
  /** The command may print progress lines on stderr before its error line (it failed after starting work). */
  preamble?: boolean;
  /** Paths (relative to the case folder) a failed command may leave: a run folder's metrics of steps done before a crash is the resumable state `train --resume` continues from. */
  mayLeave?: RegExp;
}

const c = (args: (dir: string) => string[], want: RegExp | RegExp[], more: Omit<Case, 'args' | 'want'> = {}): Case => ({ args, want: Array.isArray(want) ? want : [want], ...more });
const inDir = (name: string) => (d: string) => join(d, name);
const o = inDir('out.arrow');
const run = inDir('run');
const existingRun = (d: string) => {
  // a finished run folder whose contents must survive a failed command unchanged
  mkdirSync(join(d, 'run', 'final'), { recursive: true });
  writeFileSync(join(d, 'run', 'final', 'config.json'), '{"keep": true}\n');
  writeFileSync(join(d, 'run', 'metrics.jsonl'), '{"step":1,"loss":1}\n');
};
const readOnly = (d: string) => {
  mkdirSync(join(d, 'ro'));
  chmodSync(d, 0o777);
  chmodSync(join(d, 'ro'), 0o555);
};
const fileAt = (d: string) => writeFileSync(join(d, 'file'), 'a regular file\n');
const devFullMetrics = (d: string) => {
  mkdirSync(join(d, 'run'));
  symlinkSync('/dev/full', join(d, 'run', 'metrics.jsonl'));
};
const openTo = (d: string) => chmodSync(d, 0o777);
const FSIZE = 'ulimit -f 8'; // 8 KiB: the tiny fixtures' outputs are larger

const cases: Case[] = [
  // ---- prepare ----
  c((d) => ['prepare', '-i', F('bad.jsonl'), '-o', o(d)], /bad\.jsonl: line 1: invalid JSON/),
  c((d) => ['prepare', '-i', F('line3.jsonl'), '-o', o(d)], /line3\.jsonl: line 3: invalid JSON/),
  c((d) => ['prepare', '-i', F('empty.jsonl'), '-o', o(d)], /empty\.jsonl: empty dataset/),
  c((d) => ['prepare', '-i', F('nope.jsonl'), '-o', o(d)], /nope\.jsonl: input file not found/),
  c((d) => ['prepare', '-i', F('latin1.jsonl'), '-o', o(d)], /latin1\.jsonl: line 1: invalid UTF-8 \(byte 0xe9\)/),
  c((d) => ['prepare', '-i', F('array-line.jsonl'), '-o', o(d)], /array-line\.jsonl: line 1: expected a JSON object/),
  c((d) => ['prepare', '-i', F('nested.jsonl'), '-o', o(d)], /nested\.jsonl: anchor: line 1: nested value/),
  c((d) => ['prepare', '-i', F('no-positive.jsonl'), '-o', o(d)], [/no-positive\.jsonl/, /positive/]),
  c((d) => ['prepare', '-i', F('ok.jsonl'), '-o', o(d), '--anchor', 'question'], [/ok\.jsonl: question: no such column for the anchor/]),
  c((d) => ['prepare', '-i', F('unclosed.csv'), '-o', o(d)], /unclosed\.csv: line 2: quoted field is never closed/),
  c((d) => ['prepare', '-i', F('after-quote.csv'), '-o', o(d)], /after-quote\.csv: line 2: unexpected "x" after the closing quote/),
  c((d) => ['prepare', '-i', F('ragged.csv'), '-o', o(d)], /ragged\.csv: line 3: 3 fields but the header has 2/),
  c((d) => ['prepare', '-i', F('labelled-bad.csv'), '-o', o(d), '--kind', 'labelled'], /labelled-bad\.csv: score: line 3: score "high" is not a number/),
  c((d) => ['prepare', '-i', F('data.txt'), '-o', o(d)], /data\.txt: cannot tell the format from the extension/),
  c((d) => ['prepare', '-i', F('ok.jsonl'), '-o', o(d), '--kind', 'triples'], /--kind|kind, Given: "triples", Choices: "pairs", "labelled"/),
  c((d) => ['prepare', '-i', F('ok.jsonl'), '-o', o(d), '--batch-rows', '0'], /out\.arrow: batchRows: must be a positive integer, got 0/),
  c(() => ['prepare', '-i', F('ok.jsonl'), '-o', F('ok.jsonl')], /ok\.jsonl: output would overwrite the input/),
  c(() => ['prepare', '-i', F('dir.jsonl'), '-o', join(root, 'never.arrow')], /dir\.jsonl: input is not a regular file/),
  c((d) => ['prepare', '-i', F('ok.jsonl'), '-o', d], /output is a directory/),
  c(() => ['prepare', '-i', F('ok.jsonl'), '-o', '/proc/o.arrow'], /\/proc\/o\.arrow: cannot write/),
  c((d) => ['prepare', '-i', F('ok.jsonl'), '-o', join(d, 'file', 'out.arrow')], /file: is a file, not a folder/, { setup: fileAt }),
  c((d) => ['prepare', '-i', F('unreadable.jsonl'), '-o', o(d)], /unreadable\.jsonl: cannot read: permission denied \(EACCES\)/, { unprivileged: true, setup: openTo }),
  c((d) => ['prepare', '-i', F('ok.jsonl'), '-o', join(d, 'ro', 'out.arrow')], /ro\/out\.arrow: cannot write: permission denied \(EACCES\)/, { unprivileged: true, setup: readOnly }),
  c((d) => ['prepare', '-i', F('big.jsonl'), '-o', o(d)], /out\.arrow: cannot write: file too large .*\(EFBIG\)/, { shell: FSIZE }),

  // ---- train ----
  c(() => ['train', '--config', F('broken.json')], /broken\.json: not valid JSON/),
  c(() => ['train', '--config', F('array.json')], /array\.json: a config must be a JSON object/),
  c(() => ['train', '--config', F('nope.json')], /nope\.json: cannot read config/),
  c((d) => ['train', '--config', F('recipe-unreadable.json'), '--output', run(d)], /recipe-unreadable\.json: cannot read config \(EACCES\)/, { unprivileged: true, setup: openTo }),
  c((d) => ['train', '--config', F('recipe-lr.json'), '--output', run(d)], [/recipe-lr\.json/, /train\.lr/]),
  c((d) => ['train', '--config', F('recipe-batch.json'), '--output', run(d)], [/recipe-batch\.json/, /train\.batchSize/]),
  c((d) => ['train', '--config', F('recipe-loss.json'), '--output', run(d)], [/recipe-loss\.json/, /loss\.name/, /hinge/]),
  c((d) => ['train', '--config', F('recipe-heads.json'), '--output', run(d)], [/recipe-heads\.json/, /model\.numHeads/]),
  c((d) => ['train', '--config', F('recipe-unknown-key.json'), '--output', run(d)], [/recipe-unknown-key\.json/, /trian/]),
  c((d) => ['train', '--config', F('recipe-missing-data.json'), '--output', run(d)], /nope\.arrow: Arrow file not found/),
  c((d) => ['train', '--config', F('recipe-damaged-data.json'), '--output', run(d)], /truncated\.arrow: not a readable Arrow IPC file/),
  c((d) => ['train', '--config', F('recipe-eval-missing.json'), '--output', run(d)], /nope-eval\.arrow/),
  c((d) => ['train', '--config', F('recipe-tokenizer.json'), '--output', run(d)], /broken\.json/),
  c((d) => ['train', '--config', F('recipe-maxlen.json'), '--output', run(d)], [/recipe-maxlen\.json/, /data\.maxLength: 4096 exceeds/]),
  c((d) => ['train', '--config', F('recipe.json'), '--output', run(d), '--max-steps', '0'], /--max-steps: must be a whole number ≥ 1, got 0/),
  c((d) => ['train', '--config', F('recipe.json'), '--output', run(d), '--stop-after', 'x'], /--stop-after: must be a whole number ≥ 1, got not a number/),
  c((d) => ['train', '--config', F('recipe.json'), '--output', run(d), '--resume'], /run: nothing to resume: the folder does not exist/),
  c((d) => ['train', '--config', F('recipe.json'), '--output', run(d), '--backend', 'cpu'], /run: already holds a training run; pass --resume/, { setup: existingRun, preamble: true }),
  c(() => ['train', '--config', F('recipe.json'), '--output', '/proc/run', '--backend', 'cpu'], /\/proc\/run: cannot create folder/, { preamble: true }),
  c((d) => ['train', '--config', F('recipe.json'), '--output', join(d, 'file', 'run'), '--backend', 'cpu'], /file\/run: cannot use this folder: a part of the path is a file/, { setup: fileAt, preamble: true }),
  c((d) => ['train', '--config', F('recipe.json'), '--output', join(d, 'ro', 'run'), '--backend', 'cpu'], /ro\/run: cannot create folder: permission denied/, { unprivileged: true, setup: readOnly, preamble: true }),
  c((d) => ['train', '--config', F('recipe.json'), '--output', run(d), '--backend', 'cpu'], /metrics\.jsonl: cannot write: no space left on the device \(ENOSPC\)/, { setup: devFullMetrics, preamble: true }),
  c((d) => ['train', '--config', F('recipe.json'), '--output', run(d), '--backend', 'cpu'], /run\/checkpoint-1\/model\.safetensors: cannot write safetensors file: file too large .*\(EFBIG\)/, { shell: FSIZE, preamble: true, mayLeave: /^run(\/metrics\.jsonl)?$/ }),

  // ---- eval ----
  c(() => ['eval', '--model', M, '--data', F('truncated.arrow')], /truncated\.arrow: not a readable Arrow IPC file/),
  c(() => ['eval', '--model', M, '--data', F('cut.arrow')], /cut\.arrow/),
  c(() => ['eval', '--model', M, '--data', F('bad-utf8.arrow')], /bad-utf8\.arrow: record batch 0: column "positive": the text is not valid UTF-8/),
  c(() => ['eval', '--model', M, '--data', F('nope.arrow')], /nope\.arrow/),
  c(() => ['eval', '--model', M, '--data', F('unreadable.arrow')], /unreadable\.arrow: cannot open Arrow file \(EACCES\)/, { unprivileged: true }),
  c(() => ['eval', '--model', M, '--data', F('sts-nan.csv'), '--backend', 'cpu'], /sts-nan\.csv.*line 2.*NaN|sts-nan\.csv: score: line 2/),
  c(() => ['eval', '--model', join(root, 'no-model'), '--data', F('ok.arrow')], /no-model: model folder not found/),
  c(() => ['eval', '--model', mConfigBroken, '--data', F('ok.arrow')], /m-config-broken\/config\.json: not valid JSON|m-config-broken\/config\.json/),
  c(() => ['eval', '--model', mHeads, '--data', F('ok.arrow')], [/m-heads\/config\.json/, /num_attention_heads/]),
  c(() => ['eval', '--model', mSeqLen, '--data', F('ok.arrow')], [/m-seqlen\/sentence_bert_config\.json/, /max_seq_length/]),
  c(() => ['eval', '--model', mCutWeights, '--data', F('ok.arrow')], /m-cut-weights\/model\.safetensors/),
  c(() => ['eval', '--model', mNoWeights, '--data', F('ok.arrow')], /m-no-weights.*model\.safetensors/),
  c(() => ['eval', '--model', mNaN, '--data', F('ok.arrow'), '--backend', 'cpu'], [/m-nan\/model\.safetensors/, /NaN|non-finite/]),
  c(() => ['eval', '--model', mTokenizer, '--data', F('ok.arrow')], /m-tokenizer\/tokenizer\.json/),
  c(() => ['eval', '--model', mUnreadable, '--data', F('ok.arrow')], /m-unreadable\/model\.safetensors.*(EACCES|permission denied)/, { unprivileged: true }),
  c(() => ['eval', '--model', M, '--data', F('ok.arrow'), '--batch-size', '0'], /--batch-size: must be a whole number ≥ 1, got 0/),
  c(() => ['eval', '--model', M, '--data', F('ok.arrow'), '--max-length', '100000'], /--max-length: 100000 exceeds/),

  // ---- encode ----
  c((d) => ['encode', '--model', M, '--input', F('nope.jsonl'), '-o', o(d)], /nope\.jsonl: file not found/),
  c((d) => ['encode', '--model', M, '--input', F('truncated.arrow'), '-o', o(d)], /truncated\.arrow: not a readable Arrow IPC file/),
  c((d) => ['encode', '--model', M, '--input', F('bad-utf8.arrow'), '-o', o(d), '--column', 'positive', '--engine', 'tfjs', '--backend', 'cpu'], /bad-utf8\.arrow: record batch 0/, { preamble: true }),
  c((d) => ['encode', '--model', M, '--input', F('latin1.jsonl'), '-o', o(d), '--engine', 'tfjs', '--backend', 'cpu'], /latin1\.jsonl: line 1: invalid UTF-8/, { preamble: true }),
  c((d) => ['encode', '--model', M, '--input', F('ok.jsonl'), '-o', o(d), '--column', 'title'], [/ok\.jsonl/, /title/]),
  c((d) => ['encode', '--model', M, '--input', F('ok.jsonl'), '-o', o(d), '--batch-size', '0'], /--batch-size: must be a positive integer, got 0/),
  c((d) => ['encode', '--model', mConfigBroken, '--input', F('ok.jsonl'), '-o', o(d), '--engine', 'tfjs'], /m-config-broken\/config\.json/),
  c((d) => ['encode', '--model', M, '--input', F('unreadable.jsonl'), '-o', o(d), '--engine', 'tfjs', '--backend', 'cpu'], /unreadable\.jsonl: (cannot read|cannot open).*(EACCES|permission denied)/, { unprivileged: true, setup: openTo, preamble: true }),
  c(() => ['encode', '--model', M, '--input', F('ok.jsonl'), '-o', '/proc/e.arrow', '--engine', 'tfjs', '--backend', 'cpu'], /\/proc\/e\.arrow: cannot write output/, { preamble: true }),
  c((d) => ['encode', '--model', M, '--input', F('ok.jsonl'), '-o', join(d, 'file', 'e.arrow'), '--engine', 'tfjs', '--backend', 'cpu'], /file\/e\.arrow: cannot write output \(.*file: is a file, not a folder\)/, { setup: fileAt, preamble: true }),
  c((d) => ['encode', '--model', M, '--input', F('ok.jsonl'), '-o', join(d, 'ro', 'e.arrow'), '--engine', 'tfjs', '--backend', 'cpu'], /ro\/e\.arrow: cannot write output \(permission denied \(EACCES\)\)/, { unprivileged: true, setup: readOnly, preamble: true }),
  c((d) => ['encode', '--model', M, '--input', F('big.jsonl'), '-o', o(d), '--engine', 'tfjs', '--backend', 'cpu'], /out\.arrow: cannot write output \(file too large .*\(EFBIG\)\)/, { shell: FSIZE, preamble: true }),

  // ---- export ----
  c((d) => ['export', '--model', fx, '--output', join(d, 'e'), '--no-verify'], /fx\/config\.json: file not found/),
  c((d) => ['export', '--model', M, '--output', join(d, 'e'), '--opset', '99'], /--opset: unsupported ONNX opset 99; valid: 14–17/),
  c((d) => ['export', '--model', mHeads, '--output', join(d, 'e'), '--no-verify'], [/m-heads\/config\.json/, /num_attention_heads/]),
  c((d) => ['export', '--model', mCutWeights, '--output', join(d, 'e'), '--no-verify'], /m-cut-weights\/model\.safetensors/),
  c((d) => ['export', '--model', M, '--output', join(d, 'e'), '--sample', F('bad.jsonl')], /bad\.jsonl: line 1: .*JSON/),
  c((d) => ['export', '--model', M, '--output', join(d, 'e'), '--task', 'search'], /--task/),
  c(() => ['export', '--model', M, '--output', '/proc/x/y', '--no-verify'], /\/proc\/x: cannot create folder/),
  c((d) => ['export', '--model', M, '--output', join(d, 'file', 'e'), '--no-verify'], /file: is a file, not a folder/, { setup: fileAt }),
  c((d) => ['export', '--model', M, '--output', join(d, 'ro', 'e'), '--no-verify'], /ro\/e: cannot create folder: permission denied|ro: cannot write here: permission denied/, { unprivileged: true, setup: readOnly }),
  c((d) => ['export', '--model', M, '--output', join(d, 'e'), '--no-verify'], /e\/onnx\/model\.onnx: cannot write: file too large .*\(EFBIG\)/, { shell: FSIZE }),

  // ---- merge ----
  c((d) => ['merge', '--models', M, fx, '-o', join(d, 'm')], /fx\/config\.json: file not found/),
  c((d) => ['merge', '--models', M, M, '--weights', '1', '-o', join(d, 'm')], /--weights: 1 weights for 2 models/),
  c((d) => ['merge', '--models', M, M, '--weights', '0.9,0.9', '-o', join(d, 'm')], /--weights/),
  c((d) => ['merge', '--models', M, mOther, '-o', join(d, 'm')], [/m-other-arch/, /numLayers: is 1/]),
  c((d) => ['merge', '--models', M, mNaN, '-o', join(d, 'm')], [/m-nan\/model\.safetensors/, /NaN|non-finite/]),
  c((d) => ['merge', '--models', M, M, '--example-data', F('bad.jsonl'), '-o', join(d, 'm')], /bad\.jsonl: line 1: invalid JSON/),
  c((d) => ['merge', '--models', M, M, '--example-data', F('ok.jsonl'), '-o', join(d, 'm')], /ok\.jsonl: line 1: query: must be a non-empty string/),
  c((d) => ['merge', '--models', M, M, '-o', join(d, 'm')], /m: already exists and is not empty; pass --overwrite/, { setup: (d) => (mkdirSync(join(d, 'm')), writeFileSync(join(d, 'm', 'notes.txt'), 'mine\n')) }),
  c(() => ['merge', '--models', M, M, '-o', '/proc/merged'], /\/proc: cannot write here/),
  c((d) => ['merge', '--models', M, M, '-o', join(d, 'ro', 'm')], /ro: cannot write here: permission denied/, { unprivileged: true, setup: readOnly }),
  c((d) => ['merge', '--models', M, M, '-o', join(d, 'm')], /m\/model\.safetensors: cannot write safetensors file: file too large .*\(EFBIG\)/, { shell: FSIZE }),

  // ---- pipeline ----
  c((d) => ['pipeline', '--config', F('pipeline-missing.json'), '--output', join(d, 'p')], /missing-recipe\.json: cannot read recipe \(ENOENT\)/),
  c(() => ['pipeline', '--config', F('broken.json')], /broken\.json: not valid JSON/),
  c((d) => ['pipeline', '--config', F('pipeline-empty.json'), '--output', join(d, 'p')], [/pipeline-empty\.json/, /stages/]),
  c((d) => ['pipeline', '--config', F('pipeline-from.json'), '--output', join(d, 'p')], [/pipeline-from\.json/, /from/, /nowhere/]),
  c((d) => ['pipeline', '--config', F('pipeline-twice.json'), '--output', join(d, 'p')], [/pipeline-twice\.json/, /"a"|name/]),
  c(() => ['pipeline', '--config', F('pipeline-ok.json'), '--output', '/proc/p', '--backend', 'cpu'], /\/proc\/p: cannot create folder/, { preamble: true }),
  c((d) => ['pipeline', '--config', F('pipeline-ok.json'), '--output', join(d, 'ro', 'p'), '--backend', 'cpu'], /ro\/p: cannot create folder: permission denied/, { unprivileged: true, setup: readOnly, preamble: true }),

  // ---- bench ----
  c(() => ['bench', '--hidden', '0'], /--hidden: must be a whole number ≥ 1, got 0/),
  c(() => ['bench', '--hidden', '10', '--heads', '4'], /--heads: 4 does not divide --hidden 10/),
  c(() => ['bench', '--merge', '-1'], /--merge: must be a whole number ≥ 0, got -1/),
  c(() => ['bench', '--seq', 'abc'], /--seq: must be a whole number ≥ 1, got not a number/),
  c(() => ['bench', '--steps', '0'], /--steps/),
  c(() => ['bench', '--seq', '2000', '--max-positions', '64'], /--seq/),
];

/** Spawn the CLI (under bash for `shell`, as uid 65534 for `unprivileged` when root) with a deadline. */
function runCli(k: Case, dir: string): Promise<{ status: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const args = k.args(dir);
  const env = { ...process.env, CONTRASTIVE_DEBUG: '', ...(k.unprivileged && isRoot ? { HOME: home } : {}) };
  const [cmd, argv] = k.shell ? ['bash', ['-c', `${k.shell}; exec "$0" "$@"`, process.execPath, BIN, ...args]] : [process.execPath, [BIN, ...args]];
  const ids = k.unprivileged && isRoot ? { uid: NOBODY, gid: NOBODY } : {};
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { env, stdio: ['ignore', 'ignore', 'pipe'], ...ids });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stderr });
    });
  });
}

const fixturesBefore = snapshot(fx);

describe(`${cases.length} bad inputs over every command`, { concurrency: 4 }, () => {
  cases.forEach((k, i) => {
    const dir = join(root, `case-${String(i).padStart(3, '0')}`);
    const label = k.args(dir).join(' ').replaceAll(dir, '<case>').replaceAll(fx, '<fx>').replaceAll(root, '<tmp>');
    it(`${String(i).padStart(3, '0')} contrastive ${label}${k.shell ? ` (${k.shell})` : ''}${k.unprivileged ? ' (unprivileged)' : ''}`, { skip: k.unprivileged ? noUnprivileged : false }, async () => {
      mkdirSync(dir);
      k.setup?.(dir);
      const before = snapshot(dir);
      const r = await runCli(k, dir);
      assert.equal(r.status, 2, `exit ${r.status} (signal ${r.signal}):\n${r.stderr}`);
      const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
      const errors = lines.filter((l) => l.startsWith('contrastive:'));
      assert.equal(errors.length, 1, r.stderr);
      assert.equal(lines.at(-1), errors[0], 'the error is the last line');
      // besides the error, only the `backend: <name> — <why>` line (said before any work) and, for a failure after work began, progress lines
      const info = lines.filter((l) => l !== errors[0] && !/^backend: \S+/.test(l));
      if (!k.preamble) assert.deepEqual(info, [], `one line on stderr (and the backend line):\n${r.stderr}`);
      assert.doesNotMatch(r.stderr, /\n\s+at |internal error/);
      for (const p of k.want) assert.match(errors[0], p);
      const now = snapshot(dir);
      if (k.mayLeave) for (const p of Object.keys(now)) if (!(p in before) && k.mayLeave.test(p)) delete now[p];
      assert.deepEqual(now, before, 'the case folder changed: an output or a temp sibling was left behind');
    });
  });
});

it('no case changed the shared fixtures', () => {
  assert.deepEqual(snapshot(fx), fixturesBefore);
  assert.ok(!existsSync(join(root, 'never.arrow')));
});

