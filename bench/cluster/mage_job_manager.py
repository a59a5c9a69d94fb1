"""bench:cluster, Mage's side: Mage's own JobManager (mage-ai from PyPI), driven the way Mage's
K8sBlockExecutor._execute drives it, for N sequential blocks against the e2e cluster.

    HOSTNAME=mage-server KUBE_NAMESPACE=default KUBECONFIG=... python mage_job_manager.py N OUT.json

K8sBlockExecutor._execute names the Job (MAGE_CLUSTER_UUID-prefix-block-<block run id>), builds
JobManager(job_name, logger, logging_tags, namespace) and calls job_manager.run_job(cmd,
k8s_config=self.executor_config); JobManager.__init__ loads the kubeconfig and reads the Mage server's
own pod ($HOSTNAME in $KUBE_NAMESPACE), run_job reads the Job (does it exist?), creates it, polls
read_namespaced_job every 5 s and deletes it. This script does exactly that, with the block executor's
config object (K8sExecutorConfig), and records when each block started and ended (the Python client's
User-Agent tells its requests apart in the audit log). The server pod is created first, untimed: in a
real deployment it is the pod Mage runs in.
"""

import json
import os
import sys
import time

from kubernetes import client, config

from mage_ai.services.k8s.config import K8sExecutorConfig
from mage_ai.services.k8s.job_manager import JobManager


def main() -> None:
    blocks = int(sys.argv[1])
    out = sys.argv[2]
    namespace = os.environ['KUBE_NAMESPACE']
    server_pod = os.environ['HOSTNAME']

    config.load_kube_config()
    core = client.CoreV1Api()
    # The Mage server's pod, which JobManager reads to inherit image, env and volumes. KWOK keeps it
    # running (fate "hang", test/e2e/cluster/kwok-stages.yaml).
    core.create_namespaced_pod(
        namespace,
        {
            'apiVersion': 'v1',
            'kind': 'Pod',
            'metadata': {
                'name': server_pod,
                'annotations': {'e2e.k8s-executor/fate': 'hang'},
            },
            # As Mage's own manifest (kube/app.yaml) has it: the project mounted, a few env vars;
            # JobManager copies them to every block's Job (and needs them to be lists).
            'spec': {
                'containers': [{
                    'name': 'mage-server',
                    'image': 'mageai/mageai:0.9.80',
                    'env': [{'name': 'USER_CODE_PATH', 'value': '/home/src/bench'}],
                    'volumeMounts': [{'name': 'mage-fs', 'mountPath': '/home/src'}],
                }],
                'volumes': [{'name': 'mage-fs', 'emptyDir': {}}],
            },
        },
    )
    while core.read_namespaced_pod(server_pod, namespace).status.phase != 'Running':
        time.sleep(0.2)

    runs = []
    started_all = time.time()
    # Block run ids of their own: the Job names never meet the k8s-executor side's.
    for block_run_id in range(1001, 1001 + blocks):
        started = time.time()
        # K8sBlockExecutor._execute, step by step (mage_ai/data_preparation/executors/k8s_block_executor.py).
        job_manager = JobManager(
            job_name=f'mage-data-prep-block-{block_run_id}',
            logger=None,
            logging_tags={},
            namespace=namespace,
        )
        command = [
            '/app/run_app.sh', 'mage', 'run', '/home/src/bench', 'bench',
            '--block-uuid', f'b{block_run_id}', '--executor-type', 'local_python',
            '--block-run-id', str(block_run_id), '--pipeline-run-id', '1',
        ]
        executor_config = K8sExecutorConfig.load(config={'namespace': namespace})
        error = None
        try:
            job_manager.run_job(command, k8s_config=executor_config)
        except Exception as e:  # noqa: BLE001 - reported, not hidden
            error = str(e)
        runs.append({
            'jobName': job_manager.job_name,
            'startedAt': started * 1000,
            'finishedAt': time.time() * 1000,
            **({'error': error} if error else {}),
        })
    finished_all = time.time()
    core.delete_namespaced_pod(server_pod, namespace, grace_period_seconds=0)

    import mage_ai
    import kubernetes

    with open(out, 'w') as f:
        json.dump({
            'mageVersion': getattr(mage_ai, '__version__', None) or version_of('mage-ai'),
            'kubernetesClientVersion': kubernetes.__version__,
            'startedAt': started_all * 1000,
            'finishedAt': finished_all * 1000,
            'blocks': runs,
        }, f)


def version_of(package: str):
    from importlib.metadata import version
    return version(package)


if __name__ == '__main__':
    main()
