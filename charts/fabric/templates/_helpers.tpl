{{/*
Named templates shared by every manifest of the chart.

Label contract (also in baas/runtimes/kubernetes/namespaces.py, selected by the NetworkPolicies):
  app.kubernetes.io/name=fabric, app.kubernetes.io/instance=<release>,
  app.kubernetes.io/component=peer|orderer|chaincode|test, baas.io/network, baas.io/org,
  baas.io/node=<node name> (peers, orderers), baas.io/chaincode=<service> (CCaaS servers).
*/}}

{{/* Chart name, overridable. */}}
{{- define "fabric.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-scoped name: <release>-fabric unless the release name already contains it. */}}
{{- define "fabric.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* chart-version label value. */}}
{{- define "fabric.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The exact Fabric release images default to. */}}
{{- define "fabric.release" -}}
{{- default .Chart.AppVersion .Values.network.fabricRelease }}
{{- end }}

{{/*
Selector labels. Context: dict "root" $ "component" <component> and optionally "node" or
"chaincode". These never change for a running workload (StatefulSet selectors are immutable).
*/}}
{{- define "fabric.selectorLabels" -}}
app.kubernetes.io/name: {{ include "fabric.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- with .node }}
baas.io/node: {{ . | quote }}
{{- end }}
{{- with .chaincode }}
baas.io/chaincode: {{ . | quote }}
{{- end }}
{{- end }}

{{/* Full label set: selector labels plus the standard and baas labels. Same context. */}}
{{- define "fabric.labels" -}}
{{ include "fabric.selectorLabels" . }}
app.kubernetes.io/version: {{ include "fabric.release" .root | quote }}
app.kubernetes.io/part-of: {{ printf "baas-%s" (.root.Values.network.name | default "network") | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ include "fabric.chart" .root }}
{{- with .root.Values.network.name }}
baas.io/network: {{ . | quote }}
{{- end }}
{{- with .root.Values.organization.name }}
baas.io/org: {{ . | quote }}
{{- end }}
{{- end }}

{{/* Labels of release-wide objects (ServiceAccount, PDBs...). Context: root. */}}
{{- define "fabric.commonLabels" -}}
{{ include "fabric.labels" (dict "root" . "component" "organization") }}
{{- end }}

{{/* ServiceAccount name. */}}
{{- define "fabric.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "fabric.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Image reference. Context: dict "root" $ "image" <images.x>. global.imageRegistry prefixes the
repository; a digest wins over the tag; the tag defaults to the pinned Fabric release.
*/}}
{{- define "fabric.image" -}}
{{- $registry := .root.Values.global.imageRegistry | default "" | trimSuffix "/" }}
{{- $repository := .image.repository }}
{{- if $registry }}
{{- $repository = printf "%s/%s" $registry $repository }}
{{- end }}
{{- if .image.digest }}
{{- printf "%s@%s" $repository .image.digest }}
{{- else }}
{{- printf "%s:%s" $repository (.image.tag | default (include "fabric.release" .root)) }}
{{- end }}
{{- end }}

{{/* Fails rendering when organization.namespace is set and differs from the release's. */}}
{{- define "fabric.checkNamespace" -}}
{{- with .Values.organization.namespace }}
{{- if ne . $.Release.Namespace }}
{{- fail (printf "this release renders organisation %q, whose namespace is %q, but the release namespace is %q: install with --namespace %s" $.Values.organization.name . $.Release.Namespace .) }}
{{- end }}
{{- end }}
{{- if not (has .Values.secrets.mode (list "kubernetes" "vault")) }}
{{- fail (printf "secrets.mode must be kubernetes or vault, not %q" .Values.secrets.mode) }}
{{- end }}
{{- if and (eq .Values.secrets.mode "vault") (not .Values.secrets.vault.role) }}
{{- fail "secrets.mode is vault but secrets.vault.role is empty (expected baas-<network>-<org>)" }}
{{- end }}
{{- end }}

{{/* In-cluster DNS name of a Service. Context: dict "root" $ "service" <name>. */}}
{{- define "fabric.host" -}}
{{- printf "%s.%s.svc.%s" .service .root.Release.Namespace .root.Values.clusterDomain }}
{{- end }}

{{/*
Where identities are mounted inside pods (both secret modes use the same layout). The nodes' env
names files below it: keep it equal to baas/runtimes/kubernetes/pod_paths.py CRYPTO_DIR.
*/}}
{{- define "fabric.cryptoDir" -}}
/etc/hyperledger/crypto
{{- end }}

{{/* Pod-level settings shared by every pod. Context: root. */}}
{{- define "fabric.podCommon" -}}
serviceAccountName: {{ include "fabric.serviceAccountName" . }}
automountServiceAccountToken: false
enableServiceLinks: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.global.imagePullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . | quote }}
  {{- end }}
{{- end }}
{{- end }}

{{/* Container securityContext. Context: root. */}}
{{- define "fabric.containerSecurityContext" -}}
{{- toYaml .Values.containerSecurityContext }}
{{- end }}

{{/*
Volumes carrying one identity in secrets.mode kubernetes: a projected volume laying out the two
Secrets baas writes as the MSP and TLS folders Fabric expects:
  msp/{signcerts/cert.pem, keystore/key.pem, cacerts/ca.pem, tlscacerts/tlsca.pem, config.yaml}
  tls/{server.crt, server.key, ca.crt}
Context: dict "root" $ "ident" <entry with mspSecret/tlsSecret> "tls" <bool: include TLS keys>.
*/}}
{{- define "fabric.cryptoVolume" -}}
{{- $k := .root.Values.secrets.kubernetes }}
- name: crypto
  projected:
    defaultMode: 0440
    sources:
      - secret:
          name: {{ required "every identity needs mspSecret in secrets.mode kubernetes" .ident.mspSecret | quote }}
          items:
            - {key: {{ $k.mspKeys.signCert | quote }}, path: msp/signcerts/cert.pem}
            - {key: {{ $k.mspKeys.signKey | quote }}, path: msp/keystore/key.pem}
            - {key: {{ $k.mspKeys.caCert | quote }}, path: msp/cacerts/ca.pem}
            - {key: {{ $k.mspKeys.tlsCaCert | quote }}, path: msp/tlscacerts/tlsca.pem}
            - {key: {{ $k.mspKeys.config | quote }}, path: msp/config.yaml}
      - secret:
          name: {{ required "every identity needs tlsSecret in secrets.mode kubernetes" .ident.tlsSecret | quote }}
          items:
            {{- if .tls }}
            - {key: {{ $k.tlsKeys.cert | quote }}, path: tls/server.crt}
            - {key: {{ $k.tlsKeys.key | quote }}, path: tls/server.key}
            {{- end }}
            - {key: {{ $k.tlsKeys.ca | quote }}, path: tls/ca.crt}
{{- end }}

{{/*
Vault Agent Injector annotations for one identity (secrets.mode vault): the agent logs in with
the org's Kubernetes-auth role and renders the identity's KV v2 record
<mount>/data/<network>/<org>/<identity> into the same MSP/TLS layout under the crypto dir.
Context: dict "root" $ "ident" <entry with identity> "tls" <bool: include TLS cert/key>.
*/}}
{{- define "fabric.vaultAnnotations" -}}
{{- $v := .root.Values.secrets.vault }}
{{- $f := $v.fields }}
{{- $path := printf "%s/data/%s/%s/%s" ($v.mount | trimSuffix "/") .root.Values.network.name .root.Values.organization.name (required "every identity needs its identity name" .ident.identity) }}
vault.hashicorp.com/agent-inject: "true"
vault.hashicorp.com/role: {{ $v.role | quote }}
vault.hashicorp.com/auth-path: {{ $v.authPath | quote }}
vault.hashicorp.com/agent-init-first: "true"
vault.hashicorp.com/agent-pre-populate-only: {{ $v.prePopulateOnly | quote }}
vault.hashicorp.com/agent-run-as-same-user: "true"
vault.hashicorp.com/agent-service-account-token-volume-name: vault-token
vault.hashicorp.com/secret-volume-path: {{ include "fabric.cryptoDir" .root | quote }}
{{- with $v.address }}
vault.hashicorp.com/service: {{ . | quote }}
{{- end }}
{{- with $v.caCert }}
vault.hashicorp.com/ca-cert: {{ . | quote }}
{{- end }}
{{- with $v.namespace }}
vault.hashicorp.com/namespace: {{ . | quote }}
{{- end }}
{{- $files := list (list "msp-signcert" $f.signCert "msp/signcerts/cert.pem" "0444") (list "msp-keystore" $f.signKey "msp/keystore/key.pem" "0400") (list "msp-cacert" $f.caCert "msp/cacerts/ca.pem" "0444") (list "msp-tlscacert" $f.tlsCaCert "msp/tlscacerts/tlsca.pem" "0444") (list "tls-ca" $f.tlsCaCert "tls/ca.crt" "0444") }}
{{- if .tls }}
{{- $files = concat $files (list (list "tls-cert" $f.tlsCert "tls/server.crt" "0444") (list "tls-key" $f.tlsKey "tls/server.key" "0400")) }}
{{- end }}
{{- range $files }}
{{- $name := index . 0 }}
vault.hashicorp.com/agent-inject-secret-{{ $name }}: {{ $path | quote }}
vault.hashicorp.com/agent-inject-template-{{ $name }}: {{ printf "{{- with secret %q -}}{{ .Data.data.%s }}{{- end -}}" $path (index . 1) | quote }}
vault.hashicorp.com/agent-inject-file-{{ $name }}: {{ index . 2 | quote }}
vault.hashicorp.com/agent-inject-perms-{{ $name }}: {{ index . 3 | quote }}
{{- end }}
vault.hashicorp.com/agent-inject-secret-msp-config: {{ $path | quote }}
vault.hashicorp.com/agent-inject-template-msp-config: {{ include "fabric.mspConfigYaml" .root | quote }}
vault.hashicorp.com/agent-inject-file-msp-config: "msp/config.yaml"
vault.hashicorp.com/agent-inject-perms-msp-config: "0444"
{{- with $v.extraAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* NodeOUs config.yaml of a local MSP (the same text baas writes into the msp Secrets). */}}
{{- define "fabric.mspConfigYaml" -}}
NodeOUs:
  Enable: true
  ClientOUIdentifier:
    Certificate: cacerts/ca.pem
    OrganizationalUnitIdentifier: client
  PeerOUIdentifier:
    Certificate: cacerts/ca.pem
    OrganizationalUnitIdentifier: peer
  AdminOUIdentifier:
    Certificate: cacerts/ca.pem
    OrganizationalUnitIdentifier: admin
  OrdererOUIdentifier:
    Certificate: cacerts/ca.pem
    OrganizationalUnitIdentifier: orderer
{{ end }}

{{/* Volume with the projected service-account token the Vault agent logs in with. Context: root. */}}
{{- define "fabric.vaultTokenVolume" -}}
- name: vault-token
  projected:
    defaultMode: 0440
    sources:
      - serviceAccountToken:
          path: token
          expirationSeconds: {{ .Values.secrets.vault.tokenExpirationSeconds }}
          {{- with .Values.secrets.vault.tokenAudience }}
          audience: {{ . | quote }}
          {{- end }}
{{- end }}

{{/*
Identity volumes of a pod, for either secrets mode. Context: dict "root" $ "ident" <entry> "tls" <bool>.
*/}}
{{- define "fabric.identityVolumes" -}}
{{- if eq .root.Values.secrets.mode "kubernetes" }}
{{ include "fabric.cryptoVolume" . }}
{{- else }}
{{ include "fabric.vaultTokenVolume" .root }}
{{- end }}
{{- end }}

{{/* Mount of the crypto volume (kubernetes mode only; the injector mounts its own). Context: root. */}}
{{- define "fabric.identityMounts" -}}
{{- if eq .Values.secrets.mode "kubernetes" }}
- name: crypto
  mountPath: {{ include "fabric.cryptoDir" . }}
  readOnly: true
{{- end }}
{{- end }}

{{/* Pod template annotations for an identity. Context: dict "root" $ "ident" <entry> "tls" <bool> "config" <checksum source>. */}}
{{- define "fabric.podAnnotations" -}}
{{- with .config }}
checksum/config: {{ . | sha256sum }}
{{- end }}
{{- with .root.Values.chartDigest }}
baas.io/chart-digest: {{ . | quote }}
{{- end }}
{{- if eq .root.Values.secrets.mode "kubernetes" }}
baas.io/secrets: {{ printf "%s,%s" .ident.mspSecret .ident.tlsSecret | quote }}
{{- else }}
{{ include "fabric.vaultAnnotations" . | trim }}
{{- end }}
{{- end }}

{{/* HTTP probes on the operations endpoint (/healthz). Context: root. */}}
{{- define "fabric.probes" -}}
{{- $p := .Values.probes }}
startupProbe:
  httpGet: {path: /healthz, port: operations, scheme: HTTP}
  periodSeconds: {{ $p.startup.periodSeconds }}
  failureThreshold: {{ $p.startup.failureThreshold }}
  timeoutSeconds: {{ $p.startup.timeoutSeconds }}
livenessProbe:
  httpGet: {path: /healthz, port: operations, scheme: HTTP}
  periodSeconds: {{ $p.liveness.periodSeconds }}
  failureThreshold: {{ $p.liveness.failureThreshold }}
  timeoutSeconds: {{ $p.liveness.timeoutSeconds }}
readinessProbe:
  httpGet: {path: /healthz, port: operations, scheme: HTTP}
  periodSeconds: {{ $p.readiness.periodSeconds }}
  failureThreshold: {{ $p.readiness.failureThreshold }}
  timeoutSeconds: {{ $p.readiness.timeoutSeconds }}
{{- end }}

{{/* Scheduling fields of a component. Context: the component's values (peer/orderer/chaincode). */}}
{{- define "fabric.scheduling" -}}
{{- with .nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .priorityClassName }}
priorityClassName: {{ . | quote }}
{{- end }}
{{- end }}

{{/* Chaincode servers that will be rendered: entries of .chaincodes whose image is set. */}}
{{- define "fabric.servedChaincodes" -}}
{{- $out := list }}
{{- range .Values.chaincodes }}
{{- $server := get $.Values.chaincodeServers .name | default dict }}
{{- if $server.image }}
{{- $out = append $out (merge (dict "server" $server) .) }}
{{- end }}
{{- end }}
{{- toJson $out }}
{{- end }}
