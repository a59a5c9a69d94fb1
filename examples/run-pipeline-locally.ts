/**
 * Embedding k8s-executor in an orchestrator: run the demo pipeline on the embedded local backend (no
 * cluster needed), print progress and log lines, and report each block's outcome.
 *
 *   npx tsx examples/run-pipeline-locally.ts   (or through the examples test: npm test)
 */
import { fileURLToPath } from 'node:url';
import { createExecutors, type PipelineResult } from 'k8s-executor';

export async function runDemo(log: (line: string) => void = console.log): Promise<PipelineResult> {
  const projectDir = fileURLToPath(new URL('./demo-project', import.meta.url));
  const { pipelines, close } = createExecutors({
    projectDir,
    backend: 'local',
    concurrency: 3,
    // Blocks whose executor_type is not k8s are the orchestrator's business: here, a stub.
    localRunner: async (ctx) => {
      ctx.onLog(`(orchestrator) would notify for run ${ctx.pipelineRunId}`);
      return { status: 'succeeded' };
    },
  });
  try {
    return await pipelines.run(
      { pipelineUuid: 'etl_demo', pipelineRunId: `example-${process.pid}` },
      {
        onEvent: (e) => {
          if (e.type === 'block-status')
            log(`${e.blockUuid}: ${e.status}${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}`);
        },
        onLog: (block, line) => log(`  [${block}] ${line.line}`),
      },
    );
  } finally {
    await close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await runDemo();
  console.log(`pipeline ${result.status}`);
  process.exitCode = result.status === 'succeeded' ? 0 : 1;
}
