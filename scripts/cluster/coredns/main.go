// Command coredns is CoreDNS with only the plugins a Kubernetes cluster DNS needs (the stock
// build links every cloud provider's SDK, which triples the build time for nothing here).
//
// Built by scripts/install-cluster.sh inside this wrapper module; go.mod/go.sum pin CoreDNS and
// every dependency.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	// The plugins of the Corefile tests/support/cluster.py writes, plus what a Corefile like
	// kubeadm's default needs.
	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/hosts"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
	_ "github.com/coredns/coredns/plugin/whoami"
)

// directives is upstream's core/dnsserver/zdirectives.go order, reduced to the plugins above.
var directives = []string{
	"reload",
	"bind",
	"ready",
	"health",
	"errors",
	"log",
	"loadbalance",
	"cache",
	"hosts",
	"kubernetes",
	"loop",
	"forward",
	"whoami",
}

func main() {
	dnsserver.Directives = directives
	coremain.Run()
}
