"""A throwaway certificate authority and server certificate for the sandbox portal's HTTPS.

Clients trust the sandbox by pointing at :attr:`SandboxCA.ca_bundle` (``REQUESTS_CA_BUNDLE`` for
requests/b24pysdk, ``verify=`` for a single call). One CA can serve several portals, so a test session
can export the bundle path once. A CA that made its own temporary folder removes it on :meth:`close`
(a portal closes the CA it created when it stops); a folder the caller named is left alone.
"""

from __future__ import annotations

import shutil
import ssl
import tempfile
from pathlib import Path

import trustme

SERVER_NAMES = ("127.0.0.1", "localhost", "::1")


class SandboxCA:
    """A trustme CA whose PEM bundle is written to a temporary file."""

    def __init__(self, directory: str | Path | None = None) -> None:
        self._ca = trustme.CA(organization_name="b24app sandbox")
        self._owns_dir = directory is None
        self._dir = Path(directory) if directory else Path(tempfile.mkdtemp(prefix="b24sandbox-ca-"))
        self._dir.mkdir(parents=True, exist_ok=True)
        self.ca_bundle = str(self._dir / "sandbox-ca.pem")
        self._ca.cert_pem.write_to_path(self.ca_bundle)

    def close(self) -> None:
        """Remove the temporary folder this CA made (nothing when the caller named the folder)."""
        if self._owns_dir:
            shutil.rmtree(self._dir, ignore_errors=True)

    def server_context(self, names: tuple[str, ...] = SERVER_NAMES) -> ssl.SSLContext:
        """An SSL context for a server presenting a certificate for ``names`` signed by this CA."""
        cert = self._ca.issue_cert(*names)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        return context
