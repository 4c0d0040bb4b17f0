{{/*
A peer or orderer: a one-replica StatefulSet with its ledger on a PersistentVolumeClaim.
Its environment is the node's ConfigMap (fabric.nodeEnv): the paths it names are the mounts
below (the data volume, fabric-config, the crypto dir); baas/runtimes/kubernetes/pod_paths.py
holds the same paths.
Context: dict "root" $ "node" <peers/orderers entry> "role" "peer"|"orderer".
*/}}
{{- define "fabric.nodeStatefulSet" -}}
{{- $root := .root }}
{{- $node := .node }}
{{- $role := .role }}
{{- $settings := index $root.Values $role }}
{{- $image := index $root.Values.images $role }}
{{- $ctx := dict "root" $root "component" $role "node" $node.name }}
{{- $env := include "fabric.nodeEnv" (dict "root" $root "node" $node "role" $role) }}
{{- $ident := dict "root" $root "ident" $node "tls" true "config" $env }}
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ $node.name }}
  labels:
    {{- include "fabric.labels" $ctx | nindent 4 }}
  annotations:
    baas.io/fqdn: {{ $node.fqdn | quote }}
spec:
  serviceName: {{ $node.service }}
  replicas: 1
  podManagementPolicy: Parallel
  updateStrategy:
    type: RollingUpdate
  selector:
    matchLabels:
      {{- include "fabric.selectorLabels" $ctx | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "fabric.labels" $ctx | nindent 8 }}
      annotations:
        {{- include "fabric.podAnnotations" $ident | trim | nindent 8 }}
        {{- with $node.identityDigest }}
        {{- /* Fabric reads its certificates at start-up: a new digest restarts this node. */}}
        baas.io/identity-digest: {{ . | quote }}
        {{- end }}
    spec:
      {{- include "fabric.podCommon" $root | nindent 6 }}
      terminationGracePeriodSeconds: {{ $settings.terminationGracePeriodSeconds }}
      {{- with (include "fabric.scheduling" $settings | trim) }}{{ . | nindent 6 }}{{ end }}
      {{- if eq $role "peer" }}
      initContainers:
        # Copies the image's core.yaml with vm.endpoint emptied, so a peer without Docker does
        # not register a failing Docker health check (Fabric 2.5 ignores an empty
        # CORE_VM_ENDPOINT). Chaincode runs as a service through the ccaas external builder.
        - name: core-config
          image: {{ include "fabric.image" (dict "root" $root "image" $image) | quote }}
          imagePullPolicy: {{ $image.pullPolicy }}
          command:
            - /bin/sh
            - -ec
            - |
              src="${FABRIC_CFG_PATH:-/etc/hyperledger/fabric}/core.yaml"
              sed -e 's#^\([[:space:]]*endpoint:[[:space:]]*\)unix:///var/run/docker.sock[[:space:]]*$#\1""#' "$src" > /etc/hyperledger/fabric-config/core.yaml
              # core.yaml mentions the socket in comments too: only a setting counts.
              if grep -v '^[[:space:]]*#' /etc/hyperledger/fabric-config/core.yaml | grep -q 'unix:///var/run/docker.sock'; then
                echo "could not disable vm.endpoint in $src" >&2
                exit 1
              fi
          resources:
            {{- toYaml $root.Values.configInit.resources | nindent 12 }}
          securityContext:
            {{- include "fabric.containerSecurityContext" $root | nindent 12 }}
          volumeMounts:
            - name: fabric-config
              mountPath: /etc/hyperledger/fabric-config
      {{- end }}
      containers:
        - name: {{ $role }}
          image: {{ include "fabric.image" (dict "root" $root "image" $image) | quote }}
          imagePullPolicy: {{ $image.pullPolicy }}
          {{- if eq $role "peer" }}
          command: ["peer", "node", "start"]
          {{- else }}
          command: ["orderer"]
          {{- end }}
          envFrom:
            - configMapRef:
                name: {{ printf "%s-env" $node.name }}
          ports:
            {{- if eq $role "peer" }}
            - {name: peer, containerPort: 7051, protocol: TCP}
            - {name: chaincode, containerPort: 7052, protocol: TCP}
            {{- else }}
            - {name: orderer, containerPort: 7050, protocol: TCP}
            - {name: cluster, containerPort: 7055, protocol: TCP}
            - {name: admin, containerPort: 7053, protocol: TCP}
            {{- end }}
            - {name: operations, containerPort: 9443, protocol: TCP}
          {{- include "fabric.probes" $root | trim | nindent 10 }}
          resources:
            {{- toYaml $settings.resources | nindent 12 }}
          securityContext:
            {{- include "fabric.containerSecurityContext" $root | nindent 12 }}
          volumeMounts:
            {{- with (include "fabric.identityMounts" $root | trim) }}{{ . | nindent 12 }}{{ end }}
            - name: data
              mountPath: /var/hyperledger/production
            - name: tmp
              mountPath: /tmp
            {{- if eq $role "peer" }}
            - name: fabric-config
              mountPath: /etc/hyperledger/fabric-config
              readOnly: true
            {{- end }}
      volumes:
        {{- include "fabric.identityVolumes" $ident | trim | nindent 8 }}
        - name: tmp
          emptyDir:
            sizeLimit: 1Gi
        {{- if eq $role "peer" }}
        - name: fabric-config
          emptyDir:
            sizeLimit: 16Mi
        {{- end }}
  volumeClaimTemplates:
    - apiVersion: v1
      kind: PersistentVolumeClaim
      metadata:
        name: data
        labels:
          {{- include "fabric.selectorLabels" $ctx | nindent 10 }}
      spec:
        accessModes:
          {{- toYaml $settings.storage.accessModes | nindent 10 }}
        {{- with $settings.storage.storageClassName }}
        storageClassName: {{ . | quote }}
        {{- end }}
        resources:
          requests:
            storage: {{ $settings.storage.size | quote }}
{{- end }}
