/**
 * Testing orchestrator code without a cluster: the orchestrator wires its executors with
 * `createExecutors`, and a test hands the same factory the doubles of `k8s-executor/testing` — a fake
 * clock and an in-memory JobClient that plays scripted pod histories (here: the image cannot be pulled).
 */
import { type ConfigSource, type CreateExecutorsOptions, createExecutors } from 'k8s-executor';
import { FakeClock, InMemoryJobClient, StaticConfigSource } from 'k8s-executor/testing';

/** The orchestrator's own wiring: in production it is called with nothing, in tests with doubles. */
export function orchestratorExecutors(overrides: Partial<CreateExecutorsOptions> = {}) {
  return createExecutors({ projectDir: './my_project', ...overrides });
}

export async function imagePullFailureIsReported(): Promise<{ reason?: string; message?: string }> {
  const clock = new FakeClock();
  const jobClient = new InMemoryJobClient({ clock });
  const configSource: ConfigSource = new StaticConfigSource({
    'metadata.yaml':
      'k8s_executor_config:\n  container_config:\n    image: registry.example/etl:does-not-exist\n',
    'pipelines/etl/metadata.yaml': 'blocks:\n  - uuid: load\n    executor_type: k8s\n',
  });
  jobClient.script('mage-data-prep-block-1', [
    {
      waiting: {
        reason: 'ImagePullBackOff',
        message: 'Back-off pulling image "registry.example/etl:does-not-exist"',
      },
    },
  ]);
  const { blocks, close } = orchestratorExecutors({ configSource, jobClient, clock });
  const pending = blocks.execute({
    pipelineUuid: 'etl',
    blockUuid: 'load',
    pipelineRunId: 1,
    blockRunId: 1,
  });
  // Time only moves when the test says so: jump ahead until the run is over (past the image-pull grace).
  let done = false;
  const settled = () => {
    done = true;
  };
  pending.then(settled, settled);
  while (!done) await clock.advance(10_000);
  const result = await pending;
  await close();
  return { reason: result.reason, message: result.message };
}
