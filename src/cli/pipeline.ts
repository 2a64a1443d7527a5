/** `contrastive pipeline`: run a multi-stage recipe (train → merge → export → eval), resumable at any point. */
import type { CommandModule } from 'yargs';
import { basename, extname, join } from 'node:path';
import { loadPipelineConfig } from '../pipeline/config.js';
import { pipelineIter, type PlannedStage } from '../pipeline/run.js';
import { withBackend, setupBackend, stopOnSignals, fmt, type BackendArgs } from './common.js';
import { trainRenderer } from './train-progress.js';

interface PipelineArgs extends BackendArgs {
  config: string;
  output?: string;
  overwrite: boolean;
  plan: boolean;
  json: boolean;
}

const MARK: Record<PlannedStage['status'], string> = { done: 'done  ', resume: 'resume', run: 'run   ' };

function num(v: number): string {
  return Number.isInteger(v) ? String(v) : fmt(v);
}

/** A stage's summary as indented lines: `key value` pairs, one line per nested object (an eval's model × data). */
function summaryLines(summary: Record<string, unknown>): string[] {
  const lines: string[] = [];
  const walk = (prefix: string, v: Record<string, unknown>): void => {
    const scalars = Object.entries(v).filter(([, x]) => typeof x === 'number').map(([k, x]) => `${k} ${num(x as number)}`);
    if (scalars.length) lines.push(`  ${prefix}${scalars.join(', ')}`);
    for (const [k, x] of Object.entries(v)) if (typeof x === 'object' && x !== null) walk(`${prefix}${k}: `, x as Record<string, unknown>);
  };
  walk('', summary);
  return lines;
}

export const pipelineCommand: CommandModule<object, PipelineArgs> = {
  command: 'pipeline',
  describe: 'Run named stages in order (train, merge, export, eval); completed stages are skipped and an interrupted one resumes',
  builder: (y) =>
    withBackend(y)
      .option('config', { type: 'string', demandOption: true, describe: 'Pipeline file, e.g. configs/user.json: {"stages": [{"name", "train"|"merge"|"export"|"eval": {...}}]}' })
      .option('output', { type: 'string', describe: 'Run folder: one subfolder per stage and pipeline.json [default: checkpoints/<config name>]' })
      .option('overwrite', { type: 'boolean', default: false, describe: 'Delete the run folder and run every stage' })
      .option('plan', { type: 'boolean', default: false, describe: 'Print the plan (what is done, what will run) and stop' })
      .option('json', { type: 'boolean', default: false, describe: 'Print every stage\'s summary as one JSON object on stdout at the end' })
      .example('$0 pipeline --config configs/user.json', "USER's shape on the bundled data: weak pairs → symmetric AnglE + asymmetric InfoNCE → LM-Cocktail merge → ONNX → eval")
      .example('$0 pipeline --config configs/user.json --plan', 'what is done and what would run')
      .epilog(
        [
          'Stages write <output>/<stage>/ (a train stage: a trainer run folder whose model is final/). Starting again skips',
          'stages that completed with the same definition, resumes an interrupted train stage from its latest checkpoint',
          '(exactly, as train --resume), and redoes an interrupted merge, export or eval; so a pipeline killed at any point',
          'and started again ends the same as an uninterrupted one. A stage whose definition changed after it ran is refused',
          '(delete its folder, or --overwrite).',
        ].join('\n'),
      ) as never,
  handler: async (argv) => {
    const config = loadPipelineConfig(argv.config);
    const output = argv.output ?? join('checkpoints', basename(argv.config, extname(argv.config)));
    if (!argv.plan) await setupBackend(argv.backend, argv.threads);
    const summaries: Record<string, unknown> = {};
    const renderers = new Map<string, ReturnType<typeof trainRenderer>>();
    const stop = stopOnSignals();
    try {
      for await (const ev of pipelineIter({ config, output, overwrite: argv.overwrite, planOnly: argv.plan, signal: stop.signal })) {
        switch (ev.type) {
          case 'plan':
            process.stderr.write(`pipeline ${config.name} → ${ev.output}\n`);
            for (const s of ev.stages) process.stderr.write(`  ${MARK[s.status]} ${s.name.padEnd(14)} ${s.kind.padEnd(6)} ${s.detail}\n`);
            break;
          case 'stage-start':
            process.stderr.write(`stage ${ev.stage.name} (${ev.stage.kind}): ${ev.stage.status === 'resume' ? 'resuming' : 'running'}\n`);
            break;
          case 'train': {
            if (!renderers.has(ev.stage)) renderers.set(ev.stage, trainRenderer(ev.stage));
            renderers.get(ev.stage)!(ev.event);
            break;
          }
          case 'merge-loss':
            process.stderr.write(`${ev.stage}: example loss ${fmt(ev.loss)}  ${ev.model}\n`);
            break;
          case 'stage-end':
            summaries[ev.stage.name] = ev.summary;
            process.stderr.write([`stage ${ev.stage.name} done in ${ev.seconds.toFixed(1)} s → ${ev.stage.path}`, ...summaryLines(ev.summary)].join('\n') + '\n');
            break;
          case 'interrupted':
            process.stderr.write(`pipeline stopped in stage ${ev.stage}; run the same command again to continue\n`);
            break;
          case 'end':
            process.stderr.write(`pipeline done in ${ev.seconds.toFixed(1)} s (ran: ${ev.ran.join(', ') || 'nothing, all done'})\n`);
            break;
        }
      }
    } finally {
      stop.dispose();
    }
    const code = stop.exitCode();
    if (code !== undefined) process.exitCode = code;
    if (argv.json) process.stdout.write(JSON.stringify(summaries) + '\n');
  },
};
