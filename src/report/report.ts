/**
 * `convlab report`: one experiment from the run store as Markdown (report.md with its figures as PNG and SVG files
 * under figures/) and as one self-contained HTML file (report.html, every figure inlined as SVG).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Marked } from 'marked';
import { stringify } from 'yaml';
import { compareTrials, formatMarkdown } from '../lab/compare.js';
import { checkSpec } from '../lab/spec.js';
import type { RunStore, TrialRow } from '../lab/store.js';
import { buildSpecModel, type SplitEvaluation } from '../lab/train_run.js';
import { formatReport } from '../metrics/index.js';
import { formatSummary } from '../nn/summary.js';
import { FigureError, studyFigures, trialFigures } from './collect.js';
import { render, type Figure } from './render.js';
import { codeBlock, escapeHtml, mdCode, mdText } from '../util/text.js';
import { viewTrials } from '../lab/views.js';
import { foreignContent, replaceFolder } from '../util/safe_fs.js';

export interface ReportOptions {
  /** Sort the comparison table by this column (default: validation, then test accuracy). */
  sort?: string;
  /** Also write a section per trial (default true). */
  trials?: boolean;
  /** Also the trials of earlier versions of the spec, labelled apart (see lab/views.ts). */
  all?: boolean;
  log?: (s: string) => void;
}

export interface WrittenReport {
  html: string;
  markdown: string;
  figures: string[];
}

interface Placed {
  figure: Figure;
  file: string;
  svg: string;
}

export async function writeReport(
  store: RunStore,
  experimentName: string,
  outDir: string,
  options: ReportOptions = {},
): Promise<WrittenReport> {
  const experiment = store.getExperiment(experimentName);
  if (!experiment) {
    const known = store.listExperiments().map((e) => e.name);
    throw new FigureError(
      `no experiment '${experimentName}' in ${store.root}${known.length ? `; it has ${known.join(', ')}` : '; it is empty (run one with convlab run SPEC)'}`,
    );
  }
  const trials = viewTrials(store, experiment, { all: options.all });
  if (trials.length === 0) throw new FigureError(`experiment '${experiment.name}' has no trials`);
  const hidden = store.trials(experiment.id).length - trials.length;
  let table: ReturnType<typeof compareTrials>;
  try {
    table = compareTrials(store, experiment.name, trials, { sort: options.sort });
  } catch (e) {
    throw new FigureError((e as Error).message);
  }
  // Everything is built in a fresh folder beside the target, which then replaces it: no half-written report, and
  // an existing target is replaced only when it is an earlier convlab report.
  return replaceFolder(outDir, 'report --out', reportProblem, async (tmp) => {
    mkdirSync(join(tmp, 'figures'));
    const placed: Placed[] = [];
    const place = async (f: Figure): Promise<string> => {
      const { svg, png } = await render(f);
      const base = `figures/${f.name}`;
      writeFileSync(join(tmp, `${base}.svg`), svg);
      writeFileSync(join(tmp, `${base}.png`), png);
      placed.push({ figure: f, file: `${base}.png`, svg });
      options.log?.(`  ${base}.png`);
      return `![${mdText(f.title)}](${base}.png)${f.caption ? `\n\n*${mdText(f.caption)}*` : ''}`;
    };
    const md: string[] = [];
    const finished = trials.filter((t) => t.status === 'finished');
    md.push(`# ${mdText(experiment.name)}`, '');
    md.push(
      `${trials.length} trial${trials.length === 1 ? '' : 's'} (${finished.length} ` +
        `finished${trials.length > finished.length ? `, ${trials.length - finished.length} not` : ''}). ` +
        `Report written ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} from ` +
        `the store ${mdCode(store.root)}${experiment.specFile ? `, spec ${mdCode(experiment.specFile)}` : ''}.` +
        (hidden
          ? ` ${hidden} trial${hidden === 1 ? '' : 's'} of earlier versions of the spec ${hidden === 1 ? 'is' : 'are'} left out (\`--all\` shows them).`
          : ''),
      '',
    );

    md.push('## Results', '');
    md.push(formatMarkdown(table), '');
    md.push(
      `Sorted by ${mdText(table.sortedBy ?? 'plan order')}${table.rows.some((r) => r.trials.length > 1) ? '; repeats are shown as mean ± sample standard deviation' : ''}.`,
      '',
    );
    const baselines = baselineTable(store, finished);
    if (baselines)
      md.push('### Dummy baselines', '', 'Classifiers that ignore the image, for scale (evaluate.baselines).', '', baselines, '');

    const study = studyFigures(store, experiment.name, trials);
    if (study.length) {
      md.push('## Study figures', '');
      for (const f of study) md.push(`### ${mdText(f.title)}`, '', await place(f), '');
    }

    if (options.trials ?? true) {
      md.push('## Trials', '');
      for (const t of trials) md.push(...(await trialSection(store, t, place)));
    }

    md.push('## Spec', '', ...codeBlock('yaml', stringify(experiment.spec).trimEnd()), '');
    md.push('## Where it ran', '', environmentTable(trials), '');

    const markdown = md.join('\n');
    writeFileSync(join(tmp, 'report.md'), markdown);
    writeFileSync(join(tmp, 'report.html'), toHtml(experiment.name, markdown, placed));
    writeFileSync(
      join(tmp, REPORT_MARK),
      `${JSON.stringify({ convlab_report: 1, experiment: experiment.name, written: new Date().toISOString() })}\n`,
    );
    return { html: join(outDir, 'report.html'), markdown: join(outDir, 'report.md'), figures: placed.map((p) => join(outDir, p.file)) };
  });
}

/** The file that marks a folder as a convlab report. */
const REPORT_MARK = '.convlab-report';

/** Why an existing folder is not an earlier convlab report (which holds only what writeReport writes), or null. */
function reportProblem(dir: string): string | null {
  return foreignContent(dir, (rel, isDir) =>
    isDir ? rel === 'figures' : ['report.html', 'report.md', REPORT_MARK].includes(rel) || /^figures\/[^/]+\.(png|svg)$/.test(rel),
  );
}

async function trialSection(store: RunStore, t: TrialRow, place: (f: Figure) => Promise<string>): Promise<string[]> {
  const md: string[] = [`### #${t.id} ${mdText(t.label)}`, ''];
  const env = t.env as { backend?: string; threads?: number; machine?: { cpu?: string } };
  const facts = [
    `status **${t.status}**`,
    t.epochsDone ? `${t.epochsDone} epoch${t.epochsDone === 1 ? '' : 's'}` : null,
    t.seconds !== null ? `${t.seconds.toFixed(1)} s of training` : null,
    t.params !== null ? `${t.params.toLocaleString('en-US')} parameters` : null,
    `seed ${t.seed}`,
    env.backend ? `${mdText(env.backend)} backend${env.threads ? `, ${env.threads} thread${env.threads === 1 ? '' : 's'}` : ''}` : null,
  ].filter(Boolean);
  md.push(facts.join(' · '), '');
  if (t.error) md.push(...codeBlock('text', t.error), '');
  const changed = Object.entries(t.values);
  if (changed.length) md.push(`Swept values: ${changed.map(([p, v]) => `${mdCode(p)} = ${mdCode(JSON.stringify(v))}`).join(', ')}.`, '');
  const summary = modelSummary(t);
  if (summary) md.push(DETAILS_OPEN, '', ...codeBlock('text', summary), '', DETAILS_CLOSE, '');
  const finals = store.finals(t.id);
  if (Object.keys(finals).length) {
    const metrics = [...new Set(Object.values(finals).flatMap((l) => Object.keys(l)))];
    md.push(`| split | ${metrics.map(mdText).join(' | ')} |`, `|---|${metrics.map(() => '---:').join('|')}|`);
    for (const [split, logs] of Object.entries(finals))
      md.push(`| ${mdText(split)} | ${metrics.map((m) => (logs[m] === undefined ? '–' : logs[m].toFixed(4))).join(' | ')} |`);
    md.push('');
  }
  for (const f of trialFigures(store, t)) md.push(await place(f), '');
  const ev = (store.extra(t.id).evaluation as Record<string, SplitEvaluation> | undefined) ?? {};
  for (const [split, e] of Object.entries(ev)) {
    if (e.classification_report)
      md.push(`Classification report (${mdText(split)}):`, '', ...codeBlock('text', formatReport(e.classification_report)), '');
    if (e.time_difference) {
      const d = e.time_difference;
      md.push(
        `Clock time difference (${mdText(split)}): mean ${d.mean.toFixed(1)} min, ` +
          `median ${d.median.toFixed(1)}, 90th percentile ${d.p90.toFixed(1)}, max ` +
          `${d.max.toFixed(1)}; within 5/15/30/60 min: ${(['5', '15', '30', '60'] as const).map((k) => `${(100 * d.within[k]).toFixed(1)}%`).join(' / ')}.`,
        '',
      );
    }
  }
  return md;
}

/** The trial's model summary, rebuilt from its stored config (no weights are needed for it). */
function modelSummary(t: TrialRow): string | null {
  try {
    return formatSummary(buildSpecModel(checkSpec(t.config, t.experiment)));
  } catch {
    return null;
  }
}

function baselineTable(store: RunStore, trials: readonly TrialRow[]): string | null {
  for (const t of trials) {
    const ev = (store.extra(t.id).evaluation as Record<string, SplitEvaluation> | undefined) ?? {};
    const rows = Object.entries(ev).flatMap(([split, e]) =>
      Object.entries(e.baselines ?? {}).map(
        ([name, b]) =>
          `| ${mdText(name)} | ${mdText(split)} | ${b.accuracy.toFixed(4)} | ${b.macro_f1.toFixed(4)} | ${b.weighted_f1.toFixed(4)} |`,
      ),
    );
    if (rows.length) return ['| baseline | split | accuracy | macro F1 | weighted F1 |', '|---|---|---:|---:|---:|', ...rows].join('\n');
  }
  return null;
}

function environmentTable(trials: readonly TrialRow[]): string {
  const seen = new Map<string, number[]>();
  for (const t of trials) {
    const e = t.env as {
      convlab?: string;
      git_commit?: string | null;
      backend?: string;
      isa?: string | null;
      threads?: number;
      machine?: { cpu?: string; cores?: number; platform?: string; node?: string; host?: string };
    };
    if (!e.backend) continue;
    const row = [
      e.convlab ?? '?',
      e.git_commit ? e.git_commit.slice(0, 10) : '–',
      `${e.backend}${e.isa ? ` (${e.isa})` : ''}`,
      String(e.threads ?? '?'),
      `${e.machine?.cpu ?? '?'} × ${e.machine?.cores ?? '?'}`,
      `${e.machine?.platform ?? '?'}, Node ${e.machine?.node ?? '?'}`,
    ]
      .map(mdText)
      .join(' | ');
    seen.set(row, [...(seen.get(row) ?? []), t.id]);
  }
  if (seen.size === 0) return 'No trial has started.';
  return [
    '| trials | convlab | commit | backend | threads | CPU | platform |',
    '|---|---|---|---|---:|---|---|',
    ...[...seen].map(([row, ids]) => `| ${ids.map((i) => `#${i}`).join(' ')} | ${row} |`),
  ].join('\n');
}

const DETAILS_OPEN = '<details><summary>Model summary</summary>';
const DETAILS_CLOSE = '</details>';

const CSS = `
body { font-family: "DejaVu Sans", system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { border-bottom: 2px solid #0072B2; padding-bottom: .2em; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: .15em; margin-top: 2em; }
table { border-collapse: collapse; margin: .6em 0; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; }
th { background: #f4f6f8; }
tr:nth-child(even) td { background: #fafafa; }
pre { background: #f6f8fa; padding: .7em; overflow-x: auto; font-size: 12px; }
code { font-family: "DejaVu Sans Mono", monospace; }
img.figure { max-width: 100%; height: auto; display: block; margin: .8em 0 .2em; }
p > em:only-child { color: #555; font-size: 13px; }
details summary { cursor: pointer; color: #0072B2; }
`;

/** The Markdown rendered as one HTML page, every figure inlined as an SVG data URI. */
export function toHtml(title: string, markdown: string, placed: readonly Placed[]): string {
  const inline = new Map(placed.map((p) => [p.file, `data:image/svg+xml;base64,${Buffer.from(p.svg).toString('base64')}`]));
  // Raw HTML in the Markdown is shown as text, except the two tags the report itself writes around summaries.
  const body0 = new Marked({
    gfm: true,
    renderer: { html: ({ text }) => (text.trim() === DETAILS_OPEN || text.trim() === DETAILS_CLOSE ? text : escapeHtml(text)) },
  }).parse(markdown, { async: false }) as string;
  let body = body0;
  body = body.replace(/<img src="([^"]+)" alt="([^"]*)">/g, (whole, src: string, alt: string) => {
    const uri = inline.get(src);
    return uri ? `<img class="figure" src="${uri}" alt="${alt}">` : whole;
  });
  return (
    `<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<meta ` +
    `name="viewport" content="width=device-width, initial-scale=1">\n<title>${escapeHtml(title)} ` +
    `· convlab report</title>\n<style>${CSS}</style>\n</head>\n<body>\n${body}\n</body>\n</html>\n`
  );
}
