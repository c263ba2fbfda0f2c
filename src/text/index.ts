// Text: tokenizers (byte-pair encoding, characters), decoding strategies and corpus batching.
export {
  BPETokenizer, DEFAULT_SPECIAL_TOKENS, pretokenize,
  type BPETrainOptions, type EncodeOptions, type DecodeOptions, type BPEJSON,
} from './bpe.js';
export { CharVocabulary, type CharVocabularyOptions, type CharFromTextOptions, type CharVocabularyJSON } from './chars.js';
export {
  sample, greedy, distribution, logSoftmax, generate, beamSearch,
  type Logits, type StepFn, type SamplingOptions, type GenerateOptions, type BeamSearchOptions, type Hypothesis,
} from './sampling.js';
export {
  splitChapters, splitCorpus, LMBatches, randomWindows, CHAPTER_HEADING,
  type Chapter, type SplitOptions, type CorpusSplit, type LMBatch, type LMBatchOptions, type RandomWindowOptions,
} from './corpus.js';
