#!/usr/bin/env node
// The bin. It checks the Node version before any other module of the CLI (or a dependency) is loaded:
// on an old Node, one line instead of a TypeError from deep inside a dependency. So its only static
// import is the version rule, which imports nothing.
import { unsupportedNodeMessage } from '../supported-node.js';

const problem = unsupportedNodeMessage();
if (problem) {
  process.stderr.write(`${problem}\n`);
  process.exitCode = 1;
} else {
  void import('./cli.js').then((cli) => cli.runFromArgv());
}
