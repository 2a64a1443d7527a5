/**
 * Fits the bundled BERT-style WordPiece tokenizer, using the `tokenizers` npm package (Rust binding, dev
 * dependency) for normalization, pre-tokenization and for building and saving the standard tokenizer.json.
 *
 * Vocabulary learning: the binding's `Tokenizer.train(files)` (WordPiece trainer) breaks ties between equally
 * frequent pairs in hash-map order, which is randomly seeded per process, so its vocabulary differs from run to
 * run. To keep `npm run make-data` reproducible byte for byte we run the same algorithm here — the trainer is
 * BPE with `##` continuation pieces: start from characters (word-initial as is, others as `##c`) and
 * repeatedly merge the most frequent adjacent pair — but break ties by the pair's text. `trainer: 'rust'`
 * uses the binding's own trainer instead (not reproducible).
 *
 * Special tokens come first: [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4. The result loads in Python
 * `tokenizers`/`transformers` and in `@huggingface/tokenizers`.
 */
import { readFileSync } from 'node:fs';
import {
  Tokenizer,
  WordPiece,
  bertNormalizer,
  bertPreTokenizer,
  templateProcessing,
  wordPieceDecoder,
} from 'tokenizers';

export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;
const PREFIX = '##';

/**
 * Characters always in the vocabulary, so ordinary English/Russian text outside the sample corpus never maps
 * to [UNK] (WordPiece turns a whole word into [UNK] when one of its characters is unknown).
 */
export const BASE_ALPHABET: string[] = [
  ...'abcdefghijklmnopqrstuvwxyz0123456789',
  ...'абвгдеёжзийклмнопрстуфхцчшщъыьэюя',
  ...'àáâäçèéêëìíîïñòóôöùúûüÿßæœøå',
  ...'.,;:!?\'"()[]{}<>-–—/\\|@#$%^&*_+=~`«»„“”‘’…№§°±×·',
];

function configure(t: Tokenizer): void {
  // lowercase, but keep accents/diacritics: stripping them would turn Russian й into и and ё into е
  t.setNormalizer(bertNormalizer({ cleanText: true, handleChineseChars: true, stripAccents: false, lowercase: true }));
  t.setPreTokenizer(bertPreTokenizer());
}

/** Word frequencies after the tokenizer's own normalizer and pre-tokenizer (what its trainer would count). */
function countWords(files: string[]): Map<string, number> {
  const t = new Tokenizer(WordPiece.empty());
  configure(t);
  const normalizer = t.getNormalizer()!;
  const pre = t.getPreTokenizer()!;
  const counts = new Map<string, number>();
  for (const file of files) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      for (const [w] of pre.preTokenizeString(normalizer.normalizeString(line))) counts.set(w, (counts.get(w) ?? 0) + 1);
    }
  }
  return counts;
}

/**
 * WordPiece vocabulary learning (BPE merges over `##` pieces), deterministic: among pairs of equal
 * frequency the one whose "left right" text sorts first is merged. Returns tokens in learning order:
 * the sorted alphabet (word-initial characters, then `##` characters), then merges. `alphabet` adds characters
 * that must be in the vocabulary even if the corpus lacks them (letters/digits both as `c` and `##c`).
 */
export function learnWordPieceVocab(wordCounts: Map<string, number>, maxTokens: number, alphabet: string[] = []): string[] {
  const entries = [...wordCounts.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const words = entries.map(([w]) => Array.from(w, (ch, i) => (i === 0 ? ch : PREFIX + ch)));
  const freq = entries.map(([, c]) => c);
  const extra = alphabet.flatMap((ch) => (/\p{L}|\p{N}/u.test(ch) ? [ch, PREFIX + ch] : [ch]));
  const initial = [...new Set([...words.flat(), ...extra])].sort((a, b) => {
    const pa = a.startsWith(PREFIX) ? 1 : 0;
    const pb = b.startsWith(PREFIX) ? 1 : 0;
    return pa - pb || (a < b ? -1 : a > b ? 1 : 0);
  });
  const vocab = initial.slice(0, maxTokens);
  const inVocab = new Set(vocab);

  const SEP = ' ';
  const pairCount = new Map<string, number>();
  const pairWords = new Map<string, Set<number>>();
  const addPairs = (wi: number, sign: 1 | -1): void => {
    const syms = words[wi];
    for (let i = 0; i + 1 < syms.length; i++) {
      const key = syms[i] + SEP + syms[i + 1];
      const c = (pairCount.get(key) ?? 0) + sign * freq[wi];
      if (c > 0) pairCount.set(key, c);
      else pairCount.delete(key);
      if (sign > 0) {
        let s = pairWords.get(key);
        if (!s) pairWords.set(key, (s = new Set()));
        s.add(wi);
      }
    }
  };
  words.forEach((_, wi) => addPairs(wi, 1));

  while (vocab.length < maxTokens) {
    let best: string | undefined;
    let bestCount = 0;
    for (const [key, c] of pairCount) {
      if (c > bestCount || (c === bestCount && best !== undefined && key < best)) {
        best = key;
        bestCount = c;
      }
    }
    if (best === undefined) break;
    const [left, right] = best.split(SEP);
    const merged = left + right.slice(PREFIX.length);
    if (!inVocab.has(merged)) {
      vocab.push(merged);
      inVocab.add(merged);
    }
    for (const wi of pairWords.get(best) ?? []) {
      const syms = words[wi];
      addPairs(wi, -1);
      const next: string[] = [];
      for (let i = 0; i < syms.length; i++) {
        if (i + 1 < syms.length && syms[i] === left && syms[i + 1] === right) {
          next.push(merged);
          i++;
        } else next.push(syms[i]);
      }
      words[wi] = next;
      addPairs(wi, 1);
    }
    pairWords.delete(best);
    pairCount.delete(best);
  }
  return vocab;
}

export interface FitOptions {
  /** Plain-text training files (one text per line). */
  files: string[];
  /** Final vocabulary size including the 5 special tokens (an upper bound: learning stops when every word is one token). */
  vocabSize: number;
  output: string;
  /** 'deterministic' (default, reproducible) or 'rust' (the binding's Tokenizer.train; ties broken in hash order). */
  trainer?: 'deterministic' | 'rust';
}

function rustVocab(files: string[], maxTokens: number): string[] {
  const t = new Tokenizer(WordPiece.empty());
  configure(t);
  t.train(files); // default WordPiece trainer: vocab_size 30000, no special tokens; alphabet first, then merges
  return Object.entries(t.getVocab(false)).sort((a, b) => a[1] - b[1]).map(([tok]) => tok).slice(0, maxTokens);
}

export function fitWordPiece(opts: FitOptions): { vocabSize: number } {
  const maxTokens = opts.vocabSize - SPECIAL_TOKENS.length;
  const learned = opts.trainer === 'rust' ? rustVocab(opts.files, maxTokens) : learnWordPieceVocab(countWords(opts.files), maxTokens, BASE_ALPHABET);
  const vocab: Record<string, number> = {};
  [...SPECIAL_TOKENS, ...learned.filter((t) => !(SPECIAL_TOKENS as readonly string[]).includes(t))].forEach((tok, i) => (vocab[tok] = i));

  const tok = new Tokenizer(WordPiece.init(vocab, { unkToken: '[UNK]', continuingSubwordPrefix: PREFIX, maxInputCharsPerWord: 100 }));
  configure(tok);
  tok.setPostProcessor(templateProcessing('[CLS] $A [SEP]', '[CLS] $A [SEP] $B:1 [SEP]:1', [['[CLS]', vocab['[CLS]']], ['[SEP]', vocab['[SEP]']]]));
  tok.setDecoder(wordPieceDecoder(PREFIX, true));
  tok.addSpecialTokens([...SPECIAL_TOKENS]); // already in the model vocab, so they keep ids 0..4
  tok.save(opts.output, true);
  const saved = JSON.parse(readFileSync(opts.output, 'utf8')) as { added_tokens: { id: number; content: string }[] };
  for (const [i, s] of SPECIAL_TOKENS.entries()) {
    const got = saved.added_tokens.find((a) => a.content === s)?.id;
    if (got !== i) throw new Error(`fitWordPiece: ${s} got id ${got}, expected ${i}`);
  }
  return { vocabSize: Object.keys(vocab).length };
}
