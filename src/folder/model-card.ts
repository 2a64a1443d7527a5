/**
 * README.md model card for a saved folder: what the model is, how it was trained (base model, data,
 * loss, hyperparameters, eval figures, time) and how to load it — sentence-transformers in Python,
 * transformers.js in JS (which never reads 1_Pooling/, so the card states the pooling to pass).
 * Plain data in, Markdown out (with the Hub's YAML front matter).
 */
import { readFileSync } from 'node:fs';
import type { ModelConfig } from '../model/config.js';
import { maxSequenceLength } from '../model/config.js';

export interface CardDataset {
  /** Display name, e.g. "scientific title→abstract pairs". */
  name: string;
  /** The file trained on (as given to the trainer). */
  path?: string;
  rows?: number;
  /** Loss used on this dataset, e.g. "InfoNCE (scale 20)". */
  loss?: string;
}

/** What the trainer knows about a run; every field optional (a folder saved without it still gets a card). */
export interface ModelCardInfo {
  /** Title of the card (default: "contrastive sentence encoder"). */
  name?: string;
  /** Hub id or path of the model fine-tuned from; absent = trained from scratch. */
  baseModel?: string;
  /** ISO codes, e.g. ["en", "ru"]. */
  language?: string[];
  license?: string;
  datasets?: CardDataset[];
  /** The loss section of the recipe, as written. */
  loss?: Record<string, unknown>;
  /** Optimizer / schedule / batch settings, shown as a table. */
  hyperparameters?: Record<string, unknown>;
  /** Final evaluation figures, e.g. { "recall@1": 0.81, "ndcg@10": 0.88 }. */
  evalMetrics?: Record<string, number>;
  /** The file the metrics were measured on. */
  evalDataset?: string;
  trainingSeconds?: number;
  /** Optimizer updates done. */
  steps?: number;
  /** e.g. "tfjs-node-gpu (CUDA)". */
  backend?: string;
  /** A model made by merging others (LM-Cocktail): how the weights were chosen and each source. */
  merge?: { method: string; models: Array<{ path: string; weight: number; loss?: number }> };
}

export interface CardModel {
  config: ModelConfig;
  maxLength: number;
  numParams: number;
  prompts: Record<string, string>;
  /** Tokenizer class written to tokenizer_config.json. */
  tokenizerClass: string;
  doLowerCase: boolean;
}

/** The toolkit's package.json version (the card and config_sentence_transformers.json record it): the nearest package.json named contrastive above this module. */
export function toolkitVersion(): string {
  let dir = new URL('.', import.meta.url);
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'contrastive' && pkg.version) return pkg.version;
    } catch {
      // no package.json here: look one folder up (src/model, dist/src/model, ...)
    }
    dir = new URL('..', dir);
  }
  return 'unknown';
}

function cell(v: unknown): string {
  const s = typeof v === 'number' ? fmtNumber(v) : typeof v === 'string' ? v : JSON.stringify(v);
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function fmtNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  const r = Number(v.toPrecision(4));
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? r.toExponential() : String(r);
}

function table(rows: Array<[string, unknown]>, head: [string, string]): string {
  return [`| ${head[0]} | ${head[1]} |`, '|---|---|', ...rows.map(([k, v]) => `| ${cell(k)} | ${cell(v)} |`)].join('\n');
}

function duration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.round(seconds % 60);
  return h ? `${h} h ${m} min` : m ? `${m} min ${s} s` : `${(Math.round(seconds * 10) / 10).toString()} s`;
}

function yamlString(s: string): string {
  return JSON.stringify(s); // a JSON string is a valid YAML double-quoted scalar
}

/** The Markdown model card (README.md). `repoId` is how the Python/JS snippets name the model. */
export function modelCard(model: CardModel, card: ModelCardInfo = {}, repoId = 'path/to/this-folder'): string {
  const c = model.config;
  const arch = c.moe
    ? `MoEBertModel (SciMult task experts: ${c.moe.experts} in layers ${c.moe.layers.join(', ')}, parts ${c.moe.parts.join(' + ')}; tasks ${Object.entries(c.moe.tasks).map(([t, e]) => `${t} → ${e}`).join(', ')})`
    : c.modelType === 'xlm-roberta' ? 'XLMRobertaModel' : c.modelType === 'deberta' ? 'DebertaModel (relative_attention false)' : 'BertModel';
  const tjsPooling = c.pooling === 'cls' ? 'cls' : 'mean';
  const promptNames = Object.keys(model.prompts);
  const front = [
    '---',
    'library_name: sentence-transformers',
    'pipeline_tag: sentence-similarity',
    'tags:',
    ...['sentence-transformers', 'sentence-similarity', 'feature-extraction', 'transformers.js', 'contrastive'].map((t) => `- ${t}`),
    ...(card.baseModel ? [`base_model: ${yamlString(card.baseModel)}`] : []),
    ...(card.language?.length ? ['language:', ...card.language.map((l) => `- ${yamlString(l)}`)] : []),
    ...(card.license ? [`license: ${yamlString(card.license)}`] : []),
    '---',
  ];
  const out: string[] = [front.join('\n'), ''];
  out.push(`# ${card.name ?? 'contrastive sentence encoder'}`, '');
  out.push(
    `A [sentence-transformers](https://www.sbert.net) model trained with \`contrastive\` on TensorFlow.js` +
      `${card.baseModel ? `, fine-tuned from \`${card.baseModel}\`` : ', from scratch'}. ` +
      `It maps text to a ${c.hiddenSize}-dimensional vector for semantic search, clustering and similarity (cosine).`,
    '',
  );
  if (c.moe) {
    out.push(
      `This folder holds every task expert, which transformers' BertModel cannot load: run it with \`contrastive encode|eval --task <task>\`, ` +
        'or write one task as a plain BERT folder with `contrastive export --task <task> --output <dir>`; the snippets below apply to that folder.',
      '',
    );
  }

  out.push('## Model details', '');
  out.push(table([
    ['Architecture', `${arch} (${c.numLayers} layers, hidden ${c.hiddenSize}, ${c.numHeads} heads, FFN ${c.intermediateSize})`],
    ['Parameters', model.numParams],
    ['Max sequence length', `${model.maxLength} tokens (special tokens included; longer texts are truncated)`],
    ['Position embeddings', `${c.maxPositions}${c.modelType === 'xlm-roberta' ? ` (${maxSequenceLength(c)} usable: XLM-R offsets positions by pad_token_id + 1)` : ''}`],
    ['Output dimension', c.hiddenSize],
    ['Pooling', c.pooling === 'mean' ? 'mean of the token embeddings (attention mask applied)' : 'CLS token (first token)'],
    ['Normalization', c.normalize ? 'L2 (unit vectors: dot product = cosine)' : 'none'],
    ['Similarity', 'cosine'],
    ['Tokenizer', `${model.tokenizerClass} (tokenizer.json)${model.doLowerCase ? ', lowercasing' : ''}`],
    ['Prompts', promptNames.length ? promptNames.map((n) => `${n}: ${JSON.stringify(model.prompts[n])}`).join('; ') : 'none'],
  ], ['', '']));
  out.push('');
  out.push('Full sentence-transformers architecture:', '', '```');
  out.push('SentenceTransformer(');
  out.push(`  (0): Transformer({'max_seq_length': ${model.maxLength}, 'do_lower_case': False}) with Transformer model: ${arch}`);
  out.push(`  (1): Pooling({'word_embedding_dimension': ${c.hiddenSize}, 'pooling_mode_cls_token': ${c.pooling === 'cls' ? 'True' : 'False'}, 'pooling_mode_mean_tokens': ${c.pooling === 'mean' ? 'True' : 'False'}, 'include_prompt': True})`);
  if (c.normalize) out.push('  (2): Normalize()');
  out.push(')', '```', '');

  out.push('## Usage', '');
  out.push('### Python (sentence-transformers)', '', '```python', 'from sentence_transformers import SentenceTransformer', '', `model = SentenceTransformer(${JSON.stringify(repoId)})`);
  if (promptNames.length) {
    const q = promptNames.includes('query') ? 'query' : promptNames[0];
    out.push(`# trained with prompts: pass prompt_name so the prefix is added as in training`);
    out.push(`queries = model.encode(["what is contrastive learning?"], prompt_name=${JSON.stringify(q)})`);
    const d = promptNames.find((n) => n !== q);
    out.push(`docs = model.encode(["Contrastive learning pulls matching pairs together."]${d ? `, prompt_name=${JSON.stringify(d)}` : ''})`);
    out.push('print(model.similarity(queries, docs))');
  } else {
    out.push('embeddings = model.encode(["The first sentence.", "Another sentence."])', 'print(model.similarity(embeddings, embeddings))');
  }
  out.push('```', '');
  out.push(
    'With plain `transformers`, run `AutoModel` and apply the pooling stated above yourself' +
      (c.normalize ? ', then L2-normalize.' : '.'),
    '',
  );
  out.push('### JavaScript (transformers.js)', '');
  out.push(
    `transformers.js does **not** read \`1_Pooling/\`: pass the pooling and normalization this model was trained with, ` +
      `\`{ pooling: '${tjsPooling}', normalize: ${c.normalize} }\`. It needs \`onnx/model.onnx\` (write it with \`contrastive export\`).`,
    '',
  );
  out.push('```js', "import { pipeline } from '@huggingface/transformers';", '', `const extractor = await pipeline('feature-extraction', ${JSON.stringify(repoId)});`);
  const prefix = promptNames.length ? model.prompts[promptNames.includes('query') ? 'query' : promptNames[0]] : '';
  out.push(`const output = await extractor([${JSON.stringify(prefix + 'The first sentence.')}], { pooling: '${tjsPooling}', normalize: ${c.normalize} });`);
  out.push('console.log(output.tolist());', '```', '');
  if (promptNames.length) out.push('transformers.js does not add prompts: prepend them to the text yourself, as above.', '');
  out.push(
    `Texts longer than ${model.maxLength} tokens: transformers.js (4.x) truncates by cutting the token list, which drops the closing ` +
      `special token that sentence-transformers and contrastive keep, so such texts embed slightly differently there.`,
    '',
  );
  out.push('### contrastive', '', '```sh', 'contrastive encode --model path/to/this-folder --input texts.jsonl --output embeddings.arrow', '```', '');

  if (card.merge) {
    const withLoss = card.merge.models.some((m) => m.loss !== undefined);
    out.push('## Merge', '', `Merged from ${card.merge.models.length} models with LM-Cocktail (every float tensor is the weighted sum of the sources'); ${card.merge.method}.`, '');
    out.push(withLoss ? '| Source | Weight | Example loss |' : '| Source | Weight |', withLoss ? '|---|---|---|' : '|---|---|');
    for (const m of card.merge.models) out.push(`| ${cell(m.path)} | ${cell(m.weight)} |${withLoss ? ` ${m.loss === undefined ? '' : cell(m.loss)} |` : ''}`);
    out.push('');
  }
  out.push('## Training', '');
  if (card.baseModel) out.push(`Base model: \`${card.baseModel}\``, '');
  if (card.datasets?.length) {
    out.push('### Data', '', '| Dataset | File | Rows | Loss |', '|---|---|---|---|');
    for (const d of card.datasets) out.push(`| ${cell(d.name)} | ${cell(d.path ?? '')} | ${d.rows ?? ''} | ${cell(d.loss ?? '')} |`);
    out.push('');
  }
  if (card.loss) out.push('### Loss', '', '```json', JSON.stringify(card.loss, null, 2), '```', '');
  const hp = Object.entries(card.hyperparameters ?? {});
  if (hp.length) out.push('### Hyperparameters', '', table(hp, ['Name', 'Value']), '');
  const run: Array<[string, unknown]> = [];
  if (card.steps !== undefined) run.push(['Steps', card.steps]);
  if (card.trainingSeconds !== undefined) run.push(['Training time', duration(card.trainingSeconds)]);
  if (card.backend) run.push(['Backend', card.backend]);
  if (run.length) out.push('### Run', '', table(run, ['', '']), '');
  if (!card.datasets?.length && !card.loss && !hp.length && !run.length) out.push(card.merge ? 'See the source models for how each was trained.' : 'No training details were recorded with this folder.', '');
  const metrics = Object.entries(card.evalMetrics ?? {});
  if (metrics.length) {
    out.push('## Evaluation', '', card.evalDataset ? `Retrieval on \`${card.evalDataset}\` (anchor → positive):` : 'Retrieval (anchor → positive):', '');
    out.push(table(metrics, ['Metric', 'Value']), '');
  }
  out.push('## Framework versions', '', `- contrastive ${toolkitVersion()} (TensorFlow.js)`, '');
  return out.join('\n');
}
