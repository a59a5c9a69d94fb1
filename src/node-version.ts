import { unsupportedNodeMessage } from './supported-node.js';

// Importing this module is the check: the library's entry points import it first, so on an old Node
// `import('k8s-executor')` fails with one sentence instead of a TypeError deep inside a dependency.
const problem = unsupportedNodeMessage();
if (problem) throw new Error(problem);
