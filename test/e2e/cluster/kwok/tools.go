//go:build tools

// Package tools pins KWOK, the fake kubelet that plays every Node of the e2e cluster
// and moves pods through the stages in ../kwok-stages.yaml.
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
