/**
 * ONNX export against the TensorFlow.js encoder (cpu backend) and against PyTorch (the bert-tiny
 * golden fixture): both outputs on a padded batch of mixed lengths, the declared interface
 * (opset, names, int64 inputs, dynamic axes), the int8 model's agreement, and the user errors.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, readdir, rm, mkdtemp, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportOnnx, paramData } from '../../src/export/export.js';
import { loadFolder } from '../helpers/folder.js';
import { buildBertOnnx, MASK_MIN, type ParamData } from '../../src/export/bert-graph.js';
import type { ModelConfig } from '../../src/model/config.js';
import { decodeModel, encodeModel, ioSignature, DT } from '../../src/export/onnx-graph.js';
import { runBatch, tfjsOutputs, maxAbsDiff } from '../../src/export/check.js';
import { createSession } from '../../src/onnx/session.js';
import { padRows } from '../../src/data/tokenizer.js';
import { readSampleTexts } from '../../src/export/texts.js';
import { UserError } from '../../src/util/errors.js';
import { useBackend, flat, assertClose } from '../helpers/backend.js';
import { tinyModelFolder, mixedBatch, SAMPLE_TEXTS } from './helpers.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const LENGTHS = [9, 3, 1, 6];

for (const c of [
  { pooling: 'mean', normalize: true, opset: 17 },
  { pooling: 'cls', normalize: false, opset: 14 },
] as const) {
  test(`fp32 ONNX = tfjs forward: ${c.pooling}${c.normalize ? ' + normalize' : ''}, opset ${c.opset}`, async () => {
    await useBackend('cpu');
    const { dir, encoder } = await tinyModelFolder({ ...c, seed: c.opset });
    dirs.push(dir);
    const texts = existsSync(SAMPLE_TEXTS) ? await readSampleTexts(SAMPLE_TEXTS, 32) : undefined;
    const res = await exportOnnx({ model: dir, opset: c.opset, texts, threads: 1 });
    assert.equal(res.path, join(dir, 'onnx', 'model.onnx'));
    assert.equal(res.quantizedPath, join(dir, 'onnx', 'model_quantized.onnx'));
    assert.deepEqual((await readdir(join(dir, 'onnx'))).sort(), ['model.onnx', 'model_quantized.onnx'], 'no temp files left');
    assert.equal(res.pooling, c.pooling);
    assert.equal(res.normalize, c.normalize);

    const session = await createSession(res.path, { threads: 1 });
    const batch = mixedBatch(LENGTHS, encoder.config.vocabSize, 7);
    const got = await runBatch(session, batch);
    const want = tfjsOutputs(encoder, batch);
    const dHidden = maxAbsDiff(got.lastHiddenState, want.lastHiddenState);
    const dEmb = maxAbsDiff(got.sentenceEmbedding, want.sentenceEmbedding);
    console.log(`# ${c.pooling}/${c.normalize}/opset ${c.opset}: max abs diff last_hidden_state ${dHidden.toExponential(2)}, sentence_embedding ${dEmb.toExponential(2)}; int8 cosine mean ${res.cosine?.mean.toFixed(5)} min ${res.cosine?.min.toFixed(5)} (${res.cosine?.count} ${res.cosine?.source}); sizes ${res.bytes} / ${res.quantizedBytes} bytes`);
    assert.ok(dHidden <= 1e-4, `last_hidden_state max abs diff ${dHidden}`);
    assert.ok(dEmb <= 1e-4, `sentence_embedding max abs diff ${dEmb}`);
    // padding does not leak: row 1 (3 tokens) alone gives the same outputs as inside the padded batch
    const H = encoder.config.hiddenSize;
    const S = batch.seqLen;
    const alone = padRows([Array.from(batch.inputIds.subarray(S, S + 3))], 0);
    alone.tokenTypeIds.set(batch.tokenTypeIds.subarray(S, S + 3));
    const solo = await runBatch(session, alone);
    assert.ok(maxAbsDiff(solo.sentenceEmbedding, got.sentenceEmbedding.subarray(H, 2 * H)) <= 1e-5, 'row 1 alone = row 1 in the batch');
    assert.ok(maxAbsDiff(solo.lastHiddenState, got.lastHiddenState.subarray(S * H, S * H + 3 * H)) <= 1e-5, 'tokens of row 1 alone = in the batch');
    if (c.normalize) {
      for (let r = 0; r < LENGTHS.length; r++) {
        const row = got.sentenceEmbedding.subarray(r * H, (r + 1) * H);
        assert.ok(Math.abs(Math.hypot(...row) - 1) < 1e-5, `row ${r} is unit length`);
      }
    }
    await session.release();

    // built-in check agrees, and the int8 model stays close
    assert.ok(res.check && res.check.lastHiddenState <= 1e-4 && res.check.sentenceEmbedding <= 1e-4, JSON.stringify(res.check));
    assert.ok(res.cosine && res.cosine.min >= 0.99 && res.cosine.mean >= 0.995, JSON.stringify(res.cosine));
    assert.equal(res.cosine.source, texts && existsSync('data/tokenizer.json') ? 'text' : 'random-ids');
    assert.ok(res.quantizedBytes! < res.bytes / 2.5, `int8 file ${res.quantizedBytes} vs fp32 ${res.bytes}`);
    encoder.dispose();
  });
}

/** The golden fixture's config and param values, as exportOnnx hands them to the graph builder. */
async function fixtureWeights(): Promise<{ config: ModelConfig; weights: ParamData }> {
  const { encoder, folder } = await loadFolder('test/fixtures/bert-tiny/model', { requireTokenizer: false });
  const weights = paramData(encoder);
  encoder.dispose();
  return { config: folder.config, weights };
}

test('declared interface: opset, int64 inputs, output names and dynamic axes', async () => {
  const { config, weights } = await fixtureWeights();
  const H = config.hiddenSize;
  for (const opset of [14, 15, 16, 17]) {
    for (const quantize of [false, true]) {
      const m = decodeModel(encodeModel(buildBertOnnx({ config, weights, opset, quantize })));
      assert.equal(Number(m.irVersion), 8);
      assert.deepEqual(m.opsetImport.map((o) => [o.domain ?? '', Number(o.version)]), [['', opset]]);
      const io = ioSignature(m);
      const seq = ['batch_size', 'sequence_length'];
      assert.deepEqual(io.inputs, ['input_ids', 'attention_mask', 'token_type_ids'].map((name) => ({ name, elemType: DT.INT64, dims: seq })));
      assert.deepEqual(io.outputs, [
        { name: 'last_hidden_state', elemType: DT.FLOAT, dims: [...seq, H] },
        { name: 'sentence_embedding', elemType: DT.FLOAT, dims: ['batch_size', H] },
      ]);
      const g = m.graph!;
      const nodes = g.node ?? [];
      const inits = g.initializer ?? [];
      const ops = new Set(nodes.map((n) => n.opType));
      assert.equal(ops.has('LayerNormalization'), opset >= 17, `LayerNormalization op only at opset 17 (opset ${opset})`);
      for (const op of ['Erf', 'Range', 'Softmax']) assert.ok(ops.has(op), `${op} present`);
      assert.equal(ops.has('MatMulInteger'), quantize);
      assert.equal(ops.has('DynamicQuantizeLinear'), quantize);
      // every weight MatMul is quantized: float MatMuls left are only the 2 attention products per layer
      const floatMatMuls = nodes.filter((n) => n.opType === 'MatMul').length;
      assert.equal(floatMatMuls, quantize ? 2 * config.numLayers : 8 * config.numLayers);
      const initNames = new Set(inits.map((t) => t.name));
      assert.ok(!initNames.has('pooler.dense.weight'), 'no pooler');
      // every node input is a graph input, an initializer or an earlier node output
      const known = new Set([...io.inputs.map((i) => i.name), ...initNames, '']);
      for (const n of nodes) {
        for (const i of n.input ?? []) assert.ok(known.has(i), `${n.opType} reads undefined ${i}`);
        for (const o of n.output ?? []) known.add(o);
      }
    }
  }
  // the mask constant is finfo(float32).min, as BertModel uses
  const m = buildBertOnnx({ config, weights });
  const scalars = (m.graph?.initializer ?? []).filter((t) => t.dataType === DT.FLOAT && (t.dims ?? []).length === 0);
  const minConst = scalars.find((t) => new DataView(t.rawData!.buffer, t.rawData!.byteOffset, 4).getFloat32(0, true) === Math.fround(MASK_MIN));
  assert.ok(minConst, 'mask constant present');
});

test('fp32 ONNX = PyTorch BertModel on the golden fixture (token types, padding, mean and cls)', async () => {
  const expected = JSON.parse(readFileSync('test/fixtures/bert-tiny/expected.json', 'utf8'));
  const { config, weights } = await fixtureWeights();
  const [B, S] = [expected.input_ids.length, expected.input_ids[0].length];
  const batch = {
    inputIds: Int32Array.from(flat(expected.input_ids)),
    attentionMask: Int32Array.from(flat(expected.attention_mask)),
    tokenTypeIds: Int32Array.from(flat(expected.token_type_ids)),
    batchSize: B,
    seqLen: S,
  };
  for (const pooling of ['mean', 'cls'] as const) {
    for (const opset of [14, 17]) {
      const bytes = encodeModel(buildBertOnnx({ config: { ...config, pooling, normalize: false }, weights, opset }));
      const session = await createSession(bytes, { threads: 1 });
      const out = await runBatch(session, batch);
      assertClose(out.lastHiddenState, flat(expected.last_hidden_state), 2e-5, `last_hidden_state (opset ${opset})`, 1e-4);
      assertClose(out.sentenceEmbedding, flat(expected[`${pooling}_pooled`]), 2e-5, `${pooling} pooled (opset ${opset})`, 1e-4);
      await session.release();
    }
  }
});

test('export into another folder copies the config and tokenizer files next to onnx/', async () => {
  await useBackend('cpu');
  const { dir, encoder } = await tinyModelFolder({ pooling: 'mean', normalize: true, seed: 3 });
  encoder.dispose();
  const out = await mkdtemp(join(tmpdir(), 'contrastive-export-out-'));
  dirs.push(dir, out);
  const res = await exportOnnx({ model: dir, output: join(out, 'web'), quantize: false, verify: false, threads: 1 });
  assert.equal(res.quantizedPath, undefined);
  assert.equal(res.cosine, undefined);
  const files = (await readdir(join(out, 'web'), { recursive: true })).sort();
  for (const f of ['config.json', 'tokenizer.json', 'modules.json', 'sentence_bert_config.json', join('1_Pooling', 'config.json'), '2_Normalize', join('onnx', 'model.onnx')]) {
    assert.ok(files.includes(f), `${f} in ${files}`);
  }
  assert.ok(!files.includes('model.safetensors'));
  assert.equal(await readFile(join(out, 'web', 'config.json'), 'utf8'), await readFile(join(dir, 'config.json'), 'utf8'));
});

test('missing folder, files and bad opset are UserErrors naming the file', async () => {
  const { dir, encoder } = await tinyModelFolder({ pooling: 'mean', normalize: false, seed: 5 });
  encoder.dispose();
  dirs.push(dir);
  const rejects = (p: Promise<unknown>, re: RegExp) => assert.rejects(p, (e: unknown) => e instanceof UserError && re.test(e.message));
  await rejects(exportOnnx({ model: join(dir, 'nope') }), /nope: model folder not found/);
  await rejects(exportOnnx({ model: dir, opset: 13 }), /opset 13; valid: 14–17/);
  await unlink(join(dir, 'model.safetensors'));
  await rejects(exportOnnx({ model: dir }), /model\.safetensors: not found in/);
  await unlink(join(dir, 'config.json'));
  await rejects(exportOnnx({ model: dir }), /config\.json: file not found/);
  assert.ok(!existsSync(join(dir, 'onnx')), 'nothing written');
});

test('XLM-RoBERTa exports with HF position ids (padding_idx + 1 + running count) and matches PyTorch', async () => {
  // Given: a tiny XLMRobertaModel written by PyTorch (test/fixtures/hf-xlmr) and its float64 outputs
  const expected = JSON.parse(readFileSync('test/fixtures/hf-xlmr/expected.json', 'utf8'));
  const out = await mkdtemp(join(tmpdir(), 'xlmr-onnx-'));
  // When: exported (the built-in check compares with the tfjs encoder before writing)
  const result = await exportOnnx({ model: 'test/fixtures/hf-xlmr/model', output: out, quantize: false });
  assert.ok(result.check && result.check.lastHiddenState < 1e-4, JSON.stringify(result.check));
  // Then: onnxruntime on the padded batch gives PyTorch's last_hidden_state
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(result.path);
  const ids: number[][] = expected.input_ids;
  const [B, S] = [ids.length, ids[0].length];
  const int64 = (rows: number[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [B, S]);
  const feeds: Record<string, unknown> = { input_ids: int64(ids), attention_mask: int64(expected.attention_mask) };
  if (session.inputNames.includes('token_type_ids')) feeds.token_type_ids = int64(ids.map((r) => r.map(() => 0)));
  const outputs = await session.run(feeds as never);
  assertClose(outputs.last_hidden_state.data as Float32Array, flat(expected.last_hidden_state), 2e-5, 'xlm-r last_hidden_state', 1e-4);
  await rm(out, { recursive: true, force: true });
});
