"""The network topology model: the ``baas/v1alpha1`` ``Network`` format, its validation and the
names derived from it. Pure: no I/O beyond reading the file."""

from topology import names
from topology.errors import Diagnostic, TopologyError
from topology.loading import LoadedTopology, load, loads
from topology.model import API_VERSION, FABRIC_VERSIONS, KIND, Network, json_schema

__all__ = [
    "API_VERSION",
    "FABRIC_VERSIONS",
    "KIND",
    "Diagnostic",
    "LoadedTopology",
    "Network",
    "TopologyError",
    "json_schema",
    "load",
    "loads",
    "names",
]
