// Zachary's karate club as graphology-generators ships it (34 members, 78 edges, each
// member's club), read into a simdgrad Graph.
import { UndirectedGraph } from 'graphology';
import karateClub from 'graphology-generators/social/karate-club.js';
import * as sg from '../../src/index';

export function karate(features: 'onehot' | 'constant' = 'onehot'): { graph: sg.graph.Graph; classes: string[] } {
  const g = karateClub(UndirectedGraph);
  const { graph, classes } = sg.graph.fromGraphology(g, { labelAttribute: 'club', features });
  return { graph, classes };
}
