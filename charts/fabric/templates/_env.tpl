{{/*
Node configuration: environment overrides of the images' core.yaml / orderer.yaml
(FABRIC_CFG_PATH, CORE_* / ORDERER_*; see fabric.md §2).

The chart does not derive them. baas computes every node's environment with
baas.nodeconfig.node_env (the function the local runtime starts its processes with: addresses,
gossip bootstrap, TLS/MSP/ledger paths, tunables) and writes it as the node's `env` in the
values. This template renders that map with the chart's own settings on top, in this order
(later wins):
  1. the node's `env`;
  2. logging.spec -> FABRIC_LOGGING_SPEC, logging.format -> FABRIC_LOGGING_FORMAT (when set);
  3. peers only: peer.gateway -> CORE_PEER_GATEWAY_ENABLED;
  4. peer.extraEnv / orderer.extraEnv (any value, rendered as a string).
Keys come out sorted. Context: dict "root" $ "node" <peers/orderers entry> "role" "peer"|"orderer".
*/}}
{{- define "fabric.nodeEnv" -}}
{{- $root := .root }}
{{- $settings := index $root.Values .role }}
{{- if not .node.env }}
{{- fail (printf "%ss entry %q has no env: node environments are computed by baas (baas render writes them into the values); render the values with baas instead of writing them by hand" .role .node.name) }}
{{- end }}
{{- $env := deepCopy .node.env }}
{{- with $root.Values.logging.spec }}
{{- $_ := set $env "FABRIC_LOGGING_SPEC" . }}
{{- end }}
{{- with $root.Values.logging.format }}
{{- $_ := set $env "FABRIC_LOGGING_FORMAT" . }}
{{- end }}
{{- if eq .role "peer" }}
{{- $_ := set $env "CORE_PEER_GATEWAY_ENABLED" (toString $root.Values.peer.gateway) }}
{{- end }}
{{- range $k, $v := $settings.extraEnv }}
{{- $_ := set $env $k (toString $v) }}
{{- end }}
{{- range $k, $v := $env }}
{{ $k | quote }}: {{ $v | toString | quote }}
{{- end }}
{{- end }}
