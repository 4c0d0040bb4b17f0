"""Where baas keeps a network's state on this machine: ``$BAAS_HOME`` (default ``~/.baas``).

The home holds key material and the API database (token hashes, the audit log), so it is
private to its user. :func:`ensure_home` makes it so, and the database calls it before it
creates its file (a command that writes under the home first should too; the path functions
below create nothing):

* a home that does not exist is created mode 0700 (its missing parents with the usual mode);
* an existing default home (``~/.baas``, ``BAAS_HOME`` unset) that other users can enter is
  tightened to 0700 when it belongs to this user: that folder is baas's own by construction
  (older versions created it 0755);
* an existing ``$BAAS_HOME`` set by the user is never changed (it may be a folder the user
  shares on purpose); when others can enter it, a warning (once per process and folder) names
  the ``chmod`` that fixes it. The database's files there are 0600 either way
  (:func:`private_file`), as are keys (:mod:`pki`).
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger("baas")

HOME_ENV = "BAAS_HOME"
HOME_MODE = 0o700
FILE_MODE = 0o600
_warned: set[Path] = set()


def baas_home() -> Path:
    """``$BAAS_HOME``, or ``~/.baas`` when unset or empty. Pure: creates nothing."""
    return Path(os.environ.get(HOME_ENV) or "~/.baas").expanduser()


def ensure_home() -> Path:
    """:func:`baas_home`, created 0700 when missing (see the module's docstring for an existing
    one). Idempotent; returns the path."""
    home = baas_home()
    try:
        home.mkdir(mode=HOME_MODE)
    except FileExistsError:
        _check_existing(home, default=not os.environ.get(HOME_ENV))
        return home
    except FileNotFoundError:
        home.parent.mkdir(parents=True, exist_ok=True)
        return ensure_home()
    os.chmod(home, HOME_MODE)  # whatever the umask did
    return home


def _check_existing(home: Path, *, default: bool) -> None:
    """Tighten the default home when it is ours and open to others; warn about a user's own."""
    info = home.stat()
    if not stat.S_ISDIR(info.st_mode) or not info.st_mode & 0o077:
        return
    if default and info.st_uid == os.getuid():
        os.chmod(home, HOME_MODE)
        log.warning("tightened %s to mode 0700 (it holds keys and the API database)", home)
        return
    if home not in _warned:
        _warned.add(home)
        log.warning(
            "%s is open to other users (mode %s); it holds keys and the API database: "
            "run `chmod 700 %s`",
            home,
            oct(stat.S_IMODE(info.st_mode)),
            home,
        )


def private_file(path: Path) -> Path:
    """Create ``path`` empty with mode 0600 if it does not exist, and set an existing one to
    0600 (the umask cannot loosen it). Its folder must exist. Returns ``path``."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    return path


def network_dir(network: str) -> Path:
    """``$BAAS_HOME/networks/<network>``. Pure: creates nothing (a refused command must leave
    no home behind); a command about to write under it calls :func:`ensure_home` first."""
    return baas_home() / "networks" / network


def crypto_dir(network: str) -> Path:
    """``$BAAS_HOME/networks/<network>/crypto``: the PKI tree (source of truth for key material)."""
    return network_dir(network) / "crypto"


def sources_dir() -> Path:
    """``$BAAS_HOME/sources``: uploaded chaincode sources, content-addressed
    (:mod:`baas.services.sources`). Pure: creates nothing."""
    return baas_home() / "sources"
