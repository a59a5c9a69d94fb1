/**
 * Testing orchestrator code without a cluster: `k8s-executor/testing` gives a fake clock and an
 * in-memory JobClient that plays scripted pod histories (here: the image cannot be pulled).
 */
import { type ConfigSource, K8sBlockExecutor } from 'k8s-executor';
import { FakeClock, InMemoryJobClient, runUntil, StaticConfigSource } from 'k8s-executor/testing';

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
  const executor = new K8sBlockExecutor({ configSource, jobClient, clock });
  // Time only moves when the test says so: runUntil jumps from one timer to the next until the run is
  // over (past the image-pull grace), in milliseconds of real time.
  const result = await runUntil(
    clock,
    executor.execute({ pipelineUuid: 'etl', blockUuid: 'load', pipelineRunId: 1, blockRunId: 1 }),
  );
  executor.close();
  return { reason: result.reason, message: result.message };
}
