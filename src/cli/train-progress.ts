/** How training shows on stderr: a cli-progress bar on a terminal, plain log lines otherwise (CI, pipes). */
import cliProgress from 'cli-progress';
import type { TrainEvent } from '../train/trainer.js';
import { fmt } from './common.js';

export function formatMetrics(m: Record<string, number>): string {
  const keys = 'spearman' in m ? ['spearman', 'pearson'] : ['recall@1', 'recall@10', 'mrr@10', 'ndcg@10'];
  return keys.map((k) => `${k} ${fmt(m[k])}`).join('  ');
}

/** A function that renders each TrainEvent; `label` prefixes the lines (a pipeline's stage name). */
export function trainRenderer(label = ''): (ev: TrainEvent) => void {
  const tty = Boolean(process.stderr.isTTY);
  const pre = label ? `${label}: ` : '';
  const bar = new cliProgress.SingleBar(
    {
      format: `${label ? `${label} ` : ''}train |{bar}| {value}/{total} | loss {loss} | lr {lr} | {pairs} pairs/s | ETA {eta_formatted}`,
      stream: process.stderr,
      hideCursor: true,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  let logEvery = 1;
  return (ev) => {
    switch (ev.type) {
      case 'start':
        for (const note of ev.notes) process.stderr.write(`${pre}${note}\n`);
        process.stderr.write(
          `${pre}${ev.resumedFrom ? `resuming from ${ev.resumedFrom} at step ${ev.startStep}` : 'training'}: ` +
            `${(ev.numParams / 1e6).toFixed(2)}M params, ${ev.stepsPerEpoch} steps/epoch, ${ev.totalSteps} steps → ${ev.output}\n` +
            ev.datasets.map((d) => `${pre}  dataset ${d.name}: ${d.path}, loss ${d.loss}, ${d.batchesPerEpoch} batches/epoch\n`).join(''),
        );
        logEvery = Math.max(1, Math.round(ev.totalSteps / 20));
        if (tty) bar.start(ev.totalSteps, ev.startStep, { loss: '-', lr: '-', pairs: '-' });
        break;
      case 'step': {
        const payload = { loss: fmt(ev.loss), lr: fmt(ev.lr, 6), pairs: ev.pairsPerSec.toFixed(1) };
        if (ev.skipped) {
          if (tty) bar.stop();
          process.stderr.write(`${pre}step ${ev.step}: loss ${ev.loss}, gradient norm ${ev.gradNorm}: update skipped\n`);
          if (tty) bar.start(bar.getTotal(), ev.step, payload);
        }
        if (tty) bar.update(ev.step, payload);
        else if (ev.step % logEvery === 0 || ev.step === ev.totalSteps) {
          process.stderr.write(`${pre}step ${ev.step}/${ev.totalSteps} loss ${payload.loss} lr ${payload.lr} ${payload.pairs} pairs/s\n`);
        }
        break;
      }
      case 'eval':
        if (tty) bar.stop();
        process.stderr.write(`${pre}eval @ step ${ev.step}: ${formatMetrics(ev.metrics as unknown as Record<string, number>)}\n`);
        if (tty) bar.start(bar.getTotal(), ev.step);
        break;
      case 'checkpoint':
        if (tty) bar.stop();
        process.stderr.write(`${pre}saved ${ev.path}\n`);
        if (tty && ev.step < bar.getTotal()) bar.start(bar.getTotal(), ev.step);
        break;
      case 'interrupted':
        if (tty) bar.stop();
        process.stderr.write(`${pre}stopped at step ${ev.step}; resumable checkpoint ${ev.path}\n`);
        break;
      case 'end':
        if (tty) bar.stop();
        if (ev.metrics) process.stderr.write(`${pre}eval: ${formatMetrics(ev.metrics as unknown as Record<string, number>)}\n`);
        process.stderr.write(`${pre}done in ${ev.seconds.toFixed(1)} s; model saved to ${ev.path}\n`);
        break;
    }
  };
}
