"""The local runtime: Fabric's own peer and orderer binaries as supervised processes on
127.0.0.1, with data under ``$BAAS_HOME/networks/<name>/``."""
