//go:build tools

// Package tools pins github.com/cloudnativelabs/kube-router/v2 in this wrapper module; the
// binary is `go build github.com/cloudnativelabs/kube-router/v2/cmd/kube-router`.
package tools

import _ "github.com/cloudnativelabs/kube-router/v2/pkg/cmd"
