"""``baas smoke``: checks that a running network does what a consortium needs, a load probe,
and the probe chaincode they use. Target-neutral: the checks talk to Fabric through
:mod:`baas.fabric`; a runtime supplies the addresses and node health.

* :mod:`baas.smoke.report` — check results and the report, their text and JSON forms.
* :mod:`baas.smoke.probe` — the probe chaincode (shipped in ``probe/``), one per channel.
* :mod:`baas.smoke.checks` — the checks themselves.
* :mod:`baas.smoke.load` — the load probe.
"""
