// Messages between the demo page (main thread) and its training worker.

export interface TrainConfig {
  /** Epochs over the training digits. */
  epochs: number;
  /** Training digits (of the 10,000 the `mnist` package ships); the rest is split into val and test. */
  train: number;
  /** Validation digits, measured after every epoch. */
  val: number;
  /** Test digits, measured once at the end. */
  test: number;
  batchSize: number;
  /** Stop each epoch after this many steps (0: no limit); for quick runs and tests. */
  steps: number;
  lr: number;
  seed: number;
  /**
   * Wasm threads to ask for (0: one fewer than the cores, leaving one to the page and the
   * browser); used where the page is cross-origin isolated.
   */
  threads: number;
}

export type ToWorker =
  | { type: 'train'; config: TrainConfig }
  | { type: 'predict'; id: number; pixels: Float32Array }
  | { type: 'stop' };

export type FromWorker =
  | { type: 'status'; text: string }
  | { type: 'runtime'; build: string; threads: number; isolated: boolean; note: string | null }
  | { type: 'data'; train: number; val: number; test: number; stepsPerEpoch: number; totalSteps: number }
  | {
    type: 'step'; epoch: number; step: number; totalSteps: number;
    loss: number; accuracy: number; samplesPerSec: number;
  }
  | { type: 'epoch'; epoch: number; step: number; loss: number; accuracy: number; valLoss: number; valAccuracy: number; seconds: number }
  | { type: 'done'; testAccuracy: number; seconds: number; stopped: boolean }
  | { type: 'prediction'; id: number; probs: number[]; ms: number }
  | { type: 'error'; message: string };

// ---- the VAE tab's worker (demo/vae-worker.ts) ----------------------------------------------

export interface VaeConfig {
  /** Training steps (0: train for `seconds` instead); ?vaeSteps=50 gives the tests a short run. */
  steps: number;
  /** Wall-clock training budget when steps is 0. */
  seconds: number;
  batchSize: number;
  latent: number;
  hidden: number;
  lr: number;
  seed: number;
  threads: number;
}

export type ToVaeWorker =
  | { type: 'train'; config: VaeConfig }
  /** Decode n codes (z: [n, latent], row-major) to pixel probabilities. */
  | { type: 'decode'; id: number; n: number; z: Float32Array }
  | { type: 'stop' };

export type FromVaeWorker =
  | { type: 'status'; text: string }
  | { type: 'runtime'; build: string; threads: number; isolated: boolean; note: string | null }
  | { type: 'data'; digits: number; latent: number; steps: number; seconds: number }
  | { type: 'step'; step: number; loss: number; reconstruction: number; kl: number; elapsed: number; samplesPerSec: number }
  /**
   * Training finished; `active` lists the latent coordinates by how much μ varies over the
   * digits, most first (a VAE leaves some coordinates unused, and sliding those changes nothing).
   */
  | { type: 'done'; step: number; seconds: number; stopped: boolean; active: number[]; activity: number[] }
  | { type: 'decoded'; id: number; n: number; pixels: Float32Array }
  | { type: 'error'; message: string };
