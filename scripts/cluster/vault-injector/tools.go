//go:build tools

// Package tools pins github.com/hashicorp/vault-k8s (the Vault Agent Injector) in this wrapper
// module; the binary is `go build github.com/hashicorp/vault-k8s` (its root package is main).
package tools

import _ "github.com/hashicorp/vault-k8s/subcommand/injector"
