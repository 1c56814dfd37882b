"""b24sandbox: a local Bitrix24 portal built from the official REST documentation.

Real HTTPS (a throwaway CA), the documented REST envelopes, OAuth, limits, events and a web UI, for
tests, benchmarks, demos and any Python integrator's rehearsals. It is its own package: it imports
nothing from ``b24app``, and nothing in the app's production processes imports it.
"""

from b24sandbox.portal import AppCredentials, SandboxPortal

__all__ = ["AppCredentials", "SandboxPortal"]
