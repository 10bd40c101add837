/** model.summary(): Keras' table of layers, output shapes and parameter counts. */
import { formatLayerShape, type Layer, type LayerNode, type Weight } from './layer.js';
import { InputLayer } from './layers/core/input_layer.js';

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

/** What the summary reads of a model (Model has it). */
export interface SummarizedModel {
  readonly name: string;
  readonly isSequential: boolean;
  readonly allLayers: Layer[];
  readonly layers: Layer[];
  readonly nodes: LayerNode[];
  readonly trainableWeights: Weight[];
  countParams(): number;
}

export function formatSummary(model: SummarizedModel): string {
  const functional = !model.isSequential;
  const rows: string[][] = [];
  const layers = functional ? model.allLayers : model.layers;
  for (const layer of layers) {
    const nodes = layer.inboundNodes.filter((n) => layer instanceof InputLayer || model.nodes.includes(n));
    const shape = nodes.length ? formatLayerShape(nodes[0].output.shape) : '?';
    const row = [`${layer.name} (${layer.className})`, shape, fmt(layer.countParams())];
    if (functional) {
      const connected = nodes.flatMap((n) => n.inputs.map((s) => `${s.layer.name}[${s.layer.inboundNodes.indexOf(s.node)}][0]`));
      row.push(connected.join(', '));
    }
    rows.push(row);
  }
  const headers = functional ? ['Layer (type)', 'Output Shape', 'Param #', 'Connected to'] : ['Layer (type)', 'Output Shape', 'Param #'];
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)) + 3);
  const line = (cells: string[]) =>
    ` ${cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('')
      .trimEnd()}`;
  const total = widths.reduce((a, b) => a + b, 1);
  const trainable = model.trainableWeights.reduce((n, w) => n + w.value.size, 0);
  const all = model.countParams();
  return [
    `Model: "${model.name}"`,
    '_'.repeat(total),
    line(headers),
    '='.repeat(total),
    ...rows.map(line),
    '='.repeat(total),
    `Total params: ${fmt(all)}`,
    `Trainable params: ${fmt(trainable)}`,
    `Non-trainable params: ${fmt(all - trainable)}`,
    '_'.repeat(total),
  ].join('\n');
}
