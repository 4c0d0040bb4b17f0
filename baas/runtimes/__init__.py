"""Where a network runs: :mod:`baas.runtimes.local` (processes on this machine, the default)
and :mod:`baas.runtimes.kubernetes` (Helm releases in per-organisation namespaces)."""
