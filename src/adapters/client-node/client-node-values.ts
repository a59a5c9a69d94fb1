/**
 * The two classes the adapter takes from client-node at run time, imported from the modules that
 * define them rather than from the package's index, which loads all of client-node (its generated
 * models and APIs, watch, exec, port-forward, cp). `config.js` still imports the generated API's index
 * for `makeApiClient`, which the adapter never calls: the build bundles these modules with that index
 * and everything under it marked free of side effects, so the generated API is left out of the built
 * package (`tsup.config.ts`; docs/runtime.md, "What the cluster adapter loads"). Run from the sources, as
 * in the tests, Node loads the whole of it.
 */
export { KubeConfig } from '@kubernetes/client-node/dist/config.js';
export { RequestContext } from '@kubernetes/client-node/dist/gen/http/http.js';
