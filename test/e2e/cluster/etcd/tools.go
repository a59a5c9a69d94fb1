//go:build tools

// Package tools pins the etcd server that backs the e2e cluster's kube-apiserver.
// The etcd binary's main package is the root of go.etcd.io/etcd/server/v3; its own
// go.mod has replace directives, so `go install …@version` refuses it while a build
// from this module works.
package tools

import _ "go.etcd.io/etcd/server/v3"
