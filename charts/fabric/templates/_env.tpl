{{/*
Node configuration as environment overrides of the images' core.yaml / orderer.yaml
(CORE_* / ORDERER_*; see fabric.md §2). Absolute paths everywhere: Fabric resolves relative
ones against the config file's folder.
*/}}

{{/* Environment of a peer. Context: dict "root" $ "node" <peers entry>. */}}
{{- define "fabric.peerEnv" -}}
{{- $root := .root }}
{{- $node := .node }}
{{- $crypto := include "fabric.cryptoDir" $root }}
{{- $host := include "fabric.host" (dict "root" $root "service" $node.service) }}
{{- $bootstrap := list }}
{{- range $root.Values.peers }}
{{- if ne .name $node.name }}
{{- $bootstrap = append $bootstrap (printf "%s:7051" (include "fabric.host" (dict "root" $root "service" .service))) }}
{{- end }}
{{- end }}
{{- if not $bootstrap }}
{{- $bootstrap = list (printf "%s:7051" $host) }}
{{- end }}
FABRIC_CFG_PATH: /etc/hyperledger/fabric-config
FABRIC_LOGGING_SPEC: {{ $root.Values.logging.spec | quote }}
{{- with $root.Values.logging.format }}
FABRIC_LOGGING_FORMAT: {{ . | quote }}
{{- end }}
CORE_PEER_ID: {{ $node.fqdn | quote }}
CORE_PEER_NETWORKID: {{ $root.Values.network.name | quote }}
CORE_PEER_LOCALMSPID: {{ $root.Values.organization.mspId | quote }}
CORE_PEER_MSPCONFIGPATH: {{ printf "%s/msp" $crypto | quote }}
CORE_PEER_LISTENADDRESS: "0.0.0.0:7051"
CORE_PEER_ADDRESS: {{ printf "%s:7051" $host | quote }}
CORE_PEER_CHAINCODELISTENADDRESS: "0.0.0.0:7052"
CORE_PEER_CHAINCODEADDRESS: {{ printf "%s:7052" $host | quote }}
CORE_PEER_GOSSIP_BOOTSTRAP: {{ join " " $bootstrap | quote }}
CORE_PEER_GOSSIP_EXTERNALENDPOINT: {{ printf "%s:7051" $host | quote }}
{{- /* Every peer pulls blocks from the orderers itself: Fabric 3.0 turned
peer.deliveryclient.blockGossipEnabled off by default, so a peer that is not its org's
leader would never receive a block. */}}
CORE_PEER_GOSSIP_USELEADERELECTION: "false"
CORE_PEER_GOSSIP_ORGLEADER: "true"
CORE_PEER_GATEWAY_ENABLED: {{ $root.Values.peer.gateway | quote }}
CORE_PEER_TLS_ENABLED: "true"
CORE_PEER_TLS_CERT_FILE: {{ printf "%s/tls/server.crt" $crypto | quote }}
CORE_PEER_TLS_KEY_FILE: {{ printf "%s/tls/server.key" $crypto | quote }}
CORE_PEER_TLS_ROOTCERT_FILE: {{ printf "%s/tls/ca.crt" $crypto | quote }}
CORE_PEER_TLS_CLIENTAUTHREQUIRED: "false"
CORE_PEER_FILESYSTEMPATH: /var/hyperledger/production
CORE_LEDGER_SNAPSHOTS_ROOTDIR: /var/hyperledger/production/snapshots
CORE_OPERATIONS_LISTENADDRESS: "0.0.0.0:9443"
CORE_OPERATIONS_TLS_ENABLED: "false"
CORE_METRICS_PROVIDER: prometheus
CORE_VM_ENDPOINT: ""
CORE_CHAINCODE_EXTERNALBUILDERS: {{ printf "[{name: ccaas_builder, path: %s, propagateEnvironment: [CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG]}]" $root.Values.peer.ccaasBuilderPath | quote }}
CHAINCODE_AS_A_SERVICE_BUILDER_CONFIG: {{ dict "peername" $node.name "namespace" $root.Release.Namespace | toJson | quote }}
{{- range $k, $v := $root.Values.peer.extraEnv }}
{{ $k }}: {{ $v | toString | quote }}
{{- end }}
{{- end }}

{{/* Environment of an orderer. Context: dict "root" $ "node" <orderers entry>. */}}
{{- define "fabric.ordererEnv" -}}
{{- $root := .root }}
{{- $crypto := include "fabric.cryptoDir" $root }}
FABRIC_LOGGING_SPEC: {{ $root.Values.logging.spec | quote }}
{{- with $root.Values.logging.format }}
FABRIC_LOGGING_FORMAT: {{ . | quote }}
{{- end }}
ORDERER_GENERAL_LISTENADDRESS: "0.0.0.0"
ORDERER_GENERAL_LISTENPORT: "7050"
ORDERER_GENERAL_LOCALMSPID: {{ $root.Values.organization.mspId | quote }}
ORDERER_GENERAL_LOCALMSPDIR: {{ printf "%s/msp" $crypto | quote }}
ORDERER_GENERAL_BOOTSTRAPMETHOD: none
ORDERER_CHANNELPARTICIPATION_ENABLED: "true"
ORDERER_GENERAL_TLS_ENABLED: "true"
ORDERER_GENERAL_TLS_CERTIFICATE: {{ printf "%s/tls/server.crt" $crypto | quote }}
ORDERER_GENERAL_TLS_PRIVATEKEY: {{ printf "%s/tls/server.key" $crypto | quote }}
ORDERER_GENERAL_TLS_ROOTCAS: {{ printf "[%s/tls/ca.crt]" $crypto | quote }}
ORDERER_GENERAL_TLS_CLIENTAUTHREQUIRED: "false"
ORDERER_GENERAL_CLUSTER_LISTENADDRESS: "0.0.0.0"
ORDERER_GENERAL_CLUSTER_LISTENPORT: "7055"
ORDERER_GENERAL_CLUSTER_SERVERCERTIFICATE: {{ printf "%s/tls/server.crt" $crypto | quote }}
ORDERER_GENERAL_CLUSTER_SERVERPRIVATEKEY: {{ printf "%s/tls/server.key" $crypto | quote }}
ORDERER_GENERAL_CLUSTER_CLIENTCERTIFICATE: {{ printf "%s/tls/server.crt" $crypto | quote }}
ORDERER_GENERAL_CLUSTER_CLIENTPRIVATEKEY: {{ printf "%s/tls/server.key" $crypto | quote }}
ORDERER_GENERAL_CLUSTER_ROOTCAS: {{ printf "[%s/tls/ca.crt]" $crypto | quote }}
ORDERER_ADMIN_LISTENADDRESS: "0.0.0.0:7053"
ORDERER_ADMIN_TLS_ENABLED: "true"
ORDERER_ADMIN_TLS_CERTIFICATE: {{ printf "%s/tls/server.crt" $crypto | quote }}
ORDERER_ADMIN_TLS_PRIVATEKEY: {{ printf "%s/tls/server.key" $crypto | quote }}
ORDERER_ADMIN_TLS_CLIENTAUTHREQUIRED: "true"
ORDERER_ADMIN_TLS_CLIENTROOTCAS: {{ printf "[%s/tls/ca.crt]" $crypto | quote }}
ORDERER_OPERATIONS_LISTENADDRESS: "0.0.0.0:9443"
ORDERER_OPERATIONS_TLS_ENABLED: "false"
ORDERER_METRICS_PROVIDER: prometheus
ORDERER_FILELEDGER_LOCATION: /var/hyperledger/production/orderer
ORDERER_CONSENSUS_WALDIR: /var/hyperledger/production/orderer/etcdraft/wal
ORDERER_CONSENSUS_SNAPDIR: /var/hyperledger/production/orderer/etcdraft/snapshot
{{- range $k, $v := $root.Values.orderer.extraEnv }}
{{ $k }}: {{ $v | toString | quote }}
{{- end }}
{{- end }}
