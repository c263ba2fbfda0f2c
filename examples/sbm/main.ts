// Node classification on a planted-partition graph (stochastic block model): 10,000 nodes in 5
// communities of 2,000, mean degree about 11 (8 inside the community, 3 across), and noisy
// 16-D features (community mean N(0, 0.35²) per dimension plus N(0, 1) noise per node), so
// the features alone say little. 20 labelled nodes per community; accuracy over the other 9,900.
//
//   npm run example -- sbm [--epochs N] [--seed N]
//
// Prints the GCN's and the features-only MLP's accuracy, then the over-smoothing curve
// (notes §1.13.6.3): mean pairwise distance of node embeddings (relative to their mean norm)
// after 0..32 stacked GCN layers (16 wide, ReLU, random weights), plain and with skip connections.
import * as sg from '../../src/index';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const epochs = arg('--epochs', 200);
const seed = arg('--seed', 5);

const gen = new sg.Generator(seed);
let t0 = performance.now();
const g = sg.graph.stochasticBlockModel({ sizes: [2000, 2000, 2000, 2000, 2000], pIn: 0.004, pOut: 0.0004, features: { dim: 16, signal: 0.35 }, generator: gen });
console.log(`SBM: ${g.numNodes} nodes, ${g.numEntries / 2} edges (mean degree ${(g.numEntries / g.numNodes).toFixed(1)}), built in ${(performance.now() - t0).toFixed(0)} ms`);
const split = sg.graph.splitNodes(g, { trainPerClass: 20, generator: gen });

class Mlp extends sg.nn.Module<[sg.graph.Graph, sg.Tensor]> {
  readonly net = new sg.nn.Sequential(new sg.nn.Dropout(0.5), new sg.nn.Linear(16, 32), new sg.nn.ReLU(), new sg.nn.Dropout(0.5), new sg.nn.Linear(32, 5));
  forward(_g: sg.graph.Graph, x: sg.Tensor): sg.Tensor {
    return this.net.call(x);
  }
}

for (const [name, make] of [['2-layer GCN [16, 32, 5]', () => new sg.graph.GCN([16, 32, 5], { dropout: 0.5 })], ['MLP on features alone [16, 32, 5]', () => new Mlp()]] as const) {
  sg.manualSeed(seed);
  t0 = performance.now();
  const r = sg.graph.trainNodeClassifier(make(), g, { train: split.train, epochs, lr: 0.01 });
  console.log(`${name}: accuracy ${(100 * r.accuracy).toFixed(1)}% on ${split.test.length} unlabelled nodes (${epochs} epochs, ${(performance.now() - t0).toFixed(0)} ms)`);
}

// ---- over-smoothing ------------------------------------------------------------------------------
const small = sg.graph.stochasticBlockModel({ sizes: [200, 200, 200, 200, 200], pIn: 0.04, pOut: 0.004, features: { dim: 16, signal: 1 }, generator: new sg.Generator(seed) });
const depths = [0, 1, 2, 4, 8, 16, 32];
console.log(`over-smoothing on a 1,000-node SBM: mean pairwise distance / mean norm after k GCN layers`);
console.log(`  k:     ${depths.map((k) => String(k).padStart(6)).join('')}`);
for (const skip of [false, true]) {
  sg.manualSeed(3);
  const layers = Array.from({ length: 32 }, () => new sg.graph.GCNConv(16, 16, { activation: 'relu', skip }));
  const curve = [sg.graph.meanPairwiseDistance(small.x())];
  sg.noGrad(() => {
    let h = small.x();
    for (const l of layers) {
      h = l.call(small, h);
      curve.push(sg.graph.meanPairwiseDistance(h));
    }
  });
  console.log(`  ${skip ? 'skip' : 'plain'}: ${' '.repeat(skip ? 1 : 0)}${depths.map((k) => curve[k].toFixed(3).padStart(6)).join('')}`);
}
