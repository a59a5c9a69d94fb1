//go:build tools

// Package tools pins the Kubernetes control-plane programs that the e2e cluster runs.
// build.sh builds them with `go build` from this module, so go.mod/go.sum decide every
// dependency version (k8s.io/kubernetes requires its staging modules at v0.0.0; the
// replace lines in go.mod point them at the matching published v0.x tags).
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
