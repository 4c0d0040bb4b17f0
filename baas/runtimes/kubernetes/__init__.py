"""The Kubernetes target: namespaces, NetworkPolicies, secrets in pods, Helm releases of
charts/fabric."""
