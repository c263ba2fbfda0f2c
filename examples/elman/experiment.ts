// Elman's next-letter experiment (notes §1.7.2; J. L. Elman, "Finding structure in time", 1990):
// a character-level Elman RNN reads a text with the spaces removed and predicts each next
// letter. Nothing marks where words end, yet the prediction error is high at the first letter
// of a word and falls inside it: the network finds the word boundaries as the places where the
// next letter is hard to guess. Shared by examples/elman/main.ts and test/sequence/elman.test.ts.
import * as sg from '../../src/index.js';

/** The text as one run of lowercase letters a-z, and which of them start a word. */
export interface LetterStream {
  letters: string;
  /** 1 where the letter is the first of a word (a maximal run of letters in the original text). */
  wordStart: Uint8Array;
}

/**
 * Lowercases `text` and keeps only the letters a-z: spaces, punctuation, digits and line breaks
 * are dropped, as Elman's input had no spaces. Words are the runs of letters between them
 * (so "whale's" is the words "whale" and "s").
 */
export function letterStream(text: string): LetterStream {
  const words = text.toLowerCase().match(/[a-z]+/g) ?? [];
  const letters = words.join('');
  const wordStart = new Uint8Array(letters.length);
  let at = 0;
  for (const w of words) {
    wordStart[at] = 1;
    at += w.length;
  }
  return { letters, wordStart };
}

export interface ElmanOptions {
  /** Letters of the training text to use (from its start; default all). */
  trainLetters?: number;
  /** Letters of the validation text to score (default all). */
  evalLetters?: number;
  /** Passes over the training letters (default 1). */
  epochs?: number;
  /** Hidden units of the Elman layer (default 128). */
  hidden?: number;
  /** Size of the learned letter vectors fed to it (default 32). */
  embedding?: number;
  /** Rows per batch and steps per truncated-BPTT window (defaults 32 and 50). */
  batchSize?: number;
  seqLen?: number;
  /** Adam's learning rate (default 3e-3). */
  lr?: number;
  seed?: number;
  /** Progress lines (default none). */
  log?: (line: string) => void;
}

/** Averages over the validation letters of one kind (first of a word, or inside one). */
export interface ErrorStats {
  /** Letters scored. */
  count: number;
  /** Mean −log₂ p(letter | letters before it): the prediction error, in bits. */
  bits: number;
  /** Share of letters that are not the model's most probable next letter. */
  errorRate: number;
}

export interface ElmanResult {
  firstLetter: ErrorStats;
  insideWord: ErrorStats;
  /** firstLetter.bits / insideWord.bits. */
  ratio: number;
  /** Mean bits per letter over all scored letters. */
  bitsPerLetter: number;
  trainLetters: number;
  steps: number;
  seconds: number;
}

/**
 * Trains Embedding → RNN (tanh) → Linear on the training letters (truncated BPTT: the state is
 * carried from window to window and cut with detach; Adam; gradient norm clipped at 1), then
 * scores every next-letter prediction on the validation letters, split by the letter's place
 * in its word.
 */
export function runElman(train: LetterStream, validation: LetterStream, options: ElmanOptions = {}): ElmanResult {
  const {
    epochs = 1, hidden = 128, embedding = 32, batchSize = 32, seqLen = 50, lr = 3e-3, seed = 1,
    log = () => {},
  } = options;
  const trainText = train.letters.slice(0, options.trainLetters ?? train.letters.length);
  const evalLen = Math.min(options.evalLetters ?? validation.letters.length, validation.letters.length);
  const vocab = new sg.text.CharVocabulary('abcdefghijklmnopqrstuvwxyz', { unknown: null });
  const V = vocab.size;
  sg.manualSeed(seed);
  const embed = new sg.nn.Embedding(V, embedding);
  const rnn = new sg.nn.RNN(embedding, hidden);
  const head = new sg.nn.Linear(hidden, V);
  const params = [...embed.parameters(), ...rnn.parameters(), ...head.parameters()];
  const opt = new sg.optim.Adam(params, { lr });
  const logits = (ids: sg.Tensor, h0: sg.Tensor | null): { out: sg.Tensor; h: sg.Tensor } => {
    const [N, T] = ids.shape;
    const r = rnn.forward(embed.forward(ids), { h0 });
    return { out: sg.reshape(head.forward(r.output), [N * T, V]), h: r.h };
  };

  const start = performance.now();
  const batches = new sg.text.LMBatches(vocab.encode(trainText), { batchSize, seqLen });
  let steps = 0;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    let state: sg.Tensor | null = null;
    let sum = 0;
    let n = 0;
    for (const { input, target } of batches) {
      const { out, h } = logits(input, state);
      const loss = sg.crossEntropy(out, sg.reshape(target, [batchSize * seqLen]));
      opt.zeroGrad();
      sg.backward(loss);
      sg.clipGradNorm(params, 1);
      opt.step();
      // The next window starts from this state, but its gradient stops here.
      const next = sg.detach(h);
      if (state !== null) state.dispose();
      state = next;
      sg.dispose(input, target);
      sum += loss.item();
      n++;
      steps++;
      if (steps % 200 === 0) log(`  step ${steps}: train ${(sum / n / Math.LN2).toFixed(3)} bits/letter`);
    }
    state?.dispose();
    log(`epoch ${epoch}/${epochs}: train ${(sum / n / Math.LN2).toFixed(3)} bits/letter (${((performance.now() - start) / 1000).toFixed(1)} s)`);
  }
  const seconds = (performance.now() - start) / 1000;

  // Scoring: the validation letters as parallel streams, state carried, no graph.
  const evalIds = vocab.encode(validation.letters.slice(0, evalLen));
  const rows = Math.min(16, Math.max(1, Math.floor(evalLen / 201)));
  const scored = new sg.text.LMBatches(evalIds, { batchSize: rows, seqLen: 200 });
  const L = scored.streamLength;
  const acc = [{ count: 0, bits: 0, wrong: 0 }, { count: 0, bits: 0, wrong: 0 }];
  let state: sg.Tensor | null = null;
  for (let j = 0; j < scored.length; j++) {
    const { input, target } = scored.get(j);
    const T = scored.seqLen;
    const { values, h } = sg.noGrad(() => {
      const r = logits(input, state);
      return { values: r.out.data(), h: sg.keep(sg.detach(r.h)) };
    });
    state?.dispose();
    state = h;
    const y = target.data();
    for (let i = 0; i < rows; i++) {
      for (let t = 0; t < T; t++) {
        const row = i * T + t;
        const o = row * V;
        let max = -Infinity;
        let best = 0;
        for (let v = 0; v < V; v++) if (values[o + v] > max) { max = values[o + v]; best = v; }
        let z = 0;
        for (let v = 0; v < V; v++) z += Math.exp(values[o + v] - max);
        const label = y[row];
        const nats = Math.log(z) - (values[o + label] - max);
        // The target sits one letter after the input at stream position i·L + j·T + t.
        const a = acc[validation.wordStart[i * L + j * T + t + 1]];
        a.count++;
        a.bits += nats / Math.LN2;
        if (best !== label) a.wrong++;
      }
    }
    sg.dispose(input, target);
  }
  state?.dispose();
  const stats = (a: { count: number; bits: number; wrong: number }): ErrorStats => ({ count: a.count, bits: a.bits / a.count, errorRate: a.wrong / a.count });
  const insideWord = stats(acc[0]);
  const firstLetter = stats(acc[1]);
  for (const p of params) p.dispose();
  return {
    firstLetter, insideWord, ratio: firstLetter.bits / insideWord.bits,
    bitsPerLetter: (acc[0].bits + acc[1].bits) / (acc[0].count + acc[1].count),
    trainLetters: trainText.length, steps, seconds,
  };
}
