// Zachary's karate club (graphology-generators' social/karate-club: 34 members, 78 friendships,
// each member's club after the split): semi-supervised node classification and random-walk
// node embeddings, notes §1.13.2.1 and §1.13.5.
//
//   npm run example -- karate [--seed N]
//
// Two members are labelled, the instructor (0, "Mr. Hi") and the administrator (33,
// "Officer"); accuracies are over the other 32. Prints
//   karate GCN accuracy: A%        a 2-layer GCN on one-hot features (x_v = e_v)
//   karate embedding accuracy: B%  DeepWalk embeddings (skip-gram, negative sampling),
//                                  2-means, each cluster named by the labelled member in it
// and writes examples/karate/out/karate-embeddings.png: the embeddings projected on their
// first two principal components, friendships as grey lines, members coloured by their
// actual club (blue Mr. Hi, orange Officer), a black ring around the two labelled members and
// a red ring around every member the embedding classifier got wrong.
import { mkdirSync, writeFileSync } from 'node:fs';
import { UndirectedGraph } from 'graphology';
import karateClub from 'graphology-generators/social/karate-club.js';
import { encode } from 'fast-png';
import * as sg from '../../src/index';

const seedArg = process.argv.indexOf('--seed');
const seed = seedArg >= 0 ? Number(process.argv[seedArg + 1]) : 1;
const LABELLED = [0, 33];

const { graph, classes } = sg.graph.fromGraphology(karateClub(UndirectedGraph), { labelAttribute: 'club', features: 'onehot' });
const labels = graph.labels!;
const others = Array.from({ length: graph.numNodes }, (_, v) => v).filter((v) => !LABELLED.includes(v));
console.log(`karate club: ${graph.numNodes} members, ${graph.numEntries / 2} friendships, clubs ${classes.map((c, i) => `${c} (${labels.filter((l) => l === i).length})`).join(', ')}`);
console.log(`labelled: ${LABELLED.map((v) => `${v} (${classes[labels[v]]})`).join(', ')}`);

// ---- GCN: H' = σ(D̃^{-1/2} Ã D̃^{-1/2} H W), two layers, cross-entropy on the two labelled nodes ----
sg.manualSeed(seed);
const gcn = new sg.graph.GCN([graph.featureDim, 16, classes.length]);
let t0 = performance.now();
const trained = sg.graph.trainNodeClassifier(gcn, graph, { train: LABELLED, evaluate: others, epochs: 100, lr: 0.01 });
console.log(`GCN: 100 epochs in ${(performance.now() - t0).toFixed(0)} ms, final loss ${trained.losses.at(-1)!.toFixed(4)}`);
const gcnWrong = others.filter((v) => trained.predictions[v] !== labels[v]);
console.log(`karate GCN accuracy: ${(100 * trained.accuracy).toFixed(1)}%  (wrong: ${gcnWrong.length === 0 ? 'none' : gcnWrong.join(', ')})`);

// ---- random-walk embeddings, then 2-means named by the labelled members -----------------------
function clusterAccuracy(z: Float32Array, dim: number, gen: sg.Generator): { accuracy: number; pred: number[] } {
  const cluster = sg.graph.kMeans(z, dim, 2, { generator: gen });
  // The cluster holding member 0 is Mr. Hi's; should both labelled members share one, the
  // nearer labelled member decides for each node instead.
  let pred: number[];
  if (cluster[LABELLED[0]] !== cluster[LABELLED[1]]) pred = Array.from(cluster, (c) => (c === cluster[LABELLED[0]] ? labels[LABELLED[0]] : labels[LABELLED[1]]));
  else {
    const dist = (u: number, v: number): number => {
      let s = 0;
      for (let k = 0; k < dim; k++) s += (z[u * dim + k] - z[v * dim + k]) ** 2;
      return s;
    };
    pred = Array.from({ length: graph.numNodes }, (_, v) => labels[dist(v, LABELLED[0]) <= dist(v, LABELLED[1]) ? LABELLED[0] : LABELLED[1]]);
  }
  return { accuracy: sg.graph.accuracyOn(pred, labels, others), pred };
}

const gen = new sg.Generator(seed + 2);
t0 = performance.now();
const emb = sg.graph.trainNodeEmbeddings(graph, { dim: 16, walkLength: 10, walksPerNode: 20, window: 3, negatives: 5, epochs: 5, generator: gen });
console.log(`DeepWalk: 680 walks of 10, skip-gram with 5 negatives, 5 epochs in ${(performance.now() - t0).toFixed(0)} ms; loss per epoch ${emb.losses.map((l) => l.toFixed(3)).join(' ')}`);
const deepwalk = clusterAccuracy(emb.z, emb.dim, gen);
const embWrong = others.filter((v) => deepwalk.pred[v] !== labels[v]);
console.log(`karate embedding accuracy: ${(100 * deepwalk.accuracy).toFixed(1)}%  (wrong: ${embWrong.length === 0 ? 'none' : embWrong.join(', ')})`);
const n2v = sg.graph.trainNodeEmbeddings(graph, { dim: 16, walkLength: 10, walksPerNode: 20, window: 3, epochs: 5, p: 1, q: 0.5, generator: new sg.Generator(seed + 3) });
console.log(`node2vec (p 1, q 0.5) embedding accuracy: ${(100 * clusterAccuracy(n2v.z, n2v.dim, new sg.Generator(seed + 4)).accuracy).toFixed(1)}%`);

// ---- the plot ----------------------------------------------------------------------------------
const W = 640;
const H = 640;
const MARGIN = 40;
const img = new Uint8Array(W * H * 3).fill(255);
const xy = sg.graph.pca2(emb.z, emb.dim);
let [minX, maxX, minY, maxY] = [Infinity, -Infinity, Infinity, -Infinity];
for (let v = 0; v < graph.numNodes; v++) {
  minX = Math.min(minX, xy[2 * v]);
  maxX = Math.max(maxX, xy[2 * v]);
  minY = Math.min(minY, xy[2 * v + 1]);
  maxY = Math.max(maxY, xy[2 * v + 1]);
}
const span = Math.max(maxX - minX, maxY - minY) || 1;
const px = (v: number): [number, number] => [
  MARGIN + ((xy[2 * v] - minX) / span) * (W - 2 * MARGIN),
  H - MARGIN - ((xy[2 * v + 1] - minY) / span) * (H - 2 * MARGIN),
];
function dot(x: number, y: number, rgb: readonly number[], alpha = 1): void {
  const [xi, yi] = [Math.round(x), Math.round(y)];
  if (xi < 0 || yi < 0 || xi >= W || yi >= H) return;
  const i = (yi * W + xi) * 3;
  for (let c = 0; c < 3; c++) img[i + c] = Math.round(img[i + c] * (1 - alpha) + rgb[c] * alpha);
}
function disc(cx: number, cy: number, r: number, rgb: readonly number[]): void {
  for (let y = Math.floor(cy - r); y <= cy + r; y++) for (let x = Math.floor(cx - r); x <= cx + r; x++) {
    if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) dot(x, y, rgb);
  }
}
const edges = graph.edgeIndex();
for (let e = 0; e < edges.src.length; e++) {
  if (edges.src[e] > edges.dst[e]) continue;
  const [x0, y0] = px(edges.src[e]);
  const [x1, y1] = px(edges.dst[e]);
  const steps = Math.ceil(Math.hypot(x1 - x0, y1 - y0));
  for (let s = 0; s <= steps; s++) dot(x0 + ((x1 - x0) * s) / steps, y0 + ((y1 - y0) * s) / steps, [150, 150, 150], 0.5);
}
const CLUB = [[31, 119, 180], [255, 127, 14]];
for (let v = 0; v < graph.numNodes; v++) {
  const [x, y] = px(v);
  if (LABELLED.includes(v)) disc(x, y, 13, [0, 0, 0]);
  else if (deepwalk.pred[v] !== labels[v]) disc(x, y, 13, [220, 0, 0]);
  disc(x, y, 9, CLUB[labels[v]]);
}
mkdirSync('examples/karate/out', { recursive: true });
const path = 'examples/karate/out/karate-embeddings.png';
writeFileSync(path, encode({ width: W, height: H, data: img, channels: 3, depth: 8 }));
console.log(`wrote ${path} (${W}x${H}): DeepWalk embeddings on their first two principal components`);
graph.dispose();
